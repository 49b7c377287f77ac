//! undo for Argo Rollouts: the pod template of an earlier revision's ReplicaSet goes back
//! into the rollout (`replace /spec/template`), as `kubectl argo rollouts undo` does.

use super::verbs::{effective_pin, pin_tests};
use crate::cluster::{POD_TEMPLATE_HASH_LABEL, revision_of};
use crate::model::{Pin, Rollout, RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use k8s_openapi::api::apps::v1::ReplicaSet;
use serde_json::{Value, json};

/// undo: put the pod template of an earlier revision back (`replace /spec/template`), the
/// previous revision by default, as `kubectl argo rollouts undo`. Pinned to the pod hash
/// running now (`pin`, else as read): the API server refuses the patch once another revision
/// rolls out. `to_hash`, when given, is the target revision's pod hash as the caller saw it.
pub fn plan_undo(
    target: &RolloutRef,
    ro: &Rollout,
    replica_sets: &[ReplicaSet],
    to_revision: Option<i64>,
    pin: Option<&Pin>,
    to_hash: Option<&str>,
) -> Result<Plan, OrchestratorError> {
    let verb = Verb::Undo;
    // Without a pin, the revision running as read: a step moving on does not matter here.
    let running = Pin {
        pod_hash: Pin::of_rollout(ro).pod_hash,
        ..Pin::default()
    };
    let pin = effective_pin(target, verb, ro, Some(pin.unwrap_or(&running)))?;
    let Some(current_template) = &ro.spec.template else {
        return Err(OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason:
                "its pod template comes from a workloadRef; undo the referenced Deployment instead"
                    .into(),
        });
    };
    let mut revisions: Vec<(i64, &ReplicaSet)> = replica_sets
        .iter()
        .filter_map(|rs| revision_of(rs).map(|r| (r, rs)))
        .collect();
    revisions.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
    let known: Vec<i64> = revisions.iter().map(|(r, _)| *r).collect();
    // The revision running now: its ReplicaSet's (by pod hash), which stays right even when
    // the rollout's own revision annotation lags; else that annotation; else the newest.
    let current_hash = ro
        .status
        .as_ref()
        .and_then(|s| s.current_pod_hash.as_deref());
    let current = revisions
        .iter()
        .find(|(_, rs)| {
            current_hash.is_some()
                && rs
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(POD_TEMPLATE_HASH_LABEL))
                    .map(String::as_str)
                    == current_hash
        })
        .map(|(r, _)| *r)
        .or_else(|| rollout_revision(ro))
        .or_else(|| known.first().copied());
    let wanted = match to_revision {
        Some(r) if r > 0 => revisions.iter().find(|(rev, _)| *rev == r),
        _ => revisions.iter().find(|(rev, _)| Some(*rev) != current),
    };
    let Some((revision, rs)) = wanted else {
        return Err(match to_revision {
            Some(r) if r > 0 => OrchestratorError::RevisionNotFound {
                target: target.clone(),
                revision: r,
                known,
            },
            _ => OrchestratorError::NotApplicable {
                target: target.clone(),
                verb,
                reason: format!(
                    "there is no earlier revision to go back to (revisions: {})",
                    known
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        });
    };
    let hash = rs
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_TEMPLATE_HASH_LABEL))
        .cloned();
    if let Some(seen) = to_hash
        && hash.as_deref() != Some(seen)
    {
        return Err(OrchestratorError::RevisionChanged {
            target: target.clone(),
            revision: *revision,
            hashes: format!(
                "pod hash {}, not {seen}",
                hash.as_deref().unwrap_or("(none)")
            ),
        });
    }
    let mut template = rs
        .spec
        .template
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(Value::Null);
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.from_step = None;
    if without_nulls(&template) == without_nulls(current_template) {
        plan.summary =
            format!("nothing to do: the pod template already matches revision {revision}");
        return Ok(plan);
    }
    let mut ops = pin_tests(&pin);
    ops.push(json!({"op": "replace", "path": "/spec/template", "value": template}));
    plan.patches.push(PlannedPatch {
        subresource: Subresource::Main,
        body: PatchBody::Json(ops),
    });
    plan.pin = Some(pin);
    plan.summary = match current {
        Some(c) => {
            format!("rolled back: pod template of revision {revision} restored (was revision {c})")
        }
        None => format!("rolled back: pod template of revision {revision} restored"),
    };
    Ok(plan)
}

/// JSON with every `null` member dropped, to compare templates as the API server stores them.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// `rollout.argoproj.io/revision` of the rollout: the revision its template is.
fn rollout_revision(ro: &Rollout) -> Option<i64> {
    ro.metadata
        .annotations
        .as_ref()?
        .get(crate::model::view::REVISION_ANNOTATION)?
        .parse()
        .ok()
}
