//! The verdict: each metric classified (Mann–Whitney + Hodges–Lehmann against a tolerance, in
//! the manner of Kayenta) and checked against the threshold rules, then a weighted score and
//! Pass / Marginal / Fail / NoData with reasons a release manager can read.

use super::MetricSeries;
use super::policy::{Direction, ERROR_RATE, P95_MS, Policy};
use super::proportions::{self, Counts};
use super::rules::{self, Mode};
use super::stats;
use super::verdict::{
    Classification, Comparison, ComparisonTest, ErrorCounts, JudgeKind, MetricResult, MetricStatus,
    Verdict, VerdictKind,
};
use super::{latency, overlap, weigh, words};
use crate::model::Point;

/// Classifies canary against baseline samples: NoData under `min_samples` a side; Pass when
/// not significant at the confidence level; otherwise High/Low when the Hodges–Lehmann
/// interval lies wholly beyond ±max(tolerance × |baseline median|, `min_effect`), Pass when
/// it does not.
pub fn classify(
    canary: &[f64],
    baseline: &[f64],
    policy: &Policy,
    min_effect: f64,
) -> (Classification, Option<Comparison>) {
    if canary.len() < policy.min_samples || baseline.len() < policy.min_samples {
        return (Classification::NoData, None);
    }
    let (Some(mw), Some(shift), Some(base_median)) = (
        stats::mann_whitney_u(canary, baseline),
        stats::hodges_lehmann(canary, baseline, policy.confidence),
        stats::median(baseline),
    ) else {
        return (Classification::NoData, None);
    };
    let tolerance_abs = (policy.tolerance * base_median.abs()).max(min_effect);
    let comparison = Comparison {
        canary_samples: canary.len(),
        baseline_samples: baseline.len(),
        u: mw.u,
        z: mw.z,
        p_value: mw.p_value,
        shift,
        tolerance_abs,
        recent_secs: None,
        test: ComparisonTest::MannWhitney,
        counts: None,
        slow_above: None,
    };
    (shift_class(&comparison, policy), Some(comparison))
}

/// The fewest samples with traffic a side that error counts are judged on: the interval
/// already widens with few requests, so counts need not wait for `min_samples` (with 10 s
/// samples that would be 100 s of a failing canary).
const MIN_COUNTED_SAMPLES: usize = 3;

/// Classifies error counts the way [`classify`] classifies samples: NoData under
/// [`MIN_COUNTED_SAMPLES`] (or `min_samples`, if fewer) samples with traffic a side; Pass
/// when the two-proportion test is not significant; High/Low when Newcombe's interval for the
/// difference lies wholly beyond ±max(tolerance × stable's error rate, `min_effect`).
pub fn classify_counts(
    canary: Counts,
    baseline: Counts,
    samples: (usize, usize),
    policy: &Policy,
    min_effect: f64,
) -> (Classification, Option<Comparison>) {
    let needed = policy.min_samples.min(MIN_COUNTED_SAMPLES);
    if samples.0 < needed || samples.1 < needed {
        return (Classification::NoData, None);
    }
    let (Some(test), Some(base_rate)) = (
        proportions::two_proportions(canary, baseline, policy.confidence),
        baseline.rate(),
    ) else {
        return (Classification::NoData, None);
    };
    let tolerance_abs = (policy.tolerance * base_rate).max(min_effect);
    let comparison = Comparison {
        canary_samples: samples.0,
        baseline_samples: samples.1,
        u: 0.0,
        z: test.z,
        p_value: test.p_value,
        shift: test.shift,
        tolerance_abs,
        recent_secs: None,
        test: ComparisonTest::TwoProportions,
        counts: Some(ErrorCounts { canary, baseline }),
        slow_above: None,
    };
    (shift_class(&comparison, policy), Some(comparison))
}

/// High, Low or Pass from a comparison's p-value and interval against its tolerance.
pub(super) fn shift_class(c: &Comparison, policy: &Policy) -> Classification {
    if c.p_value >= 1.0 - policy.confidence {
        Classification::Pass
    } else if c.shift.lower > c.tolerance_abs {
        Classification::High
    } else if c.shift.upper < -c.tolerance_abs {
        Classification::Low
    } else {
        Classification::Pass
    }
}

