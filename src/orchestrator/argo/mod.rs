//! The Argo Rollouts provider: what each verb reads of an `argoproj.io` Rollout (and undo of
//! its ReplicaSets) and the plan it computes from that (`verbs.rs`, `undo.rs`). The door
//! ([`super::execute_with`]) sends the plan with the guards, journal and audit every provider
//! shares.

mod undo;
pub(crate) mod verbs;

pub use undo::plan_undo;
pub use verbs::{
    plan_abort, plan_auto_status, plan_pause, plan_promote, plan_restart, plan_resume, plan_retry,
    plan_set_weight,
};

use super::OrchestratorError;
use super::plan::Plan;
use crate::cluster::{fetch_rollout, rollout_replica_sets};
use crate::model::{Action, RolloutRef};

/// Reads what `action` needs of the rollout and computes what it will send. promote,
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
            plan_promote(target, &ro, pin.as_ref(), false)?
        }
        Action::PromoteFull { pin } => {
            let ro = fetch_rollout(client, target).await?;
            plan_promote(target, &ro, pin.as_ref(), true)?
        }
        Action::Abort { pin } => plan_abort(target, pin.as_ref()),
        Action::Retry => plan_retry(target),
        Action::Pause => plan_pause(target),
        Action::Resume => plan_resume(target),
        Action::Restart => plan_restart(target, jiff::Timestamp::now()),
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
            plan_set_weight(target, &ro, *weight, pin.as_ref())?
        }
        Action::AutoStatus { text } => plan_auto_status(target, text),
    })
}
