//! The Argo Rollouts verbs: for each, the exact patches kubectl-argo-rollouts sends (see
//! ARCHITECTURE.md), computed from the rollout as last read. Pure: no I/O here.

use crate::model::argo::CanaryStrategy;
use crate::model::view::AUTO_STATUS_ANNOTATION;
use crate::model::{Pin, Rollout, RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use serde_json::{Value, json};

fn main_merge(body: Value) -> PlannedPatch {
    PlannedPatch {
        subresource: Subresource::Main,
        body: PatchBody::Merge(body),
    }
}

fn status_merge(body: Value) -> PlannedPatch {
    PlannedPatch {
        subresource: Subresource::Status,
        body: PatchBody::Merge(body),
    }
}

/// What the caller saw, checked against the rollout just read: the pin to send (the
/// caller's, or what was read when the caller gave none). Nothing is sent when they differ.
pub(crate) fn effective_pin(
    target: &RolloutRef,
    verb: Verb,
    ro: &Rollout,
    pin: Option<&Pin>,
) -> Result<Pin, OrchestratorError> {
    let now = Pin::of_rollout(ro);
    let Some(pin) = pin else {
        return Ok(now);
    };
    if !pin.holds_in(&now) {
        return Err(OrchestratorError::MovedOn {
            target: target.clone(),
            verb,
            seen: Box::new(pin.clone()),
            now: Box::new(now),
        });
    }
    Ok(pin.clone())
}

/// `test` ops that make the API server refuse the patch unless the rollout still shows
/// what the pin names (a test on a field the rollout lacks fails too, which is right: the
/// pin then no longer holds).
pub(crate) fn pin_tests(pin: &Pin) -> Vec<Value> {
    let mut ops = Vec::new();
    if let Some(step) = pin.step {
        ops.push(json!({"op": "test", "path": "/status/currentStepIndex", "value": step}));
    }
    if let Some(hash) = &pin.pod_hash {
        ops.push(json!({"op": "test", "path": "/status/currentPodHash", "value": hash}));
    }
    if let Some(preview) = &pin.preview_hash {
        ops.push(
            json!({"op": "test", "path": "/status/blueGreen/previewSelector", "value": preview}),
        );
    }
    ops
}

fn set_step_op(ro: &Rollout, index: i32) -> Value {
    let exists = ro
        .status
        .as_ref()
        .is_some_and(|s| s.current_step_index.is_some());
    let op = if exists { "replace" } else { "add" };
    json!({"op": op, "path": "/status/currentStepIndex", "value": index})
}

/// At a pause step whose pause was lifted (a promote removed the pause condition the
/// controller set, `controllerPause` still true) before the controller moved on.
pub(crate) fn pause_already_lifted(ro: &Rollout) -> bool {
    let Some(status) = &ro.status else {
        return false;
    };
    let at_pause = steps_of(ro).is_some_and(|c| {
        status
            .current_step_index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| c.steps.get(i))
            .is_some_and(|s| s.pause.is_some())
    });
    at_pause && status.controller_pause && status.pause_conditions.is_empty()
}

fn steps_of(ro: &Rollout) -> Option<&CanaryStrategy> {
    ro.spec
        .strategy
        .canary
        .as_ref()
        .filter(|c| !c.steps.is_empty())
}

/// The weight a canary is set to at step `index` (Argo's `GetCurrentSetWeight`).
fn weight_at(canary: &CanaryStrategy, index: i32) -> i32 {
    let Ok(index) = usize::try_from(index) else {
        return 0;
    };
    if index >= canary.steps.len() {
        return 100;
    }
    canary.steps[..=index]
        .iter()
        .rev()
        .find_map(|s| s.set_weight)
        .unwrap_or(0)
}

fn step_summary(verb_words: &str, from: i32, to: i32, canary: &CanaryStrategy) -> String {
    let weight = weight_at(canary, to);
    if usize::try_from(to).is_ok_and(|t| t >= canary.steps.len()) {
        format!("{verb_words}: step {from} → {to}, all steps done (weight {weight}%)")
    } else {
        format!("{verb_words}: step {from} → {to} (weight {weight}%)")
    }
}

