//! Tests of `prometheus_source.rs`.

use super::*;
use crate::metrics::prometheus::PrometheusConfig;
use crate::model::{RolloutRef, Version, VersionRole};

/// A blue-green preview takes no requests: Prometheus has no series for it. Its share is
/// 0 where the active version has one, a gap where neither has; error rate stays a gap.
#[tokio::test]
async fn a_version_without_requests_has_share_zero_while_its_service_has_traffic() {
    let body = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"destination_workload_namespace": "demo", "destination_canonical_service": "payments",
                        "rollouts_pod_template_hash": "active1"},
             "values": [[1010, "1"], [1020, "1"]]}]}});
    let app = axum::Router::new().route(
        "/api/v1/query_range",
        axum::routing::any(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = PrometheusClient::new(PrometheusConfig::new(&url)).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
    let target = Target {
        rollout: RolloutRef::new("lab", "demo", "payments"),
        versions: vec![
            Version::new(VersionRole::Active, "active1"),
            Version::new(VersionRole::Preview, "preview2"),
        ],
    };
    let req = FetchRequest {
        targets: vec![target],
        start_secs: 1000.0,
        end_secs: 1020.0,
        step_secs: 10.0,
        custom: Vec::new(),
    };
    let fetched = source.fetch_window(&req).await.unwrap();
    let values = |hash: &str, signal: Signal| -> Vec<Option<f64>> {
        fetched
            .points
            .iter()
            .filter(|p| p.version.hash == hash && p.signal == signal)
            .map(|p| p.point.value)
            .collect()
    };
    // Every query answers with the same matrix: the active version has values at 1010, 1020.
    assert_eq!(
        values("active1", Signal::TrafficShare),
        [None, Some(1.0), Some(1.0)]
    );
    assert_eq!(
        values("preview2", Signal::TrafficShare),
        [None, Some(0.0), Some(0.0)]
    );
    assert_eq!(values("preview2", Signal::ErrorRate), [None, None, None]);
    assert_eq!(values("preview2", Signal::P95Ms), [None, None, None]);
}

/// The bucket query's matrix (one series per bound and version) becomes one histogram
/// interval per version per step, bounds in ms, `+Inf` as its requests; a version the
/// rollout does not have, and a step without `+Inf`, are left out.
#[test]
fn bucket_answers_become_one_histogram_per_version_per_step() {
    let client = PrometheusClient::new(PrometheusConfig::new("http://127.0.0.1:9")).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("generic").unwrap(), None, "10s");
    let series = |hash: &str, le: &str, points: &[(f64, f64)]| RangeSeries {
        labels: [
            ("namespace", "demo"),
            ("service", "checkout"),
            ("rollouts_pod_template_hash", hash),
            ("le", le),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        points: points.to_vec(),
    };
    let answer = [
        series("bbb", "0.1", &[(1010.0, 7.0), (1020.0, 9.0)]),
        series("bbb", "0.05", &[(1010.0, 3.0), (1020.0, 4.0)]),
        series("bbb", "+Inf", &[(1010.0, 8.0)]),
        series("zzz", "+Inf", &[(1010.0, 99.0)]),
    ];
    let target = Target {
        rollout: RolloutRef::new("lab", "demo", "checkout"),
        versions: vec![
            Version::new(VersionRole::Stable, "aaa"),
            Version::new(VersionRole::Canary, "bbb"),
        ],
    };
    let points = source.bucket_points(&answer, &[target], 1.0);
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].version.hash, "bbb");
    assert_eq!(
        points[0].point,
        BucketPoint {
            t_secs: 1010.0,
            le: vec![(50.0, 3.0), (100.0, 7.0)],
            requests: 8.0,
        }
    );
}

