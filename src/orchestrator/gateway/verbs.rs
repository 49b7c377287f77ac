//! What each verb sends to a weighted release's HTTPRoute, computed from the route as read.
//! Weight changes are one JSON Patch whose `test` ops pin both backendRef weights to what
//! was read, so a change made meanwhile is refused (422) instead of overwritten. Pure.

use crate::model::gateway::{
    ABORTED_ANNOTATION, PAUSED_ANNOTATION, STEP_ANNOTATION, WeightedRoute,
};
use crate::model::view::AUTO_STATUS_ANNOTATION;
use crate::model::{RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use serde_json::{Value, json};

/// A JSON Pointer to annotation `key` (its `/` escaped).
pub(super) fn annotation_path(key: &str) -> String {
    format!(
        "/metadata/annotations/{}",
        key.replace('~', "~0").replace('/', "~1")
    )
}

fn plan_for(target: &RolloutRef, route: &WeightedRoute, verb: Verb) -> Plan {
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.home = Subresource::Route(route.route.clone());
    plan.seen_weights = Some((route.stable.weight, route.canary.weight));
    plan
}

/// `test` ops on both weights as read, then `replace` them with `stable` and `canary`.
pub(super) fn weight_ops(route: &WeightedRoute, stable: i32, canary: i32) -> Vec<Value> {
    vec![
        json!({"op": "test", "path": route.stable.pointer, "value": route.stable.weight}),
        json!({"op": "test", "path": route.canary.pointer, "value": route.canary.weight}),
        json!({"op": "replace", "path": route.stable.pointer, "value": stable}),
        json!({"op": "replace", "path": route.canary.pointer, "value": canary}),
    ]
}

fn route_patch(route: &WeightedRoute, body: PatchBody) -> PlannedPatch {
    PlannedPatch {
        subresource: Subresource::Route(route.route.clone()),
        body,
    }
}

/// set-weight: any whole percentage 0..100 to the canary, the rest to stable.
pub fn plan_set_weight(
    target: &RolloutRef,
    route: &WeightedRoute,
    weight: i32,
) -> Result<Plan, OrchestratorError> {
    if !(0..=100).contains(&weight) {
        return Err(OrchestratorError::WeightOutOfRange { weight });
    }
    let mut plan = plan_for(target, route, Verb::SetWeight);
    plan.weight = Some(weight);
    let was = route.canary_percent();
    if route.canary.weight == weight && route.stable.weight == 100 - weight {
        plan.summary = format!("nothing to do: the canary already has weight {weight}%");
        return Ok(plan);
    }
    let mut ops = weight_ops(route, 100 - weight, weight);
    if route.aborted && weight > 0 {
        ops.push(json!({"op": "remove", "path": annotation_path(ABORTED_ANNOTATION)}));
    }
    plan.patches.push(route_patch(route, PatchBody::Json(ops)));
    plan.summary = format!(
        "set to weight {weight}%: stable {} / canary {weight} (was canary {was}%)",
        100 - weight
    );
    Ok(plan)
}

/// promote (approve): to the next declared step and its weight, pinned to the weights and
/// the step as read.
pub fn plan_promote(target: &RolloutRef, route: &WeightedRoute) -> Result<Plan, OrchestratorError> {
    let verb = Verb::Promote;
    if route.steps.is_empty() {
        return Err(OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason:
                "its route declares no steps (annotation release-cockpit.io/steps); use set-weight"
                    .into(),
        });
    }
    if route.aborted {
        return Err(OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason: "it is aborted; set a weight to start it again".into(),
        });
    }
    let last = route.steps.len() as i32;
    let mut plan = plan_for(target, route, verb);
    let from = route.step.min(last);
    if from >= last {
        plan.summary = "nothing to promote: every step is done".into();
        return Ok(plan);
    }
    let to = from + 1;
    let weight = route.weight_at(to);
    let mut ops = vec![
        json!({"op": "test", "path": annotation_path(STEP_ANNOTATION), "value": route.step.to_string()}),
    ];
    ops.extend(weight_ops(route, 100 - weight, weight));
    ops.push(
        json!({"op": "add", "path": annotation_path(STEP_ANNOTATION), "value": to.to_string()}),
    );
    plan.patches.push(route_patch(route, PatchBody::Json(ops)));
    plan.from_step = Some(from);
    plan.to_step = Some(to);
    plan.weight = Some(weight);
    plan.summary = if to >= last {
        format!("promoted: step {from} → {to}, all steps done (weight {weight}%)")
    } else {
        format!("promoted: step {from} → {to} (weight {weight}%)")
    };
    Ok(plan)
}

