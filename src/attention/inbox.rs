//! The inbox: every rollout that needs a person, most urgent first, each with its reasons in
//! words. Pure: the window and `release-cockpit inbox` hand it the rollouts they see and the
//! evidence they have (verdicts, metrics staleness) and draw or print what it returns.

use crate::analysis::VerdictKind;
use crate::model::{Phase, RolloutRef, RolloutView, StrategyKind, Verb};
use crate::orchestrator::LastAction;
use serde::Serialize;

/// Why a rollout needs a person, most urgent first (the derived order is the urgency).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeedKind {
    /// The judge fails the new version while it still takes traffic.
    FailingVerdict,
    /// The update was aborted: traffic is back on stable, someone must retry or fix it.
    Aborted,
    /// The rollout is Degraded (not aborted): the controller gave up on it.
    Degraded,
    /// Paused at a gate (a pause step, a blue-green promotion, a manual pause).
    WaitingForApproval,
    /// A pipeline's `auto` left the decision to a person.
    AutoWaiting,
    /// The metrics stopped coming while an update is under way: nobody can judge it.
    MetricsStale,
}

impl NeedKind {
    /// The short words of the kind, as the inbox's Reason column and `-o json` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            NeedKind::FailingVerdict => "failing verdict",
            NeedKind::Aborted => "aborted",
            NeedKind::Degraded => "degraded",
            NeedKind::WaitingForApproval => "waiting for approval",
            NeedKind::AutoWaiting => "auto waiting",
            NeedKind::MetricsStale => "metrics stale",
        }
    }
}

/// One reason, in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Need {
    pub kind: NeedKind,
    pub text: String,
}

/// One rollout that needs a person.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxRow {
    #[serde(flatten)]
    pub rollout: RolloutRef,
    /// The most urgent reason's kind (the row's place in the inbox).
    pub kind: NeedKind,
    /// Every reason, most urgent first; the first is the row's.
    pub needs: Vec<Need>,
    /// Since when (unix seconds) it has needed someone, when known: the pause's start,
    /// the abort, the metrics' last sample.
    pub since_secs: Option<f64>,
}

impl InboxRow {
    /// The row's reason in words: every need, most urgent first.
    pub fn text(&self) -> String {
        self.needs
            .iter()
            .map(|n| n.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// How long it has needed someone at `now_secs`, when known.
    pub fn waiting_secs(&self, now_secs: f64) -> Option<f64> {
        self.since_secs.map(|s| (now_secs - s).max(0.0))
    }
}

/// The judge's answer on one rollout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    pub kind: VerdictKind,
    pub score: f64,
}

impl Judgement {
    /// From the words the window keeps (`pass`, `marginal`, `fail`, `no data`).
    pub fn from_words(verdict: &str, score: f64) -> Option<Judgement> {
        let kind = [
            VerdictKind::Pass,
            VerdictKind::Marginal,
            VerdictKind::Fail,
            VerdictKind::NoData,
        ]
        .into_iter()
        .find(|k| k.as_str() == verdict)?;
        Some(Judgement { kind, score })
    }
}

/// What the caller knows beyond the rollouts: the judge's verdicts and since when each
/// rollout's metrics have been stale (unix seconds). Unknown is `None`, never a guess.
pub struct Evidence<'a> {
    pub verdict: &'a dyn Fn(&RolloutRef) -> Option<Judgement>,
    pub metrics_stale_since: &'a dyn Fn(&RolloutRef) -> Option<f64>,
}

impl Evidence<'static> {
    /// No verdicts and no metrics: what the rollouts alone say.
    pub fn rollouts_only() -> Evidence<'static> {
        Evidence {
            verdict: &|_| None,
            metrics_stale_since: &|_| None,
        }
    }
}

/// The rollouts among `rollouts` that need a person, most urgent first; within one kind,
/// the longest waiting first, then by context, namespace and name.
pub fn inbox<'a>(
    rollouts: impl IntoIterator<Item = &'a RolloutView>,
    evidence: &Evidence<'_>,
) -> Vec<InboxRow> {
    let mut rows: Vec<InboxRow> = rollouts
        .into_iter()
        .filter_map(|v| row_of(v, evidence))
        .collect();
    rows.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| {
                let (a, b) = (a.since_secs, b.since_secs);
                // Known times first, oldest first.
                match (a, b) {
                    (Some(a), Some(b)) => a.total_cmp(&b),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            })
            .then_with(|| a.rollout.cmp(&b.rollout))
    });
    rows
}

