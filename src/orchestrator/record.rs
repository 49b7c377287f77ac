//! The journal lines of one command as the door writes them: its intent before the first
//! request, a line after each stage of a command in stages, and how it ended (refused before
//! sending, failed, or done).

use super::OrchestratorError;
use super::identity::Identity;
use super::journal::{CommandResult, Completion, Entry, Intent, Journal, Stage, StageDone};
use super::plan::Plan;
use crate::model::{Action, Command, Outcome};

/// The journal lines of one command.
pub(super) struct Record<'a> {
    pub(super) journal: &'a Journal,
    pub(super) id: String,
    pub(super) identity: &'a Identity,
    pub(super) command: &'a Command,
    pub(super) comment: Option<&'a str>,
}

impl Record<'_> {
    pub(super) fn intent(&mut self, plan: &Plan) -> Result<(), OrchestratorError> {
        let pinned = plan.pin.as_ref().or(self.command.action.pin());
        let (to_revision, to_hash) = match &self.command.action {
            Action::Undo {
                to_revision,
                to_hash,
                ..
            } => (*to_revision, to_hash.clone()),
            _ => (None, None),
        };
        self.journal.append(&Entry::Intent(Intent {
            id: self.id.clone(),
            time: jiff::Timestamp::now(),
            user: self.identity.user.clone(),
            rollout: self.command.target.clone(),
            verb: plan.verb,
            from_step: plan.from_step.or(pinned.and_then(|p| p.step)),
            pin: pinned.cloned(),
            to_step: plan.to_step,
            weight: plan.weight,
            comment: self.comment.map(str::to_string),
            tool: self.command.tool,
            pid: Some(std::process::id()),
            to_revision,
            to_hash,
            stage: plan.stage.as_ref().map(|s| Box::new(s.stage.clone())),
        }))?;
        Ok(())
    }

    /// A stage of a command in stages is done; `next` follows.
    pub(super) fn stage(
        &self,
        done: &Stage,
        next: Option<&Stage>,
    ) -> Result<(), OrchestratorError> {
        self.journal.append(&Entry::Stage(StageDone {
            id: self.id.clone(),
            time: jiff::Timestamp::now(),
            done: done.clone(),
            next: next.cloned(),
        }))?;
        Ok(())
    }

    pub(super) fn outcome(
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
    pub(super) fn refused_before_sending(
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
    pub(super) fn failed(&self, err: OrchestratorError) -> OrchestratorError {
        let (result, step) = match &err {
            OrchestratorError::MovedOn { now, .. } => (CommandResult::MovedOn, now.step),
            OrchestratorError::AlreadyPromoted { step, .. } => {
                (CommandResult::MovedOn, Some(*step))
            }
            OrchestratorError::RevisionChanged { .. } => (CommandResult::MovedOn, None),
            OrchestratorError::WeightsChanged { .. } => (CommandResult::MovedOn, None),
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
