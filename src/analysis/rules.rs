//! Threshold rules: "worse than stable by X for N seconds", absolute limits and the success-rate
//! floor, read on a trailing summary of the samples and timed on sample timestamps, so one
//! noisy second never fails a canary. With smoothing and durations off they become the naive
//! judge's single-sample thresholds.

use super::policy::{Aggregate, Direction, MetricSpec, Unit};
use super::proportions::{self, Counts};
use super::stats;
use super::words::{difference, display_name, duration, value};
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
    /// With request counts: how sure the reading is (see [`Bounds`]).
    bounds: Option<Bounds>,
}

/// Lower confidence bounds of a counted reading: the canary's error rate (Wilson) and its
/// excess over stable's (Newcombe). With counts, a rule on the error rate fires only when it
/// holds at these bounds, so 1 error in 180 requests (0.56 %) is not "above 0.5 pp".
#[derive(Clone, Copy, Debug)]
struct Bounds {
    canary_low: f64,
    excess_low: Option<f64>,
}

/// Requests behind each canary and each stable sample (aligned with the points; `None` for a
/// sample of unknown traffic), and the confidence counted readings are held to.
#[derive(Clone, Copy, Debug)]
pub struct Weights<'a> {
    pub canary: &'a [Option<f64>],
    pub baseline: &'a [Option<f64>],
    pub confidence: f64,
}

/// The fewest samples a smoothed reading stands on.
const MIN_SAMPLES_PER_READING: usize = 3;

