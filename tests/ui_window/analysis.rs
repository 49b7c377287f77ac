//! The Analysis panel and the inconclusive approval: the window is fed `AppEvent`s built
//! from objects captured from the lab with kubectl (`tests/fixtures/{inventory,catalog}-
//! {rollout,analysisrun}.yaml`: a background analysis that failed and aborted inventory, a
//! step analysis that left catalog Inconclusive); the commands it sends are recorded.

use super::*;
use release_cockpit::cluster::runs_of;
use serde_json::Value;

const CONTEXT: &str = "lab-admin";

impl Window {
    /// lab-admin connected, allowed everything in `demo`, with inventory and catalog in its
    /// fleet and their AnalysisRuns read.
    fn with_analysed_rollouts() -> Window {
        let mut w = Window::new();
        w.send(AppEvent::Kubeconfig(KubeconfigInfo {
            files: vec![PathBuf::from("/tmp/lab/kubeconfig")],
            searched: vec![PathBuf::from("/tmp/lab/kubeconfig")],
            contexts: vec![CONTEXT.into()],
            current: Some(CONTEXT.into()),
        }));
        w.send(AppEvent::ContextState {
            context: CONTEXT.into(),
            state: ContextState::Connected,
        });
        w.send(AppEvent::Identity {
            context: CONTEXT.into(),
            identity: Identity {
                user: CONTEXT.into(),
                verified: true,
            },
        });
        w.send(AppEvent::Access {
            context: CONTEXT.into(),
            namespace: "demo".into(),
            access: Access::ALL,
        });
        let fixtures = crate_dir().join("tests/fixtures");
        let mut fleet = Vec::new();
        for name in ["inventory", "catalog"] {
            let rollout: Rollout = read_fixture(&fixtures.join(format!("{name}-rollout.yaml")));
            let run: Value = read_fixture(&fixtures.join(format!("{name}-analysisrun.yaml")));
            fleet.push(RolloutView::from_rollout(CONTEXT, &rollout));
            w.send(AppEvent::AnalysisRuns {
                rollout: RolloutRef::new(CONTEXT, "demo", name),
                runs: runs_of(&rollout, &[run]),
            });
        }
        w.send(AppEvent::Fleet {
            context: CONTEXT.into(),
            rollouts: fleet,
        });
        w.settle();
        w
    }
}

#[test]
fn the_analysis_panel_names_inventorys_failed_metric() {
    let mut w = Window::with_analysed_rollouts();
    w.click("inventory");
    // The run's phase (a badge) and, in words, the metric that failed it.
    let shown = |w: &Window, text: &str| w.harness.query_all_by_label_contains(text).count() > 0;
    assert!(shown(&w, "background"));
    assert!(shown(
        &w,
        "error-rate: 0.1034 > 0.05, 3 of 5 failed; failure limit 2"
    ));
    // Each metric's latest value and phase.
    w.harness.get_by_label("error-rate: 0.1034");
    assert!(w.harness.query_all_by_label("Failed").count() >= 2);
}

#[test]
fn approving_past_an_inconclusive_analysis_says_so_in_the_dialog_and_the_comment() {
    let mut w = Window::with_analysed_rollouts();
    w.click("catalog");
    assert!(
        w.harness
            .query_all_by_label_contains(
                "error-rate: 0.0172 neither <= 0.005 nor >= 0.08, 1 of 1 inconclusive"
            )
            .count()
            > 0,
        "{}",
        "error-rate: 0.0172 neither <= 0.005 nor >= 0.08, 1 of 1 inconclusive"
    );
    w.click("Approve");
    w.harness
        .get_by_label("analysis inconclusive: promote anyway?");
    w.harness.get_by_label("Comment (optional)").focus();
    w.settle();
    w.harness
        .get_by_label("Comment (optional)")
        .type_text("p95 fine, errors known");
    w.settle();
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(matches!(sent[0].action, Action::Promote { pin: Some(_) }));
    assert_eq!(
        sent[0].comment.as_deref(),
        Some("analysis inconclusive: p95 fine, errors known")
    );
}
