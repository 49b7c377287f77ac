//! The window driven through egui_kittest, by accessible labels, like a person would: real
//! `CockpitApp` state fed with `AppEvent`s built from real Argo objects (the lab-like
//! `tests/fixtures/checkout-rollout.yaml` and the controller-written fixtures in
//! `../shared/fixtures/argo-rollouts/objects/`); the requests it emits are recorded.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use release_cockpit::cluster::ReplicaSetInfo;
use release_cockpit::model::{
    Action, MetricsSnapshot, Outcome, Pin, Point, Rollout, RolloutRef, RolloutView, Signal, Verb,
    Version, VersionRole, VersionSeries,
};
use release_cockpit::ui::app::MetricsState;
use release_cockpit::ui::events::Revisions;
use release_cockpit::ui::rollout::plots::plot_series;
use release_cockpit::ui::{
    Access, AppEvent, Backend, BackendRequest, CockpitApp, ContextState, Identity, KubeconfigInfo,
    Settings,
};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

#[path = "ui_window/analysis.rs"]
mod analysis;
#[path = "ui_window/custom.rs"]
mod custom;
#[path = "ui_window/flagger.rs"]
mod flagger;
#[path = "ui_window/inbox.rs"]
mod inbox;
#[path = "ui_window/versions.rs"]
mod versions;
#[path = "ui_window/width.rs"]
mod width;

/// Records what the window asks for.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<BackendRequest>>>);

impl Backend for Recorder {
    fn send(&self, request: BackendRequest) {
        self.0.lock().expect("recorder lock").push(request);
    }
}

impl Recorder {
    fn take(&self) -> Vec<BackendRequest> {
        std::mem::take(&mut *self.0.lock().expect("recorder lock"))
    }

    fn executed(&self) -> Vec<release_cockpit::model::Command> {
        self.take()
            .into_iter()
            .filter_map(|r| match r {
                BackendRequest::Execute(c) => Some(c),
                _ => None,
            })
            .collect()
    }
}

/// The kubeconfig the window reads, with `contexts` (the first is the current one).
fn kubeconfig_with(contexts: &[&str]) -> AppEvent {
    AppEvent::Kubeconfig(KubeconfigInfo {
        files: vec![PathBuf::from("/tmp/lab/kubeconfig")],
        searched: vec![PathBuf::from("/tmp/lab/kubeconfig")],
        contexts: contexts.iter().map(|c| c.to_string()).collect(),
        current: contexts.first().map(|c| c.to_string()),
    })
}

fn read_rollout(path: &Path) -> Rollout {
    read_fixture(path)
}

/// A YAML (or JSON) fixture as `T`; panics naming the file.
fn read_fixture<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checkout(context: &str) -> RolloutView {
    let ro = read_rollout(&crate_dir().join("tests/fixtures/checkout-rollout.yaml"));
    RolloutView::from_rollout(context, &ro)
}

/// Argo's own fixtures, as the controller wrote them.
fn argo_fixtures(context: &str) -> Vec<RolloutView> {
    let objects = crate_dir().join("../shared/fixtures/argo-rollouts/objects");
    [
        "canary/canary-rollout.yaml",
        "blue-green/bluegreen-rollout.yaml",
        "rollout-aborted/rollout.yaml",
    ]
    .iter()
    .map(|f| RolloutView::from_rollout(context, &read_rollout(&objects.join(f))))
    .collect()
}

struct Window {
    harness: Harness<'static, CockpitApp>,
    events: Sender<AppEvent>,
    sent: Recorder,
}

impl Window {
    fn new() -> Window {
        Window::with_settings(Settings::default(), false)
    }

    fn with_settings(settings: Settings, read_only: bool) -> Window {
        Window::sized(settings, read_only, egui::vec2(1400.0, 900.0))
    }

