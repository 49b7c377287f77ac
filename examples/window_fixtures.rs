//! Opens the real cockpit window and feeds it `AppEvent`s built from fixture objects (the
//! lab-like `checkout` and Argo's controller-written rollouts) plus synthetic metrics, to look
//! at the window without a cluster: `cargo run --example window_fixtures -- --demo-fixtures`.
//! This is a developer aid for screenshots; the product window only shows real data (for a
//! live window without a cluster, run `release-cockpit --lab`). Requests go nowhere here.

use release_cockpit::model::{
    MetricsSnapshot, Point, Rollout, RolloutRef, RolloutView, Signal, Version, VersionRole,
    VersionSeries,
};
use release_cockpit::ui::theme::{install_fonts, now_secs};
use release_cockpit::ui::{
    Access, ActivityEntry, AppEvent, Backend, BackendRequest, CockpitApp, ContextState, Identity,
    KubeconfigInfo, Settings, UiCommand, VerdictView,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--demo-fixtures") {
        anyhow::bail!("usage: cargo run --example window_fixtures -- --demo-fixtures");
    }
    eframe::run_native(
        "Release Cockpit",
        release_cockpit::ui::native_options(),
        Box::new(move |cc| {
            install_fonts(&cc.egui_ctx);
            let (tx, rx) = std::sync::mpsc::channel();
            let mut settings = Settings::default();
            if std::env::args().any(|a| a == "--light") {
                settings.theme = release_cockpit::ui::settings::ThemeChoice::Light;
            }
            let mut app = CockpitApp::new(settings, false, rx, Box::new(Discard));
            tx.send(AppEvent::Kubeconfig(KubeconfigInfo {
                files: vec![PathBuf::from("fixtures")],
                searched: vec![PathBuf::from("fixtures")],
                contexts: vec!["lab-admin".into(), "lab-viewer".into()],
                current: Some("lab-admin".into()),
            }))?;
            app.start(None, None, false);
            // Show the detail view as if `checkout` had been clicked.
            let _ = app.state.handle(UiCommand::Select(RolloutRef::new(
                "lab-admin",
                "shop",
                "checkout",
            )));
            feed(&tx)?;
            if std::env::args().any(|a| a == "--approve-dialog") {
                let view = checkout_view()?;
                let what =
                    release_cockpit::ui::rollout::actions::approve(&view).unwrap_or_default();
                let _ = app.state.handle(UiCommand::OpenDialog(
                    release_cockpit::ui::dialogs::Dialog::approve(&view, &what),
                ));
            }
            let ctx = cc.egui_ctx.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                let _ = tx.send(AppEvent::Notice(
                    "fixture data: buttons send nothing in this example".into(),
                ));
                ctx.request_repaint();
            });
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("window: {e}"))
}

/// Requests go nowhere: the window shows the fixtures only.
struct Discard;

impl Backend for Discard {
    fn send(&self, _request: BackendRequest) {}
}

fn read(path: &Path) -> anyhow::Result<Rollout> {
    Ok(serde_saphyr::from_str(&std::fs::read_to_string(path)?)?)
}

fn checkout_view() -> anyhow::Result<RolloutView> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(RolloutView::from_rollout(
        "lab-admin",
        &read(&root.join("tests/fixtures/checkout-rollout.yaml"))?,
    ))
}

