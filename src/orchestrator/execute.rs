//! [`execute`]: the single choke point for every change, whoever asks. In order: the
//! read-only and comment guards (no network); together, who the user is, the plan's reads
//! and the permission reviews; the journal's intent (fsynced); the change; together, the
//! last-action annotation and the audit Event; the journal's outcome (its lines: `record.rs`).

use super::OrchestratorError;
use super::access::{Access, Decision, Permission, review};
use super::audit::{LastAction, annotate, audit_event_on, record_event};
use super::identity::{Identity, whoami};
use super::journal::{self, CommandResult, Journal, Stage};
use super::plan::{Plan, PlannedPatch, Subresource, send_plan};
use super::record::Record;
use super::stages::{StageProgress, send_stages};
use super::verbs::plan_action;
use crate::model::{Command, Outcome, RolloutRef, Verb};

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
    /// For a command in stages (a weighted release's promote --full): each stage as it is
    /// done, for a caller that shows progress; `None` tells no one (the journal has them).
    pub stage_progress: Option<tokio::sync::mpsc::UnboundedSender<StageProgress>>,
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
    // The pre-flight reads go out together (one HTTP/2 connection): who the user is, what
    // the verb reads, and every permission the verb may need.
    let identity = async {
        match &options.identity {
            Some(i) => Ok(i.clone()),
            None => whoami(client, &target.context).await,
        }
    };
    let (identity, planned, reviews) = tokio::join!(
        identity,
        plan_action(client, target, &command.action),
        reviews(client, target, verb, options.access.as_ref()),
    );
    let identity = identity?;
    let mut record = Record {
        journal: &journal,
        id: journal::new_id(jiff::Timestamp::now()),
        identity: &identity,
        command,
        comment,
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(err) => return Err(record.refused_before_sending(None, err)),
    };
    if let Some(permission) = missing_permission(client, &plan, &reviews?).await? {
        let err = OrchestratorError::NotPermitted {
            target: target.clone(),
            verb,
            user: identity.user.clone(),
            permission,
        };
        return Err(record.refused_before_sending(Some(&plan), err));
    }

    record.intent(&plan)?;
    let audited = verb != Verb::AutoStatus;
    let action = LastAction::of(&plan, &identity, comment, command.tool);
    let (change, annotation) = if audited {
        annotate(&plan, &action)
    } else {
        (plan.clone(), None)
    };
    let sent = match plan.stage {
        Some(_) => {
            let journal_stage = |done: &Stage, next: Option<&Stage>| record.stage(done, next);
            let progress = options.stage_progress.as_ref();
            send_stages(
                client,
                command,
                plan.clone(),
                &action,
                journal_stage,
                progress,
            )
            .await
            .map(|staged| (staged.outcome, staged.answered, staged.annotation))
        }
        None => send_plan(client, &change)
            .await
            .map(|(outcome, rollout)| (outcome, rollout, annotation)),
    };
    let (outcome, rollout, annotation) = match sent {
        Ok(sent) => sent,
        Err(err) => return Err(record.failed(err)),
    };
    let mut warnings = if outcome.changed && audited {
        audit_trail(client, &plan, rollout, annotation, &outcome, &action).await
    } else {
        Vec::new()
    };
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

/// After the change: the last-action annotation (when the change could not carry it) and
/// the audit Event, sent together. Their failures are warnings; the change stands.
async fn audit_trail(
    client: &kube::Client,
    plan: &Plan,
    answered: Option<k8s_openapi::api::core::v1::ObjectReference>,
    annotation: Option<PlannedPatch>,
    outcome: &Outcome,
    action: &LastAction,
) -> Vec<String> {
    let annotate = async {
        let patch = annotation?;
        let mut alone = Plan::nothing(&plan.target, plan.verb, String::new());
        alone.patches.push(patch);
        send_plan(client, &alone)
            .await
            .err()
            .map(|e| format!("the last-action annotation was not written: {e}"))
    };
    let event = async {
        let Some(involved) = answered else {
            return Some("the audit Event was not recorded: no object in the answer".to_string());
        };
        let event = audit_event_on(&involved, &outcome.summary, action);
        record_event(client, &plan.target, &event)
            .await
            .err()
            .map(|e| format!("the audit Event was not recorded: {e}"))
    };
    let (annotated, recorded) = tokio::join!(annotate, event);
    annotated.into_iter().chain(recorded).collect()
}

