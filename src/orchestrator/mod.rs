//! The orchestration API: one async function per verb, shared by CLI, GUI and `auto`.
//! Every command passes through [`execute`]; verbs compute a [`Plan`] (what to send) from
//! the rollout as read, and [`send`] is the only code that writes to the cluster.

mod argo;
mod error;
mod plan;
mod undo;
mod verbs;

pub use argo::{
    plan_abort, plan_pause, plan_promote, plan_restart, plan_resume, plan_retry, plan_set_weight,
};
pub use error::OrchestratorError;
pub use plan::{FIELD_MANAGER, PatchBody, Plan, PlannedPatch, Subresource, send};
pub use undo::plan_undo;
pub use verbs::{abort, pause, plan_action, promote, restart, resume, retry, set_weight, undo};

use crate::model::{Command, Outcome};

/// Runs one command: the single choke point for every change the cockpit makes, whoever
/// asks (window, CLI, `auto`). Reads what the verb needs, computes the plan, sends it.
///
/// Trust and audit (issue 6) hook in here and only here: the read-only guard and the
/// permission check before `plan_action`, the journal's intent line before `send`, the
/// `release-cockpit.io/last-action` annotation added to `plan.patches`, and the Event and
/// journal outcome line after `send`.
pub async fn execute(
    client: &kube::Client,
    command: &Command,
) -> Result<Outcome, OrchestratorError> {
    let plan = plan_action(client, &command.target, &command.action).await?;
    send(client, &plan).await
}
