//! The revisions of a release made of two Deployments (a weighted release, a Flagger canary):
//! the ReplicaSets of the Deployment that runs stable and of the one that runs the canary,
//! found from the view's hashes, for the release report's versions and roles over time.

use super::error::{Attempt, ClusterError};
use super::weighted::{DEPLOYMENT_HASH_LABEL, deployment_revision, list_of};
use crate::model::{RolloutRef, RolloutView};
use k8s_openapi::api::apps::v1::ReplicaSet;

/// One ReplicaSet of a side: its pod-template hash and its Deployment revision.
#[derive(Clone, Debug, PartialEq)]
pub struct SideRevision {
    pub hash: String,
    pub revision: i64,
}

/// The ReplicaSets of each side's Deployment, newest revision first. Revisions count per
/// Deployment, so a stable revision and a canary revision are never compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReleaseRevisions {
    pub stable: Vec<SideRevision>,
    pub canary: Vec<SideRevision>,
}

/// The ReplicaSets of the Deployments that own the ReplicaSets of `view`'s stable and canary
/// hashes, in `target`'s namespace.
pub async fn release_revisions(
    client: &kube::Client,
    target: &RolloutRef,
    view: &RolloutView,
) -> Result<ReleaseRevisions, ClusterError> {
    let all = list_of::<ReplicaSet>(
        client,
        Some(&target.namespace),
        Attempt {
            context: &target.context,
            namespace: Some(&target.namespace),
            name: None,
            action: "list replicasets",
        },
    )
    .await?;
    Ok(revisions_of(
        &all,
        view.stable_hash.as_deref(),
        view.current_hash.as_deref(),
    ))
}

/// Each side's ReplicaSets among `all`: those owned by the Deployment that owns the one with
/// the side's hash.
pub fn revisions_of(
    all: &[ReplicaSet],
    stable_hash: Option<&str>,
    canary_hash: Option<&str>,
) -> ReleaseRevisions {
    let side = |hash: Option<&str>| -> Vec<SideRevision> {
        let Some(owner) = hash
            .and_then(|h| all.iter().find(|rs| hash_of(rs) == Some(h)))
            .and_then(deployment_uid)
        else {
            return Vec::new();
        };
        let mut owned: Vec<SideRevision> = all
            .iter()
            .filter(|rs| deployment_uid(rs) == Some(owner))
            .filter_map(|rs| {
                Some(SideRevision {
                    hash: hash_of(rs)?.to_string(),
                    revision: deployment_revision(rs),
                })
            })
            .collect();
        owned.sort_by_key(|r| std::cmp::Reverse(r.revision));
        owned
    };
    ReleaseRevisions {
        stable: side(stable_hash),
        canary: side(canary_hash),
    }
}

fn hash_of(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .labels
        .as_ref()?
        .get(DEPLOYMENT_HASH_LABEL)
        .map(String::as_str)
}

fn deployment_uid(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "Deployment")
        .map(|o| o.uid.as_str())
}
