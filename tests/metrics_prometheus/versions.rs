//! The whole release on the charts and in the report, against the lab: a Prometheus of the
//! test's own (metrics_support) scrapes the lab's /metrics; checkout is promoted fully and
//! payments (blue-green) switched through the orchestrator's one door; the refresher the window
//! uses keeps both versions of each, relabelled; `release-cockpit report` writes them in JSON,
//! CSV and Markdown with SVG charts; bad input exits 2.

use kube::api::Api;
use release_cockpit::metrics::prometheus::{PrometheusClient, PrometheusConfig};
use release_cockpit::metrics::source::{Refresher, Target, now_secs};
use release_cockpit::metrics::{PrometheusSource, Template};
use release_cockpit::model::{
    Action, Command, Phase, Rollout, RolloutRef, RolloutView, Signal, Tool, VersionRole,
};
use release_cockpit::orchestrator::{self, ExecuteOptions, Journal};
use std::path::Path;
use std::time::{Duration, Instant};

const CONTEXT: &str = "lab-admin";

async fn view_of(client: &kube::Client, name: &str) -> RolloutView {
    let ro = Api::<Rollout>::namespaced(client.clone(), "demo")
        .get(name)
        .await
        .unwrap();
    RolloutView::from_rollout(CONTEXT, &ro)
}

async fn wait_for(
    client: &kube::Client,
    name: &str,
    what: &str,
    done: impl Fn(&RolloutView) -> bool,
) -> RolloutView {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = view_of(client, name).await;
        if done(&view) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: {what} not after 60 s: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The refresher the window builds for a Prometheus URL (istio template, 10 s rate window).
fn refresher(url: &str) -> Refresher {
    let client = PrometheusClient::new(PrometheusConfig::new(url)).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "10s");
    Refresher::new(
        Box::new(source),
        Duration::from_secs(600),
        Duration::from_secs(1),
    )
}

