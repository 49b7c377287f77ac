//! One async function per verb: read what the verb needs, compute its plan (`argo.rs`),
//! send it (`plan::send`). `plan_action` is the read-and-compute half that `execute` uses.

use super::OrchestratorError;
use super::argo;
use super::plan::{Plan, send};
use super::undo::plan_undo;
use crate::cluster::{fetch_rollout, rollout_replica_sets};
use crate::model::{Action, Outcome, RolloutRef, StepPin};

/// Reads what `action` needs from the cluster and computes what it will send.
/// promote and set-weight read the rollout (and pin to `pin`, or to what they read);
/// undo also lists its ReplicaSets; the other verbs read nothing.
pub async fn plan_action(
    client: &kube::Client,
    target: &RolloutRef,
    action: &Action,
) -> Result<Plan, OrchestratorError> {
    Ok(match action {
        Action::Promote { pin } => {
            let ro = fetch_rollout(client, target).await?;
            argo::plan_promote(target, &ro, pin.as_ref(), false)?
        }
        Action::PromoteFull => {
            let ro = fetch_rollout(client, target).await?;
            argo::plan_promote(target, &ro, None, true)?
        }
        Action::Abort => argo::plan_abort(target),
        Action::Retry => argo::plan_retry(target),
        Action::Pause => argo::plan_pause(target),
        Action::Resume => argo::plan_resume(target),
        Action::Restart => argo::plan_restart(target, jiff::Timestamp::now()),
        Action::Undo { to_revision } => {
            let ro = fetch_rollout(client, target).await?;
            let replica_sets = rollout_replica_sets(client, target, &ro).await?;
            plan_undo(target, &ro, &replica_sets, *to_revision)?
        }
        Action::SetWeight { weight, pin } => {
            if !(0..=100).contains(weight) {
                return Err(OrchestratorError::WeightOutOfRange { weight: *weight });
            }
            let ro = fetch_rollout(client, target).await?;
            argo::plan_set_weight(target, &ro, *weight, pin.as_ref())?
        }
    })
}

async fn run(
    client: &kube::Client,
    target: &RolloutRef,
    action: Action,
) -> Result<Outcome, OrchestratorError> {
    let plan = plan_action(client, target, &action).await?;
    send(client, &plan).await
}

/// Promote: past the current pause or step (`full`: past every remaining step). Applies
/// only to `pin` (the step the caller saw); `None` pins to the step read just before.
pub async fn promote(
    client: &kube::Client,
    target: &RolloutRef,
    pin: Option<StepPin>,
    full: bool,
) -> Result<Outcome, OrchestratorError> {
    let plan = if full {
        let ro = fetch_rollout(client, target).await?;
        argo::plan_promote(target, &ro, pin.as_ref(), true)?
    } else {
        plan_action(client, target, &Action::Promote { pin }).await?
    };
    send(client, &plan).await
}

/// Abort: all traffic back to stable.
pub async fn abort(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Abort).await
}

/// Retry an aborted update.
pub async fn retry(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Retry).await
}

/// Pause by hand (`spec.paused`).
pub async fn pause(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Pause).await
}

/// Resume: clear the manual pause and any pause condition.
pub async fn resume(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Resume).await
}

/// Restart: replace every pod (`spec.restartAt` now).
pub async fn restart(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Restart).await
}

/// Undo: back to `to_revision`'s pod template (the previous revision with `None`).
pub async fn undo(
    client: &kube::Client,
    target: &RolloutRef,
    to_revision: Option<i64>,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::Undo { to_revision }).await
}

/// Move the canary to the step that declares `weight`, pinned like promote.
pub async fn set_weight(
    client: &kube::Client,
    target: &RolloutRef,
    weight: i32,
    pin: Option<StepPin>,
) -> Result<Outcome, OrchestratorError> {
    run(client, target, Action::SetWeight { weight, pin }).await
}
