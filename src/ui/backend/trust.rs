//! Who the user is and what they may change, per context and namespace, as the window
//! shows it in the status bar and on the action buttons. The one place where the window asks
//! the orchestration API's identity and access checks (issue 6).

use super::EventSink;
use crate::model::RolloutView;
use crate::ui::events::{Access, AppEvent, Identity};
use std::collections::HashSet;

/// What one context's watch already told the window.
#[derive(Default)]
pub struct Trust {
    identity_sent: bool,
    namespaces: HashSet<String>,
}

impl Trust {
    /// After a fleet snapshot: the identity once per connection, permissions once per
    /// namespace seen (the default namespace first, so an empty fleet still has an answer).
    pub async fn on_snapshot(
        &mut self,
        sink: &EventSink,
        _client: &kube::Client,
        context: &str,
        kubeconfig_user: Option<&str>,
        default_namespace: &str,
        rollouts: &[RolloutView],
    ) {
        if !self.identity_sent {
            self.identity_sent = true;
            if let Some(user) = kubeconfig_user {
                // Unverified: the kubeconfig's word, until SelfSubjectReview confirms it.
                sink.emit(AppEvent::Identity {
                    context: context.to_string(),
                    identity: Identity {
                        user: user.to_string(),
                        verified: false,
                    },
                });
            }
        }
        let namespaces = std::iter::once(default_namespace)
            .chain(rollouts.iter().map(|r| r.reference.namespace.as_str()));
        for namespace in namespaces {
            if self.namespaces.insert(namespace.to_string()) {
                // Without the access review every action is offered, and a refusal comes
                // back as the API server's 403 in the command's outcome.
                sink.emit(AppEvent::Access {
                    context: context.to_string(),
                    namespace: namespace.to_string(),
                    access: Access::ALL,
                });
            }
        }
    }
}
