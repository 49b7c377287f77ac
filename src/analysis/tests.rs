use super::evaluate::{Scenario, Settings, generate};
use super::*;
use crate::model::Version;

fn flat(count: usize, value: f64) -> Vec<Point> {
    (1..=count)
        .map(|i| Point {
            t_secs: 1000.0 + i as f64,
            value: Some(value),
        })
        .collect()
}

fn metric(name: &str, canary: Vec<Point>, baseline: Vec<Point>) -> MetricSeries {
    MetricSeries {
        name: name.into(),
        canary,
        baseline,
        ..MetricSeries::default()
    }
}

/// Sixty seeded healthy runs at moderate traffic (30 req/s per version): the judge passes
/// every one on its full 5-minute window, with every metric classified Pass.
#[test]
fn healthy_canaries_pass() {
    let settings = Settings {
        requests_per_sec: 30.0,
        duration_secs: 300.0,
        ..Settings::default()
    };
    for seed in 0..60 {
        let verdict = judge(
            &generate(Scenario::NoisyHealthy, &settings, seed),
            &Policy::default(),
        );
        assert_eq!(verdict.kind, VerdictKind::Pass, "seed {seed}: {verdict:#?}");
        assert_eq!(verdict.score, 100.0);
        assert_eq!(
            verdict.reasons,
            vec!["all 2 metrics with data within limits"]
        );
    }
}

