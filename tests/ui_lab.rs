//! The real window against the real lab, end to end: egui_kittest clicks the buttons of a
//! `CockpitApp` wired to the `TokioBackend`, which watches the lab over HTTPS with kube-rs and
//! sends commands through `orchestrator::execute`; the test then reads the rollout back from
//! the lab with its own kube client. Metrics come from the lab's `/metrics` (direct scrape).

#[path = "ui_lab/flagger.rs"]
mod flagger;
#[path = "support/lab.rs"]
mod support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use release_cockpit::lab::{Kind, Lab, LabOptions};
use release_cockpit::model::{Phase, Rollout, RolloutRef, RolloutView};
use release_cockpit::orchestrator::Journal;
use release_cockpit::ui::app::SessionAction;
use release_cockpit::ui::{
    BackendOptions, CockpitApp, ContextState, EventSink, Settings, TokioBackend,
};
use std::time::{Duration, Instant};

/// A lab on port 0 in a temp dir, without Prometheus, on the test's own runtime.
struct LabFixture {
    runtime: tokio::runtime::Runtime,
    lab: Option<Lab>,
    _dir: tempfile::TempDir,
}

impl LabFixture {
    fn start() -> LabFixture {
        LabFixture::start_at_speed(1.0)
    }

    /// A lab whose simulated time runs `speed` times faster (Flagger's 30 s intervals).
    fn start_at_speed(speed: f64) -> LabFixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let support::LabDirs { lab, dir, .. } =
            runtime.block_on(support::LabDirs::start(LabOptions {
                speed,
                ..support::options()
            }));
        LabFixture {
            runtime,
            lab: Some(lab),
            _dir: dir,
        }
    }

    /// The test's own command journal (never the user's).
    fn journal(&self) -> Journal {
        Journal::at(self._dir.path().join("journal.jsonl"), 1 << 20)
    }

    fn lab(&self) -> &Lab {
        self.lab.as_ref().expect("lab running")
    }

    /// `checkout` as the lab holds it, read with a kube client of our own.
    fn checkout(&self) -> Rollout {
        let lab = self.lab();
        self.runtime.block_on(async {
            let config = lab.kube_config("lab-admin").await.expect("lab kube config");
            let client = kube::Client::try_from(config).expect("client");
            kube::Api::<Rollout>::namespaced(client, "demo")
                .get("checkout")
                .await
                .expect("checkout in the lab")
        })
    }

    /// Namespace `namespace` with a copy of `checkout` named `name`: a rollout only users
    /// with more than namespace demo may see.
    fn rollout_elsewhere(&self, namespace: &str, name: &str) {
        let store = self.lab().store();
        store
            .create(
                Kind::Namespace,
                serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace}}),
            )
            .expect("namespace");
        let mut copy = store
            .get(Kind::Rollout, "demo", "checkout")
            .expect("checkout in the lab");
        copy["metadata"] = serde_json::json!({"name": name, "namespace": namespace});
        if let Some(object) = copy.as_object_mut() {
            object.remove("status");
        }
        store.create(Kind::Rollout, copy).expect("rollout");
    }

    fn checkout_view(&self) -> RolloutView {
        RolloutView::from_rollout("lab-admin", &self.checkout())
    }

    /// Read `checkout` from the lab until `done` holds (10 s at most): its controller works
    /// asynchronously, as Argo's does.
    fn wait_for(&self, what: &str, done: impl Fn(&RolloutView) -> bool) -> RolloutView {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let view = self.checkout_view();
            if done(&view) {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "waited 10 s for {what}: {view:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The window on the lab's kubeconfig, watching `context`.
    fn window(&self, context: &str) -> Window {
        self.window_with(context, Settings::default())
    }

    fn window_with(&self, context: &str, settings: Settings) -> Window {
        let (tx, rx) = std::sync::mpsc::channel();
        // Repaint requests go to a context of their own: the test steps the harness itself.
        let sink = EventSink::new(tx, egui::Context::default());
        let backend = TokioBackend::with_options(
            self.runtime.handle().clone(),
            sink,
            self.lab().kubeconfig_path.clone(),
            BackendOptions {
                read_only: false,
                journal: Some(self.journal()),
            },
        );
        let settings = Settings {
            refresh_secs: 1,
            ..settings
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

impl Drop for LabFixture {
    fn drop(&mut self) {
        if let Some(lab) = self.lab.take() {
            self.runtime.block_on(lab.shutdown());
        }
    }
}

struct Window {
    harness: Harness<'static, CockpitApp>,
}

impl Window {
    /// Step frames (each drains the backend's events) until `done` holds; panics after
    /// `secs` with `what`. Never `run()`: toasts and the refresh tick keep asking for frames.
    fn wait_until(&mut self, what: &str, secs: u64, mut done: impl FnMut(&CockpitApp) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            self.harness.step();
            if done(self.harness.state()) {
                self.harness.run_steps(2);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; session: {:?}; toasts: {:?}",
                self.harness.state().state.session_actions,
                self.harness.state().state.toasts.items()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn click(&mut self, label: &str) {
        let node = self.harness.get_by_label(label);
        assert!(
            !node.accesskit_node().is_disabled(),
            "{label} is enabled; toasts: {:?}",
            self.harness.state().state.toasts.items()
        );
        let before = node.rect();
        node.click();
        self.harness.run_steps(4);
        // The button stays where it was clicked while data arrives (the verdict's lines once
        // pushed the action bar down between two frames, and the click hit nothing).
        let after: Vec<egui::Rect> = self
            .harness
            .query_all_by_label(label)
            .map(|n| n.rect())
            .collect();
        assert!(
            after.is_empty() || after.contains(&before),
            "{label} moved from {before:?} to {after:?} while it was clicked"
        );
    }

    /// Hover the widget labelled `label` (exactly, or containing it with `contains`) until a
    /// tooltip with `text` shows; panics after `secs`. The pointer is moved again on each try:
    /// a backend event arriving meanwhile may re-lay the window out from under it.
    fn hover_until_tooltip(&mut self, label: &str, contains: bool, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let node = if contains {
                self.harness.get_by_label_contains(label)
            } else {
                self.harness.get_by_label(label)
            };
            node.hover();
            self.harness.run_steps(10);
            if self.harness.query_by_label_contains(text).is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "hovered {label:?} for {secs} s; no tooltip with {text:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn selected_view(&self) -> Option<RolloutView> {
        self.harness.state().state.selected_view().cloned()
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

    /// Wait for the next outcome line of `r` after `before` lines, and return it.
    fn next_outcome(&mut self, r: &RolloutRef, before: usize, what: &str) -> String {
        self.wait_until(what, 20, |app| {
            app.state
                .session_actions
                .get(r)
                .is_some_and(|a| a.len() > before)
        });
        self.actions(r)[before].text.clone()
    }

    fn select_checkout(&mut self, context: &str) -> RolloutRef {
        let checkout = RolloutRef::new(context, "demo", "checkout");
        self.wait_until("checkout in the fleet", 30, |app| {
            app.state
                .fleet
                .get(context)
                .is_some_and(|rollouts| rollouts.iter().any(|v| v.reference == checkout))
        });
        self.click("checkout");
        assert_eq!(self.harness.state().state.selected, Some(checkout.clone()));
        checkout
    }
}

#[test]
fn approve_slide_and_rollback_reach_the_lab_and_the_plots_fill() {
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    let checkout = w.select_checkout("lab-admin");

    // checkout waits for approval at step 1 (20%).
    w.wait_until("checkout paused for approval", 30, |app| {
        app.state
            .selected_view()
            .is_some_and(|v| v.waiting_for_human() && v.current_step == Some(1))
    });
    assert_eq!(fixture.checkout_view().current_step, Some(1));

    // Approve + Confirm → the lab's rollout moved from step 1 to step 2.
    w.click("Approve");
    w.click("Confirm");
    let outcome = w.next_outcome(&checkout, 0, "the promote's outcome");
    assert!(outcome.contains("1 → 2"), "{outcome}");
    // Promote clears the pause (as `kubectl argo rollouts promote` does); the controller
    // then moves past it.
    let in_lab = fixture.wait_for("the lab past the approval", |v| {
        v.current_step >= Some(2) && !v.waiting_for_human()
    });
    assert!(in_lab.set_weight >= 40, "{}", in_lab.set_weight);
    // The activity panel reads the audit Event the orchestrator wrote: who, what, via what.
    w.wait_until("the approval in the activity panel", 20, |app| {
        app.state.activity.get(&checkout).is_some_and(|entries| {
            entries.iter().any(|e| {
                e.verb == "promote" && e.user == "lab-admin" && e.detail.contains("window")
            })
        })
    });
    let journal = std::fs::read_to_string(fixture._dir.path().join("journal.jsonl"))
        .expect("the window's command was journaled");
    assert!(
        journal.contains("\"gui\"") && journal.contains("checkout"),
        "{journal}"
    );

    // The slider snaps to declared weights; 60 → the lab's rollout is at the 60% step.
    // Wait until the rollout rests in its 10 s pause so the pin matches what is on screen.
    w.wait_until("checkout in its 10 s pause at 40%", 30, |app| {
        app.state
            .selected_view()
            .is_some_and(|v| v.current_step == Some(3))
    });
    w.harness
        .get_by_role_and_label(Role::Slider, "Weight")
        .set_value_accesskit(60.0);
    w.harness.run_steps(2);
    w.click("Apply");
    let outcome = w.next_outcome(&checkout, 1, "the set-weight's outcome");
    assert!(outcome.contains("60%"), "{outcome}");
    let in_lab = fixture.wait_for("the lab at the 60% step", |v| v.current_step >= Some(4));
    assert_eq!(in_lab.set_weight, 60, "the lab is at the 60% step");

    // The plots: the lab's /metrics scraped every second, per version.
    w.wait_until("metrics for both versions", 30, |app| {
        app.state.metrics.snapshot().is_some_and(|s| {
            s.rollout == checkout
                && s.series.len() >= 6
                && s.series
                    .iter()
                    .all(|v| v.points.iter().any(|p| p.value.is_some()))
        })
    });

    // The verdict is the canary judge's on its own feed, sampled per interval as `auto`
    // samples: within seconds the error rate is judged on counts (requests per second weigh
    // each sample), p95 once enough samples carry enough requests.
    w.wait_until(
        "the judge's verdict with the error rate judged",
        30,
        |app| {
            app.state.verdicts.get(&checkout).is_some_and(|v| {
                v.metrics.len() == 2
                    && v.metrics
                        .iter()
                        .any(|m| m.starts_with("error rate") && m.contains("tolerance"))
            })
        },
    );

    // Rollback takes one click and Enter → aborted in the lab.
    w.click("Rollback");
    w.harness.key_press(egui::Key::Enter);
    w.harness.run_steps(2);
    let outcome = w.next_outcome(&checkout, 2, "the abort's outcome");
    assert!(outcome.contains("abort"), "{outcome}");
    let raw = fixture.checkout();
    assert!(
        raw.status.as_ref().is_some_and(|s| s.abort),
        "abort set in the lab"
    );
    w.wait_until("the window shows the abort", 20, |app| {
        app.state
            .selected_view()
            .is_some_and(|v| v.phase == Phase::Degraded)
    });
    assert!(w.selected_view().is_some());
    // The controller's RolloutAborted arrives on the activity watch, and the window times the
    // rollback from the views its fleet watch delivers.
    w.wait_until("the controller's abort in the activity", 20, |app| {
        app.state.activity.get(&checkout).is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e.verb == "RolloutAborted" && e.warning && !e.ours)
        })
    });
    w.wait_until("the rollback complete in the header", 30, |app| {
        app.state
            .rollbacks
            .get(&checkout)
            .and_then(|t| t.outcome.as_ref())
            .is_some_and(|o| o.complete && o.message.starts_with("rollback complete in "))
    });
    w.harness.run_steps(2);
    assert_eq!(
        w.harness
            .query_all_by_label_contains("rollback complete in ")
            .count(),
        2,
        "in the header and in the activity"
    );
    // And in the journal, as a second outcome line of the abort the window sent.
    let journal = fixture._dir.path().join("journal.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.contains("rollback complete in ") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Undo in the window reads checkout's revisions from the lab, offers the stable one (the
/// canary's is running) and sends an undo pinned to both: the lab's template is the stable
/// one's again and the journal's intent names the revision's pod hash.
#[test]
fn undo_goes_back_to_the_revision_picked_from_the_lab() {
    use release_cockpit::ui::dialogs::Dialog;
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    let checkout = w.select_checkout("lab-admin");
    let before = fixture.checkout_view();
    let stable = before.stable_hash.clone().expect("checkout has a stable");
    let canary = before.current_hash.clone().expect("checkout has a canary");
    assert_ne!(stable, canary, "the demo's checkout runs a canary");
    w.wait_until("Undo offered", 30, |app| {
        app.state.access_for(&checkout).is_some()
    });
    w.click("Undo…");
    w.wait_until(
        "the revisions read from the lab",
        20,
        |app| matches!(&app.state.dialog, Some(Dialog::Undo(u)) if u.revisions.is_some()),
    );
    let picked = match &w.harness.state().state.dialog {
        Some(Dialog::Undo(u)) => u.picked_command(),
        other => panic!("the undo dialog is open: {other:?}"),
    };
    let Some(command) = picked else {
        panic!("a revision is picked: {:?}", w.harness.state().state.dialog)
    };
    match &command.action {
        release_cockpit::model::Action::Undo { to_hash, .. } => {
            assert_eq!(
                to_hash.as_deref(),
                Some(stable.as_str()),
                "the stable revision"
            )
        }
        other => panic!("an undo: {other:?}"),
    }
    w.harness.get_by_label_contains("(running now)");
    w.click("Undo");
    let outcome = w.next_outcome(&checkout, 0, "the undo's outcome");
    assert!(!outcome.contains("refused"), "{outcome}");
    fixture.wait_for("the lab's checkout back on the stable template", |v| {
        v.current_hash.as_deref() == Some(stable.as_str())
    });
    let journal = std::fs::read_to_string(fixture._dir.path().join("journal.jsonl"))
        .expect("the undo was journaled");
    assert!(journal.contains(&stable), "{journal}");
}

/// Promote full on the lab's `cart`: the dialog lists the four stages; confirmed, the stable
/// Deployment runs the canary's template, all traffic is on stable, the canary at zero, and
/// the activity shows the audit Event and the Deployment controller's scaling Events.
#[test]
fn promote_full_on_cart_says_its_stages_and_leaves_all_traffic_on_the_new_stable() {
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    w.wait_until("cart in the fleet", 30, |app| {
        app.state
            .fleet
            .get("lab-admin")
            .is_some_and(|f| f.iter().any(|v| v.reference.name == "cart"))
    });
    w.click("cart");
    let cart = w.selected_view().expect("cart selected").reference;
    w.wait_until("cart's actions are offered", 30, |app| {
        app.state.access_for(&cart).is_some()
    });
    w.click("Promote full");
    // Titled as its button is.
    w.harness.get_by_label("Promote full cart?");
    w.harness
        .get_by_label_contains("promote fully, in 4 stages: 1. the canary's pod template");
    w.click("Confirm");
    let outcome = w.next_outcome(&cart, 0, "the promote-full's outcome");
    assert!(outcome.contains("promoted fully"), "{outcome}");
    let store = fixture.lab().store();
    let route = store
        .get(Kind::HttpRoute, "demo", "cart")
        .expect("cart's route");
    let refs = &route["spec"]["rules"][0]["backendRefs"];
    assert_eq!(
        (refs[0]["weight"].as_i64(), refs[1]["weight"].as_i64()),
        (Some(100), Some(0)),
        "{refs}"
    );
    let image = |name: &str| {
        store
            .get(Kind::Deployment, "demo", name)
            .expect("Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
            .clone()
    };
    assert_eq!(image("cart-stable"), image("cart-canary"));
    let canary = store
        .get(Kind::Deployment, "demo", "cart-canary")
        .expect("cart-canary");
    assert_eq!(canary["spec"]["replicas"], 0);
    // The activity panel shows the route's audit Event and the Deployments' scaling Events.
    w.wait_until(
        "the promotion and the scaling in cart's activity",
        20,
        |app| {
            app.state.activity.get(&cart).is_some_and(|entries| {
                let ours = entries
                    .iter()
                    .any(|e| e.ours && e.verb == "promote-full" && e.user == "lab-admin");
                let scaled_down = entries.iter().any(|e| {
                    e.source == "deployment-controller"
                        && e.verb == "ScalingReplicaSet"
                        && e.detail.contains("Scaled down replica set cart-canary-")
                });
                ours && scaled_down
            })
        },
    );
}

/// The weight slider of a weighted (Gateway API) release is free and applies when let go:
/// dragged from 10 % to 33 % on the lab's `cart`, the route's weights are 67 / 33.
#[test]
fn the_free_slider_sets_carts_route_weights_when_let_go() {
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    w.wait_until("cart in the fleet", 30, |app| {
        app.state
            .fleet
            .get("lab-admin")
            .is_some_and(|f| f.iter().any(|v| v.reference.name == "cart"))
    });
    w.click("cart");
    let cart = w.selected_view().expect("cart selected").reference;
    w.wait_until("cart's actions are offered", 30, |app| {
        app.state.access_for(&cart).is_some()
    });
    let slider = w.harness.get_by_role_and_label(Role::Slider, "Weight");
    assert!(!slider.accesskit_node().is_disabled(), "the slider is live");
    let rect = slider.rect();
    // egui's slider rail: the rect less the handle's radius at each end.
    let radius = rect.height() / 2.5;
    let x = egui::lerp((rect.left() + radius)..=(rect.right() - radius), 0.33);
    let at = egui::pos2(x, rect.center().y);
    w.harness.hover_at(at);
    w.harness.drag_at(at);
    w.harness.run_steps(2);
    w.harness.drop_at(at);
    w.harness.run_steps(2);
    let outcome = w.next_outcome(&cart, 0, "the set-weight's outcome");
    assert!(outcome.contains("33"), "{outcome}");
    let route = fixture
        .lab()
        .store()
        .get(Kind::HttpRoute, "demo", "cart")
        .expect("cart's route");
    let refs = &route["spec"]["rules"][0]["backendRefs"];
    assert_eq!(
        (refs[0]["weight"].as_i64(), refs[1]["weight"].as_i64()),
        (Some(67), Some(33)),
        "{refs}"
    );
}

#[test]
fn a_viewer_sees_every_action_disabled_with_the_missing_permission() {
    let fixture = LabFixture::start();
    let mut w = fixture.window("lab-viewer");
    let checkout = w.select_checkout("lab-viewer");
    w.wait_until("the lab's answer to the access review", 30, |app| {
        app.state.access_for(&checkout).is_some()
    });
    w.wait_until("the verified identity in the status bar", 30, |app| {
        app.state
            .contexts
            .get("lab-viewer")
            .and_then(|c| c.identity.as_ref())
            .is_some_and(|i| i.verified && i.user == "lab-viewer")
    });
    let before = fixture.checkout_view();
    for label in ["Approve", "Promote full", "Rollback", "Pause", "Restart"] {
        let node = w.harness.get_by_label(label);
        assert!(node.accesskit_node().is_disabled(), "{label} is disabled");
    }
    w.hover_until_tooltip(
        "Approve",
        false,
        "lab-viewer may not promote: missing permission \"patch rollouts.argoproj.io/status\" \
         in namespace demo of lab-viewer",
        20,
    );
    // The keyboard is refused with the same reason; nothing reaches the lab.
    w.harness.key_press(egui::Key::A);
    w.harness.run_steps(3);
    assert!(w.harness.state().state.dialog.is_none());
    assert!(w.actions(&checkout).is_empty());
    let after = fixture.checkout();
    let view = RolloutView::from_rollout("lab-viewer", &after);
    assert_eq!(
        view.current_step, before.current_step,
        "the step is unchanged"
    );
    let last_action = after
        .metadata
        .annotations
        .unwrap_or_default()
        .get("release-cockpit.io/last-action")
        .cloned()
        .unwrap_or_default();
    assert!(!last_action.contains("lab-viewer"), "{last_action}");
}

#[test]
fn a_namespace_scoped_user_is_watched_in_their_namespace_and_told_why() {
    let fixture = LabFixture::start();
    fixture.rollout_elsewhere("team-b", "ledger");
    let mut w = fixture.window("lab-dev");
    // The window asks for all namespaces; lab-dev may not list them, so demo is watched.
    assert_eq!(w.harness.state().state.filter.namespace, None);
    w.wait_until("lab-dev connected in demo only", 30, |app| {
        matches!(
            app.state.contexts.get("lab-dev").map(|c| &c.state),
            Some(ContextState::ConnectedIn { namespace }) if namespace == "demo"
        )
    });
    // Weighted releases are read beside the rollout watch: wait for the lab's `cart` too.
    w.wait_until("cart in lab-dev's fleet", 30, |app| {
        app.state
            .fleet
            .get("lab-dev")
            .is_some_and(|f| f.iter().any(|v| v.reference.name == "cart"))
    });
    let checkout = w.select_checkout("lab-dev");
    let mut seen: Vec<(String, String)> = w.harness.state().state.fleet["lab-dev"]
        .iter()
        .map(|v| (v.reference.namespace.clone(), v.reference.name.clone()))
        .collect();
    seen.sort();
    let mut in_demo: Vec<(String, String)> = fixture
        .lab()
        .store()
        .list(Kind::Rollout, Some("demo"))
        .0
        .iter()
        .map(|r| {
            let meta = &r["metadata"];
            (
                "demo".to_string(),
                meta["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // The weighted (Gateway API) releases of demo are fleet rows too (the lab's `cart`).
    let routes = fixture.lab().store().list(Kind::HttpRoute, Some("demo")).0;
    in_demo.extend(routes.iter().filter_map(|r| {
        let release = r["metadata"]["annotations"]["release-cockpit.io/release"].as_str()?;
        Some(("demo".to_string(), release.to_string()))
    }));
    assert!(in_demo.iter().any(|(_, name)| name == "cart"));
    in_demo.sort();
    assert_eq!(
        seen, in_demo,
        "demo's rollouts and releases, and not team-b's ledger"
    );
    // The lab's other contexts are listed but not watched.
    for other in ["lab-admin", "lab-viewer"] {
        let status = &w.harness.state().state.contexts[other];
        assert!(!status.watched, "{other} is not watched");
    }
    assert_eq!(w.harness.get_all_by_label("not watched").count(), 2);
    // The status bar says so, and its hover names the permission and what to ask for.
    w.hover_until_tooltip(
        "connected — namespace demo only: you may not list rollouts in all namespaces",
        true,
        "missing permission \"list rollouts.argoproj.io\" at the cluster scope",
        20,
    );
    w.harness.get_by_label_contains(
        "ask an administrator for a ClusterRole granting verbs 'list' and 'watch' on resource \
         'rollouts' (apiGroup argoproj.io), bound to you with a ClusterRoleBinding",
    );
    // In demo the developer acts as anyone: the pause reaches the lab.
    w.wait_until("the lab's answer to the access review", 30, |app| {
        app.state.access_for(&checkout).is_some()
    });
    w.click("Pause");
    let outcome = w.next_outcome(&checkout, 0, "the pause's outcome");
    assert!(outcome.contains("paus"), "{outcome}");
    assert!(fixture.checkout().spec.paused, "paused in the lab");
}

#[test]
fn an_unreachable_context_says_so_and_never_holds_up_the_lab() {
    let fixture = LabFixture::start();
    let far = fixture._dir.path().join("far.yaml");
    std::fs::write(
        &far,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: far\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: me\n  user: {token: t}\ncontexts:\n- name: far\n  context: {cluster: far, user: me}\n",
    )
    .expect("write far.yaml");
    let settings = Settings {
        extra_kubeconfigs: vec![far],
        ..Settings::default()
    };
    let mut w = fixture.window_with("lab-admin", settings);
    w.wait_until("the far context in the kubeconfig", 20, |app| {
        app.state.contexts.contains_key("far")
    });
    let far_checkbox = w.harness.get_by_role_and_label(Role::CheckBox, "far");
    far_checkbox.click();
    w.harness.run_steps(3);
    w.wait_until("far unreachable, with why", 30, |app| {
        matches!(
            app.state.contexts.get("far").map(|c| &c.state),
            Some(ContextState::Unreachable { reason, .. }) if reason.contains("127.0.0.1:1")
        )
    });
    // Meanwhile the lab's fleet is there and its commands go through.
    let checkout = w.select_checkout("lab-admin");
    // The status bar says why and when it retries.
    w.harness
        .get_by_label_contains("unreachable: cannot reach the API server of context 'far'");
    w.harness.get_by_label_contains("retrying in");
    w.click("Pause");
    let outcome = w.next_outcome(&checkout, 0, "the pause's outcome");
    assert!(outcome.contains("paus"), "{outcome}");
    assert!(fixture.checkout().spec.paused, "paused in the lab");
}

/// The lab's API server goes down under the window and comes back (same address,
/// certificate and tokens, watch cache lost): the status bar says "reconnecting", never an
/// error chain, and the fleet is current within seconds of the server answering again.
#[test]
fn a_restarting_server_shows_reconnecting_then_a_current_fleet() {
    let mut fixture = LabFixture::start();
    let mut w = fixture.window("lab-admin");
    w.select_checkout("lab-admin");
    let connected = |app: &CockpitApp| {
        matches!(
            app.state.contexts.get("lab-admin").map(|c| &c.state),
            Some(ContextState::Connected)
        )
    };
    w.wait_until("lab-admin connected", 30, connected);

    let lab = fixture.lab.as_mut().expect("lab running");
    fixture.runtime.block_on(lab.stop_api());
    w.wait_until("lab-admin reconnecting", 15, |app| {
        matches!(
            app.state.contexts.get("lab-admin").map(|c| &c.state),
            Some(ContextState::Reconnecting { .. })
        )
    });
    w.harness
        .get_by_label_contains("reconnecting — server not answering (since ");
    assert!(
        w.harness
            .query_by_label_contains("cannot reach the API server")
            .is_none(),
        "the error chain is for the hover, not the status bar"
    );
    // The rows stay, marked as last seen.
    assert!(
        !w.harness
            .query_all_by_label("lab-admin (stale)")
            .collect::<Vec<_>>()
            .is_empty(),
        "the fleet rows of a reconnecting context say they are stale"
    );

    std::thread::sleep(Duration::from_secs(2));
    let lab = fixture.lab.as_mut().expect("lab running");
    fixture
        .runtime
        .block_on(lab.start_api())
        .expect("the lab answers again");
    let back = Instant::now();
    let mut copy = fixture
        .lab()
        .store()
        .get(Kind::Rollout, "demo", "checkout")
        .expect("checkout");
    copy["metadata"] = serde_json::json!({"name": "after-restart", "namespace": "demo"});
    if let Some(object) = copy.as_object_mut() {
        object.remove("status");
    }
    fixture
        .lab()
        .store()
        .create(Kind::Rollout, copy)
        .expect("a rollout made after the restart");
    w.wait_until("the fleet current after the restart", 10, |app| {
        connected(app)
            && app.state.fleet.get("lab-admin").is_some_and(|rollouts| {
                rollouts.iter().any(|v| v.reference.name == "after-restart")
            })
    });
    eprintln!(
        "window current {:?} after the lab answered again",
        back.elapsed()
    );
    assert!(
        w.harness.query_by_label_contains("reconnecting").is_none(),
        "the status bar is back to normal"
    );
    assert!(
        w.harness.query_by_label_contains("(stale)").is_none(),
        "the rows are current again"
    );
    w.harness.get_by_label("connected");
}
