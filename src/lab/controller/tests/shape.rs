//! The status the lab writes has the shape of the real controller's (the fixture objects).

use super::*;
use std::collections::BTreeSet;

fn fixture(path: &str) -> Value {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/argo-rollouts/objects");
    let text = std::fs::read_to_string(dir.join(path)).expect("fixture readable");
    serde_saphyr::from_str(&text).expect("fixture parses")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The controller writes what the real one wrote in the fixture, plus the fields Argo 1.0+
/// adds (`phase`, `message`), and never a field the fixture's state would not have.
fn assert_same_shape(ours: &Value, theirs: &Value) {
    let ours = keys(&ours["status"]);
    let theirs = keys(&theirs["status"]);
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "fields the real controller writes but we do not: {missing:?}"
    );
    let extra: BTreeSet<_> = ours.difference(&theirs).cloned().collect();
    let newer: BTreeSet<String> = ["phase", "message"].map(String::from).into();
    assert!(extra.is_subset(&newer), "unexpected fields: {extra:?}");
}

#[test]
fn status_is_shaped_like_the_real_controllers() {
    let mut ro = canary_rollout("registry.example/checkout:1.4.1");
    settle(&mut ro, t0(), 1.0);
    // canary-rollout.yaml: a new revision that has not got past its first step, no pause
    // conditions; here because the rollout was paused by hand before the update.
    set_spec(&mut ro, "/spec/paused", json!(true));
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    assert_eq!(s(&ro, "currentStepIndex"), 0);
    assert_eq!(s(&ro, "message"), "manually paused");
    assert_same_shape(&ro, &fixture("canary/canary-rollout.yaml"));

    set_spec(&mut ro, "/spec/paused", json!(false));
    settle(&mut ro, at(2), 1.0);
    patch_status(&mut ro, json!({"abort": true}));
    settle(&mut ro, at(4), 1.0);
    assert_same_shape(&ro, &fixture("rollout-aborted/rollout.yaml"));

    let mut bg = blue_green_rollout(
        "registry.example/payments:2.0.0",
        json!({"autoPromotionEnabled": false}),
    );
    settle(&mut bg, t0(), 1.0);
    set_spec(
        &mut bg,
        "/spec/template",
        template("registry.example/payments:2.1.0"),
    );
    settle(&mut bg, at(1), 1.0);
    let theirs = fixture("blue-green/bluegreen-rollout.yaml");
    assert_same_shape(&bg, &theirs);
    assert_eq!(
        keys(&bg["status"]["blueGreen"]),
        keys(&theirs["status"]["blueGreen"])
    );
    let condition_keys = |v: &Value| keys(&v["status"]["conditions"][0]);
    assert_eq!(condition_keys(&bg), condition_keys(&theirs));
    let types = |v: &Value| -> BTreeSet<String> {
        v["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(types(&bg).is_superset(&types(&theirs)));
    assert_eq!(
        bg["status"]["pauseConditions"],
        json!([{"reason": "BlueGreenPause", "startTime": "2026-11-22T10:00:01Z"}])
    );
}
