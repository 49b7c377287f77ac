//! [`execute`]: the single choke point for every change, whoever asks. In order: the
//! read-only and comment guards (no network), who the user is, the plan, the permission
//! check, the journal's intent (fsynced), the change with its last-action annotation, the
//! audit Event, the journal's outcome.

use super::OrchestratorError;
use super::access::{Access, Decision, Permission, review};
use super::audit::{LastAction, annotate, audit_event, record_event};
use super::identity::{Identity, whoami};
use super::journal::{self, CommandResult, Completion, Entry, Intent, Journal};
use super::plan::{Plan, Subresource, send_plan};
use super::verbs::plan_action;
use crate::model::{Command, Outcome};

/// How a caller wants commands run: the settings and what it already knows.
#[derive(Clone, Debug, Default)]
pub struct ExecuteOptions {
    /// Refuse every command before any request (`--read-only`, or the setting).
    pub read_only: bool,
    /// Refuse commands without a comment (the setting), before any request.
    pub require_comment: bool,
    /// Where to journal; `None` is the user's journal ([`Journal::default_location`]).
    pub journal: Option<Journal>,
    /// Who the user is, when the caller already asked; `None` asks ([`whoami`]).
    pub identity: Option<Identity>,
    /// What the user may do, when the caller already asked (e.g. from its
    /// [`super::AccessCache`]); `None` asks for the permissions this command needs.
    pub access: Option<Access>,
}

/// What [`execute_with`] did, with the audit details the CLI and window show.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed {
    pub outcome: Outcome,
    /// The command's id in the journal.
    pub id: String,
    pub identity: Identity,
    /// Audit steps that failed after the change was made (e.g. the Event could not be
    /// created); the change itself stands.
    pub warnings: Vec<String>,
}

/// Runs one command with the default options: the user's journal, no read-only, no
/// required comment, identity and permissions asked of the cluster. The window and the CLI
/// call this or [`execute_with`].
pub async fn execute(
    client: &kube::Client,
    command: &Command,
) -> Result<Outcome, OrchestratorError> {
    execute_with(client, command, &ExecuteOptions::default())
        .await
        .map(|done| done.outcome)
}

/// Runs one command (see the module doc for the order of its steps).
pub async fn execute_with(
    client: &kube::Client,
    command: &Command,
    options: &ExecuteOptions,
) -> Result<Executed, OrchestratorError> {
    let target = &command.target;
    let verb = command.action.verb();
    if options.read_only {
        return Err(OrchestratorError::ReadOnly {
            target: target.clone(),
            verb,
        });
    }
    let comment = command
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if options.require_comment && comment.is_none() {
        return Err(OrchestratorError::CommentRequired {
            target: target.clone(),
            verb,
        });
    }
    let journal = match &options.journal {
        Some(j) => j.clone(),
        None => Journal::default_location()?,
    };
    let identity = match &options.identity {
        Some(i) => i.clone(),
        None => whoami(client, &target.context).await?,
    };
    let mut record = Record {
        journal: &journal,
        id: journal::new_id(jiff::Timestamp::now()),
        identity: &identity,
        command,
        comment,
    };

    let plan = match plan_action(client, target, &command.action).await {
        Ok(plan) => plan,
        Err(err) => return Err(record.refused_before_sending(None, err)),
    };
    if let Some(permission) = missing_permission(client, &plan, options.access.as_ref()).await? {
        let err = OrchestratorError::NotPermitted {
            target: target.clone(),
            verb,
            user: identity.user.clone(),
            permission,
        };
        return Err(record.refused_before_sending(Some(&plan), err));
    }

    record.intent(&plan)?;
    let action = LastAction::of(&plan, &identity, comment, command.tool);
    let (outcome, rollout) = match send_plan(client, &annotate(&plan, &action)).await {
        Ok(sent) => sent,
        Err(err) => return Err(record.failed(err)),
    };
    let mut warnings = Vec::new();
    if outcome.changed {
        match rollout {
            Some(rollout) => {
                let event = audit_event(&rollout, &outcome.summary, &action);
                if let Err(e) = record_event(client, target, &event).await {
                    warnings.push(format!("the audit Event was not recorded: {e}"));
                }
            }
            None => {
                warnings.push("the audit Event was not recorded: no rollout in the answer".into())
            }
        }
    }
    let mut message = outcome.summary.clone();
    for w in &warnings {
        message.push_str("; ");
        message.push_str(w);
    }
    if let Err(e) = record.outcome(CommandResult::Done, outcome.to_step, &outcome, message) {
        warnings.push(format!("the journal's outcome line was not written: {e}"));
    }
    Ok(Executed {
        outcome,
        id: record.id,
        identity,
        warnings,
    })
}