/// Classifies over the whole window and, when the policy asks, over its last `recent_secs`
/// too, so a canary that turns bad late is not diluted by its healthy start. A finding in the
/// worse direction from either wins; otherwise the whole window decides. `after(t, policy)`
/// classifies the samples later than `t`; the recent look is at `recent_confidence` and
/// covers the `recent_secs` up to `end`, the newest sample.
pub(super) fn classify_window(
    end: f64,
    direction: Direction,
    policy: &Policy,
    after: impl Fn(f64, &Policy) -> (Classification, Option<Comparison>),
) -> (Classification, Option<Comparison>) {
    let whole = after(f64::NEG_INFINITY, policy);
    let worse = match direction {
        Direction::HigherIsWorse => Classification::High,
        Direction::LowerIsWorse => Classification::Low,
    };
    if policy.recent_secs <= 0.0 || whole.0 == Classification::NoData || whole.0 == worse {
        return whole;
    }
    let strict = Policy {
        confidence: policy.recent_confidence,
        ..policy.clone()
    };
    let (class, comparison) = after(end - policy.recent_secs, &strict);
    if class == worse {
        let comparison = comparison.map(|c| Comparison {
            recent_secs: Some(policy.recent_secs),
            ..c
        });
        (class, comparison)
    } else {
        whole
    }
}

/// The values of the samples later than `after`.
fn values_after(points: &[Point], after: f64) -> Vec<f64> {
    points
        .iter()
        .filter(|p| p.t_secs > after)
        .filter_map(|p| p.value)
        .collect()
}

