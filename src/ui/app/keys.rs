//! The window's keys, turned into the same `UiCommand`s as the buttons: on a rollout and,
//! with nothing selected, on the inbox (Up/Down, Enter, `a`, `r`).

use super::{CockpitApp, UiCommand};
use crate::ui::dialogs::Dialog;
use crate::ui::keyboard;
use crate::ui::rollout::actions;
use crate::ui::toasts::ToastKind;

impl CockpitApp {
    /// Keys: `/` search, `j`/`k` move, `a` approve, `Shift+R` rollback, `?` help, `Esc` close
    /// (or, with nothing open, back to the inbox). On the inbox: Up/Down choose a row, Enter
    /// opens it, `a` and `r` open its Approve and Rollback dialogs.
    pub(super) fn keyboard(&mut self, ctx: &egui::Context) {
        let typing = ctx.text_edit_focused();
        let keys = keyboard::read(ctx);
        let on_inbox = self.state.selected.is_none();
        if keys.escape {
            let open = self.state.dialog.is_some()
                || self.state.help_open
                || self.state.settings_open
                || typing;
            self.pending.push(if open || on_inbox {
                UiCommand::CloseDialogs
            } else {
                UiCommand::OpenInbox
            });
        }
        if typing || self.state.dialog.is_some() {
            return;
        }
        let inbox_row = self
            .state
            .inbox
            .get(self.state.inbox_cursor)
            .map(|row| row.rollout.clone());
        let commands = [
            (keys.search, UiCommand::FocusSearch),
            (keys.next, UiCommand::MoveSelection(1)),
            (keys.previous, UiCommand::MoveSelection(-1)),
            (keys.help, UiCommand::ToggleHelp),
            (on_inbox && keys.down, UiCommand::MoveInboxCursor(1)),
            (on_inbox && keys.up, UiCommand::MoveInboxCursor(-1)),
        ];
        self.pending
            .extend(commands.into_iter().filter(|(k, _)| *k).map(|(_, c)| c));
        if on_inbox
            && keys.enter
            && let Some(r) = inbox_row
        {
            self.pending.push(UiCommand::Select(r));
        }
        // The same dialogs and gates as the buttons, on the selected rollout or the inbox's row.
        let (a, rollback) = (keys.approve, keys.rollback || (on_inbox && keys.plain_r));
        if let Some(view) = self.state.keyed_view() {
            let input = self.state.gate_input(view);
            if a {
                let gate = input.gate(crate::model::Verb::Promote, actions::approve(view));
                self.pending
                    .push(gate_or_toast(gate, || Dialog::approve(view, "")));
            }
            if rollback {
                let gate = input.gate(crate::model::Verb::Abort, actions::abort(view));
                self.pending
                    .push(gate_or_toast(gate, || Dialog::rollback(view, "")));
            }
        }
    }
}

/// A dialog for an open gate; a toast with the reason for a closed one (same text as the
/// disabled button's tooltip).
fn gate_or_toast(gate: actions::Gate, dialog: impl FnOnce() -> Dialog) -> UiCommand {
    match gate {
        actions::Gate::Enabled(what) => {
            let mut d = dialog();
            if let Dialog::Confirm(c) = &mut d {
                c.what = what;
            }
            UiCommand::OpenDialog(d)
        }
        actions::Gate::Disabled(why) => UiCommand::Toast(ToastKind::Info, why),
    }
}