#[test]
fn a_latency_regression_is_high_and_fails() {
    let settings = Settings {
        requests_per_sec: 30.0,
        duration_secs: 120.0,
        bad_from_secs: 0.0,
        ..Settings::default()
    };
    let verdict = judge(
        &generate(Scenario::LatencyRegression, &settings, 7),
        &Policy::default(),
    );
    assert_eq!(verdict.kind, VerdictKind::Fail);
    assert_eq!(verdict.score, 0.0);
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    assert_eq!(p95.classification, Classification::High);
    assert_eq!(p95.status, MetricStatus::Fail);
    let comparison = p95.comparison.unwrap();
    assert!(comparison.p_value < 1e-6, "{comparison:?}");
    // Judged on the pooled buckets: twice as slow, about half the canary's requests (log-normal,
    // σ 0.4: P(2X > p95) = 53 %) are slower than stable's p95, against 5 % of stable's.
    assert_eq!(comparison.test, ComparisonTest::SlowShare);
    assert!(comparison.shift.lower > comparison.tolerance_abs);
    assert!(
        (0.35..0.65).contains(&comparison.shift.estimate),
        "{p95:#?}"
    );
    assert!(
        (p95.canary.unwrap() / p95.baseline.unwrap() - 2.0).abs() < 0.6,
        "{p95:#?}"
    );
    // Without buckets the same samples are compared per interval: the shift is about one
    // stable p95.
    let samples_only: Vec<MetricSeries> = generate(Scenario::LatencyRegression, &settings, 7)
        .into_iter()
        .map(|m| MetricSeries {
            canary_buckets: Vec::new(),
            baseline_buckets: Vec::new(),
            ..m
        })
        .collect();
    let verdict = judge(&samples_only, &Policy::default());
    let p95 = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    let comparison = p95.comparison.unwrap();
    assert_eq!(comparison.test, ComparisonTest::MannWhitney);
    assert!(comparison.shift.lower > comparison.tolerance_abs);
    assert!(
        (comparison.shift.estimate / p95.baseline.unwrap() - 1.0).abs() < 0.3,
        "{p95:#?}"
    );
    let errors = verdict
        .metrics
        .iter()
        .find(|m| m.name == ERROR_RATE)
        .unwrap();
    assert_eq!(errors.status, MetricStatus::Pass);
    assert!(
        verdict.reasons[0].starts_with("p95 "),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn an_error_spike_fails_with_the_rule_in_words() {
    let verdict = judge(
        &[
            metric(ERROR_RATE, flat(200, 0.061), flat(200, 0.002)),
            metric(P95_MS, flat(200, 100.0), flat(200, 100.0)),
        ],
        &Policy::default(),
    );
    assert_eq!(verdict.kind, VerdictKind::Fail);
    assert_eq!(verdict.score, 0.0);
    assert_eq!(
        verdict.reasons[0],
        "error rate 6.1% vs stable 0.2% (+5.9 pp) for 2m51s — above the 0.5 pp limit"
    );
    assert!(
        verdict
            .headline()
            .starts_with("fail, score 0: error rate 6.1%")
    );
    let text = verdict.to_text();
    assert!(
        text.starts_with(
            "verdict: fail (score 0, statistical judge, window 5m)\n  - error rate 6.1% vs \
             stable 0.2% (+5.9 pp) for 2m51s — above the 0.5 pp limit\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  p95         pass     p95 100 ms vs stable 100 ms — within tolerance, pass \
             (judged on p95 samples: the metrics source gives no latency buckets)\n"
        ),
        "{text}"
    );
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["kind"], "fail");
    assert_eq!(json["judge"], "statistical");
    assert_eq!(
        json["metrics"][0]["rule_hits"][0]["rule"],
        "worse_than_stable_by"
    );
}

#[test]
fn a_small_significant_shift_within_tolerance_passes() {
    // Canary 10% slower, every sample: significant, but inside the 25% tolerance.
    let baseline: Vec<f64> = (0..40).map(|i| 100.0 + (i % 7) as f64).collect();
    let canary: Vec<f64> = baseline.iter().map(|v| v * 1.1).collect();
    let (class, comparison) = classify(&canary, &baseline, &Policy::default(), 0.0);
    assert_eq!(class, Classification::Pass);
    assert!(comparison.unwrap().p_value < 0.02);
    let faster: Vec<f64> = baseline.iter().map(|v| v * 0.5).collect();
    assert_eq!(
        classify(&faster, &baseline, &Policy::default(), 0.0).0,
        Classification::Low
    );
    assert_eq!(
        classify(&canary[..9], &baseline, &Policy::default(), 0.0).0,
        Classification::NoData
    );
}

#[test]
fn too_few_samples_is_no_data_never_a_guess() {
    let verdict = judge(
        &[
            metric(ERROR_RATE, flat(6, 0.0), flat(6, 0.0)),
            metric(P95_MS, flat(6, 100.0), flat(6, 100.0)),
        ],
        &Policy::default(),
    );
    assert_eq!(verdict.kind, VerdictKind::NoData);
    assert_eq!(verdict.kind.exit_code(), 4);
    assert_eq!(verdict.score, 0.0);
    assert_eq!(
        verdict.reasons,
        vec![
            "too few samples on 2 of 2 metrics to judge",
            "error rate: too few samples (canary 6, stable 6; need 10 each)",
            "p95: too few samples (canary 6, stable 6; need 10 each) (judged on p95 samples: \
             the metrics source gives no latency buckets)",
        ]
    );
    assert_eq!(judge(&[], &Policy::default()).kind, VerdictKind::NoData);
}

#[test]
fn score_is_weighted_by_group() {
    let mut policy = Policy::default();
    policy.groups.insert("saturation".into(), 10.0);
    policy.metrics.insert(
        "queue_depth".into(),
        MetricSpec {
            group: "saturation".into(),
            ..MetricSpec::unlisted("queue_depth")
        },
    );
    let rising: Vec<Point> = (1..=60)
        .map(|i| Point {
            t_secs: 1000.0 + i as f64,
            value: Some(20.0 + (i % 5) as f64),
        })
        .collect();
    let steady: Vec<Point> = (1..=60)
        .map(|i| Point {
            t_secs: 1000.0 + i as f64,
            value: Some(10.0 + (i % 5) as f64),
        })
        .collect();
    let metrics = [
        metric(ERROR_RATE, flat(60, 0.0), flat(60, 0.0)),
        metric(P95_MS, flat(60, 100.0), flat(60, 100.0)),
        metric("queue_depth", rising, steady),
    ];
    // errors 50 + latency 50 pass, saturation 10 fails: 100/110.
    let verdict = judge(&metrics, &policy);
    assert!((verdict.score - 100.0 * 100.0 / 110.0).abs() < 1e-9);
    assert_eq!(verdict.kind, VerdictKind::Marginal);
    assert_eq!(verdict.kind.exit_code(), 3);
    assert_eq!(verdict.reasons[0], "score 91 is under the pass mark 95");
    assert!(verdict.reasons[1].starts_with("queue depth 22.00 vs stable 12.00 — higher by +10.00"));

    // Critical: the same failure scores 0.
    policy.metrics.get_mut("queue_depth").unwrap().critical = true;
    let verdict = judge(&metrics, &policy);
    assert_eq!((verdict.kind, verdict.score), (VerdictKind::Fail, 0.0));

    // A declared metric that never arrives is NoData; with p95 missing too that is 2 of 3.
    let verdict = judge(&metrics[..1], &policy);
    assert_eq!(verdict.kind, VerdictKind::NoData);
    assert!(
        verdict
            .reasons
            .contains(&"queue depth: no samples from the canary".to_string())
    );
}

#[test]
fn the_naive_judge_fails_on_one_noisy_second() {
    let mut canary = flat(300, 0.0);
    canary[150].value = Some(1.0 / 3.0);
    let metrics = [
        metric(ERROR_RATE, canary, flat(300, 0.0)),
        metric(P95_MS, flat(300, 100.0), flat(300, 100.0)),
    ];
    assert_eq!(judge(&metrics, &Policy::default()).kind, VerdictKind::Pass);
    let naive = judge_naive(&metrics, &Policy::default());
    assert_eq!(naive.judge, JudgeKind::Naive);
    assert_eq!((naive.kind, naive.score), (VerdictKind::Fail, 0.0));
    assert_eq!(
        naive.reasons[0],
        "error rate 33.3% vs stable 0.0% (+33.3 pp) for 1s — above the 0.5 pp limit"
    );
}

#[test]
fn the_window_keeps_only_the_last_minutes() {
    // A bad first 10 minutes, then 5 healthy ones: a 5-minute window sees only health.
    let mut canary = flat(900, 0.0);
    for p in canary.iter_mut().take(600) {
        p.value = Some(0.5);
    }
    let metrics = [
        metric(ERROR_RATE, canary, flat(900, 0.0)),
        metric(P95_MS, flat(900, 100.0), flat(900, 100.0)),
    ];
    let verdict = judge(&metrics, &Policy::default());
    assert_eq!(verdict.kind, VerdictKind::Pass, "{:?}", verdict.reasons);
    assert_eq!(verdict.window_to_secs, Some(1900.0));
    assert_eq!(verdict.window_from_secs, Some(1600.0));
}

#[test]
fn metric_series_pairs_roles() {
    let points = flat(3, 0.01);
    let series = vec![
        VersionSeries {
            version: Version::new(VersionRole::Preview, "new"),
            signal: Signal::ErrorRate,
            points: points.clone(),
        },
        VersionSeries {
            version: Version::new(VersionRole::Active, "old"),
            signal: Signal::ErrorRate,
            points: flat(3, 0.02),
        },
        VersionSeries {
            version: Version::new(VersionRole::Canary, "new"),
            signal: Signal::TrafficShare,
            points: flat(3, 0.2),
        },
        VersionSeries {
            version: Version::new(VersionRole::Stable, "old"),
            signal: Signal::P95Ms,
            points: flat(3, 120.0),
        },
    ];
    let extra = [NamedSeries {
        name: "queue_depth".into(),
        version: Version::new(VersionRole::Canary, "new"),
        points: flat(2, 4.0),
    }];
    let metrics = metric_series(&series, &extra);
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec![ERROR_RATE, P95_MS, "queue_depth"]);
    assert_eq!(metrics[0].canary, points);
    assert_eq!(metrics[0].baseline, flat(3, 0.02));
    assert!(metrics[1].canary.is_empty());
    assert_eq!(metrics[1].baseline.len(), 3);
    assert_eq!(metrics[2].canary.len(), 2);
    assert!(metrics[2].baseline.is_empty());
}

