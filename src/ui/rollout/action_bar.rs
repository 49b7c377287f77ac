//! The action bar: Approve, Promote full, Rollback, Pause/Resume, Retry, Restart, Undo and the
//! weight slider. Each button says what it will do; one that cannot act now is disabled with
//! the reason on hover, never hidden.

use super::actions::{
    Gate, GateInput, abort, approve, command, pause, pin, promote_full, restart, resume, retry,
    set_weight, slider_weight, undo,
};
use crate::model::{Action, RolloutView, StrategyKind, Verb};
use crate::ui::app::UiCommand;
use crate::ui::dialogs::Dialog;

/// Draw the action bar for `view`. `draft` is the slider position the user chose (None: live).
pub fn action_bar_ui(
    ui: &mut egui::Ui,
    input: &GateInput<'_>,
    draft: Option<i32>,
    out: &mut Vec<UiCommand>,
) {
    let view = input.view;
    ui.horizontal_wrapped(|ui| {
        let approve_gate = input.gate(Verb::Promote, approve(view));
        if button(ui, "Approve", &approve_gate) {
            out.push(UiCommand::OpenDialog(Dialog::approve(
                view,
                approve_gate.text(),
            )));
        }
        let full = input.gate(Verb::PromoteFull, promote_full(view));
        if button(ui, "Promote full", &full) {
            out.push(UiCommand::OpenDialog(Dialog::promote_full(
                view,
                full.text(),
            )));
        }
        ui.separator();
        let abort_gate = input.gate(Verb::Abort, abort(view));
        if button(ui, "Rollback", &abort_gate) {
            out.push(UiCommand::OpenDialog(Dialog::rollback(
                view,
                abort_gate.text(),
            )));
        }
        ui.separator();
        let simple = [
            ("Pause", Verb::Pause, pause(view), Action::Pause),
            ("Resume", Verb::Resume, resume(view), Action::Resume),
            ("Retry", Verb::Retry, retry(view), Action::Retry),
            ("Restart", Verb::Restart, restart(view), Action::Restart),
        ];
        for (label, verb, by_phase, action) in simple {
            if button(ui, label, &input.gate(verb, by_phase)) {
                out.push(UiCommand::Execute(command(view, action)));
            }
        }
        let undo_gate = input.gate(Verb::Undo, undo(view));
        if button(ui, "Undo…", &undo_gate) {
            out.push(UiCommand::OpenDialog(Dialog::undo(view)));
        }
    });
    weight_ui(ui, input, draft, out);
}

/// A button that is disabled, with the reason on hover, when its gate is closed.
fn button(ui: &mut egui::Ui, label: &str, gate: &Gate) -> bool {
    ui.add_enabled(gate.is_enabled(), egui::Button::new(label))
        .on_hover_text(gate.text())
        .on_disabled_hover_text(gate.text())
        .clicked()
}

fn weight_ui(
    ui: &mut egui::Ui,
    input: &GateInput<'_>,
    draft: Option<i32>,
    out: &mut Vec<UiCommand>,
) {
    let view = input.view;
    let gate = input.gate(Verb::SetWeight, set_weight(view));
    ui.horizontal(|ui| {
        let label = ui.label("Weight");
        let live = view.actual_weight;
        let mut value = f64::from(draft.unwrap_or(live));
        ui.spacing_mut().slider_width = 320.0;
        let response = ui
            .add_enabled(
                gate.is_enabled(),
                egui::Slider::new(&mut value, 0.0..=100.0).show_value(false),
            )
            .labelled_by(label.id)
            .on_disabled_hover_text(gate.text());
        ticks_ui(ui, view, response.rect);
        let moved_to = slider_weight(view, value).filter(|_| response.changed());
        if let Some(weight) = moved_to {
            out.push(UiCommand::DraftWeight(Some(weight)));
        }
        let free = view.strategy == StrategyKind::Weighted;
        // Weighted releases take any weight; Argo's only the weights its steps declare.
        let target = match free {
            true => draft.map(|w| (None, w)),
            false => draft.and_then(|w| {
                view.declared_weights()
                    .into_iter()
                    .find(|(_, weight)| *weight == w)
                    .map(|(step, weight)| (Some(step), weight))
            }),
        };
        let apply_gate = match (&gate, target) {
            (Gate::Disabled(_), _) => gate.clone(),
            (Gate::Enabled(_), None) if free => {
                Gate::Disabled("move the slider to the weight you want first".into())
            }
            (Gate::Enabled(_), None) => {
                Gate::Disabled("move the slider to a declared weight first".into())
            }
            (Gate::Enabled(_), Some((None, weight))) => Gate::Enabled(format!(
                "set weight {weight}%: the canary's share of the route, {live}% → {weight}%"
            )),
            (Gate::Enabled(_), Some((Some(step), weight))) => Gate::Enabled(format!(
                "set weight {weight}%: move to step {step} (setWeight {weight}%), weight {live}% \
                 → {weight}%"
            )),
        };
        // A free slider applies when it is let go (the weight dragged to is the one sent);
        // Apply sends a weight chosen with the keyboard.
        let released = free && response.drag_stopped() && gate.is_enabled();
        let released_at = moved_to.or(draft).filter(|_| released);
        let applied = button(ui, "Apply", &apply_gate);
        if let Some(weight) = released_at.or(target.map(|(_, w)| w).filter(|_| applied)) {
            out.push(UiCommand::Execute(command(
                view,
                Action::SetWeight {
                    weight,
                    pin: Some(pin(view)),
                },
            )));
            out.push(UiCommand::DraftWeight(None));
        }
        // The words after the button, so Apply does not move when they change.
        let shown = draft.unwrap_or(live);
        if draft.is_some() {
            ui.strong(format!("{shown}% (chosen; live {live}%)"));
        } else {
            ui.label(format!("{shown}% (live)"));
        }
        if draft.is_some() && ui.small_button("Back to live").clicked() {
            out.push(UiCommand::DraftWeight(None));
        }
    });
    // Read-only for Flagger, and why, in plain sight rather than only on hover.
    if let Some(Err(why)) = view
        .flagger
        .as_ref()
        .map(super::flagger_actions::set_weight)
    {
        // Under the slider's tick labels, which are painted below its row.
        if !view.declared_weights().is_empty() {
            ui.add_space(8.0);
        }
        ui.weak(why);
    }
}

/// Tick marks and labels under the slider at each declared weight.
fn ticks_ui(ui: &mut egui::Ui, view: &RolloutView, slider: egui::Rect) {
    let radius = slider.height() / 2.5;
    let rail = slider.x_range().shrink(radius);
    let painter = ui.painter();
    let color = ui.visuals().weak_text_color();
    for (_, weight) in view.declared_weights() {
        let x = egui::lerp(rail.min..=rail.max, weight as f32 / 100.0);
        painter.line_segment(
            [
                egui::pos2(x, slider.bottom() - 2.0),
                egui::pos2(x, slider.bottom() + 2.0),
            ],
            egui::Stroke::new(1.0, color),
        );
        painter.text(
            egui::pos2(x, slider.bottom() + 2.0),
            egui::Align2::CENTER_TOP,
            format!("{weight}"),
            egui::FontId::proportional(10.0),
            color,
        );
    }
}
