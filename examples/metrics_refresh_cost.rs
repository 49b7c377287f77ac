//! The refresh-cost benchmark recorded in BENCHMARKS.md ("Metrics refresh"), against the lab
//! with 100 more rollouts and its own Prometheus, whose CPU time is read from /proc.
//! `cargo run --release --example metrics_refresh_cost` (needs `prometheus` on PATH).

use kube::api::Api;
use release_cockpit::lab::{Kind, Lab, LabOptions, PrometheusMode};
use release_cockpit::metrics::source::{Target, now_secs};
use release_cockpit::model::argo::Rollout;
use release_cockpit::model::view::RolloutView;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const CONTEXT: &str = "lab-admin";

fn main() -> ExitCode {
    if release_cockpit::lab::prometheus::find_on_path("prometheus").is_none() {
        eprintln!(
            "metrics_refresh_cost: no `prometheus` on PATH; install it (Debian/Ubuntu: \
             `sudo apt-get install prometheus`)"
        );
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench_refresh_cost());
    ExitCode::SUCCESS
}

/// Refresh cost for 1, 10 and 100 rollouts shown, against the lab and its own Prometheus:
/// grouped (one query per signal, the latency buckets, p99 and each of two custom metrics: 8,
/// whatever the number of rollouts) vs a naive peer (the same 8 queries per rollout, up to 50
/// rollouts at once on the same client), in one run. The lab gets 100 more rollouts
/// (copies of `checkout` paused at 20 %, so traffic flows to two versions of each).
async fn bench_refresh_cost() {
    use release_cockpit::metrics::source::FetchRequest;
    use release_cockpit::metrics::{
        PrometheusClient, PrometheusConfig, PrometheusSource, Template,
    };
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
    // The naive peer's 800 concurrent queries (100 rollouts, cold) overrun the default 10 s
    // timeout on 2 cores: give both a minute, so the comparison is of time, not of failure.
    let mut config = PrometheusConfig::new(&url);
    config.timeout = Duration::from_secs(60);
    let prom = PrometheusClient::new(config).unwrap();
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
    // Two custom metrics, as a team's policy names them: the demo policy's failed-order
    // ratio, and completed orders per second.
    let policy = release_cockpit::analysis::Policy::from_toml(
        include_str!("../src/analysis/policy.example.toml"),
        std::path::Path::new("policy.example.toml"),
        &release_cockpit::model::RolloutRef::new(CONTEXT, "demo", "bench-000"),
    )
    .unwrap();
    let mut custom: Vec<_> = policy
        .custom_queries()
        .into_iter()
        .filter(|c| c.name == "order_failure_ratio")
        .collect();
    custom.push(release_cockpit::analysis::CustomQuery {
        name: "orders_per_second".into(),
        query: r#"sum by (destination_workload_namespace, destination_canonical_service, {version_label}) (rate(orders_completed_total{destination_workload_namespace=~"{namespaces}", destination_canonical_service=~"{services}"}[{window}]))"#.into(),
    });
    assert_eq!(custom.len(), 2);
    // The grouped plan sent as bare HTTP (no parsing, no split): how much of the grouped
    // time is Prometheus's.
    let http = reqwest::Client::new();
    let raw = |req: FetchRequest| {
        let http = http.clone();
        let url = format!("{url}/api/v1/query_range");
        let mut plan: Vec<String> = source
            .plan(&req.targets)
            .into_iter()
            .map(|(_, q)| q)
            .collect();
        plan.extend(source.bucket_query(&req.targets));
        plan.extend(
            source
                .quantile_plan(&req.targets)
                .into_iter()
                .map(|(_, q)| q),
        );
        plan.extend(
            source
                .custom_plan(&req.targets, &req.custom)
                .into_iter()
                .map(|(_, q)| q),
        );
        async move {
            let t = Instant::now();
            futures::future::join_all(plan.iter().map(|promql| {
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
                    custom: custom.clone(),
                };
                let (c, t) = (cpu.ms(), Instant::now());
                let f = source.fetch_window(&req).await.unwrap();
                grouped.push((f.queries, f.bytes, t.elapsed().as_secs_f64() * 1000.0));
                grouped_cpu += busy(c, t);
                // Every version of every rollout got its points.
                assert_eq!(
                    f.points.len(),
                    n * 2
                        * release_cockpit::model::Signal::ALL.len()
                        * ((span_secs / step_secs) as usize + 1)
                );
                assert_eq!(
                    f.custom.len(),
                    n * 2 * custom.len() * ((span_secs / step_secs) as usize + 1)
                );
                assert!(
                    f.custom.iter().any(|p| p.point.value.is_some()),
                    "the custom metrics have values"
                );

                bare.push(raw(req.clone()).await);

                let (q0, b0) = source.client().traffic();
                let (c, t) = (cpu.ms(), Instant::now());
                let source = &source;
                // At most 50 rollouts (400 queries) in flight: all 800 at once exceed
                // Prometheus's 512 connections (`--web.max-connections`) and stall past a
                // minute.
                use futures::StreamExt;
                let per_rollout: Vec<_> = futures::stream::iter(targets.iter().map(|target| {
                    let req = FetchRequest {
                        targets: vec![target.clone()],
                        ..req.clone()
                    };
                    async move { source.fetch_window(&req).await.unwrap() }
                }))
                .buffer_unordered(50)
                .collect()
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
