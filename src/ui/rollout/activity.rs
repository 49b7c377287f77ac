//! The activity panel: the rollout's audit trail (who did what, when, and why), newest first,
//! followed by what this window sent during the session.

use crate::ui::app::SessionAction;
use crate::ui::events::ActivityEntry;
use crate::ui::theme;

pub fn activity_ui(ui: &mut egui::Ui, entries: &[ActivityEntry], session: &[SessionAction]) {
    if entries.is_empty() && session.is_empty() {
        ui.weak("No recorded actions yet.");
        return;
    }
    let mut sorted: Vec<&ActivityEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| b.time_secs.total_cmp(&a.time_secs));
    for e in sorted {
        ui.horizontal_wrapped(|ui| {
            ui.monospace(theme::clock(e.time_secs))
                .on_hover_text(theme::date_time(e.time_secs));
            ui.strong(e.user.as_str());
            ui.label(e.verb.as_str());
            if !e.detail.is_empty() {
                ui.weak(e.detail.as_str());
            }
            if let Some(comment) = &e.comment {
                ui.label(format!("“{comment}”"));
            }
        });
    }
    if !session.is_empty() {
        ui.separator();
        ui.weak("This session");
        for a in session.iter().rev() {
            ui.horizontal_wrapped(|ui| {
                ui.monospace(theme::clock(a.t_secs));
                ui.label(a.text.as_str());
            });
        }
    }
}
