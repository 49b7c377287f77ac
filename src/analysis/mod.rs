//! The canary judge: compares canary with stable (preview with active) per metric and gives a
//! verdict — Pass, Marginal, Fail or NoData, a score 0–100 and the reasons in words. Pure code:
//! the caller fetches the series (metrics layer) and acts on the verdict (orchestrator, `auto`).

pub mod auto;
pub mod eval_summary;
pub mod evaluate;
pub mod histogram;
pub mod judge;
pub mod lab_eval;
pub mod latency;
pub mod overlap;
pub mod policy;
pub mod proportions;
pub mod rules;
pub mod stats;
pub mod verdict;
pub mod weigh;
pub mod words;

pub use judge::classify;
pub use policy::{
    Aggregate, CustomQuery, Direction, ERROR_RATE, MetricSpec, P95_MS, Policy, PolicyError,
    SuccessRate, Unit,
};
pub use rules::{Rule, RuleHit};
pub use stats::{MannWhitney, Shift};
pub use verdict::{
    Classification, Comparison, ComparisonTest, ErrorCounts, JudgeKind, MetricResult, MetricStatus,
    Verdict, VerdictKind,
};

use crate::model::{
    BucketPoint, BucketSeries, MetricsSnapshot, Point, Signal, VersionRole, VersionSeries,
};
use serde::{Deserialize, Serialize};

/// One metric's samples for the canary (or preview) and for stable (or active), at a regular
/// step; `value: None` is a gap. The metric's direction, group and rules come from the policy
/// by `name` (`error_rate`, `p95_ms`, or an extra metric's name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    pub name: String,
    pub canary: Vec<Point>,
    pub baseline: Vec<Point>,
    /// Requests per second of each side, matched to the samples by timestamp; empty when the
    /// source does not give them (then every sample weighs alike).
    #[serde(default)]
    pub canary_requests: Vec<Point>,
    #[serde(default)]
    pub baseline_requests: Vec<Point>,
    /// Histogram buckets per interval of each side (latency, for `p95_ms`); when both sides
    /// have them the statistical judge pools them instead of comparing the samples.
    #[serde(default)]
    pub canary_buckets: Vec<BucketPoint>,
    #[serde(default)]
    pub baseline_buckets: Vec<BucketPoint>,
    /// The span each sample's rate covers (the source's rate window), when longer than the
    /// step: samples closer than that share requests, so the sample-based test (Mann–Whitney)
    /// counts one per span. Counted comparisons (errors out of requests, pooled buckets) are
    /// not affected: overlapping rates times the step still add up to the requests.
    #[serde(default)]
    pub sample_span_secs: Option<f64>,
}

impl MetricSeries {
    /// Whether both sides carry requests per second.
    pub fn weighted(&self) -> bool {
        !self.canary_requests.is_empty() && !self.baseline_requests.is_empty()
    }
}

/// An extra metric's series for one version, keyed by the metric's name in the policy.
pub use crate::model::NamedSeries;

/// Whether a role is the version under test (canary, preview) or the reference (stable,
/// active).
fn is_new(role: VersionRole) -> bool {
    matches!(role, VersionRole::Canary | VersionRole::Preview)
}

/// Pairs up per-version series into per-metric canary/stable series: error rate and p95 from
/// the metrics layer's [`VersionSeries`] (traffic share is not judged), weighed by the
/// versions' requests per second when present, plus extra metrics.
/// A metric with no canary or no stable series gets an empty side (→ NoData).
pub fn metric_series(series: &[VersionSeries], extra: &[NamedSeries]) -> Vec<MetricSeries> {
    let mut out: Vec<MetricSeries> = Vec::new();
    let mut slot = |name: &str, role: VersionRole, points: &[Point]| {
        // A version that plays no part now (a previous stable) is on the charts, not judged.
        if !role.is_current() {
            return;
        }
        let index = match out.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                out.push(MetricSeries {
                    name: name.to_string(),
                    ..MetricSeries::default()
                });
                out.len() - 1
            }
        };
        let side = if is_new(role) {
            &mut out[index].canary
        } else {
            &mut out[index].baseline
        };
        side.extend_from_slice(points);
    };
    for s in series {
        let name = match s.signal {
            Signal::ErrorRate => ERROR_RATE,
            Signal::P95Ms => P95_MS,
            Signal::TrafficShare | Signal::RequestRate => continue,
        };
        slot(name, s.version.role, &s.points);
    }
    for s in extra {
        slot(&s.name, s.version.role, &s.points);
    }
    for s in series
        .iter()
        .filter(|s| s.signal == Signal::RequestRate && s.version.role.is_current())
    {
        for m in out
            .iter_mut()
            .filter(|m| m.name == ERROR_RATE || m.name == P95_MS)
        {
            let side = if is_new(s.version.role) {
                &mut m.canary_requests
            } else {
                &mut m.baseline_requests
            };
            side.extend_from_slice(&s.points);
        }
    }
    let by_time = |points: &mut Vec<Point>| points.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
    for m in &mut out {
        by_time(&mut m.canary);
        by_time(&mut m.baseline);
        by_time(&mut m.canary_requests);
        by_time(&mut m.baseline_requests);
    }
    out
}

/// Adds per-version latency buckets to the `p95_ms` series (made if missing): the canary's
/// (or preview's) to its canary side, stable's (or active's) to its baseline, by time.
pub fn with_latency_buckets(metrics: &mut Vec<MetricSeries>, buckets: &[BucketSeries]) {
    if buckets.is_empty() {
        return;
    }
    let index = match metrics.iter().position(|m| m.name == P95_MS) {
        Some(i) => i,
        None => {
            metrics.push(MetricSeries {
                name: P95_MS.into(),
                ..MetricSeries::default()
            });
            metrics.len() - 1
        }
    };
    let m = &mut metrics[index];
    for s in buckets {
        let side = if is_new(s.version.role) {
            &mut m.canary_buckets
        } else {
            &mut m.baseline_buckets
        };
        side.extend(s.points.iter().cloned());
    }
    m.canary_buckets
        .sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
    m.baseline_buckets
        .sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
}

