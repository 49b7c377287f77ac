//! Where the user may look: one SelfSubjectAccessReview asks whether they may list rollouts
//! in all namespaces, so that a namespace-scoped user (RBAC in their team's namespace only)
//! is watched in their own namespace instead of failing cluster-wide with 403.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SubjectAccessReviewStatus,
};
use kube::api::{Api, PostParams};

/// What to ask an administrator for when rollouts cannot be listed in all namespaces.
pub const LIST_ALL_ROLLOUTS_GRANT_HINT: &str = "a ClusterRole granting verbs 'list' and 'watch' \
     on resource 'rollouts' (apiGroup argoproj.io), bound to you with a ClusterRoleBinding";

/// Asks the API server whether the user may do what `attributes` describe (a namespace of
/// `None` means all namespaces). `Ok(None)` when the server cannot answer: it serves no
/// SelfSubjectAccessReview (404, 405) or answered without a status.
pub async fn self_access_review(
    client: &kube::Client,
    attributes: ResourceAttributes,
) -> Result<Option<SubjectAccessReviewStatus>, kube::Error> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(attributes),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    match api.create(&PostParams::default(), &review).await {
        Ok(answer) => Ok(answer.status),
        Err(kube::Error::Api(status)) if matches!(status.code, 404 | 405) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Whether the user may `list rollouts.argoproj.io` in all namespaces (what a watch with
/// `-A` or the window's "all namespaces" needs). `None` when the server cannot answer, or
/// the question could not be sent (transport error, 401): the list itself will tell.
pub async fn may_list_all_rollouts(client: &kube::Client) -> Option<bool> {
    let attributes = ResourceAttributes {
        namespace: None,
        verb: Some("list".into()),
        group: Some("argoproj.io".into()),
        resource: Some("rollouts".into()),
        ..ResourceAttributes::default()
    };
    match self_access_review(client, attributes).await {
        Ok(status) => status.map(|s| s.allowed),
        Err(err) => {
            tracing::debug!("cannot ask whether rollouts may be listed in all namespaces: {err}");
            None
        }
    }
}
