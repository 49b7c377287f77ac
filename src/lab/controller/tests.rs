//! State-machine tests: whole lifecycles driven the way lab-api drives the controller (write
//! back what `reconcile` returns, let clients patch status/spec in between).

use super::*;
use serde_json::{Value, json};

mod blue_green;
mod invariants;
mod replica_sets;
mod shape;

fn t0() -> Timestamp {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + jiff::SignedDuration::from_secs(secs)
}

fn template(image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": "checkout"}},
        "spec": {"containers": [{"name": "checkout", "image": image}]}
    })
}

fn canary_rollout(image: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "demo", "uid": "u-1", "generation": 1},
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": {"app": "checkout"}},
            "strategy": {"canary": {
                "canaryService": "checkout-canary",
                "stableService": "checkout-stable",
                "trafficRouting": {"istio": {"virtualService": {"name": "checkout", "routes": ["primary"]}}},
                "steps": [
                    {"setWeight": 20}, {"pause": {}},
                    {"setWeight": 40}, {"pause": {"duration": "30s"}},
                    {"setWeight": 60}, {"pause": {"duration": 30}},
                    {"setWeight": 80}, {"pause": {"duration": "30s"}}
                ]
            }},
            "template": template(image)
        }
    })
}

fn blue_green_rollout(image: &str, auto: Value) -> Value {
    let mut strategy = json!({"activeService": "payments", "previewService": "payments-preview"});
    if let Value::Object(extra) = auto {
        for (k, v) in extra {
            strategy[k] = v;
        }
    }
    json!({
        "metadata": {"name": "payments", "namespace": "demo", "generation": 1},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "payments"}},
            "strategy": {"blueGreen": strategy},
            "template": template(image)
        }
    })
}

/// Apply one reconcile the way lab-api does; returns whether anything changed.
fn step(ro: &mut Value, now: Timestamp, speed: f64) -> Option<Reconciled> {
    let out = reconcile(ro, now, speed)?;
    ro["status"] = out.status.clone();
    if let Some(annotations) = &out.metadata_annotations {
        for (k, v) in annotations {
            ro["metadata"]["annotations"][k] = v.clone();
        }
    }
    Some(out)
}

/// Reconcile, then check a second reconcile at the same and a later time changes nothing.
fn settle(ro: &mut Value, now: Timestamp, speed: f64) -> Reconciled {
    let out = step(ro, now, speed).expect("a change");
    assert_eq!(reconcile(ro, now, speed), None, "no churn at rest");
    out
}

fn set_spec(ro: &mut Value, pointer: &str, value: Value) {
    let target = pointer
        .split('/')
        .skip(1)
        .fold(&mut *ro, |v, key| &mut v[key]);
    *target = value;
    let generation = ro["metadata"]["generation"].as_i64().unwrap();
    ro["metadata"]["generation"] = json!(generation + 1);
}

/// A JSON merge patch on the status subresource, as kubectl / the orchestrator send it.
fn patch_status(ro: &mut Value, patch: Value) {
    json_patch::merge(&mut ro["status"], &patch);
}

fn s<'a>(ro: &'a Value, key: &str) -> &'a Value {
    &ro["status"][key]
}

fn condition<'a>(ro: &'a Value, type_: &str) -> &'a Value {
    ro["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or(&Value::Null)
}

fn weights(ro: &Value) -> (i64, i64) {
    let w = &ro["status"]["canary"]["weights"];
    (
        w["canary"]["weight"].as_i64().unwrap(),
        w["stable"]["weight"].as_i64().unwrap(),
    )
}

fn deploy_v2(ro: &mut Value) -> String {
    set_spec(
        ro,
        "/spec/template",
        template("registry.example/checkout:1.4.2"),
    );
    pod_template_hash(&ro["spec"]["template"])
}

#[test]
fn a_fresh_rollout_becomes_stable_at_once_and_then_rests() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    let out = settle(&mut ro, t0(), 1.0);
    let hash = pod_template_hash(&ro["spec"]["template"]);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert!(s(&ro, "message").is_null());
    assert_eq!(s(&ro, "stableRS"), hash.as_str());
    assert_eq!(s(&ro, "currentPodHash"), hash.as_str());
    assert_eq!(s(&ro, "currentStepIndex"), 8);
    assert_eq!(s(&ro, "observedGeneration"), "1");
    assert_eq!(s(&ro, "selector"), "app=checkout");
    assert_eq!(s(&ro, "replicas"), 5);
    assert_eq!(s(&ro, "updatedReplicas"), 5);
    assert_eq!(weights(&ro), (0, 100));
    assert_eq!(
        ro["status"]["canary"]["weights"]["stable"]["podTemplateHash"],
        hash.as_str()
    );
    assert_eq!(
        ro["status"]["canary"]["weights"]["canary"]["serviceName"],
        "checkout-canary"
    );
    assert_eq!(
        condition(&ro, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(condition(&ro, "Healthy")["status"], "True");
    assert_eq!(
        condition(&ro, "Available")["message"],
        "Rollout has minimum availability"
    );
    assert_eq!(ro["metadata"]["annotations"][REVISION_ANNOTATION], "1");
    let rs = &out.replica_sets[0];
    assert_eq!(rs["metadata"]["name"], format!("checkout-{hash}"));
    assert_eq!(
        rs["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL],
        hash.as_str()
    );
    assert_eq!(rs["metadata"]["annotations"][REVISION_ANNOTATION], "1");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["uid"], "u-1");
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"][POD_TEMPLATE_HASH_LABEL],
        hash.as_str()
    );
    assert_eq!(
        reconcile(&ro, at(3600), 1.0),
        None,
        "an hour later still nothing to write"
    );
}

