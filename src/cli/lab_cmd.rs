//! `release-cockpit lab`: runs the lab in the foreground until Ctrl-C or SIGTERM, printing
//! `lab ready: <api_url>` once the API, the controller and Prometheus (if any) answer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::lab::{Lab, LabOptions, PrometheusMode, scenario};

/// Run a local Kubernetes-compatible lab with simulated Argo Rollouts and traffic.
#[derive(Args, Debug, Clone)]
pub struct LabArgs {
    /// Directory for the kubeconfig (contexts lab-admin, lab-viewer, lab-dev), lab.json,
    /// lab-state.json and Prometheus data. It holds tokens: created 0700 when missing, refused
    /// when another user owns it or group/others may write to it. Started again on the same
    /// directory, the lab is the same server (address, CA, tokens, objects).
    #[arg(long)]
    pub dir: PathBuf,
    /// Address of the lab's API; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Which rollouts and traffic to simulate.
    #[arg(long, default_value = "demo", value_parser = clap::builder::PossibleValuesParser::new(scenario::NAMES))]
    pub scenario: String,
    /// Run simulated time this many times faster (10 for tests).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// `auto` starts Prometheus when it is on PATH, `off` never, or a path to the binary.
    #[arg(long, default_value = "auto", value_parser = parse_prometheus)]
    pub prometheus: PrometheusMode,
}

fn parse_prometheus(value: &str) -> Result<PrometheusMode, String> {
    Ok(match value {
        "auto" => PrometheusMode::Auto,
        "off" => PrometheusMode::Off,
        "" => return Err("expected auto, off or a path to a prometheus binary".into()),
        path => PrometheusMode::Path(PathBuf::from(path)),
    })
}

/// Starts the lab, announces it, and stops it cleanly on Ctrl-C or SIGTERM.
pub async fn run(args: LabArgs) -> anyhow::Result<ExitCode> {
    // Register the handlers before the lab says it is ready: a SIGTERM sent right after
    // `lab ready` must stop it cleanly, not kill it with the default action.
    let stop = stop_signal().context("cannot listen for Ctrl-C / SIGTERM")?;
    run_until(args, stop).await
}

/// Runs the lab until `stop` completes (or fails: then the lab is stopped and the error
/// returned), printing `lab ready: <api_url>` once it answers.
pub async fn run_until(
    args: LabArgs,
    stop: impl Future<Output = std::io::Result<()>>,
) -> anyhow::Result<ExitCode> {
    let opts = LabOptions {
        dir: Some(args.dir.clone()),
        addr: args.addr,
        scenario: args.scenario,
        speed: args.speed,
        prometheus: args.prometheus,
    };
    let lab = Lab::start(opts).await.context("the lab did not start")?;
    println!("lab ready: {}", lab.api_url);
    eprintln!(
        "kubeconfig: {}  metrics: {}  prometheus: {}",
        args.dir.join("kubeconfig").display(),
        lab.metrics_url,
        lab.prometheus_url.as_deref().unwrap_or("none")
    );
    let stopped = stop.await;
    lab.shutdown().await;
    stopped.context("waiting for Ctrl-C or SIGTERM")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl Future<Output = std::io::Result<()>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => Ok(()),
            _ = term.recv() => Ok(()),
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl Future<Output = std::io::Result<()>>> {
    Ok(tokio::signal::ctrl_c())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        lab: LabArgs,
    }

    #[test]
    fn flags_parse_with_defaults() {
        let cli = Cli::try_parse_from(["x", "--dir", "/tmp/lab", "--prometheus", "off"]).unwrap();
        assert_eq!(cli.lab.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(cli.lab.scenario, "demo");
        assert_eq!(cli.lab.prometheus, PrometheusMode::Off);
        let cli = Cli::try_parse_from(["x", "--dir", "d", "--prometheus", "/opt/prom"]).unwrap();
        assert_eq!(cli.lab.prometheus, PrometheusMode::Path("/opt/prom".into()));
        assert!(Cli::try_parse_from(["x", "--dir", "d", "--scenario", "nope"]).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_until_stopped_and_leaves_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let args = LabArgs {
            dir: dir.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
            scenario: "healthy".into(),
            speed: 10.0,
            prometheus: PrometheusMode::Off,
        };
        let lab_json = dir.path().join("lab.json");
        let stop = async {
            while !lab_json.exists() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let text = std::fs::read_to_string(&lab_json)?;
            let lab: serde_json::Value = serde_json::from_str(&text)?;
            let metrics_url = lab["metrics_url"].as_str().unwrap_or_default().to_string();
            let metrics = reqwest::get(&metrics_url)
                .await
                .map_err(std::io::Error::other)?;
            assert!(metrics.status().is_success());
            Ok(())
        };
        let code = tokio::time::timeout(std::time::Duration::from_secs(20), run_until(args, stop))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(dir.path().join("kubeconfig").exists());
    }
}
