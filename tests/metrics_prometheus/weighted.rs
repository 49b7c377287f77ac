//! The weighted (Gateway API) release `cart` on a real Prometheus: after `set-weight cart 33`
//! through the orchestrator's one door, the lab splits cart's requests 67/33 and the share
//! Prometheus computes for the canary's version is 0.33 within what the request count allows.

use release_cockpit::metrics::prometheus::{PrometheusClient, PrometheusConfig};
use release_cockpit::metrics::source::{Refresher, Target, now_secs};
use release_cockpit::metrics::{PrometheusSource, Template};
use release_cockpit::model::{Provider, RolloutRef, Signal};
use std::time::Duration;

const CONTEXT: &str = "lab-admin";
/// cart's requests per second (its route's lab annotation), real time.
const CART_RATE: f64 = 1000.0;
/// The template's rate window, in seconds.
const WINDOW_SECS: f64 = 10.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_weight_cart_33_shows_a_canary_share_of_a_third_on_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, prom) = super::lab_with_prometheus(dir.path()).await;
    let client = kube::Client::try_from(lab.kube_config(CONTEXT).await.unwrap()).unwrap();
    let cart = RolloutRef {
        provider: Provider::Gateway,
        ..RolloutRef::new(CONTEXT, "demo", "cart")
    };
    // Enough requests that one rate window pins the share down (see the tolerance below).
    let routes: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        client.clone(),
        "demo",
        &release_cockpit::cluster::http_route_resource(),
    );
    let rate = serde_json::json!({"metadata": {"annotations": {
        release_cockpit::lab::traffic::RATE_ANNOTATION: CART_RATE.to_string()}}});
    routes
        .patch(
            "cart",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&rate),
        )
        .await
        .unwrap();

    super::set_weight(&client, dir.path(), &cart, 33, None).await;
    let changed_at = now_secs();

    // The share is read once a whole rate window holds only traffic split 67/33: the window
    // after the change, two scrape intervals (1 s) for the last samples to land, one lab
    // tick. Reading earlier would mix in the 90/10 split.
    tokio::time::sleep(Duration::from_secs_f64(WINDOW_SECS + 3.0)).await;
    let view = release_cockpit::cluster::get_weighted(&client, &cart)
        .await
        .unwrap();
    assert_eq!(view.actual_weight, 33);
    let target = Target::from_view(&view);
    let canary = view.current_hash.clone().expect("cart's canary version");
    let stable = view.stable_hash.clone().expect("cart's stable version");
    let prometheus = PrometheusClient::new(PrometheusConfig::new(&prom.url())).unwrap();
    let source = PrometheusSource::new(
        prometheus,
        Template::builtin("istio").unwrap(),
        None,
        &format!("{WINDOW_SECS}s"),
    );
    let mut plots = Refresher::new(
        Box::new(source),
        Duration::from_secs(60),
        Duration::from_secs(1),
    );
    let report = plots
        .refresh(std::slice::from_ref(&target), now_secs())
        .await;
    assert!(report.ok, "{:?}", plots.health());
    let snap = plots.snapshot(&target);
    let latest = |hash: &str| {
        snap.series
            .iter()
            .find(|s| s.version.hash == hash && s.signal == Signal::TrafficShare)
            .and_then(|s| {
                s.points
                    .iter()
                    .rev()
                    .find_map(|p| Some((p.t_secs, p.value?)))
            })
            .unwrap_or_else(|| panic!("no traffic share for {hash} in {snap:?}"))
    };
    let (at, share) = latest(&canary);
    let (_, stable_share) = latest(&stable);
    eprintln!(
        "cart after set-weight 33: canary share {share:.4}, stable {stable_share:.4}, read \
         {:.1} s after the change",
        at - changed_at
    );
    assert!(
        at - changed_at >= WINDOW_SECS,
        "the point read covers only traffic after the change"
    );
    // The lab draws each request's version (binomial split of Poisson arrivals), so over a
    // window of n requests the share's standard deviation is sqrt(p(1-p)/n): at 1000 req/s,
    // about 9 s of scraped samples in a 10 s window, n ≈ 9000 and sd ≈ 0.005. Four of them
    // (0.02) fail a correct split about once in 16 000 runs.
    let n = CART_RATE * (WINDOW_SECS - 1.0);
    let tolerance = 4.0 * (0.33_f64 * 0.67 / n).sqrt();
    assert!(
        (share - 0.33).abs() <= tolerance,
        "canary share {share} is not 0.33 ± {tolerance:.3}"
    );
    assert!(
        (share + stable_share - 1.0).abs() <= 1e-9,
        "{share} + {stable_share}"
    );
    drop(prom);
    lab.shutdown().await;
}
