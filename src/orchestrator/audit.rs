//! The audit trail on the cluster: the `release-cockpit.io/last-action` annotation on the
//! rollout and a core/v1 Event per command (what `kubectl describe rollout` shows), and
//! [`activity`], which reads those Events back for the window's activity panel beside the
//! controller's own Events about the rollout and its ReplicaSets.

use super::OrchestratorError;
use super::identity::Identity;
use super::plan::{PatchBody, Plan, PlannedPatch, Subresource};
use crate::cluster::Attempt;
use crate::model::{Rollout, RolloutRef, Tool, Verb};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::{Api, ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The annotation on the rollout (and on each audit Event) that says who did what last.
pub const LAST_ACTION_ANNOTATION: &str = "release-cockpit.io/last-action";
/// `source.component` and `reportingComponent` of the audit Events.
pub const EVENT_COMPONENT: &str = "release-cockpit";

/// The last-action annotation's value (JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastAction {
    pub user: String,
    pub verb: Verb,
    pub from_step: Option<i32>,
    pub to_step: Option<i32>,
    pub weight: Option<i32>,
    pub comment: Option<String>,
    pub time: jiff::Timestamp,
    pub tool: Tool,
}

impl LastAction {
    pub fn of(plan: &Plan, identity: &Identity, comment: Option<&str>, tool: Tool) -> Self {
        LastAction {
            user: identity.user.clone(),
            verb: plan.verb,
            from_step: plan.from_step,
            to_step: plan.to_step,
            weight: plan.weight,
            comment: comment.map(str::to_string),
            time: jiff::Timestamp::now(),
            tool,
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The Event reason for a verb: `PromotedByUser`, `AbortedByUser`, ...
pub fn event_reason(verb: Verb) -> &'static str {
    match verb {
        Verb::Promote | Verb::PromoteFull => "PromotedByUser",
        Verb::Abort => "AbortedByUser",
        Verb::Retry => "RetriedByUser",
        Verb::Pause => "PausedByUser",
        Verb::Resume => "ResumedByUser",
        Verb::Restart => "RestartedByUser",
        Verb::Undo => "UndoneByUser",
        Verb::SetWeight => "WeightSetByUser",
        Verb::AutoStatus => "AutoStatusSet",
    }
}

/// The plan with the last-action annotation added into its first merge patch of the rollout
/// itself (the same request as the change); when it has none (status patches cannot carry
/// metadata), the plan as it is and the annotation as its own merge patch, which the door
/// sends after the change, beside the audit Event. A plan that sends nothing stays as it is.
pub fn annotate(plan: &Plan, action: &LastAction) -> (Plan, Option<PlannedPatch>) {
    let mut annotated = plan.clone();
    if plan.patches.is_empty() {
        return (annotated, None);
    }
    let annotation =
        json!({"metadata": {"annotations": {LAST_ACTION_ANNOTATION: action.to_json()}}});
    let home = plan.home.clone();
    let home_merge = annotated
        .patches
        .iter_mut()
        .find(|p| p.subresource == home && matches!(p.body, PatchBody::Merge(_)));
    if let Some(PlannedPatch {
        body: PatchBody::Merge(body),
        ..
    }) = home_merge
    {
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), annotation) {
            merge_objects(body, extra);
        }
        return (annotated, None);
    }
    // A weighted release's route always carries annotations (its release annotation), so a
    // JSON Patch of it can add one more in the same request.
    if let Subresource::Route(_) = home
        && let Some(PlannedPatch {
            body: PatchBody::Json(ops),
            ..
        }) = annotated.patches.iter_mut().find(|p| p.subresource == home)
    {
        ops.push(json!({"op": "add", "path": "/metadata/annotations/release-cockpit.io~1last-action", "value": action.to_json()}));
        return (annotated, None);
    }
    (
        annotated,
        Some(PlannedPatch {
            subresource: home,
            body: PatchBody::Merge(annotation),
        }),
    )
}

/// `extra` merged into `body` one level down where both have an object (so a merge patch
/// of annotations keeps its own annotations beside the last-action one).
fn merge_objects(body: &mut serde_json::Map<String, Value>, extra: serde_json::Map<String, Value>) {
    for (key, value) in extra {
        match (body.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge_objects(existing, more),
            (_, value) => {
                body.insert(key, value);
            }
        }
    }
}

