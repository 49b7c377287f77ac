//! Who am I in this cluster: the user and groups the API server authenticated, asked with a
//! `SelfSubjectReview` (authentication.k8s.io/v1). Servers without it (404) get the
//! kubeconfig's user name, marked unverified.

use super::OrchestratorError;
use crate::cluster::{Attempt, kubeconfig_user};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Api, PostParams};
use serde::{Deserialize, Serialize};

/// The user the cockpit acts as in one context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user name as the API server knows it (or the kubeconfig user when unverified).
    pub user: String,
    pub groups: Vec<String>,
    /// True when the API server said so (SelfSubjectReview); false for the kubeconfig's name.
    pub verified: bool,
}

impl Identity {
    /// "lab-viewer" or "lab-viewer (unverified)", for messages and the status bar.
    pub fn display_name(&self) -> String {
        if self.verified {
            self.user.clone()
        } else {
            format!("{} (unverified)", self.user)
        }
    }
}

/// Asks the cluster of `context` who `client` is. A server without SelfSubjectReview (404),
/// or one that does not let the user ask (403), yields the kubeconfig user name of `context`
/// (known once its client was built), unverified.
pub async fn whoami(client: &kube::Client, context: &str) -> Result<Identity, OrchestratorError> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = SelfSubjectReview::default();
    match api.create(&PostParams::default(), &review).await {
        Ok(answer) => {
            let info = answer.status.and_then(|s| s.user_info).unwrap_or_default();
            match info.username.filter(|u| !u.is_empty()) {
                Some(user) => Ok(Identity {
                    user,
                    groups: info.groups.unwrap_or_default(),
                    verified: true,
                }),
                None => Ok(unverified(context)),
            }
        }
        Err(kube::Error::Api(status)) if matches!(status.code, 403..=405) => {
            Ok(unverified(context))
        }
        Err(err) => Err(OrchestratorError::Cluster(
            Attempt {
                context,
                namespace: None,
                name: None,
                action: "create selfsubjectreviews",
            }
            .error(err),
        )),
    }
}

fn unverified(context: &str) -> Identity {
    Identity {
        user: kubeconfig_user(context).unwrap_or_else(|| format!("unknown user of {context}")),
        groups: Vec::new(),
        verified: false,
    }
}