/// abort: the canary's weight to 0 and the aborted annotation, in one request. Not pinned:
/// a rollback applies to whatever runs now.
pub fn plan_abort(target: &RolloutRef, route: &WeightedRoute) -> Plan {
    let mut plan = plan_for(target, route, Verb::Abort);
    plan.seen_weights = None;
    plan.weight = Some(0);
    let ops = vec![
        json!({"op": "replace", "path": route.canary.pointer, "value": 0}),
        json!({"op": "add", "path": annotation_path(ABORTED_ANNOTATION), "value": "true"}),
    ];
    plan.patches.push(route_patch(route, PatchBody::Json(ops)));
    plan.summary = "aborted: traffic goes back to stable (weight 0%)".into();
    plan
}

fn annotation_merge(route: &WeightedRoute, key: &str, value: Value) -> PlannedPatch {
    route_patch(
        route,
        PatchBody::Merge(json!({"metadata": {"annotations": {key: value}}})),
    )
}

/// pause: the annotation `auto` and the window honour; the weights stay.
pub fn plan_pause(target: &RolloutRef, route: &WeightedRoute) -> Plan {
    let mut plan = plan_for(target, route, Verb::Pause);
    plan.seen_weights = None;
    if route.paused {
        plan.summary = "nothing to do: already paused".into();
        return plan;
    }
    plan.patches
        .push(annotation_merge(route, PAUSED_ANNOTATION, json!("true")));
    plan.summary = "paused".into();
    plan
}

pub fn plan_resume(target: &RolloutRef, route: &WeightedRoute) -> Plan {
    let mut plan = plan_for(target, route, Verb::Resume);
    plan.seen_weights = None;
    if !route.paused {
        plan.summary = "nothing to do: not paused".into();
        return plan;
    }
    plan.patches
        .push(annotation_merge(route, PAUSED_ANNOTATION, Value::Null));
    plan.summary = "resumed".into();
    plan
}

/// What `auto` waits for, on the route (as on an Argo rollout).
pub fn plan_auto_status(target: &RolloutRef, route: &WeightedRoute, text: &str) -> Plan {
    let mut plan = plan_for(target, route, Verb::AutoStatus);
    plan.seen_weights = None;
    plan.patches
        .push(annotation_merge(route, AUTO_STATUS_ANNOTATION, json!(text)));
    plan.summary = format!("auto status: {text}");
    plan
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{cart, target};
    use super::*;
    use serde_json::json;

    fn ops(plan: &Plan) -> Vec<Value> {
        match &plan.patches[..] {
            [
                PlannedPatch {
                    subresource: Subresource::Route(name),
                    body: PatchBody::Json(ops),
                },
            ] if name == "cart" => ops.clone(),
            other => panic!("expected one JSON Patch of the route, got {other:?}"),
        }
    }

    #[test]
    fn set_weight_pins_both_weights_it_read_and_replaces_them() {
        let plan = plan_set_weight(&target(), &cart(90, 10, "0"), 33).unwrap();
        assert_eq!(
            ops(&plan),
            vec![
                json!({"op": "test", "path": "/spec/rules/0/backendRefs/0/weight", "value": 90}),
                json!({"op": "test", "path": "/spec/rules/0/backendRefs/1/weight", "value": 10}),
                json!({"op": "replace", "path": "/spec/rules/0/backendRefs/0/weight", "value": 67}),
                json!({"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 33}),
            ]
        );
        assert_eq!(plan.home, Subresource::Route("cart".into()));
        assert_eq!(plan.seen_weights, Some((90, 10)));
        assert!(matches!(
            plan_set_weight(&target(), &cart(90, 10, "0"), 140),
            Err(OrchestratorError::WeightOutOfRange { weight: 140 })
        ));
        assert!(
            plan_set_weight(&target(), &cart(67, 33, "0"), 33)
                .unwrap()
                .patches
                .is_empty()
        );
    }

    #[test]
    fn promote_moves_to_the_next_declared_step_pinned_to_step_and_weights() {
        let plan = plan_promote(&target(), &cart(90, 10, "0")).unwrap();
        let ops = ops(&plan);
        assert_eq!(
            ops[0],
            json!({"op": "test", "path": "/metadata/annotations/release-cockpit.io~1step", "value": "0"})
        );
        assert_eq!(ops[4]["value"], 25);
        assert_eq!(
            ops[5],
            json!({"op": "add", "path": "/metadata/annotations/release-cockpit.io~1step", "value": "1"})
        );
        assert_eq!(plan.summary, "promoted: step 0 → 1 (weight 25%)");
        let done = plan_promote(&target(), &cart(0, 100, "4")).unwrap();
        assert!(done.patches.is_empty(), "{}", done.summary);
    }

    #[test]
    fn abort_sets_the_canary_weight_to_zero_in_one_unpinned_request() {
        let plan = plan_abort(&target(), &cart(75, 25, "1"));
        assert_eq!(
            ops(&plan),
            vec![
                json!({"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 0}),
                json!({"op": "add", "path": "/metadata/annotations/release-cockpit.io~1aborted", "value": "true"}),
            ]
        );
    }
}
