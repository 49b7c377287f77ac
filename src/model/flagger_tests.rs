use super::*;
use serde_json::json;

fn podinfo(phase: &str, weight: i64) -> Value {
    json!({
        "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "7"},
        "spec": {
            "targetRef": {"name": "podinfo"},
            "analysis": {
                "interval": "30s", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
                "webhooks": [
                    {"name": "promotion gate", "type": "confirm-promotion",
                     "url": "http://flagger-loadtester.test/gate/check"},
                    {"name": "rollback", "type": "rollback",
                     "url": "http://flagger-loadtester.test/rollback/check"},
                ],
            },
        },
        "status": {"phase": phase, "canaryWeight": weight, "failedChecks": 1,
            "lastTransitionTime": "2026-12-06T04:00:00Z",
            "conditions": [{"type": "Promoted", "status": "Unknown", "reason": "WaitingPromotion",
                "message": "Waiting for approval."}]},
    })
}

fn side(hash: &str) -> Side {
    Side {
        hash: Some(hash.into()),
        images: vec![format!("podinfo:{hash}")],
        replicas: 2,
        ready: 2,
        available: 2,
        updated: 2,
    }
}

#[test]
fn a_canary_waiting_for_promotion_is_paused_at_its_gate_with_both_versions() {
    let view = view_of(
        "lab",
        &podinfo("WaitingPromotion", 50),
        &side("old"),
        &side("new"),
    );
    assert_eq!(view.reference.provider, Provider::Flagger);
    assert_eq!(
        view.steps,
        [10, 20, 30, 40, 50]
            .map(|weight| StepKind::SetWeight { weight })
            .into_iter()
            .chain([StepKind::Pause { duration: None }])
            .collect::<Vec<_>>()
    );
    assert_eq!(view.step_label(), "5/6");
    assert_eq!(view.phase, Phase::Paused);
    assert!(view.waiting_for_human());
    assert_eq!(view.actual_weight, 50);
    assert_eq!(
        view.message,
        "Flagger WaitingPromotion: waiting at confirm-promotion webhook \"promotion gate\"; \
         failed checks 1/5"
    );
    let roles: Vec<_> = view
        .versions()
        .into_iter()
        .map(|v| (v.role, v.hash))
        .collect();
    assert_eq!(
        roles,
        [
            (crate::model::VersionRole::Stable, "old".to_string()),
            (crate::model::VersionRole::Canary, "new".to_string())
        ]
    );
    let detail = view.flagger.expect("Flagger's detail");
    assert_eq!(
        detail.conditions,
        ["Promoted Unknown WaitingPromotion: Waiting for approval."]
    );
    assert_eq!(
        detail.waiting_gate().map(|w| w.name.as_str()),
        Some("promotion gate")
    );
}

#[test]
fn progressing_steps_along_the_ladder_and_settled_canaries_show_one_version() {
    let view = view_of(
        "lab",
        &podinfo("Progressing", 30),
        &side("old"),
        &side("new"),
    );
    assert_eq!(view.current_step, Some(2));
    assert_eq!(view.phase, Phase::Progressing);
    assert!(!view.waiting_for_human());
    let done = view_of(
        "lab",
        &podinfo("Succeeded", 0),
        &side("new"),
        &side("new-target"),
    );
    assert_eq!(done.phase, Phase::Healthy);
    assert!(
        !done.in_progress(),
        "promoted: the primary is the only version"
    );
    let failed = view_of("lab", &podinfo("Failed", 0), &side("old"), &side("new"));
    assert_eq!(failed.phase, Phase::Degraded);
    assert!(failed.aborted);
}

#[test]
fn blue_green_iterations_are_the_ladder() {
    let mut canary = podinfo("Progressing", 0);
    canary["spec"]["analysis"] = json!({"interval": "1m", "iterations": 3, "threshold": 2});
    canary["status"]["iterations"] = json!(2);
    let view = view_of("lab", &canary, &side("old"), &side("new"));
    assert_eq!(view.steps.len(), 3);
    assert_eq!(view.current_step, Some(1));
    assert!(view.message.contains("iteration 2/3"), "{}", view.message);
}
