//! Benchmark: how long after a restarted lab API answers again the fleet watch (kube's default
//! backoff vs ours) and the `watch` CLI hold a change made then (see BENCHMARKS.md).
//! `cargo run --example restart_recovery -- [DOWN_SECS ...] [--runs N]`

use std::time::{Duration, Instant};

use futures::StreamExt;
use release_cockpit::cluster::{FleetUpdate, RetryPolicy, watch_rollouts_with};
use release_cockpit::lab::{Kind, Lab, LabOptions, PrometheusMode};
use tokio::io::{AsyncBufReadExt, BufReader};

fn main() -> anyhow::Result<()> {
    let mut downs: Vec<u64> = Vec::new();
    let mut runs = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--runs" {
            runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs);
        } else if let Ok(secs) = arg.parse() {
            downs.push(secs);
        }
    }
    if downs.is_empty() {
        downs = vec![5, 20];
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!(
            "| client | server down | runs | recovery after answering again: min / median / max |"
        );
        println!("|---|---|---|---|");
        for &down in &downs {
            for (name, policy) in [
                (
                    "fleet watch, kube default_backoff (before)",
                    Some(RetryPolicy::KubeDefault),
                ),
                (
                    "fleet watch, short backoff + relist on 410 (after)",
                    Some(RetryPolicy::Short),
                ),
                ("`watch` CLI subprocess (after)", None),
            ] {
                let mut took = Vec::new();
                for _ in 0..runs {
                    let t = match policy {
                        Some(policy) => fleet_recovery(policy, down).await?,
                        None => cli_recovery(down).await?,
                    };
                    took.push(t.as_secs_f64());
                }
                took.sort_by(f64::total_cmp);
                println!(
                    "| {name} | {down} s | {runs} | {:.2} / {:.2} / {:.2} s |",
                    took[0],
                    took[took.len() / 2],
                    took[took.len() - 1]
                );
            }
        }
        Ok(())
    })
}

async fn start_lab(dir: &std::path::Path) -> anyhow::Result<Lab> {
    Ok(Lab::start(LabOptions {
        dir: Some(dir.to_path_buf()),
        prometheus: PrometheusMode::Off,
        ..LabOptions::default()
    })
    .await?)
}

fn copy_of_checkout(lab: &Lab, name: &str) -> anyhow::Result<()> {
    let mut copy = lab
        .store()
        .get(Kind::Rollout, "demo", "checkout")
        .ok_or_else(|| anyhow::anyhow!("no checkout in the lab"))?;
    copy["metadata"] = serde_json::json!({"name": name, "namespace": "demo"});
    if let Some(object) = copy.as_object_mut() {
        object.remove("status");
    }
    lab.store().create(Kind::Rollout, copy)?;
    Ok(())
}

/// Seconds from the lab answering again to a fleet snapshot holding a rollout made then.
/// The watch runs in a task of its own, polled all along as the window's is.
async fn fleet_recovery(policy: RetryPolicy, down: u64) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let mut lab = start_lab(dir.path()).await?;
    let client = kube::Client::try_from(lab.kube_config("lab-admin").await?)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch = tokio::spawn(async move {
        let updates = watch_rollouts_with(client, "lab-admin".into(), Some("demo".into()), policy);
        let mut updates = std::pin::pin!(updates);
        while let Some(update) = updates.next().await {
            if tx.send((Instant::now(), update)).is_err() {
                return;
            }
        }
    });
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(300), rx.recv())
            .await
            .ok()
            .flatten()
            .ok_or_else(|| anyhow::anyhow!("no update within 300 s"))
    };
    while !matches!(next().await?.1, FleetUpdate::Snapshot(_)) {}
    lab.stop_api().await;
    tokio::time::sleep(Duration::from_secs(down)).await;
    lab.start_api().await?;
    let back = Instant::now();
    copy_of_checkout(&lab, "after-restart")?;
    let took = loop {
        if let (at, FleetUpdate::Snapshot(views)) = next().await?
            && views.iter().any(|v| v.reference.name == "after-restart")
        {
            break at.saturating_duration_since(back);
        }
    };
    watch.abort();
    lab.shutdown().await;
    Ok(took)
}

/// Seconds from the lab answering again to `release-cockpit watch probe` seeing probe deleted.
async fn cli_recovery(down: u64) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let mut lab = start_lab(dir.path()).await?;
    copy_of_checkout(&lab, "probe")?;
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("release-cockpit"))
        .ok_or_else(|| anyhow::anyhow!("cannot find the binary beside {}", exe.display()))?;
    let kubeconfig = lab
        .kubeconfig_path
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no kubeconfig"))?;
    let mut child = tokio::process::Command::new(&bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "lab-admin", "-n", "demo", "watch", "probe"])
        .env("RELEASE_COCKPIT_DATA_DIR", dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut out = BufReader::new(stdout).lines();
    out.next_line().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    lab.stop_api().await;
    tokio::time::sleep(Duration::from_secs(down)).await;
    lab.start_api().await?;
    let back = Instant::now();
    lab.store().delete(Kind::Rollout, "demo", "probe")?;
    tokio::time::timeout(Duration::from_secs(300), child.wait()).await??;
    let took = back.elapsed();
    lab.shutdown().await;
    Ok(took)
}
