//! The activity panel: one timeline, newest first, of what the cockpit did (audit entries: who
//! did what and why, marked ◆ in the cockpit's colour) and what the controller recorded about
//! the rollout and its ReplicaSets (its Events, marked ○ with their source), followed by what
//! this window sent during the session.

use crate::ui::app::SessionAction;
use crate::ui::events::ActivityEntry;
use crate::ui::theme;

/// The mark before the cockpit's own entries.
pub const OURS_MARK: &str = "◆";
/// The mark before every other component's Events.
pub const THEIRS_MARK: &str = "○";

pub fn activity_ui(ui: &mut egui::Ui, entries: &[ActivityEntry], session: &[SessionAction]) {
    if entries.is_empty() && session.is_empty() {
        ui.weak("No actions or controller Events yet.");
        return;
    }
    let mut sorted: Vec<&ActivityEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| b.time_secs.total_cmp(&a.time_secs));
    for e in sorted {
        ui.horizontal_wrapped(|ui| {
            ui.monospace(theme::clock(e.time_secs))
                .on_hover_text(theme::date_time(e.time_secs));
            entry_ui(ui, e);
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

fn entry_ui(ui: &mut egui::Ui, e: &ActivityEntry) {
    if e.ours {
        ui.colored_label(theme::COCKPIT, OURS_MARK)
            .on_hover_text(format!("recorded by {} (audit trail)", e.source));
        ui.strong(e.who());
    } else {
        ui.weak(THEIRS_MARK)
            .on_hover_text(format!("Event recorded by {}", e.source));
        ui.weak(e.who());
    }
    if e.warning {
        ui.colored_label(theme::WARN, e.verb.as_str());
    } else {
        ui.label(e.verb.as_str());
    }
    if !e.detail.is_empty() {
        ui.weak(e.detail.as_str());
    }
    if let Some(comment) = &e.comment {
        ui.label(format!("“{comment}”"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// The shared fixture's entry, with ours commented and its detail in words.
    fn entry(t: f64, ours: bool, verb: &str, detail: &str) -> ActivityEntry {
        ActivityEntry {
            comment: ours.then(|| "error rate flat".into()),
            detail: detail.into(),
            ..crate::ui::fixtures::activity_entry(t, ours, verb, verb == "RolloutAborted")
        }
    }

    /// Ours and the controller's on one timeline, each with its source, ours marked apart.
    #[test]
    fn ours_and_the_controllers_entries_share_the_timeline_with_their_sources() {
        let entries = vec![
            entry(100.0, true, "promote", "step 1 → 2 via the CLI"),
            entry(
                101.0,
                false,
                "RolloutStepCompleted",
                "Rollout step 2/8 completed",
            ),
            entry(
                102.0,
                false,
                "RolloutAborted",
                "Rollout aborted update to revision 2",
            ),
        ];
        let harness = Harness::builder()
            .with_context_setup(theme::install_fonts)
            .build_ui(|ui| activity_ui(ui, &entries, &[]));
        harness.get_by_label("promote");
        harness.get_by_label("lab-admin");
        harness.get_by_label("“error rate flat”");
        harness.get_by_label("RolloutStepCompleted");
        harness.get_by_label("RolloutAborted");
        assert_eq!(harness.query_all_by_label("rollouts-controller").count(), 2);
        assert_eq!(harness.query_all_by_label(OURS_MARK).count(), 1);
        assert_eq!(harness.query_all_by_label(THEIRS_MARK).count(), 2);
    }

    #[test]
    fn nothing_yet_says_so() {
        let harness = Harness::builder()
            .with_context_setup(theme::install_fonts)
            .build_ui(|ui| activity_ui(ui, &[], &[]));
        harness.get_by_label("No actions or controller Events yet.");
    }
}
