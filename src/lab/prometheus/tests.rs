//! Starts the real Prometheus (Debian's `prometheus`) against a small axum server that serves
//! `Traffic::render()`, and checks PromQL sees the simulated series; skipped with a message
//! when no `prometheus` binary is on PATH.

use super::*;
use crate::lab::traffic::{PROFILE_ANNOTATION, Traffic};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

fn rollout() -> Value {
    json!({
        "metadata": {"name": "checkout", "namespace": "demo"},
        "spec": {"strategy": {"canary": {"steps": []}}},
        "status": {"canary": {"weights": {
            "canary": {"weight": 25, "podTemplateHash": "canaryhash", "serviceName": "checkout-canary"},
            "stable": {"weight": 75, "podTemplateHash": "stablehash", "serviceName": "checkout-stable"},
        }}},
    })
}

fn replica_set(hash: &str) -> Value {
    json!({
        "metadata": {"name": format!("checkout-{hash}"), "namespace": "demo",
                     "labels": {"rollouts-pod-template-hash": hash},
                     "ownerReferences": [{"name": "checkout"}]},
        "spec": {"template": {"metadata": {"annotations": {PROFILE_ANNOTATION: "{\"errorRate\":0.05}"}}}},
    })
}

async fn query(client: &reqwest::Client, url: &str, promql: &str) -> Value {
    client
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .expect("Prometheus answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_simulated_traffic_and_stops_cleanly() {
    if find_on_path("prometheus").is_none() {
        eprintln!("skipped: no `prometheus` binary on PATH (Debian: apt-get install prometheus)");
        return;
    }
    let traffic = Arc::new(Mutex::new(Traffic::new(11)));
    let ticking = {
        let traffic = Arc::clone(&traffic);
        tokio::spawn(async move {
            let rollouts = [rollout()];
            let replica_sets = [replica_set("canaryhash"), replica_set("stablehash")];
            loop {
                if let Ok(mut t) = traffic.lock() {
                    t.tick(&rollouts, &replica_sets, jiff::Timestamp::now(), 1.0);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let app = {
        let traffic = Arc::clone(&traffic);
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let body = traffic.lock().map(|t| t.render()).unwrap_or_default();
                async move { body }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let prometheus = start(&PrometheusMode::Auto, &metrics_url, dir.path())
        .await
        .expect("Prometheus starts")
        .expect("Auto starts the binary on PATH");
    eprintln!("Prometheus answered queries after {:?}", started.elapsed());
    let pid = prometheus.pid().expect("running");
    let client = reqwest::Client::new();
    let promql = "sum by (rollouts_pod_template_hash) (istio_requests_total{destination_canonical_service=\"checkout\"})";
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let body = query(&client, &prometheus.url, promql).await;
        assert_eq!(body["status"], "success", "{body}");
        let result = body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if result.len() == 2 {
            break result;
        }
        assert!(Instant::now() < deadline, "no series after 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eprintln!("series visible {:?} after start", started.elapsed());
    let hashes: Vec<&str> = result
        .iter()
        .map(|r| r["metric"]["rollouts_pod_template_hash"].as_str().unwrap())
        .collect();
    assert!(
        hashes.contains(&"canaryhash") && hashes.contains(&"stablehash"),
        "{hashes:?}"
    );
    let p95 = query(
        &client,
        &prometheus.url,
        "histogram_quantile(0.95, sum by (le) (istio_request_duration_milliseconds_bucket))",
    )
    .await;
    assert_eq!(p95["status"], "success", "{p95}");

    prometheus.stop().await;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "Prometheus {pid} still running after stop"
    );
    ticking.abort();
    server.abort();
}

#[tokio::test]
async fn off_starts_nothing_and_a_missing_binary_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let off = start(
        &PrometheusMode::Off,
        "http://127.0.0.1:1/metrics",
        dir.path(),
    )
    .await;
    assert!(matches!(off, Ok(None)));
    let missing = PrometheusMode::Path(dir.path().join("no-such-prometheus"));
    let err = start(&missing, "http://127.0.0.1:1/metrics", dir.path())
        .await
        .err()
        .expect("an error");
    assert!(err.contains("no-such-prometheus"), "{err}");
}
