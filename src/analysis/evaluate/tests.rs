use super::*;

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

/// The numbers in BENCHMARKS.md ("Canary judge (synthetic series)"). Slow in a debug
/// build; run with `cargo test --lib analysis::evaluate -- --ignored --nocapture`.
#[test]
#[ignore]
fn synthetic_evaluation_table() {
    let policy = Policy::default();
    let low = Settings::default();
    let moderate = Settings {
        requests_per_sec: 30.0,
        ..Settings::default()
    };
    let mut rows = Vec::new();
    for judge_kind in [JudgeKind::Statistical, JudgeKind::Naive] {
        rows.push(evaluate(
            Scenario::NoisyHealthy,
            &low,
            0..300,
            &policy,
            judge_kind,
        ));
        rows.push(evaluate(
            Scenario::NoisyHealthy,
            &moderate,
            0..300,
            &policy,
            judge_kind,
        ));
        for scenario in [Scenario::ErrorSpike, Scenario::LatencyRegression] {
            for settings in [&low, &moderate] {
                rows.push(evaluate(
                    scenario,
                    settings,
                    1000..1100,
                    &policy,
                    judge_kind,
                ));
            }
        }
    }
    // Low traffic: the default 2-minute error rule is slow; an absolute ceiling read over
    // a shorter stretch is one way to trade a little risk for speed.
    for (label, smooth, ceiling, for_secs) in [
        ("error ceiling 3% (60 s mean) for 10 s", 60.0, 0.03, 10.0),
        ("error ceiling 4% (30 s mean) for 5 s", 30.0, 0.04, 5.0),
    ] {
        let mut tuned = Policy::default();
        if let Some(spec) = tuned.metrics.get_mut(ERROR_RATE) {
            spec.smooth_secs = smooth;
            spec.limit = Some(ceiling);
            spec.limit_for_secs = for_secs;
        }
        for (scenario, seeds) in [
            (Scenario::NoisyHealthy, 0..300),
            (Scenario::ErrorSpike, 1000..1100),
        ] {
            let mut row = evaluate(scenario, &low, seeds, &tuned, JudgeKind::Statistical);
            row.policy = label.into();
            rows.push(row);
        }
    }
    println!("{}", markdown_table(&rows));
    for row in rows.iter().filter(|r| r.judge == JudgeKind::Statistical) {
        for (seed, why) in &row.false_fail_reasons {
            println!(
                "false fail: {} at {} req/s ({}), seed {seed}: {why}",
                row.scenario.as_str(),
                row.requests_per_sec,
                row.policy
            );
        }
    }
}
