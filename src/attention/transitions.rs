//! Transitions worth telling someone about, found by comparing what was seen before with
//! what is seen now: a rollout starts waiting for approval, its verdict turns to fail, it is
//! aborted (and by whom), its rollback completes or sticks. Pure and idempotent: each
//! transition yields one [`Notice`] with a key, and a key is never sent twice. The first sight
//! of a rollout is only remembered: what was already so when the watch began is not news.

use super::inbox::aborted_by;
use crate::analysis::VerdictKind;
use crate::model::{RolloutRef, RolloutView};
use crate::orchestrator::rollback::{RollbackReading, outcome};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// After this long without all traffic back on a fully available stable, a rollback is stuck
/// (the window's rollback line says the same).
pub const STUCK_AFTER_SECS: f64 = 60.0;

/// How long an abort's notice waits for the cockpit's last-action annotation, which the door
/// writes just after the abort itself, to say who aborted; past it, the controller did.
pub const ATTRIBUTION_WAIT_SECS: f64 = 5.0;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    WaitingForApproval,
    VerdictFail,
    Aborted,
    RollbackComplete,
    RollbackStuck,
}

/// One notification: a title and a body in words, for one rollout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub rollout: RolloutRef,
    /// "checkout waits for approval".
    pub title: String,
    /// "lab-admin demo/checkout: waiting for approval at step 1/8 (20%)".
    pub body: String,
    /// What makes this transition this one (the pause's start, the abort's time, the
    /// revision): the same key is never sent twice.
    pub key: String,
}

impl Notice {
    /// One line for a chat: the title, then the body.
    pub fn text(&self) -> String {
        format!("{}: {}", self.title, self.body)
    }
}

/// Which notifications a person wants (the window's settings; `watch` and `auto` send all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    /// Send desktop notifications at all.
    pub desktop: bool,
    pub waiting_for_approval: bool,
    pub verdict_fail: bool,
    pub aborted: bool,
    /// Rollback complete or stuck.
    pub rollback: bool,
    /// Only these contexts; empty: every watched context.
    pub contexts: Vec<String>,
    /// Quiet hours, local time: from this hour (0–23) to that one; nothing is sent between
    /// (and nothing is sent later for what happened then). `None`: never quiet.
    pub quiet_hours: Option<(u8, u8)>,
}

impl Default for NotifySettings {
    fn default() -> NotifySettings {
        NotifySettings {
            desktop: true,
            waiting_for_approval: true,
            verdict_fail: true,
            aborted: true,
            rollback: true,
            contexts: Vec::new(),
            quiet_hours: None,
        }
    }
}

impl NotifySettings {
    /// Whether `notice` may be sent at local hour `hour` (0–23).
    pub fn allows(&self, notice: &Notice, hour: u8) -> bool {
        let kind = match notice.kind {
            NoticeKind::WaitingForApproval => self.waiting_for_approval,
            NoticeKind::VerdictFail => self.verdict_fail,
            NoticeKind::Aborted => self.aborted,
            NoticeKind::RollbackComplete | NoticeKind::RollbackStuck => self.rollback,
        };
        let context = self.contexts.is_empty() || self.contexts.contains(&notice.rollout.context);
        kind && context && !self.is_quiet(hour)
    }

    /// Quiet at `hour`: within [from, to), wrapping past midnight (22–7 is the night).
    pub fn is_quiet(&self, hour: u8) -> bool {
        match self.quiet_hours {
            Some((from, to)) if from <= to => (from..to).contains(&hour),
            Some((from, to)) => hour >= from || hour < to,
            None => false,
        }
    }
}

/// What was last seen of one rollout.
#[derive(Clone, Debug)]
struct Seen {
    waiting: Option<String>,
    failing: Option<String>,
    abort: Option<Abort>,
    /// Aborts seen so far: each is its own transition.
    aborts: u32,
}

