//! Traffic follows the weights, each version follows its profile, and the exposition is
//! valid Prometheus text with counters that only grow.

use super::*;
use serde_json::json;
use std::collections::HashMap;

fn at_ms(ms: i64) -> Timestamp {
    "2026-11-22T10:00:00Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_millis(ms)
}

fn replica_set(rollout: &str, hash: &str, profile: Value) -> Value {
    json!({
        "metadata": {
            "name": format!("{rollout}-{hash}"),
            "namespace": "demo",
            "labels": {POD_TEMPLATE_HASH_LABEL: hash},
            "ownerReferences": [{"kind": "Rollout", "name": rollout}],
        },
        "spec": {"template": {"metadata": {
            "labels": {"app.kubernetes.io/version": format!("v-{hash}")},
            "annotations": {PROFILE_ANNOTATION: profile.to_string()},
        }}},
    })
}

fn canary(name: &str, canary_weight: i64, rate: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "demo", "annotations": {RATE_ANNOTATION: rate}},
        "spec": {"strategy": {"canary": {"steps": []}}},
        "status": {"canary": {"weights": {
            "canary": {"weight": canary_weight, "podTemplateHash": "new", "serviceName": format!("{name}-canary")},
            "stable": {"weight": 100 - canary_weight, "podTemplateHash": "old", "serviceName": format!("{name}-stable")},
        }}},
    })
}

/// Parse the exposition line by line into (series with labels → value), checking its form.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut values = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "histogram", "gauge"].contains(&kind), "{line}");
            typed.push(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value in {line:?}"));
        let (name, labels) = series.split_once('{').expect("labels");
        let labels = labels.strip_suffix('}').expect("closing brace");
        assert!(
            typed.iter().any(|t| name == t
                || name
                    .strip_prefix(t.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
            "{name} has no TYPE line before it"
        );
        for pair in labels.split("\",") {
            let (key, v) = pair
                .split_once("=\"")
                .unwrap_or_else(|| panic!("label {pair:?}"));
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{key}"
            );
            assert!(!v.trim_end_matches('"').contains('"'), "{v}");
        }
        assert!(
            values.insert(series.to_string(), value).is_none(),
            "duplicate {series}"
        );
    }
    values
}

fn sum_where(values: &HashMap<String, f64>, name: &str, needles: &[&str]) -> f64 {
    values
        .iter()
        .filter(|(k, _)| {
            k.starts_with(&format!("{name}{{")) && needles.iter().all(|n| k.contains(n))
        })
        .map(|(_, v)| v)
        .sum()
}

/// `histogram_quantile` over the buckets of one hash, as Prometheus computes it.
fn quantile(values: &HashMap<String, f64>, hash: &str, q: f64) -> f64 {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for (bound, le) in BUCKETS_MS
        .iter()
        .map(|b| (*b, b.to_string()))
        .chain([(f64::INFINITY, "+Inf".to_string())])
    {
        let needle = format!("le=\"{le}\"");
        let hash_label = format!("rollouts_pod_template_hash=\"{hash}\"");
        let count = sum_where(
            values,
            "istio_request_duration_milliseconds_bucket",
            &[&hash_label, &needle],
        );
        buckets.push((bound, count));
    }
    let total = buckets.last().unwrap().1;
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for (bound, count) in buckets {
        if count >= rank {
            return lower.0 + (bound - lower.0) * (rank - lower.1) / (count - lower.1);
        }
        lower = (bound, count);
    }
    f64::NAN
}

fn run(
    traffic: &mut Traffic,
    rollouts: &[Value],
    rs: &[Value],
    from_ms: i64,
    to_ms: i64,
    speed: f64,
) {
    let mut t = from_ms;
    while t <= to_ms {
        traffic.tick(rollouts, rs, at_ms(t), speed);
        t += 100;
    }
}

