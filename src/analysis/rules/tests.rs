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

/// The same two minutes with a 15 s step fail the same way: time is read on timestamps, not
/// counted in samples (a reading stands on at least 3 samples, so it starts one step later).
#[test]
fn error_rate_rule_reads_time_not_sample_counts() {
    let spec = error_spec();
    // Summaries need max(⌈0.5·60/15⌉, 3) = 3 samples: known from t=45; t=45..150 plus one
    // step = 120 s.
    let hits = check(
        ERROR_RATE,
        &spec,
        None,
        &flat(0.0, 15.0, 10, 0.061),
        &flat(0.0, 15.0, 10, 0.002),
        Mode::Sustained,
    );
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].from_secs, 45.0);
    assert_eq!(hits[0].to_secs, 150.0);
    assert_eq!(hits[0].duration_secs, 120.0);
    let fewer = check(
        ERROR_RATE,
        &spec,
        None,
        &flat(0.0, 15.0, 9, 0.061),
        &flat(0.0, 15.0, 9, 0.002),
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
fn step_is_the_median_spacing() {
    assert_eq!(step_secs(&flat(0.0, 15.0, 5, 1.0)), 15.0);
    assert_eq!(step_secs(&flat(0.0, 15.0, 1, 1.0)), 0.0);
}

/// Counted, the error rule holds at its confidence bound: one error a minute in 180 requests
/// (0.56 %, over the 0.5 pp limit as a point) is not enough; 6 % of 600 a minute is.
#[test]
fn counted_error_rule_fires_only_when_sure() {
    let spec = error_spec();
    let n = 300;
    // 3 req/s; an error in every 60th second, so each 60 s stretch holds one in 180.
    let mut sparse = flat(0.0, 1.0, n, 0.0);
    for (i, p) in sparse.iter_mut().enumerate() {
        if i % 60 == 0 {
            p.value = Some(1.0 / 3.0);
        }
    }
    let stable = flat(0.0, 1.0, n, 0.0);
    let three = vec![Some(3.0); n];
    let weights = Weights {
        canary: &three,
        baseline: &three,
        confidence: 0.98,
    };
    let point = check_weighted(
        ERROR_RATE,
        &spec,
        None,
        (&sparse, &stable),
        None,
        Mode::Sustained,
    );
    assert_eq!(
        point.len(),
        1,
        "as points, 0.56 % for minutes is over 0.5 pp: {point:?}"
    );
    let counted = check_weighted(
        ERROR_RATE,
        &spec,
        Some((0.99, 180.0)),
        (&sparse, &stable),
        Some(weights),
        Mode::Sustained,
    );
    assert!(counted.is_empty(), "{counted:?}");

    let ten = vec![Some(10.0); n];
    let weights = Weights {
        canary: &ten,
        baseline: &ten,
        confidence: 0.98,
    };
    let bad = flat(0.0, 1.0, n, 0.06);
    let hits = check_weighted(
        ERROR_RATE,
        &spec,
        None,
        (&bad, &stable),
        Some(weights),
        Mode::Sustained,
    );
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(
        hits[0]
            .message
            .ends_with("above the 0.5 pp limit (at 98% confidence)"),
        "{}",
        hits[0].message
    );
}