fn row_of(view: &RolloutView, evidence: &Evidence<'_>) -> Option<InboxRow> {
    let r = &view.reference;
    let mut needs = Vec::new();
    let mut since = None;
    let verdict = (evidence.verdict)(r);
    if let Some(j) = verdict.filter(|j| j.kind == VerdictKind::Fail)
        && takes_traffic(view)
    {
        needs.push(Need {
            kind: NeedKind::FailingVerdict,
            text: failing_text(view, j.score),
        });
    }
    if view.aborted {
        since = since.or(view.aborted_at.as_deref().and_then(unix_secs));
        needs.push(Need {
            kind: NeedKind::Aborted,
            text: aborted_text(view),
        });
    } else if view.phase == Phase::Degraded {
        needs.push(Need {
            kind: NeedKind::Degraded,
            text: format!("degraded: {}", view.message),
        });
    }
    if view.waiting_for_human() {
        since = since.or(view.since.as_deref().and_then(unix_secs));
        needs.push(Need {
            kind: NeedKind::WaitingForApproval,
            text: waiting_text(view, verdict),
        });
    }
    if let Some(line) = auto_waiting(view) {
        needs.push(Need {
            kind: NeedKind::AutoWaiting,
            text: line,
        });
    }
    if view.in_progress()
        && !view.aborted
        && let Some(stale) = (evidence.metrics_stale_since)(r)
    {
        since = since.or(Some(stale));
        needs.push(Need {
            kind: NeedKind::MetricsStale,
            text: "metrics stale during the rollout: nobody can judge the new version".into(),
        });
    }
    let kind = needs.first()?.kind;
    Some(InboxRow {
        rollout: r.clone(),
        kind,
        needs,
        since_secs: since,
    })
}

/// The new version takes live traffic: a canary with weight, a blue-green preview not yet
/// promoted (it takes the preview's traffic, and is one click from all of it).
fn takes_traffic(view: &RolloutView) -> bool {
    if view.aborted || !view.in_progress() {
        return false;
    }
    match view.strategy {
        StrategyKind::Canary => view.actual_weight > 0,
        _ => true,
    }
}

fn failing_text(view: &RolloutView, score: f64) -> String {
    match view.strategy {
        StrategyKind::BlueGreen => {
            format!("failing verdict (score {score:.0}) on the preview, not yet rolled back")
        }
        _ => format!(
            "failing verdict (score {score:.0}) while the canary takes {}% of traffic",
            view.actual_weight
        ),
    }
}

/// "aborted by alice (window): canary error rate 8%", or the controller's message.
fn aborted_text(view: &RolloutView) -> String {
    let by = aborted_by(view);
    let message = view.message.trim();
    match (by, message.is_empty()) {
        (Some(by), true) => format!("aborted by {by}: retry or fix it"),
        (Some(by), false) => format!("aborted by {by}: {message}"),
        (None, true) => "aborted: retry or fix it".into(),
        (None, false) => format!("aborted: {message}"),
    }
}

/// Who aborted, from the last-action annotation when its last action was this abort (an
/// abort recorded more than two minutes before `status.abortedAt` was an earlier one).
pub fn aborted_by(view: &RolloutView) -> Option<String> {
    let action: LastAction = serde_json::from_str(view.last_action.as_deref()?).ok()?;
    let aborted_at = view
        .aborted_at
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let earlier =
        aborted_at.is_some_and(|at| at.as_second() - action.time.as_second() > STALE_ACTION_SECS);
    if action.verb != Verb::Abort || earlier {
        return None;
    }
    let tool = serde_json::to_value(action.tool)
        .ok()
        .and_then(|t| t.as_str().map(str::to_string))
        .unwrap_or_default();
    Some(if tool.is_empty() {
        action.user
    } else {
        format!("{} ({tool})", action.user)
    })
}

/// How much older than the abort a recorded abort may be and still be this one.
const STALE_ACTION_SECS: i64 = 120;

fn waiting_text(view: &RolloutView, verdict: Option<Judgement>) -> String {
    let verdict = verdict
        .filter(|j| !matches!(j.kind, VerdictKind::Fail | VerdictKind::NoData))
        .map(|j| format!(" (verdict {}, score {:.0})", j.kind, j.score))
        .unwrap_or_default();
    if view.paused {
        return format!("paused by hand: Resume to continue{verdict}");
    }
    if view
        .pause_reasons
        .iter()
        .any(|r| r == "InconclusiveAnalysisRun")
    {
        return format!(
            "analysis inconclusive at step {}: approve or roll back{verdict}",
            view.step_label()
        );
    }
    match view.strategy {
        StrategyKind::BlueGreen => format!(
            "waiting for promotion: preview {}{verdict}",
            view.preview_hash.as_deref().unwrap_or("?")
        ),
        _ => format!(
            "waiting for approval at step {} ({}%){verdict}",
            view.step_label(),
            view.actual_weight
        ),
    }
}

/// `auto`'s status when it leaves the decision to a person, while the update is under way.
fn auto_waiting(view: &RolloutView) -> Option<String> {
    let status = view.auto_status.as_deref()?;
    let for_a_person =
        status.starts_with("waiting for approval") || status.starts_with("auto finished: gave up");
    (for_a_person && view.in_progress() && !view.aborted)
        .then(|| view.auto_status_line())
        .flatten()
}

fn unix_secs(rfc3339: &str) -> Option<f64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond() as f64 / 1000.0)
}

/// How many rows need someone per context, for the status bar.
pub fn count_by_context(rows: &[InboxRow]) -> std::collections::BTreeMap<&str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for row in rows {
        *counts.entry(row.rollout.context.as_str()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