#[test]
fn a_stale_snapshot_is_no_data() {
    let series = vec![
        VersionSeries {
            version: Version::new(VersionRole::Canary, "new"),
            signal: Signal::ErrorRate,
            points: flat(200, 0.0),
        },
        VersionSeries {
            version: Version::new(VersionRole::Stable, "old"),
            signal: Signal::ErrorRate,
            points: flat(200, 0.0),
        },
        VersionSeries {
            version: Version::new(VersionRole::Canary, "new"),
            signal: Signal::P95Ms,
            points: flat(200, 100.0),
        },
        VersionSeries {
            version: Version::new(VersionRole::Stable, "old"),
            signal: Signal::P95Ms,
            points: flat(200, 100.0),
        },
    ];
    let mut snapshot = crate::model::MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: crate::model::RolloutRef::new("lab-admin", "demo", "checkout"),
        source: "prometheus".into(),
        series,
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    };
    let fresh = judge_snapshot(&snapshot, &[], &Policy::default());
    assert_eq!((fresh.kind, fresh.score), (VerdictKind::Pass, 100.0));

    snapshot.stale_since_secs = Some(1150.0);
    snapshot.error = Some("connection refused".into());
    let stale = judge_snapshot(&snapshot, &[], &Policy::default());
    assert_eq!((stale.kind, stale.score), (VerdictKind::NoData, 0.0));
    assert_eq!(
        stale.reasons[0],
        "metrics from prometheus are stale: connection refused"
    );
    assert_eq!(stale.metrics.len(), 2);
}

