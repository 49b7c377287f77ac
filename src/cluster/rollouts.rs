//! The read path: list and get `rollouts.argoproj.io/v1alpha1` into `RolloutView`s, and the
//! rollout's ReplicaSets (revisions, images by role, exact canary weight, undo templates).

use super::analysis_runs::rollout_analysis_runs;
use super::error::{Attempt, ClusterError};
use crate::model::view::REVISION_ANNOTATION;
use crate::model::{AnalysisRunSummary, Rollout, RolloutRef, RolloutView, VersionRole};
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;

/// The label Argo puts on every ReplicaSet and pod it creates: the pod-template hash.
pub const POD_TEMPLATE_HASH_LABEL: &str = "rollouts-pod-template-hash";

/// Every rollout in `namespace` (or in all namespaces with `None`), sorted by namespace and
/// name. A 404 means the CRD is missing: [`ClusterError::ArgoNotInstalled`].
pub async fn list_rollouts(
    client: &kube::Client,
    context: &str,
    namespace: Option<&str>,
) -> Result<Vec<RolloutView>, ClusterError> {
    let api: Api<Rollout> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let attempt = Attempt {
        context,
        namespace,
        name: None,
        action: "list rollouts",
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| attempt.error(e))?;
    let mut views: Vec<RolloutView> = list
        .items
        .iter()
        .map(|ro| RolloutView::from_rollout(context, ro))
        .collect();
    views.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(views)
}

/// One rollout, raw and as a view.
pub async fn get_rollout(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<(Rollout, RolloutView), ClusterError> {
    let rollout = fetch_rollout(client, target).await?;
    let view = RolloutView::from_rollout(&target.context, &rollout);
    Ok((rollout, view))
}

pub(crate) async fn fetch_rollout(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Rollout, ClusterError> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), &target.namespace);
    api.get(&target.name).await.map_err(|e| {
        Attempt {
            context: &target.context,
            namespace: Some(&target.namespace),
            name: Some(&target.name),
            action: "get rollouts",
        }
        .error(e)
    })
}

/// One ReplicaSet of a rollout: a revision of its pod template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetInfo {
    pub name: String,
    pub hash: String,
    pub revision: Option<i64>,
    pub replicas: i32,
    pub available: i32,
    pub images: Vec<String>,
    /// The pod template as JSON (what `undo` puts back).
    pub template: Option<serde_json::Value>,
}

/// An image running in the rollout and the roles of the ReplicaSets that run it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaggedImage {
    pub image: String,
    pub roles: Vec<VersionRole>,
}

/// A rollout with its ReplicaSets: what `kubectl argo rollouts get rollout` shows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutDetail {
    #[serde(flatten)]
    pub view: RolloutView,
    /// Newest revision first.
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub tagged_images: Vec<TaggedImage>,
    /// The controller's AnalysisRuns for the rollout, newest first (empty when there are none
    /// or they may not be listed).
    #[serde(default)]
    pub analysis_runs: Vec<AnalysisRunSummary>,
}

/// The rollout, its ReplicaSets and its AnalysisRuns; the actual weight of a canary without
/// traffic routing is then exact. When listing ReplicaSets or AnalysisRuns is not allowed,
/// the detail has none.
pub async fn describe_rollout(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RolloutDetail, ClusterError> {
    let rollout = fetch_rollout(client, target).await?;
    let replica_sets = match rollout_replica_sets(client, target, &rollout).await {
        Ok(rs) => Some(rs),
        Err(ClusterError::Forbidden { .. }) => None,
        Err(e) => return Err(e),
    };
    let analysis_runs = match rollout_analysis_runs(client, target, &rollout).await {
        Ok(runs) => runs,
        Err(ClusterError::Forbidden { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut detail = detail_of(&target.context, &rollout, replica_sets.as_deref());
    detail.analysis_runs = analysis_runs;
    Ok(detail)
}

/// The ReplicaSets the rollout owns (by ownerReference uid), newest revision first.
pub async fn rollout_replica_sets(
    client: &kube::Client,
    target: &RolloutRef,
    rollout: &Rollout,
) -> Result<Vec<ReplicaSet>, ClusterError> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &target.namespace);
    let list = api.list(&ListParams::default()).await.map_err(|e| {
        Attempt {
            context: &target.context,
            namespace: Some(&target.namespace),
            name: None,
            action: "list replicasets",
        }
        .error(e)
    })?;
    Ok(owned_replica_sets(rollout, list.items))
}

/// Keeps the ReplicaSets owned by `rollout`, newest revision first.
pub fn owned_replica_sets(rollout: &Rollout, all: Vec<ReplicaSet>) -> Vec<ReplicaSet> {
    let uid = rollout.meta().uid.clone();
    let mut owned: Vec<ReplicaSet> = all
        .into_iter()
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|o| o.kind == "Rollout" && Some(&o.uid) == uid.as_ref())
        })
        .collect();
    owned.sort_by_key(|rs| std::cmp::Reverse(revision_of(rs)));
    owned
}

