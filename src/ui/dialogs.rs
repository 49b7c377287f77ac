//! Confirmation dialogs (approve with an optional comment, rollback, promote full, undo to a
//! revision) and the keyboard help overlay. Enter confirms, Esc closes. The command inside a
//! dialog was built when it opened: an approval approves exactly the step that was on screen,
//! an undo goes back to exactly the revision (and pod hash) that was picked.

use crate::model::{Action, Command, RolloutView};
use crate::ui::app::UiCommand;
use crate::ui::events::Revisions;
use crate::ui::rollout::actions::{self, current_revision};

/// An open dialog.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Confirm(Confirm),
    Undo(Undo),
}

/// Undo to a revision picked from the rollout's ReplicaSets, read when the dialog opened.
#[derive(Clone, Debug, PartialEq)]
pub struct Undo {
    pub command: Command,
    pub current_revision: i64,
    /// None while they are read; the error when they could not be.
    pub revisions: Option<Result<Revisions, String>>,
    /// The revision picked (the newest one not running, once read).
    pub picked: Option<i64>,
}

impl Undo {
    /// The answer to `LoadRevisions`: the revisions, and the newest one not running picked.
    pub fn revisions_read(&mut self, result: Result<Revisions, String>) {
        if let Ok(read) = &result {
            self.picked = read
                .replica_sets
                .iter()
                .filter(|rs| read.running_hash.as_deref() != Some(rs.hash.as_str()))
                .filter_map(|rs| rs.revision)
                .max();
        }
        self.revisions = Some(result);
    }

    /// The command for the picked revision, pinned to its pod hash as read.
    pub fn picked_command(&self) -> Option<Command> {
        let Some(Ok(read)) = &self.revisions else {
            return None;
        };
        let picked = self.picked?;
        let rs = read
            .replica_sets
            .iter()
            .find(|rs| rs.revision == Some(picked))?;
        if read.running_hash.as_deref() == Some(rs.hash.as_str()) {
            return None;
        }
        let mut command = self.command.clone();
        if let Action::Undo {
            to_revision,
            to_hash,
            ..
        } = &mut command.action
        {
            *to_revision = Some(picked);
            *to_hash = (!rs.hash.is_empty()).then(|| rs.hash.clone());
        }
        Some(command)
    }
}

/// "Do this?" with what it will do, and an optional (or required) comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub command: Command,
    pub what: String,
    pub comment: String,
    /// Approvals may carry a comment.
    pub takes_comment: bool,
    /// Rollback is drawn as the dangerous choice.
    pub danger: bool,
    /// What the person must know before confirming (the controller's analysis was
    /// inconclusive); it also opens the audit comment, so the trail says so.
    pub warning: Option<String>,
}

/// The pause Argo adds when a step's analysis ends Inconclusive.
pub const INCONCLUSIVE_PAUSE: &str = "InconclusiveAnalysisRun";
/// What an approval past an Inconclusive analysis says, in the dialog and the audit comment.
pub const INCONCLUSIVE_WARNING: &str = "analysis inconclusive: promote anyway?";

impl Dialog {
    pub fn confirm(command: Command, what: &str) -> Dialog {
        let title = format!("{} {}?", command.action.verb(), command.target.name);
        Dialog::Confirm(Confirm {
            title,
            command,
            what: what.into(),
            comment: String::new(),
            takes_comment: true,
            danger: false,
            warning: None,
        })
    }

    /// Approve: promote pinned to the step on screen now.
    pub fn approve(view: &RolloutView, what: &str) -> Dialog {
        let command = actions::command(
            view,
            Action::Promote {
                pin: Some(actions::pin(view)),
            },
        );
        let mut dialog = Dialog::confirm(command, what);
        if let Dialog::Confirm(c) = &mut dialog {
            c.title = format!("Approve {}?", view.reference.name);
            let inconclusive = view.pause_reasons.iter().any(|r| r == INCONCLUSIVE_PAUSE);
            c.warning = inconclusive.then(|| INCONCLUSIVE_WARNING.to_string());
        }
        dialog
    }

    /// Promote full, pinned to the step on screen now; titled as its button is.
    pub fn promote_full(view: &RolloutView, what: &str) -> Dialog {
        let command = actions::command(
            view,
            Action::PromoteFull {
                pin: Some(actions::pin(view)),
            },
        );
        let mut dialog = Dialog::confirm(command, what);
        if let Dialog::Confirm(c) = &mut dialog {
            c.title = format!("Promote full {}?", view.reference.name);
        }
        dialog
    }

    pub fn rollback(view: &RolloutView, what: &str) -> Dialog {
        Dialog::Confirm(Confirm {
            title: format!("Roll back {}?", view.reference.name),
            // A Rollback applies to whatever runs now: refusing it because a newer canary
            // appeared would leave the person at 3 a.m. with bad traffic.
            command: actions::command(view, Action::Abort { pin: None }),
            what: what.into(),
            comment: String::new(),
            takes_comment: true,
            danger: true,
            warning: None,
        })
    }

    /// Undo, pinned to the revision running on screen; its revisions are read on opening.
    pub fn undo(view: &RolloutView) -> Dialog {
        Dialog::Undo(Undo {
            command: actions::command(
                view,
                Action::Undo {
                    to_revision: None,
                    pin: Some(actions::undo_pin(view)),
                    to_hash: None,
                },
            ),
            current_revision: current_revision(view).unwrap_or(1),
            revisions: None,
            picked: None,
        })
    }
}

