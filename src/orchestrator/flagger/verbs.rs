//! What each verb sends for a Flagger canary, computed from the canary as read. Approve
//! and rollback open the load tester gate Flagger's webhook checks (a POST through the
//! service proxy), after a JSON Patch of `test` ops only that pins Flagger's phase and
//! canaryWeight as seen: if Flagger moved on, the API server refuses it and no gate opens.
//! Pause/resume and promote --full are Canary spec changes. Pure.

use crate::model::flagger::{FlaggerDetail, Webhook};
use crate::model::view::AUTO_STATUS_ANNOTATION;
use crate::model::{RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use serde_json::{Value, json};

/// The phases whose gates Flagger is waiting on (confirm-*) or whose rollback webhook it
/// calls (Progressing, Waiting, WaitingPromotion).
const ROLLBACK_PHASES: [&str; 3] = ["Progressing", "Waiting", "WaitingPromotion"];

fn plan_for(target: &RolloutRef, verb: Verb) -> Plan {
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.home = Subresource::Canary;
    plan
}

/// A JSON Patch of `test` ops on the phase and weight as read: changes nothing, refused
/// (422) when Flagger moved on. A JSON Patch on the main resource sees `.status`.
fn pin(canary: &FlaggerDetail) -> PlannedPatch {
    PlannedPatch {
        subresource: Subresource::Canary,
        body: PatchBody::Json(vec![
            json!({"op": "test", "path": "/status/phase", "value": canary.phase}),
            json!({"op": "test", "path": "/status/canaryWeight", "value": canary.canary_weight}),
        ]),
    }
}

/// The load tester `webhook` checks (its `/gate/check` or `/rollback/check`), as the proxy
/// step that opens it: `/gate/open` or `/rollback/open`, with Flagger's payload.
fn open_step(
    target: &RolloutRef,
    webhook: &Webhook,
    verb: Verb,
) -> Result<PlannedPatch, OrchestratorError> {
    let not_a_gate = |why: &str| OrchestratorError::NotApplicable {
        target: target.clone(),
        verb,
        reason: format!(
            "its {} webhook \"{}\" calls {}, {why}; point it at the Flagger load tester's {} \
             to drive it from here",
            webhook.kind,
            webhook.name,
            webhook.url,
            if webhook.kind == "rollback" {
                "/rollback/check"
            } else {
                "/gate/check"
            }
        ),
    };
    let rest = webhook
        .url
        .strip_prefix("http://")
        .ok_or_else(|| not_a_gate("not an http:// URL of a Service"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let open = match path {
        "gate/check" => "/gate/open",
        "rollback/check" => "/rollback/open",
        _ => return Err(not_a_gate("not a load tester gate the cockpit can open")),
    };
    let (host, port) = host.split_once(':').unwrap_or((host, "80"));
    let service = host.split('.').next().unwrap_or_default().to_string();
    // The window asks for the proxy permission in the same namespace (Webhook::service_namespace).
    let namespace = webhook.service_namespace(&target.namespace);
    Ok(PlannedPatch {
        subresource: Subresource::ServiceProxy {
            namespace,
            service,
            port: port.to_string(),
            path: open.to_string(),
        },
        body: PatchBody::Post(json!({"name": target.name, "namespace": target.namespace})),
    })
}

/// The webhook type to add so that `verb` can be sent, in words for the button and CLI.
fn missing(target: &RolloutRef, verb: Verb, kind: &str, what: &str) -> OrchestratorError {
    OrchestratorError::NotApplicable {
        target: target.clone(),
        verb,
        reason: format!(
            "its analysis has no {kind} webhook; add one of type {kind} with url \
             http://flagger-loadtester.{}/{what} to {verb} from here",
            target.namespace
        ),
    }
}

/// promote (Approve): open the gate Flagger waits on in this phase.
pub fn plan_promote(
    target: &RolloutRef,
    canary: &FlaggerDetail,
) -> Result<Plan, OrchestratorError> {
    let mut plan = plan_for(target, Verb::Promote);
    plan.weight = Some(canary.canary_weight);
    let Some(gate) = canary.waiting_gate() else {
        let needed = match canary.phase.as_str() {
            "Waiting" => "confirm-rollout",
            "WaitingPromotion" => "confirm-promotion",
            "Progressing" => "confirm-traffic-increase",
            phase => {
                plan.summary = format!("nothing to do: Flagger is {phase}, waiting on no gate");
                return Ok(plan);
            }
        };
        if canary.phase == "Progressing" && canary.webhook("confirm-promotion").is_some() {
            plan.summary = format!(
                "nothing to do: Flagger is Progressing (weight {}%); its confirm-promotion gate \
                 waits at the end of the analysis",
                canary.canary_weight
            );
            return Ok(plan);
        }
        return Err(missing(target, Verb::Promote, needed, "gate/check"));
    };
    plan.patches.push(pin(canary));
    plan.patches.push(open_step(target, gate, Verb::Promote)?);
    plan.summary = format!(
        "approved: opened {} gate \"{}\" at {} (weight {}%)",
        gate.kind, gate.name, canary.phase, canary.canary_weight
    );
    Ok(plan)
}

/// abort (Rollback): open the rollback gate Flagger's rollback webhook checks.
pub fn plan_abort(target: &RolloutRef, canary: &FlaggerDetail) -> Result<Plan, OrchestratorError> {
    let mut plan = plan_for(target, Verb::Abort);
    plan.weight = Some(0);
    let Some(hook) = canary.webhook("rollback") else {
        return Err(missing(target, Verb::Abort, "rollback", "rollback/check"));
    };
    if !ROLLBACK_PHASES.contains(&canary.phase.as_str()) {
        plan.summary = format!(
            "nothing to do: Flagger is {}; it calls its rollback webhook only while \
             Progressing or waiting for approval",
            canary.phase
        );
        return Ok(plan);
    }
    plan.patches.push(pin(canary));
    plan.patches.push(open_step(target, hook, Verb::Abort)?);
    plan.summary = format!(
        "rollback requested: opened rollback gate \"{}\" at {} (weight {}%); Flagger routes all \
         traffic to the primary and fails the canary",
        hook.name, canary.phase, canary.canary_weight
    );
    Ok(plan)
}

fn spec_merge(field: &str, value: Value) -> PlannedPatch {
    PlannedPatch {
        subresource: Subresource::Canary,
        body: PatchBody::Merge(json!({"spec": {field: value}})),
    }
}

pub fn plan_pause(target: &RolloutRef, canary: &FlaggerDetail) -> Plan {
    let mut plan = plan_for(target, Verb::Pause);
    if canary.suspended {
        plan.summary = "nothing to do: already suspended".into();
        return plan;
    }
    plan.patches.push(spec_merge("suspend", json!(true)));
    plan.summary = "paused: spec.suspend set, Flagger stops the analysis where it is".into();
    plan
}

pub fn plan_resume(target: &RolloutRef, canary: &FlaggerDetail) -> Plan {
    let mut plan = plan_for(target, Verb::Resume);
    if !canary.suspended {
        plan.summary = "nothing to do: not suspended".into();
        return plan;
    }
    plan.patches.push(spec_merge("suspend", json!(false)));
    plan.summary = "resumed: spec.suspend cleared".into();
    plan
}

/// promote --full: `spec.skipAnalysis: true`, pinned to the phase and weight as seen.
pub fn plan_promote_full(target: &RolloutRef, canary: &FlaggerDetail) -> Plan {
    let mut plan = plan_for(target, Verb::PromoteFull);
    if canary.skip_analysis {
        plan.summary = "nothing to do: spec.skipAnalysis is already set".into();
        return plan;
    }
    let PlannedPatch { body, .. } = pin(canary);
    let PatchBody::Json(mut ops) = body else {
        return plan;
    };
    ops.push(json!({"op": "add", "path": "/spec/skipAnalysis", "value": true}));
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Canary,
        body: PatchBody::Json(ops),
    });
    plan.weight = Some(100);
    plan.summary = format!(
        "promote full: spec.skipAnalysis set at {} (weight {}%); Flagger promotes without \
         further checks",
        canary.phase, canary.canary_weight
    );
    plan
}

pub fn plan_auto_status(target: &RolloutRef, text: &str) -> Plan {
    let mut plan = plan_for(target, Verb::AutoStatus);
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Canary,
        body: PatchBody::Merge(
            json!({"metadata": {"annotations": {AUTO_STATUS_ANNOTATION: text}}}),
        ),
    });
    plan.summary = format!("auto status: {text}");
    plan
}

/// Why `verb` does not apply to a Flagger canary.
pub fn not_applicable(target: &RolloutRef, verb: Verb) -> OrchestratorError {
    let reason = match verb {
        Verb::SetWeight => {
            "Flagger has no manual weight: it moves canaryWeight itself, by stepWeight(s) each \
             analysis interval; approve (confirm-traffic-increase) or roll back instead"
        }
        Verb::Retry => {
            "Flagger retries a failed canary when its target Deployment changes (a new \
             revision); change the Deployment to start again"
        }
        Verb::Undo | Verb::Restart => {
            "Flagger owns the primary Deployment; change the target Deployment instead and \
             Flagger analyses it as a new revision"
        }
        _ => "not a verb of Flagger canaries",
    };
    OrchestratorError::NotApplicable {
        target: target.clone(),
        verb,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
#[path = "verbs_tests.rs"]
mod tests;
