//! Plans computed from the real fixtures: the branches of kubectl-argo-rollouts' promote that
//! the mock-server tests do not reach, and the refusals that send nothing.

use super::*;
use crate::model::Pin;
use crate::model::testdata::object;

fn target_of(ro: &Rollout) -> RolloutRef {
    RolloutRef::new(
        "lab",
        ro.metadata.namespace.as_deref().unwrap_or("default"),
        ro.metadata.name.as_deref().unwrap_or(""),
    )
}

fn fixture(file: &str) -> (Rollout, RolloutRef) {
    let ro: Rollout = object(file);
    let target = target_of(&ro);
    (ro, target)
}

fn status_ops(plan: &Plan) -> Vec<Value> {
    match &plan.patches[0] {
        PlannedPatch {
            subresource: Subresource::Status,
            body: PatchBody::Json(ops),
        } => ops.clone(),
        other => panic!("expected a JSON Patch on status, got {other:?}"),
    }
}

#[test]
fn blue_green_promote_clears_the_pause_pinned_to_the_preview_hash() {
    let (ro, target) = fixture("blue-green/bluegreen-rollout.yaml");
    let plan = plan_promote(&target, &ro, None, false).expect("plan");
    assert_eq!(
        status_ops(&plan),
        vec![
            json!({"op": "test", "path": "/status/currentPodHash", "value": "74b948fccb"}),
            json!({"op": "test", "path": "/status/blueGreen/previewSelector", "value": "74b948fccb"}),
            json!({"op": "remove", "path": "/status/pauseConditions"}),
        ]
    );
    assert_eq!(plan.patches.len(), 1);
    assert_eq!(plan.summary, "promoted: preview 74b948fccb becomes active");
}

