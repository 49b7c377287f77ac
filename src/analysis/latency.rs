//! The judge's path for a metric that comes with histogram buckets (p95 from a source that
//! gives latency buckets, or a custom histogram): pooled over the window and over the recent
//! look, the canary's share of requests slower than stable's pooled p95 (or the policy's
//! `slow_above`) against stable's share, and the threshold rules read on pooled quantiles.

use super::MetricSeries;
use super::histogram::{BucketTable, Pooled, bounds_of};
use super::judge::{classify_window, shift_class};
use super::policy::{MetricSpec, Policy};
use super::proportions::{self, Counts};
use super::rules::{self, Rule, RuleHit};
use super::stats;
use super::verdict::{
    Classification, Comparison, ComparisonTest, ErrorCounts, MetricResult, MetricStatus,
};
use super::words::{difference, display_name, duration, value};

/// The quantile the built-in latency metric is named for, and the one a custom histogram is
/// compared at: stable's share above its own p95 is 5 %.
pub const QUANTILE: f64 = 0.95;
/// The fewest pooled requests a side for a verdict: 5 expected slow requests at 5 %, the
/// usual condition for the two-proportion z-test's normal approximation. With 20 (the fewest
/// for a p95 at all) 2 healthy canaries in 200 at 3 req/s failed in their first minute on
/// about 20 requests (lab run of 2026-12-06).
pub const MIN_POOLED_REQUESTS: f64 = 100.0;
/// The smallest rise in the slow share worth a rollback whatever the tolerance: half the 5 %
/// expected. The test is repeated every judging interval for as long as the canary runs; with
/// 25 % of 5 % (1.25 pp) alone, 1 healthy canary in 200 at 3 req/s failed on it (lab run of
/// 2026-12-06), while a p95 twice stable's moves the share by about 12 pp.
const MIN_SLOW_SHARE_EFFECT: f64 = 0.025;

/// Both sides' bucket series on shared bounds; `None` unless both sides carry buckets.
pub fn tables(series: &MetricSeries) -> Option<(BucketTable, BucketTable)> {
    if series.canary_buckets.is_empty() || series.baseline_buckets.is_empty() {
        return None;
    }
    let bounds = bounds_of([&series.canary_buckets[..], &series.baseline_buckets[..]]);
    if bounds.is_empty() {
        return None;
    }
    Some((
        BucketTable::new(&series.canary_buckets, &bounds),
        BucketTable::new(&series.baseline_buckets, &bounds),
    ))
}

/// Compares the canary's share of requests slower than `slow_above` with stable's over the
/// intervals in `(after, end]`, pooled: a two-proportion test with Newcombe's interval, the
/// error counts' test, against max(tolerance × stable's share, 0.5 pp). NoData under
/// [`MIN_POOLED_REQUESTS`] a side.
pub fn classify_slow_share(
    (canary, baseline): (&BucketTable, &BucketTable),
    (after, end): (f64, f64),
    slow_above: f64,
    policy: &Policy,
) -> (Classification, Option<Comparison>) {
    let (c, intervals_c) = canary.pooled(after, end);
    let (b, intervals_b) = baseline.pooled(after, end);
    if c.requests < MIN_POOLED_REQUESTS || b.requests < MIN_POOLED_REQUESTS {
        return (Classification::NoData, None);
    }
    let slow = |p: &Pooled| Counts {
        requests: p.requests,
        errors: p.slower_than(slow_above),
    };
    let (slow_c, slow_b) = (slow(&c), slow(&b));
    let (Some(test), Some(base_share)) = (
        proportions::two_proportions(slow_c, slow_b, policy.confidence),
        slow_b.rate(),
    ) else {
        return (Classification::NoData, None);
    };
    let comparison = Comparison {
        canary_samples: intervals_c,
        baseline_samples: intervals_b,
        u: 0.0,
        z: test.z,
        p_value: test.p_value,
        shift: test.shift,
        tolerance_abs: (policy.tolerance * base_share).max(MIN_SLOW_SHARE_EFFECT),
        recent_secs: None,
        test: ComparisonTest::SlowShare,
        counts: Some(ErrorCounts {
            canary: slow_c,
            baseline: slow_b,
        }),
        slow_above: Some(slow_above),
    };
    (shift_class(&comparison, policy), Some(comparison))
}

