//! Who the user is and what they may change, per context and namespace, as the window shows
//! it in the status bar and on the action buttons: `orchestrator::whoami` and the
//! orchestrator's `AccessCache` (SelfSubjectAccessReview), answers re-asked every few minutes.

use super::EventSink;
use crate::model::{RolloutRef, RolloutView};
use crate::orchestrator::{self, AccessCache, Decision, Permission};
use crate::ui::events::{Access, ActivityEntry, AppEvent, Identity};
use std::collections::HashMap;
use std::sync::Mutex;

/// What the window knows about the user, shared by every context's watch and the commands.
#[derive(Default)]
pub struct Trust {
    pub access: AccessCache,
    identities: Mutex<HashMap<String, orchestrator::Identity>>,
}

impl Trust {
    /// The identity of `context`, once asked.
    pub fn identity(&self, context: &str) -> Option<orchestrator::Identity> {
        super::lock(&self.identities).get(context).cloned()
    }

    /// Who the user is in `context`: asked once per connection, shown in the status bar.
    pub async fn ask_identity(&self, sink: &EventSink, client: &kube::Client, context: &str) {
        match orchestrator::whoami(client, context).await {
            Ok(identity) => {
                sink.emit(AppEvent::Identity {
                    context: context.to_string(),
                    identity: Identity {
                        user: identity.user.clone(),
                        verified: identity.verified,
                    },
                });
                super::lock(&self.identities).insert(context.to_string(), identity);
            }
            Err(e) => tracing::info!(context, "whoami failed: {e}"),
        }
    }

    /// The permissions in the default namespace, in every namespace the fleet shows and in
    /// those of its Flagger load testers, asked when not fresh (the cache keeps answers for a few minutes).
    pub async fn ask_access(
        &self,
        sink: &EventSink,
        client: &kube::Client,
        context: &str,
        default_namespace: &str,
        rollouts: &[RolloutView],
    ) {
        let mut namespaces: Vec<&str> = vec![default_namespace];
        // A Flagger canary's load tester may live elsewhere: the door asks for the proxy there.
        let load_testers: Vec<String> = rollouts
            .iter()
            .filter_map(|r| {
                Some(
                    r.flagger
                        .as_ref()?
                        .load_tester_namespaces(&r.reference.namespace),
                )
            })
            .flatten()
            .collect();
        for namespace in rollouts
            .iter()
            .map(|r| r.reference.namespace.as_str())
            .chain(load_testers.iter().map(String::as_str))
        {
            if !namespaces.contains(&namespace) {
                namespaces.push(namespace);
            }
        }
        for namespace in namespaces {
            if self.access.fresh(context, namespace).is_some() {
                continue;
            }
            match self.access.get(client, context, namespace).await {
                Ok(answer) => sink.emit(AppEvent::Access {
                    context: context.to_string(),
                    namespace: namespace.to_string(),
                    access: window_access(&answer),
                }),
                Err(e) => sink.emit(AppEvent::Problem(format!(
                    "could not ask which changes you may make in namespace {namespace} of \
                     {context}: {e}"
                ))),
            }
        }
    }

    /// A context was (re)connected or its credentials changed: ask everything again.
    pub fn forget(&self, context: &str) {
        self.access.forget_context(context);
        super::lock(&self.identities).remove(context);
    }
}

/// The window's view of an access answer. An unknown answer (no SelfSubjectAccessReview on
/// the server) enables the button: the request itself will tell.
pub fn window_access(answer: &orchestrator::Access) -> Access {
    let allowed = |p: Permission| !matches!(answer.decision(p), Decision::Denied { .. });
    Access {
        patch_rollouts: allowed(Permission::PatchRollouts),
        patch_rollouts_status: allowed(Permission::PatchRolloutStatus),
        patch_httproutes: allowed(Permission::PatchHttpRoutes),
        patch_deployments: allowed(Permission::PatchDeployments),
        patch_canaries: allowed(Permission::PatchCanaries),
        create_service_proxy: allowed(Permission::CreateServiceProxy),
    }
}

/// The rollout's activity (our audit Events and the controller's Events about the rollout
/// and its ReplicaSets), for the activity panel: sent after the first list and again after
/// every Event, until the task is aborted (another rollout selected).
pub async fn watch_activity(sink: &EventSink, client: kube::Client, rollout: RolloutRef) {
    let updates = orchestrator::watch_activity(client, rollout.clone());
    futures::pin_mut!(updates);
    while let Some(update) = futures::StreamExt::next(&mut updates).await {
        sink.emit(match update {
            orchestrator::ActivityUpdate::Entries(entries) => AppEvent::Activity {
                entries: entries.iter().map(activity_entry).collect(),
                rollout: rollout.clone(),
            },
            orchestrator::ActivityUpdate::Error(e) => {
                AppEvent::Problem(format!("could not watch the activity of {rollout}: {e}"))
            }
        });
    }
}

fn activity_entry(entry: &orchestrator::ActivityEntry) -> ActivityEntry {
    let time_secs = entry
        .time
        .map_or(0.0, |t| t.as_millisecond() as f64 / 1000.0);
    let (source, ours, warning) = (entry.source.clone(), entry.ours, entry.warning);
    match &entry.action {
        Some(action) => {
            let steps = match (action.from_step, action.to_step) {
                (Some(from), Some(to)) if from != to => format!("step {from} → {to}"),
                (_, Some(to)) => format!("step {to}"),
                _ => String::new(),
            };
            let weight = action.weight.map(|w| format!(" (weight {w}%)"));
            ActivityEntry {
                time_secs,
                user: action.user.clone(),
                verb: action.verb.to_string(),
                comment: action.comment.clone(),
                detail: format!(
                    "{steps}{} via {}",
                    weight.unwrap_or_default(),
                    tool_name(action.tool)
                )
                .trim()
                .to_string(),
                source,
                ours,
                warning,
            }
        }
        None => {
            let mut detail = match &entry.object {
                Some(object) => format!("{object}: {}", entry.message),
                None => entry.message.clone(),
            };
            if entry.count > 1 {
                detail.push_str(&format!(" (×{})", entry.count));
            }
            ActivityEntry {
                time_secs,
                user: String::new(),
                verb: entry.reason.clone(),
                comment: None,
                detail,
                source,
                ours,
                warning,
            }
        }
    }
}

fn tool_name(tool: crate::model::Tool) -> &'static str {
    match tool {
        crate::model::Tool::Gui => "the window",
        crate::model::Tool::Cli => "the CLI",
        crate::model::Tool::Auto => "auto",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_denial_disables() {
        let answer = orchestrator::Access {
            context: "lab-viewer".into(),
            namespace: "demo".into(),
            patch_rollouts: Decision::Unknown,
            patch_rollout_status: Decision::Denied { reason: None },
            create_events: Decision::Allowed,
            patch_httproutes: Decision::Denied { reason: None },
            patch_deployments: Decision::Unknown,
            patch_canaries: Decision::Denied { reason: None },
            create_service_proxy: Decision::Unknown,
        };
        assert_eq!(
            window_access(&answer),
            Access {
                patch_rollouts: true,
                patch_rollouts_status: false,
                patch_httproutes: false,
                patch_deployments: true,
                patch_canaries: false,
                create_service_proxy: true,
            }
        );
    }
}
