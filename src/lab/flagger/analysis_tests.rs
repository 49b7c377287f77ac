use super::*;

fn canary(phase: &str, weight: i64, failed: i64, since: Timestamp) -> Value {
    json!({
        "metadata": {"name": "podinfo", "namespace": "test"},
        "spec": {
            "targetRef": {"name": "podinfo"},
            "analysis": {
                "interval": "30s", "threshold": 2, "maxWeight": 30, "stepWeight": 10,
                "metrics": [{"name": "request-success-rate", "thresholdRange": {"min": 99}}],
                "webhooks": [
                    {"name": "promotion gate", "type": "confirm-promotion", "url": "http://lt.test/gate/check"},
                    {"name": "rollback", "type": "rollback", "url": "http://lt.test/rollback/check"},
                ],
            },
        },
        "status": {"phase": phase, "canaryWeight": weight, "failedChecks": failed,
            "lastTransitionTime": seconds(since), "lastAppliedSpec": pod_template_hash(&json!({}))},
    })
}

fn target(error_rate: f64) -> Value {
    let profile = json!({"errorRate": error_rate}).to_string();
    json!({"spec": {"replicas": 2, "template": {"metadata": {"annotations": {PROFILE: profile}}}}})
}

const PROFILE: &str = crate::lab::traffic::PROFILE_ANNOTATION;

/// Runs one pass a whole interval after the last transition, with the gates `open`.
fn pass(canary: &Value, target: &Value, open: &[&str]) -> Decision {
    let later = canary["status"]["lastTransitionTime"]
        .as_str()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| t + jiff::SignedDuration::from_secs(31))
        .unwrap_or_else(Timestamp::now);
    let open: Vec<String> = open.iter().map(|s| s.to_string()).collect();
    // The canary above has hooks of these two kinds; a kind it has none of passes.
    let hooks = move |kind: &str| {
        if open.iter().any(|o| o == kind) || !["confirm-promotion", "rollback"].contains(&kind) {
            Ok(())
        } else {
            Err(format!("{kind} hook"))
        }
    };
    decide(&Seen { canary, target }, &hooks, later, 1.0)
}

#[test]
fn the_ladder_comes_from_step_weight_up_to_max_weight_or_from_step_weights() {
    let now = Timestamp::now();
    assert_eq!(
        Analysis::of(&canary("Progressing", 0, 0, now)).ladder,
        [10, 20, 30]
    );
    let weights = json!({"spec": {"analysis": {"stepWeights": [1, 5, 50]}}});
    assert_eq!(Analysis::of(&weights).ladder, [1, 5, 50]);
    let blue_green = json!({"spec": {"analysis": {"iterations": 10}}});
    assert_eq!(Analysis::of(&blue_green).ladder, Vec::<i64>::new());
    assert_eq!(Analysis::of(&blue_green).iterations, 10);
}

#[test]
fn a_healthy_canary_steps_then_waits_at_its_promotion_gate_until_opened() {
    let t0 = Timestamp::now() - jiff::SignedDuration::from_secs(600);
    let healthy = target(0.001);
    let step = pass(&canary("Progressing", 20, 0, t0), &healthy, &[]);
    assert_eq!(step.status["canaryWeight"], 30);
    assert_eq!(step.weight, Some(30));
    assert_eq!(
        step.events,
        [(false, "Advance podinfo.test canary weight 30".to_string())]
    );

    let at_max = pass(&canary("Progressing", 30, 0, t0), &healthy, &[]);
    assert_eq!(at_max.status["phase"], "WaitingPromotion");
    assert!(!at_max.promote);
    assert_eq!(
        at_max.events[0].1,
        "Halt advancement podinfo.test waiting for approval confirm-promotion hook"
    );

    let approved = pass(
        &canary("WaitingPromotion", 30, 0, t0),
        &healthy,
        &["confirm-promotion"],
    );
    assert_eq!(approved.status["phase"], "Promoting");
    assert!(
        approved.promote,
        "the canary's template goes to the primary"
    );

    let finalising = pass(&canary("Promoting", 30, 0, t0), &healthy, &[]);
    assert_eq!(finalising.status["phase"], "Finalising");
    assert_eq!(finalising.weight, Some(0));
    let done = pass(&canary("Finalising", 0, 0, t0), &healthy, &[]);
    assert_eq!(done.status["phase"], "Succeeded");
    assert_eq!(done.scale_target, Some(0));
    assert_eq!(done.status["conditions"][0]["status"], "True");
}