    /// The window at `size` (logical points).
    fn sized(settings: Settings, read_only: bool, size: egui::Vec2) -> Window {
        let (events, rx) = std::sync::mpsc::channel();
        let sent = Recorder::default();
        let app = CockpitApp::new(settings, read_only, rx, Box::new(sent.clone()));
        let harness = Harness::builder()
            .with_size(size)
            .with_context_setup(release_cockpit::ui::theme::install_fonts)
            .build_ui_state(|ui, app: &mut CockpitApp| app.frame(ui), app);
        Window {
            harness,
            events,
            sent,
        }
    }

    fn send(&mut self, event: AppEvent) {
        self.events.send(event).expect("window alive");
    }

    /// A few frames: toasts and the refresh tick keep asking for repaints, so `run()` would
    /// never settle.
    fn settle(&mut self) {
        self.harness.run_steps(4);
    }

    /// Two contexts from the kubeconfig, lab-admin connected and allowed everything in
    /// `shop`, with `checkout` and Argo's fixtures in its fleet.
    fn connected_admin() -> Window {
        Window::connected_admin_in(Window::new())
    }

    /// [`Window::connected_admin`] in a window of the caller's.
    fn connected_admin_in(mut w: Window) -> Window {
        w.send(kubeconfig_with(&["lab-admin", "lab-viewer"]));
        w.send(AppEvent::ContextState {
            context: "lab-admin".into(),
            state: ContextState::Connected,
        });
        w.send(AppEvent::Identity {
            context: "lab-admin".into(),
            identity: Identity {
                user: "lab-admin".into(),
                verified: true,
            },
        });
        w.send(AppEvent::Access {
            context: "lab-admin".into(),
            namespace: "shop".into(),
            access: Access::ALL,
        });
        let mut fleet = vec![checkout("lab-admin")];
        fleet.extend(argo_fixtures("lab-admin"));
        w.send(AppEvent::Fleet {
            context: "lab-admin".into(),
            rollouts: fleet,
        });
        w.settle();
        w.sent.take();
        w
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.settle();
    }

    fn select_checkout(&mut self) {
        self.click("checkout");
        assert_eq!(
            self.harness.state().state.selected,
            Some(RolloutRef::new("lab-admin", "shop", "checkout"))
        );
    }
}

fn pin_at_step_1() -> Option<Pin> {
    Some(Pin {
        step: Some(1),
        pod_hash: Some("7f9c5d8b4".into()),
        preview_hash: None,
    })
}

#[test]
fn approve_sends_promote_pinned_to_the_step_on_screen_with_the_comment() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    let requests = w.sent.take();
    assert!(
        requests.contains(&BackendRequest::WatchMetrics {
            rollout: Some(RolloutRef::new("lab-admin", "shop", "checkout")),
            window_secs: 3600
        }),
        "selecting starts metrics: {requests:?}"
    );
    w.click("Approve");
    w.harness.get_by_label("Comment (optional)").focus();
    w.settle();
    w.harness
        .get_by_label("Comment (optional)")
        .type_text("error rate flat");
    w.settle();
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].action,
        Action::Promote {
            pin: pin_at_step_1()
        }
    );
    assert_eq!(sent[0].comment.as_deref(), Some("error rate flat"));
    assert_eq!(
        sent[0].target,
        RolloutRef::new("lab-admin", "shop", "checkout")
    );
    assert!(w.harness.state().state.dialog.is_none());
}

/// A blue-green approval is pinned to the preview on screen (and its pod hash), as is
/// Promote full: the dialog says which preview, the command carries it.
#[test]
fn blue_green_approve_and_promote_full_are_pinned_to_the_preview_on_screen() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::Access {
        context: "lab-admin".into(),
        namespace: "jesse-test".into(),
        access: Access::ALL,
    });
    w.click("bluegreen-demo");
    let preview = Some(Pin {
        step: None,
        pod_hash: Some("74b948fccb".into()),
        preview_hash: Some("74b948fccb".into()),
    });
    w.click("Approve");
    assert!(
        w.harness
            .query_by_label_contains("promote preview 74b948fccb to active")
            .is_some(),
        "the dialog names the preview"
    );
    w.click("Confirm");
    w.click("Promote full");
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(
        sent.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        [
            Action::Promote {
                pin: preview.clone()
            },
            Action::PromoteFull { pin: preview }
        ]
    );
}

