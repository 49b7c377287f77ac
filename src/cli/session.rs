//! From the global flags to a client: kubeconfig, context, namespace (or all namespaces).

use super::GlobalArgs;
use crate::cluster::{ClusterError, LoadedKubeconfig};
use crate::model::RolloutRef;

/// The cluster a CLI invocation talks to.
pub struct Session {
    pub kubeconfig: LoadedKubeconfig,
    pub context: String,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// `-A`: list across all namespaces.
    pub all_namespaces: bool,
    pub client: kube::Client,
}

impl Session {
    /// Loads the kubeconfig and builds the context's client; sends nothing. Says on stderr
    /// (`warning:` lines) when the context's connection is unsafe.
    pub async fn open(global: &GlobalArgs) -> Result<Session, ClusterError> {
        let kubeconfig = LoadedKubeconfig::load(global.kubeconfig.as_deref())?;
        let context = kubeconfig.resolve_context(global.context.as_deref())?;
        for warning in kubeconfig.security_warnings_of(&context) {
            eprintln!("warning: {warning}");
        }
        let namespace = global
            .namespace
            .clone()
            .unwrap_or_else(|| kubeconfig.default_namespace(&context));
        let client = kubeconfig.client(&context).await?;
        Ok(Session {
            kubeconfig,
            context,
            namespace,
            all_namespaces: global.all_namespaces,
            client,
        })
    }

    /// The rollout `name` in this session's context and namespace.
    pub fn target(&self, name: &str) -> RolloutRef {
        RolloutRef::new(&self.context, &self.namespace, name)
    }

    /// The namespace to list in; `None` for all namespaces.
    pub fn list_scope(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.namespace.as_str())
    }
}