#[test]
fn blue_green_approval_of_a_preview_that_was_replaced_sends_nothing_and_says_what_is_there() {
    let (ro, target) = fixture("blue-green/bluegreen-rollout.yaml");
    let seen = Pin {
        step: None,
        pod_hash: Some("7855cfc5b8".into()),
        preview_hash: Some("7855cfc5b8".into()),
    };
    for full in [false, true] {
        let err = plan_promote(&target, &ro, Some(&seen), full).expect_err("moved on");
        assert!(
            matches!(&err, OrchestratorError::MovedOn { now, .. } if now.preview_hash.as_deref() == Some("74b948fccb")),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("was for preview 7855cfc5b8"), "{text}");
        assert!(
            text.contains("now shows preview 74b948fccb, pod hash 74b948fccb (a new revision)"),
            "{text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
    }
}

#[test]
fn promote_full_is_pinned_to_what_was_seen() {
    let (ro, target) = fixture("blue-green/bluegreen-rollout.yaml");
    let seen = Pin {
        step: None,
        pod_hash: Some("74b948fccb".into()),
        preview_hash: Some("74b948fccb".into()),
    };
    let plan = plan_promote(&target, &ro, Some(&seen), true).expect("plan");
    assert_eq!(
        status_ops(&plan),
        vec![
            json!({"op": "test", "path": "/status/currentPodHash", "value": "74b948fccb"}),
            json!({"op": "test", "path": "/status/blueGreen/previewSelector", "value": "74b948fccb"}),
            json!({"op": "add", "path": "/status/promoteFull", "value": true}),
        ]
    );
    assert_eq!(plan.pin, Some(seen));
    assert!(
        plan.summary.contains("preview 74b948fccb becomes active"),
        "{}",
        plan.summary
    );
}

#[test]
fn abort_is_pinned_only_when_asked() {
    let (_, target) = fixture("canary/canary-rollout.yaml");
    let plan = plan_abort(&target, None);
    assert_eq!(
        plan.patches[0].body,
        PatchBody::Merge(json!({"status": {"abort": true}}))
    );
    let judged = Pin {
        pod_hash: Some("abc".into()),
        ..Pin::default()
    };
    let plan = plan_abort(&target, Some(&judged));
    assert_eq!(
        status_ops(&plan),
        vec![
            json!({"op": "test", "path": "/status/currentPodHash", "value": "abc"}),
            json!({"op": "add", "path": "/status/abort", "value": true}),
        ]
    );
    assert_eq!(plan.pin, Some(judged));
}

#[test]
fn inconclusive_analysis_promote_also_lifts_the_controller_pause_and_moves_on() {
    let mut raw: Value = object("experiment-analysis/rollout-experiment-analysis.yaml");
    raw["status"]["canary"]["currentStepAnalysisRunStatus"] =
        json!({"name": "run", "status": "Inconclusive"});
    let ro: Rollout = serde_json::from_value(raw).expect("rollout");
    let target = target_of(&ro);
    let plan = plan_promote(&target, &ro, None, false).expect("plan");
    assert_eq!(
        status_ops(&plan),
        vec![
            json!({"op": "test", "path": "/status/currentStepIndex", "value": 1}),
            json!({"op": "test", "path": "/status/currentPodHash", "value": "6f646bf7b7"}),
            json!({"op": "remove", "path": "/status/pauseConditions"}),
            json!({"op": "replace", "path": "/status/controllerPause", "value": false}),
            json!({"op": "replace", "path": "/status/currentStepIndex", "value": 2}),
        ]
    );
    assert_eq!(
        plan.summary,
        "promoted: step 1 → 2, all steps done (weight 100%)"
    );
}

#[test]
fn set_weight_refuses_what_argo_cannot_do() {
    let (ro, target) = fixture("blue-green/bluegreen-rollout.yaml");
    let err = plan_set_weight(&target, &ro, 50, None).expect_err("blue-green");
    assert!(
        err.to_string()
            .contains("blue-green rollout has no weights"),
        "{err}"
    );

    let (ro, target) = fixture("rollout-aborted/rollout.yaml");
    let err = plan_set_weight(&target, &ro, 10, None).expect_err("aborted");
    assert!(err.to_string().contains("retry it first"), "{err}");

    let (ro, target) = fixture("rollout-invalid/rollout-invalid.yaml");
    let err = plan_set_weight(&target, &ro, 10, None).expect_err("no steps");
    assert!(
        err.to_string().contains("declares no canary steps"),
        "{err}"
    );

    let (ro, target) = fixture("canary/canary-rollout.yaml");
    let err = plan_set_weight(&target, &ro, 100, None).expect_err("not declared");
    assert!(err.to_string().contains("promote --full"), "{err}");
    let plan = plan_set_weight(&target, &ro, 20, None).expect("already there");
    assert!(plan.patches.is_empty());
    assert_eq!(
        plan.summary,
        "nothing to do: already at step 0 (weight 20%)"
    );
}

#[test]
fn undo_of_a_workload_ref_rollout_is_refused() {
    let (ro, target) = fixture("canary/canary-rollout2.yaml");
    let err = crate::orchestrator::plan_undo(&target, &ro, &[], None, None, None)
        .expect_err("workloadRef");
    assert!(err.to_string().contains("workloadRef"), "{err}");
}

#[test]
fn restart_at_is_rfc3339_to_the_second() {
    let (_, target) = fixture("canary/canary-rollout.yaml");
    let now: jiff::Timestamp = "2026-11-22T02:03:04.567Z".parse().expect("time");
    let plan = plan_restart(&target, now);
    assert_eq!(
        plan.patches[0].body,
        PatchBody::Merge(json!({"spec": {"restartAt": "2026-11-22T02:03:05Z"}}))
    );
}

#[test]
fn a_pause_step_whose_pause_someone_lifted_is_not_promoted_twice() {
    let (mut ro, target) = fixture("canary/canary-rollout.yaml");
    let status = ro.status.as_mut().expect("status");
    // At the `pause: {}` step, the controller's pause gone, the controller not yet moved on.
    status.current_step_index = Some(1);
    status.controller_pause = true;
    status.pause_conditions.clear();
    let err = plan_promote(&target, &ro, None, false).expect_err("already promoted");
    assert!(
        matches!(err, OrchestratorError::AlreadyPromoted { step: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("step 1 was already promoted by someone else"),
        "{err}"
    );
    // Before the controller paused there (no controllerPause yet), promote moves the step.
    ro.status.as_mut().expect("status").controller_pause = false;
    let plan = plan_promote(&target, &ro, None, false).expect("plan");
    assert_eq!((plan.from_step, plan.to_step), (Some(1), Some(2)));
}