#[test]
fn shares_follow_the_weights_and_each_version_its_profile() {
    let stable = json!({"errorRate": 0.01, "latencyMs": {"median": 40, "p95": 120}});
    let bad = json!({"errorRate": 0.10, "latencyMs": {"median": 50, "p95": 300}});
    let rs = [
        replica_set("checkout", "old", stable),
        replica_set("checkout", "new", bad),
    ];
    let rollouts = [canary("checkout", 20, "1000")];
    let mut traffic = Traffic::new(42);
    run(&mut traffic, &rollouts, &rs, 0, 60_000, 1.0);
    let values = parse(&traffic.render());
    let all = sum_where(&values, "istio_requests_total", &[]);
    let new = sum_where(&values, "istio_requests_total", &["hash=\"new\""]);
    assert!(
        (all - 60_000.0).abs() < 2_000.0,
        "≈1000 req/s for 60 s, got {all}"
    );
    assert!(
        (new / all - 0.20).abs() < 0.01,
        "canary share {}",
        new / all
    );
    for (hash, rate) in [("old", 0.01), ("new", 0.10)] {
        let h = format!("hash=\"{hash}\"");
        let total = sum_where(&values, "istio_requests_total", &[&h]);
        let errors = sum_where(&values, "istio_requests_total", &[&h, "response_code=\"5"]);
        let measured = errors / total;
        assert!(
            (measured - rate).abs() < rate * 0.15 + 0.002,
            "{hash}: error rate {measured}"
        );
    }
    // The business metric follows the error profile: a canary failing 10% of requests fails
    // about 10% of its orders; every version exports both counters.
    for (hash, rate) in [("old", 0.01), ("new", 0.10)] {
        let h = format!("hash=\"{hash}\"");
        let done = sum_where(&values, "orders_completed_total", &[&h]);
        let failed = sum_where(&values, "orders_failed_total", &[&h]);
        let total = sum_where(&values, "istio_requests_total", &[&h]);
        assert!(
            ((done + failed) / total - ORDER_SHARE).abs() < 0.02,
            "{hash}: orders per request {}",
            (done + failed) / total
        );
        let ratio = failed / (done + failed);
        assert!(
            (ratio - rate).abs() < rate * 0.3 + 0.005,
            "{hash}: failed orders {ratio}"
        );
    }
    let p95_old = quantile(&values, "old", 0.95);
    let p95_new = quantile(&values, "new", 0.95);
    assert!((p95_old - 120.0).abs() < 15.0, "stable p95 {p95_old}");
    assert!((p95_new - 300.0).abs() < 35.0, "canary p95 {p95_new}");
    let median_old = quantile(&values, "old", 0.5);
    assert!(
        (median_old - 40.0).abs() < 6.0,
        "stable median {median_old}"
    );
    let count = sum_where(
        &values,
        "istio_request_duration_milliseconds_count",
        &["hash=\"old\""],
    );
    let sum = sum_where(
        &values,
        "istio_request_duration_milliseconds_sum",
        &["hash=\"old\""],
    );
    let mean = sum / count;
    // Log-normal mean = median · e^{σ²/2}, σ = ln(3)/1.645.
    assert!(
        (mean - 40.0 * (0.6679f64.powi(2) / 2.0).exp()).abs() < 3.0,
        "mean {mean}"
    );
    // The saturation gauge is Little's law averaged over ~10 s: stable's 800 req/s × its
    // 50 ms mean ≈ 40 requests in flight (the test's ReplicaSets declare no pods: one).
    let in_flight = sum_where(&values, "queue_depth", &["hash=\"old\""]);
    let expected = 800.0 * mean / 1000.0;
    assert!(
        (in_flight - expected).abs() < expected * 0.2,
        "stable queue depth {in_flight}, expected about {expected}"
    );
    // A request series (the order counters and the queue gauge carry the workload only).
    let labels = values
        .keys()
        .find(|k| k.starts_with("istio_requests_total{") && k.contains("hash=\"new\""))
        .unwrap();
    for label in [
        "reporter=\"destination\"",
        "destination_workload_namespace=\"demo\"",
        "destination_canonical_service=\"checkout\"",
        "destination_workload=\"checkout-new\"",
        "destination_service_name=\"checkout-canary\"",
        "destination_canonical_revision=\"v-new\"",
    ] {
        assert!(labels.contains(label), "{label} missing in {labels}");
    }
}

#[test]
fn a_spike_starts_after_the_version_has_had_traffic_that_long_scaled_by_speed() {
    let spiky = json!({"errorRate": 0.0, "spike": {"afterSecs": 60, "errorRate": 0.5}});
    let rs = [
        replica_set("inv", "old", json!({"errorRate": 0.0})),
        replica_set("inv", "new", spiky),
    ];
    let mut traffic = Traffic::new(1);
    // Ten seconds with no canary traffic do not count towards the spike.
    run(
        &mut traffic,
        &[canary("inv", 0, "200")],
        &rs,
        0,
        10_000,
        10.0,
    );
    let rollouts = [canary("inv", 50, "200")];
    // 5.9 s of wall time at speed 10 = 59 s of lab time: no errors yet.
    run(&mut traffic, &rollouts, &rs, 10_100, 16_000, 10.0);
    let before = parse(&traffic.render());
    let errors = |v: &HashMap<String, f64>| {
        sum_where(
            v,
            "istio_requests_total",
            &["hash=\"new\"", "response_code=\"5"],
        )
    };
    assert_eq!(errors(&before), 0.0);
    run(&mut traffic, &rollouts, &rs, 16_100, 26_000, 10.0);
    let after = parse(&traffic.render());
    let new_requests = sum_where(&after, "istio_requests_total", &["hash=\"new\""])
        - sum_where(&before, "istio_requests_total", &["hash=\"new\""]);
    let rate = errors(&after) / new_requests;
    assert!((rate - 0.5).abs() < 0.08, "spiked error rate {rate}");
    assert_eq!(
        sum_where(
            &after,
            "istio_requests_total",
            &["hash=\"old\"", "response_code=\"5"]
        ),
        0.0
    );
}

