//! Click to the API server's answer, for BENCHMARKS.md ("Window"): the real window
//! (egui_kittest, no display) wired to the real backend against the lab, clicking Pause /
//! Resume on `checkout`; next to the peer in the same run: the same commands sent by
//! `orchestrator::execute_with` directly on the same runtime, with the same journal and the
//! same identity and access answers the window holds (what the CLI verb does, minus process
//! start and those asks), and the window's backend alone (Execute → CommandDone, no frames).
//! `cargo run --release --example click_to_answer`

// The integration tests' lab fixture: the benchmark starts its lab the same way.
#[path = "../tests/support/lab.rs"]
mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use release_cockpit::lab::Lab;
use release_cockpit::model::{Action, Command, RolloutRef, Tool};
use release_cockpit::orchestrator::{self, ExecuteOptions, Journal};
use release_cockpit::ui::app::SessionAction;
use release_cockpit::ui::{
    AppEvent, Backend, BackendOptions, BackendRequest, CockpitApp, EventSink, Settings,
    TokioBackend,
};
use std::time::{Duration, Instant};

/// A lab on port 0 in a temp dir, without Prometheus, on the benchmark's own runtime.
struct LabFixture {
    runtime: tokio::runtime::Runtime,
    lab: Lab,
    dir: tempfile::TempDir,
}

impl LabFixture {
    fn start() -> LabFixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let support::LabDirs { lab, dir, .. } =
            runtime.block_on(support::LabDirs::start(support::options()));
        LabFixture { runtime, lab, dir }
    }

    /// The benchmark's own command journal (never the user's).
    fn journal(&self) -> Journal {
        Journal::at(self.dir.path().join("journal.jsonl"), 1 << 20)
    }

    fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The window on the lab's kubeconfig, watching `context`, stepped by the benchmark.
    fn window(&self, context: &str) -> Window {
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = EventSink::new(tx, egui::Context::default());
        let backend = TokioBackend::with_options(
            self.runtime.handle().clone(),
            sink,
            self.lab.kubeconfig_path.clone(),
            BackendOptions {
                read_only: false,
                journal: Some(self.journal()),
            },
        );
        let settings = Settings {
            refresh_secs: 1,
            ..Settings::default()
        };
        let mut app = CockpitApp::new(settings, false, rx, Box::new(backend));
        app.start(Some(context.to_string()), None, false);
        let harness = Harness::builder()
            .with_size(egui::vec2(1400.0, 900.0))
            .with_context_setup(release_cockpit::ui::theme::install_fonts)
            .build_ui_state(|ui, app: &mut CockpitApp| app.frame(ui), app);
        Window { harness }
    }
}

struct Window {
    harness: Harness<'static, CockpitApp>,
}