#[test]
fn slider_to_60_and_apply_sends_set_weight_pinned() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.harness
        .get_by_role_and_label(Role::Slider, "Weight")
        .set_value_accesskit(60.0);
    w.settle();
    assert!(
        w.harness
            .query_by_label_contains("60% (chosen; live 20%)")
            .is_some()
    );
    w.click("Apply");
    let sent = w.sent.executed();
    assert_eq!(
        sent.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        [Action::SetWeight {
            weight: 60,
            pin: pin_at_step_1()
        }]
    );
}

#[test]
fn rollback_takes_one_click_and_enter() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.click("Rollback");
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].action, Action::Abort { pin: None });
    assert!(w.harness.state().state.dialog.is_none());
}

#[test]
fn keyboard_moves_approves_and_escape_closes() {
    let mut w = Window::connected_admin();
    w.harness.key_press(egui::Key::J);
    w.settle();
    let first = w.harness.state().state.selected.clone().expect("j selects");
    w.harness.key_press(egui::Key::J);
    w.settle();
    let second = w
        .harness
        .state()
        .state
        .selected
        .clone()
        .expect("still selected");
    assert_ne!(first, second);
    w.harness.key_press(egui::Key::K);
    w.settle();
    assert_eq!(w.harness.state().state.selected, Some(first));

    w.select_checkout();
    w.harness.key_press(egui::Key::A);
    w.settle();
    assert!(w.harness.query_by_label("Approve checkout?").is_some());
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    assert!(w.harness.state().state.dialog.is_none());
    assert!(w.harness.query_by_label("Approve checkout?").is_none());
    assert!(w.sent.executed().is_empty(), "Esc sends nothing");

    w.harness
        .key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::R);
    w.settle();
    assert!(w.harness.query_by_label("Roll back checkout?").is_some());
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    assert!(w.harness.state().state.dialog.is_none());
}

#[test]
fn question_mark_opens_the_help_overlay() {
    let mut w = Window::connected_admin();
    w.harness.key_press(egui::Key::Questionmark);
    w.settle();
    assert!(w.harness.state().state.help_open);
    assert!(
        w.harness
            .query_by_label("roll back the selected rollout (asks to confirm)")
            .is_some()
    );
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    assert!(!w.harness.state().state.help_open);
}

#[test]
fn a_viewer_sees_disabled_actions_with_the_missing_permission() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::Identity {
        context: "lab-viewer".into(),
        identity: Identity {
            user: "lab-viewer".into(),
            verified: true,
        },
    });
    w.send(AppEvent::Access {
        context: "lab-viewer".into(),
        namespace: "shop".into(),
        access: Access::default(),
    });
    w.send(AppEvent::Fleet {
        context: "lab-viewer".into(),
        rollouts: vec![checkout("lab-viewer")],
    });
    w.settle();
    w.harness
        .get_by_role_and_label(Role::CheckBox, "lab-viewer")
        .click();
    w.settle();
    w.harness
        .get_by_role_and_label(Role::CheckBox, "lab-admin")
        .click();
    w.settle();
    w.click("checkout");
    assert_eq!(
        w.harness.state().state.selected,
        Some(RolloutRef::new("lab-viewer", "shop", "checkout"))
    );
    for label in [
        "Approve",
        "Promote full",
        "Rollback",
        "Pause",
        "Resume",
        "Restart",
    ] {
        let node = w.harness.get_by_label(label);
        assert!(node.accesskit_node().is_disabled(), "{label} is disabled");
    }
    w.harness.get_by_label("Approve").hover();
    w.settle();
    w.harness.get_by_label_contains(
        "lab-viewer may not promote: missing permission \"patch rollouts.argoproj.io/status\"",
    );
    // The keyboard refuses too, with the same reason.
    w.harness.key_press(egui::Key::A);
    w.settle();
    assert!(w.harness.state().state.dialog.is_none());
    assert!(w.sent.executed().is_empty());
}

