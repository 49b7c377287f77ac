//! The rollout header: a title line (name, phase, waiting mark) above the action bar, and under
//! it the details: versions (stable/canary or active/preview) with their hashes and the image,
//! the revision, the rollback's outcome after an abort, traffic, the controller's message, what
//! a pipeline's `auto` is doing, the judge's verdict when there is one and, right under it, the
//! controller's AnalysisRuns.

use crate::model::{RolloutView, StrategyKind, VersionRole};
use crate::ui::events::VerdictView;
use crate::ui::rollback::RollbackStatus;
use crate::ui::theme;

/// The title line: name, namespace and context, phase and the waiting mark. One line that does
/// not grow with data, so the action bar under it stays where the hand expects it.
pub fn title_ui(ui: &mut egui::Ui, view: &RolloutView) {
    let r = &view.reference;
    ui.horizontal(|ui| {
        ui.heading(r.name.as_str());
        ui.weak(format!("{} · {}", r.namespace, r.context));
        theme::badge(ui, view.phase.as_str(), theme::phase_color(view.phase));
        if view.waiting_for_human() {
            ui.colored_label(theme::WARN, crate::ui::fleet::WAITING_MARK)
                .on_hover_text(crate::ui::fleet::waiting_reason(view));
        }
    });
}

/// The details under the action bar: versions, traffic, the controller's message and the
/// verdict, whose lines come and go with the data.
pub fn details_ui(
    ui: &mut egui::Ui,
    view: &RolloutView,
    verdict: Option<&VerdictView>,
    rollback: Option<&RollbackStatus>,
    runs: &[crate::model::AnalysisRunSummary],
) {
    let r = &view.reference;
    ui.horizontal_top(|ui| {
        egui::Grid::new(("header-versions", r))
            .num_columns(2)
            .spacing([16.0, 2.0])
            .show(ui, |ui| versions_rows(ui, view));
        ui.add_space(32.0);
        egui::Grid::new(("header-state", r))
            .num_columns(2)
            .spacing([16.0, 2.0])
            .show(ui, |ui| {
                if let Some(rollback) = rollback {
                    ui.weak("Rollback");
                    ui.colored_label(rollback.color, rollback.text.as_str())
                        .on_hover_text(ROLLBACK_HOVER);
                    ui.end_row();
                }
                state_rows(ui, view, verdict);
                // The controller's own judgement, right under ours.
                super::analysis::analysis_rows(ui, runs);
            });
    });
}

fn versions_rows(ui: &mut egui::Ui, view: &RolloutView) {
    ui.weak("Strategy");
    ui.label(match view.strategy {
        StrategyKind::Canary => format!("Canary, step {}", view.step_label()),
        other => other.as_str().to_string(),
    });
    ui.end_row();
    for version in view.versions() {
        ui.colored_label(theme::role_color(version.role), version.role.as_str());
        ui.horizontal(|ui| {
            ui.monospace(version.hash.as_str());
            if is_new(version.role) && !view.images.is_empty() {
                ui.label(view.images.join(", "));
            }
        });
        ui.end_row();
    }
    if !view.in_progress() && !view.images.is_empty() {
        ui.weak("Image");
        ui.label(view.images.join(", "));
        ui.end_row();
    }
    ui.weak("Revision");
    ui.label(view.revision.as_deref().unwrap_or("?"));
    ui.end_row();
}

fn state_rows(ui: &mut egui::Ui, view: &RolloutView, verdict: Option<&VerdictView>) {
    if let Some(line) = view.auto_status_line() {
        ui.weak("Pipeline");
        ui.colored_label(theme::COCKPIT, line)
            .on_hover_text(AUTO_STATUS_HOVER);
        ui.end_row();
    }
    if !view.message.is_empty() {
        ui.weak("Message");
        let color = ui.visuals().text_color();
        super::plots::elided_ui(ui, &view.message, color);
        ui.end_row();
    }
    ui.weak("Traffic");
    ui.label(format!(
        "{}% declared · {}% actual",
        view.set_weight, view.actual_weight
    ));
    ui.end_row();
    ui.weak("Replicas");
    ui.label(format!(
        "{} desired · {} updated · {} ready · {} available",
        view.replicas, view.updated_replicas, view.ready_replicas, view.available_replicas
    ));
    ui.end_row();
    // A Healthy rollout running one version has no canary to judge: an earlier verdict (about
    // a canary since promoted or replaced) would read as being about now.
    if nothing_to_compare(view) {
        ui.weak("Verdict");
        ui.weak(ONE_VERSION);
        ui.end_row();
        return;
    }
    if let Some(verdict) = verdict {
        ui.weak("Verdict");
        let color = match verdict.verdict.as_str() {
            "pass" => theme::OK,
            "fail" => theme::ERROR,
            _ => theme::WARN,
        };
        let line = if verdict.verdict == "no data" {
            // No score means anything yet; say what is missing instead.
            match verdict.reasons.first() {
                Some(why) => format!("no data yet: {why}"),
                None => "no data yet".to_string(),
            }
        } else {
            format!("{} (score {:.0}/100)", verdict.verdict, verdict.score)
        };
        // One line, cut at the window's edge: every reason is on hover.
        ui.add(egui::Label::new(egui::RichText::new(line).color(color)).truncate())
            .on_hover_text(
                verdict
                    .reasons
                    .iter()
                    .chain(&verdict.metrics)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        ui.end_row();
        // Each metric's result in words, beside the plots it is about.
        for (i, line) in verdict.metrics.iter().enumerate() {
            if i == 0 {
                ui.weak("Per metric");
            } else {
                ui.label("");
            }
            let color = match verdict.metric_status.get(i).map(String::as_str) {
                Some("fail") => theme::ERROR,
                Some("no data") => theme::WARN,
                _ => ui.visuals().text_color(),
            };
            // One line each, cut at the window's edge (the whole sentence on hover): a long
            // reason must not widen the window past its charts.
            ui.add(egui::Label::new(egui::RichText::new(line.as_str()).color(color)).truncate())
                .on_hover_text(line.as_str());
            ui.end_row();
        }
    }
}

/// The verdict line of a Healthy rollout that runs one version.
pub const ONE_VERSION: &str = "one version — nothing to compare";

/// A Healthy rollout with one version: no canary (or preview) to judge against stable.
pub fn nothing_to_compare(view: &RolloutView) -> bool {
    view.phase == crate::model::Phase::Healthy && view.versions().len() <= 1
}

/// What the rollback line measures, on hover.
pub const ROLLBACK_HOVER: &str = "From the abort (status.abortedAt) until no traffic goes to the new version and stable has every pod it should, available; timed against 30 s and called stuck after 60 s. The same test as `release-cockpit abort NAME --wait`.";

/// Why the pipeline line is there, on hover.
pub const AUTO_STATUS_HOVER: &str = "A pipeline's `release-cockpit auto` drives this rollout: it \
judges the canary and promotes or aborts through the same orchestration API as these buttons. \
This is what it last wrote in the release-cockpit.io/auto-status annotation.";

/// The pod template's image belongs to the new version (canary or preview).
fn is_new(role: VersionRole) -> bool {
    matches!(role, VersionRole::Canary | VersionRole::Preview)
}
