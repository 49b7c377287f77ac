//! Threshold rules: "worse than stable by X for N seconds", absolute limits and the success-rate
//! floor, read on a trailing summary of the samples and timed on sample timestamps, so one
//! noisy second never fails a canary. With smoothing and durations off they become the naive
//! judge's single-sample thresholds.

use super::policy::{Aggregate, Direction, MetricSpec, Unit};
use super::stats;
use crate::model::Point;
use serde::{Deserialize, Serialize};

/// Which threshold a canary broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    WorseThanStableBy,
    WorseThanStablePct,
    Limit,
    SuccessRate,
}

/// A threshold the canary broke, when, for how long, and in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleHit {
    pub rule: Rule,
    /// The canary's value (as the rule read it) at the end of the stretch.
    pub canary: f64,
    /// Stable's value at the same moment, for rules that compare with stable.
    pub baseline: Option<f64>,
    /// The limit in the rule's own terms (ratio, percent or the metric's unit).
    pub limit: f64,
    pub from_secs: f64,
    pub to_secs: f64,
    pub duration_secs: f64,
    /// E.g. "error rate 6.1% vs stable 0.2% (+5.9 pp) for 2m10s — above the 0.5 pp limit".
    pub message: String,
}

/// The regular spacing of a series: the median gap between timestamps (0 with < 2 points).
pub fn step_secs(points: &[Point]) -> f64 {
    let gaps: Vec<f64> = points
        .windows(2)
        .map(|w| w[1].t_secs - w[0].t_secs)
        .filter(|d| *d > 0.0)
        .collect();
    stats::median(&gaps).unwrap_or(0.0)
}

/// The canary and stable values a rule reads at one canary timestamp.
struct Reading {
    t: f64,
    canary: Option<f64>,
    baseline: Option<f64>,
}

/// Summaries over the trailing `(t − smooth, t]` at every canary timestamp. A summary needs
/// half the stretch covered by samples (at least one), otherwise it is unknown.
fn readings(
    canary: &[Point],
    baseline: &[Point],
    spec: &MetricSpec,
    smooth_secs: f64,
    step: f64,
) -> Vec<Reading> {
    let span = smooth_secs.max(step / 2.0);
    let needed = if step > 0.0 {
        ((0.5 * span / step).ceil() as usize).max(1)
    } else {
        1
    };
    // Points are sorted by time, so each stretch is a slice found by binary search.
    let summary = |points: &[Point], t: f64| -> Option<f64> {
        let from = points.partition_point(|p| p.t_secs <= t - span);
        let to = points.partition_point(|p| p.t_secs <= t);
        let values: Vec<f64> = points[from..to.max(from)]
            .iter()
            .filter_map(|p| p.value)
            .collect();
        if values.len() < needed {
            return None;
        }
        match spec.aggregate {
            Aggregate::Mean => stats::mean(&values),
            Aggregate::Median => stats::median(&values),
        }
    };
    canary
        .iter()
        .map(|p| Reading {
            t: p.t_secs,
            canary: summary(canary, p.t_secs),
            baseline: summary(baseline, p.t_secs),
        })
        .collect()
}

/// A stretch of consecutive readings where a rule held.
struct Stretch {
    from: f64,
    to: f64,
    canary: f64,
    baseline: Option<f64>,
}

/// The longest stretch where `broken` held at every reading, if it lasted `for_secs`.
/// An unknown reading, or a hole of more than two steps between readings, ends a stretch.
fn longest_stretch(
    readings: &[Reading],
    step: f64,
    for_secs: f64,
    broken: impl Fn(f64, Option<f64>) -> Option<bool>,
) -> Option<Stretch> {
    let mut best: Option<Stretch> = None;
    let mut current: Option<Stretch> = None;
    let mut last_t = f64::NEG_INFINITY;
    for r in readings {
        let holds = r
            .canary
            .and_then(|c| broken(c, r.baseline).map(|b| (b, c)))
            .filter(|(b, _)| *b);
        let contiguous = r.t - last_t <= 2.0 * step + 1e-9;
        last_t = r.t;
        match (holds, current.take()) {
            (Some((_, c)), Some(mut s)) if contiguous => {
                s.to = r.t;
                s.canary = c;
                s.baseline = r.baseline;
                current = Some(s);
            }
            (Some((_, c)), _) => {
                current = Some(Stretch {
                    from: r.t,
                    to: r.t,
                    canary: c,
                    baseline: r.baseline,
                })
            }
            (None, _) => {}
        }
        if let Some(s) = &current {
            let length = s.to - s.from + step;
            let best_length = best
                .as_ref()
                .map_or(f64::NEG_INFINITY, |b| b.to - b.from + step);
            if length >= for_secs && length > best_length {
                best = Some(Stretch {
                    from: s.from,
                    to: s.to,
                    canary: s.canary,
                    baseline: s.baseline,
                });
            }
        }
    }
    best
}

