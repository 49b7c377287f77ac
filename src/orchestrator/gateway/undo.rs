//! undo for a weighted release: the stable Deployment goes back to its previous ReplicaSet's
//! pod template (as `kubectl rollout undo deployment`), pinned to the Deployment's
//! resourceVersion as read so a change made meanwhile is refused. Pure.

use crate::cluster::{DEPLOYMENT_HASH_LABEL, deployment_revision};
use crate::model::gateway::WeightedRoute;
use crate::model::{RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use serde_json::{Value, json};

/// `deployment` (the release's stable one) back to the template of the ReplicaSet before
/// its newest.
pub fn plan_undo(
    target: &RolloutRef,
    route: &WeightedRoute,
    deployment: &Deployment,
    replica_sets: &[ReplicaSet],
) -> Result<Plan, OrchestratorError> {
    let verb = Verb::Undo;
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let mut revisions: Vec<&ReplicaSet> = replica_sets.iter().collect();
    revisions.sort_by_key(|rs| std::cmp::Reverse(deployment_revision(rs)));
    let [current, previous, ..] = revisions[..] else {
        return Err(OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason: format!("its stable Deployment {name} has no earlier ReplicaSet to go back to"),
        });
    };
    let mut template = serde_json::to_value(previous.spec.template.clone().unwrap_or_default())
        .unwrap_or(Value::Null);
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(DEPLOYMENT_HASH_LABEL);
    }
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.home = Subresource::Route(route.route.clone());
    let hash = |rs: &ReplicaSet| {
        rs.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(DEPLOYMENT_HASH_LABEL))
            .cloned()
            .unwrap_or_default()
    };
    let ops = vec![
        json!({"op": "test", "path": "/metadata/resourceVersion",
            "value": deployment.metadata.resource_version.clone().unwrap_or_default()}),
        json!({"op": "replace", "path": "/spec/template", "value": template}),
    ];
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Deployment(name.clone()),
        body: PatchBody::Json(ops),
    });
    plan.summary = format!(
        "rolled back: Deployment {name} back to revision {} (pod hash {}, was {})",
        deployment_revision(previous),
        hash(previous),
        hash(current)
    );
    Ok(plan)
}