fn feed(tx: &Sender<AppEvent>) -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let objects = root.join("../shared/fixtures/argo-rollouts/objects");
    let checkout = checkout_view()?;
    let mut fleet = vec![checkout.clone()];
    for f in [
        "canary/canary-rollout.yaml",
        "blue-green/bluegreen-rollout.yaml",
        "rollout-aborted/rollout.yaml",
        "experiment-analysis/rollout-experiment-analysis.yaml",
    ] {
        fleet.push(RolloutView::from_rollout(
            "lab-admin",
            &read(&objects.join(f))?,
        ));
    }
    let r = checkout.reference.clone();
    let now = now_secs();
    let events = vec![
        AppEvent::ContextState {
            context: "lab-admin".into(),
            state: ContextState::Connected,
        },
        AppEvent::Identity {
            context: "lab-admin".into(),
            identity: Identity {
                user: "lab-admin".into(),
                verified: true,
            },
        },
        AppEvent::ContextState {
            context: "lab-viewer".into(),
            state: ContextState::Unreachable {
                reason: "connection refused (127.0.0.1:6444)".into(),
                retry_in_secs: 30,
            },
        },
        AppEvent::Access {
            context: "lab-admin".into(),
            namespace: "shop".into(),
            access: Access::ALL,
        },
        AppEvent::Fleet {
            context: "lab-admin".into(),
            rollouts: fleet,
        },
        AppEvent::Metrics(metrics(&r, now)),
        AppEvent::Activity {
            rollout: r.clone(),
            entries: vec![
                ActivityEntry {
                    time_secs: now - 12.0 * 60.0,
                    user: "lab-admin".into(),
                    verb: "promote".into(),
                    comment: Some("stable error rate flat, go".into()),
                    detail: "step 0 → 1 (weight 20%) · gui".into(),
                    source: "release-cockpit".into(),
                    ours: true,
                    warning: false,
                },
                ActivityEntry {
                    time_secs: now - 12.0 * 60.0 + 1.0,
                    user: String::new(),
                    verb: "RolloutStepCompleted".into(),
                    comment: None,
                    detail: "Rollout step 1/8 completed (setWeight: 20)".into(),
                    source: "rollouts-controller".into(),
                    ours: false,
                    warning: false,
                },
            ],
        },
        AppEvent::Verdict {
            rollout: r,
            verdict: VerdictView {
                verdict: "pass".into(),
                score: 91.0,
                reasons: vec!["error rate within 0.2 points of stable".into()],
                metrics: vec![
                    "error rate 0.21% vs stable 0.19% — within tolerance, pass".into(),
                    "p95 131 ms vs stable 126 ms — within tolerance, pass".into(),
                ],
                metric_status: vec!["pass".into(), "pass".into()],
            },
        },
    ];
    for e in events {
        tx.send(e)?;
    }
    Ok(())
}

/// 20 minutes at 1 s: the canary takes 20% after the promote 12 minutes ago, with a 40 s gap.
fn metrics(r: &RolloutRef, now: f64) -> MetricsSnapshot {
    let stable = Version::new(VersionRole::Stable, "6d4b9c7f8");
    let canary = Version::new(VersionRole::Canary, "7f9c5d8b4");
    let start = now - 20.0 * 60.0;
    let promoted = now - 12.0 * 60.0;
    let gap = (now - 6.0 * 60.0)..(now - 6.0 * 60.0 + 40.0);
    let series = |version: &Version, signal, f: &dyn Fn(f64, bool) -> Option<f64>| VersionSeries {
        version: version.clone(),
        signal,
        points: (0..1200)
            .map(|i| {
                let t = start + f64::from(i);
                let live = t >= promoted;
                Point {
                    t_secs: t,
                    value: if gap.contains(&t) { None } else { f(t, live) },
                }
            })
            .collect(),
    };
    let wiggle = |t: f64, k: f64| (t / k).sin() * 0.5 + (t / (k * 2.7)).cos() * 0.5;
    MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: r.clone(),
        source: "prometheus".into(),
        series: vec![
            series(&stable, Signal::TrafficShare, &|t, live| {
                Some(if live {
                    0.8 + 0.01 * wiggle(t, 7.0)
                } else {
                    1.0
                })
            }),
            series(&canary, Signal::TrafficShare, &|t, live| {
                live.then(|| 0.2 - 0.01 * wiggle(t, 7.0))
            }),
            series(&stable, Signal::ErrorRate, &|t, _| {
                Some(0.002 + 0.001 * wiggle(t, 11.0))
            }),
            series(&canary, Signal::ErrorRate, &|t, live| {
                live.then(|| 0.004 + 0.002 * wiggle(t, 5.0))
            }),
            series(&stable, Signal::P95Ms, &|t, _| {
                Some(120.0 + 8.0 * wiggle(t, 13.0))
            }),
            series(&canary, Signal::P95Ms, &|t, live| {
                live.then(|| 138.0 + 12.0 * wiggle(t, 6.0))
            }),
        ],
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }
}