#[test]
fn canary_lifecycle_steps_pause_promote_timed_pauses_and_done() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    let v1 = s(&ro, "stableRS").as_str().unwrap().to_string();
    let v2 = deploy_v2(&mut ro);
    let out = settle(&mut ro, at(10), 10.0);
    assert_eq!(out.metadata_annotations.unwrap()[REVISION_ANNOTATION], "2");
    assert_eq!(
        out.replica_sets[0]["metadata"]["annotations"][REVISION_ANNOTATION],
        "2"
    );
    assert_eq!(s(&ro, "currentStepIndex"), 1);
    assert_eq!(s(&ro, "phase"), "Paused");
    assert_eq!(s(&ro, "message"), "CanaryPauseStep");
    assert_eq!(s(&ro, "controllerPause"), true);
    assert_eq!(s(&ro, "pauseConditions")[0]["reason"], "CanaryPauseStep");
    assert_eq!(
        s(&ro, "pauseConditions")[0]["startTime"],
        "2026-11-22T10:00:10Z"
    );
    assert_eq!(s(&ro, "stableRS"), v1.as_str());
    assert_eq!(s(&ro, "currentPodHash"), v2.as_str());
    assert_eq!(s(&ro, "observedGeneration"), "2");
    assert_eq!(weights(&ro), (20, 80));
    assert_eq!(
        ro["status"]["canary"]["weights"]["canary"]["podTemplateHash"],
        v2.as_str()
    );
    assert_eq!(
        ro["status"]["canary"]["weights"]["stable"]["podTemplateHash"],
        v1.as_str()
    );
    assert_eq!(s(&ro, "updatedReplicas"), 1);
    assert_eq!(s(&ro, "replicas"), 6);
    assert_eq!(condition(&ro, "Progressing")["reason"], "RolloutPaused");
    assert_eq!(condition(&ro, "Progressing")["status"], "Unknown");
    assert_eq!(condition(&ro, "Completed")["status"], "False");
    assert_eq!(
        reconcile(&ro, at(600), 10.0),
        None,
        "pause {{}} waits for a person"
    );

    // promote: kubectl clears pauseConditions; the controller moves on to the timed pause.
    patch_status(&mut ro, json!({"pauseConditions": null}));
    settle(&mut ro, at(20), 10.0);
    assert_eq!(s(&ro, "currentStepIndex"), 3);
    assert_eq!(weights(&ro), (40, 60));
    assert_eq!(
        s(&ro, "pauseConditions")[0]["startTime"],
        "2026-11-22T10:00:20Z"
    );
    // 30 s of lab time at speed 10 is 3 s of wall time.
    assert_eq!(reconcile(&ro, at(22), 10.0), None);
    settle(&mut ro, at(23), 10.0);
    assert_eq!(s(&ro, "currentStepIndex"), 5);
    assert_eq!(weights(&ro), (60, 40));
    settle(&mut ro, at(26), 10.0);
    assert_eq!(s(&ro, "currentStepIndex"), 7);
    assert_eq!(weights(&ro), (80, 20));
    settle(&mut ro, at(29), 10.0);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(s(&ro, "currentStepIndex"), 8);
    assert_eq!(s(&ro, "stableRS"), v2.as_str());
    assert_eq!(weights(&ro), (0, 100));
    assert_eq!(
        ro["status"]["canary"]["weights"]["stable"]["podTemplateHash"],
        v2.as_str()
    );
    assert!(s(&ro, "pauseConditions").is_null());
    assert!(s(&ro, "controllerPause").is_null());
    assert_eq!(
        condition(&ro, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(condition(&ro, "Completed")["status"], "True");
    assert_eq!(condition(&ro, "Paused")["status"], "False");
}

#[test]
fn abort_degrades_and_retry_restarts_the_steps() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    let v1 = s(&ro, "stableRS").as_str().unwrap().to_string();
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    patch_status(&mut ro, json!({"pauseConditions": null}));
    settle(&mut ro, at(2), 1.0);
    assert_eq!(s(&ro, "currentStepIndex"), 3);

    patch_status(&mut ro, json!({"abort": true}));
    settle(&mut ro, at(5), 1.0);
    assert_eq!(s(&ro, "phase"), "Degraded");
    assert_eq!(
        s(&ro, "message"),
        "RolloutAborted: Rollout aborted update to revision 2"
    );
    assert_eq!(s(&ro, "abortedAt"), "2026-11-22T10:00:05Z");
    assert_eq!(s(&ro, "abort"), true);
    assert_eq!(s(&ro, "currentStepIndex"), 0);
    assert!(s(&ro, "pauseConditions").is_null());
    assert_eq!(weights(&ro), (0, 100));
    assert_eq!(
        ro["status"]["canary"]["weights"]["stable"]["podTemplateHash"],
        v1.as_str()
    );
    assert_eq!(s(&ro, "stableRS"), v1.as_str());
    assert!(
        s(&ro, "updatedReplicas").is_null(),
        "0 is omitted, as Argo does"
    );
    let progressing = condition(&ro, "Progressing");
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], "RolloutAborted");
    assert_eq!(
        progressing["message"],
        "Rollout aborted update to revision 2"
    );
    assert_eq!(reconcile(&ro, at(500), 1.0), None, "aborted rests");

    patch_status(&mut ro, json!({"abort": false}));
    settle(&mut ro, at(600), 1.0);
    assert!(s(&ro, "abort").is_null());
    assert!(s(&ro, "abortedAt").is_null());
    assert_eq!(s(&ro, "currentStepIndex"), 1, "steps restart from 0");
    assert_eq!(s(&ro, "phase"), "Paused");
    assert_eq!(weights(&ro), (20, 80));
}