/// The policy a "marginal verdict waits for a human" scenario can use: p95 is not critical and
/// weighs 20, so a latency regression alone scores 80 — Marginal, not Fail.
#[test]
fn a_non_critical_latency_regression_is_marginal() {
    let text = "[groups]\nerrors = 80\nlatency = 20\n[metrics.p95_ms]\ncritical = false\n\
                worse_than_stable_pct = \"off\"\n";
    let rollout = crate::model::RolloutRef::new("lab-admin", "demo", "checkout");
    let policy = Policy::from_toml(text, std::path::Path::new("marginal.toml"), &rollout).unwrap();
    let settings = Settings {
        requests_per_sec: 30.0,
        duration_secs: 120.0,
        bad_from_secs: 0.0,
        ..Settings::default()
    };
    let verdict = judge(
        &generate(Scenario::LatencyRegression, &settings, 3),
        &policy,
    );
    assert_eq!(verdict.kind, VerdictKind::Marginal, "{:?}", verdict.reasons);
    assert_eq!(verdict.score, 80.0);
    assert_eq!(verdict.reasons[0], "score 80 is under the pass mark 95");
    assert!(
        verdict.reasons[1].starts_with("p95 "),
        "{:?}",
        verdict.reasons
    );
    assert!(
        verdict.reasons[1].ends_with("— fail"),
        "{:?}",
        verdict.reasons
    );
}

#[test]
fn a_significant_shift_smaller_than_min_effect_passes() {
    // 0.29% vs 0.12% errors, 60 samples a side with a little noise: clearly significant, and
    // at 0.17 pp far below the 0.5 pp the error-rate rule acts on.
    let canary: Vec<f64> = (0..60).map(|i| 0.0029 + (i % 7) as f64 * 1e-5).collect();
    let baseline: Vec<f64> = (0..60).map(|i| 0.0012 + (i % 5) as f64 * 1e-5).collect();
    let policy = Policy::default();
    assert_eq!(
        classify(&canary, &baseline, &policy, 0.0).0,
        Classification::High
    );
    let min_effect = policy.spec(crate::analysis::policy::ERROR_RATE).min_effect;
    assert_eq!(min_effect, 0.005);
    let (class, comparison) = classify(&canary, &baseline, &policy, min_effect);
    assert_eq!(class, Classification::Pass);
    assert_eq!(comparison.map(|c| c.tolerance_abs), Some(0.005));
}

