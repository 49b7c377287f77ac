//! CPU time per frame of the real window, headless (egui layout + tessellation, no GPU):
//! the detail view with 4 versions × 3 signals × 1 hour at 1 s, a fleet of 500 rollouts, and
//! 500 rollouts over 3 contexts with the inbox open (unfiltered, then searched and sorted),
//! against a peer in the same run (an egui frame with one label); and the CPU time of one
//! inbox ranking (`attention::inbox`) over those 500, which the window runs on every event. The thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) is counted, so other processes on the machine do not inflate it.
//! `cargo run --example window_frame_cost` prints p50/p99 in milliseconds.

use egui_kittest::Harness;
use release_cockpit::attention::{Evidence, inbox};
use release_cockpit::model::Phase;
use release_cockpit::model::{
    MetricsSnapshot, Point, Rollout, RolloutRef, RolloutView, Signal, Version, VersionRole,
    VersionSeries,
};
use release_cockpit::ui::fleet::{FleetFilter, SortKey, visible_rows};
use release_cockpit::ui::theme::{install_fonts, now_secs};
use release_cockpit::ui::{
    Access, AppEvent, Backend, BackendRequest, CockpitApp, KubeconfigInfo, Settings, UiCommand,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

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

    let hour = hour_of_metrics(&checkout.reference);
    let detail = measure(
        "detail: 4 versions × 3 signals × 3600 points, last 15 min shown",
        &checkout,
        1,
        Some((hour.clone(), 15)),
    )?;
    let detail_hour = measure(
        "detail: 4 versions × 3 signals × 3600 points, whole hour shown",
        &checkout,
        1,
        Some((hour.clone(), 60)),
    )?;
    let empty = measure("detail: no metrics yet", &checkout, 1, None)?;
    let fleet = measure("fleet: 500 rollouts, detail closed", &checkout, 500, None)?;
    let spread = fleet_over_contexts(&checkout, 500, 3);
    let inbox = measure_fleet(
        "fleet + inbox: 500 rollouts over 3 contexts, inbox open",
        &spread,
        FleetFilter::default(),
    )?;
    let searched = measure_fleet(
        "fleet + inbox: same, search \"service-1\", sorted by weight descending",
        &spread,
        FleetFilter {
            search: "service-1".into(),
            sort: SortKey::Weight,
            descending: true,
            ..FleetFilter::default()
        },
    )?;
    let plot_peer = measure_plot_peer(&hour);
    let peer = measure_peer();
    let ranking = inbox_ranking_cost(&spread);
    for (what, filter) in [
        ("unfiltered, by name", FleetFilter::default()),
        (
            "search \"service-1\", by weight descending",
            FleetFilter {
                search: "service-1".into(),
                sort: SortKey::Weight,
                descending: true,
                ..FleetFilter::default()
            },
        ),
        (
            "by verdict",
            FleetFilter {
                sort: SortKey::Verdict,
                ..FleetFilter::default()
            },
        ),
    ] {
        let (rows, (p50, p99)) = filter_sort_cost(&spread, &filter);
        println!(
            "fleet filter + sort of 500 over 3 contexts, {what} ({rows} rows): CPU p50 {p50:.3} ms, \
             p99 {p99:.3} ms per frame"
        );
    }
    println!(
        "inbox ranking of 500 rollouts over 3 contexts ({} need someone): CPU p50 {:.3} ms, \
         p99 {:.3} ms per ranking",
        ranking.0, ranking.1.0, ranking.1.1
    );
    for (name, (p50, p99)) in [
        detail,
        detail_hour,
        plot_peer,
        empty,
        fleet,
        inbox,
        searched,
        peer,
    ] {
        println!(
            "{name}: CPU p50 {p50:.2} ms, p99 {p99:.2} ms per frame \
             ({:.2}× / {:.2}× bare egui_plot with the hour; {:.0}× / {:.0}× a one-label frame)",
            p50 / plot_peer.1.0,
            p99 / plot_peer.1.1,
            p50 / peer.1.0,
            p99 / peer.1.1
        );
    }
    Ok(())
}

/// The detail view's peer: three bare egui_plot plots with the same 12 series, every point
/// handed over, nothing else on screen.
fn measure_plot_peer(snapshot: &MetricsSnapshot) -> (&'static str, (f64, f64)) {
    let lines: Vec<(Signal, String, Vec<[f64; 2]>)> = snapshot
        .series
        .iter()
        .map(|s| {
            let points = s
                .points
                .iter()
                .filter_map(|p| Some([p.t_secs, p.value?]))
                .collect();
            (
                s.signal,
                format!("{} {}", s.version.role, s.version.hash),
                points,
            )
        })
        .collect();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(install_fonts)
        .build_ui(move |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                for signal in Signal::ALL {
                    egui_plot::Plot::new(("peer", signal.as_str()))
                        .height(250.0)
                        .show(ui, |plot_ui| {
                            for (s, label, points) in &lines {
                                if *s == signal {
                                    plot_ui
                                        .line(egui_plot::Line::new(label.as_str(), points.clone()));
                                }
                            }
                        });
                }
            });
        });
    harness.run_steps(5);
    (
        "peer: bare egui_plot, 3 plots × 4 lines × 3600 points",
        frame_times(&mut harness),
    )
}