/// promote and promote --full, as kubectl-argo-rollouts' `getPatches`, with the status part
/// sent as a JSON Patch pinned to what the caller saw (`pin`, else what was just read): the
/// step and pod hash of a canary, the preview of a blue-green rollout.
pub fn plan_promote(
    target: &RolloutRef,
    ro: &Rollout,
    pin: Option<&Pin>,
    full: bool,
) -> Result<Plan, OrchestratorError> {
    let verb = if full {
        Verb::PromoteFull
    } else {
        Verb::Promote
    };
    let status = ro.status.clone().unwrap_or_default();
    let mut plan = Plan::nothing(target, verb, String::new());
    let pin = effective_pin(target, verb, ro, pin)?;
    if !full && pause_already_lifted(ro) {
        // Someone promoted this pause step a moment ago; the controller is moving on.
        return Err(OrchestratorError::AlreadyPromoted {
            target: target.clone(),
            step: status.current_step_index.unwrap_or(0),
        });
    }
    let unpause = ro
        .spec
        .paused
        .then(|| main_merge(json!({"spec": {"paused": false}})));
    let from = status.current_step_index.unwrap_or(0);
    let canary = steps_of(ro);
    let last = canary.map_or(0, |c| c.steps.len() as i32);
    let next = if from < last { from + 1 } else { from };
    let mut ops: Vec<Value> = Vec::new();
    let paused_by_condition = !status.pause_conditions.is_empty();

    if full {
        if status.current_pod_hash != status.stable_rs {
            ops.push(json!({"op": "add", "path": "/status/promoteFull", "value": true}));
            plan.summary = match (&pin.preview_hash, &pin.pod_hash) {
                (Some(preview), _) => format!(
                    "promoted fully: preview {preview} becomes active, skipping the remaining analyses"
                ),
                (None, Some(hash)) => format!(
                    "promoted fully: canary {hash} skips the remaining steps and analyses (weight 100%)"
                ),
                (None, None) => {
                    "promoted fully: skipping the remaining steps and analyses (weight 100%)".into()
                }
            };
            plan.from_step = canary.map(|_| from);
            plan.to_step = canary.map(|_| last);
            plan.weight = Some(100);
        }
    } else if let Some(canary) = canary {
        let inconclusive = status
            .canary
            .current_step_analysis_run_status
            .as_ref()
            .and_then(|s| s.get("status"))
            .is_some_and(|s| s == "Inconclusive");
        if inconclusive && paused_by_condition && status.controller_pause {
            ops.push(json!({"op": "remove", "path": "/status/pauseConditions"}));
            ops.push(json!({"op": "replace", "path": "/status/controllerPause", "value": false}));
            ops.push(set_step_op(ro, next));
        } else if paused_by_condition {
            // The controller itself moves past the pause step once its condition is gone.
            ops.push(json!({"op": "remove", "path": "/status/pauseConditions"}));
        } else if from < last {
            ops.push(set_step_op(ro, next));
        }
        if !ops.is_empty() {
            plan.summary = step_summary("promoted", from, next, canary);
            plan.from_step = Some(from);
            plan.to_step = Some(next);
            plan.weight = Some(weight_at(canary, next));
        }
    } else if paused_by_condition {
        ops.push(json!({"op": "remove", "path": "/status/pauseConditions"}));
        plan.summary = match (
            &status.blue_green.preview_selector,
            ro.spec.strategy.blue_green.is_some(),
        ) {
            (Some(preview), true) => format!("promoted: preview {preview} becomes active"),
            _ => "promoted: pause cleared".into(),
        };
    }

    if !ops.is_empty() {
        let mut pinned = pin_tests(&pin);
        pinned.extend(ops);
        plan.patches.push(PlannedPatch {
            subresource: Subresource::Status,
            body: PatchBody::Json(pinned),
        });
    }
    plan.pin = Some(pin);
    if let Some(unpause) = unpause {
        if plan.patches.is_empty() {
            plan.summary = "promoted: unpaused".into();
        }
        plan.patches.push(unpause);
    }
    if plan.patches.is_empty() {
        plan.summary = if full {
            "nothing to promote: the rollout is fully promoted".into()
        } else {
            "nothing to promote: no pause to clear and no step left".into()
        };
    }
    Ok(plan)
}

/// abort: all traffic back to stable. With a pin (what `auto` judged), a JSON Patch that
/// the API server refuses once another revision is rolling out; without, the merge patch
/// kubectl-argo-rollouts sends (a person's Rollback applies to whatever runs now).
pub fn plan_abort(target: &RolloutRef, pin: Option<&Pin>) -> Plan {
    let mut plan = Plan::nothing(
        target,
        Verb::Abort,
        "aborted: traffic goes back to stable (weight 0%)".into(),
    );
    let body = match pin {
        Some(pin) => {
            let mut ops = pin_tests(pin);
            ops.push(json!({"op": "add", "path": "/status/abort", "value": true}));
            PatchBody::Json(ops)
        }
        None => PatchBody::Merge(json!({"status": {"abort": true}})),
    };
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Status,
        body,
    });
    plan.pin = pin.cloned();
    plan.weight = Some(0);
    plan
}

