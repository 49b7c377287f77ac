//! The Gateway API provider: a weighted release is an annotated HTTPRoute (see
//! [`crate::model::gateway`]) and the cockpit is its controller. Here: finding the release's
//! route and what each verb sends to it (`verbs.rs`, pure). The door sends the plan with
//! the guards, journal and audit every provider shares.

mod promote_full;
mod undo;
mod verbs;

pub use promote_full::{
    STAGES, plan_promote_full, promoted_template, rolled_out, rollout_words, stage_words,
};
pub use undo::plan_undo;

pub use verbs::{plan_abort, plan_pause, plan_promote, plan_resume, plan_set_weight};

use super::OrchestratorError;
use super::plan::{Plan, http_route_resource};
use crate::cluster::Attempt;
use crate::model::gateway::{RELEASE_ANNOTATION, WeightedRoute};
use crate::model::{Action, Pin, RolloutRef, Verb};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, DynamicObject, ListParams};

/// Reads the release's route and computes what `action` sends.
pub(crate) async fn plan_action(
    client: &kube::Client,
    target: &RolloutRef,
    action: &Action,
) -> Result<Plan, OrchestratorError> {
    if let Action::SetWeight { weight, .. } = action
        && !(0..=100).contains(weight)
    {
        return Err(OrchestratorError::WeightOutOfRange { weight: *weight });
    }
    let route = read_release(client, target).await?;
    // A caller's pin names the step it saw (the window's, auto's): a release that moved on
    // since is refused before sending. Its pod hash is not checked here: the weights' own
    // `test` ops pin what a weight change applies to.
    if let Some(seen) = action.pin()
        && seen.step.is_some_and(|step| step != route.step)
    {
        return Err(OrchestratorError::MovedOn {
            target: target.clone(),
            verb: action.verb(),
            seen: Box::new(Pin {
                pod_hash: None,
                ..seen.clone()
            }),
            now: Box::new(Pin {
                step: Some(route.step),
                ..Pin::default()
            }),
        });
    }
    let not_yet = |verb: Verb| OrchestratorError::NotApplicable {
        target: target.clone(),
        verb,
        reason: format!(
            "{verb} is not available for weighted (Gateway API) releases in this version; \
             set-weight, promote, promote --full, abort, pause, resume and undo are"
        ),
    };
    match action {
        Action::SetWeight { weight, .. } => plan_set_weight(target, &route, *weight),
        Action::Promote { .. } => plan_promote(target, &route),
        Action::Abort { .. } => Ok(plan_abort(target, &route)),
        Action::Pause => Ok(plan_pause(target, &route)),
        Action::Resume => Ok(plan_resume(target, &route)),
        Action::AutoStatus { text } => Ok(verbs::plan_auto_status(target, &route, text)),
        Action::PromoteFull { .. } => {
            let (stable, canary) = tokio::try_join!(
                behind(
                    client,
                    target,
                    Verb::PromoteFull,
                    &route.stable.service,
                    "stable"
                ),
                behind(
                    client,
                    target,
                    Verb::PromoteFull,
                    &route.canary.service,
                    "canary"
                ),
            )?;
            plan_promote_full(target, &route, &stable.0, &canary.0)
        }
        Action::Undo { .. } => {
            let (deployment, replica_sets) =
                behind(client, target, Verb::Undo, &route.stable.service, "stable").await?;
            plan_undo(target, &route, &deployment, &replica_sets)
        }
        other => Err(not_yet(other.verb())),
    }
}

/// The Deployment (and its ReplicaSets) behind the release's `role` Service `service`.
async fn behind(
    client: &kube::Client,
    target: &RolloutRef,
    verb: Verb,
    service: &str,
    role: &str,
) -> Result<(Deployment, Vec<ReplicaSet>), OrchestratorError> {
    crate::cluster::release_deployment(client, target, service)
        .await?
        .ok_or_else(|| OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason: format!("no Deployment matches the selector of its {role} Service {service}"),
        })
}

/// The HTTPRoute in the target's namespace annotated `release-cockpit.io/release: NAME`.
pub async fn read_release(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<WeightedRoute, OrchestratorError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &http_route_resource());
    let routes = api.list(&ListParams::default()).await.map_err(|e| {
        OrchestratorError::Cluster(
            Attempt {
                context: &target.context,
                namespace: Some(&target.namespace),
                name: None,
                action: "list httproutes",
            }
            .error(e),
        )
    })?;
    let found = routes.items.iter().find(|r| {
        r.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(RELEASE_ANNOTATION))
            .is_some_and(|name| name.trim() == target.name)
    });
    let Some(route) = found else {
        return Err(OrchestratorError::NotFound {
            target: target.clone(),
        });
    };
    let value = serde_json::to_value(route).map_err(|e| OrchestratorError::NotApplicable {
        target: target.clone(),
        verb: Verb::SetWeight,
        reason: e.to_string(),
    })?;
    WeightedRoute::from_route(&value).map_err(|reason| OrchestratorError::NotApplicable {
        target: target.clone(),
        verb: Verb::SetWeight,
        reason,
    })
}

/// After the API server refused a pinned weight change (a `test` op failed): the weights
/// as seen against those there now.
pub(crate) async fn weights_changed(client: &kube::Client, plan: &Plan) -> OrchestratorError {
    let now = match read_release(client, &plan.target).await {
        Ok(route) => route,
        Err(e) => return e,
    };
    let seen = plan
        .seen_weights
        .unwrap_or((now.stable.weight, now.canary.weight));
    OrchestratorError::WeightsChanged {
        target: plan.target.clone(),
        verb: plan.verb,
        seen,
        now: (now.stable.weight, now.canary.weight),
    }
}

/// The demo's `cart` release as the verbs' tests read it.
#[cfg(test)]
mod fixtures {
    use crate::model::gateway::WeightedRoute;
    use crate::model::{Provider, RolloutRef};
    use serde_json::json;

    pub fn cart(stable: i32, canary: i32, step: &str) -> WeightedRoute {
        WeightedRoute::from_route(&json!({
            "metadata": {"name": "cart", "annotations": {
                "release-cockpit.io/release": "cart", "release-cockpit.io/steps": "10,25,50,100",
                "release-cockpit.io/step": step}},
            "spec": {"rules": [{"backendRefs": [
                {"name": "cart-stable", "weight": stable}, {"name": "cart-canary", "weight": canary}]}]}
        }))
        .unwrap()
    }

    pub fn target() -> RolloutRef {
        RolloutRef {
            provider: Provider::Gateway,
            ..RolloutRef::new("lab", "demo", "cart")
        }
    }
}
