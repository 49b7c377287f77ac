//! `OrchestratorError`: why a verb did not happen, naming the rollout, the context and what
//! to do next. Every variant except `Cluster` means nothing was changed.

use super::access::Permission;
use super::journal::JournalError;
use crate::cluster::ClusterError;
use crate::model::{Pin, RolloutRef, Verb};

#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),

    /// A pinned command found the rollout showing something else than the caller saw.
    #[error("rollout '{}' in namespace {} of context {} moved on: {verb} was for {}, it now shows {}; nothing was changed. Look at it again and decide on what is there now", target.name, target.namespace, target.context, seen.describe(), now_words(seen, now))]
    MovedOn {
        target: RolloutRef,
        verb: Verb,
        seen: Box<Pin>,
        now: Box<Pin>,
    },

    /// A promote found its pause step already promoted by someone else.
    #[error("rollout '{}' step {step} was already promoted by someone else (its pause is lifted; the controller moves on); nothing was changed", target.name)]
    AlreadyPromoted { target: RolloutRef, step: i32 },

    /// undo's target revision is another ReplicaSet than the caller saw; `hashes` is "pod
    /// hash NOW, not SEEN".
    #[error("revision {revision} of rollout '{}' is {hashes} as you saw it (the revisions moved on); nothing was changed. Look at its revisions again", target.name)]
    RevisionChanged {
        target: RolloutRef,
        revision: i64,
        hashes: String,
    },

    #[error("rollout '{}' changed while {verb} was being sent (it is still at step {}); nothing was changed; re-read it and try again", target.name, step_text(*step))]
    ChangedMeanwhile {
        target: RolloutRef,
        verb: Verb,
        step: Option<i32>,
    },

    #[error("not allowed to {verb} rollout '{}' in namespace {} of context {}: {message}", target.name, target.namespace, target.context)]
    Forbidden {
        target: RolloutRef,
        verb: Verb,
        message: String,
    },

    #[error("rollout '{}' not found in namespace {} of context {}; list them with: release-cockpit --context {} -n {} list", target.name, target.namespace, target.context, target.context, target.namespace)]
    NotFound { target: RolloutRef },

    #[error("conflict on rollout '{}' in namespace {} of context {} during {verb}: {message}; re-read the rollout and retry by hand", target.name, target.namespace, target.context)]
    Conflict {
        target: RolloutRef,
        verb: Verb,
        message: String,
    },

    #[error("the API server of context {} rejected {verb} on rollout '{}' in namespace {}: {message}", target.context, target.name, target.namespace)]
    Invalid {
        target: RolloutRef,
        verb: Verb,
        message: String,
    },

    #[error("weight {weight}% is not declared by any setWeight step of rollout '{}' (declared: {}); Argo Rollouts only moves between the weights its steps declare{}", target.name, weight_list(declared), weight_hint(*weight))]
    WeightNotDeclared {
        target: RolloutRef,
        weight: i32,
        declared: Vec<i32>,
    },

    #[error("weight {weight} is out of range: a weight is a percentage from 0 to 100")]
    WeightOutOfRange { weight: i32 },

    #[error("rollout '{}' has no revision {revision} (revisions in the cluster: {}); pick one of those with --to-revision", target.name, revision_list(known))]
    RevisionNotFound {
        target: RolloutRef,
        revision: i64,
        known: Vec<i64>,
    },

    /// A later request of a verb failed after earlier ones were applied.
    #[error("{verb} on rollout '{}' in namespace {} of context {} was only partly applied (sent: {}); then: {error}", target.name, target.namespace, target.context, applied.join("; "))]
    PartlyApplied {
        target: RolloutRef,
        verb: Verb,
        applied: Vec<String>,
        error: Box<OrchestratorError>,
    },

    #[error("cannot {verb} rollout '{}' in namespace {} of context {}: {reason}", target.name, target.namespace, target.context)]
    NotApplicable {
        target: RolloutRef,
        verb: Verb,
        reason: String,
    },

    /// Read-only mode (`--read-only` or the setting): refused before any request.
    #[error("read-only mode: {verb} on rollout '{}' in namespace {} of context {} was not sent; nothing was changed (start without --read-only, or turn read-only off in the settings, to change rollouts)", target.name, target.namespace, target.context)]
    ReadOnly { target: RolloutRef, verb: Verb },

    /// The settings require a comment on every command and none was given.
    #[error("{verb} on rollout '{}' needs a comment (the settings require one for every command); nothing was sent; add --comment \"why\"", target.name)]
    CommentRequired { target: RolloutRef, verb: Verb },

    /// SelfSubjectAccessReview says the user lacks a permission the command needs.
    #[error("you ({user}) may not {permission} in namespace {} of context {}, so {verb} on rollout '{}' was not sent; ask your cluster administrator for {}", target.namespace, target.context, target.name, permission.grant_hint())]
    NotPermitted {
        target: RolloutRef,
        verb: Verb,
        user: String,
        permission: Permission,
    },

    /// The connection failed after a request may have reached the API server.
    #[error("unknown outcome of {verb} on rollout '{}' in namespace {} of context {} — {detail}; it was not retried: look at the rollout before sending it again", target.name, target.namespace, target.context)]
    UnknownOutcome {
        target: RolloutRef,
        verb: Verb,
        /// The step the rollout was at when re-read afterwards.
        step: Option<i32>,
        /// What failed and what the re-read showed, in words ([`unknown_detail`]).
        detail: String,
    },

    /// A pinned change to a weighted release's route found other weights than were read.
    #[error("release '{}' in namespace {} of context {} changed meanwhile: {verb} was for stable {}% / canary {}%, the route now has stable {}% / canary {}%; nothing was changed. Look at it again and decide on what is there now", target.name, target.namespace, target.context, seen.0, seen.1, now.0, now.1)]
    WeightsChanged {
        target: RolloutRef,
        verb: Verb,
        /// (stable, canary) weights as read before sending.
        seen: (i32, i32),
        /// (stable, canary) weights as re-read after the refusal.
        now: (i32, i32),
    },

    /// A stage of promote --full waited for a Deployment to roll out, and it did not within
    /// its progress deadline.
    #[error("{verb} on release '{}' in namespace {} of context {} stopped at {}: Deployment {} did not become available within {} s ({}); look at its pods (kubectl -n {} rollout status deployment/{}), then run {} again to continue from there", target.name, target.namespace, target.context, waited.stage, waited.deployment, waited.waited_secs, waited.progress, target.namespace, waited.deployment, verb.command_words())]
    NotAvailable {
        target: RolloutRef,
        verb: Verb,
        waited: Box<Waited>,
    },

    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// What a stage that waited for a Deployment saw when it gave up.
