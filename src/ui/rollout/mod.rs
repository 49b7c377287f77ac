//! One rollout: header, action bar, step ladder and activity on the left, the four linked
//! plots on the right. Each part lives in its own file.

pub mod action_bar;
pub mod actions;
pub mod activity;
pub mod analysis;
pub mod flagger_actions;
pub mod header;
pub mod ladder;
pub mod plot_axes;
pub mod plot_markers;
pub mod plot_series;
pub mod plots;

use super::app::{AppState, UiCommand};
use crate::model::RolloutRef;

/// The detail view of the selected rollout (or why there is none).
pub fn rollout_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    now_secs: f64,
    out: &mut Vec<UiCommand>,
) {
    let Some(selected) = state.selected.clone() else {
        ui.centered_and_justified(|ui| {
            ui.weak("Select a rollout in the fleet (click its name, or j / k).");
        });
        return;
    };
    let Some(view) = state.selected_view().cloned() else {
        ui.colored_label(
            super::theme::WARN,
            format!(
                "{selected} is no longer in the fleet of {}: deleted, or its context is unreachable.",
                selected.context
            ),
        );
        return;
    };
    let user = state
        .contexts
        .get(&selected.context)
        .and_then(|c| c.identity.as_ref())
        .map(|i| i.user.clone());
    let input = actions::GateInput {
        view: &view,
        access: state.access_for(&selected),
        read_only: state.read_only,
        user: user.as_deref(),
        load_testers: flagger_actions::load_testers(&view, |namespace| {
            state.access_for(&crate::model::RolloutRef {
                namespace: namespace.to_string(),
                ..selected.clone()
            })
        }),
    };
    // The buttons sit right under the title line, above everything that grows with data: a
    // verdict line arriving must not move Rollback from under the pointer.
    header::title_ui(ui, &view);
    ui.add_space(2.0);
    let draft = draft_for(state, &selected);
    action_bar::action_bar_ui(ui, &input, draft, out);
    ui.add_space(4.0);
    let rollback = state.rollbacks.get(&selected).map(|t| t.status(now_secs));
    let runs = state
        .analysis_runs
        .get(&selected)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    header::details_ui(
        ui,
        &view,
        state.verdicts.get(&selected),
        rollback.as_ref(),
        runs,
    );
    ui.separator();
    egui::Panel::left(("rollout-left", &selected))
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("rollout-left-scroll")
                .show(ui, |ui| {
                    ui.strong("Steps");
                    ladder::ladder_ui(ui, &view);
                    ui.add_space(8.0);
                    ui.strong("Activity");
                    activity::activity_ui(
                        ui,
                        state
                            .activity
                            .get(&selected)
                            .map(Vec::as_slice)
                            .unwrap_or(&[]),
                        state
                            .session_actions
                            .get(&selected)
                            .map(Vec::as_slice)
                            .unwrap_or(&[]),
                    );
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        let snapshot = state.metrics.snapshot().filter(|s| s.rollout == selected);
        let markers = state.markers_for(&selected);
        // Plots keep a readable height; a short window scrolls instead of squashing them.
        egui::ScrollArea::vertical()
            .id_salt("plots-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                plots::plots_ui(ui, snapshot, &markers, &mut state.plot_view, now_secs)
            });
    });
}

fn draft_for(state: &AppState, selected: &RolloutRef) -> Option<i32> {
    state
        .weight_draft
        .as_ref()
        .filter(|(r, _)| r == selected)
        .map(|(_, w)| *w)
}