/// `requests` req/s behind every sample of `flat(count, _)`.
fn rates(count: usize, requests: f64) -> Vec<Point> {
    flat(count, requests)
}

/// With request rates, an error spike is counted: 30 s at 10 req/s with 8 % errors against
/// 0.2 % of 40 req/s is a two-proportion finding long before the 2-minute rule could fire.
#[test]
fn error_rates_are_judged_on_counts_when_requests_are_known() {
    let mut errors = metric(ERROR_RATE, flat(30, 0.08), flat(30, 0.002));
    errors.canary_requests = rates(30, 10.0);
    errors.baseline_requests = rates(30, 40.0);
    let verdict = judge(&[errors], &Policy::default());
    let m = &verdict.metrics[0];
    assert!(m.rule_hits.is_empty(), "{m:#?}");
    assert_eq!(m.classification, Classification::High);
    let c = m.comparison.unwrap();
    assert_eq!(c.test, ComparisonTest::TwoProportions);
    let counts = c.counts.unwrap();
    assert!((counts.canary.requests - 300.0).abs() < 1e-9);
    assert!((counts.canary.errors - 24.0).abs() < 1e-9);
    assert!((counts.baseline.requests - 1200.0).abs() < 1e-9);
    assert!(c.shift.lower > c.tolerance_abs, "{c:?}");
    assert!(
        m.summary
            .contains("(24 errors in 300 requests vs 2 in 1200) — higher by +7.8 pp"),
        "{}",
        m.summary
    );
    assert_eq!(m.status, MetricStatus::Fail);
}

/// One bad second is one error in a handful of requests: counted, it is not a finding, where
/// the mean of per-second rates (the naive reading) would show 33 %.
#[test]
fn one_error_in_three_requests_is_not_a_finding() {
    let mut canary = flat(60, 0.0);
    canary[59].value = Some(1.0 / 3.0);
    let mut errors = metric(ERROR_RATE, canary, flat(60, 0.002));
    errors.canary_requests = rates(60, 3.0);
    errors.baseline_requests = rates(60, 12.0);
    let verdict = judge(&[errors], &Policy::default());
    let m = &verdict.metrics[0];
    assert_eq!(m.classification, Classification::Pass, "{m:#?}");
    assert!((m.canary.unwrap() - 1.0 / 180.0).abs() < 1e-9, "{m:#?}");
}

/// At 0.6 req/s a 1 s sample's p95 is one request's latency: left out, and p95 is NoData with
/// the reason, so the verdict waits instead of guessing.
#[test]
fn p95_over_too_few_requests_is_no_data_with_the_reason() {
    let mut p95 = metric(P95_MS, flat(300, 90.0), flat(300, 100.0));
    p95.canary_requests = rates(300, 0.6);
    p95.baseline_requests = rates(300, 2.4);
    let mut errors = metric(ERROR_RATE, flat(300, 0.0), flat(300, 0.0));
    errors.canary_requests = rates(300, 0.6);
    errors.baseline_requests = rates(300, 2.4);
    let verdict = judge(&[errors, p95], &Policy::default());
    assert_eq!(verdict.kind, VerdictKind::NoData, "{verdict:#?}");
    let m = verdict.metrics.iter().find(|m| m.name == P95_MS).unwrap();
    assert_eq!(m.status, MetricStatus::NoData);
    assert!(
        m.summary.starts_with(
            "p95: too little traffic to judge — 300 canary and 300 stable samples had fewer \
             than 10 requests"
        ),
        "{}",
        m.summary
    );
}

