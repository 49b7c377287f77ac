//! Desktop notifications from the window: every rollout view and verdict goes through the
//! transition detector (`attention::transitions`); what it finds, and the settings allow
//! (events, contexts, quiet hours), becomes a `Notify` request for the backend.

use super::AppState;
use crate::attention::{Judgement, Notice};
use crate::model::RolloutRef;
use crate::ui::events::BackendRequest;

impl AppState {
    /// The notices the views of `context` give now (after a `Fleet` event).
    pub(super) fn notify_fleet(&mut self, context: &str, now: f64) -> Vec<BackendRequest> {
        let Some(views) = self.fleet.get(context) else {
            return Vec::new();
        };
        let mut notices = Vec::new();
        for view in views {
            notices.extend(self.transitions.observe(view, None, now));
        }
        self.allowed(notices)
    }

    /// The notices a new verdict on `rollout` gives.
    pub(super) fn notify_verdict(&mut self, rollout: &RolloutRef, now: f64) -> Vec<BackendRequest> {
        let kind = self
            .verdicts
            .get(rollout)
            .and_then(|v| Judgement::from_words(&v.verdict, v.score))
            .map(|j| j.kind);
        let Some(view) = self.view_of(rollout).cloned() else {
            return Vec::new();
        };
        let notices = self.transitions.observe(&view, kind, now);
        self.allowed(notices)
    }

    /// Rollbacks that got stuck while no new view came.
    pub(super) fn notify_tick(&mut self, now: f64) -> Vec<BackendRequest> {
        let aborted: Vec<_> = self
            .fleet
            .values()
            .flatten()
            .filter(|v| v.aborted)
            .collect();
        if aborted.is_empty() {
            return Vec::new();
        }
        let notices = self.transitions.tick(&aborted, now);
        self.allowed(notices)
    }

    fn allowed(&self, notices: Vec<Notice>) -> Vec<BackendRequest> {
        let settings = &self.settings.notify;
        if notices.is_empty() || !settings.desktop {
            return Vec::new();
        }
        let hour = jiff::Zoned::now().hour() as u8;
        notices
            .into_iter()
            .filter(|n| {
                self.contexts
                    .get(&n.rollout.context)
                    .is_none_or(|c| c.watched)
            })
            .filter(|n| settings.allows(n, hour))
            .map(BackendRequest::Notify)
            .collect()
    }
}