/// An abort being followed until its rollback completes.
#[derive(Clone, Debug)]
struct Abort {
    key: String,
    /// `status.abortedAt` once the controller wrote it.
    aborted_at: Option<String>,
    aborted_secs: f64,
    /// When it was first seen (unix seconds).
    seen_secs: f64,
    /// Its notice went out (or it was already so at first sight).
    told: bool,
    complete: bool,
    stuck: bool,
}

/// The detector: feed it every view (and verdict) as it arrives, and the clock.
#[derive(Debug, Default)]
pub struct Transitions {
    seen: HashMap<RolloutRef, Seen>,
    sent: HashSet<String>,
}

impl Transitions {
    /// The transitions `view` shows since the last view of the same rollout. `verdict` is
    /// the judge's newest answer when known (`None` keeps the last one known).
    pub fn observe(
        &mut self,
        view: &RolloutView,
        verdict: Option<VerdictKind>,
        now_secs: f64,
    ) -> Vec<Notice> {
        let r = &view.reference;
        let waiting = view.waiting_for_human().then(|| waiting_key(view));
        let first_sight = !self.seen.contains_key(r);
        let before = self.seen.entry(r.clone()).or_insert_with(|| Seen {
            waiting: waiting.clone(),
            failing: None,
            abort: None,
            aborts: 0,
        });
        let mut notices = Vec::new();
        if waiting.is_some() && waiting != before.waiting && !first_sight {
            notices.push(notice(
                NoticeKind::WaitingForApproval,
                view,
                format!("{} waits for approval", r.name),
                crate::attention::inbox([view], &crate::attention::Evidence::rollouts_only())
                    .first()
                    .map_or_else(|| "waiting for approval".into(), |row| row.text()),
                waiting.clone().unwrap_or_default(),
            ));
        }
        before.waiting = waiting;
        match verdict {
            Some(VerdictKind::Fail) if view.in_progress() && !view.aborted => {
                let key = format!("fail:{}", view.current_hash.as_deref().unwrap_or("?"));
                if before.failing.as_ref() != Some(&key) {
                    notices.push(notice(
                        NoticeKind::VerdictFail,
                        view,
                        format!("{} is failing", r.name),
                        format!(
                            "the verdict turned to fail while the new version takes {}% of traffic",
                            view.actual_weight
                        ),
                        key.clone(),
                    ));
                }
                before.failing = Some(key);
            }
            Some(_) => before.failing = None,
            None => {}
        }
        self.follow_abort(view, first_sight, now_secs, false, &mut notices);
        notices.retain(|n| self.sent.insert(n.key.clone()));
        notices
    }

    /// An abort's notice waits for who aborted it ([`ATTRIBUTION_WAIT_SECS`]).
    pub fn waiting_to_tell(&self) -> bool {
        self.seen
            .values()
            .any(|s| s.abort.as_ref().is_some_and(|a| !a.told))
    }

    /// Before stopping: tell what still waits for its attribution, with what `view` knows.
    pub fn flush(&mut self, view: &RolloutView, now_secs: f64) -> Vec<Notice> {
        let mut notices = Vec::new();
        if self.seen.contains_key(&view.reference) {
            self.follow_abort(view, false, now_secs, true, &mut notices);
        }
        notices.retain(|n| self.sent.insert(n.key.clone()));
        notices
    }

    /// Time passed without a new view: the rollbacks that are now stuck.
    pub fn tick(&mut self, views: &[&RolloutView], now_secs: f64) -> Vec<Notice> {
        let mut notices = Vec::new();
        for view in views {
            if self.seen.contains_key(&view.reference) {
                self.follow_abort(view, false, now_secs, false, &mut notices);
            }
        }
        notices.retain(|n| self.sent.insert(n.key.clone()));
        notices
    }

