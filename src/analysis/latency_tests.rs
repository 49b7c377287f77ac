use super::*;
use crate::analysis::{JudgeKind, P95_MS, judge};
use crate::model::BucketPoint;

fn point(t_secs: f64, le: &[(f64, f64)], requests: f64) -> BucketPoint {
    BucketPoint {
        t_secs,
        le: le.to_vec(),
        requests,
    }
}

fn table(points: &[BucketPoint]) -> BucketTable {
    BucketTable::new(points, &[100.0, 200.0])
}

/// Worked by hand (and checked in Python) at 98 %, z = 2.3263:
/// stable 400 requests, 380 ≤ 100 ms: its pooled p95 is rank 380 in (0, 100] → 100 ms, and 20
/// requests (5 %) are slower. Canary 100 requests, 80 ≤ 100 ms: 20 slower (20 %).
/// d = 0.20 − 0.05 = 0.15. Pooled share 40/500 = 0.08, se = √(0.08 · 0.92 · (1/100 + 1/400))
/// = 0.030332, z = 4.9454, p = 7.6e-7. Wilson (continuity-corrected) 20/100: 0.11953 … 0.31286;
/// 20/400: 0.029174 … 0.083412. Newcombe: lower = 0.15 − √(0.08047² + 0.03341²) = 0.06287,
/// upper = 0.15 + √(0.11286² + 0.02083²) = 0.26477. The tolerance is max(25 % of 5 %,
/// 2.5 pp) = 2.5 pp: the interval clears it, High.
#[test]
fn slow_share_test_matches_a_case_worked_by_hand() {
    let stable = table(&[point(1.0, &[(100.0, 380.0), (200.0, 400.0)], 400.0)]);
    let canary = table(&[point(1.0, &[(100.0, 80.0), (200.0, 100.0)], 100.0)]);
    let (stable_pooled, _) = stable.pooled(0.0, 1.0);
    assert_eq!(stable_pooled.quantile(QUANTILE), Some(100.0));
    let policy = Policy::default();
    let (class, c) = classify_slow_share((&canary, &stable), (0.0, 1.0), 100.0, &policy);
    let c = c.expect("a comparison");
    assert_eq!(class, Classification::High);
    assert_eq!(c.test, ComparisonTest::SlowShare);
    let counts = c.counts.expect("counts");
    assert_eq!(
        (counts.canary.errors, counts.canary.requests),
        (20.0, 100.0)
    );
    assert_eq!(
        (counts.baseline.errors, counts.baseline.requests),
        (20.0, 400.0)
    );
    assert!((c.shift.estimate - 0.15).abs() < 1e-12);
    assert!((c.z - 4.9454).abs() < 1e-3, "{c:?}");
    assert!((c.p_value - 7.6e-7).abs() < 1e-7, "{c:?}");
    assert!((c.shift.lower - 0.06287).abs() < 1e-4, "{c:?}");
    assert!((c.shift.upper - 0.26477).abs() < 1e-4, "{c:?}");
    assert!((c.tolerance_abs - 0.025).abs() < 1e-12);

    // 6 of 100 slower (6 % against 5 %): lower bound −0.0411 by the same arithmetic, a pass.
    let healthy = table(&[point(1.0, &[(100.0, 94.0), (200.0, 100.0)], 100.0)]);
    let (class, c) = classify_slow_share((&healthy, &stable), (0.0, 1.0), 100.0, &policy);
    assert_eq!(class, Classification::Pass);
    assert!((c.expect("a comparison").shift.lower + 0.04108).abs() < 1e-4);
}

/// At 0.6 canary requests a second no interval reaches `min_requests`, and per-interval p95
/// samples are all left out; pooled, the window's 180 requests give a verdict.
#[test]
fn thin_intervals_contribute_their_counts() {
    let one_request = |t: f64, slow: bool| {
        let fast = if slow { 0.0 } else { 1.0 };
        point(t, &[(100.0, fast), (200.0, 1.0)], 1.0)
    };
    let canary: Vec<BucketPoint> = (1..=300)
        .filter(|i| i % 5 != 0 && i % 5 != 2)
        .map(|i| one_request(f64::from(i), i % 20 == 1))
        .collect();
    assert_eq!(canary.len(), 180);
    let stable: Vec<BucketPoint> = (1..=300)
        .map(|i| point(f64::from(i), &[(100.0, 19.0), (200.0, 20.0)], 20.0))
        .collect();
    let series = MetricSeries {
        name: P95_MS.into(),
        canary_buckets: canary,
        baseline_buckets: stable,
        ..MetricSeries::default()
    };
    let verdict = judge(&[series], &Policy::default());
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    assert_eq!(p95.status, MetricStatus::Pass, "{}", p95.summary);
    assert_eq!(
        p95.comparison.map(|c| c.test),
        Some(ComparisonTest::SlowShare)
    );
    assert!(p95.summary.contains("pooled histograms"), "{}", p95.summary);
    // Under 100 requests a side (5 expected slow ones) there is no verdict yet.
    let few = MetricSeries {
        name: P95_MS.into(),
        canary_buckets: vec![one_request(1.0, false); 1],
        baseline_buckets: vec![point(1.0, &[(100.0, 19.0), (200.0, 20.0)], 20.0)],
        ..MetricSeries::default()
    };
    let verdict = judge(&[few], &Policy::default());
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    assert_eq!(p95.status, MetricStatus::NoData);
    assert!(p95.summary.contains("need 100 a side"), "{}", p95.summary);
}