/// The `release-cockpit.io/auto-status` annotation: what `auto` waits for.
pub fn plan_auto_status(target: &RolloutRef, text: &str) -> Plan {
    let mut plan = Plan::nothing(target, Verb::AutoStatus, format!("auto status: {text}"));
    plan.patches.push(main_merge(
        json!({"metadata": {"annotations": {AUTO_STATUS_ANNOTATION: text}}}),
    ));
    plan
}

pub fn plan_retry(target: &RolloutRef) -> Plan {
    let mut plan = Plan::nothing(
        target,
        Verb::Retry,
        "retried: the update starts again".into(),
    );
    plan.patches
        .push(status_merge(json!({"status": {"abort": false}})));
    plan
}

pub fn plan_pause(target: &RolloutRef) -> Plan {
    let mut plan = Plan::nothing(target, Verb::Pause, "paused".into());
    plan.patches
        .push(main_merge(json!({"spec": {"paused": true}})));
    plan
}

pub fn plan_resume(target: &RolloutRef) -> Plan {
    let mut plan = Plan::nothing(target, Verb::Resume, "resumed".into());
    plan.patches
        .push(main_merge(json!({"spec": {"paused": false}})));
    plan.patches
        .push(status_merge(json!({"status": {"pauseConditions": null}})));
    plan
}

/// `now` is RFC 3339 to the second, as kubectl writes it.
pub fn plan_restart(target: &RolloutRef, now: jiff::Timestamp) -> Plan {
    let at = now
        .round(jiff::Unit::Second)
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut plan = Plan::nothing(
        target,
        Verb::Restart,
        format!("restarted: pods are replaced from {at}"),
    );
    plan.patches
        .push(main_merge(json!({"spec": {"restartAt": at}})));
    plan
}

/// set-weight: Argo has no free weight, so the rollout moves to the `setWeight` step that
/// declares `weight` (the nearest one ahead, else the latest behind), pinned like promote.
pub fn plan_set_weight(
    target: &RolloutRef,
    ro: &Rollout,
    weight: i32,
    pin: Option<&Pin>,
) -> Result<Plan, OrchestratorError> {
    let verb = Verb::SetWeight;
    if !(0..=100).contains(&weight) {
        return Err(OrchestratorError::WeightOutOfRange { weight });
    }
    let not_applicable = |reason: &str| OrchestratorError::NotApplicable {
        target: target.clone(),
        verb,
        reason: reason.into(),
    };
    let Some(canary) = steps_of(ro) else {
        return Err(not_applicable(if ro.spec.strategy.blue_green.is_some() {
            "a blue-green rollout has no weights; promote switches the preview to active"
        } else {
            "it declares no canary steps, so there is no weight to move to"
        }));
    };
    let declared: Vec<(i32, i32)> = canary
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.set_weight.map(|w| (i as i32, w)))
        .collect();
    let mut weights: Vec<i32> = declared.iter().map(|(_, w)| *w).collect();
    weights.dedup();
    let status = ro.status.clone().unwrap_or_default();
    let from = status.current_step_index.unwrap_or(0);
    let matching: Vec<i32> = declared
        .iter()
        .filter(|(_, w)| *w == weight)
        .map(|(i, _)| *i)
        .collect();
    let Some(&to) = matching
        .iter()
        .find(|&&i| i >= from)
        .or_else(|| matching.last())
    else {
        return Err(OrchestratorError::WeightNotDeclared {
            target: target.clone(),
            weight,
            declared: weights,
        });
    };
    if status.abort {
        return Err(not_applicable(
            "it is aborted; retry it first, then set the weight",
        ));
    }
    if status.current_pod_hash.is_none() || status.current_pod_hash == status.stable_rs {
        return Err(not_applicable(
            "no update is in progress (the canary is the stable version); set-weight moves an update between its steps",
        ));
    }
    let pin = effective_pin(target, verb, ro, pin)?;
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.from_step = Some(from);
    plan.to_step = Some(to);
    plan.weight = Some(weight);
    if to == from {
        plan.summary = format!("nothing to do: already at step {from} (weight {weight}%)");
        return Ok(plan);
    }
    let mut ops = pin_tests(&pin);
    if !status.pause_conditions.is_empty() {
        ops.push(json!({"op": "remove", "path": "/status/pauseConditions"}));
    }
    ops.push(set_step_op(ro, to));
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Status,
        body: PatchBody::Json(ops),
    });
    plan.pin = Some(pin);
    plan.summary = format!("set to weight {weight}%: step {from} → {to}");
    Ok(plan)
}

#[cfg(test)]
#[path = "verbs_tests.rs"]
mod tests;