/// Whether the rules read smoothed values over time (the judge) or single samples (naive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Trailing summaries over `smooth_secs`, held for `for_secs`: the judge.
    Sustained,
    /// Each sample against the same limits, once is enough: the naive judge.
    SingleSample,
}

/// Checks every rule in `spec` (and the success-rate floor when given) on one metric.
/// Both series must be sorted by time.
pub fn check(
    name: &str,
    spec: &MetricSpec,
    success_floor: Option<(f64, f64)>,
    canary: &[Point],
    baseline: &[Point],
    mode: Mode,
) -> Vec<RuleHit> {
    let step = step_secs(canary);
    let (smooth, for_secs, limit_for_secs, floor_for) = match mode {
        Mode::Sustained => (
            spec.smooth_secs,
            spec.for_secs,
            spec.limit_for_secs,
            success_floor.map_or(0.0, |f| f.1),
        ),
        Mode::SingleSample => (0.0, 0.0, 0.0, 0.0),
    };
    let readings = readings(canary, baseline, spec, smooth, step);
    let worse = |c: f64, b: f64| match spec.direction {
        Direction::HigherIsWorse => c - b,
        Direction::LowerIsWorse => b - c,
    };
    let label = display_name(name);
    let mut hits = Vec::new();
    let hit = |rule, s: Stretch, limit, message: String| RuleHit {
        rule,
        canary: s.canary,
        baseline: s.baseline,
        limit,
        from_secs: s.from,
        to_secs: s.to,
        duration_secs: s.to - s.from + step,
        message,
    };

    if let Some(by) = spec.worse_than_stable_by {
        let found = longest_stretch(&readings, step, for_secs, |c, b| {
            b.map(|b| worse(c, b) > by)
        });
        if let Some(s) = found {
            let b = s.baseline.unwrap_or(0.0);
            let message = format!(
                "{label} {} vs stable {} ({}) for {} — {} the {} limit",
                value(spec.unit, s.canary),
                value(spec.unit, b),
                difference(spec.unit, s.canary - b),
                duration(s.to - s.from + step),
                above_or_below(spec.direction),
                difference(spec.unit, by).trim_start_matches('+'),
            );
            hits.push(hit(Rule::WorseThanStableBy, s, by, message));
        }
    }
    if let Some(pct) = spec.worse_than_stable_pct {
        let found = longest_stretch(&readings, step, for_secs, |c, b| {
            b.filter(|b| b.abs() > f64::EPSILON)
                .map(|b| worse(c, b) / b.abs() * 100.0 > pct)
        });
        if let Some(s) = found {
            let b = s.baseline.unwrap_or(0.0);
            let message = format!(
                "{label} {} vs stable {} ({:+.0}%) for {} — {} the {pct}% limit",
                value(spec.unit, s.canary),
                value(spec.unit, b),
                (s.canary - b) / b.abs() * 100.0,
                duration(s.to - s.from + step),
                above_or_below(spec.direction),
            );
            hits.push(hit(Rule::WorseThanStablePct, s, pct, message));
        }
    }
    if let Some(limit) = spec.limit {
        let found = longest_stretch(&readings, step, limit_for_secs, |c, _| {
            Some(match spec.direction {
                Direction::HigherIsWorse => c > limit,
                Direction::LowerIsWorse => c < limit,
            })
        });
        if let Some(s) = found {
            let (word, kind) = match spec.direction {
                Direction::HigherIsWorse => ("above", "ceiling"),
                Direction::LowerIsWorse => ("below", "floor"),
            };
            let message = format!(
                "{label} {} for {} — {word} the {} {kind}",
                value(spec.unit, s.canary),
                duration(s.to - s.from + step),
                value(spec.unit, limit),
            );
            hits.push(hit(Rule::Limit, s, limit, message));
        }
    }
    if let Some((min, _)) = success_floor {
        let found = longest_stretch(&readings, step, floor_for, |c, _| Some(1.0 - c < min));
        if let Some(s) = found {
            let message = format!(
                "success rate {} for {} — under the {} floor",
                value(Unit::Ratio, 1.0 - s.canary),
                duration(s.to - s.from + step),
                value(Unit::Ratio, min),
            );
            hits.push(hit(Rule::SuccessRate, s, min, message));
        }
    }
    hits
}

