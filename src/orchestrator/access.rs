//! What the user may do to rollouts in a namespace, asked with `SelfSubjectAccessReview`
//! before a button is enabled or a CLI verb is sent, and cached per (context, namespace)
//! for a few minutes ([`AccessCache`]).

use super::OrchestratorError;
use crate::cluster::{Attempt, self_access_review};
use crate::model::{Provider, Verb};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached answer is trusted before the cluster is asked again.
pub const ACCESS_REFRESH: Duration = Duration::from_secs(180);

/// A permission the cockpit's commands need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// `patch rollouts`: spec changes (pause, restart, undo) and the last-action annotation.
    PatchRollouts,
    /// `patch rollouts/status`: promote, abort, retry, set-weight.
    PatchRolloutStatus,
    /// `create events`: the audit Event on the rollout.
    CreateEvents,
    /// `patch httproutes` (gateway.networking.k8s.io): a weighted release's weights and state.
    PatchHttpRoutes,
    /// `patch deployments` (apps): a weighted release's stable or canary Deployment.
    PatchDeployments,
    /// `patch canaries` (flagger.app): suspend, skipAnalysis, the last-action annotation and
    /// the pinned check of what a Flagger gate is opened for.
    PatchCanaries,
    /// `create services/proxy`: POSTs to Flagger's load tester gates through the API server.
    CreateServiceProxy,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::PatchRollouts,
        Permission::PatchRolloutStatus,
        Permission::CreateEvents,
        Permission::PatchHttpRoutes,
        Permission::PatchDeployments,
    ];

    /// Flagger's, asked beside [`Permission::ALL`] for the window's buttons.
    pub const FLAGGER: [Permission; 2] =
        [Permission::PatchCanaries, Permission::CreateServiceProxy];

    /// The permissions `verb` may need, status first (as the door checks them): every
    /// change also writes the last-action annotation, so every verb patches the rollout.
    /// The plan of one command may need fewer ([`super::needed_permissions`]).
    pub fn for_verb(verb: Verb) -> &'static [Permission] {
        Permission::for_command(Provider::Argo, verb)
    }

    /// [`Permission::for_verb`] for a release of `provider`: a weighted release's verbs
    /// patch its HTTPRoute (weights, state and the last-action annotation).
    pub fn for_command(provider: Provider, verb: Verb) -> &'static [Permission] {
        if provider == Provider::Gateway {
            return match verb {
                Verb::Undo | Verb::PromoteFull => {
                    &[Permission::PatchDeployments, Permission::PatchHttpRoutes]
                }
                _ => &[Permission::PatchHttpRoutes],
            };
        }
        if provider == Provider::Flagger {
            return match verb {
                Verb::Promote | Verb::Abort => {
                    &[Permission::CreateServiceProxy, Permission::PatchCanaries]
                }
                _ => &[Permission::PatchCanaries],
            };
        }
        match verb {
            Verb::Pause | Verb::Restart | Verb::Undo | Verb::AutoStatus => {
                &[Permission::PatchRollouts]
            }
            Verb::Promote
            | Verb::PromoteFull
            | Verb::Abort
            | Verb::Retry
            | Verb::Resume
            | Verb::SetWeight => &[Permission::PatchRolloutStatus, Permission::PatchRollouts],
        }
    }

    /// As kubectl names it: "patch rollouts/status".
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::PatchRollouts => "patch rollouts",
            Permission::PatchRolloutStatus => "patch rollouts/status",
            Permission::CreateEvents => "create events",
            Permission::PatchHttpRoutes => "patch httproutes",
            Permission::PatchDeployments => "patch deployments",
            Permission::PatchCanaries => "patch canaries",
            Permission::CreateServiceProxy => "create services/proxy",
        }
    }

    /// What to ask an administrator for.
    pub fn grant_hint(self) -> &'static str {
        match self {
            Permission::PatchRollouts => {
                "a Role granting verb 'patch' on resource 'rollouts' (apiGroup argoproj.io)"
            }
            Permission::PatchRolloutStatus => {
                "a Role granting verb 'patch' on resource 'rollouts/status' (apiGroup argoproj.io)"
            }
            Permission::CreateEvents => {
                "a Role granting verb 'create' on resource 'events' (apiGroup \"\")"
            }
            Permission::PatchHttpRoutes => {
                "a Role granting verb 'patch' on resource 'httproutes' (apiGroup gateway.networking.k8s.io)"
            }
            Permission::PatchDeployments => {
                "a Role granting verb 'patch' on resource 'deployments' (apiGroup apps)"
            }
            Permission::PatchCanaries => {
                "a Role granting verb 'patch' on resource 'canaries' (apiGroup flagger.app)"
            }
            Permission::CreateServiceProxy => {
                "a Role granting verb 'create' on resource 'services/proxy' (apiGroup \"\") in the load tester's namespace"
            }
        }
    }

    fn attributes(self, namespace: &str) -> ResourceAttributes {
        let (verb, group, resource, subresource) = match self {
            Permission::PatchRollouts => ("patch", "argoproj.io", "rollouts", None),
            Permission::PatchRolloutStatus => ("patch", "argoproj.io", "rollouts", Some("status")),
            Permission::CreateEvents => ("create", "", "events", None),
            Permission::PatchHttpRoutes => {
                ("patch", "gateway.networking.k8s.io", "httproutes", None)
            }
            Permission::PatchDeployments => ("patch", "apps", "deployments", None),
            Permission::PatchCanaries => ("patch", "flagger.app", "canaries", None),
            Permission::CreateServiceProxy => ("create", "", "services", Some("proxy")),
        };
        ResourceAttributes {
            namespace: Some(namespace.into()),
            verb: Some(verb.into()),
            group: Some(group.into()),
            resource: Some(resource.into()),
            subresource: subresource.map(str::to_string),
            ..ResourceAttributes::default()
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cluster's answer for one permission.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "decision")]
pub enum Decision {
    Allowed,
    Denied {
        reason: Option<String>,
    },
    /// The server cannot answer (no SelfSubjectAccessReview): the request itself will tell.
    #[default]
    Unknown,
}

/// What the user may do to rollouts in one namespace of one context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub context: String,
    pub namespace: String,
    pub patch_rollouts: Decision,
    pub patch_rollout_status: Decision,
    pub create_events: Decision,
    /// A weighted release's route (its weights and state); unknown in answers from before
    /// weighted releases were asked about.
    #[serde(default)]
    pub patch_httproutes: Decision,
    /// A weighted release's Deployments (promote --full, undo).
    #[serde(default)]
    pub patch_deployments: Decision,
    /// Flagger's: `patch canaries` and `create services/proxy` (absent in answers saved
    /// before Flagger was supported: unknown).
    #[serde(default = "unknown")]
    pub patch_canaries: Decision,
    #[serde(default = "unknown")]
    pub create_service_proxy: Decision,
}

fn unknown() -> Decision {
    Decision::Unknown
}

impl Access {
    pub fn decision(&self, permission: Permission) -> &Decision {
        match permission {
            Permission::PatchRollouts => &self.patch_rollouts,
            Permission::PatchRolloutStatus => &self.patch_rollout_status,
            Permission::CreateEvents => &self.create_events,
            Permission::PatchHttpRoutes => &self.patch_httproutes,
            Permission::PatchDeployments => &self.patch_deployments,
            Permission::PatchCanaries => &self.patch_canaries,
            Permission::CreateServiceProxy => &self.create_service_proxy,
        }
    }

    /// True when this answer holds the permission (all of [`Permission::ALL`]); the door
    /// asks the cluster for any other.
    pub fn covers(&self, permission: Permission) -> bool {
        Permission::ALL.contains(&permission)
            || (Permission::FLAGGER.contains(&permission)
                && self.decision(permission) != &Decision::Unknown)
    }

    /// False only when the cluster said no; an unknown answer lets the request decide.
    pub fn allows(&self, permission: Permission) -> bool {
        !matches!(self.decision(permission), Decision::Denied { .. })
    }

    /// The first of `needed` the cluster denies.
    pub fn first_missing(&self, needed: &[Permission]) -> Option<Permission> {
        needed.iter().copied().find(|p| !self.allows(*p))
    }
}

/// Asks the cluster (one SelfSubjectAccessReview per permission) what the user may do to
/// rollouts and weighted releases in `namespace`.
pub async fn access(
    client: &kube::Client,
    context: &str,
    namespace: &str,
) -> Result<Access, OrchestratorError> {
    let (
        patch_rollouts,
        patch_rollout_status,
        create_events,
        patch_httproutes,
        patch_deployments,
        patch_canaries,
        create_service_proxy,
    ) = tokio::try_join!(
        review(client, context, namespace, Permission::PatchRollouts),
        review(client, context, namespace, Permission::PatchRolloutStatus),
        review(client, context, namespace, Permission::CreateEvents),
        review(client, context, namespace, Permission::PatchHttpRoutes),
        review(client, context, namespace, Permission::PatchDeployments),
        review(client, context, namespace, Permission::PatchCanaries),
        review(client, context, namespace, Permission::CreateServiceProxy),
    )?;
    Ok(Access {
        context: context.into(),
        namespace: namespace.into(),
        patch_rollouts,
        patch_rollout_status,
        create_events,
        patch_httproutes,
        patch_deployments,
        patch_canaries,
        create_service_proxy,
    })
}

/// Asks about one permission.
pub async fn review(
    client: &kube::Client,
    context: &str,
    namespace: &str,
    permission: Permission,
) -> Result<Decision, OrchestratorError> {
    match self_access_review(client, permission.attributes(namespace)).await {
        Ok(Some(s)) if s.allowed => Ok(Decision::Allowed),
        Ok(Some(s)) => Ok(Decision::Denied {
            reason: s.reason.filter(|r| !r.is_empty()),
        }),
        Ok(None) => Ok(Decision::Unknown),
        Err(err) => Err(OrchestratorError::Cluster(
            Attempt {
                context,
                namespace: Some(namespace),
                name: None,
                action: "create selfsubjectaccessreviews",
            }
            .error(err),
        )),
    }
}

/// [`access`] answers per (context, namespace), asked again after `refresh`. The window
/// keeps one for its buttons; [`AccessCache::forget_context`] on a context change.
#[derive(Debug)]
pub struct AccessCache {
    refresh: Duration,
    entries: Mutex<HashMap<(String, String), (Instant, Access)>>,
}

impl Default for AccessCache {
    fn default() -> AccessCache {
        AccessCache::new(ACCESS_REFRESH)
    }
}

impl AccessCache {
    pub fn new(refresh: Duration) -> AccessCache {
        AccessCache {
            refresh,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached answer while fresh, else the cluster's (then cached).
    pub async fn get(
        &self,
        client: &kube::Client,
        context: &str,
        namespace: &str,
    ) -> Result<Access, OrchestratorError> {
        if let Some(fresh) = self.fresh(context, namespace) {
            return Ok(fresh);
        }
        let answer = access(client, context, namespace).await?;
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                (context.into(), namespace.into()),
                (Instant::now(), answer.clone()),
            );
        }
        Ok(answer)
    }

    /// The cached answer when it is younger than the refresh interval.
    pub fn fresh(&self, context: &str, namespace: &str) -> Option<Access> {
        let entries = self.entries.lock().ok()?;
        let (at, access) = entries.get(&(context.to_string(), namespace.to_string()))?;
        (at.elapsed() < self.refresh).then(|| access.clone())
    }

    /// Drops every answer about `context` (the user switched context or credentials).
    pub fn forget_context(&self, context: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(c, _), _| c != context);
        }
    }
}
