//! The revisions of a release made of two Deployments (a weighted release, a Flagger canary):
//! the ReplicaSets of the Deployment that runs stable and of the one that runs the canary,
//! found by name (Flagger) or from the view's hashes (weighted), for the release report.

use super::error::{Attempt, ClusterError};
use super::weighted::{DEPLOYMENT_HASH_LABEL, deployment_revision, list_of};
use crate::model::{RolloutRef, RolloutView};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

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

/// How a side's Deployment is found: by name (a Flagger canary's `NAME-primary` and `NAME`,
/// whose view shows no canary hash once promoted), or as the owner of the ReplicaSet with
/// the side's hash (a weighted release's, behind its Services).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SideOwner<'a> {
    Named(&'a str),
    OfHash(Option<&'a str>),
}

/// The ReplicaSets of `view`'s stable and canary Deployments, in `target`'s namespace.
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
    Ok(match &view.flagger {
        Some(f) => {
            let primary = format!("{}-primary", f.target);
            revisions_of(
                &all,
                SideOwner::Named(&primary),
                SideOwner::Named(&f.target),
            )
        }
        None => revisions_of(
            &all,
            SideOwner::OfHash(view.stable_hash.as_deref()),
            SideOwner::OfHash(view.current_hash.as_deref()),
        ),
    })
}

/// Each side's ReplicaSets among `all`: those owned by the side's Deployment.
pub fn revisions_of(all: &[ReplicaSet], stable: SideOwner, canary: SideOwner) -> ReleaseRevisions {
    let side = |owner: SideOwner| -> Vec<SideRevision> {
        let uid = match owner {
            SideOwner::Named(name) => all
                .iter()
                .filter_map(deployment_owner)
                .find(|o| o.name == name)
                .map(|o| o.uid.as_str()),
            SideOwner::OfHash(hash) => hash
                .and_then(|h| all.iter().find(|rs| hash_of(rs) == Some(h)))
                .and_then(deployment_owner)
                .map(|o| o.uid.as_str()),
        };
        let Some(uid) = uid else {
            return Vec::new();
        };
        let mut owned: Vec<SideRevision> = all
            .iter()
            .filter(|rs| deployment_owner(rs).is_some_and(|o| o.uid == uid))
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
        stable: side(stable),
        canary: side(canary),
    }
}

fn hash_of(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .labels
        .as_ref()?
        .get(DEPLOYMENT_HASH_LABEL)
        .map(String::as_str)
}

fn deployment_owner(rs: &ReplicaSet) -> Option<&OwnerReference> {
    rs.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "Deployment")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(name: &str, hash: &str, owner: &str, revision: i64) -> ReplicaSet {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": name,
                "labels": {DEPLOYMENT_HASH_LABEL: hash},
                "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                    "name": owner, "uid": format!("uid-{owner}")}],
            },
        }))
        .expect("a ReplicaSet")
    }

    fn hashes(side: &[SideRevision]) -> Vec<&str> {
        side.iter().map(|r| r.hash.as_str()).collect()
    }

    #[test]
    fn each_side_is_its_deployments_replica_sets_newest_first() {
        let all = [
            rs("podinfo-primary-aaa", "aaa", "podinfo-primary", 1),
            rs("podinfo-primary-bbb", "bbb", "podinfo-primary", 2),
            rs("podinfo-ccc", "ccc", "podinfo", 3),
        ];
        // Promoted: the view shows no canary hash, the target Deployment is found by name.
        let by_name = revisions_of(
            &all,
            SideOwner::Named("podinfo-primary"),
            SideOwner::Named("podinfo"),
        );
        assert_eq!(hashes(&by_name.stable), ["bbb", "aaa"]);
        assert_eq!(hashes(&by_name.canary), ["ccc"]);
        let by_hash = revisions_of(
            &all,
            SideOwner::OfHash(Some("aaa")),
            SideOwner::OfHash(None),
        );
        assert_eq!(hashes(&by_hash.stable), ["bbb", "aaa"]);
        assert!(by_hash.canary.is_empty());
    }
}