#[test]
fn counters_only_grow_and_histograms_are_cumulative() {
    let rs = [
        replica_set("c", "old", json!({})),
        replica_set("c", "new", json!({"errorRate": 0.2})),
    ];
    let mut traffic = Traffic::new(9);
    let mut previous: HashMap<String, f64> = HashMap::new();
    for (i, weight) in [0, 20, 20, 100, 0, 50].into_iter().enumerate() {
        let start = i as i64 * 2_000;
        run(
            &mut traffic,
            &[canary("c", weight, "50")],
            &rs,
            start,
            start + 1_900,
            1.0,
        );
        let values = parse(&traffic.render());
        // Counters (the gauge goes up and down).
        for (series, value) in previous
            .iter()
            .filter(|(k, _)| !k.starts_with("queue_depth"))
        {
            let now = values
                .get(series)
                .unwrap_or_else(|| panic!("{series} vanished"));
            assert!(now >= value, "{series} went from {value} to {now}");
        }
        for (series, count) in values
            .iter()
            .filter(|(k, _)| k.starts_with("istio_request_duration_milliseconds_count"))
        {
            let labels = series
                .trim_start_matches("istio_request_duration_milliseconds_count{")
                .trim_end_matches('}');
            let mut last = 0.0;
            for le in BUCKETS_MS
                .iter()
                .map(|b| b.to_string())
                .chain(["+Inf".to_string()])
            {
                let bucket = values[&format!(
                    "istio_request_duration_milliseconds_bucket{{{labels},le=\"{le}\"}}"
                )];
                assert!(bucket >= last, "buckets of {labels} are not cumulative");
                last = bucket;
            }
            assert_eq!(last, *count, "+Inf bucket equals _count");
            assert_eq!(values[&format!("istio_requests_total{{{labels}}}")], *count);
        }
        previous = values;
    }
}

#[test]
fn blue_green_sends_everything_to_active_and_deleted_rollouts_end_their_series() {
    let rollout = json!({
        "metadata": {"name": "payments", "namespace": "demo"},
        "spec": {"strategy": {"blueGreen": {"activeService": "payments", "previewService": "payments-preview"}}},
        "status": {"blueGreen": {"activeSelector": "old", "previewSelector": "new"}},
    });
    let rs = [
        replica_set("payments", "old", json!({})),
        replica_set("payments", "new", json!({})),
    ];
    let mut traffic = Traffic::new(3);
    run(
        &mut traffic,
        std::slice::from_ref(&rollout),
        &rs,
        0,
        5_000,
        1.0,
    );
    let values = parse(&traffic.render());
    assert!(
        sum_where(
            &values,
            "istio_requests_total",
            &["hash=\"old\"", "destination_service_name=\"payments\""]
        ) > 100.0
    );
    assert_eq!(
        sum_where(&values, "istio_requests_total", &["hash=\"new\""]),
        0.0
    );
    traffic.tick(&[], &rs, at_ms(5_100), 1.0);
    assert_eq!(parse(&traffic.render()).len(), 0);
}

#[test]
fn a_million_requests_per_second_are_counted_exactly_enough() {
    let rs = [
        replica_set("big", "old", json!({})),
        replica_set("big", "new", json!({})),
    ];
    let mut traffic = Traffic::new(5);
    run(
        &mut traffic,
        &[canary("big", 30, "1000000")],
        &rs,
        0,
        10_000,
        1.0,
    );
    let values = parse(&traffic.render());
    let total = sum_where(&values, "istio_requests_total", &[]);
    // 100 ticks of 100 000 requests, each drawn per bucket rather than per request.
    assert!((total - 1.0e7).abs() < 1.0e5, "{total}");
}
