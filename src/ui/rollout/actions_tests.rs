//! Tests of `actions.rs`.

use super::*;
use crate::ui::fixtures;

fn input(view: &RolloutView, access: Option<Access>, read_only: bool) -> GateInput<'_> {
    GateInput {
        view,
        access,
        read_only,
        user: Some("lab-viewer"),
        load_testers: Vec::new(),
    }
}

#[test]
fn approve_says_which_step_and_weight() {
    let view = fixtures::checkout();
    assert_eq!(
        approve(&view),
        Ok("promote step 1 → 2: weight 20% → 40%".to_string())
    );
    let done = fixtures::checkout_paused_at(8);
    assert!(approve(&done).is_err());
}

#[test]
fn reasons_come_in_order_read_only_permission_phase() {
    let view = fixtures::checkout();
    let ro = input(&view, Some(Access::ALL), true).gate(Verb::Promote, approve(&view));
    assert!(ro.text().starts_with("read-only"), "{ro:?}");
    let viewer = Access::default();
    let denied = input(&view, Some(viewer), false).gate(Verb::Abort, abort(&view));
    assert_eq!(
        denied,
        Gate::Disabled(
            "lab-viewer may not abort: missing permission \
                 \"patch rollouts.argoproj.io/status\" in namespace shop of lab-admin"
                .into()
        )
    );
    let unknown = input(&view, None, false).gate(Verb::Pause, pause(&view));
    assert!(unknown.text().contains("checking your permissions"));
    let retry_gate = input(&view, Some(Access::ALL), false).gate(Verb::Retry, retry(&view));
    assert_eq!(
        retry_gate,
        Gate::Disabled("only an aborted rollout can be retried".into())
    );
}

#[test]
fn a_weighted_release_asks_for_the_gateway_and_deployment_permissions() {
    let mut view = fixtures::checkout();
    view.strategy = StrategyKind::Weighted;
    view.reference.provider = crate::model::Provider::Gateway;
    // Allowed to patch routes and Deployments, not Argo rollouts: a weighted release's
    // buttons do not need the latter.
    let gateway_only = Access {
        patch_httproutes: true,
        patch_deployments: true,
        ..Access::default()
    };
    let gate = input(&view, Some(gateway_only), false).gate(Verb::Abort, abort(&view));
    assert!(gate.is_enabled(), "{gate:?}");
    let no_deployments = Access {
        patch_deployments: false,
        ..Access::ALL
    };
    let full =
        input(&view, Some(no_deployments), false).gate(Verb::PromoteFull, promote_full(&view));
    assert_eq!(
        full.text(),
        "lab-viewer may not promote-full: missing permission \"patch deployments.apps\" \
             in namespace shop of lab-admin"
    );
}

#[test]
fn blue_green_approval_waits_while_a_new_revision_replaces_the_preview() {
    let mut view = fixtures::checkout();
    view.strategy = StrategyKind::BlueGreen;
    view.paused = true;
    view.preview_hash = Some("7855cfc5b8".into());
    view.current_hash = Some("7855cfc5b8".into());
    assert_eq!(
        approve(&view),
        Ok("promote preview 7855cfc5b8 to active".to_string())
    );
    assert_eq!(pin(&view).preview_hash.as_deref(), Some("7855cfc5b8"));
    view.current_hash = Some("9a9a9a9a9a".into());
    let why = approve(&view).expect_err("not while the preview is being replaced");
    assert!(
        why.contains("a new revision 9a9a9a9a9a is starting; the preview still shows 7855cfc5b8"),
        "{why}"
    );
}

#[test]
fn a_weighted_release_takes_any_whole_weight_and_argo_snaps() {
    let mut view = fixtures::checkout();
    assert_eq!(
        slider_weight(&view, 33.4),
        Some(40),
        "Argo: the nearest declared"
    );
    view.strategy = StrategyKind::Weighted;
    view.aborted = true;
    assert_eq!(slider_weight(&view, 33.4), Some(33));
    assert_eq!(slider_weight(&view, 140.0), Some(100));
    assert_eq!(slider_weight(&view, f64::NAN), None);
    assert!(set_weight(&view).is_ok(), "free, and no Retry to wait for");
    for gate in [retry, undo, restart] {
        assert!(gate(&view).is_err(), "not offered for a weighted release");
    }
    assert!(promote_full(&view).is_err(), "not while aborted");
    view.pause_reasons = vec![crate::model::gateway::WAITING_FOR_PROMOTE.into()];
    view.paused = false;
    assert!(resume(&view).is_err(), "resting at a step is not a pause");
    view.aborted = false;
    let full = promote_full(&view).expect("promote full, in stages");
    assert!(full.starts_with("promote fully, in 4 stages"), "{full}");
}

#[test]
fn slider_snaps_to_declared_weights() {
    let view = fixtures::checkout();
    assert_eq!(snap_weight(&view, 57.0), Some((4, 60)));
    assert_eq!(snap_weight(&view, 3.0), Some((0, 20)));
    assert_eq!(snap_weight(&view, 100.0), Some((6, 80)));
    assert_eq!(weight_at(&view, 3), 40);
    assert_eq!(weight_at(&view, 8), 100);
}