/// The Event that records `action` on `rollout` (as the API server answered the change).
pub fn audit_event(rollout: &Rollout, summary: &str, action: &LastAction) -> Event {
    audit_event_on(&super::plan::reference_to(rollout), summary, action)
}

/// The Event that records `action` on the object `involved` names (a rollout, or a weighted
/// release's HTTPRoute).
pub fn audit_event_on(involved: &ObjectReference, summary: &str, action: &LastAction) -> Event {
    let now = Time(action.time);
    let name = involved.name.clone().unwrap_or_default();
    let mut message = format!("{} {summary} (via {})", action.user, tool_name(action.tool));
    if let Some(comment) = action.comment.as_deref().filter(|c| !c.is_empty()) {
        message.push_str(&format!(": \"{comment}\""));
    }
    Event {
        metadata: ObjectMeta {
            // client-go's recorder names events `<object>.<unique hex>`.
            name: Some(format!(
                "{name}.{:x}{:04x}",
                action.time.as_nanosecond() as u64,
                rand::random::<u16>()
            )),
            namespace: involved.namespace.clone(),
            annotations: Some([(LAST_ACTION_ANNOTATION.to_string(), action.to_json())].into()),
            ..ObjectMeta::default()
        },
        involved_object: involved.clone(),
        reason: Some(event_reason(action.verb).into()),
        message: Some(message),
        type_: Some("Normal".into()),
        source: Some(EventSource {
            component: Some(EVENT_COMPONENT.into()),
            host: None,
        }),
        reporting_component: Some(EVENT_COMPONENT.into()),
        reporting_instance: Some(format!("{EVENT_COMPONENT}-{}", tool_name(action.tool))),
        action: Some(action.verb.as_str().into()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..Event::default()
    }
}

/// Creates the audit Event in the rollout's namespace.
pub async fn record_event(
    client: &kube::Client,
    target: &RolloutRef,
    event: &Event,
) -> Result<Event, OrchestratorError> {
    let api: Api<Event> = Api::namespaced(client.clone(), &target.namespace);
    api.create(&PostParams::default(), event)
        .await
        .map_err(|e| {
            OrchestratorError::Cluster(
                Attempt {
                    context: &target.context,
                    namespace: Some(&target.namespace),
                    name: None,
                    action: "create events",
                }
                .error(e),
            )
        })
}

fn tool_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Gui => "gui",
        Tool::Cli => "cli",
        Tool::Auto => "auto",
    }
}

/// How many activity entries are kept per rollout, newest first: a busy namespace keeps an
/// hour of Events, and the panel and the window's memory stay bounded whatever it holds.
pub const ACTIVITY_LIMIT: usize = 200;

/// One entry of a rollout's activity: a command from its audit Event (ours), or an Event the
/// controller (or another component) recorded about the rollout or one of its ReplicaSets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub time: Option<jiff::Timestamp>,
    /// `PromotedByUser`, `AbortedByUser`, `RolloutStepCompleted`, `ScalingReplicaSet`, ...
    pub reason: String,
    pub message: String,
    /// The structured record, when the Event carries the last-action annotation.
    pub action: Option<LastAction>,
    /// Who recorded it: `reportingComponent`, else `source.component` (`rollouts-controller`,
    /// `replicaset-controller`, `release-cockpit`), or `unknown`.
    pub source: String,
    /// Recorded by release-cockpit (a person through the window or CLI, or `auto`).
    pub ours: bool,
    /// The Event's type is `Warning` (e.g. `RolloutAborted`).
    pub warning: bool,
    /// The object it is about when that is not the rollout itself: `ReplicaSet checkout-6c7d`.
    pub object: Option<String>,
    /// How many times the component saw it (Events are aggregated); 1 at least.
    pub count: i32,
}

/// Keeps the Events about `target` and its ReplicaSets, newest first, at most
/// [`ACTIVITY_LIMIT`]; the same Event listed twice counts once.
pub fn activity_of(target: &RolloutRef, events: Vec<Event>) -> Vec<ActivityEntry> {
    activity_about(target, &[], events)
}

