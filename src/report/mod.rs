//! The release report for a post-deployment review, as `release-cockpit report` writes it and
//! the window exports it: every version with its roles over time, the steps, every action and
//! the controller's Events, the verdicts over time, the rollback's outcome and the series.
//! One builder ([`Report`]) and one set of renderers (Markdown with SVG charts, CSV, JSON).

pub mod render;
pub mod roles;
pub mod svg;
pub mod verdicts;

use crate::model::{
    MetricsSnapshot, NamedSeries, RoleChange, RolloutRef, RolloutView, VersionRole, VersionRoles,
    VersionSeries,
};
use serde::Serialize;

/// Everything the review reads, plain data; rendered by [`render`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub rollout: RolloutRef,
    /// When it was made, UTC RFC 3339.
    pub generated_at: String,
    /// The span its series and verdicts cover (unix seconds), when there are any.
    pub from_secs: Option<f64>,
    pub to_secs: f64,
    pub phase: String,
    pub message: String,
    pub strategy: String,
    pub revision: Option<String>,
    pub images: Vec<String>,
    pub set_weight: i32,
    pub actual_weight: i32,
    pub versions: Vec<ReportVersion>,
    pub steps: Vec<ReportStep>,
    /// The cockpit's own audit entries (people, `auto`), oldest first.
    pub actions: Vec<ReportAction>,
    /// The controller's (and other components') Events, oldest first; `None` when they could
    /// not be read (then the report says why in `notes`).
    pub controller_events: Option<Vec<ReportEvent>>,
    pub verdicts: Vec<ReportVerdict>,
    /// The rollback's outcome in words ("rollback complete in 12 s"), if there was an abort.
    pub rollback: Option<String>,
    /// Where the series come from (`prometheus`, `scrape`), or `none`.
    pub metrics_source: String,
    pub series: Vec<VersionSeries>,
    /// The template's extra latency quantiles per version (`p99`, ms).
    pub quantiles: Vec<NamedSeries>,
    /// The policy's custom metrics per version, by name.
    pub custom: Vec<NamedSeries>,
    /// What the reader should know about gaps in the report (a source that failed, …).
    pub notes: Vec<String>,
}

/// One version seen, and the parts it played over time.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportVersion {
    pub hash: String,
    /// Its part at the end of the report (`stable`, `canary`, `previous stable`, …).
    pub role: VersionRole,
    /// "canary → stable", in order.
    pub history: String,
    pub changes: Vec<RoleChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportStep {
    pub index: usize,
    pub step: String,
    /// `done`, `current` or empty.
    pub state: String,
}

/// One command sent through the orchestration API: who, when, with which tool, why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportAction {
    pub time_secs: f64,
    pub who: String,
    /// `the window`, `the CLI` or `auto`.
    pub tool: String,
    pub verb: String,
    pub detail: String,
    pub comment: Option<String>,
}

/// One Event another component recorded about the rollout, its ReplicaSets or AnalysisRuns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportEvent {
    pub time_secs: f64,
    pub source: String,
    pub reason: String,
    pub message: String,
    pub warning: bool,
}

/// The judge's verdict at one time.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportVerdict {
    pub time_secs: f64,
    /// `pass`, `marginal`, `fail`, `no data`, or `one version — nothing to compare`.
    pub verdict: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