/// Judges a higher-is-worse metric on its buckets, when both sides carry them: the slow-share
/// test over the window and the recent look, and the spec's rules on pooled quantiles.
/// `None` without buckets (the caller judges the samples).
pub(super) fn judge_pooled(
    name: &str,
    series: &MetricSeries,
    spec: &MetricSpec,
    policy: &Policy,
) -> Option<MetricResult> {
    let (canary, baseline) = tables(series)?;
    let end = canary
        .times()
        .iter()
        .chain(baseline.times())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (whole_c, _) = canary.pooled(f64::NEG_INFINITY, end);
    let (whole_b, _) = baseline.pooled(f64::NEG_INFINITY, end);
    let canary_p95 = whole_c.quantile(QUANTILE);
    let baseline_p95 = whole_b.quantile(QUANTILE);
    let slow_above = spec.slow_above.or(baseline_p95);
    let (classification, comparison) = match slow_above {
        Some(threshold) if whole_b.requests >= MIN_POOLED_REQUESTS => {
            classify_window(end, spec.direction, policy, |after, policy| {
                classify_slow_share((&canary, &baseline), (after, end), threshold, policy)
            })
        }
        _ => (Classification::NoData, None),
    };
    let rule_hits = pooled_rules(name, spec, (&canary, &baseline), policy);
    let status = if !rule_hits.is_empty() || classification == Classification::High {
        MetricStatus::Fail
    } else if classification == Classification::NoData {
        MetricStatus::NoData
    } else {
        MetricStatus::Pass
    };
    let mut result = MetricResult {
        name: name.to_string(),
        group: spec.group.clone(),
        critical: spec.critical,
        direction: spec.direction,
        unit: spec.unit,
        canary: canary_p95,
        baseline: baseline_p95,
        classification,
        comparison,
        rule_hits,
        status,
        summary: String::new(),
    };
    result.summary = summary(&result, policy, (whole_c.requests, whole_b.requests));
    Some(result)
}

/// The metric in one line, from the pooled numbers.
fn summary(m: &MetricResult, policy: &Policy, requests: (f64, f64)) -> String {
    let label = display_name(&m.name);
    if let Some(hit) = m.rule_hits.first() {
        return hit.message.clone();
    }
    let values = match (m.canary, m.baseline) {
        (Some(c), Some(b)) => format!(
            "{label} {} vs stable {} (pooled histograms)",
            value(m.unit, c),
            value(m.unit, b)
        ),
        _ => format!("{label}: no latency buckets with requests from both versions"),
    };
    match (m.status, m.comparison) {
        (MetricStatus::NoData, _) => format!(
            "{label}: too little traffic to judge yet — {:.0} canary and {:.0} stable requests \
             in the window (need {MIN_POOLED_REQUESTS:.0} a side)",
            requests.0, requests.1
        ),
        (_, Some(c)) => {
            let (slow_c, slow_b) = c.counts.map_or((0.0, 0.0), |n| {
                (
                    n.canary.rate().unwrap_or(0.0),
                    n.baseline.rate().unwrap_or(0.0),
                )
            });
            let threshold = c.slow_above.map_or(String::new(), |s| value(m.unit, s));
            let share = format!(
                "{} of canary requests slower than {threshold} vs {} of stable's",
                value(super::policy::Unit::Ratio, slow_c),
                value(super::policy::Unit::Ratio, slow_b),
            );
            let over = c.recent_secs.map_or(String::new(), |secs| {
                format!(" over the last {}", duration(secs))
            });
            match m.classification {
                Classification::High => format!(
                    "{values}: {share}{over} — {} ({:.0}% interval {} … {}, p = {:.4}), beyond \
                     the {} tolerance — fail",
                    difference(super::policy::Unit::Ratio, c.shift.estimate),
                    policy.confidence * 100.0,
                    difference(super::policy::Unit::Ratio, c.shift.lower),
                    difference(super::policy::Unit::Ratio, c.shift.upper),
                    c.p_value,
                    difference(super::policy::Unit::Ratio, c.tolerance_abs).trim_start_matches('+'),
                ),
                _ => format!("{values}: {share} — within tolerance, pass"),
            }
        }
        (_, None) => values,
    }
}

