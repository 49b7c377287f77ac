//! The ReplicaSets of earlier revisions, as Argo scales them: the stable one keeps its pods
//! while a canary runs (all of them with traffic routing), the others go to zero — at once for
//! a canary, after `scaleDownDelaySeconds` (marked by a `scale-down-deadline` annotation) for
//! the previous active ReplicaSet of a blue-green rollout.

use super::hash::POD_TEMPLATE_HASH_LABEL;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// Argo's annotation on an old ReplicaSet waiting out `scaleDownDelaySeconds`.
pub const SCALE_DOWN_DEADLINE_ANNOTATION: &str = "scale-down-deadline";
/// Argo's default `scaleDownDelaySeconds` for blue-green.
const DEFAULT_SCALE_DOWN_DELAY_SECONDS: f64 = 30.0;

/// The ReplicaSets among `replica_sets` that `rollout` owns (Rollout ownerReference with its
/// name, and its uid when both have one), in the rollout's namespace.
pub fn owned_replica_sets<'a>(rollout: &Value, replica_sets: &'a [Value]) -> Vec<&'a Value> {
    let meta = &rollout["metadata"];
    replica_sets
        .iter()
        .filter(|rs| rs["metadata"]["namespace"] == meta["namespace"])
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| {
                    o["kind"] == "Rollout"
                        && o["name"] == meta["name"]
                        && (o["uid"].is_null() || meta["uid"].is_null() || o["uid"] == meta["uid"])
                })
        })
        .collect()
}

/// The pod-template hash a ReplicaSet carries.
pub fn hash_of(replica_set: &Value) -> Option<&str> {
    replica_set["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL].as_str()
}

fn replicas_of(replica_set: &Value) -> i64 {
    replica_set["spec"]["replicas"].as_i64().unwrap_or(0)
}

/// The old ReplicaSets of `rollout` (given its current status) whose scale or scale-down
/// deadline must change now, rewritten. Empty at rest, so an idle lab writes nothing.
pub fn scale_old_replica_sets(
    rollout: &Value,
    owned: &[&Value],
    now: Timestamp,
    speed: f64,
) -> Vec<Value> {
    let status = &rollout["status"];
    let Some(current) = status["currentPodHash"].as_str() else {
        return Vec::new();
    };
    let spec = &rollout["spec"];
    let replicas = spec["replicas"].as_i64().unwrap_or(1).max(0);
    let blue_green = &spec["strategy"]["blueGreen"];
    let mut changed = Vec::new();
    for rs in owned {
        let Some(hash) = hash_of(rs) else { continue };
        if hash == current {
            continue;
        }
        let have = replicas_of(rs);
        let deadline = rs["metadata"]["annotations"][SCALE_DOWN_DEADLINE_ANNOTATION].as_str();
        // The replicas it should have, and the deadline annotation it should carry.
        let (desired, want_deadline) = if blue_green.is_object() {
            if status["blueGreen"]["activeSelector"].as_str() == Some(hash) {
                (replicas, deadline.map(String::from))
            } else if have == 0 {
                (0, None)
            } else {
                match deadline.map(str::parse::<Timestamp>) {
                    Some(Ok(at)) if at > now => (have, deadline.map(String::from)),
                    Some(_) => (0, None),
                    None => {
                        let delay = blue_green["scaleDownDelaySeconds"]
                            .as_f64()
                            .unwrap_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS);
                        let wall = SignedDuration::from_secs_f64((delay / speed).max(0.0));
                        let at = Timestamp::from_second((now + wall).as_second()).unwrap_or(now);
                        (have, Some(at.to_string()))
                    }
                }
            }
        } else if status["stableRS"].as_str() == Some(hash) {
            let canary = status["updatedReplicas"].as_i64().unwrap_or(0);
            let stable = if spec["strategy"]["canary"]["trafficRouting"].is_object() {
                replicas
            } else {
                (replicas - canary).max(0)
            };
            (stable, None)
        } else {
            (0, None)
        };
        let status_counts = [
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
        ];
        let at_rest = have == desired
            && deadline == want_deadline.as_deref()
            && status_counts
                .iter()
                .all(|f| rs["status"][*f].as_i64() == Some(desired));
        if at_rest {
            continue;
        }
        let mut next = (*rs).clone();
        next["spec"]["replicas"] = json!(desired);
        for field in status_counts {
            next["status"][field] = json!(desired);
        }
        match want_deadline {
            Some(at) => next["metadata"]["annotations"][SCALE_DOWN_DEADLINE_ANNOTATION] = json!(at),
            None => {
                if let Some(map) = next["metadata"]["annotations"].as_object_mut() {
                    map.remove(SCALE_DOWN_DEADLINE_ANNOTATION);
                }
            }
        }
        changed.push(next);
    }
    changed
}
