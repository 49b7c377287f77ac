//! The inbox in the window's state: computed again from the watched fleet, the verdicts and
//! the metrics' staleness whenever something arrives; its cursor; going back to it;
//! and the window title that counts it.

use super::{AppState, CockpitApp, MetricsState};
use crate::attention::{Evidence, Judgement, inbox};
use crate::ui::events::BackendRequest;

impl AppState {
    /// The inbox again, from what the window knows now. The cursor stays on its rollout when
    /// that rollout still needs someone.
    pub fn refresh_inbox(&mut self) {
        let under_cursor = self
            .inbox
            .get(self.inbox_cursor)
            .map(|row| row.rollout.clone());
        let verdicts = &self.verdicts;
        let verdict = |r: &_| {
            verdicts
                .get(r)
                .and_then(|v| Judgement::from_words(&v.verdict, v.score))
        };
        // The selected rollout's own stream, else the fleet verdicts' feed.
        let metrics = self.metrics.snapshot();
        let fleet_stale = &self.metrics_stale;
        let stale = |r: &_| {
            metrics
                .filter(|s| &s.rollout == r)
                .and_then(|s| s.stale_since_secs)
                .or_else(|| fleet_stale.get(r).copied())
        };
        let evidence = Evidence {
            verdict: &verdict,
            metrics_stale_since: &stale,
        };
        let contexts = &self.contexts;
        let watched = self
            .fleet
            .iter()
            .filter(|(c, _)| contexts.get(*c).is_none_or(|s| s.watched))
            .flat_map(|(_, views)| views.iter());
        self.inbox = inbox(watched, &evidence);
        self.inbox_cursor = under_cursor
            .and_then(|r| self.inbox.iter().position(|row| row.rollout == r))
            .unwrap_or(self.inbox_cursor)
            .min(self.inbox.len().saturating_sub(1));
    }

    pub(super) fn move_inbox_cursor(&mut self, delta: i32) {
        let last = self.inbox.len().saturating_sub(1) as i64;
        self.inbox_cursor = (self.inbox_cursor as i64 + i64::from(delta)).clamp(0, last) as usize;
        self.inbox_scroll = true;
    }

    /// Nothing selected: the window shows the inbox; the selected rollout's streams stop.
    pub(super) fn open_inbox(&mut self) -> Vec<BackendRequest> {
        let Some(was) = self.selected.take() else {
            return Vec::new();
        };
        if let Some(i) = self.inbox.iter().position(|row| row.rollout == was) {
            self.inbox_cursor = i;
        }
        self.weight_draft = None;
        self.metrics = MetricsState::NotRequested;
        vec![
            BackendRequest::WatchMetrics {
                rollout: None,
                window_secs: super::logic::METRICS_WINDOW_SECS,
            },
            BackendRequest::WatchActivity(None),
        ]
    }

    /// "Release Cockpit — 3 need you".
    pub fn window_title(&self) -> String {
        crate::ui::inbox::window_title(self.inbox.len())
    }
}

impl CockpitApp {
    /// Send the title when the count changed.
    pub(super) fn set_title(&mut self, ctx: &egui::Context) {
        let title = self.state.window_title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }
}