/// The peer: an egui frame with one label, measured the same way.
fn measure_peer() -> (&'static str, (f64, f64)) {
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(install_fonts)
        .build_ui(|ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label("an egui frame with one label");
            });
        });
    harness.run_steps(5);
    ("peer: egui frame with one label", frame_times(&mut harness))
}

/// CPU time this thread has used, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

/// p50 and p99 of the CPU time of 200 frames (layout and tessellation).
fn frame_times<S>(harness: &mut Harness<'_, S>) -> (f64, f64) {
    let mut times = Vec::new();
    for _ in 0..200 {
        let start = thread_cpu_ms();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        let _ = harness.ctx.tessellate(shapes, ppp);
        times.push(thread_cpu_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn measure(
    name: &'static str,
    template: &RolloutView,
    rollouts: usize,
    metrics: Option<(MetricsSnapshot, u32)>,
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
    if let Some((snapshot, window_minutes)) = metrics {
        harness.state_mut().state.plot_view.window_minutes = window_minutes;
        tx.send(AppEvent::Metrics(snapshot))?;
    }
    harness.run_steps(5);
    Ok((name, frame_times(&mut harness)))
}

/// `n` copies of `template` spread over `contexts` contexts (`ctx-0`, …): a third waiting at
/// their gate, a tenth aborted, the rest moving on by themselves at assorted weights.
fn fleet_over_contexts(
    template: &RolloutView,
    n: usize,
    contexts: usize,
) -> BTreeMap<String, Vec<RolloutView>> {
    let mut fleet: BTreeMap<String, Vec<RolloutView>> = BTreeMap::new();
    for i in 0..n {
        let mut v = template.clone();
        let context = format!("ctx-{}", i % contexts);
        v.reference.context = context.clone();
        v.reference.name = format!("service-{i:03}");
        v.actual_weight = (i % 5) as i32 * 20;
        if i % 10 == 0 {
            v.aborted = true;
            v.phase = Phase::Degraded;
            v.message = "RolloutAborted: Rollout aborted update to revision 4".into();
        } else if i % 3 != 0 {
            v.pause_reasons.clear();
            v.controller_pause = false;
            v.phase = Phase::Progressing;
        }
        fleet.entry(context).or_default().push(v);
    }
    fleet
}

/// The window with `fleet` arriving context by context, nothing selected (the inbox shows).
fn measure_fleet(
    name: &'static str,
    fleet: &BTreeMap<String, Vec<RolloutView>>,
    filter: FleetFilter,
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
        contexts: fleet.keys().cloned().collect(),
        current: fleet.keys().next().cloned(),
    }))?;
    for context in fleet.keys() {
        let _ = harness
            .state_mut()
            .state
            .handle(UiCommand::SetContextWatched {
                context: context.clone(),
                watched: true,
            });
    }
    for (context, rollouts) in fleet {
        tx.send(AppEvent::Fleet {
            context: context.clone(),
            rollouts: rollouts.clone(),
        })?;
    }
    harness.state_mut().state.filter = filter;
    harness.run_steps(5);
    Ok((name, frame_times(&mut harness)))
}

/// CPU time of the fleet table's filter and sort alone (`fleet::visible_rows`, run every
/// frame), p50 and p99 of 200, and how many rows pass.
fn filter_sort_cost(
    fleet: &BTreeMap<String, Vec<RolloutView>>,
    filter: &FleetFilter,
) -> (usize, (f64, f64)) {
    let verdicts = std::collections::HashMap::new();
    let now = now_secs();
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..200 {
        let start = thread_cpu_ms();
        rows = visible_rows(fleet, |_| true, filter, &verdicts, now).len();
        times.push(thread_cpu_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    (
        rows,
        (times[times.len() / 2], times[times.len() * 99 / 100]),
    )
}

/// CPU time of one `attention::inbox` over the fleet (p50, p99 of 200), and how many rows.
fn inbox_ranking_cost(fleet: &BTreeMap<String, Vec<RolloutView>>) -> (usize, (f64, f64)) {
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..200 {
        let start = thread_cpu_ms();
        rows = inbox(fleet.values().flatten(), &Evidence::rollouts_only()).len();
        times.push(thread_cpu_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    (
        rows,
        (times[times.len() / 2], times[times.len() * 99 / 100]),
    )
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
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: r.clone(),
        source: "prometheus".into(),
        series,
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }
}
