//! Custom metrics end to end against the lab: a Prometheus of the test's own (metrics_support)
//! scrapes the lab's /metrics, the policy example's `order_failure_ratio` query (the lab's
//! orders counters) arrives per version of checkout through the refresher the window and
//! `analyze` use, and a query Prometheus refuses is an error naming the metric.

use kube::api::Api;
use release_cockpit::analysis::{CustomQuery, Policy};
use release_cockpit::metrics::prometheus::{PrometheusClient, PrometheusConfig};
use release_cockpit::metrics::source::{Refresher, Target, now_secs};
use release_cockpit::metrics::{PrometheusSource, Template};
use release_cockpit::model::{Rollout, RolloutRef, RolloutView};
use std::path::Path;
use std::time::{Duration, Instant};

fn refresher(url: &str, custom: Vec<CustomQuery>) -> Refresher {
    let client = PrometheusClient::new(PrometheusConfig::new(url)).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "10s");
    Refresher::new(
        Box::new(source),
        Duration::from_secs(600),
        Duration::from_secs(1),
    )
    .with_custom(custom)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_metrics_arrive_per_version_and_a_refused_query_names_the_metric() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, prom) = super::lab_with_prometheus(dir.path()).await;
    let client = kube::Client::try_from(lab.kube_config("lab-admin").await.unwrap()).unwrap();
    let ro = Api::<Rollout>::namespaced(client, "demo")
        .get("checkout")
        .await
        .unwrap();
    let view = RolloutView::from_rollout("lab-admin", &ro);
    let target = Target::from_view(&view);
    let (stable, canary) = (
        view.stable_hash.clone().unwrap(),
        view.current_hash.clone().unwrap(),
    );
    assert_ne!(stable, canary);

    // The documented policy's query, as `analyze`, `auto` and the window send it.
    let policy = Policy::from_toml(
        include_str!("../../src/analysis/policy.example.toml"),
        Path::new("policy.example.toml"),
        &RolloutRef::new("lab-admin", "demo", "checkout"),
    )
    .unwrap();
    let orders: Vec<CustomQuery> = policy
        .custom_queries()
        .into_iter()
        .filter(|c| c.name == "order_failure_ratio")
        .collect();
    assert_eq!(orders.len(), 1);
    let mut feed = refresher(&prom.url(), orders);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let report = feed
            .refresh(std::slice::from_ref(&target), now_secs())
            .await;
        assert!(report.ok, "{:?}", feed.health());
        let snap = feed.snapshot(&target);
        let has = |hash: &str| {
            snap.custom.iter().any(|s| {
                s.name == "order_failure_ratio"
                    && s.version.hash == hash
                    && s.points
                        .iter()
                        .any(|p| p.value.is_some_and(|v| (0.0..=1.0).contains(&v)))
            })
        };
        if has(&stable) && has(&canary) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no order_failure_ratio per version of checkout: {:?}",
            snap.custom
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // A query Prometheus refuses: the metric and Prometheus's own message, no panic.
    let mut broken = refresher(
        &prom.url(),
        vec![CustomQuery {
            name: "queue_depth".into(),
            query: "sum by ({version_label}) (rate(orders_failed_total[{window}])".into(),
        }],
    );
    let report = broken
        .refresh(std::slice::from_ref(&target), now_secs())
        .await;
    assert!(!report.ok);
    let error = broken.health().error.clone().unwrap_or_default();
    assert!(error.starts_with("custom metric queue_depth:"), "{error}");
    assert!(error.contains("parse error"), "{error}");
    assert!(error.contains("metrics.queue_depth.query"), "{error}");
    drop(prom);
    drop(lab);
}
