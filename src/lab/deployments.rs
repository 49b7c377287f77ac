//! The lab's Deployment controller, as kube-controller-manager's behaves for what the cockpit
//! reads: a template change makes a new ReplicaSet (`NAME-HASH`, label `pod-template-hash`,
//! annotation `deployment.kubernetes.io/revision`), its pods become available a couple of lab
//! seconds after it is scaled, the old ReplicaSets go to zero once the new one is available,
//! and the Deployment's `status` sums them up, recording each scale as a `ScalingReplicaSet`
//! Event on the Deployment. A Deployment created with a status (a seed) is taken as already
//! running: its first ReplicaSet is available at once.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::controller::pod_template_hash;
use super::kind::Kind;
use super::store::{Part, Store, StoreError};

/// The label a Deployment's ReplicaSets and pods carry.
pub const DEPLOYMENT_HASH_LABEL: &str = "pod-template-hash";
/// The revision kube-controller-manager writes on a Deployment and its ReplicaSets.
pub const DEPLOYMENT_REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// When the lab last scaled a ReplicaSet: its pods are available [`AVAILABLE_AFTER_SECS`]
/// lab seconds later.
const SCALED_AT_ANNOTATION: &str = "lab.release-cockpit.io/scaled-at";
/// How long new pods take to become available, in lab seconds.
pub const AVAILABLE_AFTER_SECS: f64 = 2.0;

/// One pass over every Deployment: new ReplicaSets, availability, scale-down, status.
pub fn tick(store: &Store, now: Timestamp, speed: f64) {
    let (deployments, _) = store.list(Kind::Deployment, None);
    for deployment in &deployments {
        let (replica_sets, _) = store.list(
            Kind::ReplicaSet,
            deployment["metadata"]["namespace"].as_str(),
        );
        let owned: Vec<&Value> = replica_sets
            .iter()
            .filter(|rs| owned_by(rs, deployment))
            .collect();
        for write in reconcile(deployment, &owned, now, speed) {
            apply(store, deployment, write, now);
        }
    }
}

/// What the controller writes for one Deployment.
#[derive(Debug, PartialEq)]
enum Write {
    CreateReplicaSet(Value),
    ReplicaSet(Value),
    DeploymentStatus(Value),
    DeploymentRevision(String),
    /// ReplicaSet `replica_set` scaled from `from` to `to` pods: an Event on the Deployment.
    Scaled {
        replica_set: String,
        from: i64,
        to: i64,
    },
}

/// The component the Deployment controller records its Events as.
const DEPLOYMENT_CONTROLLER: &str = "deployment-controller";

