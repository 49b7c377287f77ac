//! The judge's verdicts over a report's span: at regular times, each version labelled with the
//! role it played then (so the judge compares that time's canary with that time's stable, as
//! the window and `auto` did), the same judge and policy as `analyze`.

use super::ReportVerdict;
use super::roles::role_at;
use crate::analysis::{self, Policy};
use crate::model::{MetricsSnapshot, Version, VersionRoles, VersionSeries};

/// What the verdict says when only one version took part at that time.
pub const NOTHING_TO_COMPARE: &str = "one version — nothing to compare";

/// Verdicts every `every_secs` from `from_secs` (exclusive) to `to_secs` (inclusive), and just
/// before every role change (what the judge said when a version was promoted or dropped),
/// over `series` judged by `policy`; runs of "nothing to compare" are said once.
pub fn over_time(
    series: &[VersionSeries],
    roles: &[VersionRoles],
    policy: &Policy,
    source: &str,
    from_secs: f64,
    to_secs: f64,
    every_secs: f64,
) -> Vec<ReportVerdict> {
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
        let at_t: Vec<VersionSeries> = series
            .iter()
            .filter_map(|s| {
                let role = role_at(roles.iter().find(|r| r.hash == s.version.hash)?, t)?;
                Some(VersionSeries {
                    version: Version::new(role, &s.version.hash),
                    signal: s.signal,
                    points: s
                        .points
                        .iter()
                        .filter(|p| p.t_secs > t - policy.window_secs && p.t_secs <= t)
                        .copied()
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
                rollout: crate::model::RolloutRef::new("", "", ""),
                source: source.to_string(),
                series: at_t,
                stale_since_secs: None,
                error: None,
                roles: Vec::new(),
                // The report reads series, not histogram buckets: latency is judged on its
                // p95 samples here (the verdict's reason says so).
                latency_buckets: Vec::new(),
                custom: Vec::new(),
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
