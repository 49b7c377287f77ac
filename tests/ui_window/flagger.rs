//! A Flagger canary in the window, fed as the backend would: a canary whose analysis has no
//! gate webhooks shows Approve and Rollback disabled, each naming the webhook to add; the
//! slider is read-only with Flagger's reason; Pause sends `pause` for the canary. Approve is
//! judged by the proxy permission in the load tester's namespace when it lives elsewhere.

use super::*;
use release_cockpit::model::Provider;
use release_cockpit::model::flagger::view_of;
use release_cockpit::model::gateway::Side;

/// The canary's view with stable and canary at two ready pods each.
fn view_with_two_pods_a_side(canary: &serde_json::Value) -> RolloutView {
    let side = |hash: &str| Side {
        hash: Some(hash.into()),
        replicas: 2,
        ready: 2,
        available: 2,
        updated: 2,
        ..Side::default()
    };
    view_of("lab-admin", canary, &side("5d7c9"), &side("6b8f1"))
}

fn ungated_canary() -> RolloutView {
    let canary = serde_json::json!({
        "metadata": {"name": "web", "namespace": "test", "resourceVersion": "5"},
        "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "analysis": {"interval": "1m", "threshold": 3, "maxWeight": 40, "stepWeight": 20}},
        "status": {"phase": "Progressing", "canaryWeight": 20, "failedChecks": 0},
    });
    view_with_two_pods_a_side(&canary)
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

/// podinfo in `demo` at its promotion gate, whose gates call the load tester in `test`.
fn canary_with_load_tester_elsewhere() -> RolloutView {
    let canary = serde_json::json!({
        "metadata": {"name": "podinfo", "namespace": "demo", "resourceVersion": "7"},
        "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
                 "analysis": {"interval": "30s", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
                   "webhooks": [{"name": "promotion gate", "type": "confirm-promotion",
                                 "url": "http://flagger-loadtester.test/gate/check"}]}},
        "status": {"phase": "WaitingPromotion", "canaryWeight": 50, "failedChecks": 0},
    });
    view_with_two_pods_a_side(&canary)
}

/// Approve opens the load tester's gate through the service proxy in the load tester's
/// namespace, where the door asks for it: denied there, the button is disabled and says so,
/// even with every permission in the canary's namespace; allowed there, it sends promote.
#[test]
fn approve_is_judged_in_the_load_testers_namespace() {
    let mut w = Window::connected_admin();
    let access = |namespace: &str, access: Access| AppEvent::Access {
        context: "lab-admin".into(),
        namespace: namespace.into(),
        access,
    };
    w.send(access("demo", Access::ALL));
    w.send(access(
        "test",
        Access {
            create_service_proxy: false,
            ..Access::ALL
        },
    ));
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: vec![canary_with_load_tester_elsewhere()],
    });
    w.settle();
    w.click("podinfo");
    let node = w.harness.get_by_label("Approve");
    assert!(node.accesskit_node().is_disabled(), "Approve is disabled");
    node.hover();
    w.settle();
    w.harness.get_by_label_contains(
        "missing permission \"create services/proxy\" in namespace test of lab-admin",
    );

    w.send(access("test", Access::ALL));
    w.settle();
    w.sent.take();
    w.click("Approve");
    w.click("Confirm");
    let sent = w.sent.executed();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].target.namespace, "demo");
    assert!(matches!(sent[0].action, Action::Promote { .. }), "{sent:?}");
}
