//! Tests of `scrape.rs`.

use super::*;
use crate::model::{RolloutRef, Version, VersionRole};

fn counters(text: &str, src: &ScrapeSource) -> HashMap<(String, Labels), f64> {
    parse_exposition(text)
        .unwrap()
        .into_iter()
        .filter(|s| src.keep(s))
        .map(|s| ((s.name, s.labels), s.value))
        .collect()
}

fn expo(stable_ok: u64, canary_ok: u64, canary_5xx: u64, canary_buckets: [u64; 3]) -> String {
    let l = |hash: &str, code: &str| {
        format!(
            r#"{{reporter="destination",destination_workload_namespace="demo",destination_canonical_service="checkout",destination_workload="checkout-{hash}",response_code="{code}",rollouts_pod_template_hash="{hash}"}}"#
        )
    };
    let b = |le: &str| {
        format!(
            r#"{{reporter="destination",destination_workload_namespace="demo",destination_canonical_service="checkout",rollouts_pod_template_hash="bbb",le="{le}"}}"#
        )
    };
    format!(
        "istio_requests_total{} {stable_ok}\nistio_requests_total{} {canary_ok}\nistio_requests_total{} {canary_5xx}\nistio_requests_total{{reporter=\"source\",destination_workload_namespace=\"demo\",destination_canonical_service=\"checkout\",response_code=\"200\",rollouts_pod_template_hash=\"aaa\"}} 99999\nistio_request_duration_milliseconds_bucket{} {}\nistio_request_duration_milliseconds_bucket{} {}\nistio_request_duration_milliseconds_bucket{} {}\n",
        l("aaa", "200"),
        l("bbb", "200"),
        l("bbb", "503"),
        b("50"),
        canary_buckets[0],
        b("100"),
        canary_buckets[1],
        b("+Inf"),
        canary_buckets[2],
    )
}

#[test]
fn window_sums_consecutive_pairs_by_bucket_bound() {
    let g: Group = ("demo".into(), "checkout".into(), "bbb".into());
    let part = |requests: f64, errors: f64, b50: f64, inf: f64| {
        HashMap::from([(
            g.clone(),
            Increases {
                requests,
                errors,
                buckets: vec![(50.0, b50), (f64::INFINITY, inf)],
            },
        )])
    };
    let parts = [part(10.0, 1.0, 5.0, 10.0), part(30.0, 0.0, 20.0, 30.0)];
    let sum = sum_increases(parts.iter());
    assert_eq!(sum[&g].requests, 40.0);
    assert_eq!(sum[&g].errors, 1.0);
    assert_eq!(sum[&g].buckets, vec![(50.0, 25.0), (f64::INFINITY, 40.0)]);
}

/// p99 from the window's summed buckets, as `histogram_quantile(0.99, …)` answers: 100
/// requests, 90 at most 50 ms, all at most 100 ms → rank 99 is 9/10 into (50, 100]: 95 ms.
/// A version without requests has a gap, not a zero.
#[test]
fn extra_quantiles_come_from_the_window_buckets() {
    let g: Group = ("demo".into(), "checkout".into(), "bbb".into());
    let increases = HashMap::from([(
        g,
        Increases {
            requests: 100.0,
            errors: 0.0,
            buckets: vec![(50.0, 90.0), (100.0, 100.0), (f64::INFINITY, 100.0)],
        },
    )]);
    let target = Target {
        rollout: RolloutRef::new("c", "demo", "checkout"),
        versions: vec![
            Version::new(VersionRole::Stable, "aaa"),
            Version::new(VersionRole::Canary, "bbb"),
        ],
    };
    let points = quantile_points(&increases, &[target], 7.0, &[0.5, 0.99]);
    let got: Vec<(&str, &str, Option<f64>)> = points
        .iter()
        .map(|p| (p.version.hash.as_str(), p.name.as_str(), p.point.value))
        .collect();
    assert_eq!(
        got,
        [
            ("aaa", "p50", None),
            ("aaa", "p99", None),
            ("bbb", "p50", Some(50.0 * 50.0 / 90.0)),
            ("bbb", "p99", Some(95.0)),
        ]
    );
}