/// The permissions a plan needs, in the order it sends: its endpoints, then `patch rollouts`
/// for the last-action annotation. Creating the Event is not required: without it the
/// change is still made (and the missing Event reported).
pub fn needed_permissions(plan: &Plan) -> Vec<Permission> {
    let mut needed = Vec::new();
    for patch in &plan.patches {
        let permission = match patch.subresource {
            Subresource::Main => Permission::PatchRollouts,
            Subresource::Status => Permission::PatchRolloutStatus,
        };
        if !needed.contains(&permission) {
            needed.push(permission);
        }
    }
    if !needed.is_empty() && !needed.contains(&Permission::PatchRollouts) {
        needed.push(Permission::PatchRollouts);
    }
    needed
}

async fn missing_permission(
    client: &kube::Client,
    plan: &Plan,
    known: Option<&Access>,
) -> Result<Option<Permission>, OrchestratorError> {
    let target = &plan.target;
    for permission in needed_permissions(plan) {
        let decision = match known {
            Some(access) => access.decision(permission).clone(),
            None => review(client, &target.context, &target.namespace, permission).await?,
        };
        if matches!(decision, Decision::Denied { .. }) {
            return Ok(Some(permission));
        }
    }
    Ok(None)
}

/// The journal lines of one command.
struct Record<'a> {
    journal: &'a Journal,
    id: String,
    identity: &'a Identity,
    command: &'a Command,
    comment: Option<&'a str>,
}

impl Record<'_> {
    fn intent(&mut self, plan: &Plan) -> Result<(), OrchestratorError> {
        let pinned = match &self.command.action {
            crate::model::Action::Promote { pin } | crate::model::Action::SetWeight { pin, .. } => {
                pin.as_ref().map(|p| p.step)
            }
            _ => None,
        };
        self.journal.append(&Entry::Intent(Intent {
            id: self.id.clone(),
            time: jiff::Timestamp::now(),
            user: self.identity.user.clone(),
            rollout: self.command.target.clone(),
            verb: plan.verb,
            from_step: plan.from_step.or(pinned),
            to_step: plan.to_step,
            weight: plan.weight,
            comment: self.comment.map(str::to_string),
            tool: self.command.tool,
            pid: Some(std::process::id()),
        }))?;
        Ok(())
    }

    fn outcome(
        &self,
        result: CommandResult,
        step: Option<i32>,
        outcome: &Outcome,
        message: String,
    ) -> Result<(), OrchestratorError> {
        self.journal.append(&Entry::Outcome(Completion {
            id: self.id.clone(),
            time: jiff::Timestamp::now(),
            result,
            step,
            resource_version: outcome.resource_version.clone(),
            message,
        }))?;
        Ok(())
    }

    /// A command stopped before any change was sent: journaled as intent and outcome
    /// together, so every command the cluster saw is in the journal.
    fn refused_before_sending(
        &mut self,
        plan: Option<&Plan>,
        err: OrchestratorError,
    ) -> OrchestratorError {
        let fallback;
        let plan = match plan {
            Some(p) => p,
            None => {
                fallback = Plan::nothing(
                    &self.command.target,
                    self.command.action.verb(),
                    String::new(),
                );
                &fallback
            }
        };
        if let Err(journal_err) = self.intent(plan) {
            tracing::warn!("{journal_err}");
            return err;
        }
        self.failed(err)
    }

    /// Journals how a command that failed ended, and hands the error back.
    fn failed(&self, err: OrchestratorError) -> OrchestratorError {
        let (result, step) = match &err {
            OrchestratorError::MovedOn { now_step, .. } => (CommandResult::MovedOn, *now_step),
            OrchestratorError::UnknownOutcome { step, .. } => (CommandResult::Unknown, *step),
            OrchestratorError::PartlyApplied { error, .. } => match error.as_ref() {
                OrchestratorError::UnknownOutcome { step, .. } => (CommandResult::Unknown, *step),
                _ => (CommandResult::PartlyApplied, None),
            },
            OrchestratorError::ChangedMeanwhile { step, .. } => (CommandResult::Refused, *step),
            _ => (CommandResult::Refused, None),
        };
        let written = self.journal.append(&Entry::Outcome(Completion {
            id: self.id.clone(),
            time: jiff::Timestamp::now(),
            result,
            step,
            resource_version: None,
            message: err.to_string(),
        }));
        if let Err(journal_err) = written {
            tracing::warn!("{journal_err}");
        }
        err
    }
}