    fn follow_abort(
        &mut self,
        view: &RolloutView,
        first_sight: bool,
        now_secs: f64,
        force_tell: bool,
        notices: &mut Vec<Notice>,
    ) {
        let Some(seen) = self.seen.get_mut(&view.reference) else {
            return;
        };
        if !view.aborted {
            seen.abort = None;
            return;
        }
        let aborted_secs = view
            .aborted_at
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond() as f64 / 1000.0);
        // A new abort: none followed, or (retried and aborted again between two views) the
        // controller's abortedAt changed. The first view of an abort may not carry abortedAt.
        let new = match &seen.abort {
            None => true,
            Some(a) => {
                a.aborted_at.is_some()
                    && view.aborted_at.is_some()
                    && a.aborted_at != view.aborted_at
            }
        };
        if new {
            seen.aborts += 1;
            seen.abort = Some(Abort {
                key: format!(
                    "abort:{}:{}",
                    view.current_hash.as_deref().unwrap_or("?"),
                    seen.aborts
                ),
                aborted_at: view.aborted_at.clone(),
                aborted_secs: aborted_secs.unwrap_or(now_secs),
                seen_secs: now_secs,
                told: first_sight,
                complete: false,
                stuck: false,
            });
        }
        let Some(abort) = seen.abort.as_mut() else {
            return;
        };
        if abort.aborted_at.is_none()
            && let Some(secs) = aborted_secs
        {
            abort.aborted_at = view.aborted_at.clone();
            abort.aborted_secs = secs;
        }
        if !abort.told {
            let by = aborted_by(view);
            if by.is_none() && !force_tell && now_secs - abort.seen_secs < ATTRIBUTION_WAIT_SECS {
                // The door writes who aborted just after the abort: wait for it.
                return;
            }
            abort.told = true;
            let by = by.map_or_else(
                || "by the controller".to_string(),
                |who| format!("by {who}"),
            );
            // Until the controller has reacted, its message is the old one.
            let message = view.message.trim();
            let body = if message.starts_with("RolloutAborted") {
                format!("aborted {by}: {message}")
            } else {
                format!("aborted {by}: traffic goes back to stable")
            };
            notices.push(notice(
                NoticeKind::Aborted,
                view,
                format!("{} was aborted", view.reference.name),
                body,
                abort.key.clone(),
            ));
        }
        if abort.complete {
            return;
        }
        let elapsed = (now_secs - abort.aborted_secs).max(0.0);
        let reading = RollbackReading::of_view(view);
        let timed_out = elapsed >= STUCK_AFTER_SECS;
        let Some(done) = outcome(&reading, Duration::from_secs_f64(elapsed), timed_out) else {
            return;
        };
        if done.complete {
            abort.complete = true;
            // Already rolled back when first seen: nothing happened while we watched.
            if !first_sight {
                notices.push(notice(
                    NoticeKind::RollbackComplete,
                    view,
                    format!("{} is rolled back", view.reference.name),
                    done.message,
                    format!("{}:complete", abort.key),
                ));
            }
        } else if !abort.stuck {
            abort.stuck = true;
            notices.push(notice(
                NoticeKind::RollbackStuck,
                view,
                format!("{}'s rollback is stuck", view.reference.name),
                done.message,
                format!("{}:stuck", abort.key),
            ));
        }
    }
}

/// What makes a wait this wait: where it waits (step, revision) and since when.
fn waiting_key(view: &RolloutView) -> String {
    format!(
        "wait:{}:{}:{}",
        view.step_label(),
        view.current_hash.as_deref().unwrap_or("?"),
        view.since.as_deref().unwrap_or("?")
    )
}

fn notice(
    kind: NoticeKind,
    view: &RolloutView,
    title: String,
    body: String,
    key: String,
) -> Notice {
    let r = &view.reference;
    Notice {
        kind,
        rollout: r.clone(),
        title,
        body: format!("{} {r}: {body}", r.context),
        key: format!("{}/{}/{}/{key}", r.context, r.namespace, r.name),
    }
}

#[cfg(test)]
#[path = "transitions_tests.rs"]
mod tests;
