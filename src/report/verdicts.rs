//! The judge's verdicts over a report's span: at regular times, each version labelled with the
//! role it played then (so the judge compares that time's canary with that time's stable, as
//! the window and `auto` did), the same judge and policy as `analyze`.

use super::ReportVerdict;
use super::roles::role_at;
use crate::analysis::{self, Policy};
use crate::model::{BucketSeries, MetricsSnapshot, NamedSeries, Version, VersionSeries};

/// What the verdict says when only one version took part at that time.
pub const NOTHING_TO_COMPARE: &str = "one version — nothing to compare";

/// Verdicts every `every_secs` from `from_secs` (exclusive) to `to_secs` (inclusive), and just
/// before every role change (what the judge said when a version was promoted or dropped),
/// over the snapshot's series, latency buckets and custom metrics judged by `policy` with
/// its `roles`; runs of "nothing to compare" are said once.
pub fn over_time(
    metrics: &MetricsSnapshot,
    policy: &Policy,
    from_secs: f64,
    to_secs: f64,
    every_secs: f64,
) -> Vec<ReportVerdict> {
    let roles = metrics.roles.as_slice();
    let mut out: Vec<ReportVerdict> = Vec::new();
    if every_secs.is_nan() || every_secs <= 0.0 || to_secs <= from_secs {
        return out;
    }
    let mut t = to_secs;
    let mut times = Vec::new();
    while t > from_secs {
        times.push(t);
        t -= every_secs;
    }
    // A millisecond before the change: the roles as they were when someone acted.
    times.extend(
        roles
            .iter()
            .flat_map(|r| r.changes.iter().skip(1))
            .map(|c| c.since_secs - 0.001)
            .filter(|t| *t > from_secs && *t <= to_secs),
    );
    times.sort_by(f64::total_cmp);
    times.dedup();
    for t in times {
        let in_window = |t_secs: f64| t_secs > t - policy.window_secs && t_secs <= t;
        let window_of = |points: &[crate::model::Point]| -> Vec<crate::model::Point> {
            points
                .iter()
                .filter(|p| in_window(p.t_secs))
                .copied()
                .collect()
        };
        // Each version as the role it played at `t`; none if it played none then.
        let then = |v: &Version| {
            let role = role_at(roles.iter().find(|r| r.hash == v.hash)?, t)?;
            Some(Version::new(role, &v.hash))
        };
        let at_t: Vec<VersionSeries> = metrics
            .series
            .iter()
            .filter_map(|s| {
                Some(VersionSeries {
                    version: then(&s.version)?,
                    signal: s.signal,
                    points: window_of(&s.points),
                })
            })
            .collect();
        let custom: Vec<NamedSeries> = metrics
            .custom
            .iter()
            .filter_map(|s| {
                Some(NamedSeries {
                    name: s.name.clone(),
                    version: then(&s.version)?,
                    points: window_of(&s.points),
                })
            })
            .collect();
        let latency_buckets: Vec<BucketSeries> = metrics
            .latency_buckets
            .iter()
            .filter_map(|s| {
                Some(BucketSeries {
                    version: then(&s.version)?,
                    points: s
                        .points
                        .iter()
                        .filter(|p| in_window(p.t_secs))
                        .cloned()
                        .collect(),
                })
            })
            .collect();
        let comparing = at_t.iter().any(|s| {
            matches!(
                s.version.role,
                crate::model::VersionRole::Canary | crate::model::VersionRole::Preview
            )
        });
        let verdict = if comparing {
            let snapshot = MetricsSnapshot {
                quantiles: Vec::new(),
                sample_window_secs: metrics.sample_window_secs,
                rollout: metrics.rollout.clone(),
                source: metrics.source.clone(),
                series: at_t,
                stale_since_secs: None,
                error: None,
                roles: Vec::new(),
                latency_buckets,
                custom,
            };
            let v = analysis::judge_snapshot(&snapshot, &[], policy);
            ReportVerdict {
                time_secs: t,
                verdict: v.kind.as_str().to_string(),
                score: v.score,
                reasons: v.reasons,
            }
        } else {
            ReportVerdict {
                time_secs: t,
                verdict: NOTHING_TO_COMPARE.to_string(),
                score: 0.0,
                reasons: Vec::new(),
            }
        };
        let repeat = out.last().is_some_and(|last| {
            last.verdict == NOTHING_TO_COMPARE && verdict.verdict == last.verdict
        });
        if !repeat {
            out.push(verdict);
        }
    }
    out
}