impl Window {
    /// Step frames until `done` holds; panics after `secs` with `what`.
    fn wait_until(&mut self, what: &str, secs: u64, mut done: impl FnMut(&CockpitApp) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            self.harness.step();
            if done(self.harness.state()) {
                self.harness.run_steps(2);
                return;
            }
            assert!(Instant::now() < deadline, "waited {secs} s for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn actions(&self, r: &RolloutRef) -> Vec<SessionAction> {
        self.harness
            .state()
            .state
            .session_actions
            .get(r)
            .cloned()
            .unwrap_or_default()
    }
}

fn main() {
    const N: usize = 40;
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    let checkout = RolloutRef::new("lab-admin", "demo", "checkout");
    w.wait_until("checkout in the fleet", 30, |app| {
        app.state
            .fleet
            .get("lab-admin")
            .is_some_and(|rollouts| rollouts.iter().any(|v| v.reference == checkout))
    });
    w.harness.get_by_label("checkout").click();
    w.harness.run_steps(4);
    w.wait_until("checkout's actions are offered", 30, |app| {
        app.state.access_for(&checkout).is_some()
    });
    let mut window_ms = Vec::new();
    for i in 0..N {
        let label = if i % 2 == 0 { "Pause" } else { "Resume" };
        let before = w.actions(&checkout).len();
        // The button is enabled once the watch shows the previous command's effect.
        let deadline = Instant::now() + Duration::from_secs(10);
        while w.harness.get_by_label(label).accesskit_node().is_disabled() {
            assert!(Instant::now() < deadline, "{label} enabled again");
            w.harness.step();
            std::thread::sleep(Duration::from_millis(5));
        }
        let node = w.harness.get_by_label(label);
        let clicked = Instant::now();
        node.click();
        loop {
            w.harness.step();
            if w.actions(&checkout).len() > before {
                break;
            }
            assert!(
                clicked.elapsed() < Duration::from_secs(20),
                "{label} answered"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        window_ms.push(clicked.elapsed().as_secs_f64() * 1000.0);
        let last = w.actions(&checkout)[before].text.clone();
        assert!(!last.contains("refused"), "{last}");
        w.harness.run_steps(2);
    }
    let lab = fixture.lab();
    let journal = fixture.journal();
    let direct_ms: Vec<f64> = fixture.runtime.block_on(async {
        let config = lab.kube_config("lab-admin").await.expect("config");
        let client = kube::Client::try_from(config).expect("client");
        // What the window knows already (who, which permissions), so both paths send the
        // same requests: read, patch(es), Event, with the same journal.
        let options = ExecuteOptions {
            journal: Some(journal),
            identity: Some(
                orchestrator::whoami(&client, "lab-admin")
                    .await
                    .expect("whoami"),
            ),
            access: Some(
                orchestrator::access(&client, "lab-admin", "demo")
                    .await
                    .expect("access"),
            ),
            ..ExecuteOptions::default()
        };
        let mut times = Vec::new();
        for i in 0..N {
            let action = if i % 2 == 0 {
                Action::Pause
            } else {
                Action::Resume
            };
            let command = Command {
                target: checkout.clone(),
                action,
                tool: Tool::Cli,
                comment: None,
            };
            let started = Instant::now();
            orchestrator::execute_with(&client, &command, &options)
                .await
                .expect("the lab answers");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times
    });
    // The window's backend alone (no frames): Execute in, CommandDone out over the channel.
    let (tx, rx) = std::sync::mpsc::channel();
    let backend = TokioBackend::with_options(
        fixture.runtime.handle().clone(),
        EventSink::new(tx, egui::Context::default()),
        fixture.lab().kubeconfig_path.clone(),
        BackendOptions {
            read_only: false,
            journal: Some(fixture.journal()),
        },
    );
    backend.send(BackendRequest::LoadKubeconfig {
        extra_files: Vec::new(),
    });
    loop {
        match rx
            .recv_timeout(Duration::from_secs(10))
            .expect("kubeconfig read")
        {
            AppEvent::Kubeconfig(_) => break,
            _ => continue,
        }
    }
    let mut backend_ms = Vec::new();
    for i in 0..N {
        let action = if i % 2 == 0 {
            Action::Pause
        } else {
            Action::Resume
        };
        let started = Instant::now();
        backend.send(BackendRequest::Execute(Command {
            target: checkout.clone(),
            action,
            tool: Tool::Gui,
            comment: None,
        }));
        loop {
            match rx.recv_timeout(Duration::from_secs(10)).expect("an answer") {
                AppEvent::CommandDone(_) => break,
                AppEvent::CommandFailed { error, .. } => panic!("{error}"),
                _ => continue,
            }
        }
        backend_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 9 / 10])
    };
    let (window_p50, window_p90) = median(window_ms);
    let (direct_p50, direct_p90) = median(direct_ms);
    let (backend_p50, backend_p90) = median(backend_ms);
    println!(
        "click → answer in the window: median {window_p50:.1} ms, p90 {window_p90:.1} ms (N={N})"
    );
    println!(
        "the window's backend alone (Execute → CommandDone): median {backend_p50:.1} ms, p90 {backend_p90:.1} ms (N={N})"
    );
    println!(
        "orchestrator::execute_with directly: median {direct_p50:.1} ms, p90 {direct_p90:.1} ms (N={N})"
    );
    println!("window / direct: {:.2}× (median)", window_p50 / direct_p50);
    let lab = fixture.lab;
    fixture.runtime.block_on(lab.shutdown());
}
