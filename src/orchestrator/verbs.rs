//! What each verb reads before it can say what it will send: `plan_action` reads the
//! rollout (and undo its ReplicaSets) and computes the [`Plan`] (`argo.rs`, `undo.rs`).
//! Only [`super::execute_with`] calls it, so every change passes the one door.

use super::OrchestratorError;
use super::argo;
use super::plan::Plan;
use super::undo::plan_undo;
use crate::cluster::{fetch_rollout, rollout_replica_sets};
use crate::model::{Action, RolloutRef};

/// Reads what `action` needs from the cluster and computes what it will send. promote,
/// promote --full, set-weight and undo read the rollout and pin to the caller's pin (or to
/// what they read); undo also lists its ReplicaSets; the other verbs read nothing.
pub(crate) async fn plan_action(
    client: &kube::Client,
    target: &RolloutRef,
    action: &Action,
) -> Result<Plan, OrchestratorError> {
    Ok(match action {
        Action::Promote { pin } => {
            let ro = fetch_rollout(client, target).await?;
            argo::plan_promote(target, &ro, pin.as_ref(), false)?
        }
        Action::PromoteFull { pin } => {
            let ro = fetch_rollout(client, target).await?;
            argo::plan_promote(target, &ro, pin.as_ref(), true)?
        }
        Action::Abort { pin } => argo::plan_abort(target, pin.as_ref()),
        Action::Retry => argo::plan_retry(target),
        Action::Pause => argo::plan_pause(target),
        Action::Resume => argo::plan_resume(target),
        Action::Restart => argo::plan_restart(target, jiff::Timestamp::now()),
        Action::Undo {
            to_revision,
            pin,
            to_hash,
        } => {
            let ro = fetch_rollout(client, target).await?;
            let replica_sets = rollout_replica_sets(client, target, &ro).await?;
            plan_undo(
                target,
                &ro,
                &replica_sets,
                *to_revision,
                pin.as_ref(),
                to_hash.as_deref(),
            )?
        }
        Action::SetWeight { weight, pin } => {
            if !(0..=100).contains(weight) {
                return Err(OrchestratorError::WeightOutOfRange { weight: *weight });
            }
            let ro = fetch_rollout(client, target).await?;
            argo::plan_set_weight(target, &ro, *weight, pin.as_ref())?
        }
        Action::AutoStatus { text } => argo::plan_auto_status(target, text),
    })
}
