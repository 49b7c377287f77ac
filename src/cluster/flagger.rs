//! The read path of Flagger canaries: `flagger.app/v1beta1` Canaries with their primary
//! (`NAME-primary`, stable) and target (`NAME`, canary) Deployments and ReplicaSets, into
//! `RolloutView`s beside the Argo rollouts. A cluster without Flagger (404 on canaries)
//! simply has none.

use super::error::{Attempt, ClusterError};
use super::weighted::{list_custom, list_of, side_of_deployment};
use crate::model::flagger::view_of;
use crate::model::gateway::Side;
use crate::model::{RolloutRef, RolloutView};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{ApiResource, GroupVersionKind};
use serde_json::Value;

/// The Canary kind, as Flagger's CRD declares it.
pub fn canary_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary"),
        "canaries",
    )
}

/// Every Flagger canary in `namespace` (all with `None`), sorted like the rollouts.
pub async fn list_canaries(
    client: &kube::Client,
    context: &str,
    namespace: Option<&str>,
) -> Result<Vec<RolloutView>, ClusterError> {
    let attempt = |action| Attempt {
        context,
        namespace,
        name: None,
        action,
    };
    let canaries = list_custom(
        client,
        namespace,
        &canary_resource(),
        attempt("list canaries.flagger.app"),
    )
    .await?;
    if canaries.is_empty() {
        return Ok(Vec::new());
    }
    let (deployments, replica_sets) = tokio::try_join!(
        list_of::<Deployment>(client, namespace, attempt("list deployments")),
        list_of::<ReplicaSet>(client, namespace, attempt("list replicasets")),
    )?;
    let mut views: Vec<RolloutView> = canaries
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .map(|canary| view_with(context, &canary, &deployments, &replica_sets))
        .collect();
    views.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(views)
}

/// The Flagger canary `target` names, as a view.
pub async fn get_canary(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RolloutView, ClusterError> {
    let views = list_canaries(client, &target.context, Some(&target.namespace)).await?;
    views
        .into_iter()
        .find(|v| v.reference.name == target.name)
        .ok_or_else(|| ClusterError::RolloutNotFound {
            context: target.context.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        })
}

/// Any release as its provider shows it: an Argo rollout, a weighted (Gateway API) release
/// or a Flagger canary (what `analyze` and `auto` judge).
pub async fn get_release(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RolloutView, ClusterError> {
    match target.provider {
        crate::model::Provider::Argo => super::get_rollout(client, target).await.map(|(_, v)| v),
        crate::model::Provider::Gateway => super::get_weighted(client, target).await,
        crate::model::Provider::Flagger => get_canary(client, target).await,
    }
}

fn view_with(
    context: &str,
    canary: &Value,
    deployments: &[Deployment],
    replica_sets: &[ReplicaSet],
) -> RolloutView {
    let namespace = canary["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = canary["metadata"]["name"].as_str().unwrap_or_default();
    let target = canary["spec"]["targetRef"]["name"].as_str().unwrap_or(name);
    let side = |deployment: &str| {
        deployments
            .iter()
            .find(|d| {
                d.metadata.namespace.as_deref() == Some(namespace)
                    && d.metadata.name.as_deref() == Some(deployment)
            })
            .map(|d| side_of_deployment(namespace, d, replica_sets))
            .unwrap_or_else(Side::default)
    };
    view_of(
        context,
        canary,
        &side(&format!("{target}-primary")),
        &side(target),
    )
}
