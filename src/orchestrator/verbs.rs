//! Planning per provider: `plan_action` hands the verb to the provider that moves the
//! release's traffic (`argo/`, beside it `gateway/`), which reads what it needs and computes
//! the [`Plan`]. Only [`super::execute_with`] calls it, so every change passes the one door
//! and its shared guards, journal and audit.

use super::OrchestratorError;
use super::plan::Plan;
use super::{argo, flagger, gateway};
use crate::cluster::ClusterError;
use crate::model::{Action, Provider, RolloutRef};

/// Reads what `action` needs from the cluster and computes what it will send, by the
/// release's provider.
pub(crate) async fn plan_action(
    client: &kube::Client,
    target: &RolloutRef,
    action: &Action,
) -> Result<Plan, OrchestratorError> {
    match target.provider {
        Provider::Argo => argo::plan_action(client, target, action).await,
        Provider::Gateway => gateway::plan_action(client, target, action).await,
        Provider::Flagger => flagger::plan_action(client, target, action).await,
    }
}

/// Which provider's release `target` names: an Argo rollout of that name, else the HTTPRoute
/// annotated `release-cockpit.io/release: NAME` (a weighted release), else a Flagger Canary
/// of that name. The CLI asks this before sending a verb by name; the window knows it from
/// what it lists.
pub async fn resolve(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RolloutRef, OrchestratorError> {
    let argo = RolloutRef {
        provider: Provider::Argo,
        ..target.clone()
    };
    match crate::cluster::fetch_rollout(client, &argo).await {
        Ok(_) => Ok(argo),
        Err(
            argo_err @ (ClusterError::RolloutNotFound { .. }
            | ClusterError::ArgoNotInstalled { .. }),
        ) => {
            let weighted = RolloutRef {
                provider: Provider::Gateway,
                ..target.clone()
            };
            match gateway::read_release(client, &weighted).await {
                Ok(_) => return Ok(weighted),
                // No Gateway API in this cluster (404 on httproutes): look further.
                Err(OrchestratorError::NotFound { .. } | OrchestratorError::Cluster(_)) => {}
                Err(other) => return Err(other),
            }
            let canary = RolloutRef {
                provider: Provider::Flagger,
                ..target.clone()
            };
            match crate::cluster::get_canary(client, &canary).await {
                Ok(_) => Ok(canary),
                // No such canary (or no Flagger in this cluster): the rollout is missing.
                Err(ClusterError::RolloutNotFound { .. }) => Err(argo_err.into()),
                Err(other) => Err(other.into()),
            }
        }
        Err(other) => Err(other.into()),
    }
}