#[test]
fn read_only_disables_every_action_and_shows_the_badge() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::ReadOnly(true));
    w.select_checkout();
    assert!(w.harness.get_all_by_label("READ-ONLY").count() >= 1);
    for label in ["Approve", "Rollback", "Restart", "Apply"] {
        assert!(
            w.harness.get_by_label(label).accesskit_node().is_disabled(),
            "{label} is disabled in read-only mode"
        );
    }
}

#[test]
fn selection_survives_refreshes_and_step_changes_leave_markers() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.sent.take();
    let mut moved = checkout("lab-admin");
    moved.current_step = Some(2);
    moved.set_weight = 40;
    moved.phase = release_cockpit::model::Phase::Progressing;
    moved.pause_reasons.clear();
    let mut fleet = argo_fixtures("lab-admin");
    fleet.push(moved);
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: fleet,
    });
    w.settle();
    let state = &w.harness.state().state;
    let r = RolloutRef::new("lab-admin", "shop", "checkout");
    assert_eq!(state.selected, Some(r.clone()));
    assert_eq!(state.selected_view().and_then(|v| v.current_step), Some(2));
    let markers = state.markers.get(&r).expect("markers");
    assert_eq!(markers[0].label, "step 2 (weight 40%)");
    // The activity is watched since the selection: nothing to read again.
    assert!(
        !w.sent
            .take()
            .iter()
            .any(|s| matches!(s, BackendRequest::WatchActivity(_)))
    );
}

#[test]
fn metrics_reach_the_plots_and_outcomes_show_as_toasts() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.sent.take();
    let r = RolloutRef::new("lab-admin", "shop", "checkout");
    let now = release_cockpit::ui::theme::now_secs();
    let series = |role, hash: &str, signal, value: f64| VersionSeries {
        version: Version::new(role, hash),
        signal,
        points: (0..120)
            .map(|i| Point {
                t_secs: now - 120.0 + f64::from(i),
                value: (i != 60).then_some(value),
            })
            .collect(),
    };
    w.send(AppEvent::Metrics(MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: r.clone(),
        source: "prometheus".into(),
        series: vec![
            series(VersionRole::Stable, "6d4b9c7f8", Signal::TrafficShare, 0.8),
            series(VersionRole::Canary, "7f9c5d8b4", Signal::TrafficShare, 0.2),
            series(VersionRole::Canary, "7f9c5d8b4", Signal::ErrorRate, 0.01),
            series(VersionRole::Canary, "7f9c5d8b4", Signal::P95Ms, 180.0),
        ],
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }));
    w.settle();
    let MetricsState::Received(snapshot) = &w.harness.state().state.metrics else {
        panic!("metrics not applied");
    };
    let share = plot_series(snapshot, Signal::TrafficShare);
    assert_eq!(share.len(), 2);
    assert_eq!(
        share[1].segments.len(),
        2,
        "the gap at point 60 splits the line"
    );
    assert!(!plot_series(snapshot, Signal::P95Ms).is_empty());

    w.send(AppEvent::CommandDone(Outcome {
        rollout: r.clone(),
        verb: Verb::Promote,
        summary: "promoted: step 1 → 2 (weight 40%)".into(),
        from_step: Some(1),
        to_step: Some(2),
        weight: Some(40),
        changed: true,
        resource_version: Some("1043".into()),
    }));
    w.settle();
    let toast = "shop/checkout: promoted: step 1 → 2 (weight 40%)";
    assert!(
        w.harness
            .state()
            .state
            .toasts
            .items()
            .iter()
            .any(|t| t.text == toast),
        "the outcome is a toast"
    );
    assert!(
        w.harness.get_all_by_label(toast).count() >= 1,
        "and on screen"
    );
    assert_eq!(
        w.sent.take(),
        [],
        "the activity watch sees the audit Event by itself"
    );
}

#[test]
fn without_a_kubeconfig_the_window_offers_the_lab_and_a_file() {
    let mut w = Window::new();
    w.send(AppEvent::Kubeconfig(KubeconfigInfo {
        searched: vec![PathBuf::from("/home/nobody/.kube/config")],
        ..KubeconfigInfo::default()
    }));
    w.settle();
    w.harness.get_by_label("No kubeconfig found");
    w.harness.get_by_label("/home/nobody/.kube/config");
    w.sent.take();
    w.click("Start the lab");
    w.click("Open kubeconfig…");
    assert_eq!(
        w.sent.take(),
        [BackendRequest::StartLab, BackendRequest::PickKubeconfig]
    );
}

