//! How long one command takes, process start to exit, against the lab: `release-cockpit
//! abort` (identity, permission reviews, journal intent and outcome, the status patch, the
//! last-action annotation and the audit Event) beside its peers in the same run: one bare
//! `curl` PATCH of the same status over TLS, and `kubectl patch --subresource=status` with a
//! warm discovery cache. Runs are interleaved so that the three share the machine's state.
//!
//! `cargo build --release && cargo run --release --example command_latency -- [--runs 30]
//! [--bin target/release/release-cockpit]` prints median and p90 per tool and the ratios.

use release_cockpit::lab::{Lab, LabOptions, PrometheusMode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ROLLOUT: &str = "search";

fn main() -> anyhow::Result<()> {
    let mut runs = 30usize;
    let mut bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/release-cockpit");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().unwrap_or_default().parse()?,
            "--bin" => bin = args.next().map(PathBuf::from).unwrap_or(bin),
            other => anyhow::bail!("unknown argument {other}; use --runs N and --bin PATH"),
        }
    }
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: run `cargo build --release` first (or pass --bin)",
        bin.display()
    );
    for tool in ["curl", "kubectl"] {
        anyhow::ensure!(
            which(tool),
            "{tool} is not on PATH: install it (apt-get install {tool})"
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let lab = runtime.block_on(Lab::start(LabOptions {
        dir: Some(dir.path().to_path_buf()),
        prometheus: PrometheusMode::Off,
        ..LabOptions::default()
    }))?;
    let kubeconfig = dir.path().join("kubeconfig");
    let (server, token) = admin_of(&kubeconfig)?;
    let status_url =
        format!("{server}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/{ROLLOUT}/status");
    let ca = dir.path().join("ca.crt");
    let ours = || {
        let mut c = Command::new(&bin);
        c.arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--context", "lab-admin", "-n", "demo", "abort", ROLLOUT])
            .env("RELEASE_COCKPIT_DATA_DIR", data.path());
        c
    };
    let curl = || {
        let mut c = Command::new("curl");
        c.args(["-sS", "--fail", "-o", "/dev/null", "--cacert"])
            .arg(&ca)
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args([
                "-X",
                "PATCH",
                "-H",
                "Content-Type: application/merge-patch+json",
            ])
            .args(["-d", r#"{"status":{"abort":true}}"#, &status_url]);
        c
    };
    let kubectl = || {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--context", "lab-admin", "-n", "demo", "patch"])
            .args(["rollouts.argoproj.io", ROLLOUT, "--subresource=status"])
            .args(["--type=merge", "-p", r#"{"status":{"abort":true}}"#]);
        c
    };
    // Warm-up: the discovery cache for kubectl, the page cache for every binary.
    for make in [&ours as &dyn Fn() -> Command, &curl, &kubectl] {
        timed(make())?;
    }
    let mut times: [Vec<Duration>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..runs {
        // Rotate who goes first, so no tool always follows the same one.
        for k in 0..3 {
            let i = (round + k) % 3;
            let command = match i {
                0 => ours(),
                1 => curl(),
                _ => kubectl(),
            };
            times[i].push(timed(command)?);
        }
    }
    runtime.block_on(lab.shutdown());
    let [ours_t, curl_t, kubectl_t] = times.map(|mut t| {
        t.sort();
        t
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{runs} runs each, interleaved; process start to exit, against the lab over TLS");
    for (name, t) in [
        ("release-cockpit abort", &ours_t),
        ("curl PATCH", &curl_t),
        ("kubectl patch", &kubectl_t),
    ] {
        println!(
            "{name:<22} median {:>7.1} ms   p90 {:>7.1} ms",
            ms(quantile(t, 0.5)),
            ms(quantile(t, 0.9))
        );
    }
    let ratio = |a: &[Duration], b: &[Duration]| ms(quantile(a, 0.5)) / ms(quantile(b, 0.5));
    println!(
        "runs={runs} abort_ms={:.1} curl_ms={:.1} kubectl_ms={:.1} abort_vs_curl={:.2} abort_vs_kubectl={:.2}",
        ms(quantile(&ours_t, 0.5)),
        ms(quantile(&curl_t, 0.5)),
        ms(quantile(&kubectl_t, 0.5)),
        ratio(&ours_t, &curl_t),
        ratio(&ours_t, &kubectl_t),
    );
    Ok(())
}

/// Runs `command` to its end; its wall time, or why it failed.
fn timed(mut command: Command) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = command.output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(elapsed)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// The lab's API URL and the admin's bearer token, from the kubeconfig it wrote.
fn admin_of(kubeconfig: &Path) -> anyhow::Result<(String, String)> {
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(kubeconfig)?)?;
    let server = doc["clusters"][0]["cluster"]["server"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no server in {}", kubeconfig.display()))?;
    let token = doc["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["name"] == "lab-admin")
        .and_then(|u| u["user"]["token"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no lab-admin token in {}", kubeconfig.display()))?;
    Ok((server.to_string(), token.to_string()))
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
