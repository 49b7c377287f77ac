//! The window's keyboard shortcuts, read from egui's input once per frame: `/` search,
//! `j`/`k` move in the fleet, `a` approve, `Shift+R` rollback, `?` help, `Esc` close; on the
//! inbox also Up/Down, Enter and a plain `r` (rollback).

/// The shortcuts pressed this frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shortcuts {
    pub escape: bool,
    pub search: bool,
    pub next: bool,
    pub previous: bool,
    pub approve: bool,
    pub rollback: bool,
    pub help: bool,
    pub up: bool,
    pub down: bool,
    pub enter: bool,
    /// `r` without Shift: rollback on the inbox only (a rollout's own view wants Shift).
    pub plain_r: bool,
}

pub fn read(ctx: &egui::Context) -> Shortcuts {
    ctx.input(|i| {
        let plain = |k| i.key_pressed(k) && !i.modifiers.any();
        Shortcuts {
            escape: i.key_pressed(egui::Key::Escape),
            search: plain(egui::Key::Slash),
            next: plain(egui::Key::J),
            previous: plain(egui::Key::K),
            approve: plain(egui::Key::A),
            rollback: i.key_pressed(egui::Key::R) && i.modifiers.shift_only(),
            up: plain(egui::Key::ArrowUp),
            down: plain(egui::Key::ArrowDown),
            enter: plain(egui::Key::Enter),
            plain_r: plain(egui::Key::R),
            // Layouts differ: `?` may arrive as its own key or only as text.
            help: i.key_pressed(egui::Key::Questionmark)
                || i.events
                    .iter()
                    .any(|e| matches!(e, egui::Event::Text(t) if t == "?")),
        }
    })
}
