//! `ClusterError`: everything that can go wrong between the cockpit and a cluster, each
//! naming the file, context, URL or object involved and what to do about it.

use std::path::PathBuf;

/// Why a kubeconfig, a context or a cluster could not be used, or what the API server refused.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("no kubeconfig found (looked at {searched}); pass --kubeconfig FILE or set KUBECONFIG")]
    NoKubeconfig { searched: String },

    #[error("cannot read kubeconfig {}", path.display())]
    ReadKubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("kubeconfig {} is not valid YAML for a kubeconfig: {message}", path.display())]
    ParseKubeconfig { path: PathBuf, message: String },

    #[error("kubeconfig files {files} cannot be merged: {message}")]
    MergeKubeconfig { files: String, message: String },

    #[error(
        "no context selected: the kubeconfig ({files}) sets no current-context; pass --context NAME (known contexts: {known})"
    )]
    NoCurrentContext { files: String, known: String },

    #[error("context '{context}' is not in the kubeconfig ({files}); known contexts: {known}")]
    UnknownContext {
        context: String,
        files: String,
        known: String,
    },

    #[error(
        "context '{context}' cannot be used: {message}; check its cluster and user entries in the kubeconfig"
    )]
    BadContext { context: String, message: String },

    #[error(
        "cannot reach the API server of context '{context}' at {url} (timeout {timeout_secs} s): {message}; is the cluster up and is this the right context? (try: kubectl --context {context} version)"
    )]
    Unreachable {
        context: String,
        url: String,
        timeout_secs: u64,
        message: String,
    },

    #[error(
        "cannot authenticate to context '{context}': {message}; check the user entry (token, client certificate or exec plugin) in the kubeconfig"
    )]
    Auth { context: String, message: String },

    #[error(
        "Argo Rollouts is not installed in cluster {context} (no rollouts.argoproj.io/v1alpha1); install it or pick another context"
    )]
    ArgoNotInstalled { context: String },

    #[error(
        "rollout '{name}' not found in namespace {namespace} of context {context}; list them with: release-cockpit --context {context} -n {namespace} list"
    )]
    RolloutNotFound {
        context: String,
        namespace: String,
        name: String,
    },

    #[error("not allowed to {action} in namespace {namespace} of context {context}: {message}")]
    Forbidden {
        context: String,
        namespace: String,
        action: String,
        message: String,
    },

    #[error("the API server of context {context} refused to {action} ({code} {reason}): {message}")]
    Api {
        context: String,
        action: String,
        code: u16,
        reason: String,
        message: String,
    },

    #[error(
        "unexpected answer from the API server of context {context} while trying to {action}: {message}"
    )]
    Unexpected {
        context: String,
        action: String,
        message: String,
    },
}

impl ClusterError {
    /// The CLI's exit code: 2 when the cockpit could not even talk to the cluster (bad
    /// kubeconfig or context, unreachable server, Argo missing); 1 when the cluster refused.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClusterError::RolloutNotFound { .. }
            | ClusterError::Forbidden { .. }
            | ClusterError::Api { .. }
            | ClusterError::Unexpected { .. } => 1,
            _ => 2,
        }
    }
}

/// What was being attempted when a request failed; turns `kube::Error` into `ClusterError`.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    pub context: &'a str,
    /// `None` for cluster-wide requests (`-A`).
    pub namespace: Option<&'a str>,
    /// The rollout, when the request was about one.
    pub name: Option<&'a str>,
    /// In words, with the resource as kubectl names it: "list rollouts", "patch
    /// rollouts/status", "list replicasets".
    pub action: &'a str,
}

impl Attempt<'_> {
    pub fn error(&self, err: kube::Error) -> ClusterError {
        let context = self.context.to_string();
        let action = self.action.to_string();
        match err {
            kube::Error::Api(status) => {
                let namespace = self.namespace.unwrap_or("(all)").to_string();
                match status.code {
                    404 => match self.name {
                        Some(name) if is_object_not_found(&status, name) => {
                            ClusterError::RolloutNotFound {
                                context,
                                namespace,
                                name: name.to_string(),
                            }
                        }
                        // A 404 on a rollouts URL that is not about the object: the
                        // resource type itself is missing, so the CRD is not installed.
                        _ if self.action.contains("rollouts") => {
                            ClusterError::ArgoNotInstalled { context }
                        }
                        _ => ClusterError::Api {
                            context,
                            action,
                            code: 404,
                            reason: status.reason.clone(),
                            message: crate::redact::redact(&status.message),
                        },
                    },
                    403 => ClusterError::Forbidden {
                        context,
                        namespace,
                        action,
                        message: crate::redact::redact(&status.message),
                    },
                    401 => ClusterError::Auth {
                        context,
                        message: format!(
                            "401 Unauthorized: {}",
                            crate::redact::redact(&status.message)
                        ),
                    },
                    code => ClusterError::Api {
                        context,
                        action,
                        code,
                        reason: status.reason.clone(),
                        message: crate::redact::redact(&status.message),
                    },
                }
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) => ClusterError::Unreachable {
                url: super::kubeconfig::server_url(self.context)
                    .map_or_else(|| "(unknown URL)".into(), |u| crate::redact::redact_url(&u)),
                timeout_secs: super::kubeconfig::CONNECT_TIMEOUT.as_secs(),
                message: chain(&err),
                context,
            },
            kube::Error::Auth(_) => ClusterError::Auth {
                context,
                message: chain(&err),
            },
            other => ClusterError::Unexpected {
                context,
                action,
                message: chain(&other),
            },
        }
    }
}

/// A 404 about the named object (its `details.name`) rather than about a missing resource
/// type: the API server says "rollouts.argoproj.io \"x\" not found" for the first and "the
/// server could not find the requested resource" (no details) for the second.
fn is_object_not_found(status: &kube::core::Status, name: &str) -> bool {
    status.details.as_ref().is_some_and(|d| d.name == name)
        || status.message.contains(&format!("\"{name}\" not found"))
}

/// An error and its sources, joined with ": " (kube's own messages are terse), with every
/// secret taken out: an exec credential plugin's environment and output are replaced by
/// words, URLs lose their credentials and registered secret values are masked
/// ([`crate::redact::redact`]). Every message built from a kube error goes through here.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut replacements = Vec::new();
    let mut level: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = level {
        let text = e.to_string();
        if let Some(safe) = exec_plugin_words(e) {
            replacements.push((text.clone(), safe));
        }
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        level = e.source();
    }
    // Outer levels quote inner ones: replace the innermost's raw words everywhere.
    for (raw, safe) in replacements.iter().rev() {
        out = out.replace(raw.as_str(), safe);
    }
    crate::redact::redact(&out)
}

/// Words for an exec credential plugin failure that hold none of what kube quotes: the
/// command line with its environment (tokens passed as env values) and the plugin's output.
fn exec_plugin_words(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    match err.downcast_ref::<kube::client::AuthError>()? {
        kube::client::AuthError::AuthExecRun { out, .. } => Some(format!(
            "the exec credential plugin failed ({}); its output and environment are not shown \
             because they may hold credentials: run the plugin's command from the kubeconfig \
             user entry in a terminal to see what it says",
            out.status
        )),
        kube::client::AuthError::AuthExecParse(_) => Some(
            "the exec credential plugin printed something that is not an ExecCredential (not \
             shown because it may hold credentials): run the plugin's command in a terminal \
             and check that it prints ExecCredential JSON"
                .into(),
        ),
        _ => None,
    }
}
