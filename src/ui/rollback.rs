//! The rollback's outcome in the window: from an abort (the Rollback button, the CLI, `auto`
//! or the controller: `status.abort`, timed from `status.abortedAt`) until all traffic is on a
//! fully available stable, or stuck after [`STUCK_AFTER_SECS`]. Driven by the fleet's views
//! only, through `orchestrator::rollback`'s pure functions; it reads nothing itself.

use super::events::ActivityEntry;
use super::theme;
use crate::model::RolloutView;
use crate::orchestrator::EVENT_COMPONENT;
use crate::orchestrator::rollback::{
    self, Progress, RollbackOutcome, RollbackReading, TARGET, assess, outcome, seconds,
};

/// After this long without all traffic back on a fully available stable, the rollback is
/// called stuck (twice the target); it still turns complete if the rollout gets there later.
pub const STUCK_AFTER_SECS: f64 = 60.0;

/// One rollout's rollback, as far as the window has seen it.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackTracker {
    /// Unix seconds of the abort: `status.abortedAt`, else when this window first saw it.
    pub aborted_secs: f64,
    /// `status.abortedAt` as the controller wrote it: a new value is a new abort.
    pub aborted_at: Option<String>,
    pub reading: RollbackReading,
    /// The window watched the abort happen (it saw the rollout before the abort, or not yet
    /// rolled back): a completion it sees is timed, not only bounded.
    pub seen_waiting: bool,
    /// Complete, or stuck (updated while time passes); `None` while it is still worth waiting.
    pub outcome: Option<RollbackOutcome>,
}

/// The header's line about the rollback.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackStatus {
    pub text: String,
    pub color: egui::Color32,
}

impl RollbackTracker {
    /// Starts tracking the abort `view` shows, seen at `now_secs`; `watched` when the window
    /// saw the rollout before this abort (its fleet watch then delivers every change since).
    pub fn start(view: &RolloutView, now_secs: f64, watched: bool) -> RollbackTracker {
        let aborted_secs = view
            .aborted_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(now_secs, |t| t.as_millisecond() as f64 / 1000.0);
        RollbackTracker {
            aborted_secs,
            aborted_at: view.aborted_at.clone(),
            reading: RollbackReading::of_view(view),
            seen_waiting: watched,
            outcome: None,
        }
    }

    /// A new view of the rollout: the outcome when it just reached one (complete after the
    /// window saw it waiting, or stuck for the first time), for the activity.
    pub fn update(&mut self, view: &RolloutView, now_secs: f64) -> Option<RollbackOutcome> {
        self.reading = RollbackReading::of_view(view);
        self.assess(now_secs)
    }

    /// Time passed without a new view: stuck once [`STUCK_AFTER_SECS`] are over.
    pub fn tick(&mut self, now_secs: f64) -> Option<RollbackOutcome> {
        if self.outcome.as_ref().is_some_and(|o| o.complete) {
            return None;
        }
        self.assess(now_secs)
    }

    fn elapsed(&self, now_secs: f64) -> f64 {
        (now_secs - self.aborted_secs).max(0.0)
    }

    fn assess(&mut self, now_secs: f64) -> Option<RollbackOutcome> {
        if self.outcome.as_ref().is_some_and(|o| o.complete) {
            return None;
        }
        let elapsed = self.elapsed(now_secs);
        let timed_out = elapsed >= STUCK_AFTER_SECS;
        let Some(mut now) = outcome(
            &self.reading,
            std::time::Duration::from_secs_f64(elapsed),
            timed_out,
        ) else {
            self.seen_waiting = true;
            return None;
        };
        if now.complete && !self.seen_waiting {
            // Already back when first seen: how long it took is not known, only a bound.
            now.message = format!("rolled back (aborted {} ago)", theme::age(elapsed));
        }
        let was_stuck = self.outcome.is_some();
        self.outcome = Some(now.clone());
        if now.complete {
            // An untimed completion is not news for the activity.
            self.seen_waiting.then_some(now)
        } else {
            self.seen_waiting = true;
            (!was_stuck).then_some(now)
        }
    }

