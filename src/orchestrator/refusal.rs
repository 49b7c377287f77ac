//! Why a plan's request failed, in words a person can act on: refused by RBAC, gone, in
//! conflict, moved on (a pinned request refused with 422, the release re-read to say where
//! it is now), or cut off mid-request (the outcome unknown, the release re-read).

use super::OrchestratorError;
use super::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use crate::cluster::{Attempt, ClusterError, fetch_rollout};
use crate::model::{Pin, Provider, Verb};

/// Turns a failed patch into the error a person can act on.
pub(super) async fn refused(
    client: &kube::Client,
    plan: &Plan,
    patch: &PlannedPatch,
    err: kube::Error,
) -> OrchestratorError {
    let target = plan.target.clone();
    let verb = plan.verb;
    let kube::Error::Api(status) = err else {
        if never_sent(&err) {
            return OrchestratorError::Cluster(attempt(plan, patch).error(err));
        }
        return unknown_outcome(client, plan, err).await;
    };
    // A Deployment's patch is pinned to its resourceVersion, not to the weights.
    if let (422, Subresource::Deployment(name)) = (status.code, &patch.subresource)
        && is_pinned(&patch.body)
    {
        return OrchestratorError::NotApplicable {
            target,
            verb,
            reason: format!(
                "Deployment {name} changed after it was read (its resourceVersion moved on), so \
                 the change to it was refused and nothing was changed there; look at it, then \
                 run {} again",
                verb.command_words()
            ),
        };
    }
    match status.code {
        403 => OrchestratorError::Forbidden {
            target,
            verb,
            message: status.message.clone(),
        },
        404 => match attempt(plan, patch).error(kube::Error::Api(status)) {
            ClusterError::RolloutNotFound { .. } => OrchestratorError::NotFound { target },
            other => OrchestratorError::Cluster(other),
        },
        409 => OrchestratorError::Conflict {
            target,
            verb,
            message: status.message.clone(),
        },
        422 if is_pinned(&patch.body) && plan.target.provider == Provider::Gateway => {
            super::gateway::weights_changed(client, plan).await
        }
        422 if is_pinned(&patch.body) && plan.target.provider == Provider::Flagger => {
            super::flagger::moved_on(client, plan).await
        }
        422 if is_pinned(&patch.body) => match &plan.pin {
            Some(pin) => moved_on_or_changed(client, plan, pin).await,
            None => OrchestratorError::Invalid {
                target,
                verb,
                message: status.message.clone(),
            },
        },
        422 => OrchestratorError::Invalid {
            target,
            verb,
            message: status.message.clone(),
        },
        _ => OrchestratorError::Cluster(attempt(plan, patch).error(kube::Error::Api(status))),
    }
}

/// True when the request cannot have reached the API server: it could not be built, or the
/// connection was never made. Anything else may have been applied.
fn never_sent(err: &kube::Error) -> bool {
    match err {
        kube::Error::SerdeError(_)
        | kube::Error::BuildRequest(_)
        | kube::Error::HttpError(_)
        | kube::Error::Auth(_)
        | kube::Error::InferConfig(_)
        | kube::Error::InferKubeconfig(_) => true,
        other => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(other);
            while let Some(e) = source {
                if e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
                    // hyper-util's connector failing, before any byte of the request left.
                    || e.to_string().contains("client error (Connect)")
                {
                    return true;
                }
                source = e.source();
            }
            false
        }
    }
}

/// The connection failed mid-request: re-read the rollout and say where it is, without
/// sending anything again.
async fn unknown_outcome(
    client: &kube::Client,
    plan: &Plan,
    err: kube::Error,
) -> OrchestratorError {
    let reread = match plan.target.provider {
        Provider::Argo => fetch_rollout(client, &plan.target)
            .await
            .map(|ro| ro.status.and_then(|s| s.current_step_index))
            .map_err(|e| e.to_string()),
        Provider::Gateway => super::gateway::read_release(client, &plan.target)
            .await
            .map(|route| Some(route.step))
            .map_err(|e| e.to_string()),
        Provider::Flagger => crate::cluster::get_canary(client, &plan.target)
            .await
            .map(|view| view.current_step)
            .map_err(|e| e.to_string()),
    };
    let (step, reread_error) = match reread {
        Ok(step) => (step, None),
        Err(e) => (None, Some(e)),
    };
    OrchestratorError::UnknownOutcome {
        target: plan.target.clone(),
        verb: plan.verb,
        step,
        detail: super::error::unknown_detail(
            step,
            reread_error.as_deref(),
            &crate::cluster::chain(&err),
        ),
    }
}

/// After a refused pinned patch: where is the rollout now?
async fn moved_on_or_changed(client: &kube::Client, plan: &Plan, pin: &Pin) -> OrchestratorError {
    let rollout = match fetch_rollout(client, &plan.target).await {
        Ok(ro) => ro,
        Err(e) => return OrchestratorError::Cluster(e),
    };
    let now = Pin::of_rollout(&rollout);
    if !pin.holds_in(&now) {
        return OrchestratorError::MovedOn {
            target: plan.target.clone(),
            verb: plan.verb,
            seen: Box::new(pin.clone()),
            now: Box::new(now),
        };
    }
    if plan.verb == Verb::Promote && super::argo::verbs::pause_already_lifted(&rollout) {
        // Another promote of the same pause step won: its pause is gone, ours failed.
        return OrchestratorError::AlreadyPromoted {
            target: plan.target.clone(),
            step: now.step.unwrap_or(0),
        };
    }
    OrchestratorError::ChangedMeanwhile {
        target: plan.target.clone(),
        verb: plan.verb,
        step: now.step,
    }
}

fn is_pinned(body: &PatchBody) -> bool {
    matches!(body, PatchBody::Json(ops) if ops.iter().any(|op| op["op"] == "test"))
}

fn attempt<'a>(plan: &'a Plan, patch: &PlannedPatch) -> Attempt<'a> {
    Attempt {
        context: &plan.target.context,
        namespace: Some(&plan.target.namespace),
        name: Some(&plan.target.name),
        action: match patch.subresource {
            Subresource::Main => "patch rollouts",
            Subresource::Status => "patch rollouts/status",
            Subresource::Route(_) => "patch httproutes",
            Subresource::Deployment(_) => "patch deployments",
            Subresource::Canary => "patch canaries.flagger.app",
            Subresource::ServiceProxy { .. } => "create services/proxy",
        },
    }
}