#[test]
fn starting_the_lab_opens_on_the_inbox_with_what_waits_for_a_person() {
    let mut w = Window::new();
    w.send(AppEvent::Kubeconfig(KubeconfigInfo::default()));
    w.settle();
    w.sent.take();
    w.click("Start the lab");
    assert_eq!(w.sent.take(), [BackendRequest::StartLab]);
    // The lab's kubeconfig arrives (lab-admin current), then its fleet: checkout waits.
    w.send(kubeconfig_with(&["lab-admin", "lab-viewer"]));
    // Every one of Argo's fixtures needs someone; alone, checkout is the inbox's one row.
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![checkout("lab-admin")],
    });
    w.settle();
    let state = &w.harness.state().state;
    assert_eq!(state.selected, None, "the window stays on the inbox");
    let first = &state.inbox[state.inbox_cursor];
    assert_eq!(
        first.rollout,
        RolloutRef::new("lab-admin", "shop", "checkout")
    );
    assert_eq!(first.text(), "waiting for approval at step 1/8 (20%)");
    assert!(
        w.harness
            .query_by_label("Inbox: 1 rollout needs you")
            .is_some()
    );
    // Enter opens it, with its charts.
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    assert!(w.sent.take().contains(&BackendRequest::WatchMetrics {
        rollout: Some(RolloutRef::new("lab-admin", "shop", "checkout")),
        window_secs: 3600
    }));
}

#[test]
fn an_unreachable_context_says_why_and_when_it_retries() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::ContextState {
        context: "lab-admin".into(),
        state: ContextState::Unreachable {
            reason: "connection refused (127.0.0.1:6443)".into(),
            retry_in_secs: 30,
        },
    });
    w.settle();
    w.harness
        .get_by_label_contains("unreachable: connection refused (127.0.0.1:6443) — retrying in ");
    w.harness.get_by_label("lab-admin (verified)");
}

#[test]
fn a_required_comment_keeps_confirm_disabled_until_written() {
    let settings = Settings {
        require_approval_comment: true,
        ..Settings::default()
    };
    let mut w = Window::with_settings(settings, false);
    w.send(AppEvent::Kubeconfig(KubeconfigInfo {
        files: vec![PathBuf::from("/tmp/lab/kubeconfig")],
        searched: vec![],
        contexts: vec!["lab-admin".into()],
        current: Some("lab-admin".into()),
    }));
    w.send(AppEvent::Access {
        context: "lab-admin".into(),
        namespace: "shop".into(),
        access: Access::ALL,
    });
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![checkout("lab-admin")],
    });
    w.settle();
    w.select_checkout();
    w.click("Approve");
    assert!(
        w.harness
            .get_by_label("Confirm")
            .accesskit_node()
            .is_disabled()
    );
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    assert!(
        w.sent.executed().is_empty(),
        "Enter does not bypass the rule"
    );
    w.harness.get_by_label("Comment (required)").focus();
    w.settle();
    w.harness
        .get_by_label("Comment (required)")
        .type_text("CHG-1234");
    w.settle();
    assert!(
        !w.harness
            .get_by_label("Confirm")
            .accesskit_node()
            .is_disabled()
    );
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].comment.as_deref(), Some("CHG-1234"));
}

/// A ReplicaSet of checkout as `LoadRevisions` answers it.
fn revision(revision: i64, hash: &str, image: &str) -> ReplicaSetInfo {
    ReplicaSetInfo {
        name: format!("checkout-{hash}"),
        hash: hash.into(),
        revision: Some(revision),
        replicas: 1,
        available: 1,
        images: vec![image.into()],
        template: None,
    }
}