#[test]
fn queries_per_refresh_do_not_grow_with_rollouts_or_namespaces() {
    let client = PrometheusClient::new(PrometheusConfig::new("http://127.0.0.1:9")).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
    let targets: Vec<Target> = (0..100)
        .map(|i| Target {
            rollout: RolloutRef::new("lab", &format!("ns{}", i % 3), &format!("svc{i}")),
            versions: vec![Version::new(VersionRole::Stable, "aaa")],
        })
        .collect();
    let plan = source.plan(&targets);
    assert_eq!(plan.len(), Signal::ALL.len());
    // And one bucket query for all of them, beside the signals.
    let buckets = source
        .bucket_query(&targets)
        .expect("istio has latency buckets");
    assert!(buckets.contains("svc0|svc1|svc2|") && buckets.starts_with("sum by (le, "));
    assert!(
        plan[0]
            .1
            .contains(r#"destination_workload_namespace=~"ns0|ns1|ns2""#)
    );
    assert!(plan[0].1.contains("svc0|svc1|svc2|"));
    assert!(plan[0].1.contains("|svc99\""));
}

fn custom(name: &str, query: &str) -> CustomQuery {
    CustomQuery {
        name: name.into(),
        query: query.into(),
    }
}

/// A custom metric is one query for every shown rollout, drawn like the template's, and
/// its answer is split per version like a signal's; a query Prometheus refuses is an
/// error naming the metric with Prometheus's own message.
#[tokio::test]
async fn custom_metrics_are_one_query_each_split_per_version_and_refusals_name_them() {
    let ok = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"destination_workload_namespace": "demo", "destination_canonical_service": "checkout",
                        "rollouts_pod_template_hash": "new"},
             "values": [[1010, "0.2"], [1020, "0.3"]]},
            {"metric": {"destination_workload_namespace": "demo", "destination_canonical_service": "checkout",
                        "rollouts_pod_template_hash": "old"},
             "values": [[1010, "0.01"]]}]}});
    let app = axum::Router::new().route(
        "/api/v1/query_range",
        axum::routing::any(
            move |axum::extract::Query(q): axum::extract::Query<
                std::collections::HashMap<String, String>,
            >| {
                let ok = ok.clone();
                async move {
                    if q.get("query").is_some_and(|q| q.contains("broken")) {
                        let refused = serde_json::json!({"status": "error", "errorType": "bad_data",
                                "error": "1:7: parse error: unexpected identifier \"broken\""});
                        (axum::http::StatusCode::BAD_REQUEST, axum::Json(refused))
                    } else {
                        (axum::http::StatusCode::OK, axum::Json(ok))
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = PrometheusClient::new(PrometheusConfig::new(&url)).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
    let targets: Vec<Target> = ["checkout", "search"]
        .iter()
        .map(|name| Target {
            rollout: RolloutRef::new("lab", "demo", name),
            versions: vec![
                Version::new(VersionRole::Stable, "old"),
                Version::new(VersionRole::Canary, "new"),
            ],
        })
        .collect();
    let orders = custom(
        "order_failure_ratio",
        r#"sum by (destination_workload_namespace, destination_canonical_service, {version_label}) (rate(orders_failed_total{destination_canonical_service=~"{services}"}[{window}]))"#,
    );
    let plan = source.custom_plan(&targets, std::slice::from_ref(&orders));
    assert_eq!(plan.len(), 1, "one query for every rollout shown");
    assert!(
        plan[0].1.contains(r#"=~"checkout|search"}[1m]"#)
            && plan[0].1.contains("rollouts_pod_template_hash) (rate"),
        "{}",
        plan[0].1
    );
    let mut req = FetchRequest {
        targets,
        start_secs: 1000.0,
        end_secs: 1020.0,
        step_secs: 10.0,
        custom: vec![orders],
    };
    let fetched = source.fetch_window(&req).await.unwrap();
    // The signals, the buckets, the template's p99 and the custom metric: one query each.
    assert_eq!(fetched.queries as usize, Signal::ALL.len() + 3);
    let values = |service: &str, hash: &str| -> Vec<Option<f64>> {
        fetched
            .custom
            .iter()
            .filter(|p| p.rollout.name == service && p.version.hash == hash)
            .map(|p| p.point.value)
            .collect()
    };
    assert_eq!(values("checkout", "new"), vec![None, Some(0.2), Some(0.3)]);
    assert_eq!(values("checkout", "old"), vec![None, Some(0.01), None]);
    assert_eq!(values("search", "new"), vec![None, None, None]);

    req.custom = vec![custom("queue_depth", "broken{")];
    let Err(err) = source.fetch_window(&req).await else {
        panic!("a refused custom query is an error")
    };
    let text = err.to_string();
    assert!(text.starts_with("custom metric queue_depth:"), "{text}");
    assert!(
        text.contains("parse error: unexpected identifier"),
        "{text}"
    );
    assert!(text.contains("metrics.queue_depth.query"), "{text}");
}