/// `rollout.argoproj.io/revision` of a ReplicaSet.
pub fn revision_of(rs: &ReplicaSet) -> Option<i64> {
    rs.annotations()
        .get(REVISION_ANNOTATION)
        .and_then(|r| r.parse().ok())
}

/// Builds the detail from a rollout and (when they could be listed) its ReplicaSets.
pub fn detail_of(
    context: &str,
    rollout: &Rollout,
    replica_sets: Option<&[ReplicaSet]>,
) -> RolloutDetail {
    let Some(replica_sets) = replica_sets else {
        let view = RolloutView::from_rollout(context, rollout);
        return RolloutDetail {
            tagged_images: view
                .images
                .iter()
                .map(|i| TaggedImage {
                    image: i.clone(),
                    roles: Vec::new(),
                })
                .collect(),
            view,
            replica_sets: Vec::new(),
            analysis_runs: Vec::new(),
        };
    };
    let infos: Vec<ReplicaSetInfo> = owned_replica_sets(rollout, replica_sets.to_vec())
        .iter()
        .map(replica_set_info)
        .collect();
    let status = rollout.status.clone().unwrap_or_default();
    let is_canary = rollout.spec.strategy.canary.is_some();
    let roles_of = |hash: &str| -> Vec<VersionRole> {
        let mut roles = Vec::new();
        let stable = status.stable_rs.as_deref() == Some(hash);
        if is_canary {
            if stable {
                roles.push(VersionRole::Stable);
            } else if status.current_pod_hash.as_deref() == Some(hash) {
                roles.push(VersionRole::Canary);
            }
        } else if rollout.spec.strategy.blue_green.is_some() {
            if stable {
                roles.push(VersionRole::Stable);
            }
            if status.blue_green.active_selector.as_deref() == Some(hash) {
                roles.push(VersionRole::Active);
            } else if status.blue_green.preview_selector.as_deref() == Some(hash) {
                roles.push(VersionRole::Preview);
            }
        }
        roles
    };
    let canary_available = infos
        .iter()
        .filter(|rs| roles_of(&rs.hash).contains(&VersionRole::Canary))
        .map(|rs| rs.available)
        .next_back()
        .unwrap_or(0);
    let view =
        RolloutView::from_rollout_with_replica_sets(context, rollout, Some(canary_available));
    // Argo's `Images()`: images of ReplicaSets that have pods, merged, sorted by image.
    let mut tagged: Vec<TaggedImage> = Vec::new();
    for rs in infos.iter().filter(|rs| rs.replicas > 0) {
        for image in &rs.images {
            let roles = roles_of(&rs.hash);
            match tagged.iter_mut().find(|t| &t.image == image) {
                Some(t) => {
                    t.roles.extend(roles);
                    t.roles.sort();
                    t.roles.dedup();
                }
                None => tagged.push(TaggedImage {
                    image: image.clone(),
                    roles,
                }),
            }
        }
    }
    tagged.sort_by(|a, b| a.image.cmp(&b.image));
    RolloutDetail {
        view,
        replica_sets: infos,
        tagged_images: tagged,
        analysis_runs: Vec::new(),
    }
}

/// What the window and `get` show of a ReplicaSet (and undo puts back: its template).
pub fn replica_set_info(rs: &ReplicaSet) -> ReplicaSetInfo {
    let template = rs.spec.template.as_ref();
    ReplicaSetInfo {
        name: rs.name_any(),
        hash: rs
            .labels()
            .get(POD_TEMPLATE_HASH_LABEL)
            .cloned()
            .unwrap_or_default(),
        revision: revision_of(rs),
        replicas: rs.status.as_ref().map_or(0, |s| s.replicas),
        available: rs
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0),
        images: template
            .and_then(|t| t.spec.as_ref())
            .map(|s| {
                s.containers
                    .iter()
                    .filter_map(|c| c.image.clone())
                    .collect()
            })
            .unwrap_or_default(),
        template: template.and_then(|t| serde_json::to_value(t).ok()),
    }
}

#[cfg(test)]
#[path = "rollouts_tests.rs"]
mod tests;
