//! CPU time per frame of the real window, headless (egui layout + tessellation, no GPU):
//! the detail view with 4 versions × 3 signals × 1 hour at 1 s, and a fleet of 500 rollouts.
//! `cargo run --example window_frame_cost` prints p50/p99 in milliseconds.

use egui_kittest::Harness;
use release_cockpit::model::{
    MetricsSnapshot, Point, Rollout, RolloutRef, RolloutView, Signal, Version, VersionRole,
    VersionSeries,
};
use release_cockpit::ui::theme::{install_fonts, now_secs};
use release_cockpit::ui::{
    Access, AppEvent, Backend, BackendRequest, CockpitApp, KubeconfigInfo, Settings, UiCommand,
};
use std::path::PathBuf;
use std::time::Instant;

/// Requests go nowhere: only drawing is measured.
struct Discard;

impl Backend for Discard {
    fn send(&self, _request: BackendRequest) {}
}

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/checkout-rollout.yaml"))?;
    let rollout: Rollout = serde_saphyr::from_str(&text)?;
    let checkout = RolloutView::from_rollout("lab-admin", &rollout);

    let detail = measure(
        "detail: 4 versions × 3 signals × 3600 points",
        &checkout,
        1,
        Some(hour_of_metrics(&checkout.reference)),
    )?;
    let empty = measure("detail: no metrics yet", &checkout, 1, None)?;
    let fleet = measure("fleet: 500 rollouts, detail closed", &checkout, 500, None)?;
    for (name, (p50, p99)) in [detail, empty, fleet] {
        println!("{name}: p50 {p50:.2} ms, p99 {p99:.2} ms per frame");
    }
    Ok(())
}

fn measure(
    name: &'static str,
    template: &RolloutView,
    rollouts: usize,
    metrics: Option<MetricsSnapshot>,
) -> anyhow::Result<(&'static str, (f64, f64))> {
    let (tx, rx) = std::sync::mpsc::channel();
    let app = CockpitApp::new(Settings::default(), false, rx, Box::new(Discard));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(install_fonts)
        .build_ui_state(|ui, app: &mut CockpitApp| app.frame(ui), app);
    tx.send(AppEvent::Kubeconfig(KubeconfigInfo {
        files: vec![PathBuf::from("kubeconfig")],
        searched: vec![],
        contexts: vec!["lab-admin".into()],
        current: Some("lab-admin".into()),
    }))?;
    tx.send(AppEvent::Access {
        context: "lab-admin".into(),
        namespace: "shop".into(),
        access: Access::ALL,
    })?;
    let fleet: Vec<RolloutView> = (0..rollouts)
        .map(|i| {
            let mut v = template.clone();
            if i > 0 {
                v.reference.name = format!("service-{i:03}");
            }
            v
        })
        .collect();
    tx.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: fleet,
    })?;
    if rollouts == 1 {
        let _ = harness
            .state_mut()
            .state
            .handle(UiCommand::Select(template.reference.clone()));
    }
    if let Some(snapshot) = metrics {
        tx.send(AppEvent::Metrics(snapshot))?;
    }
    harness.run_steps(5);
    let mut times = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        let _ = harness.ctx.tessellate(shapes, ppp);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let p50 = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    Ok((name, (p50, p99)))
}

fn hour_of_metrics(r: &RolloutRef) -> MetricsSnapshot {
    let now = now_secs();
    let versions = [
        Version::new(VersionRole::Stable, "6d4b9c7f8"),
        Version::new(VersionRole::Canary, "7f9c5d8b4"),
        Version::new(VersionRole::Active, "5c8d9e0f1"),
        Version::new(VersionRole::Preview, "4b7c8d9e0"),
    ];
    let mut series = Vec::new();
    for (k, version) in versions.iter().enumerate() {
        for signal in Signal::ALL {
            series.push(VersionSeries {
                version: version.clone(),
                signal,
                points: (0..3600)
                    .map(|i| Point {
                        t_secs: now - 3600.0 + f64::from(i),
                        value: Some(0.1 + 0.05 * ((f64::from(i) + k as f64 * 17.0) / 9.0).sin()),
                    })
                    .collect(),
            });
        }
    }
    MetricsSnapshot {
        rollout: r.clone(),
        source: "prometheus".into(),
        series,
        stale_since_secs: None,
        error: None,
    }
}