fn owned_by(replica_set: &Value, deployment: &Value) -> bool {
    let meta = &deployment["metadata"];
    replica_set["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|o| o["kind"] == "Deployment" && o["name"] == meta["name"] && o["uid"] == meta["uid"])
}

fn replicas(object: &Value) -> i64 {
    object["spec"]["replicas"].as_i64().unwrap_or(1).max(0)
}

fn revision_of(replica_set: &Value) -> i64 {
    replica_set["metadata"]["annotations"][DEPLOYMENT_REVISION_ANNOTATION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The writes that bring `deployment` and its ReplicaSets (`owned`) one step closer to its
/// template; none at rest.
fn reconcile(deployment: &Value, owned: &[&Value], now: Timestamp, speed: f64) -> Vec<Write> {
    let meta = &deployment["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let template = &deployment["spec"]["template"];
    let hash = pod_template_hash(template);
    let desired = replicas(deployment);
    let now_text = now.to_string();
    let mut writes = Vec::new();
    let current = owned
        .iter()
        .find(|rs| rs["metadata"]["labels"][DEPLOYMENT_HASH_LABEL] == hash.as_str());
    let mut next: Vec<Value> = owned
        .iter()
        .filter(|rs| Some(*rs) != current)
        .map(|rs| (*rs).clone())
        .collect();
    let revision = owned.iter().map(|rs| revision_of(rs)).max().unwrap_or(0);
    let mut current = match current {
        Some(rs) => (*rs).clone(),
        None => {
            let seeded = owned.is_empty()
                && deployment["status"]["availableReplicas"].as_i64() == Some(desired);
            let created = new_replica_set(deployment, &hash, revision + 1, seeded, &now_text);
            writes.push(Write::CreateReplicaSet(created.clone()));
            writes.push(Write::DeploymentRevision((revision + 1).to_string()));
            if desired > 0 {
                writes.push(scaled(&created, 0, desired));
            }
            created
        }
    };
    let before = current.clone();
    if replicas(&current) != desired {
        writes.push(scaled(&current, replicas(&current), desired));
        current["spec"]["replicas"] = json!(desired);
        current["metadata"]["annotations"][SCALED_AT_ANNOTATION] = json!(now_text);
    }
    make_available(&mut current, now, speed);
    if current != before
        && !writes
            .iter()
            .any(|w| matches!(w, Write::CreateReplicaSet(_)))
    {
        writes.push(Write::ReplicaSet(current.clone()));
    }
    // Old pods go once the new ones serve (a rolling update with maxUnavailable 0).
    let rolled = available(&current) >= desired;
    for old in &mut next {
        let was = old.clone();
        if rolled && replicas(old) > 0 {
            writes.push(scaled(old, replicas(old), 0));
            old["spec"]["replicas"] = json!(0);
        }
        make_available(old, now, speed);
        if *old != was {
            writes.push(Write::ReplicaSet(old.clone()));
        }
    }
    let all: Vec<&Value> = next.iter().chain([&current]).collect();
    let sum = |field: &str| -> i64 {
        all.iter()
            .map(|rs| rs["status"][field].as_i64().unwrap_or(0))
            .sum()
    };
    let ready = sum("availableReplicas");
    let status = json!({
        "observedGeneration": meta["generation"],
        "replicas": sum("replicas"),
        "updatedReplicas": current["status"]["replicas"].as_i64().unwrap_or(0),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "conditions": [{
            "type": "Available",
            "status": if ready >= desired { "True" } else { "False" },
            "reason": if ready >= desired { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
        }, {
            "type": "Progressing",
            "status": "True",
            "reason": if available(&current) >= desired { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" },
            "message": format!("ReplicaSet \"{name}-{hash}\" is progressing."),
        }],
    });
    if without_times(&deployment["status"]) != without_times(&status) {
        writes.push(Write::DeploymentStatus(status));
    }
    writes
}

fn scaled(replica_set: &Value, from: i64, to: i64) -> Write {
    Write::Scaled {
        replica_set: replica_set["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        from,
        to,
    }
}

fn available(replica_set: &Value) -> i64 {
    replica_set["status"]["availableReplicas"]
        .as_i64()
        .unwrap_or(0)
}

/// Pods come up (or go) [`AVAILABLE_AFTER_SECS`] lab seconds after the last scale.
fn make_available(replica_set: &mut Value, now: Timestamp, speed: f64) {
    let want = replicas(replica_set);
    let status = &replica_set["status"];
    let settled = status["replicas"].as_i64() == Some(want) && available(replica_set) == want;
    if settled {
        return;
    }
    let scaled_at = replica_set["metadata"]["annotations"][SCALED_AT_ANNOTATION]
        .as_str()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let waited = scaled_at.is_none_or(|at| {
        now.duration_since(at).as_secs_f64() * speed.max(f64::MIN_POSITIVE) >= AVAILABLE_AFTER_SECS
    });
    // Scaling down is immediate; new pods wait to be available.
    let up = if waited {
        want
    } else {
        available(replica_set).min(want)
    };
    replica_set["status"] = json!({
        "replicas": want,
        "fullyLabeledReplicas": want,
        "readyReplicas": up,
        "availableReplicas": up,
        "observedGeneration": replica_set["metadata"]["generation"].as_i64().unwrap_or(1),
    });
}

fn new_replica_set(
    deployment: &Value,
    hash: &str,
    revision: i64,
    seeded: bool,
    now: &str,
) -> Value {
    let meta = &deployment["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let mut template = deployment["spec"]["template"].clone();
    template["metadata"]["labels"][DEPLOYMENT_HASH_LABEL] = json!(hash);
    let mut selector = deployment["spec"]["selector"].clone();
    selector["matchLabels"][DEPLOYMENT_HASH_LABEL] = json!(hash);
    let desired = replicas(deployment);
    let up = if seeded { desired } else { 0 };
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": meta["namespace"],
            "labels": template["metadata"]["labels"],
            "annotations": {
                DEPLOYMENT_REVISION_ANNOTATION: revision.to_string(),
                SCALED_AT_ANNOTATION: now,
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": meta["uid"], "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {"replicas": desired, "selector": selector, "template": template},
        "status": {"replicas": desired, "fullyLabeledReplicas": desired,
            "readyReplicas": up, "availableReplicas": up, "observedGeneration": 1},
    })
}

/// The status without condition times, to write only when something changed.
fn without_times(status: &Value) -> Value {
    let mut status = status.clone();
    if let Some(conditions) = status["conditions"].as_array_mut() {
        for c in conditions {
            if let Some(c) = c.as_object_mut() {
                c.remove("lastUpdateTime");
                c.remove("lastTransitionTime");
            }
        }
    }
    status
}

fn apply(store: &Store, deployment: &Value, write: Write, now: Timestamp) {
    let meta = &deployment["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    let result = match write {
        Write::CreateReplicaSet(rs) => store.create(Kind::ReplicaSet, rs).map(|_| ()),
        Write::ReplicaSet(rs) => {
            let rs_name = rs["metadata"]["name"].as_str().unwrap_or_default();
            [Part::Main, Part::Status].into_iter().try_for_each(|part| {
                store
                    .update(Kind::ReplicaSet, namespace, rs_name, part, |current| {
                        let mut next = current.clone();
                        next["spec"] = rs["spec"].clone();
                        next["status"] = rs["status"].clone();
                        next["metadata"]["annotations"] = rs["metadata"]["annotations"].clone();
                        Ok::<_, std::convert::Infallible>(next)
                    })
                    .map(|_| ())
                    .map_err(|e| StoreError::Invalid(e.to_string()))
            })
        }
        // Both on the version just read: a client's change meanwhile wins, the next tick
        // reconciles it.
        Write::DeploymentStatus(status) => store
            .update(Kind::Deployment, namespace, name, Part::Status, |current| {
                let mut next = current.clone();
                next["metadata"]["resourceVersion"] = meta["resourceVersion"].clone();
                next["status"] = status;
                Ok::<_, std::convert::Infallible>(next)
            })
            .map(|_| ())
            .map_err(|e| StoreError::Invalid(e.to_string())),
        // As kube-controller-manager words it.
        Write::Scaled {
            replica_set,
            from,
            to,
        } => {
            let event = super::controller::RolloutEvent {
                type_: "Normal",
                reason: "ScalingReplicaSet",
                message: format!(
                    "Scaled {} replica set {replica_set} from {from} to {to}",
                    if to > from { "up" } else { "down" }
                ),
            };
            super::run_loop::record_event(store, deployment, &event, now, DEPLOYMENT_CONTROLLER);
            Ok(())
        }
        Write::DeploymentRevision(revision) => store
            .update(Kind::Deployment, namespace, name, Part::Main, |current| {
                let mut next = current.clone();
                if !next["metadata"]["annotations"].is_object() {
                    next["metadata"]["annotations"] = json!({});
                }
                next["metadata"]["annotations"][DEPLOYMENT_REVISION_ANNOTATION] = json!(revision);
                Ok::<_, std::convert::Infallible>(next)
            })
            .map(|_| ())
            .map_err(|e| StoreError::Invalid(e.to_string())),
    };
    if let Err(e) = result {
        tracing::debug!("lab deployment controller, {namespace}/{name}: {e}");
    }
}

#[cfg(test)]
#[path = "deployments_tests.rs"]
mod tests;