fn above_or_below(direction: Direction) -> &'static str {
    match direction {
        Direction::HigherIsWorse => "above",
        Direction::LowerIsWorse => "below",
    }
}

/// The metric's name as a release manager says it.
pub fn display_name(metric: &str) -> String {
    match metric {
        super::policy::ERROR_RATE => "error rate".into(),
        super::policy::P95_MS => "p95".into(),
        other => other.replace('_', " "),
    }
}

/// A value in its unit: "6.1%", "0.25%", "0.2%", "412 ms", "3.50".
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ratio if (v * 100.0).abs() >= 1.0 || v == 0.0 => format!("{:.1}%", v * 100.0),
        Unit::Ratio => {
            let pct = format!("{:.2}", v * 100.0);
            format!("{}%", pct.trim_end_matches('0').trim_end_matches('.'))
        }
        Unit::Ms if v.abs() < 10.0 => format!("{v:.1} ms"),
        Unit::Ms => format!("{v:.0} ms"),
        Unit::Number => format!("{v:.2}"),
    }
}

/// A signed difference in its unit: "+5.9 pp", "−12 ms".
pub fn difference(unit: Unit, d: f64) -> String {
    match unit {
        Unit::Ratio => format!("{:+.1} pp", d * 100.0),
        Unit::Ms if d.abs() < 10.0 => format!("{d:+.1} ms"),
        Unit::Ms => format!("{d:+.0} ms"),
        Unit::Number => format!("{d:+.2}"),
    }
}