/// Judges one metric's (already windowed) series with either judge. With requests per
/// second on both sides the statistical judge counts: error rates become errors out of
/// requests (rules read request-weighted means, the comparison is a two-proportion test) and
/// p95 samples over fewer than `min_requests` requests are left out.
pub(super) fn judge_metric(
    name: &str,
    series: Option<&MetricSeries>,
    policy: &Policy,
    judge: JudgeKind,
) -> MetricResult {
    let spec = policy.spec(name);
    let empty = MetricSeries::default();
    let series = series.unwrap_or(&empty);
    if judge == JudgeKind::Statistical
        && spec.direction == Direction::HigherIsWorse
        && let Some(pooled) = latency::judge_pooled(name, series, &spec, policy)
    {
        return pooled;
    }
    let weighed = judge == JudgeKind::Statistical
        && series.weighted()
        && (name == ERROR_RATE || name == P95_MS);
    let (canary_n, baseline_n) = if weighed {
        (
            weigh::requests_per_sample(&series.canary, &series.canary_requests),
            weigh::requests_per_sample(&series.baseline, &series.baseline_requests),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mut thin = (0, 0);
    let (canary, baseline) = if weighed && name == P95_MS {
        let (c, dropped_c) = weigh::without_thin(&series.canary, &canary_n, policy.min_requests);
        let (b, dropped_b) =
            weigh::without_thin(&series.baseline, &baseline_n, policy.min_requests);
        thin = (dropped_c, dropped_b);
        (c, b)
    } else {
        (series.canary.clone(), series.baseline.clone())
    };
    let counted = weighed && name == ERROR_RATE;
    let canary_values: Vec<f64> = canary.iter().filter_map(|p| p.value).collect();
    let baseline_values: Vec<f64> = baseline.iter().filter_map(|p| p.value).collect();
    let success_floor = if name == ERROR_RATE {
        policy
            .success_rate
            .min
            .map(|min| (min, policy.success_rate.for_secs))
    } else {
        None
    };
    let mode = match judge {
        JudgeKind::Statistical => Mode::Sustained,
        JudgeKind::Naive => Mode::SingleSample,
    };
    let weights = counted.then_some(rules::Weights {
        canary: &canary_n,
        baseline: &baseline_n,
        confidence: policy.confidence,
    });
    let rule_hits = rules::check_weighted(
        name,
        &spec,
        success_floor,
        (&canary, &baseline),
        weights,
        mode,
    );
    let end = canary
        .iter()
        .chain(&baseline)
        .map(|p| p.t_secs)
        .fold(f64::NEG_INFINITY, f64::max);
    // Overlapping rate windows are not independent samples: the test takes one per window.
    let (independent_canary, independent_baseline, spacing) =
        overlap::independent(&canary, &baseline, series.sample_span_secs);
    let (classification, comparison) = match judge {
        JudgeKind::Statistical if counted => {
            classify_window(end, spec.direction, policy, |after, policy| {
                let (c, samples_c) = weigh::counts(&canary, &canary_n, after);
                let (b, samples_b) = weigh::counts(&baseline, &baseline_n, after);
                classify_counts(c, b, (samples_c, samples_b), policy, spec.min_effect)
            })
        }
        JudgeKind::Statistical => classify_window(end, spec.direction, policy, |after, policy| {
            classify(
                &values_after(&independent_canary, after),
                &values_after(&independent_baseline, after),
                policy,
                spec.min_effect,
            )
        }),
        JudgeKind::Naive if canary_values.is_empty() => (Classification::NoData, None),
        JudgeKind::Naive => (Classification::Pass, None),
    };
    let worse = match spec.direction {
        Direction::HigherIsWorse => Classification::High,
        Direction::LowerIsWorse => Classification::Low,
    };
    let status = if !rule_hits.is_empty() || classification == worse {
        MetricStatus::Fail
    } else if classification == Classification::NoData {
        MetricStatus::NoData
    } else {
        MetricStatus::Pass
    };
    let summarise = |values: &[f64]| match spec.aggregate {
        super::policy::Aggregate::Mean => stats::mean(values),
        super::policy::Aggregate::Median => stats::median(values),
    };
    // Counted, the value shown is the window's errors over its requests.
    let (canary_value, baseline_value) = if counted {
        (
            weigh::counts(&canary, &canary_n, f64::NEG_INFINITY)
                .0
                .rate(),
            weigh::counts(&baseline, &baseline_n, f64::NEG_INFINITY)
                .0
                .rate(),
        )
    } else {
        (summarise(&canary_values), summarise(&baseline_values))
    };
    let mut result = MetricResult {
        name: name.to_string(),
        group: spec.group.clone(),
        critical: spec.critical,
        direction: spec.direction,
        unit: spec.unit,
        canary: canary_value,
        baseline: baseline_value,
        classification,
        comparison,
        rule_hits,
        status,
        summary: String::new(),
    };
    let samples = if counted || judge == JudgeKind::Naive {
        (canary_values.len(), baseline_values.len())
    } else {
        let after = end - policy.window_secs;
        (
            values_after(&independent_canary, after).len(),
            values_after(&independent_baseline, after).len(),
        )
    };
    result.summary = summary(&result, policy, samples, thin);
    if let Some(spacing) = spacing
        && !counted
        && result.status == MetricStatus::NoData
        && result.summary.contains("too few samples")
    {
        result.summary.push_str(&overlap::too_few_note(spacing));
    }
    if judge == JudgeKind::Statistical && name == P95_MS {
        result
            .summary
            .push_str(" (judged on p95 samples: the metrics source gives no latency buckets)");
    }
    result
}

/// The metric in one line. `samples` are those with a value on each side; `thin` how many
/// were left out for too few requests.
fn summary(
    m: &MetricResult,
    policy: &Policy,
    samples: (usize, usize),
    thin: (usize, usize),
) -> String {
    let (n_canary, n_baseline) = samples;
    let label = words::display_name(&m.name);
    let values = match (m.canary, m.baseline) {
        (Some(c), Some(b)) => format!(
            "{label} {} vs stable {}",
            words::value(m.unit, c),
            words::value(m.unit, b)
        ),
        (Some(c), None) => format!("{label} {} (no stable samples)", words::value(m.unit, c)),
        (None, _) => format!("{label}: no samples from the canary"),
    };
    if let Some(hit) = m.rule_hits.first() {
        return hit.message.clone();
    }
    match (m.status, m.classification, m.comparison) {
        (MetricStatus::NoData, _, _) if thin.0 + thin.1 > 0 => format!(
            "{label}: too little traffic to judge — {} canary and {} stable samples had \
             fewer than {} requests (left: canary {n_canary}, stable {n_baseline}; need {} each)",
            thin.0, thin.1, policy.min_requests, policy.min_samples
        ),
        (MetricStatus::NoData, _, _) if n_canary == 0 => values,
        (MetricStatus::NoData, _, _) => format!(
            "{label}: too few samples (canary {n_canary}, stable {n_baseline}; need {} each)",
            policy.min_samples
        ),
        (_, Classification::High | Classification::Low, Some(c)) => {
            let word = if m.classification == Classification::High {
                "higher"
            } else {
                "lower"
            };
            let verdict = if m.status == MetricStatus::Fail {
                "fail"
            } else {
                "better, pass"
            };
            let over = match c.recent_secs {
                Some(secs) => format!(" over the last {}", words::duration(secs)),
                None => String::new(),
            };
            let (counts, tolerance) = match c.counts {
                Some(n) => (
                    format!(
                        " ({:.0} errors in {:.0} requests vs {:.0} in {:.0})",
                        n.canary.errors, n.canary.requests, n.baseline.errors, n.baseline.requests
                    ),
                    words::difference(m.unit, c.tolerance_abs)
                        .trim_start_matches('+')
                        .to_string(),
                ),
                None => (String::new(), format!("{:.0}%", policy.tolerance * 100.0)),
            };
            format!(
                "{values}{counts} — {word}{over} by {} ({:.0}% interval {} … {}, p = {:.4}), \
                 beyond the {tolerance} tolerance — {verdict}",
                words::difference(m.unit, c.shift.estimate),
                policy.confidence * 100.0,
                words::difference(m.unit, c.shift.lower),
                words::difference(m.unit, c.shift.upper),
                c.p_value,
            )
        }
        _ => format!("{values} — within tolerance, pass"),
    }
}

/// Scores the metric results and turns them into a verdict with reasons.
pub(super) fn verdict(
    metrics: Vec<MetricResult>,
    policy: &Policy,
    judge: JudgeKind,
    window: Option<(f64, f64)>,
) -> Verdict {
    let total = metrics.len();
    let no_data = metrics
        .iter()
        .filter(|m| m.status == MetricStatus::NoData)
        .count();
    let failed: Vec<&MetricResult> = metrics
        .iter()
        .filter(|m| m.status == MetricStatus::Fail)
        .collect();
    let hard_fail = failed.iter().any(|m| m.critical || !m.rule_hits.is_empty());

    let mut reasons: Vec<String> = failed
        .iter()
        .flat_map(|m| {
            if m.rule_hits.is_empty() {
                vec![m.summary.clone()]
            } else {
                m.rule_hits.iter().map(|h| h.message.clone()).collect()
            }
        })
        .collect();
    let no_data_reasons = metrics
        .iter()
        .filter(|m| m.status == MetricStatus::NoData)
        .map(|m| m.summary.clone());

    let (kind, score) = if total == 0 {
        reasons.push("no metrics to judge".into());
        (VerdictKind::NoData, 0.0)
    } else if hard_fail {
        (VerdictKind::Fail, 0.0)
    } else if no_data * 2 >= total {
        reasons.extend(no_data_reasons);
        reasons.insert(
            0,
            format!("too few samples on {no_data} of {total} metrics to judge"),
        );
        return finish(VerdictKind::NoData, 0.0, metrics, judge, window, reasons);
    } else {
        let score = weighted_score(&metrics, policy);
        let kind = if score >= policy.pass_score {
            VerdictKind::Pass
        } else if score >= policy.marginal_score {
            VerdictKind::Marginal
        } else {
            VerdictKind::Fail
        };
        match kind {
            VerdictKind::Pass if failed.is_empty() => reasons.push(format!(
                "all {} metrics with data within limits",
                total - no_data
            )),
            VerdictKind::Pass => {}
            _ => reasons.insert(
                0,
                format!(
                    "score {score:.0} is under the pass mark {:.0}",
                    policy.pass_score
                ),
            ),
        }
        (kind, score)
    };
    reasons.extend(no_data_reasons);
    finish(kind, score, metrics, judge, window, reasons)
}

fn finish(
    kind: VerdictKind,
    score: f64,
    metrics: Vec<MetricResult>,
    judge: JudgeKind,
    window: Option<(f64, f64)>,
    reasons: Vec<String>,
) -> Verdict {
    Verdict {
        kind,
        score,
        judge,
        window_from_secs: window.map(|w| w.0),
        window_to_secs: window.map(|w| w.1),
        metrics,
        reasons,
    }
}

/// Passing share per group, weighted by the groups' weights; metrics without data and groups
/// without any metric with data are left out.
fn weighted_score(metrics: &[MetricResult], policy: &Policy) -> f64 {
    let mut groups: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for m in metrics.iter().filter(|m| m.status != MetricStatus::NoData) {
        let entry = groups.entry(&m.group).or_default();
        entry.1 += 1;
        if m.status == MetricStatus::Pass {
            entry.0 += 1;
        }
    }
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (group, (passed, counted)) in &groups {
        let w = policy.weight(group);
        weighted += w * *passed as f64 / *counted as f64;
        weights += w;
    }
    if weights > 0.0 {
        100.0 * weighted / weights
    } else {
        let passed: usize = groups.values().map(|g| g.0).sum();
        let counted: usize = groups.values().map(|g| g.1).sum();
        if counted == 0 {
            0.0
        } else {
            100.0 * passed as f64 / counted as f64
        }
    }
}
