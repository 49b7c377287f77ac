//! The inbox pane: what the window shows when no rollout is selected — every rollout of the
//! watched contexts that needs a person, most urgent first (`attention::inbox`), with its
//! reason, where it is and how long it has waited. Up/Down choose, Enter opens, `a` approves
//! and `r` rolls back through the usual dialogs.

use super::app::UiCommand;
use super::theme;
use crate::attention::{InboxRow, NeedKind};
use std::collections::HashMap;

const ROW_HEIGHT: f32 = 22.0;

/// Columns: title and width in points; the last (what it needs) takes the rest.
const COLUMNS: [(&str, f32); 4] = [
    ("Reason", 150.0),
    ("Rollout", 230.0),
    ("Context", 110.0),
    ("Waiting", 70.0),
];

/// What the pane draws.
pub struct InboxPane<'a> {
    pub rows: &'a [InboxRow],
    /// The row Up/Down moved to (Enter, `a`, `r` act on it).
    pub cursor: usize,
    /// The cursor just moved: scroll it into view (only then, so the wheel still scrolls).
    pub scroll_to_cursor: bool,
    /// Contexts whose API server does not answer (name → since when): rows as last seen.
    pub stale: &'a HashMap<String, f64>,
    pub now_secs: f64,
}

/// The window title: "Release Cockpit — 3 need you" (or just the name when nobody does).
pub fn window_title(count: usize) -> String {
    match count {
        0 => "Release Cockpit".into(),
        1 => "Release Cockpit — 1 needs you".into(),
        n => format!("Release Cockpit — {n} need you"),
    }
}

/// The colour of a reason's badge: red for failing and aborted, amber for the rest.
pub fn kind_color(kind: NeedKind) -> egui::Color32 {
    match kind {
        NeedKind::FailingVerdict | NeedKind::Aborted | NeedKind::Degraded => theme::ERROR,
        NeedKind::WaitingForApproval | NeedKind::AutoWaiting => theme::WARN,
        NeedKind::MetricsStale => theme::COCKPIT,
    }
}

pub fn inbox_ui(ui: &mut egui::Ui, pane: &InboxPane<'_>, out: &mut Vec<UiCommand>) {
    let count = pane.rows.len();
    ui.horizontal(|ui| {
        ui.heading(match count {
            0 => "Inbox: nobody needs you".to_string(),
            1 => "Inbox: 1 rollout needs you".to_string(),
            n => format!("Inbox: {n} rollouts need you"),
        });
        ui.weak("↑/↓ choose · Enter open · a approve · r roll back · Esc back here");
    });
    if count == 0 {
        ui.add_space(8.0);
        ui.weak(
            "No rollout in the watched contexts is failing, aborted, waiting for approval or \
             for a person on behalf of auto. Select a rollout in the fleet (click its name, \
             or j / k) to see it.",
        );
        return;
    }
    ui.separator();
    ui.horizontal(|ui| {
        for (title, width) in COLUMNS {
            cell(ui, width, |ui| {
                ui.strong(title);
            });
        }
        ui.strong("What it needs");
    });
    egui::ScrollArea::vertical()
        .id_salt("inbox-rows")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, count, |ui, range| {
            for i in range {
                row_ui(ui, pane, i, out);
            }
        });
}

fn row_ui(ui: &mut egui::Ui, pane: &InboxPane<'_>, i: usize, out: &mut Vec<UiCommand>) {
    let row = &pane.rows[i];
    let r = &row.rollout;
    let here = i == pane.cursor;
    ui.horizontal(|ui| {
        ui.set_height(ROW_HEIGHT - 4.0);
        cell(ui, COLUMNS[0].1, |ui| {
            theme::badge(ui, row.kind.as_str(), kind_color(row.kind));
        });
        cell(ui, COLUMNS[1].1, |ui| {
            // namespace/name: the fleet's Name column already says the bare name.
            let response = ui
                .selectable_label(here, r.to_string())
                .on_hover_text(format!("open {r} in {} (Enter)", r.context));
            if here && pane.scroll_to_cursor {
                response.scroll_to_me(None);
            }
            if response.clicked() {
                out.push(UiCommand::Select(r.clone()));
            }
        });
        cell(ui, COLUMNS[2].1, |ui| match pane.stale.get(&r.context) {
            Some(since) => {
                ui.colored_label(theme::WARN, format!("{} (stale)", r.context))
                    .on_hover_text(super::fleet::stale_hover(&r.context, *since));
            }
            None => {
                ui.label(r.context.as_str());
            }
        });
        cell(ui, COLUMNS[3].1, |ui| {
            match row.waiting_secs(pane.now_secs) {
                Some(secs) => ui.label(theme::age(secs)),
                None => ui.weak("–"),
            }
            .on_hover_text("how long it has needed someone");
        });
        let text = row.text();
        ui.label(&text).on_hover_text(text);
    });
}

fn cell(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ROW_HEIGHT),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
            add(ui);
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_counts_who_needs_you() {
        assert_eq!(window_title(0), "Release Cockpit");
        assert_eq!(window_title(1), "Release Cockpit — 1 needs you");
        assert_eq!(window_title(3), "Release Cockpit — 3 need you");
    }
}
