use super::*;
use crate::analysis::stats;

#[test]
fn generated_series_follow_the_scenario() {
    let settings = Settings {
        requests_per_sec: 30.0,
        ..Settings::default()
    };
    let series = generate(Scenario::ErrorSpike, &settings, 1);
    assert_eq!(series[0].name, ERROR_RATE);
    assert_eq!(series[0].canary.len(), 360);
    let mean_after = |points: &[Point]| {
        let v: Vec<f64> = points[60..].iter().filter_map(|p| p.value).collect();
        stats::mean(&v).unwrap()
    };
    assert!((mean_after(&series[0].canary) - 0.06).abs() < 0.01);
    assert!(mean_after(&series[0].baseline) < 0.006);
    // Same seed, same series; another seed, other series.
    assert_eq!(generate(Scenario::ErrorSpike, &settings, 1), series);
    assert_ne!(generate(Scenario::ErrorSpike, &settings, 2), series);

    // At 3 req/s some seconds have no request: gaps, not zeros.
    let quiet = generate(Scenario::NoisyHealthy, &Settings::default(), 1);
    let gaps = quiet[1].canary.iter().filter(|p| p.value.is_none()).count();
    assert!((5..40).contains(&gaps), "{gaps} gaps of 360 (e^-3 ≈ 5%)");
}

#[test]
fn the_judge_catches_bad_canaries_and_the_naive_judge_fails_healthy_ones() {
    let settings = Settings {
        requests_per_sec: 30.0,
        ..Settings::default()
    };
    let policy = Policy::default();
    for scenario in [Scenario::ErrorSpike, Scenario::LatencyRegression] {
        let row = evaluate(scenario, &settings, 0..5, &policy, JudgeKind::Statistical);
        assert_eq!(row.false_fails, 0, "{row:?}");
        assert_eq!(row.detect_secs.len(), 5, "{row:?}");
        assert!(row.detect_secs.iter().all(|d| *d <= 60.0), "{row:?}");
    }
    let healthy = evaluate(
        Scenario::NoisyHealthy,
        &Settings::default(),
        0..5,
        &policy,
        JudgeKind::Naive,
    );
    assert!(healthy.false_fails >= 4, "{healthy:?}");
}
