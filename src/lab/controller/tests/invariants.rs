//! Random sequences of what clients do (promote, abort, retry, promote-full, pause, resume,
//! step jumps, new templates, waiting) never break the controller's invariants, and after
//! every reconcile the rollout is at rest (no churn).

use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Act {
    Promote,
    Abort,
    Retry,
    PromoteFull,
    Pause,
    Resume,
    Jump(i64),
    Deploy(u8),
    Wait(i64),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        Just(Act::Promote),
        Just(Act::Abort),
        Just(Act::Retry),
        Just(Act::PromoteFull),
        Just(Act::Pause),
        Just(Act::Resume),
        (-2..12i64).prop_map(Act::Jump),
        (0..3u8).prop_map(Act::Deploy),
        (0..90i64).prop_map(Act::Wait),
    ]
}

fn apply(ro: &mut Value, act: &Act, clock: &mut i64) {
    match act {
        Act::Promote => patch_status(ro, json!({"pauseConditions": null})),
        Act::Abort => patch_status(ro, json!({"abort": true})),
        Act::Retry => patch_status(ro, json!({"abort": false})),
        Act::PromoteFull => patch_status(ro, json!({"promoteFull": true})),
        Act::Pause => set_spec(ro, "/spec/paused", json!(true)),
        Act::Resume => {
            set_spec(ro, "/spec/paused", json!(false));
            patch_status(ro, json!({"pauseConditions": null}));
        }
        Act::Jump(i) => patch_status(ro, json!({"currentStepIndex": i})),
        Act::Deploy(v) => {
            let image = format!("registry.example/app:1.{v}.0");
            set_spec(ro, "/spec/template", template(&image));
        }
        Act::Wait(secs) => *clock += secs,
    }
}

fn check(ro: &Value, steps: i64) {
    let st = &ro["status"];
    let phase = st["phase"].as_str().unwrap();
    assert!(
        ["Healthy", "Paused", "Degraded", "Progressing"].contains(&phase),
        "{st}"
    );
    assert_eq!(
        st["currentPodHash"],
        pod_template_hash(&ro["spec"]["template"]).as_str()
    );
    assert_eq!(
        st["observedGeneration"],
        ro["metadata"]["generation"].to_string().as_str()
    );
    if st["controllerPause"] == true {
        assert!(
            st["pauseConditions"]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{st}"
        );
    }
    if phase == "Healthy" {
        assert_eq!(st["stableRS"], st["currentPodHash"], "{st}");
    }
    if st["abort"] == true {
        assert_eq!(phase, "Degraded", "{st}");
    }
    if let Some(w) = st["canary"].get("weights") {
        let canary = w["canary"]["weight"].as_i64().unwrap();
        assert_eq!(canary + w["stable"]["weight"].as_i64().unwrap(), 100);
        if st["abort"] == true || st["stableRS"] == st["currentPodHash"] {
            assert_eq!(canary, 0, "{st}");
        }
    }
    if let Some(i) = st["currentStepIndex"].as_i64() {
        assert!((0..=steps).contains(&i), "{st}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn canary_invariants_hold_and_every_reconcile_comes_to_rest(acts in prop::collection::vec(act(), 1..25)) {
        let mut ro = canary_rollout("registry.example/app:1.0.0");
        let mut clock = 0;
        step(&mut ro, at(clock), 10.0);
        for a in &acts {
            apply(&mut ro, a, &mut clock);
            step(&mut ro, at(clock), 10.0);
            check(&ro, 8);
            prop_assert_eq!(reconcile(&ro, at(clock), 10.0), None, "churn after {:?}", a);
        }
    }

    #[test]
    fn blue_green_invariants_hold_and_every_reconcile_comes_to_rest(acts in prop::collection::vec(act(), 1..25)) {
        let auto = json!({"autoPromotionEnabled": false});
        let mut ro = blue_green_rollout("registry.example/app:1.0.0", auto);
        let mut clock = 0;
        step(&mut ro, at(clock), 10.0);
        for a in &acts {
            apply(&mut ro, a, &mut clock);
            step(&mut ro, at(clock), 10.0);
            check(&ro, 0);
            prop_assert!(ro["status"]["currentStepIndex"].is_null());
            prop_assert_eq!(reconcile(&ro, at(clock), 10.0), None, "churn after {:?}", a);
        }
    }
}

#[test]
fn garbage_in_spec_or_status_is_an_invalid_spec_or_ignored_never_a_panic() {
    let mut ro = canary_rollout("x:1");
    ro["spec"]["strategy"]["canary"]["steps"] = json!([{"setWeight": "twenty"}]);
    settle(&mut ro, t0(), 1.0);
    assert_eq!(s(&ro, "phase"), "Degraded");
    assert!(
        s(&ro, "message").as_str().unwrap().contains("invalid type"),
        "{}",
        s(&ro, "message")
    );

    let mut ro = canary_rollout("x:1");
    ro["status"] = json!("not an object");
    settle(&mut ro, t0(), 1.0);
    assert_eq!(s(&ro, "phase"), "Healthy");

    let mut ro = canary_rollout("x:1");
    settle(&mut ro, t0(), 1.0);
    deploy_v2(&mut ro);
    settle(&mut ro, at(1), 1.0);
    patch_status(
        &mut ro,
        json!({"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "yesterday"}], "currentStepIndex": "3"}),
    );
    step(&mut ro, at(2), 1.0);
    assert_eq!(reconcile(&ro, at(2), 1.0), None);
    check(&ro, 8);
}