#[test]
fn signals_from_deltas_with_a_counter_reset() {
    let src = ScrapeSource::new(
        "http://127.0.0.1:1/metrics",
        ScrapeLayout::istio("rollouts_pod_template_hash"),
        Duration::from_secs(1),
    )
    .unwrap();
    let before = counters(&expo(1000, 200, 10, [100, 190, 210]), &src);
    // Stable's counter was reset (pod restart): its increase is the new value, 800.
    let after = counters(&expo(800, 390, 20, [190, 380, 410]), &src);
    let inc = src.increases(&before, &after);
    let target = Target {
        rollout: RolloutRef::new("c", "demo", "checkout"),
        versions: vec![
            Version::new(VersionRole::Stable, "aaa"),
            Version::new(VersionRole::Canary, "bbb"),
        ],
    };
    let pts = signals(&inc, std::slice::from_ref(&target), 5.0, 5.0);
    let get = |hash: &str, s: Signal| {
        pts.iter()
            .find(|p| p.version.hash == hash && p.signal == s)
            .unwrap()
            .point
            .value
    };
    assert_eq!(get("aaa", Signal::TrafficShare), Some(0.8));
    assert_eq!(get("bbb", Signal::TrafficShare), Some(0.2));
    assert_eq!(get("bbb", Signal::ErrorRate), Some(0.05));
    assert_eq!(get("aaa", Signal::ErrorRate), Some(0.0));
    // Canary bucket increases: 90 ≤ 50, 190 ≤ 100, 200 total: rank 190 → exactly 100.
    assert_eq!(get("bbb", Signal::P95Ms), Some(100.0));
    assert_eq!(get("aaa", Signal::P95Ms), None);
    // Over the 5 s the increases span: stable 800 requests, canary 200.
    assert_eq!(get("aaa", Signal::RequestRate), Some(160.0));
    assert_eq!(get("bbb", Signal::RequestRate), Some(40.0));

    // The canary's histogram of the interval, for the judge: 90 ≤ 50 ms, 190 ≤ 100 ms,
    // 200 in all; stable exports no buckets here, so it has none.
    let buckets = bucket_points(&inc, &[target], 5.0);
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0].version.hash, "bbb");
    assert_eq!(
        buckets[0].point,
        BucketPoint {
            t_secs: 5.0,
            le: vec![(50.0, 90.0), (100.0, 190.0)],
            requests: 200.0,
        }
    );
}

#[test]
fn nan_and_inf_samples_are_dropped_and_counted_before_judging() {
    let src = ScrapeSource::new(
        "http://127.0.0.1:1/metrics",
        ScrapeLayout::istio("rollouts_pod_template_hash"),
        Duration::from_secs(1),
    )
    .unwrap();
    let good = expo(1000, 200, 10, [100, 190, 210]);
    let poisoned = good
        .replacen(" 200\n", " NaN\n", 1)
        .replacen(" 10\n", " +Inf\n", 1);
    let samples = parse_exposition(&poisoned)
        .unwrap()
        .into_iter()
        .filter(|s| src.keep(s));
    let (kept, dropped) = finite_counters(samples);
    assert_eq!(dropped, 2);
    assert!(kept.values().all(|v| v.is_finite()));
    assert_eq!(kept.len(), counters(&good, &src).len() - 2);
    // The judge's inputs stay finite: the canary's rates come only from what is left.
    let after = counters(&expo(1100, 300, 20, [150, 280, 310]), &src);
    let inc = src.increases(&kept, &after);
    assert!(
        inc.values()
            .all(|i| i.requests.is_finite() && i.errors.is_finite())
    );
}