pub(super) fn cli(kubeconfig: &Path, config_home: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotions_keep_every_version_on_the_charts_and_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, prom) = super::lab_with_prometheus(dir.path()).await;
    let client = kube::Client::try_from(lab.kube_config(CONTEXT).await.unwrap()).unwrap();

    let before_checkout = view_of(&client, "checkout").await;
    let before_payments = view_of(&client, "payments").await;
    let old_stable = before_checkout.stable_hash.clone().unwrap();
    let new_checkout = before_checkout.current_hash.clone().unwrap();
    let old_active = before_payments.active_hash.clone().unwrap();
    let new_active = before_payments.preview_hash.clone().unwrap();
    assert_ne!(old_stable, new_checkout);
    assert_ne!(old_active, new_active);

    // The window's refresher sees both versions of each while they run side by side.
    let mut plots = refresher(&prom.url());
    let targets = |views: &[&RolloutView]| -> Vec<Target> {
        views.iter().map(|v| Target::from_view(v)).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = targets(&[&before_checkout, &before_payments]);
        assert!(
            plots.refresh(&t, now_secs()).await.ok,
            "{:?}",
            plots.health()
        );
        let snap = plots.snapshot(&t[0]);
        let has = |hash: &str| {
            snap.series.iter().any(|s| {
                s.version.hash == hash
                    && s.signal == Signal::TrafficShare
                    && s.points.iter().any(|p| p.value.is_some())
            })
        };
        if has(&old_stable) && has(&new_checkout) {
            break;
        }
        assert!(Instant::now() < deadline, "no checkout shares: {snap:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // `inbox` judges the canaries from the context's Prometheus (the settings file names it):
    // the lab's catalog canary fails its requests, so it ranks first as a failing verdict
    // (polled: the judge needs a few samples with traffic, as the window's column does).
    let inbox_home = dir.path().join("inbox-home");
    std::fs::create_dir_all(inbox_home.join("release-cockpit")).unwrap();
    std::fs::write(
        inbox_home.join("release-cockpit/metrics.toml"),
        format!(
            "[contexts.{CONTEXT}]\nprometheus_url = \"{}\"\n",
            prom.url()
        ),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = cli(
            &dir.path().join("lab/kubeconfig"),
            &inbox_home,
            &["inbox", "-n", "demo", "-o", "json"],
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let first = &list["rollouts"][0];
        if first["kind"] == "failing-verdict" {
            assert!(
                first["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("while the canary takes")),
                "{first}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failing verdict in the inbox after 90 s: {list}"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    // Promote checkout fully and switch payments, through the one door.
    let options = ExecuteOptions {
        journal: Some(Journal::at(dir.path().join("journal.jsonl"), 1 << 20)),
        ..ExecuteOptions::default()
    };
    for name in ["checkout", "payments"] {
        let command = Command {
            target: RolloutRef::new(CONTEXT, "demo", name),
            action: if name == "checkout" {
                Action::PromoteFull { pin: None }
            } else {
                Action::Promote { pin: None }
            },
            tool: Tool::Cli,
            comment: Some("release review test".into()),
        };
        orchestrator::execute_with(&client, &command, &options)
            .await
            .unwrap_or_else(|e| panic!("promote {name}: {e}"));
    }
    let after_checkout = wait_for(&client, "checkout", "fully promoted", |v| {
        v.phase == Phase::Healthy && v.stable_hash.as_deref() == Some(new_checkout.as_str())
    })
    .await;
    let after_payments = wait_for(&client, "payments", "switched", |v| {
        v.active_hash.as_deref() == Some(new_active.as_str())
    })
    .await;
    assert_eq!(after_checkout.versions().len(), 1, "one version now");

    // After the promotion the former stable is still in the store, now "previous stable".
    for _ in 0..3 {
        let t = targets(&[&after_checkout, &after_payments]);
        assert!(
            plots.refresh(&t, now_secs()).await.ok,
            "{:?}",
            plots.health()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let t = targets(&[&after_checkout, &after_payments]);
    let checkout = plots.snapshot(&t[0]);
    let former = checkout
        .series
        .iter()
        .find(|s| s.version.hash == old_stable && s.signal == Signal::TrafficShare)
        .unwrap_or_else(|| panic!("the former stable vanished: {checkout:?}"));
    assert_eq!(former.version.role, VersionRole::PreviousStable);
    assert!(
        former
            .points
            .iter()
            .any(|p| p.value.is_some_and(|v| v > 0.5)),
        "its share before the promotion is kept: {former:?}"
    );
    let timeline = checkout
        .roles
        .iter()
        .find(|r| r.hash == old_stable)
        .unwrap();
    assert_eq!(timeline.history_text(), "stable → previous stable");
    let promoted = checkout
        .roles
        .iter()
        .find(|r| r.hash == new_checkout)
        .unwrap();
    assert_eq!(promoted.history_text(), "canary → stable");
    // Blue-green: the old active stays, and the traffic is seen handing over to the new one.
    let payments = plots.snapshot(&t[1]);
    let roles: Vec<(String, VersionRole)> = payments
        .series
        .iter()
        .filter(|s| s.signal == Signal::TrafficShare)
        .map(|s| (s.version.hash.clone(), s.version.role))
        .collect();
    assert_eq!(
        roles,
        vec![
            (new_active.clone(), VersionRole::Active),
            (old_active.clone(), VersionRole::PreviousStable)
        ]
    );

    // The report, by the real binary: versions, actions and verdicts in every format.
    let kubeconfig = dir.path().join("lab/kubeconfig");
    let home = dir.path().join("config-home");
    let prom_url = prom.url();
    let report = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "report",
            name,
            "-n",
            "demo",
            "--since",
            "5m",
            "--prometheus",
        ];
        args.push(&prom_url);
        args.extend_from_slice(extra);
        cli(&kubeconfig, &home, &args)
    };
    let out = report("checkout", &["-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions: Vec<(&str, &str)> = json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["hash"].as_str().unwrap(), v["role"].as_str().unwrap()))
        .collect();
    assert!(
        versions.contains(&(new_checkout.as_str(), "stable")),
        "{versions:?}"
    );
    assert!(
        versions.contains(&(old_stable.as_str(), "previous-stable")),
        "{versions:?}"
    );
    let actions = json["actions"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["verb"] == "promote-full"
            && a["comment"] == "release review test"
            && a["tool"] == "the CLI"),
        "{actions:?}"
    );
    assert!(!json["verdicts"].as_array().unwrap().is_empty(), "{json}");
    assert!(
        !json["controllerEvents"].as_array().unwrap().is_empty(),
        "{json}"
    );

    let out = report("payments", &["-o", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let columns = lines.next().unwrap().split(',').count();
    for line in csv.lines().filter(|l| !l.contains('"')) {
        assert_eq!(line.split(',').count(), columns, "{line}");
    }
    for hash in [&old_active, &new_active] {
        assert!(
            csv.lines()
                .any(|l| l.starts_with("point,") && l.contains(hash.as_str())),
            "{hash} not in the CSV:\n{csv}"
        );
    }

    let out_dir = dir.path().join("review");
    let out_arg = out_dir.to_str().unwrap().to_string();
    // With the demo policy, its custom metric (the lab exports orders per version) is read
    // too: charted, tabled and judged; the latency chart carries p99 dotted.
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/analysis/policy.example.toml"
    );
    let with_policy = |format: &str, out: Option<&str>| {
        let mut extra = vec!["-o", format, "--policy", policy];
        if let Some(out) = out {
            extra.extend(["--out", out]);
        }
        report("checkout", &extra)
    };
    let out = with_policy("markdown", Some(&out_arg));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let images: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("![")?.split_once("](")?.1.strip_suffix(')'))
        .collect();
    assert_eq!(
        images,
        [
            "demo-checkout-share.svg",
            "demo-checkout-error_rate.svg",
            "demo-checkout-p95_ms.svg",
            "demo-checkout-requests_per_second.svg",
            "demo-checkout-metric-order_failure_ratio.svg",
            "demo-checkout-metric-queue_depth.svg"
        ],
        "one chart per signal and per custom metric of the demo policy: {md}"
    );
    for image in images {
        let svg = std::fs::read_to_string(out_dir.join(image)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("previous stable"),
            "{image}: {svg}"
        );
    }
    let latency = std::fs::read_to_string(out_dir.join("demo-checkout-p95_ms.svg")).unwrap();
    assert!(
        latency.contains(&format!("previous stable {old_stable} p99")),
        "{latency}"
    );
    let out = with_policy("csv", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    for (kind, signal) in [("point,", ",p99_ms,"), ("metric,", ",order_failure_ratio,")] {
        assert!(
            csv.lines().any(|l| l.starts_with(kind)
                && l.contains(signal)
                && l.contains(new_checkout.as_str())),
            "no {signal} row of {new_checkout}:\n{csv}"
        );
    }

    // Bad input: a clear error naming the thing, exit 2.
    let out = report("nosuch", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no rollout nosuch in namespace demo"), "{err}");
    let out = cli(
        &kubeconfig,
        &home,
        &["report", "checkout", "--since", "soon"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    lab.shutdown().await;
}