/// The spec's rules read on pooled quantiles over the trailing `smooth_secs` (at least three
/// intervals): the canary's pooled p95 against stable's (`worse_than_stable_pct`, `_by`) or
/// the `limit`, held for the rule's duration. A reading counts as broken only when it holds
/// at the policy's confidence bounds of both p95s: the canary's lower bound over the limit
/// drawn from stable's upper bound (a p95 of 100 requests is only roughly stable's p95). The
/// bounds are the quantiles at 0.95 ∓ z·√(0.95 · 0.05 / requests), the order-statistic
/// interval of a quantile.
fn pooled_rules(
    name: &str,
    spec: &MetricSpec,
    (canary, baseline): (&BucketTable, &BucketTable),
    policy: &Policy,
) -> Vec<RuleHit> {
    let times = canary.times();
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .collect();
    let step = stats::median(&gaps).unwrap_or(1.0);
    let span = spec.smooth_secs.max(3.0 * step);
    let z = stats::normal_quantile(1.0 - (1.0 - policy.confidence) / 2.0);
    // The p95's confidence bound below (−1) or above (+1); above, `None` when it lies in the
    // `+Inf` bucket or past every request (unbounded).
    let bound = |p: &Pooled, side: f64| {
        let q = QUANTILE + side * z * (QUANTILE * (1.0 - QUANTILE) / p.requests).sqrt();
        let finite = p.le.last().map_or(0.0, |(_, count)| *count);
        (q < 1.0 && q * p.requests <= finite).then(|| p.quantile(q.max(0.0)))?
    };
    // At each canary interval: both sides pooled over the trailing span, when both have a p95:
    // (canary's p95, stable's, canary's lower bound, stable's upper bound).
    type Pooling = (f64, f64, Option<f64>, Option<f64>);
    let pooled: Vec<(f64, Option<Pooling>)> = times
        .iter()
        .map(|&t| {
            let (c, _) = canary.pooled(t - span, t);
            let (b, _) = baseline.pooled(t - span, t);
            let enough = c.requests >= MIN_POOLED_REQUESTS && b.requests >= MIN_POOLED_REQUESTS;
            let reading = enough
                .then(|| Some((c.quantile(QUANTILE)?, b.quantile(QUANTILE)?)))
                .flatten()
                .map(|(cq, bq)| (cq, bq, bound(&c, -1.0), bound(&b, 1.0)));
            (t, reading)
        })
        .collect();
    let label = display_name(name);
    let sure = format!(
        " (pooled over {}, at the {:.0}% bounds of both p95s)",
        duration(span),
        policy.confidence * 100.0
    );
    type Readings = Vec<rules::Held>;
    // Where the canary's lower bound is over the limit drawn from stable's upper bound.
    let held = |level: &dyn Fn(f64) -> f64| -> Readings {
        pooled
            .iter()
            .map(|(t, r)| {
                let kept = r
                    .filter(|(_, _, low, high)| match (low, high) {
                        (Some(low), Some(high)) => *low > level(*high),
                        _ => false,
                    })
                    .map(|(cq, bq, _, _)| (cq, Some(bq)));
                (*t, kept)
            })
            .collect()
    };
    let mut hits = Vec::new();
    let mut push =
        |rule, readings: Readings, for_secs, limit, words: &dyn Fn(f64, f64) -> String| {
            if let Some((from, to, c, b)) = rules::held_for(&readings, step, for_secs) {
                let b_value = b.unwrap_or(0.0);
                hits.push(RuleHit {
                    rule,
                    canary: c,
                    baseline: b,
                    limit,
                    from_secs: from,
                    to_secs: to,
                    duration_secs: to - from + step,
                    message: format!(
                        "{} for {}{sure}",
                        words(c, b_value),
                        duration(to - from + step)
                    ),
                });
            }
        };
    if let Some(pct) = spec.worse_than_stable_pct {
        push(
            Rule::WorseThanStablePct,
            held(&|b| b * (1.0 + pct / 100.0)),
            spec.for_secs,
            pct,
            &|c, b| {
                format!(
                    "{label} {} vs stable {} ({:+.0}%) — above the {pct}% limit",
                    value(spec.unit, c),
                    value(spec.unit, b),
                    (c - b) / b.abs().max(f64::EPSILON) * 100.0
                )
            },
        );
    }
    if let Some(by) = spec.worse_than_stable_by {
        push(
            Rule::WorseThanStableBy,
            held(&|b| b + by),
            spec.for_secs,
            by,
            &|c, b| {
                format!(
                    "{label} {} vs stable {} ({}) — above the {} limit",
                    value(spec.unit, c),
                    value(spec.unit, b),
                    difference(spec.unit, c - b),
                    difference(spec.unit, by).trim_start_matches('+'),
                )
            },
        );
    }
    if let Some(limit) = spec.limit {
        push(
            Rule::Limit,
            held(&|_| limit),
            spec.limit_for_secs,
            limit,
            &|c, _| {
                format!(
                    "{label} {} — above the {} ceiling",
                    value(spec.unit, c),
                    value(spec.unit, limit)
                )
            },
        );
    }
    hits
}

#[cfg(test)]
#[path = "latency_tests.rs"]
mod tests;
