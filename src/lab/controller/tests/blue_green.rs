//! Blue-green rollouts, invalid specs and fields the controller does not own.

use super::*;

#[test]
fn blue_green_previews_then_switches_active_on_promote() {
    let mut ro = blue_green_rollout(
        "registry.example/payments:2.0.0",
        json!({"autoPromotionEnabled": false}),
    );
    settle(&mut ro, t0(), 1.0);
    let v1 = pod_template_hash(&ro["spec"]["template"]);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(ro["status"]["blueGreen"]["activeSelector"], v1.as_str());
    assert_eq!(ro["status"]["blueGreen"]["previewSelector"], v1.as_str());
    assert_eq!(
        s(&ro, "selector"),
        format!("app=payments,rollouts-pod-template-hash={v1}").as_str()
    );
    assert!(s(&ro, "currentStepIndex").is_null());

    set_spec(
        &mut ro,
        "/spec/template",
        template("registry.example/payments:2.1.0"),
    );
    let v2 = pod_template_hash(&ro["spec"]["template"]);
    settle(&mut ro, at(5), 1.0);
    assert_eq!(s(&ro, "phase"), "Paused");
    assert_eq!(s(&ro, "message"), "BlueGreenPause");
    assert_eq!(s(&ro, "controllerPause"), true);
    assert_eq!(ro["status"]["blueGreen"]["activeSelector"], v1.as_str());
    assert_eq!(ro["status"]["blueGreen"]["previewSelector"], v2.as_str());
    assert_eq!(s(&ro, "stableRS"), v1.as_str());
    assert_eq!(s(&ro, "currentPodHash"), v2.as_str());
    assert_eq!(s(&ro, "replicas"), 6);
    assert_eq!(s(&ro, "updatedReplicas"), 3);
    assert_eq!(
        s(&ro, "HPAReplicas"),
        3,
        "the active ReplicaSet's, as in the fixture"
    );
    assert_eq!(reconcile(&ro, at(900), 1.0), None);

    patch_status(&mut ro, json!({"pauseConditions": null}));
    settle(&mut ro, at(901), 1.0);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(ro["status"]["blueGreen"]["activeSelector"], v2.as_str());
    assert_eq!(s(&ro, "stableRS"), v2.as_str());
    assert_eq!(
        s(&ro, "selector"),
        format!("app=payments,rollouts-pod-template-hash={v2}").as_str()
    );
}

#[test]
fn blue_green_auto_promotion_waits_scaled_by_speed_and_abort_degrades() {
    let auto = json!({"autoPromotionSeconds": 60});
    let mut ro = blue_green_rollout("registry.example/payments:2.0.0", auto);
    settle(&mut ro, t0(), 1.0);
    let v1 = pod_template_hash(&ro["spec"]["template"]);
    set_spec(
        &mut ro,
        "/spec/template",
        template("registry.example/payments:2.1.0"),
    );
    let v2 = pod_template_hash(&ro["spec"]["template"]);
    settle(&mut ro, at(0), 20.0);
    assert_eq!(s(&ro, "message"), "BlueGreenPause");
    assert_eq!(reconcile(&ro, at(2), 20.0), None);
    settle(&mut ro, at(3), 20.0);
    assert_eq!(ro["status"]["blueGreen"]["activeSelector"], v2.as_str());

    set_spec(
        &mut ro,
        "/spec/template",
        template("registry.example/payments:2.2.0"),
    );
    settle(&mut ro, at(4), 1.0);
    patch_status(&mut ro, json!({"abort": true}));
    settle(&mut ro, at(5), 1.0);
    assert_eq!(s(&ro, "phase"), "Degraded");
    assert_eq!(
        s(&ro, "message"),
        "RolloutAborted: Rollout aborted update to revision 3"
    );
    assert_eq!(ro["status"]["blueGreen"]["activeSelector"], v2.as_str());
    assert_eq!(ro["status"]["blueGreen"]["previewSelector"], v2.as_str());
    assert_ne!(v1, v2);
}

#[test]
fn a_rollout_without_strategy_is_degraded_as_invalid_spec() {
    let mut ro = canary_rollout("x:1");
    ro["spec"]["strategy"] = json!({});
    let out = settle(&mut ro, t0(), 1.0);
    assert_eq!(s(&ro, "phase"), "Degraded");
    assert!(
        s(&ro, "message")
            .as_str()
            .unwrap()
            .starts_with("InvalidSpec: ")
    );
    assert!(out.replica_sets.is_empty());
    assert_eq!(
        reconcile(&json!({"spec": {}}), t0(), 1.0),
        None,
        "no name: not a rollout"
    );
}

#[test]
fn unmanaged_status_fields_survive_and_cause_no_churn() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    patch_status(&mut ro, json!({"someOtherController": {"note": "kept"}}));
    assert_eq!(reconcile(&ro, at(1), 1.0), None);
}
