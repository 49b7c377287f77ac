//! Metrics against the real lab: `Lab::start` in-process (demo scenario, speed 10), its own
//! Prometheus or its `/metrics` scraped directly, read through the code the CLI and window use
//! (kubeconfig extension + settings → `build_source` → `Refresher`) and through the CLI binary.
//! Expected numbers come from the lab's own knobs: weights, profile annotations, buckets.

mod metrics_support;

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
/// 0.04 bound one time in five; at 2000 rps the binomial noise is a fifth of the tolerance.
const RATE: &str = "2000";

struct LabUnderTest {
    lab: Lab,
    dir: tempfile::TempDir,
    client: kube::Client,
    /// When the higher request rate was set (traffic at that rate starts at the next tick).
    since: Instant,
}

impl LabUnderTest {
    async fn start(prometheus: PrometheusMode) -> LabUnderTest {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab::start(LabOptions {
            dir: Some(dir.path().join("lab")),
            scenario: "demo".into(),
            speed: SPEED,
            prometheus,
            ..LabOptions::default()
        })
        .await
        .unwrap();
        let config = lab.kube_config(CONTEXT).await.unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let rollouts = Api::<Rollout>::namespaced(client.clone(), "demo");
        for name in ["checkout", "inventory"] {
            let patch = json!({"metadata": {"annotations": {RATE_ANNOTATION: RATE}}});
            rollouts
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
        LabUnderTest {
            lab,
            dir,
            client,
            since: Instant::now(),
        }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("lab/kubeconfig")
    }

    /// Every rollout of `demo` as the window shows them.
    async fn targets(&self) -> Vec<Target> {
        let rollouts = Api::<Rollout>::namespaced(self.client.clone(), "demo");
        let list = rollouts.list(&Default::default()).await.unwrap();
        list.items
            .iter()
            .map(|r| Target::from_view(&RolloutView::from_rollout(CONTEXT, r)))
            .collect()
    }

    /// A refresher for the lab context, resolved as the CLI resolves it: the kubeconfig's
    /// `release-cockpit` extension, overridden by `settings` (a metrics.toml).
    fn refresher(&self, settings: &str) -> Refresher {
        let kubeconfig = kube::config::Kubeconfig::read_from(self.kubeconfig()).unwrap();
        let ext = kubeconfig_extension(&kubeconfig, CONTEXT);
        let settings = Settings::parse(settings, Path::new("metrics.toml")).unwrap();
        let config = resolve_source_config(ext.as_ref(), &settings, CONTEXT).unwrap();
        let source = build_source(&config).unwrap().unwrap();
        Refresher::new(source, Duration::from_secs(120), config.refresh)
    }

    /// Sleeps until the inventory canary's spike has filled the whole rate window.
    async fn wait_for_spike_in_window(&self) {
        let ready = self.since + SPIKE_AFTER + WINDOW + Duration::from_secs(3);
        tokio::time::sleep_until(ready.into()).await;
    }

    /// `release-cockpit --kubeconfig DIR/kubeconfig metrics NAME -o json`, the real binary, with
    /// an empty config dir so no user settings get in the way.
    async fn cli_json(&self, name: &str) -> Value {
        let kubeconfig = self.kubeconfig();
        let config_home = self.dir.path().join("config-home");
        let rollout = name.to_string();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(["metrics", &rollout, "-o", "json", "--scrape-secs", "3"])
                .env("XDG_CONFIG_HOME", &config_home)
                .env_remove("KUBECONFIG")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "metrics {name}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// The p95 Prometheus's `histogram_quantile` gives for the lab's latency distribution of
    /// version `hash`: its profile annotation (log-normal by median and p95) put into the
    /// lab's buckets, then interpolated.
    fn expected_p95(&self, hash: &str) -> f64 {
        let (replica_sets, _) = self.lab.store().list(Kind::ReplicaSet, Some("demo"));
        let rs = replica_sets
            .iter()
            .find(|rs| rs["metadata"]["labels"]["rollouts-pod-template-hash"] == hash)
            .unwrap_or_else(|| panic!("no ReplicaSet for hash {hash}"));
        let template = &rs["spec"]["template"];
        assert!(
            template["metadata"]["annotations"][PROFILE_ANNOTATION].is_string(),
            "{hash} declares its profile"
        );
        let profile = Profile::of_template(template);
        let factor = profile
            .spike
            .as_ref()
            .and_then(|s| s.latency_factor)
            .unwrap_or(1.0);
        let median = profile.latency_ms.median * factor;
        let p95 = profile.latency_ms.p95 * factor;
        let sigma = (p95 / median).ln() / 1.644_853_626_951_472_2;
        let mut buckets: Vec<(f64, f64)> = BUCKETS_MS
            .iter()
            .map(|&b| (b, phi((b.ln() - median.ln()) / sigma)))
            .collect();
        buckets.push((f64::INFINITY, 1.0));
        histogram_quantile(0.95, &buckets).unwrap()
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The width of the lab's latency bucket holding `ms`.
fn bucket_width(ms: f64) -> f64 {
    let mut lower = 0.0;
    for &b in &BUCKETS_MS {
        if ms <= b {
            return b - lower;
        }
        lower = b;
    }
    f64::INFINITY
}

fn hash_of(target: &Target, role: VersionRole) -> String {
    target
        .versions
        .iter()
        .find(|v| v.role == role)
        .unwrap_or_else(|| panic!("{} has no {role:?}", target.rollout))
        .hash
        .clone()
}

fn find<'a>(targets: &'a [Target], name: &str) -> &'a Target {
    targets
        .iter()
        .find(|t| t.rollout.name == name)
        .unwrap_or_else(|| panic!("no rollout {name} in {targets:?}"))
}

/// The issue's checks, on snapshots of `checkout` and `inventory` after the spike.
fn check_lab_signals(
    lab: &LabUnderTest,
    targets: &[Target],
    snapshot: impl Fn(&Target) -> MetricsSnapshot,
    what: &str,
) {
    for name in ["checkout", "inventory"] {
        let target = find(targets, name);
        let snap = snapshot(target);
        assert_eq!(snap.stale_since_secs, None, "{what}: {:?}", snap.error);
        for role in [VersionRole::Stable, VersionRole::Canary] {
            let hash = hash_of(target, role);
            let share = now_value(&snap, &hash, Signal::TrafficShare);
            let errors = now_value(&snap, &hash, Signal::ErrorRate);
            let p95 = now_value(&snap, &hash, Signal::P95Ms);
            let expected = lab.expected_p95(&hash);
            eprintln!(
                "{what}: {name} {role:?} {hash}: share {share:?} error rate {errors:?} p95 {p95:?} ms (lab distribution: {expected:.1} ms)"
            );
            let p95 = p95.unwrap_or_else(|| panic!("{what}: no p95 for {name} {role:?}"));
            assert!(
                (p95 - expected).abs() <= bucket_width(expected),
                "{what}: {name} {role:?} p95 {p95} vs {expected}"
            );
        }
    }
    let checkout = find(targets, "checkout");
    let snap = snapshot(checkout);
    let canary = now_value(
        &snap,
        &hash_of(checkout, VersionRole::Canary),
        Signal::TrafficShare,
    )
    .unwrap_or_else(|| panic!("{what}: no canary share"));
    let stable = now_value(
        &snap,
        &hash_of(checkout, VersionRole::Stable),
        Signal::TrafficShare,
    )
    .unwrap_or_else(|| panic!("{what}: no stable share"));
    assert!(
        (canary - 0.20).abs() <= 0.03,
        "{what}: checkout canary share {canary}"
    );
    assert!(
        (canary + stable - 1.0).abs() <= 0.01,
        "{what}: shares {stable} + {canary}"
    );
    // Blue-green: all users on active, none on preview; a finished canary: all on stable.
    let payments = find(targets, "payments");
    let snap = snapshot(payments);
    let active = now_value(
        &snap,
        &hash_of(payments, VersionRole::Active),
        Signal::TrafficShare,
    );
    let preview = now_value(
        &snap,
        &hash_of(payments, VersionRole::Preview),
        Signal::TrafficShare,
    );
    assert_eq!(
        (active, preview),
        (Some(1.0), Some(0.0)),
        "{what}: payments"
    );
    let preview = hash_of(payments, VersionRole::Preview);
    for signal in [Signal::ErrorRate, Signal::P95Ms] {
        assert_eq!(
            now_value(&snap, &preview, signal),
            None,
            "{what}: payments preview {signal:?}"
        );
    }
    let search = find(targets, "search");
    let snap = snapshot(search);
    assert_eq!(search.versions.len(), 1, "{search:?}");
    let stable = now_value(
        &snap,
        &hash_of(search, VersionRole::Stable),
        Signal::TrafficShare,
    );
    assert_eq!(stable, Some(1.0), "{what}: search");
    let inventory = find(targets, "inventory");
    let snap = snapshot(inventory);
    let canary = now_value(
        &snap,
        &hash_of(inventory, VersionRole::Canary),
        Signal::ErrorRate,
    )
    .unwrap_or_else(|| panic!("{what}: no inventory canary error rate"));
    let stable = now_value(
        &snap,
        &hash_of(inventory, VersionRole::Stable),
        Signal::ErrorRate,
    )
    .unwrap_or_else(|| panic!("{what}: no inventory stable error rate"));
    assert!(
        canary >= 0.04,
        "{what}: inventory canary error rate {canary}"
    );
    assert!(
        stable <= 0.01,
        "{what}: inventory stable error rate {stable}"
    );
}

/// The CLI's JSON for checkout: the documented shape, roles and hashes from the rollout.
fn check_cli_json(json: &Value, source: &str, checkout: &Target) {
    eprintln!("cli ({source}): {json}");
    assert_eq!(json["rollout"], "demo/checkout");
    assert_eq!(json["source"], source);
    let versions = json["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{json}");
    for (v, role) in versions.iter().zip(["stable", "canary"]) {
        assert_eq!(v["role"], role);
        let hash = v["hash"].as_str().unwrap();
        let expected = if role == "stable" {
            VersionRole::Stable
        } else {
            VersionRole::Canary
        };
        assert_eq!(hash, hash_of(checkout, expected));
        for key in ["share", "error_rate", "p95_ms"] {
            assert!(v[key].is_f64(), "{role} {key}: {v}");
        }
        assert!(v.get("series").is_none(), "no --since, no series: {v}");
    }
    let canary_share = versions[1]["share"].as_f64().unwrap();
    assert!((canary_share - 0.20).abs() <= 0.03, "{canary_share}");
    let stable_share = versions[0]["share"].as_f64().unwrap();
    assert!((canary_share + stable_share - 1.0).abs() <= 0.01);
}

/// The lab with its own Prometheus: the three signals through the kubeconfig extension, the
/// CLI binary end to end, then a second Prometheus of the test's own that is stopped mid-run
/// (stale, no panic) and started again (recovers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_prometheus_signals_cli_and_recovery() {
    if release_cockpit::lab::prometheus::find_on_path("prometheus").is_none() {
        eprintln!(
            "skipped: no `prometheus` binary on PATH (install the Debian package `prometheus`; scripts/test does)"
        );
        return;
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
    assert_eq!(report.queries, 3, "one query per signal for all rollouts");
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

/// Refresh cost for 1, 10 and 100 rollouts shown, against the lab and its own Prometheus:
/// grouped (3 queries whatever the number of rollouts) vs a naive peer (3 queries per rollout,
/// all sent concurrently on the same client), in one run. The lab gets 100 more rollouts
/// (copies of `checkout` paused at 20 %, so traffic flows to two versions of each).
/// `cargo test --test metrics_lab -- --ignored --nocapture bench_refresh_cost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints the table recorded in BENCHMARKS.md"]
async fn bench_refresh_cost() {
    use release_cockpit::metrics::source::FetchRequest;
    use release_cockpit::metrics::{
        PrometheusClient, PrometheusConfig, PrometheusSource, Template,
    };
    if release_cockpit::lab::prometheus::find_on_path("prometheus").is_none() {
        eprintln!("skipped: no `prometheus` binary on PATH");
        return;
    }
    let lab = Lab::start(LabOptions {
        scenario: "demo".into(),
        prometheus: PrometheusMode::Auto,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let checkout = lab.store().get(Kind::Rollout, "demo", "checkout").unwrap();
    for i in 0..100 {
        let mut copy = checkout.clone();
        let meta = &checkout["metadata"];
        copy["metadata"] = json!({
            "name": format!("bench-{i:03}"),
            "namespace": "demo",
            "labels": meta["labels"],
            "annotations": meta["annotations"],
        });
        lab.store().create(Kind::Rollout, copy).unwrap();
    }
    let client = kube::Client::try_from(lab.kube_config(CONTEXT).await.unwrap()).unwrap();
    let all: Vec<Target> = Api::<Rollout>::namespaced(client, "demo")
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|r| {
            r.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("bench-"))
        })
        .map(|r| Target::from_view(&RolloutView::from_rollout(CONTEXT, r)))
        .collect();
    assert_eq!(all.len(), 100);
    assert!(
        all.iter().all(|t| t.versions.len() == 2),
        "stable and canary each"
    );

    let url = lab.prometheus_url.clone().unwrap();
    let prom = PrometheusClient::new(PrometheusConfig::new(&url)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let q = r#"count(rate(istio_requests_total{reporter="destination", destination_canonical_service=~"bench-.*", response_code="200"}[1m]) > 0)"#;
        if let Ok(r) = prom.query(q, None).await
            && let release_cockpit::metrics::response::QueryData::Vector(v) = r.data
            && v.first().is_some_and(|s| s.value >= 200.0)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bench rollouts get no traffic in Prometheus"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let 30 s of samples pile up so every window below holds data at its end.
    tokio::time::sleep(Duration::from_secs(30)).await;

    let source = PrometheusSource::new(prom, Template::builtin("istio").unwrap(), None, "1m");
    // The grouped plan sent as bare HTTP (no parsing, no split): how much of the grouped
    // time is Prometheus's.
    let http = reqwest::Client::new();
    let raw = |req: FetchRequest| {
        let http = http.clone();
        let url = format!("{url}/api/v1/query_range");
        let plan = source.plan(&req.targets);
        async move {
            let t = Instant::now();
            futures::future::join_all(plan.iter().map(|(_, promql)| {
                let form = [
                    ("query", promql.clone()),
                    ("start", format!("{:.3}", req.start_secs)),
                    ("end", format!("{:.3}", req.end_secs)),
                    ("step", format!("{}", req.step_secs)),
                ];
                let post = http.post(&url).form(&form);
                async move { post.send().await.unwrap().bytes().await.unwrap().len() }
            }))
            .await;
            t.elapsed().as_secs_f64() * 1000.0
        }
    };
    // Prometheus's CPU time, from /proc, less what it spends meanwhile scraping and
    // compacting (its idle rate, measured first): the work each approach asks of it.
    let port = url.rsplit(':').next().unwrap().to_string();
    let cpu = PrometheusCpu::find(&port).unwrap();
    let (c0, t0) = (cpu.ms(), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_per_ms = (cpu.ms() - c0) / (t0.elapsed().as_secs_f64() * 1000.0);
    println!(
        "Prometheus pid {}: idle (scraping) {:.0} ms CPU per s",
        cpu.pid,
        idle_per_ms * 1000.0
    );
    let busy = |before: f64, started: Instant| {
        cpu.ms() - before - idle_per_ms * started.elapsed().as_secs_f64() * 1000.0
    };
    const ROUNDS: usize = 7;
    println!(
        "| rollouts | window | grouped: queries | bytes | ms (median of {ROUNDS}) | of which Prometheus + HTTP | Prometheus CPU ms | naive: queries | bytes | ms | Prometheus CPU ms | naive/grouped ms |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [1usize, 10, 100] {
        let targets = &all[..n];
        for (window, span_secs, step_secs) in [
            ("incremental (1 step)", 0.0, 5.0),
            ("cold (10 min @ 5 s)", 600.0, 5.0),
        ] {
            let mut grouped = Vec::new();
            let mut naive = Vec::new();
            let mut bare = Vec::new();
            let (mut grouped_cpu, mut naive_cpu) = (0.0, 0.0);
            for _ in 0..ROUNDS {
                // Two seconds back, so the last scrape before `end` is surely stored.
                let end = ((now_secs() - 2.0) / step_secs).floor() * step_secs;
                let req = FetchRequest {
                    targets: targets.to_vec(),
                    start_secs: end - span_secs,
                    end_secs: end,
                    step_secs,
                };
                let (c, t) = (cpu.ms(), Instant::now());
                let f = source.fetch_window(&req).await.unwrap();
                grouped.push((f.queries, f.bytes, t.elapsed().as_secs_f64() * 1000.0));
                grouped_cpu += busy(c, t);
                // Every version of every rollout got its points.
                assert_eq!(
                    f.points.len(),
                    n * 2 * 3 * ((span_secs / step_secs) as usize + 1)
                );

                bare.push(raw(req.clone()).await);

                let (q0, b0) = source.client().traffic();
                let (c, t) = (cpu.ms(), Instant::now());
                let source = &source;
                let per_rollout = futures::future::join_all(targets.iter().map(|target| {
                    let req = FetchRequest {
                        targets: vec![target.clone()],
                        ..req.clone()
                    };
                    async move { source.fetch_window(&req).await.unwrap() }
                }))
                .await;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                naive_cpu += busy(c, t);
                // Concurrent fetches share the client's counters: count once around them all.
                let (q1, b1) = source.client().traffic();
                assert_eq!(per_rollout.len(), n);
                naive.push((q1 - q0, b1 - b0, ms));
            }
            let median = |v: &mut Vec<(u64, u64, f64)>| {
                v.sort_by(|a, b| a.2.total_cmp(&b.2));
                v[v.len() / 2]
            };
            let g = median(&mut grouped);
            let nv = median(&mut naive);
            bare.sort_by(f64::total_cmp);
            println!(
                "| {n} | {window} | {} | {} | {:.1} | {:.1} | {:.0} | {} | {} | {:.1} | {:.0} | {:.2}× |",
                g.0,
                g.1,
                g.2,
                bare[ROUNDS / 2],
                (grouped_cpu / ROUNDS as f64).max(0.0),
                nv.0,
                nv.1,
                nv.2,
                (naive_cpu / ROUNDS as f64).max(0.0),
                nv.2 / g.2
            );
        }
    }
    lab.shutdown().await;
}

/// CPU time of the lab's Prometheus process, read from `/proc` (Linux).
struct PrometheusCpu {
    pid: u32,
    ms_per_tick: f64,
}

impl PrometheusCpu {
    /// The process listening where the lab's Prometheus does (`--web.listen-address`).
    fn find(port: &str) -> Option<PrometheusCpu> {
        let flag = format!("--web.listen-address=127.0.0.1:{port}");
        let pid = std::fs::read_dir("/proc").ok()?.find_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .split('\0')
                .any(|a| a == flag)
                .then_some(pid)
        })?;
        let out = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()?;
        let ticks: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some(PrometheusCpu {
            pid,
            ms_per_tick: 1000.0 / ticks,
        })
    }

    /// User + system CPU time so far, in ms.
    fn ms(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap();
        // Fields after the `(comm)`: state is the 1st, utime the 12th, stime the 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks * self.ms_per_tick
    }
}