/// The permissions a plan needs, in the order it sends: its endpoints, then patching the
/// release's own object (`patch rollouts`, or `patch httproutes` for a weighted release)
/// for the last-action annotation. Creating the Event is not required: without it the
/// change is still made (and the missing Event reported).
pub fn needed_permissions(plan: &Plan) -> Vec<Permission> {
    let permission_of = |subresource: &Subresource| match subresource {
        Subresource::Main => Permission::PatchRollouts,
        Subresource::Status => Permission::PatchRolloutStatus,
        Subresource::Route(_) => Permission::PatchHttpRoutes,
        Subresource::Deployment(_) => Permission::PatchDeployments,
        Subresource::Canary => Permission::PatchCanaries,
        Subresource::ServiceProxy { .. } => Permission::CreateServiceProxy,
    };
    let mut needed = Vec::new();
    for patch in &plan.patches {
        let permission = permission_of(&patch.subresource);
        if !needed.contains(&permission) {
            needed.push(permission);
        }
    }
    let home = permission_of(&plan.home);
    if !needed.is_empty() && !needed.contains(&home) {
        needed.push(home);
    }
    // A command in stages needs what every stage after this one sends, checked before the
    // first is sent: a weighted release's stages patch its Deployments and its route.
    if plan.stage.is_some() {
        for permission in Permission::for_command(plan.target.provider, plan.verb) {
            if !needed.contains(permission) {
                needed.push(*permission);
            }
        }
    }
    needed
}

/// The decisions for every permission `verb` may need ([`Permission::for_verb`]), asked
/// before the plan is known so they go out beside its reads: from `known` when the caller
/// has them, else one SelfSubjectAccessReview each, all at once.
async fn reviews(
    client: &kube::Client,
    target: &RolloutRef,
    verb: Verb,
    known: Option<&Access>,
) -> Result<Vec<(Permission, Decision)>, OrchestratorError> {
    let candidates = Permission::for_command(target.provider, verb);
    if let Some(access) = known
        && candidates.iter().all(|p| access.covers(*p))
    {
        return Ok(candidates
            .iter()
            .map(|p| (*p, access.decision(*p).clone()))
            .collect());
    }
    let asked = candidates
        .iter()
        .map(|p| review(client, &target.context, &target.namespace, *p));
    let decisions = futures::future::try_join_all(asked).await?;
    Ok(candidates.iter().copied().zip(decisions).collect())
}

/// The first permission the plan needs that was denied. One not among the reviews asked
/// beforehand (none today) is asked now.
async fn missing_permission(
    client: &kube::Client,
    plan: &Plan,
    reviewed: &[(Permission, Decision)],
) -> Result<Option<Permission>, OrchestratorError> {
    let target = &plan.target;
    // A Flagger load tester may live in another namespace than the canary (its webhook URL
    // says which): the proxy permission is asked there.
    let proxy_namespace = plan.patches.iter().find_map(|p| match &p.subresource {
        Subresource::ServiceProxy { namespace, .. } if *namespace != target.namespace => {
            Some(namespace.as_str())
        }
        _ => None,
    });
    for permission in needed_permissions(plan) {
        let elsewhere = proxy_namespace.filter(|_| permission == Permission::CreateServiceProxy);
        let decision = match (elsewhere, reviewed.iter().find(|(p, _)| *p == permission)) {
            (None, Some((_, d))) => d.clone(),
            (namespace, _) => {
                let namespace = namespace.unwrap_or(&target.namespace);
                review(client, &target.context, namespace, permission).await?
            }
        };
        if matches!(decision, Decision::Denied { .. }) {
            return Ok(Some(permission));
        }
    }
    Ok(None)
}