    /// What the header says: waiting (with what is missing), complete (against the target),
    /// or stuck.
    pub fn status(&self, now_secs: f64) -> RollbackStatus {
        match &self.outcome {
            Some(o) if o.complete => {
                let over = o.elapsed_secs > TARGET.as_secs_f64() && self.seen_waiting;
                RollbackStatus {
                    text: if over {
                        format!("{} (target {})", o.message, target())
                    } else {
                        o.message.clone()
                    },
                    color: if over { theme::WARN } else { theme::OK },
                }
            }
            Some(o) => RollbackStatus {
                text: o.message.clone(),
                color: theme::ERROR,
            },
            None => RollbackStatus {
                text: match assess(&self.reading) {
                    Progress::Waiting(missing) => format!(
                        "rolling back: {missing} ({} since the abort, target {})",
                        seconds(self.elapsed(now_secs)),
                        target()
                    ),
                    Progress::Complete => "rolling back".into(),
                },
                color: theme::WARN,
            },
        }
    }
}

fn target() -> String {
    rollback::seconds(TARGET.as_secs_f64())
}

/// The activity's entry for an outcome the window reached: the cockpit's own observation.
pub fn activity_entry(done: &RollbackOutcome, now_secs: f64) -> ActivityEntry {
    ActivityEntry {
        time_secs: now_secs,
        user: String::new(),
        verb: if done.complete {
            "rollback complete".into()
        } else {
            "rollback stuck".into()
        },
        comment: None,
        detail: format!("{} (target {})", done.message, target()),
        source: EVENT_COMPONENT.into(),
        ours: true,
        warning: !done.complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixtures;

    /// `checkout` aborted at t=1000 with 20 % still on the canary and stable 2/5 available.
    fn aborted() -> RolloutView {
        let mut v = fixtures::checkout_paused_at(1);
        v.aborted = true;
        v.aborted_at = jiff::Timestamp::from_second(1000)
            .ok()
            .map(|t| t.to_string());
        v.desired_replicas = 5;
        v.available_replicas = 2;
        v
    }

    fn rolled_back() -> RolloutView {
        let mut v = aborted();
        v.actual_weight = 0;
        v.available_replicas = 5;
        v
    }

    #[test]
    fn complete_is_timed_from_aborted_at_against_the_target() {
        let mut t = RollbackTracker::start(&aborted(), 1003.0, false);
        assert_eq!(t.aborted_secs, 1000.0);
        assert_eq!(t.update(&aborted(), 1003.0), None);
        let waiting = t.status(1005.0);
        assert_eq!(
            waiting.text,
            "rolling back: 20% of traffic still on the canary, stable 2/5 available \
             (5.0 s since the abort, target 30 s)"
        );
        let done = t.update(&rolled_back(), 1012.0).expect("complete");
        assert_eq!(done.message, "rollback complete in 12 s");
        assert_eq!(t.status(1100.0).text, "rollback complete in 12 s");
        assert_eq!(t.status(1100.0).color, theme::OK);
        assert_eq!(t.tick(2000.0), None, "complete stays complete");
    }

    #[test]
    fn stuck_after_a_minute_then_complete_if_it_gets_there() {
        let mut partly = aborted();
        partly.actual_weight = 0;
        let mut t = RollbackTracker::start(&partly, 1001.0, false);
        assert_eq!(t.update(&partly, 1001.0), None);
        assert_eq!(t.tick(1030.0), None);
        let stuck = t.tick(1060.0).expect("stuck");
        assert_eq!(stuck.message, "stuck: stable 2/5 available after 60 s");
        assert_eq!(t.tick(1070.0), None, "stuck is told once");
        assert_eq!(
            t.status(1070.0).text,
            "stuck: stable 2/5 available after 70 s"
        );
        assert_eq!(t.status(1070.0).color, theme::ERROR);
        let late = t.update(&rolled_back(), 1095.0).expect("complete");
        assert_eq!(late.message, "rollback complete in 95 s");
        assert_eq!(
            t.status(1095.0).text,
            "rollback complete in 95 s (target 30 s)"
        );
        assert_eq!(t.status(1095.0).color, theme::WARN);
        assert!(
            activity_entry(&late, 1095.0)
                .detail
                .ends_with("(target 30 s)")
        );
    }

    #[test]
    fn already_rolled_back_when_first_seen_is_not_timed() {
        let mut t = RollbackTracker::start(&rolled_back(), 4600.0, false);
        assert_eq!(
            t.update(&rolled_back(), 4600.0),
            None,
            "nothing timed to tell"
        );
        let status = t.status(4600.0);
        assert_eq!(status.text, "rolled back (aborted 1h00m ago)");
        assert_eq!(status.color, theme::OK);
        // Watched before the abort, it is timed even if the first aborted view is complete.
        let mut t = RollbackTracker::start(&rolled_back(), 1000.8, true);
        let done = t.update(&rolled_back(), 1000.8).expect("complete");
        assert_eq!(done.message, "rollback complete in 0.8 s");
    }
}
