//! The verdict: each metric classified (Mann–Whitney + Hodges–Lehmann against a tolerance, in
//! the manner of Kayenta) and checked against the threshold rules, then a weighted score and
//! Pass / Marginal / Fail / NoData with reasons a release manager can read.

use super::MetricSeries;
use super::policy::{Direction, ERROR_RATE, Policy};
use super::rules::{self, Mode};
use super::stats;
use super::verdict::{
    Classification, Comparison, JudgeKind, MetricResult, MetricStatus, Verdict, VerdictKind,
};
use super::words;
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
    };
    let class = if mw.p_value >= 1.0 - policy.confidence {
        Classification::Pass
    } else if shift.lower > tolerance_abs {
        Classification::High
    } else if shift.upper < -tolerance_abs {
        Classification::Low
    } else {
        Classification::Pass
    };
    (class, Some(comparison))
}

/// Classifies over the whole window and, when the policy asks, over its last `recent_secs`
/// too, so a canary that turns bad late is not diluted by its healthy start. A finding in the
/// worse direction from either wins; otherwise the whole window decides.
fn classify_window(
    canary: &[Point],
    baseline: &[Point],
    direction: Direction,
    min_effect: f64,
    policy: &Policy,
) -> (Classification, Option<Comparison>) {
    let values = |points: &[Point], after: f64| -> Vec<f64> {
        points
            .iter()
            .filter(|p| p.t_secs > after)
            .filter_map(|p| p.value)
            .collect()
    };
    let whole = classify(
        &values(canary, f64::NEG_INFINITY),
        &values(baseline, f64::NEG_INFINITY),
        policy,
        min_effect,
    );
    let worse = match direction {
        Direction::HigherIsWorse => Classification::High,
        Direction::LowerIsWorse => Classification::Low,
    };
    if policy.recent_secs <= 0.0 || whole.0 == Classification::NoData || whole.0 == worse {
        return whole;
    }
    let end = canary
        .iter()
        .chain(baseline)
        .map(|p| p.t_secs)
        .fold(f64::NEG_INFINITY, f64::max);
    let after = end - policy.recent_secs;
    let (class, comparison) = classify(
        &values(canary, after),
        &values(baseline, after),
        policy,
        min_effect,
    );
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

/// Judges one metric's (already windowed) series with either judge.
pub(super) fn judge_metric(
    name: &str,
    series: Option<&MetricSeries>,
    policy: &Policy,
    judge: JudgeKind,
) -> MetricResult {
    let spec = policy.spec(name);
    let empty: &[Point] = &[];
    let (canary, baseline) = series.map_or((empty, empty), |s| (&s.canary[..], &s.baseline[..]));
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
    let rule_hits = rules::check(name, &spec, success_floor, canary, baseline, mode);
    let (classification, comparison) = match judge {
        JudgeKind::Statistical => {
            classify_window(canary, baseline, spec.direction, spec.min_effect, policy)
        }
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
    let mut result = MetricResult {
        name: name.to_string(),
        group: spec.group.clone(),
        critical: spec.critical,
        direction: spec.direction,
        unit: spec.unit,
        canary: summarise(&canary_values),
        baseline: summarise(&baseline_values),
        classification,
        comparison,
        rule_hits,
        status,
        summary: String::new(),
    };
    result.summary = summary(&result, policy, canary_values.len(), baseline_values.len());
    result
}

fn summary(m: &MetricResult, policy: &Policy, n_canary: usize, n_baseline: usize) -> String {
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
            format!(
                "{values} — {word}{over} by {} ({:.0}% interval {} … {}, p = {:.4}), beyond the \
                 {:.0}% tolerance — {verdict}",
                words::difference(m.unit, c.shift.estimate),
                policy.confidence * 100.0,
                words::difference(m.unit, c.shift.lower),
                words::difference(m.unit, c.shift.upper),
                c.p_value,
                policy.tolerance * 100.0,
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
