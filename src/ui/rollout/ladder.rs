//! The step ladder: every step of a canary, the current one highlighted, pauses with their
//! reason, and the weight each step declares.

use crate::model::{RolloutView, StepKind};
use crate::ui::theme;

pub fn ladder_ui(ui: &mut egui::Ui, view: &RolloutView) {
    if view.steps.is_empty() {
        ui.weak("No steps: this strategy switches versions in one move.");
        return;
    }
    let current = view.current_step.unwrap_or(0);
    egui::Grid::new(("ladder", &view.reference))
        .num_columns(3)
        .spacing([10.0, 3.0])
        .striped(true)
        .show(ui, |ui| {
            for (i, step) in view.steps.iter().enumerate() {
                let i = i as i32;
                let here = i == current;
                let done = i < current;
                let mark = if here {
                    "▶"
                } else if done {
                    "•"
                } else {
                    " "
                };
                let mut index = egui::RichText::new(format!("{mark} {i}")).monospace();
                let mut text = egui::RichText::new(step.to_string());
                if here {
                    index = index.strong().color(ui.visuals().selection.stroke.color);
                    text = text.strong().color(ui.visuals().selection.stroke.color);
                } else if done {
                    text = text.weak();
                }
                ui.label(index);
                ui.label(text);
                ui.label(step_note(view, step, here));
                ui.end_row();
            }
            let done_all = current >= view.steps.len() as i32;
            ui.label(egui::RichText::new(if done_all { "▶ end" } else { "  end" }).monospace());
            ui.label("fully promoted (weight 100%)");
            ui.label("");
            ui.end_row();
        });
}

/// What a step means right now: why it pauses, whether it waits for a person.
fn step_note(view: &RolloutView, step: &StepKind, here: bool) -> egui::RichText {
    match step {
        StepKind::Pause { duration: None } if here => {
            egui::RichText::new("waiting for approval").color(theme::WARN)
        }
        StepKind::Pause { duration: None } => egui::RichText::new("needs approval").weak(),
        StepKind::Pause { duration: Some(_) } if here && !view.pause_reasons.is_empty() => {
            egui::RichText::new(format!("paused: {}", view.pause_reasons.join(", ")))
        }
        StepKind::Pause { duration: Some(d) } => {
            egui::RichText::new(format!("resumes after {d}")).weak()
        }
        StepKind::SetWeight { weight } if here => egui::RichText::new(format!(
            "actual weight {}% of {weight}%",
            view.actual_weight
        )),
        _ => egui::RichText::new(""),
    }
}