/// Draw the open dialog, if any. Pushes `Execute` on confirm and `CloseDialogs` on cancel.
pub fn dialog_ui(
    ctx: &egui::Context,
    dialog: &mut Dialog,
    require_comment: bool,
    out: &mut Vec<UiCommand>,
) {
    let modal = egui::Modal::new(egui::Id::unique("release-cockpit-dialog")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        match dialog {
            Dialog::Confirm(confirm) => confirm_ui(ui, confirm, require_comment, out),
            Dialog::Undo(undo) => undo_ui(ui, undo, out),
        }
    });
    if modal.should_close() {
        out.push(UiCommand::CloseDialogs);
    }
}

fn confirm_ui(
    ui: &mut egui::Ui,
    confirm: &mut Confirm,
    require_comment: bool,
    out: &mut Vec<UiCommand>,
) {
    ui.heading(confirm.title.as_str());
    ui.label(format!(
        "{} in {} ({})",
        confirm.command.target, confirm.command.target.context, confirm.what
    ));
    if let Some(warning) = &confirm.warning {
        ui.colored_label(crate::ui::theme::WARN, warning.as_str());
    }
    let is_approval = matches!(confirm.command.action, Action::Promote { .. });
    let needs_comment = require_comment && is_approval;
    if confirm.takes_comment {
        ui.add_space(4.0);
        let label = ui.label(if needs_comment {
            "Comment (required)"
        } else {
            "Comment (optional)"
        });
        ui.add(
            egui::TextEdit::singleline(&mut confirm.comment)
                .hint_text("why, ticket, link…")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    }
    let ready = !needs_comment || !confirm.comment.trim().is_empty();
    ui.add_space(8.0);
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        let label = if confirm.danger {
            egui::RichText::new("Roll back").color(egui::Color32::WHITE)
        } else {
            egui::RichText::new("Confirm")
        };
        let mut button = egui::Button::new(label);
        if confirm.danger {
            button = button.fill(crate::ui::theme::ERROR);
        }
        let clicked = ui
            .add_enabled(ready, button)
            .on_hover_text("Enter")
            .on_disabled_hover_text("an approval needs a comment (see Settings)")
            .clicked();
        if (clicked || enter) && ready {
            let mut command = confirm.command.clone();
            command.comment = audit_comment(confirm.warning.as_deref(), &confirm.comment);
            out.push(UiCommand::Execute(command));
            out.push(UiCommand::CloseDialogs);
        }
        if ui.button("Cancel").on_hover_text("Esc").clicked() {
            out.push(UiCommand::CloseDialogs);
        }
    });
}

/// The comment the audit trail records: the warning the person confirmed past (without its
/// question mark), then what they wrote.
fn audit_comment(warning: Option<&str>, comment: &str) -> Option<String> {
    let comment = comment.trim();
    let warning = warning.map(|w| w.split(':').next().unwrap_or(w).trim());
    match (warning, comment.is_empty()) {
        (Some(w), true) => Some(format!("{w}: promoted anyway")),
        (Some(w), false) => Some(format!("{w}: {comment}")),
        (None, true) => None,
        (None, false) => Some(comment.to_string()),
    }
}

fn undo_ui(ui: &mut egui::Ui, undo: &mut Undo, out: &mut Vec<UiCommand>) {
    ui.heading(format!("Undo {}?", undo.command.target.name));
    ui.label(format!(
        "Replace the pod template of {} with the one of an earlier revision (current: {}).",
        undo.command.target, undo.current_revision
    ));
    match &undo.revisions {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("reading the revisions…");
            });
        }
        Some(Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        Some(Ok(read)) => {
            ui.label("Go back to revision:");
            for rs in &read.replica_sets {
                let Some(revision) = rs.revision else {
                    continue;
                };
                let running = read.running_hash.as_deref() == Some(rs.hash.as_str());
                let text = format!(
                    "{revision} · {} · {}{}",
                    rs.hash,
                    rs.images.join(", "),
                    if running { " (running now)" } else { "" }
                );
                ui.add_enabled_ui(!running, |ui| {
                    ui.radio_value(&mut undo.picked, Some(revision), text);
                });
            }
        }
    }
    let command = undo.picked_command();
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        let clicked = ui
            .add_enabled(command.is_some(), egui::Button::new("Undo"))
            .clicked();
        if let Some(command) = command
            && (clicked || enter)
        {
            out.push(UiCommand::Execute(command));
            out.push(UiCommand::CloseDialogs);
        }
        if ui.button("Cancel").clicked() {
            out.push(UiCommand::CloseDialogs);
        }
    });
}

/// The keys, shown on `?`.
pub const KEYS: [(&str, &str); 7] = [
    ("/", "search the fleet"),
    ("j / k", "next / previous rollout"),
    ("a", "approve the selected rollout (asks to confirm)"),
    (
        "Shift+R",
        "roll back the selected rollout (asks to confirm)",
    ),
    ("Enter", "confirm the open dialog"),
    ("Esc", "close dialogs, this help and settings"),
    ("?", "show or hide this help"),
];

pub fn help_ui(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            egui::Grid::new("keys").num_columns(2).show(ui, |ui| {
                for (key, what) in KEYS {
                    ui.monospace(key);
                    ui.label(what);
                    ui.end_row();
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::audit_comment;

    #[test]
    fn an_approval_past_an_inconclusive_analysis_says_so_in_the_comment() {
        let warning = Some(super::INCONCLUSIVE_WARNING);
        assert_eq!(
            audit_comment(warning, " ok by SRE "),
            Some("analysis inconclusive: ok by SRE".into())
        );
        assert_eq!(
            audit_comment(warning, ""),
            Some("analysis inconclusive: promoted anyway".into())
        );
        assert_eq!(audit_comment(None, "  "), None);
    }
}