/// A canary whose every request is twice as slow for two minutes at 10 requests a second:
/// the slow share fails it, the pooled p95 rule (+50 % for 10 s) reads its pooled p95, and the
/// same series without buckets is judged on samples, saying so.
#[test]
fn a_slow_canary_fails_on_pooled_buckets_and_the_fallback_says_why() {
    let bounds = [25.0, 50.0, 100.0, 200.0, 400.0];
    // Stable: 10 requests a second, 1 above 100 ms (10 %), none above 200.
    let stable_le = [
        (25.0, 2.0),
        (50.0, 6.0),
        (100.0, 9.0),
        (200.0, 10.0),
        (400.0, 10.0),
    ];
    // Canary twice as slow: every bound's count moves one bucket up.
    let canary_le = [
        (25.0, 0.0),
        (50.0, 2.0),
        (100.0, 6.0),
        (200.0, 9.0),
        (400.0, 10.0),
    ];
    let series = |le: &[(f64, f64)]| -> Vec<BucketPoint> {
        (1..=120)
            .map(|i| point(1000.0 + f64::from(i), le, 10.0))
            .collect()
    };
    let metrics = MetricSeries {
        name: P95_MS.into(),
        canary_buckets: series(&canary_le),
        baseline_buckets: series(&stable_le),
        ..MetricSeries::default()
    };
    assert_eq!(
        crate::analysis::histogram::bounds_of([&metrics.canary_buckets[..]]),
        bounds
    );
    let verdict = judge(&[metrics], &Policy::default());
    assert_eq!(verdict.kind, crate::analysis::VerdictKind::Fail);
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    // Stable's pooled p95: rank 1140 of 1200 in (100, 200] → 100 + 100 × 60/120 = 150.
    assert_eq!(p95.baseline, Some(150.0));
    // Canary's: rank 1140 in (200, 400] → 200 + 200 × 60/120 = 300. Over the rule's minute
    // (600 requests a side) the bounds are the quantiles at 0.95 ∓ 2.326 · √(0.0475/600) =
    // 0.9293 / 0.9707: canary ≥ 258.6 ms, stable ≤ 170.7 ms; 258.6 > 1.5 × 170.7 = 256.
    assert_eq!(p95.canary, Some(300.0));
    assert_eq!(p95.classification, Classification::High);
    let hit = p95
        .rule_hits
        .first()
        .expect("the +50 % rule on pooled p95s");
    assert_eq!(hit.rule, Rule::WorseThanStablePct);
    assert!(
        hit.message.contains("p95 300 ms vs stable 150 ms (+100%)"),
        "{}",
        hit.message
    );

    let samples_only = MetricSeries {
        name: P95_MS.into(),
        canary: vec![],
        ..MetricSeries::default()
    };
    let verdict = judge(&[samples_only], &Policy::default());
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    assert!(
        p95.summary.contains("no latency buckets"),
        "{}",
        p95.summary
    );
    // The naive peer has no pooled path: it reads samples whatever the source gives.
    let naive = crate::analysis::judge_naive(&[], &Policy::default());
    assert_eq!(naive.judge, JudgeKind::Naive);
}

/// A threshold the policy names replaces stable's p95: 3 of 10 canary requests above 150 ms
/// is a share against stable's 0 of 400, whatever either p95 is.
#[test]
fn the_policy_can_name_the_slow_threshold() {
    let mut policy = Policy::default();
    if let Some(spec) = policy.metrics.get_mut(P95_MS) {
        spec.slow_above = Some(150.0);
        spec.worse_than_stable_pct = None;
    }
    let stable: Vec<BucketPoint> = (1..=40)
        .map(|i| point(f64::from(i), &[(100.0, 10.0), (200.0, 10.0)], 10.0))
        .collect();
    let canary: Vec<BucketPoint> = (1..=40)
        .map(|i| point(f64::from(i), &[(100.0, 4.0), (200.0, 10.0)], 10.0))
        .collect();
    let series = MetricSeries {
        name: P95_MS.into(),
        canary_buckets: canary,
        baseline_buckets: stable,
        ..MetricSeries::default()
    };
    let verdict = judge(&[series], &policy);
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    let c = p95.comparison.expect("a comparison");
    assert_eq!(c.slow_above, Some(150.0));
    // Half of the (100, 200] bucket's 6 requests lie above 150 ms: 3 a second, 120 of 400.
    let counts = c.counts.expect("counts");
    assert_eq!((counts.canary.errors, counts.baseline.errors), (120.0, 0.0));
    assert_eq!(p95.status, MetricStatus::Fail, "{}", p95.summary);
}
