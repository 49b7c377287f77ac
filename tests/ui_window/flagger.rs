//! A Flagger canary in the window, fed as the backend would: a canary whose analysis has no
//! gate webhooks shows Approve and Rollback disabled, each naming the webhook to add; the
//! slider is read-only with Flagger's reason; Pause sends `pause` for the canary.

use super::*;
use release_cockpit::model::Provider;
use release_cockpit::model::flagger::view_of;
use release_cockpit::model::gateway::Side;

fn ungated_canary() -> RolloutView {
    let canary = serde_json::json!({
        "metadata": {"name": "web", "namespace": "test", "resourceVersion": "5"},
        "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "analysis": {"interval": "1m", "threshold": 3, "maxWeight": 40, "stepWeight": 20}},
        "status": {"phase": "Progressing", "canaryWeight": 20, "failedChecks": 0},
    });
    let side = |hash: &str| Side {
        hash: Some(hash.into()),
        replicas: 2,
        ready: 2,
        available: 2,
        updated: 2,
        ..Side::default()
    };
    view_of("lab-admin", &canary, &side("5d7c9"), &side("6b8f1"))
}

#[test]
fn buttons_of_a_canary_without_gates_name_the_webhook_to_add() {
    let mut w = Window::connected_admin();
    w.send(AppEvent::Access {
        context: "lab-admin".into(),
        namespace: "test".into(),
        access: Access::ALL,
    });
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![ungated_canary()],
    });
    w.settle();
    w.click("web");
    let web = RolloutRef {
        provider: Provider::Flagger,
        ..RolloutRef::new("lab-admin", "test", "web")
    };
    assert_eq!(w.harness.state().state.selected, Some(web.clone()));
    for (label, webhook) in [
        ("Approve", "add a confirm-promotion webhook"),
        ("Rollback", "add a rollback webhook"),
    ] {
        let node = w.harness.get_by_label(label);
        assert!(node.accesskit_node().is_disabled(), "{label} is disabled");
        node.hover();
        w.settle();
        w.harness.get_by_label_contains(webhook);
    }
    assert!(
        w.harness
            .get_by_role_and_label(Role::Slider, "Weight")
            .accesskit_node()
            .is_disabled()
    );
    w.harness
        .get_by_label_contains("Flagger has no manual weight");
    w.sent.take();
    w.click("Pause");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].target, web);
    assert_eq!(sent[0].action, Action::Pause);
}