/// [`activity_of`], also keeping the Events about `parts` (see [`entry_about`]).
pub fn activity_about(
    target: &RolloutRef,
    parts: &[(String, String)],
    events: Vec<Event>,
) -> Vec<ActivityEntry> {
    let mut seen = std::collections::HashSet::new();
    let mut entries: Vec<ActivityEntry> = events
        .iter()
        .filter(|e| {
            let key = e.metadata.uid.clone().or_else(|| e.metadata.name.clone());
            key.is_none_or(|k| seen.insert(k))
        })
        .filter_map(|e| entry_about(target, parts, e))
        .collect();
    // Events are listed oldest first and their times have whole seconds: reversed before the
    // (stable) sort, those of one second stay newest first too.
    entries.reverse();
    entries.sort_by_key(|e| std::cmp::Reverse(e.time));
    entries.truncate(ACTIVITY_LIMIT);
    entries
}

/// The activity entry of one Event, when it is about `target` or one of its ReplicaSets.
pub fn entry_of(target: &RolloutRef, e: &Event) -> Option<ActivityEntry> {
    entry_about(target, &[], e)
}

/// [`entry_of`], also taking Events about `parts`: the (kind, name) of the objects a release
/// is made of beside itself (a weighted release's HTTPRoute and Deployments).
pub fn entry_about(
    target: &RolloutRef,
    parts: &[(String, String)],
    e: &Event,
) -> Option<ActivityEntry> {
    let object = &e.involved_object;
    let part = parts.iter().any(|(kind, name)| {
        object.kind.as_deref() == Some(kind.as_str())
            && object.name.as_deref() == Some(name.as_str())
            && object
                .namespace
                .as_deref()
                .is_none_or(|ns| ns.is_empty() || ns == target.namespace)
    });
    if !part && !is_about(target, object) {
        return None;
    }
    let action = e
        .annotations()
        .get(LAST_ACTION_ANNOTATION)
        .and_then(|a| serde_json::from_str::<LastAction>(a).ok());
    let time = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| action.as_ref().map(|a| a.time))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let source = e
        .reporting_component
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| e.source.as_ref().and_then(|s| s.component.clone()))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let object = match e.involved_object.kind.as_deref() {
        Some("Rollout" | "Canary") | None => None,
        Some(kind) => Some(format!(
            "{kind} {}",
            e.involved_object.name.as_deref().unwrap_or("?")
        )),
    };
    Some(ActivityEntry {
        time,
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        action,
        ours: source == EVENT_COMPONENT,
        source,
        warning: e.type_.as_deref() == Some("Warning"),
        object,
        count: e.count.unwrap_or(1).max(1),
    })
}

/// The rollout itself, or one of its ReplicaSets: Argo names them `<rollout>-<pod hash>`,
/// and a pod hash has no dash, so `checkout-v2-6c7d` belongs to `checkout-v2`, not `checkout`.
fn is_about(target: &RolloutRef, object: &ObjectReference) -> bool {
    if object
        .namespace
        .as_deref()
        .is_some_and(|ns| !ns.is_empty() && ns != target.namespace)
    {
        return false;
    }
    let Some(name) = object.name.as_deref() else {
        return false;
    };
    match object.kind.as_deref() {
        Some("Rollout") => name == target.name,
        // Flagger's Events and the cockpit's audit Events on a Flagger canary.
        Some("Canary") => name == target.name && target.provider == crate::model::Provider::Flagger,
        Some("ReplicaSet") => name
            .strip_prefix(target.name.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(is_pod_hash),
        // Argo names them `<rollout>-<pod hash>-<revision>[-<step>|-pre|-post…]`.
        Some("AnalysisRun") => name
            .strip_prefix(target.name.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| {
                let mut parts = rest.split('-');
                parts.next().is_some_and(is_pod_hash)
                    && parts.next().is_some_and(|rev| {
                        !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_digit())
                    })
            }),
        _ => false,
    }
}

fn is_pod_hash(hash: &str) -> bool {
    !hash.is_empty() && hash.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