#[test]
fn undo_reads_the_revisions_and_is_pinned_to_the_one_picked() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.sent.take();
    w.click("Undo…");
    w.harness.get_by_label("Undo checkout?");
    let checkout = RolloutRef::new("lab-admin", "shop", "checkout");
    assert!(
        w.sent
            .take()
            .iter()
            .any(|r| matches!(r, BackendRequest::LoadRevisions(t) if *t == checkout)),
        "the dialog asks for the revisions"
    );
    w.harness.get_by_label_contains("reading the revisions");
    assert!(
        w.harness
            .get_by_label("Undo")
            .accesskit_node()
            .is_disabled(),
        "nothing to undo to until the revisions are read"
    );
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    assert!(w.sent.executed().is_empty(), "Enter sends nothing yet");

    w.send(AppEvent::Revisions {
        rollout: checkout,
        result: Ok(Revisions {
            running_hash: Some("7f9c5d8b4".into()),
            replica_sets: vec![
                revision(4, "7f9c5d8b4", "shop/checkout:1.5"),
                revision(3, "5d6f7a8b9", "shop/checkout:1.4"),
                revision(2, "1a2b3c4d5", "shop/checkout:1.3"),
            ],
        }),
    });
    w.settle();
    let running = w.harness.get_by_label_contains("(running now)");
    assert!(
        running.accesskit_node().is_disabled(),
        "no undo to what runs"
    );
    // The newest revision not running is picked; the person picks revision 2 instead.
    w.click("2 · 1a2b3c4d5 · shop/checkout:1.3");
    w.click("Undo");
    let sent = w.sent.executed();
    assert_eq!(
        sent.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        [Action::Undo {
            to_revision: Some(2),
            pin: Some(Pin {
                pod_hash: Some("7f9c5d8b4".into()),
                ..Pin::default()
            }),
            to_hash: Some("1a2b3c4d5".into()),
        }]
    );
}

#[test]
fn undo_says_why_when_the_revisions_cannot_be_read() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    w.click("Undo…");
    w.send(AppEvent::Revisions {
        rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
        result: Err("could not read the revisions of checkout: forbidden".into()),
    });
    w.settle();
    w.harness.get_by_label_contains("forbidden");
    assert!(
        w.harness
            .get_by_label("Undo")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn settings_edit_the_cluster_and_reach_the_backend() {
    let mut w = Window::connected_admin();
    w.click("File");
    w.click("Settings…");
    assert!(w.harness.state().state.settings_open);
    // One section per context, open: the first is lab-admin's.
    w.harness
        .get_all_by_label("Prometheus URL")
        .next()
        .expect("a URL field")
        .focus();
    w.settle();
    w.harness
        .get_all_by_label("Prometheus URL")
        .next()
        .expect("a URL field")
        .type_text("http://127.0.0.1:9090");
    w.settle();
    let settings = &w.harness.state().state.settings;
    assert_eq!(
        settings.clusters["lab-admin"].prometheus_url,
        "http://127.0.0.1:9090"
    );
    let configured = w.sent.take().into_iter().any(|r| {
        matches!(r, BackendRequest::Configure(s)
            if s.clusters.get("lab-admin").is_some_and(|c| c.prometheus_url == "http://127.0.0.1:9090"))
    });
    assert!(configured, "the backend got the new settings");
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    assert!(!w.harness.state().state.settings_open);
}

#[test]
fn the_status_bar_warns_about_an_insecure_context_until_it_is_fixed() {
    let mut w = Window::connected_admin();
    assert!(w.harness.query_by_label("INSECURE").is_none());
    let warning = |short: &str| release_cockpit::model::SecurityWarning {
        context: "lab-admin".into(),
        short: short.into(),
        text: format!("context 'lab-admin': {short}; what to do"),
    };
    w.send(AppEvent::Security {
        origin: "kubeconfig".into(),
        warnings: vec![warning("TLS not verified")],
    });
    w.send(AppEvent::Security {
        origin: "metrics/lab-admin".into(),
        warnings: vec![warning("metrics credentials over http")],
    });
    w.settle();
    assert!(w.harness.query_by_label("INSECURE").is_some());
    assert!(
        w.harness
            .query_by_label("TLS not verified, metrics credentials over http")
            .is_some()
    );
    // The kubeconfig was fixed and reloaded: only the metrics warning stays.
    w.send(AppEvent::Security {
        origin: "kubeconfig".into(),
        warnings: Vec::new(),
    });
    w.settle();
    assert!(
        w.harness
            .query_by_label("metrics credentials over http")
            .is_some()
    );
    assert!(
        w.harness
            .query_by_label_contains("TLS not verified")
            .is_none()
    );
}

/// A rollout a pipeline's `auto` drives says so in the fleet's Waiting column and in the
/// header, in the words of its `release-cockpit.io/auto-status` annotation.
#[test]
fn auto_status_shows_in_the_fleet_and_the_header() {
    let mut w = Window::connected_admin();
    let mut driven = checkout("lab-admin");
    driven.auto_status = Some("waiting for approval: marginal verdict, score 82".into());
    let mut fleet = vec![driven];
    fleet.extend(argo_fixtures("lab-admin"));
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: fleet,
    });
    w.settle();
    let line = "auto: waiting for approval — marginal verdict, score 82";
    assert_eq!(
        w.harness.query_all_by_label(line).count(),
        1,
        "the fleet's Waiting column says it before anything is selected"
    );
    assert!(w.harness.query_all_by_label("◆ waiting").count() >= 1);
    w.select_checkout();
    assert_eq!(
        w.harness.query_all_by_label(line).count(),
        2,
        "the header says it too once checkout is selected"
    );
    w.harness.get_by_label("Pipeline");
}