#[test]
fn promote_full_skips_the_remaining_steps() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    let v2 = deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    patch_status(&mut ro, json!({"promoteFull": true}));
    settle(&mut ro, at(2), 1.0);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(s(&ro, "stableRS"), v2.as_str());
    assert_eq!(s(&ro, "currentStepIndex"), 8);
    assert!(s(&ro, "promoteFull").is_null());
    assert!(s(&ro, "pauseConditions").is_null());
}

#[test]
fn spec_paused_holds_the_rollout_and_resume_continues() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    patch_status(&mut ro, json!({"pauseConditions": null}));
    settle(&mut ro, at(2), 1.0);
    assert_eq!(s(&ro, "currentStepIndex"), 3);
    set_spec(&mut ro, "/spec/paused", json!(true));
    // `pause` is a spec change: observedGeneration follows, nothing else moves.
    settle(&mut ro, at(3), 1.0);
    assert_eq!(s(&ro, "phase"), "Paused");
    assert_eq!(s(&ro, "message"), "manually paused");
    assert_eq!(
        reconcile(&ro, at(300), 1.0),
        None,
        "the 30 s timer does not fire"
    );
    set_spec(&mut ro, "/spec/paused", json!(false));
    patch_status(&mut ro, json!({"pauseConditions": null}));
    settle(&mut ro, at(301), 1.0);
    assert_eq!(
        s(&ro, "currentStepIndex"),
        5,
        "resume ends the timed pause too"
    );
    assert_eq!(weights(&ro), (60, 40));
}

#[test]
fn a_current_step_index_written_by_a_client_moves_the_rollout() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    // The weight slider: jump to the step that declares 60%.
    patch_status(
        &mut ro,
        json!({"pauseConditions": null, "currentStepIndex": 4}),
    );
    settle(&mut ro, at(2), 1.0);
    assert_eq!(s(&ro, "currentStepIndex"), 5);
    assert_eq!(weights(&ro), (60, 40));
    assert_eq!(
        s(&ro, "pauseConditions")[0]["startTime"],
        "2026-11-22T10:00:02Z"
    );
    // An index past the end is capped: the canary is promoted.
    patch_status(&mut ro, json!({"currentStepIndex": 99}));
    settle(&mut ro, at(3), 1.0);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(s(&ro, "currentStepIndex"), 8);
}

#[test]
fn new_steps_restart_and_going_back_to_the_stable_template_skips_them() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    let v1_template = ro["spec"]["template"].clone();
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    set_spec(
        &mut ro,
        "/spec/strategy/canary/steps",
        json!([{"setWeight": 50}, {"pause": {}}]),
    );
    settle(&mut ro, at(2), 1.0);
    assert_eq!(s(&ro, "currentStepIndex"), 1);
    assert_eq!(weights(&ro), (50, 50));
    // undo: the stable template comes back, no steps are run.
    set_spec(&mut ro, "/spec/template", v1_template);
    let out = settle(&mut ro, at(3), 1.0);
    assert_eq!(s(&ro, "phase"), "Healthy");
    assert_eq!(s(&ro, "currentStepIndex"), 2);
    assert_eq!(out.metadata_annotations.unwrap()[REVISION_ANNOTATION], "3");
}
