//! The inbox: with nothing selected the window lists every rollout that needs a person, most
//! urgent first; Up/Down, Enter, `a` and `r` act on it through the usual dialogs; the title
//! and the status bar count it. Fed the same fixtures as the window's other tests.

use super::*;
use release_cockpit::attention::NeedKind;
use release_cockpit::ui::VerdictView;

fn fail(score: f64) -> VerdictView {
    VerdictView {
        verdict: "fail".into(),
        score,
        reasons: vec!["error rate 8% vs 0.2% on stable".into()],
        metrics: Vec::new(),
        metric_status: Vec::new(),
    }
}

fn inbox_rows(w: &Window) -> Vec<(String, NeedKind)> {
    w.harness
        .state()
        .state
        .inbox
        .iter()
        .map(|r| (r.rollout.name.clone(), r.kind))
        .collect()
}

/// The title the window last asked for, if this frame asked for one.
fn title_sent(w: &Window) -> Option<String> {
    w.harness
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)?
        .commands
        .iter()
        .find_map(|c| match c {
            egui::ViewportCommand::Title(t) => Some(t.clone()),
            _ => None,
        })
}

#[test]
fn the_inbox_lists_failing_aborted_and_waiting_rollouts_most_urgent_first() {
    let mut w = Window::connected_admin();
    assert!(w.harness.state().state.selected.is_none());
    // checkout waits at its gate; then its canary starts failing while it takes 20%.
    w.send(AppEvent::Verdict {
        rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
        verdict: fail(12.0),
    });
    w.settle();
    assert_eq!(
        inbox_rows(&w),
        [
            ("checkout".to_string(), NeedKind::FailingVerdict),
            ("rollout-background-analysis".to_string(), NeedKind::Aborted),
            // Argo's canary fixture is Degraded (its progress deadline passed).
            ("canary-demo".to_string(), NeedKind::Degraded),
            ("bluegreen-demo".to_string(), NeedKind::WaitingForApproval),
        ]
    );
    assert_eq!(
        w.harness.state().state.window_title(),
        "Release Cockpit — 4 need you"
    );
    // What a person sees: the heading, each reason and the words, the per-context count.
    for label in [
        "Inbox: 4 rollouts need you",
        "failing verdict",
        "aborted",
        "degraded",
        "waiting for approval",
        "lab-admin: 4 need you",
        "Inbox (4)",
    ] {
        assert!(
            w.harness.query_by_label(label).is_some(),
            "{label} on screen"
        );
    }
    assert!(
        w.harness
            .query_by_label_contains(
                "failing verdict (score 12) while the canary takes 20% of traffic"
            )
            .is_some()
    );
    assert!(
        w.harness
            .query_by_label_contains("waiting for promotion: preview")
            .is_some()
    );
    // Someone retries the aborted one: the title follows in the same frame.
    let mut fleet = vec![checkout("lab-admin")];
    fleet.extend(
        argo_fixtures("lab-admin")
            .into_iter()
            .filter(|v| !v.aborted),
    );
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: fleet,
    });
    w.harness.step();
    assert_eq!(
        title_sent(&w).as_deref(),
        Some("Release Cockpit — 3 need you")
    );
}

#[test]
fn keys_on_the_inbox_open_the_usual_dialogs_and_the_rollout() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::Verdict {
        rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
        verdict: fail(12.0),
    });
    w.settle();
    // The cursor stayed on the row it was on (the aborted one, first before the verdict
    // came); Up goes to checkout, now first.
    let state = &w.harness.state().state;
    assert_eq!(
        state.inbox[state.inbox_cursor].rollout.name,
        "rollout-background-analysis"
    );
    w.harness.key_press(egui::Key::ArrowUp);
    w.settle();
    // `a` on checkout: the Approve dialog the button opens, pinned to the step on screen.
    w.harness.key_press(egui::Key::A);
    w.settle();
    let state = &w.harness.state().state;
    assert!(
        w.harness.query_by_label("Approve checkout?").is_some(),
        "dialog {:?}, cursor {}, toasts {:?}",
        state.dialog,
        state.inbox_cursor,
        state.toasts
    );
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].action,
        Action::Promote {
            pin: pin_at_step_1()
        }
    );
    // `r`: the Rollback dialog; Esc closes it and sends nothing.
    w.harness.key_press(egui::Key::R);
    w.settle();
    assert!(w.harness.query_by_label("Roll back checkout?").is_some());
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    assert!(w.harness.state().state.dialog.is_none());
    assert!(w.sent.executed().is_empty(), "Esc sends nothing");
    // Down, Enter: the second row opens; Esc comes back to the inbox on the same row.
    w.harness.key_press(egui::Key::ArrowDown);
    w.settle();
    w.harness.key_press(egui::Key::Enter);
    w.settle();
    let aborted = w
        .harness
        .state()
        .state
        .selected
        .clone()
        .expect("Enter opens the row");
    assert_eq!(aborted.name, "rollout-background-analysis");
    assert!(
        w.sent.take().contains(&BackendRequest::WatchMetrics {
            rollout: Some(aborted.clone()),
            window_secs: 3600
        }),
        "opening it starts its metrics"
    );
    w.harness.key_press(egui::Key::Escape);
    w.settle();
    let state = &w.harness.state().state;
    assert!(state.selected.is_none(), "Esc goes back to the inbox");
    assert_eq!(state.inbox[state.inbox_cursor].rollout, aborted);
    assert!(
        w.sent.take().contains(&BackendRequest::WatchMetrics {
            rollout: None,
            window_secs: 3600
        }),
        "its metrics stop"
    );
}

