//! The Flagger provider: Flagger moves the traffic of a `flagger.app` Canary; the cockpit
//! opens the load tester gates its webhooks check and changes the Canary's spec. Here:
//! reading the canary and dispatching each verb to its plan (`verbs.rs`, pure). The door
//! sends the plan with the guards, journal and audit every provider shares.

mod verbs;

pub use verbs::{plan_abort, plan_pause, plan_promote, plan_promote_full, plan_resume};

use super::OrchestratorError;
use super::plan::Plan;
use crate::model::flagger::FlaggerDetail;
use crate::model::{Action, Pin, RolloutRef, RolloutView, Verb};

/// Reads the canary and computes what `action` sends.
pub(crate) async fn plan_action(
    client: &kube::Client,
    target: &RolloutRef,
    action: &Action,
) -> Result<Plan, OrchestratorError> {
    let (view, canary) = read_canary(client, target).await?;
    // A caller's pin names the step it saw (the window's, auto's): a canary that moved on
    // since is refused before sending.
    if let Some(seen) = action.pin()
        && seen.step.is_some()
        && seen.step != view.current_step
    {
        return Err(OrchestratorError::MovedOn {
            target: target.clone(),
            verb: action.verb(),
            seen: Box::new(Pin {
                pod_hash: None,
                ..seen.clone()
            }),
            now: Box::new(Pin {
                step: view.current_step,
                ..Pin::default()
            }),
        });
    }
    match action {
        Action::Promote { .. } => plan_promote(target, &canary),
        Action::PromoteFull { .. } => Ok(plan_promote_full(target, &canary)),
        Action::Abort { .. } => plan_abort(target, &canary),
        Action::Pause => Ok(plan_pause(target, &canary)),
        Action::Resume => Ok(plan_resume(target, &canary)),
        Action::AutoStatus { text } => Ok(verbs::plan_auto_status(target, text)),
        other => Err(verbs::not_applicable(target, other.verb())),
    }
}

/// The canary `target` names, as a view and Flagger's own detail.
pub async fn read_canary(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<(RolloutView, FlaggerDetail), OrchestratorError> {
    let view = crate::cluster::get_canary(client, target)
        .await
        .map_err(|e| match e {
            crate::cluster::ClusterError::RolloutNotFound { .. } => OrchestratorError::NotFound {
                target: target.clone(),
            },
            other => OrchestratorError::Cluster(other),
        })?;
    let detail = view
        .flagger
        .clone()
        .ok_or_else(|| OrchestratorError::NotFound {
            target: target.clone(),
        })?;
    Ok((view, detail))
}

/// After a refused pinned patch: Flagger moved on from the phase and weight the plan saw.
pub(crate) async fn moved_on(client: &kube::Client, plan: &Plan) -> OrchestratorError {
    match read_canary(client, &plan.target).await {
        Ok((view, detail)) => OrchestratorError::NotApplicable {
            target: plan.target.clone(),
            verb: plan.verb,
            reason: format!(
                "Flagger moved on: it is now {} at weight {}% (step {}); nothing was sent to the \
                 load tester. Look at it again and decide on what is there now",
                detail.phase,
                detail.canary_weight,
                view.step_label()
            ),
        },
        Err(e) => e,
    }
}

/// Whether `verb` applies to Flagger canaries at all (set-weight, retry, restart and undo
/// do not: Flagger owns those).
pub fn supports(verb: Verb) -> bool {
    !matches!(
        verb,
        Verb::SetWeight | Verb::Retry | Verb::Restart | Verb::Undo
    )
}
