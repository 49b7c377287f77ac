//! Sending a command that runs in stages (a weighted release's promote --full), for the
//! door: each stage is sent (or waited for), journaled as done with the stage that follows,
//! and the next one planned from a fresh read, so a run cut off anywhere continues from there.

use super::OrchestratorError;
use super::audit::{LastAction, annotate};
use super::error::Waited;
use super::journal::Stage;
use super::plan::{Plan, PlannedPatch, Subresource, http_route_resource, send_plan};
use super::verbs::plan_action;
use crate::cluster::Attempt;
use crate::model::{Action, Command, Outcome};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ObjectReference;
use std::time::Duration;

/// How often a waiting stage re-reads its Deployment.
const POLL: Duration = Duration::from_millis(500);
/// A Deployment's `progressDeadlineSeconds` when it sets none (Kubernetes' default): how
/// long a waiting stage waits before it says the rollout is stuck.
const DEFAULT_PROGRESS_DEADLINE_SECS: u64 = 600;

/// One stage done, for a caller that shows progress as it happens (the CLI prints each):
/// see [`super::ExecuteOptions::stage_progress`].
#[derive(Clone, Debug, PartialEq)]
pub struct StageProgress {
    pub done: Stage,
    /// What the stage did, in words.
    pub summary: String,
    pub next: Option<Stage>,
}

/// What the stages did: the outcome, the route as last answered (for the audit Event), and
/// the last-action annotation when no stage's request could carry it.
pub(super) struct Staged {
    pub outcome: Outcome,
    pub answered: Option<ObjectReference>,
    pub annotation: Option<PlannedPatch>,
}

/// Sends `first` and every stage after it. `journal_stage(done, next)` is called after each
/// stage, then `progress` told; a failure after a stage was done is [`OrchestratorError::PartlyApplied`], naming
/// what was done.
pub(super) async fn send_stages(
    client: &kube::Client,
    command: &Command,
    first: Plan,
    action: &LastAction,
    journal_stage: impl Fn(&Stage, Option<&Stage>) -> Result<(), OrchestratorError>,
    progress: Option<&tokio::sync::mpsc::UnboundedSender<StageProgress>>,
) -> Result<Staged, OrchestratorError> {
    let started_at = first.stage.as_ref().map(|s| s.stage.clone());
    let mut done: Vec<String> = Vec::new();
    let partly = |done: &[String], err: OrchestratorError| {
        if done.is_empty() {
            return err;
        }
        OrchestratorError::PartlyApplied {
            target: first.target.clone(),
            verb: first.verb,
            applied: done.to_vec(),
            error: Box::new(err),
        }
    };
    // Later stages are planned without the caller's pin: the stages themselves move the step.
    let replan = match &command.action {
        Action::PromoteFull { .. } => Action::PromoteFull { pin: None },
        other => other.clone(),
    };
    let mut annotated = false;
    let mut answered = None;
    let mut resource_version = None;
    let mut plan = first.clone();
    while let Some(planned) = plan.stage.clone() {
        if let Some(deployment) = &planned.wait_for {
            wait_until_rolled_out(client, &plan, &planned.stage, deployment)
                .await
                .map_err(|e| partly(&done, e))?;
        } else {
            let (change, separate) = annotate(&plan, action);
            annotated |= separate.is_none();
            let (outcome, reference) = send_plan(client, &change)
                .await
                .map_err(|e| partly(&done, e))?;
            if matches!(plan.patches.first(), Some(p) if p.subresource == plan.home) {
                answered = reference;
            }
            resource_version = outcome.resource_version;
        }
        done.push(format!("{}: {}", planned.stage, plan.summary));
        let next = plan_action(client, &plan.target, &replan)
            .await
            .map_err(|e| partly(&done, e))?;
        let next_stage = next.stage.as_ref().map(|s| s.stage.clone());
        journal_stage(&planned.stage, next_stage.as_ref())?;
        if let Some(progress) = progress {
            // A caller that stopped listening does not stop the stages.
            let _ = progress.send(StageProgress {
                done: planned.stage.clone(),
                summary: plan.summary.clone(),
                next: next_stage.clone(),
            });
        }
        if let Some(again) = next_stage.filter(|n| n.number <= planned.stage.number) {
            let reason = format!(
                "after {} the cluster shows {again} not done: it changed meanwhile (a new \
                 canary template, or weights moved); look at the release, then run {} again",
                planned.stage,
                plan.verb.command_words()
            );
            return Err(partly(
                &done,
                OrchestratorError::NotApplicable {
                    target: plan.target.clone(),
                    verb: plan.verb,
                    reason,
                },
            ));
        }
        plan = next;
    }
    let summaries: Vec<&str> = done
        .iter()
        .filter_map(|d| d.split_once(": ").map(|(_, s)| s))
        .collect();
    let summary = match &started_at {
        Some(stage) if stage.number > 1 => format!(
            "promoted fully, continued from stage {} of {}: {}",
            stage.number,
            stage.of,
            summaries.join("; ")
        ),
        _ => format!("promoted fully: {}", summaries.join("; ")),
    };
    let annotation = if annotated {
        None
    } else {
        annotate(&first, action).1
    };
    let answered = answered.or_else(|| home_reference(&first));
    Ok(Staged {
        outcome: Outcome {
            rollout: first.target.clone(),
            verb: first.verb,
            summary,
            from_step: first.from_step,
            to_step: first.to_step,
            weight: first.weight,
            changed: true,
            resource_version,
        },
        answered,
        annotation,
    })
}

/// The release's route, for the audit Event when no stage of this run patched it.
fn home_reference(plan: &Plan) -> Option<ObjectReference> {
    let Subresource::Route(name) = &plan.home else {
        return None;
    };
    let resource = http_route_resource();
    Some(ObjectReference {
        api_version: Some(resource.api_version),
        kind: Some(resource.kind),
        name: Some(name.clone()),
        namespace: Some(plan.target.namespace.clone()),
        ..ObjectReference::default()
    })
}

/// Re-reads `name` until it has rolled out its template, up to its progress deadline.
async fn wait_until_rolled_out(
    client: &kube::Client,
    plan: &Plan,
    stage: &Stage,
    name: &str,
) -> Result<(), OrchestratorError> {
    let target = &plan.target;
    let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), &target.namespace);
    let started = tokio::time::Instant::now();
    loop {
        let deployment = api.get(name).await.map_err(|e| {
            OrchestratorError::Cluster(
                Attempt {
                    context: &target.context,
                    namespace: Some(&target.namespace),
                    name: Some(name),
                    action: "get deployments",
                }
                .error(e),
            )
        })?;
        if super::gateway::rolled_out(&deployment) {
            return Ok(());
        }
        let deadline_secs = deployment
            .spec
            .progress_deadline_seconds
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECS);
        if started.elapsed() >= Duration::from_secs(deadline_secs) {
            return Err(OrchestratorError::NotAvailable {
                target: target.clone(),
                verb: plan.verb,
                waited: Box::new(Waited {
                    stage: stage.clone(),
                    deployment: name.to_string(),
                    waited_secs: started.elapsed().as_secs(),
                    progress: super::gateway::rollout_words(&deployment),
                }),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