#[test]
fn with_nobody_waiting_the_inbox_says_so_and_the_title_is_the_name() {
    let mut w = Window::new();
    w.send(kubeconfig_with(&["lab-admin"]));
    let mut quiet = checkout("lab-admin");
    quiet.pause_reasons.clear();
    quiet.controller_pause = false;
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![quiet],
    });
    w.settle();
    assert!(
        w.harness
            .query_by_label("Inbox: nobody needs you")
            .is_some()
    );
    assert_eq!(w.harness.state().state.window_title(), "Release Cockpit");
}

#[test]
fn a_rollout_whose_metrics_went_stale_mid_update_joins_the_inbox_and_leaves_it_when_fresh() {
    let mut w = Window::new();
    w.send(kubeconfig_with(&["lab-admin"]));
    let mut moving = checkout("lab-admin");
    moving.pause_reasons.clear();
    moving.controller_pause = false;
    let r = moving.reference.clone();
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![moving],
    });
    w.settle();
    assert!(w.harness.state().state.inbox.is_empty());
    // The fleet verdicts' feed says its metrics stopped coming.
    w.send(AppEvent::MetricsStale {
        rollout: r.clone(),
        since_secs: Some(release_cockpit::ui::theme::now_secs() - 90.0),
    });
    w.settle();
    assert_eq!(
        inbox_rows(&w),
        [("checkout".to_string(), NeedKind::MetricsStale)]
    );
    assert!(
        w.harness
            .query_by_label_contains("metrics stale during the rollout")
            .is_some()
    );
    w.send(AppEvent::MetricsStale {
        rollout: r,
        since_secs: None,
    });
    w.settle();
    assert!(w.harness.state().state.inbox.is_empty());
}

#[test]
fn a_rollout_that_starts_waiting_is_notified_once_and_a_click_opens_it() {
    let run = |settings: Settings| {
        let mut w = Window::with_settings(settings, false);
        w.send(kubeconfig_with(&["lab-admin"]));
        let mut moving = checkout("lab-admin");
        moving.pause_reasons.clear();
        moving.controller_pause = false;
        for fleet in [
            vec![moving],
            vec![checkout("lab-admin")],
            vec![checkout("lab-admin")],
        ] {
            w.send(AppEvent::Fleet {
                context: "lab-admin".into(),
                rollouts: fleet,
            });
            w.settle();
        }
        let notified: Vec<_> = w
            .sent
            .take()
            .into_iter()
            .filter_map(|r| match r {
                BackendRequest::Notify(n) => Some(n),
                _ => None,
            })
            .collect();
        (w, notified)
    };
    let (mut w, notified) = run(Settings::default());
    assert_eq!(notified.len(), 1, "once, on the transition: {notified:?}");
    assert_eq!(notified[0].title, "checkout waits for approval");
    // The person clicks it on the desktop: the window opens checkout.
    w.send(AppEvent::OpenRollout(notified[0].rollout.clone()));
    w.settle();
    assert_eq!(
        w.harness.state().state.selected,
        Some(notified[0].rollout.clone())
    );
    // Not wanted in the settings: nothing is sent.
    let mut quiet = Settings::default();
    quiet.notify.waiting_for_approval = false;
    assert!(run(quiet).1.is_empty());
}

/// 500 rollouts over 3 contexts on a 1280×1000 window, nothing selected: the fleet table and
/// the inbox under it show at least 20 rows together without scrolling (rows whose label is
/// wholly inside the window, counted from what egui laid out).
#[test]
fn five_hundred_rollouts_show_at_least_twenty_rows_on_a_1000_px_screen() {
    let mut w = Window::sized(Settings::default(), false, egui::vec2(1280.0, 1000.0));
    let contexts = ["ctx-0", "ctx-1", "ctx-2"];
    w.send(kubeconfig_with(&contexts));
    for (c, context) in contexts.iter().enumerate() {
        w.send(AppEvent::ContextState {
            context: context.to_string(),
            state: ContextState::Connected,
        });
        let rollouts: Vec<RolloutView> = (0..500)
            .filter(|i| i % 3 == c)
            .map(|i| {
                let mut v = checkout(context);
                v.reference.name = format!("service-{i:03}");
                v
            })
            .collect();
        w.send(AppEvent::Fleet {
            context: context.to_string(),
            rollouts,
        });
    }
    w.settle();
    assert!(
        w.harness.state().state.selected.is_none(),
        "the inbox shows"
    );
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 1000.0));
    // Fleet rows are labelled by name ("service-NNN"), inbox rows by namespace/name.
    let fleet_rows = w
        .harness
        .query_all_by_label_contains("service-")
        .filter(|n| !n.accesskit_node().label().unwrap_or_default().contains('/'))
        .filter(|n| screen.contains_rect(n.rect()))
        .count();
    let inbox_rows = w
        .harness
        .query_all_by_label_contains("shop/service-")
        .filter(|n| screen.contains_rect(n.rect()))
        .count();
    eprintln!("at 1280x1000: {fleet_rows} fleet rows and {inbox_rows} inbox rows on screen");
    assert!(
        fleet_rows + inbox_rows >= 20,
        "{fleet_rows} fleet rows and {inbox_rows} inbox rows on screen"
    );
    assert!(inbox_rows >= 10, "{inbox_rows} inbox rows");
}
