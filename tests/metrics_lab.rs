//! Metrics against the real lab: `Lab::start` in-process (demo scenario, speed 10), its own
//! Prometheus or its `/metrics` scraped directly, read through the code the CLI and window use
//! (kubeconfig extension + settings → `build_source` → `Refresher`) and through the CLI binary.
//! Expected numbers come from the lab's own knobs: weights, profile annotations, buckets.

#[path = "metrics_lab/fixture.rs"]
mod fixture;
mod metrics_support;
#[path = "support/lab.rs"]
mod support;

use fixture::*;
use kube::api::{Api, Patch, PatchParams};
use metrics_support::{Prometheus, free_port, now_value};
use release_cockpit::lab::traffic::{BUCKETS_MS, PROFILE_ANNOTATION, Profile, RATE_ANNOTATION};
use release_cockpit::lab::{Kind, Lab, LabOptions, PrometheusMode};
use release_cockpit::metrics::exposition::histogram_quantile;
use release_cockpit::metrics::settings::kubeconfig_extension;
use release_cockpit::metrics::source::{Refresher, Target, now_secs};
use release_cockpit::metrics::{Settings, build_source, resolve_source_config};
use release_cockpit::model::argo::Rollout;
use release_cockpit::model::view::RolloutView;
use release_cockpit::model::{MetricsSnapshot, Signal, VersionRole};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CONTEXT: &str = "lab-admin";
const SPEED: f64 = 10.0;
/// The demo's inventory canary goes bad after 60 s of lab time with traffic.
const SPIKE_AFTER: Duration = Duration::from_secs(6);
/// The rate window the tests configure (the settings file's `window`), short so the spike
/// fills it quickly.
const WINDOW: Duration = Duration::from_secs(10);
/// Requests per second the tests give checkout and inventory (the lab's default is 50): at
/// 50 rps a 10 s window holds ~50 canary requests of inventory, and 6 % of 50 misses the
/// 0.04 bound one time in five; at 2000 rps (≥ 2000 canary requests in the window) the
/// binomial noise (σ ≈ 0.005) is a quarter of the 0.02 margin.
const RATE: &str = "2000";

/// The lab with its own Prometheus: the three signals through the kubeconfig extension, the
/// CLI binary end to end, then a second Prometheus of the test's own that is stopped mid-run
/// (stale, no panic) and started again (recovers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_prometheus_signals_cli_and_recovery() {
    if release_cockpit::lab::prometheus::find_on_path("prometheus").is_none() {
        panic!(
            "no `prometheus` binary on PATH: install the Debian package `prometheus` (scripts/test does)"
        );
    }
    let lab = LabUnderTest::start(PrometheusMode::Auto).await;
    let lab_prometheus = lab.lab.prometheus_url.clone().unwrap();
    // Our own Prometheus on the same /metrics, for the stop/start part.
    let metrics_addr = lab
        .lab
        .metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let own_dir = tempfile::tempdir().unwrap();
    let mut own = Prometheus::start(own_dir.path(), free_port(), &metrics_addr);

    let targets = lab.targets().await;
    let settings = format!("[contexts.{CONTEXT}]\nwindow = \"10s\"\nrefresh_secs = 1\n");
    let mut refresher = lab.refresher(&settings);
    assert_eq!(refresher.kind(), "prometheus");
    lab.wait_for_spike_in_window().await;
    let report = refresher.refresh(&targets, now_secs()).await;
    assert!(report.ok, "{lab_prometheus}: {:?}", refresher.health());
    assert_eq!(
        report.queries as usize,
        Signal::ALL.len() + 2,
        "one query per signal, one for the latency buckets and one for p99, for all rollouts"
    );
    check_lab_signals(&lab, &targets, |t| refresher.snapshot(t), "lab prometheus");

    // The CLI binary with only --kubeconfig: Prometheus from the extension, default window.
    let json = lab.cli_json("checkout").await;
    check_cli_json(&json, "prometheus", find(&targets, "checkout"));

    // The test's own Prometheus, named by the settings file over the extension.
    own.wait_for_data(2).await;
    let settings = format!(
        "[contexts.{CONTEXT}]\nprometheus_url = \"{}\"\nwindow = \"10s\"\nrefresh_secs = 1\n",
        own.url()
    );
    let mut refresher = lab.refresher(&settings);
    let checkout = find(&targets, "checkout").clone();
    let canary = hash_of(&checkout, VersionRole::Canary);
    let good = refresher.refresh(&targets, now_secs()).await;
    assert!(good.ok, "{:?}", refresher.health());
    let last_good = refresher.health().last_good_secs.unwrap();

    // Stopped mid-run: last data kept, marked stale with the time of the last good answer.
    own.stop();
    let report = refresher.refresh(&targets, now_secs()).await;
    assert!(!report.ok);
    let stale = refresher.snapshot(&checkout);
    assert_eq!(stale.stale_since_secs, Some(last_good));
    let error = stale.error.clone().unwrap();
    assert!(
        error.contains(&own.url()) && error.contains("cannot reach"),
        "{error}"
    );
    assert!(now_value(&stale, &canary, Signal::TrafficShare).is_some());
    assert!(refresher.next_delay() > Duration::from_secs(1), "backs off");

    // Back on the same port and data: the refresher recovers by itself.
    own.restart(&metrics_addr);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(refresher.next_delay().min(Duration::from_secs(2))).await;
        if refresher.refresh(&targets, now_secs()).await.ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery: {:?}",
            refresher.health()
        );
    }
    let recovered = refresher.snapshot(&checkout);
    assert_eq!(
        (recovered.stale_since_secs, recovered.error.as_deref()),
        (None, None)
    );
    let share = now_value(&recovered, &canary, Signal::TrafficShare).unwrap();
    assert!((share - 0.20).abs() <= 0.03, "after recovery: {share}");
    lab.lab.shutdown().await;
}

/// The lab without Prometheus: the kubeconfig names only its `/metrics`, and the direct-scrape
/// source gives the same numbers within the same tolerances; the CLI binary says "scrape".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_direct_scrape_signals_and_cli() {
    let lab = LabUnderTest::start(PrometheusMode::Off).await;
    assert_eq!(lab.lab.prometheus_url, None);
    let targets = lab.targets().await;
    let settings = format!("[contexts.{CONTEXT}]\nwindow = \"10s\"\nrefresh_secs = 1\n");
    let mut refresher = lab.refresher(&settings);
    assert_eq!(refresher.kind(), "scrape");
    // A scrape source computes rates from its own successive scrapes: scrape every second
    // (as the window's refresh loop would) until the spike fills the window.
    let ready = lab.since + SPIKE_AFTER + WINDOW + Duration::from_secs(3);
    while Instant::now() < ready {
        let report = refresher.refresh(&targets, now_secs()).await;
        assert!(report.ok, "{:?}", refresher.health());
        assert_eq!(report.queries, 1, "one scrape per refresh for all rollouts");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(refresher.refresh(&targets, now_secs()).await.ok);
    check_lab_signals(&lab, &targets, |t| refresher.snapshot(t), "lab scrape");

    let json = lab.cli_json("checkout").await;
    check_cli_json(&json, "scrape", find(&targets, "checkout"));
    lab.lab.shutdown().await;
}