/// After an abort the window times the rollback from `status.abortedAt` with the views its
/// fleet watch already delivers: the controller's aborted rollout (Argo's fixture) with 20 %
/// still on the canary and no stable pod available, then the same rollout rolled back.
#[test]
fn the_header_and_activity_tell_how_long_the_rollback_took() {
    let mut w = Window::connected_admin();
    let objects = crate_dir().join("../shared/fixtures/argo-rollouts/objects");
    let rolled_back = {
        let mut v = RolloutView::from_rollout(
            "lab-admin",
            &read_rollout(&objects.join("rollout-aborted/rollout.yaml")),
        );
        let twelve_s_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(12);
        v.aborted_at = Some(twelve_s_ago.to_string());
        v
    };
    assert!(rolled_back.aborted);
    let r = rolled_back.reference.clone();
    let mut aborting = rolled_back.clone();
    aborting.actual_weight = 20;
    aborting.available_replicas = 0;
    let fleet_with = |v: &RolloutView| {
        let mut fleet = vec![checkout("lab-admin")];
        fleet.extend(
            argo_fixtures("lab-admin")
                .into_iter()
                .filter(|f| f.reference != v.reference),
        );
        fleet.push(v.clone());
        AppEvent::Fleet {
            context: "lab-admin".into(),
            rollouts: fleet,
        }
    };
    w.send(fleet_with(&aborting));
    w.settle();
    w.click("rollout-background-analysis");
    assert_eq!(w.harness.state().state.selected, Some(r.clone()));
    w.harness.get_by_label_contains(
        "rolling back: 20% of traffic still on the canary, stable 0/1 available (12 s since the abort",
    );
    w.sent.take();
    w.send(fleet_with(&rolled_back));
    w.settle();
    w.harness.get_by_label("rollback complete in 12 s");
    let journaled: Vec<_> = w
        .sent
        .take()
        .into_iter()
        .filter_map(|s| match s {
            BackendRequest::RecordRollback(done) => Some(done.message),
            _ => None,
        })
        .collect();
    assert_eq!(
        journaled,
        ["rollback complete in 12 s"],
        "journaled beside the abort (when this window sent it)"
    );
    // In the activity too, kept when the activity watch sends the Events again.
    w.send(AppEvent::Activity {
        rollout: r.clone(),
        entries: Vec::new(),
    });
    w.settle();
    w.harness.get_by_label("rollback complete");
    w.harness
        .get_by_label("rollback complete in 12 s (target 30 s)");
}