#[test]
fn metric_series_carries_request_rates_to_errors_and_p95() {
    let stable = Version::new(VersionRole::Stable, "aaa");
    let canary = Version::new(VersionRole::Canary, "bbb");
    let series: Vec<VersionSeries> = [
        (&stable, Signal::ErrorRate, 0.001),
        (&stable, Signal::RequestRate, 40.0),
        (&canary, Signal::P95Ms, 120.0),
        (&canary, Signal::RequestRate, 10.0),
    ]
    .into_iter()
    .map(|(v, signal, value)| VersionSeries {
        version: v.clone(),
        signal,
        points: flat(3, value),
    })
    .collect();
    let metrics = metric_series(&series, &[]);
    assert_eq!(metrics.len(), 2);
    for m in &metrics {
        assert_eq!(m.canary_requests, flat(3, 10.0), "{}", m.name);
        assert_eq!(m.baseline_requests, flat(3, 40.0), "{}", m.name);
    }
}

/// A custom metric the snapshot carries (fetched by its policy query) is judged by the same
/// function every entry point calls: a canary failing far more orders fails the verdict, and
/// the reason names the metric.
#[test]
fn a_failing_custom_metric_fails_the_snapshot_verdict_by_name() {
    let policy = Policy::from_toml(
        include_str!("policy.example.toml"),
        std::path::Path::new("policy.example.toml"),
        &crate::model::RolloutRef::new("lab-admin", "demo", "checkout"),
    )
    .unwrap();
    let both = |signal: Signal, canary: f64, stable: f64| {
        [
            VersionSeries {
                version: Version::new(VersionRole::Canary, "new"),
                signal,
                points: flat(200, canary),
            },
            VersionSeries {
                version: Version::new(VersionRole::Stable, "old"),
                signal,
                points: flat(200, stable),
            },
        ]
    };
    let mut series = Vec::new();
    series.extend(both(Signal::ErrorRate, 0.0, 0.0));
    series.extend(both(Signal::P95Ms, 100.0, 100.0));
    let orders = |hash: &str, role: VersionRole, ratio: f64| NamedSeries {
        name: "order_failure_ratio".into(),
        version: Version::new(role, hash),
        points: flat(200, ratio),
    };
    let mut snapshot = crate::model::MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: crate::model::RolloutRef::new("lab-admin", "demo", "checkout"),
        source: "prometheus".into(),
        series,
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: vec![
            orders("new", VersionRole::Canary, 0.01),
            orders("old", VersionRole::Stable, 0.01),
        ],
    };
    let healthy = judge_snapshot(&snapshot, &[], &policy);
    let line = healthy
        .metrics
        .iter()
        .find(|m| m.name == "order_failure_ratio")
        .expect("the custom metric has its own line");
    assert_eq!(line.status, MetricStatus::Pass, "{healthy:?}");

    snapshot.custom[0] = orders("new", VersionRole::Canary, 0.25);
    let failing = judge_snapshot(&snapshot, &[], &policy);
    assert_eq!(failing.kind, VerdictKind::Fail, "{:?}", failing.reasons);
    // Reasons write the metric's name in words.
    assert!(
        failing
            .reasons
            .iter()
            .any(|r| r.starts_with("order failure ratio 25.0% vs stable 1.0%")),
        "{:?}",
        failing.reasons
    );

    // A direct scrape cannot run the queries: it says so first, and the custom metrics are
    // left out of its verdict, so the built-in signals still decide.
    snapshot.source = "scrape".into();
    snapshot.error = Some("the scrape source cannot run PromQL".into());
    snapshot.custom.clear();
    let noted = judge_snapshot(&snapshot, &[], &policy);
    assert_eq!(
        noted.reasons[0],
        "metrics from scrape: the scrape source cannot run PromQL"
    );
    assert_eq!(noted.kind, VerdictKind::Pass, "{:?}", noted.reasons);
    assert!(
        noted
            .metrics
            .iter()
            .all(|m| m.name != "order_failure_ratio")
    );
}