#[test]
fn an_open_rollback_gate_fails_the_canary_and_routes_all_traffic_to_primary() {
    let t0 = Timestamp::now() - jiff::SignedDuration::from_secs(600);
    let out = pass(
        &canary("WaitingPromotion", 30, 0, t0),
        &target(0.001),
        &["rollback"],
    );
    assert_eq!(out.status["phase"], "Failed");
    assert_eq!(out.status["canaryWeight"], 0);
    assert_eq!(out.weight, Some(0));
    assert_eq!(out.scale_target, Some(0));
    assert_eq!(
        out.events[0],
        (
            true,
            "Rolling back podinfo.test manual rollback".to_string()
        )
    );
}

#[test]
fn failing_checks_count_up_to_the_threshold_then_roll_back() {
    let t0 = Timestamp::now() - jiff::SignedDuration::from_secs(600);
    let failing = target(0.06);
    let once = pass(&canary("Progressing", 10, 0, t0), &failing, &[]);
    assert_eq!(once.status["failedChecks"], 1);
    assert_eq!(once.status["phase"], "Progressing");
    assert_eq!(
        once.events,
        [(
            true,
            "Halt podinfo.test advancement success rate 94.00% < 99%".to_string()
        )]
    );
    let twice = pass(&canary("Progressing", 10, 1, t0), &failing, &[]);
    assert_eq!(twice.status["phase"], "Failed");
    assert_eq!(twice.status["failedChecks"], 2);
}

#[test]
fn nothing_happens_before_the_interval_or_while_suspended() {
    let now = Timestamp::now();
    let fresh = canary("Progressing", 10, 0, now);
    let hooks = |_: &str| Ok(());
    let seen = Seen {
        canary: &fresh,
        target: &target(0.001),
    };
    assert_eq!(decide(&seen, &hooks, now, 1.0).status, fresh["status"]);
    let mut suspended = canary(
        "Progressing",
        10,
        0,
        now - jiff::SignedDuration::from_secs(600),
    );
    suspended["spec"]["suspend"] = json!(true);
    let out = pass(&suspended, &target(0.001), &[]);
    assert_eq!(out.status, suspended["status"]);
    assert!(out.events.is_empty());
}

#[test]
fn a_canary_waiting_at_confirm_rollout_starts_when_opened_or_rolls_back() {
    let t0 = Timestamp::now() - jiff::SignedDuration::from_secs(600);
    let mut waiting = canary("Waiting", 0, 0, t0);
    waiting["spec"]["analysis"]["webhooks"] = json!([
        {"name": "start gate", "type": "confirm-rollout", "url": "http://lt.test/gate/check"},
        {"name": "rollback", "type": "rollback", "url": "http://lt.test/rollback/check"},
    ]);
    let hooks_open = |open: &'static [&'static str]| {
        move |kind: &str| {
            if open.contains(&kind) {
                Ok(())
            } else {
                Err(format!("{kind} hook"))
            }
        }
    };
    let later = t0 + jiff::SignedDuration::from_secs(31);
    let seen = Seen {
        canary: &waiting,
        target: &target(0.001),
    };
    let held = decide(&seen, &hooks_open(&[]), later, 1.0);
    assert_eq!(held.status, waiting["status"], "closed gate: still Waiting");
    let started = decide(&seen, &hooks_open(&["confirm-rollout"]), later, 1.0);
    assert_eq!(started.status["phase"], "Progressing");
    let rolled_back = decide(&seen, &hooks_open(&["rollback"]), later, 1.0);
    assert_eq!(rolled_back.status["phase"], "Failed");
}
