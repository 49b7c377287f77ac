//! The read path of weighted (Gateway API) releases: the HTTPRoutes annotated
//! `release-cockpit.io/release`, with their stable and canary Services' Deployments and
//! ReplicaSets, into `RolloutView`s beside the Argo rollouts. A cluster without the Gateway
//! API (404 on httproutes) simply has none.

use super::error::{Attempt, ClusterError};
use crate::model::gateway::{RELEASE_ANNOTATION, Side, WeightedRoute};
use crate::model::{RolloutRef, RolloutView};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;
use std::collections::BTreeMap;

/// The label kube-controller-manager puts on a Deployment's ReplicaSets.
pub const DEPLOYMENT_HASH_LABEL: &str = "pod-template-hash";

/// The HTTPRoute kind, as the Gateway API's CRD declares it.
pub fn http_route_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    )
}

/// Every weighted release in `namespace` (all with `None`), sorted like the rollouts.
pub async fn list_weighted(
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
    let routes = list_custom(
        client,
        namespace,
        &http_route_resource(),
        attempt("list httproutes"),
    )
    .await?;
    let releases: Vec<(String, Option<String>, WeightedRoute)> = routes
        .iter()
        .filter(|r| {
            r.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(RELEASE_ANNOTATION))
        })
        .filter_map(|r| {
            let value = serde_json::to_value(r).ok()?;
            let route = WeightedRoute::from_route(&value).ok()?;
            let created = r
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string());
            Some((r.metadata.namespace.clone()?, created, route))
        })
        .collect();
    if releases.is_empty() {
        return Ok(Vec::new());
    }
    let (services, deployments, replica_sets) = tokio::try_join!(
        list_of::<Service>(client, namespace, attempt("list services")),
        list_of::<Deployment>(client, namespace, attempt("list deployments")),
        list_of::<ReplicaSet>(client, namespace, attempt("list replicasets")),
    )?;
    let mut views: Vec<RolloutView> = releases
        .iter()
        .map(|(ns, created, route)| {
            let side = |service: &str| side_of(ns, service, &services, &deployments, &replica_sets);
            route.view(
                context,
                ns,
                created.clone(),
                &side(&route.stable.service),
                &side(&route.canary.service),
            )
        })
        .collect();
    views.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(views)
}

/// The weighted release `target` names, as a view.
pub async fn get_weighted(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RolloutView, ClusterError> {
    let views = list_weighted(client, &target.context, Some(&target.namespace)).await?;
    views
        .into_iter()
        .find(|v| v.reference.name == target.name)
        .ok_or_else(|| ClusterError::RolloutNotFound {
            context: target.context.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        })
}

/// Every object of a custom `resource` in `namespace` (all with `None`); none when its CRD is
/// not installed (404), a refusal or failure as `attempt` says it.
pub(super) async fn list_custom(
    client: &kube::Client,
    namespace: Option<&str>,
    resource: &ApiResource,
    attempt: Attempt<'_>,
) -> Result<Vec<DynamicObject>, ClusterError> {
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    };
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Vec::new()),
        Err(e) => Err(attempt.error(e)),
    }
}

pub(super) async fn list_of<K>(
    client: &kube::Client,
    namespace: Option<&str>,
    attempt: Attempt<'_>,
) -> Result<Vec<K>, ClusterError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| attempt.error(e))
}

/// The Deployment whose pod template `service`'s selector matches.
fn deployment_behind<'a>(
    namespace: &str,
    service: &str,
    services: &[Service],
    deployments: &'a [Deployment],
) -> Option<&'a Deployment> {
    let in_ns = |ns: &Option<String>| ns.as_deref() == Some(namespace);
    let selector = services
        .iter()
        .find(|s| in_ns(&s.metadata.namespace) && s.metadata.name.as_deref() == Some(service))
        .and_then(|s| s.spec.as_ref()?.selector.clone())
        .filter(|s| !s.is_empty())?;
    let matches = |labels: Option<&BTreeMap<String, String>>| {
        labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
    };
    deployments.iter().find(|d| {
        in_ns(&d.metadata.namespace)
            && matches(
                d.spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.as_ref()),
            )
    })
}

/// The Deployment behind `service` and the hash of its newest ReplicaSet.
fn side_of(
    namespace: &str,
    service: &str,
    services: &[Service],
    deployments: &[Deployment],
    replica_sets: &[ReplicaSet],
) -> Side {
    match deployment_behind(namespace, service, services, deployments) {
        Some(deployment) => side_of_deployment(namespace, deployment, replica_sets),
        None => Side::default(),
    }
}

/// `deployment` and the hash of its newest ReplicaSet as one side of a release.
pub fn side_of_deployment(
    namespace: &str,
    deployment: &Deployment,
    replica_sets: &[ReplicaSet],
) -> Side {
    let newest = replica_sets
        .iter()
        .filter(|rs| rs.metadata.namespace.as_deref() == Some(namespace))
        .filter(|rs| owned_by(rs, deployment))
        .max_by_key(|rs| deployment_revision(rs));
    let template = serde_json::to_value(&deployment.spec.template).unwrap_or(Value::Null);
    let images = template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["image"].as_str().map(String::from))
        .collect();
    let status = deployment.status.clone().unwrap_or_default();
    Side {
        hash: newest.and_then(|rs| {
            rs.metadata
                .labels
                .as_ref()?
                .get(DEPLOYMENT_HASH_LABEL)
                .cloned()
        }),
        images,
        replicas: status.replicas.unwrap_or(0),
        ready: status.ready_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        updated: status.updated_replicas.unwrap_or(0),
    }
}

/// The Deployment behind Service `service` of a weighted release, with the ReplicaSets it
/// owns (its revisions), for the verbs that change a Deployment (undo).
pub async fn release_deployment(
    client: &kube::Client,
    target: &RolloutRef,
    service: &str,
) -> Result<Option<(Deployment, Vec<ReplicaSet>)>, ClusterError> {
    let namespace = Some(target.namespace.as_str());
    let attempt = |action| Attempt {
        context: &target.context,
        namespace,
        name: None,
        action,
    };
    let (services, deployments, replica_sets) = tokio::try_join!(
        list_of::<Service>(client, namespace, attempt("list services")),
        list_of::<Deployment>(client, namespace, attempt("list deployments")),
        list_of::<ReplicaSet>(client, namespace, attempt("list replicasets")),
    )?;
    let Some(deployment) = deployment_behind(&target.namespace, service, &services, &deployments)
    else {
        return Ok(None);
    };
    let owned = replica_sets
        .into_iter()
        .filter(|rs| owned_by(rs, deployment))
        .collect();
    Ok(Some((deployment.clone(), owned)))
}

fn owned_by(rs: &ReplicaSet, deployment: &Deployment) -> bool {
    rs.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "Deployment" && Some(&o.uid) == deployment.metadata.uid.as_ref())
}

/// `deployment.kubernetes.io/revision` of a Deployment's ReplicaSet (0 when absent).
pub fn deployment_revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}