/// A duration as people read it: "45s", "2m", "2m10s".
pub fn duration(secs: f64) -> String {
    let total = secs.round().max(0.0) as u64;
    match (total / 60, total % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::policy::{ERROR_RATE, P95_MS, Policy};

    /// `count` samples of `value` every `step` seconds, the first at `start + step`.
    fn flat(start: f64, step: f64, count: usize, value: f64) -> Vec<Point> {
        (1..=count)
            .map(|i| Point {
                t_secs: start + i as f64 * step,
                value: Some(value),
            })
            .collect()
    }

    fn error_spec() -> MetricSpec {
        Policy::default().spec(ERROR_RATE)
    }

    #[test]
    fn error_rate_rule_needs_two_minutes_on_the_clock() {
        let spec = error_spec();
        // 1 s step: summaries exist from t=30 (half of the 60 s smoothing covered).
        // Up to t=148 the stretch 30..148 lasts 119 s: not yet.
        let short = check(
            ERROR_RATE,
            &spec,
            None,
            &flat(0.0, 1.0, 148, 0.061),
            &flat(0.0, 1.0, 148, 0.002),
            Mode::Sustained,
        );
        assert!(short.is_empty(), "{short:?}");
        let long = check(
            ERROR_RATE,
            &spec,
            None,
            &flat(0.0, 1.0, 149, 0.061),
            &flat(0.0, 1.0, 149, 0.002),
            Mode::Sustained,
        );
        assert_eq!(long.len(), 1);
        assert_eq!(long[0].rule, Rule::WorseThanStableBy);
        assert_eq!(long[0].duration_secs, 120.0);
        assert_eq!(
            long[0].message,
            "error rate 6.1% vs stable 0.2% (+5.9 pp) for 2m — above the 0.5 pp limit"
        );
    }

    /// The same two minutes with a 15 s step (9 samples) fail the same way: time is read on
    /// timestamps, not counted in samples.
    #[test]
    fn error_rate_rule_reads_time_not_sample_counts() {
        let spec = error_spec();
        // Summaries need ⌈0.5·60/15⌉ = 2 samples: known from t=30; t=30..135 plus one step = 120 s.
        let hits = check(
            ERROR_RATE,
            &spec,
            None,
            &flat(0.0, 15.0, 9, 0.061),
            &flat(0.0, 15.0, 9, 0.002),
            Mode::Sustained,
        );
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].from_secs, 30.0);
        assert_eq!(hits[0].to_secs, 135.0);
        assert_eq!(hits[0].duration_secs, 120.0);
        let fewer = check(
            ERROR_RATE,
            &spec,
            None,
            &flat(0.0, 15.0, 8, 0.061),
            &flat(0.0, 15.0, 8, 0.002),
            Mode::Sustained,
        );
        assert!(fewer.is_empty());
    }

    /// One bad second at 3 req/s (1 error of 3 requests = 33%) is noise for the judge, but
    /// the naive judge fails on it.
    #[test]
    fn one_bad_sample_fails_only_the_naive_reading() {
        let spec = error_spec();
        let mut canary = flat(0.0, 1.0, 200, 0.0);
        canary[100].value = Some(1.0 / 3.0);
        let baseline = flat(0.0, 1.0, 200, 0.0);
        let sustained = check(
            ERROR_RATE,
            &spec,
            Some((0.99, 180.0)),
            &canary,
            &baseline,
            Mode::Sustained,
        );
        assert!(sustained.is_empty(), "{sustained:?}");
        let naive = check(
            ERROR_RATE,
            &spec,
            Some((0.99, 180.0)),
            &canary,
            &baseline,
            Mode::SingleSample,
        );
        let rules: Vec<Rule> = naive.iter().map(|h| h.rule).collect();
        assert_eq!(rules, vec![Rule::WorseThanStableBy, Rule::SuccessRate]);
        assert_eq!(naive[0].from_secs, 101.0);
        assert_eq!(naive[0].duration_secs, 1.0);
    }

    #[test]
    fn p95_rule_compares_medians_over_the_last_minute() {
        let spec = Policy::default().spec(P95_MS);
        let baseline = flat(0.0, 1.0, 100, 200.0);
        // Alternating 250/450 ms: single seconds are +25% and +125%, the median is +75%.
        let canary: Vec<Point> = (1..=100)
            .map(|i| Point {
                t_secs: i as f64,
                value: Some(if i % 2 == 0 { 250.0 } else { 450.0 }),
            })
            .collect();
        let hits = check(P95_MS, &spec, None, &canary, &baseline, Mode::Sustained);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule, Rule::WorseThanStablePct);
        assert_eq!(
            hits[0].message,
            "p95 350 ms vs stable 200 ms (+75%) for 1m11s — above the 50% limit"
        );
        // +40% everywhere stays under the 50% limit.
        let mild = check(
            P95_MS,
            &spec,
            None,
            &flat(0.0, 1.0, 100, 280.0),
            &baseline,
            Mode::Sustained,
        );
        assert!(mild.is_empty());
    }

    #[test]
    fn ceiling_and_success_floor() {
        let mut spec = error_spec();
        spec.limit = Some(0.015);
        spec.worse_than_stable_by = None;
        // 2% on both versions: no worse than stable, but over the 1.5% ceiling and under the
        // 99% success floor.
        let hits = check(
            ERROR_RATE,
            &spec,
            Some((0.99, 180.0)),
            &flat(0.0, 1.0, 220, 0.02),
            &flat(0.0, 1.0, 220, 0.02),
            Mode::Sustained,
        );
        let messages: Vec<&str> = hits.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "error rate 2.0% for 3m11s — above the 1.5% ceiling",
                "success rate 98.0% for 3m11s — under the 99.0% floor",
            ]
        );
        // At 200 samples the floor has held 171 s: not yet.
        let early = check(
            ERROR_RATE,
            &error_spec(),
            Some((0.99, 180.0)),
            &flat(0.0, 1.0, 200, 0.02),
            &flat(0.0, 1.0, 200, 0.02),
            Mode::Sustained,
        );
        assert!(early.is_empty(), "{early:?}");
    }

    #[test]
    fn a_long_hole_in_the_canary_ends_a_stretch() {
        let spec = error_spec();
        let mut canary = flat(0.0, 1.0, 200, 0.061);
        for p in canary.iter_mut().skip(90).take(40) {
            p.value = None;
        }
        // Bad from 30 to ~120 s and from ~160 s on: never 2 minutes in one stretch.
        let hits = check(
            ERROR_RATE,
            &spec,
            None,
            &canary,
            &flat(0.0, 1.0, 200, 0.002),
            Mode::Sustained,
        );
        assert!(hits.is_empty(), "{hits:?}");
    }

    #[test]
    fn words_for_values_and_durations() {
        assert_eq!(duration(130.0), "2m10s");
        assert_eq!(duration(45.2), "45s");
        assert_eq!(duration(60.0), "1m");
        assert_eq!(value(Unit::Ratio, 0.061), "6.1%");
        assert_eq!(value(Unit::Ratio, 0.0025), "0.25%");
        assert_eq!(value(Unit::Ratio, 0.002), "0.2%");
        assert_eq!(value(Unit::Ms, 412.4), "412 ms");
        assert_eq!(difference(Unit::Ratio, -0.012), "-1.2 pp");
        assert_eq!(step_secs(&flat(0.0, 15.0, 5, 1.0)), 15.0);
    }
}