#[derive(Debug)]
pub struct Waited {
    pub stage: super::journal::Stage,
    pub deployment: String,
    pub waited_secs: u64,
    /// "2/3 updated, 1/3 available".
    pub progress: String,
}

impl OrchestratorError {
    /// The CLI's exit code: 2 for bad usage or input (nothing could be sent), 1 when the
    /// cluster refused or the rollout was not in a state for the command.
    pub fn exit_code(&self) -> u8 {
        match self {
            OrchestratorError::Cluster(e) => e.exit_code(),
            OrchestratorError::WeightNotDeclared { .. }
            | OrchestratorError::WeightOutOfRange { .. }
            | OrchestratorError::RevisionNotFound { .. }
            | OrchestratorError::CommentRequired { .. } => 2,
            _ => 1,
        }
    }

    /// The rollout the error is about, when it is about one.
    pub fn target(&self) -> Option<&RolloutRef> {
        match self {
            OrchestratorError::Cluster(_)
            | OrchestratorError::WeightOutOfRange { .. }
            | OrchestratorError::Journal(_) => None,
            OrchestratorError::MovedOn { target, .. }
            | OrchestratorError::AlreadyPromoted { target, .. }
            | OrchestratorError::RevisionChanged { target, .. }
            | OrchestratorError::ChangedMeanwhile { target, .. }
            | OrchestratorError::Forbidden { target, .. }
            | OrchestratorError::NotFound { target }
            | OrchestratorError::Conflict { target, .. }
            | OrchestratorError::Invalid { target, .. }
            | OrchestratorError::WeightNotDeclared { target, .. }
            | OrchestratorError::RevisionNotFound { target, .. }
            | OrchestratorError::NotApplicable { target, .. }
            | OrchestratorError::PartlyApplied { target, .. }
            | OrchestratorError::ReadOnly { target, .. }
            | OrchestratorError::CommentRequired { target, .. }
            | OrchestratorError::NotPermitted { target, .. }
            | OrchestratorError::UnknownOutcome { target, .. }
            | OrchestratorError::WeightsChanged { target, .. }
            | OrchestratorError::NotAvailable { target, .. } => Some(target),
        }
    }
}

/// What the rollout shows now, in the fields the caller's pin names (all of them when it
/// names none), marking what differs.
fn now_words(seen: &Pin, now: &Pin) -> String {
    let mut parts = Vec::new();
    if seen.step.is_some() || seen == &Pin::default() {
        parts.push(format!("step {}", step_text(now.step)));
    }
    let new_revision = seen.pod_hash.is_some() && seen.pod_hash != now.pod_hash;
    if seen.preview_hash.is_some() {
        parts.push(format!(
            "preview {}",
            now.preview_hash.as_deref().unwrap_or("(none)")
        ));
    }
    if seen.pod_hash.is_some() || seen == &Pin::default() {
        let hash = now.pod_hash.as_deref().unwrap_or("(none)");
        parts.push(if new_revision {
            format!("pod hash {hash} (a new revision)")
        } else {
            format!("pod hash {hash}")
        });
    }
    parts.join(", ")
}

/// "re-read shows step 3 (connection reset by peer)" for [`OrchestratorError::UnknownOutcome`].
pub(crate) fn unknown_detail(
    step: Option<i32>,
    reread_error: Option<&str>,
    failure: &str,
) -> String {
    match reread_error {
        Some(e) => {
            format!("the connection failed ({failure}) and the rollout could not be re-read: {e}")
        }
        None => format!(
            "re-read shows step {} (the connection failed: {failure})",
            step_text(step)
        ),
    }
}

fn step_text(step: Option<i32>) -> String {
    step.map_or_else(|| "-".to_string(), |s| s.to_string())
}

fn weight_list(weights: &[i32]) -> String {
    if weights.is_empty() {
        return "none".into();
    }
    weights
        .iter()
        .map(|w| format!("{w}%"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn weight_hint(weight: i32) -> &'static str {
    match weight {
        0 => "; to send all traffic back to stable, abort",
        100 => "; to finish the rollout, promote --full",
        _ => "",
    }
}

fn revision_list(revisions: &[i64]) -> String {
    if revisions.is_empty() {
        return "none".into();
    }
    revisions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