/// The statistical judge: threshold rules held over time plus Mann–Whitney per metric, over
/// the policy's window ending at the newest sample. Every metric named in the policy is
/// judged (missing → NoData), and so is any extra metric in `metrics`.
pub fn judge(metrics: &[MetricSeries], policy: &Policy) -> Verdict {
    run(metrics, policy, JudgeKind::Statistical)
}

/// The naive judge, for comparison: any single canary sample over a threshold (the same
/// limits as the policy's rules, without smoothing or durations) fails.
pub fn judge_naive(metrics: &[MetricSeries], policy: &Policy) -> Verdict {
    run(metrics, policy, JudgeKind::Naive)
}

/// `MetricsSnapshot::source` of a direct `/metrics` scrape, which runs no PromQL.
pub const SCRAPE_SOURCE: &str = "scrape";

/// Judges what the metrics layer holds for one rollout: the built-in signals and the
/// policy's custom metrics the snapshot carries (`snapshot.custom`), plus `extra`. While the
/// source is failing (`stale_since_secs` set) the verdict is NoData: `auto` must not act on
/// old samples. The per-metric results are kept so the window can still show them. A note
/// the source left without being stale (a direct scrape cannot run custom queries) is the
/// first reason.
pub fn judge_snapshot(
    snapshot: &MetricsSnapshot,
    extra: &[NamedSeries],
    policy: &Policy,
) -> Verdict {
    let named: Vec<NamedSeries> = snapshot.custom.iter().chain(extra).cloned().collect();
    let mut metrics = metric_series(&snapshot.series, &named);
    for m in &mut metrics {
        m.sample_span_secs = snapshot.sample_window_secs;
    }
    with_latency_buckets(&mut metrics, &snapshot.latency_buckets);
    // A direct scrape (source kind `scrape`) cannot run the custom metrics' PromQL: they are
    // left out of its verdict (its note says so) rather than counted as missing data, so the
    // built-in signals still decide.
    let verdict_policy;
    let policy = if snapshot.source == SCRAPE_SOURCE {
        let mut without = policy.clone();
        without.metrics.retain(|_, spec| spec.query.is_none());
        verdict_policy = without;
        &verdict_policy
    } else {
        policy
    };
    let mut verdict = judge(&metrics, policy);
    if snapshot.stale_since_secs.is_none()
        && let Some(note) = &snapshot.error
    {
        verdict
            .reasons
            .insert(0, format!("metrics from {}: {note}", snapshot.source));
    }
    if snapshot.stale_since_secs.is_some() {
        let why = match &snapshot.error {
            Some(error) => format!("metrics from {} are stale: {error}", snapshot.source),
            None => format!("metrics from {} are stale", snapshot.source),
        };
        verdict.kind = VerdictKind::NoData;
        verdict.score = 0.0;
        verdict.reasons.insert(0, why);
    }
    verdict
}

fn run(metrics: &[MetricSeries], policy: &Policy, kind: JudgeKind) -> Verdict {
    let newest = metrics
        .iter()
        .flat_map(|m| {
            let buckets = m.canary_buckets.iter().chain(&m.baseline_buckets);
            (m.canary.iter().chain(&m.baseline).map(|p| p.t_secs)).chain(buckets.map(|b| b.t_secs))
        })
        .fold(None, |acc: Option<f64>, t| {
            Some(acc.map_or(t, |a| a.max(t)))
        });
    let window = newest.map(|end| (end - policy.window_secs, end));
    let in_window = |points: &[Point]| -> Vec<Point> {
        match window {
            Some((from, to)) => {
                let mut kept: Vec<Point> = points
                    .iter()
                    .filter(|p| p.t_secs > from && p.t_secs <= to)
                    .copied()
                    .collect();
                kept.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
                kept
            }
            None => Vec::new(),
        }
    };
    let windowed: Vec<MetricSeries> = metrics
        .iter()
        .map(|m| MetricSeries {
            name: m.name.clone(),
            canary: in_window(&m.canary),
            baseline: in_window(&m.baseline),
            canary_requests: in_window(&m.canary_requests),
            baseline_requests: in_window(&m.baseline_requests),
            canary_buckets: buckets_in_window(&m.canary_buckets, window),
            baseline_buckets: buckets_in_window(&m.baseline_buckets, window),
            sample_span_secs: m.sample_span_secs,
        })
        .collect();

    let mut names: Vec<&str> = policy.metrics.keys().map(String::as_str).collect();
    for m in &windowed {
        if !names.contains(&m.name.as_str()) {
            names.push(&m.name);
        }
    }
    let results = names
        .iter()
        .map(|name| {
            let series = windowed.iter().find(|m| m.name == *name);
            judge::judge_metric(name, series, policy, kind)
        })
        .collect();
    judge::verdict(results, policy, kind, window)
}

/// The bucket points inside `(from, to]`, by time.
fn buckets_in_window(points: &[BucketPoint], window: Option<(f64, f64)>) -> Vec<BucketPoint> {
    let Some((from, to)) = window else {
        return Vec::new();
    };
    let mut kept: Vec<BucketPoint> = points
        .iter()
        .filter(|p| p.t_secs > from && p.t_secs <= to)
        .cloned()
        .collect();
    kept.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
    kept
}

#[cfg(test)]
mod tests;