impl Report {
    /// The report of `view` at `now_secs`, with its steps; the rest is added by the caller
    /// with [`Report::with_metrics`] and the public fields.
    pub fn new(view: &RolloutView, now_secs: f64) -> Report {
        let current = view.current_step.unwrap_or(0).max(0) as usize;
        Report {
            rollout: view.reference.clone(),
            generated_at: utc(now_secs),
            from_secs: None,
            to_secs: now_secs,
            phase: view.phase.as_str().to_string(),
            message: view.message.clone(),
            strategy: view.strategy.as_str().to_string(),
            revision: view.revision.clone(),
            images: view.images.clone(),
            set_weight: view.set_weight,
            actual_weight: view.actual_weight,
            versions: view
                .versions()
                .into_iter()
                .map(|v| ReportVersion {
                    hash: v.hash,
                    role: v.role,
                    history: v.role.as_str().to_string(),
                    changes: Vec::new(),
                })
                .collect(),
            steps: view
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| ReportStep {
                    index: i,
                    step: step.to_string(),
                    state: match (i.cmp(&current), view.current_step.is_some()) {
                        (_, false) => String::new(),
                        (std::cmp::Ordering::Less, _) => "done".into(),
                        (std::cmp::Ordering::Equal, _) => "current".into(),
                        (std::cmp::Ordering::Greater, _) => String::new(),
                    },
                })
                .collect(),
            actions: Vec::new(),
            controller_events: None,
            verdicts: Vec::new(),
            rollback: None,
            metrics_source: "none".into(),
            series: Vec::new(),
            quantiles: Vec::new(),
            custom: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Takes the series, the versions and their role timelines from a metrics snapshot (the
    /// window's store, or what the CLI read from Prometheus); versions with no series keep
    /// their place from the rollout.
    pub fn with_metrics(mut self, snapshot: &MetricsSnapshot) -> Report {
        self.metrics_source = snapshot.source.clone();
        if let Some(error) = &snapshot.error {
            self.notes.push(format!("metrics: {error}"));
        }
        self.series = snapshot.series.clone();
        self.quantiles = snapshot.quantiles.clone();
        self.custom = snapshot.custom.clone();
        self.from_secs = snapshot
            .series
            .iter()
            .filter_map(|s| s.points.first().map(|p| p.t_secs))
            .min_by(f64::total_cmp);
        let mut versions: Vec<ReportVersion> = Vec::new();
        for s in &snapshot.series {
            if versions.iter().any(|v| v.hash == s.version.hash) {
                continue;
            }
            let timeline = snapshot.roles.iter().find(|r| r.hash == s.version.hash);
            versions.push(version_of(&s.version.hash, s.version.role, timeline));
        }
        for v in &self.versions {
            if !versions.iter().any(|k| k.hash == v.hash) {
                versions.push(v.clone());
            }
        }
        self.versions = versions;
        self
    }

    /// Adds actions and Events, each list sorted oldest first.
    pub fn with_activity(mut self, actions: Vec<ReportAction>, events: Vec<ReportEvent>) -> Report {
        self.actions = actions;
        self.actions
            .sort_by(|a, b| a.time_secs.total_cmp(&b.time_secs));
        let mut events = events;
        events.sort_by(|a, b| a.time_secs.total_cmp(&b.time_secs));
        self.controller_events = Some(events);
        self
    }
}

fn version_of(hash: &str, role: VersionRole, timeline: Option<&VersionRoles>) -> ReportVersion {
    match timeline {
        Some(t) => ReportVersion {
            hash: hash.to_string(),
            role: t.label().unwrap_or(role),
            history: t.history_text(),
            changes: t.changes.clone(),
        },
        None => ReportVersion {
            hash: hash.to_string(),
            role,
            history: role.as_str().to_string(),
            changes: Vec::new(),
        },
    }
}

/// The tool as the activity and the review say it: the window, the CLI, or `auto`.
pub fn tool_name(tool: crate::model::Tool) -> &'static str {
    match tool {
        crate::model::Tool::Gui => "the window",
        crate::model::Tool::Cli => "the CLI",
        crate::model::Tool::Auto => "auto",
    }
}

/// Unix seconds as UTC RFC 3339, so the report means the same everywhere.
pub fn utc(t_secs: f64) -> String {
    jiff::Timestamp::from_millisecond((t_secs * 1000.0).round() as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// An orchestrator activity entry as the report says it: an action of ours, or an Event.
pub fn split_activity(
    entries: &[crate::orchestrator::ActivityEntry],
) -> (Vec<ReportAction>, Vec<ReportEvent>) {
    let mut actions = Vec::new();
    let mut events = Vec::new();
    for e in entries {
        let time_secs = e.time.map_or(0.0, |t| t.as_millisecond() as f64 / 1000.0);
        match (&e.action, e.ours) {
            (Some(a), true) => {
                let steps = match (a.from_step, a.to_step) {
                    (Some(from), Some(to)) if from != to => format!("step {from} → {to}"),
                    (_, Some(to)) => format!("step {to}"),
                    _ => String::new(),
                };
                let weight = a
                    .weight
                    .map(|w| format!(" (weight {w}%)"))
                    .unwrap_or_default();
                actions.push(ReportAction {
                    time_secs,
                    who: a.user.clone(),
                    tool: tool_name(a.tool).to_string(),
                    verb: a.verb.as_str().to_string(),
                    detail: format!("{steps}{weight}").trim().to_string(),
                    comment: a.comment.clone(),
                });
            }
            _ => events.push(ReportEvent {
                time_secs,
                source: e.source.clone(),
                reason: e.reason.clone(),
                message: match &e.object {
                    Some(object) => format!("{object}: {}", e.message),
                    None => e.message.clone(),
                },
                warning: e.warning,
            }),
        }
    }
    (actions, events)
}

#[cfg(test)]
mod tests;
