//! Planning per provider: `plan_action` hands the verb to the provider that moves the
//! release's traffic (`argo/`, beside it `gateway/`), which reads what it needs and computes
//! the [`Plan`]. Only [`super::execute_with`] calls it, so every change passes the one door
//! and its shared guards, journal and audit.

use super::OrchestratorError;
use super::argo;
use super::plan::Plan;
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
    }
}