/// Summaries over the trailing `(t − smooth, t]` at every canary timestamp (at least three
/// steps long). A summary needs half the stretch covered by samples, and at least
/// [`MIN_SAMPLES_PER_READING`], otherwise it is unknown. With weights,
/// a mean is weighted by requests (errors over requests), and samples without a known request
/// count are left out.
fn readings(
    canary: &[Point],
    baseline: &[Point],
    weights: Option<Weights<'_>>,
    spec: &MetricSpec,
    smooth_secs: f64,
    step: f64,
) -> Vec<Reading> {
    // Smoothed, a reading stands on at least three samples however sparse they are (one p95
    // of 18 requests every 30 s must not fail a canary alone); single-sample mode reads each.
    let (span, needed) = if smooth_secs > 0.0 && step > 0.0 {
        let span = smooth_secs.max(MIN_SAMPLES_PER_READING as f64 * step);
        let half = (0.5 * span / step).ceil() as usize;
        (span, half.max(MIN_SAMPLES_PER_READING))
    } else {
        (smooth_secs.max(step / 2.0), 1)
    };
    // Points are sorted by time, so each stretch is a slice found by binary search. A summary
    // is the value and, for a weighted mean, the counts behind it.
    let summary = |points: &[Point],
                   weights: Option<&[Option<f64>]>,
                   t: f64|
     -> (Option<f64>, Option<Counts>) {
        let from = points.partition_point(|p| p.t_secs <= t - span);
        let to = points.partition_point(|p| p.t_secs <= t).max(from);
        let weight = |i: usize| match weights {
            Some(w) => w.get(i).copied().flatten(),
            None => Some(1.0),
        };
        let values: Vec<(f64, f64)> = (from..to)
            .filter_map(|i| Some((points[i].value?, weight(i)?)))
            .collect();
        if values.len() < needed {
            return (None, None);
        }
        match spec.aggregate {
            Aggregate::Mean => {
                let requests: f64 = values.iter().map(|(_, w)| w).sum();
                let errors: f64 = values.iter().map(|(v, w)| v * w).sum();
                let counts = weights.map(|_| Counts { requests, errors });
                ((requests > 0.0).then(|| errors / requests), counts)
            }
            Aggregate::Median => (
                stats::median(&values.iter().map(|(v, _)| *v).collect::<Vec<f64>>()),
                None,
            ),
        }
    };
    canary
        .iter()
        .map(|p| {
            let (c, c_counts) = summary(canary, weights.map(|w| w.canary), p.t_secs);
            let (b, b_counts) = summary(baseline, weights.map(|w| w.baseline), p.t_secs);
            let bounds = match (weights, c_counts) {
                (Some(w), Some(cc)) if cc.requests > 0.0 => {
                    let z = stats::normal_quantile(1.0 - (1.0 - w.confidence) / 2.0);
                    Some(Bounds {
                        canary_low: proportions::wilson(cc.errors, cc.requests, z).0,
                        excess_low: b_counts.and_then(|bc| {
                            proportions::two_proportions(cc, bc, w.confidence)
                                .map(|t| t.shift.lower)
                        }),
                    })
                }
                _ => None,
            };
            Reading {
                t: p.t_secs,
                canary: c,
                baseline: b,
                bounds,
            }
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
    broken: impl Fn(f64, Option<f64>, Option<Bounds>) -> Option<bool>,
) -> Option<Stretch> {
    let mut best: Option<Stretch> = None;
    let mut current: Option<Stretch> = None;
    let mut last_t = f64::NEG_INFINITY;
    for r in readings {
        let holds = r
            .canary
            .and_then(|c| broken(c, r.baseline, r.bounds).map(|b| (b, c)))
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

/// A moment, and where a rule held there the canary's and stable's values.
pub(super) type Held = (f64, Option<(f64, Option<f64>)>);

/// The longest stretch lasting `for_secs` of moments where a rule held, for readings made
/// elsewhere (pooled histograms): `(t, Some((canary, baseline)))` where it held, `None` where
/// it did not or could not be read. Returns (from, to, canary, baseline) at its end.
pub(super) fn held_for(
    readings: &[Held],
    step: f64,
    for_secs: f64,
) -> Option<(f64, f64, f64, Option<f64>)> {
    let readings: Vec<Reading> = readings
        .iter()
        .map(|(t, r)| Reading {
            t: *t,
            canary: r.map(|r| r.0),
            baseline: r.and_then(|r| r.1),
            bounds: None,
        })
        .collect();
    longest_stretch(&readings, step, for_secs, |_, _, _| Some(true))
        .map(|s| (s.from, s.to, s.canary, s.baseline))
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
    check_weighted(name, spec, success_floor, (canary, baseline), None, mode)
}

/// [`check`] with the requests behind each sample, so mean rules read errors over requests.
pub fn check_weighted(
    name: &str,
    spec: &MetricSpec,
    success_floor: Option<(f64, f64)>,
    (canary, baseline): (&[Point], &[Point]),
    weights: Option<Weights<'_>>,
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
    let readings = readings(canary, baseline, weights, spec, smooth, step);
    // Counted readings are held to the confidence bound: say so.
    let sure = weights.map_or(String::new(), |w| {
        format!(" (at {:.0}% confidence)", w.confidence * 100.0)
    });
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
        let found = longest_stretch(&readings, step, for_secs, |c, b, bounds| {
            match bounds.and_then(|x| x.excess_low) {
                Some(low) if spec.direction == Direction::HigherIsWorse => Some(low > by),
                _ => b.map(|b| worse(c, b) > by),
            }
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
            hits.push(hit(Rule::WorseThanStableBy, s, by, message + &sure));
        }
    }
    if let Some(pct) = spec.worse_than_stable_pct {
        let found = longest_stretch(&readings, step, for_secs, |c, b, _| {
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
        let found = longest_stretch(&readings, step, limit_for_secs, |c, _, bounds| {
            Some(match (spec.direction, bounds) {
                (Direction::HigherIsWorse, Some(x)) => x.canary_low > limit,
                (Direction::HigherIsWorse, None) => c > limit,
                (Direction::LowerIsWorse, _) => c < limit,
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
            hits.push(hit(Rule::Limit, s, limit, message + &sure));
        }
    }
    if let Some((min, _)) = success_floor {
        let found = longest_stretch(&readings, step, floor_for, |c, _, bounds| {
            Some(match bounds {
                Some(x) => 1.0 - x.canary_low < min,
                None => 1.0 - c < min,
            })
        });
        if let Some(s) = found {
            let message = format!(
                "success rate {} for {} — under the {} floor",
                value(Unit::Ratio, 1.0 - s.canary),
                duration(s.to - s.from + step),
                value(Unit::Ratio, min),
            );
            hits.push(hit(Rule::SuccessRate, s, min, message + &sure));
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

#[cfg(test)]
mod tests;
