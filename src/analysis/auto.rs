//! The `auto` loop's decisions as a pure state machine: from the rollout as read, the newest
//! verdict and the clock, [`AutoLoop::decide`] says what to do — abort, promote (pinned to the
//! step it saw), wait (and why, for the window), or stop. No I/O: `cli::auto_cmd` acts.
//!
//! The rules: Fail aborts at once; Pass promotes only at a step that waits for a person and
//! only after the canary has been watched at that step for `dwell_secs`; Marginal leaves it to
//! a person; NoData waits up to `no_data_limit_secs`, then gives up and leaves the rollout as
//! it is (it never aborts or promotes on missing data: a broken Prometheus is not a bad canary).

use super::verdict::{Verdict, VerdictKind};
use crate::model::{Phase, Pin, RolloutView, StrategyKind};

/// The annotation where `auto` writes why it waits, for the window and `kubectl describe`.
pub use crate::model::view::AUTO_STATUS_ANNOTATION;

/// How patient the loop is, in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoSettings {
    /// Watch the canary at a step this long before a Pass promotes it (default: the policy
    /// window, so the verdict that promotes covers only this step's traffic).
    pub dwell_secs: f64,
    /// NoData this long in a row → give up (exit 1), leaving the rollout untouched.
    pub no_data_limit_secs: f64,
    /// The whole run; past it → give up (exit 1).
    pub timeout_secs: f64,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Fully promoted: the new version is stable. Exit 0.
    Healthy,
    /// The rollout is aborted (by `auto` or anyone else). Exit 1.
    Aborted,
    /// The rollout is Degraded. Exit 1.
    Degraded,
    /// Timed out or no data for too long; the rollout is left as it is. Exit 1.
    GaveUp(String),
}

impl Ending {
    pub fn exit_code(&self) -> u8 {
        match self {
            Ending::Healthy => 0,
            _ => 1,
        }
    }
}

/// What to do now.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Abort the update (all traffic back to stable); `why` is the verdict's headline. `pin`
    /// is the revision that was judged: a new one appearing meanwhile is judged again first.
    Abort { pin: Pin, why: String },
    /// Promote past the pause the rollout waits at; `pin` is what was judged: the step and
    /// pod hash of a canary, the preview of a blue-green rollout.
    Promote { pin: Pin, why: String },
    /// Do nothing this time; `reason` is what the window shows.
    Wait { reason: String },
    /// Stop the loop.
    Done(Ending),
}

/// Where a rollout is: its step and its canary's pod hash.
type StepKey = (Option<i32>, Option<String>);

/// The loop's memory between two decisions: since when the rollout has been at its step, and
/// since when the judge has had no data.
#[derive(Clone, Debug)]
pub struct AutoLoop {
    settings: AutoSettings,
    started_secs: f64,
    /// (step, canary hash) and since when it has been so.
    at_step: Option<(StepKey, f64)>,
    no_data_since: Option<f64>,
}

impl AutoLoop {
    pub fn new(settings: AutoSettings, started_secs: f64) -> AutoLoop {
        AutoLoop {
            settings,
            started_secs,
            at_step: None,
            no_data_since: None,
        }
    }

    pub fn settings(&self) -> &AutoSettings {
        &self.settings
    }

    /// One decision. `verdict` is the judge's newest answer over the policy window (`None`
    /// when not judged this time, e.g. the canary takes no traffic yet).
    pub fn decide(
        &mut self,
        view: &RolloutView,
        verdict: Option<&Verdict>,
        now_secs: f64,
    ) -> Decision {
        if view.aborted {
            return Decision::Done(Ending::Aborted);
        }
        if view.phase == Phase::Degraded {
            return Decision::Done(Ending::Degraded);
        }
        if (!view.in_progress() && view.phase == Phase::Healthy) || view.weighted_done() {
            return Decision::Done(Ending::Healthy);
        }
        if now_secs - self.started_secs >= self.settings.timeout_secs {
            return Decision::Done(Ending::GaveUp(format!(
                "timed out after {} at step {}",
                super::words::duration(self.settings.timeout_secs),
                view.step_label()
            )));
        }
        let here = (view.current_step, view.current_hash.clone());
        let since = match &self.at_step {
            Some((seen, since)) if *seen == here => *since,
            _ => {
                self.at_step = Some((here, now_secs));
                now_secs
            }
        };
        if !view.in_progress() {
            return Decision::Wait {
                reason: format!("rollout is {}, no update in progress", view.phase),
            };
        }
        // A weighted release paused by hand waits for a person's resume (auto honours it).
        if view.strategy == StrategyKind::Weighted && view.paused {
            return Decision::Wait {
                reason: "paused by hand: resume it to let auto carry on".into(),
            };
        }
        if matches!(view.strategy, StrategyKind::Canary | StrategyKind::Weighted)
            && view.actual_weight == 0
        {
            self.no_data_since = None;
            return Decision::Wait {
                reason: "canary takes no traffic yet".into(),
            };
        }
        let Some(verdict) = verdict else {
            return Decision::Wait {
                reason: "no verdict yet".into(),
            };
        };
        if verdict.kind != VerdictKind::NoData {
            self.no_data_since = None;
        }
        match verdict.kind {
            VerdictKind::Fail => Decision::Abort {
                pin: Pin {
                    pod_hash: view.current_hash.clone(),
                    ..Pin::default()
                },
                why: verdict.headline(),
            },
            VerdictKind::NoData => {
                let first = *self.no_data_since.get_or_insert(now_secs);
                let waited = now_secs - first;
                if waited >= self.settings.no_data_limit_secs {
                    Decision::Done(Ending::GaveUp(format!(
                        "no data for {}; rollout left at step {} for a person to decide ({})",
                        super::words::duration(waited),
                        view.step_label(),
                        verdict.headline()
                    )))
                } else {
                    Decision::Wait {
                        reason: format!(
                            "waiting for data ({} of {}): {}",
                            super::words::duration(waited),
                            super::words::duration(self.settings.no_data_limit_secs),
                            verdict.headline()
                        ),
                    }
                }
            }
            VerdictKind::Marginal => Decision::Wait {
                reason: format!(
                    "waiting for approval: marginal verdict, score {:.0}",
                    verdict.score
                ),
            },
            VerdictKind::Pass => {
                if !view.waiting_for_human() {
                    return Decision::Wait {
                        reason: format!(
                            "pass, score {:.0}; rollout moves on by itself",
                            verdict.score
                        ),
                    };
                }
                let watched = now_secs - since;
                if watched < self.settings.dwell_secs {
                    return Decision::Wait {
                        reason: format!(
                            "pass, score {:.0}; watching step {} {} more before promoting",
                            verdict.score,
                            view.step_label(),
                            super::words::duration(self.settings.dwell_secs - watched)
                        ),
                    };
                }
                Decision::Promote {
                    pin: Pin::of_view(view),
                    why: verdict.headline(),
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "auto_tests.rs"]
mod tests;
