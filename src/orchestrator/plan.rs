//! A `Plan` is what a verb will send: the patches (and, for Flagger, POSTs to a load tester
//! through the service proxy), in order, with the step they pin and the words for the outcome. Verbs compute plans; `send_plan`, called only by `execute_with`,
//! is the only code that writes.

use super::OrchestratorError;
use super::refusal::refused;
pub(crate) use crate::cluster::http_route_resource;
use crate::model::{Outcome, Pin, Rollout, RolloutRef, Verb};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::Value;

/// The field manager the API server records for every change the cockpit makes.
pub const FIELD_MANAGER: &str = "release-cockpit";

/// Which endpoint a patch goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subresource {
    /// `.../rollouts/NAME`: spec and metadata.
    Main,
    /// `.../rollouts/NAME/status`: the controller's status, where Argo reads promote/abort.
    Status,
    /// `gateway.networking.k8s.io/v1` HTTPRoute NAME (a weighted release's weights and state).
    Route(String),
    /// `apps/v1` Deployment NAME (a weighted release's stable or canary).
    Deployment(String),
    /// `flagger.app/v1beta1` Canary (the target's name): its spec and annotations.
    Canary,
    /// A Service's proxy, `/api/v1/namespaces/NS/services/SERVICE:PORT/proxy/PATH` in the
    /// namespace `namespace`: Flagger's load tester gates, opened as its webhook payload
    /// asks ([`PatchBody::Post`]), with the caller's identity and RBAC.
    ServiceProxy {
        namespace: String,
        service: String,
        port: String,
        path: String,
    },
}

impl Subresource {
    /// The proxy path a [`Subresource::ServiceProxy`] step POSTs to.
    pub fn proxy_path(&self) -> Option<String> {
        match self {
            Subresource::ServiceProxy {
                namespace,
                service,
                port,
                path,
            } => Some(format!(
                "/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}"
            )),
            _ => None,
        }
    }
}

/// A patch body and its content type.
#[derive(Clone, Debug, PartialEq)]
pub enum PatchBody {
    /// `application/merge-patch+json`.
    Merge(Value),
    /// `application/json-patch+json`: an array of RFC 6902 operations.
    Json(Vec<Value>),
    /// Not a patch: a POST of this JSON body (to a [`Subresource::ServiceProxy`]).
    Post(Value),
}

impl PatchBody {
    /// One patch doing this and then `next` (both to the main resource), for servers
    /// without the status subresource.
    fn and_then(&self, next: &PatchBody) -> PatchBody {
        match (self, next) {
            (PatchBody::Merge(a), PatchBody::Merge(b)) => {
                let mut merged = a.clone();
                merge_into(&mut merged, b);
                PatchBody::Merge(merged)
            }
            (a, b) => {
                let mut ops = a.operations();
                ops.extend(b.operations());
                PatchBody::Json(ops)
            }
        }
    }

    /// The body as JSON Patch operations (a merge patch becomes `add`/`remove` per leaf).
    fn operations(&self) -> Vec<Value> {
        match self {
            PatchBody::Json(ops) => ops.clone(),
            PatchBody::Post(_) => Vec::new(),
            PatchBody::Merge(m) => {
                let mut ops = Vec::new();
                merge_to_operations(m, String::new(), &mut ops);
                ops
            }
        }
    }
}

/// One request of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedPatch {
    pub subresource: Subresource,
    pub body: PatchBody,
}

impl PlannedPatch {
    /// "status merge patch {...}", for messages about what was already sent.
    pub fn describe(&self) -> String {
        let endpoint = match &self.subresource {
            Subresource::Main => "rollout".to_string(),
            Subresource::Status => "status".to_string(),
            Subresource::Route(name) => format!("httproute {name}"),
            Subresource::Deployment(name) => format!("deployment {name}"),
            Subresource::Canary => "canary".to_string(),
            proxy @ Subresource::ServiceProxy { .. } => {
                format!("POST {}", proxy.proxy_path().unwrap_or_default())
            }
        };
        match &self.body {
            PatchBody::Post(v) => format!("{endpoint} {v}"),
            PatchBody::Merge(v) => format!("{endpoint} merge patch {v}"),
            PatchBody::Json(ops) => format!("{endpoint} JSON patch {}", Value::Array(ops.clone())),
        }
    }
}

/// Everything a verb will send, and what it will mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub target: RolloutRef,
    pub verb: Verb,
    /// Sent in order; empty when there is nothing to do.
    pub patches: Vec<PlannedPatch>,
    /// What the patches are pinned to (`test` ops): promote, promote --full, set-weight and
    /// undo always; abort when the caller pinned it.
    pub pin: Option<Pin>,
    pub from_step: Option<i32>,
    pub to_step: Option<i32>,
    pub weight: Option<i32>,
    /// What happened, in words, without the rollout's name: "promoted: step 1 → 2 (weight 40%)".
    pub summary: String,
    /// The object that carries the release's last-action annotation and its audit Event:
    /// the rollout ([`Subresource::Main`]) or a weighted release's HTTPRoute.
    pub home: Subresource,
    /// A weighted release's (stable, canary) weights as read, when the patches pin them.
    pub seen_weights: Option<(i32, i32)>,
    /// A command in stages (a weighted release's promote --full): the stage these patches
    /// make; the door journals it and plans the next one from a fresh read.
    pub stage: Option<PlannedStage>,
}

/// One stage of a command that runs in stages: the stage, and for a stage that waits (it
/// sends nothing) the Deployment it waits for.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedStage {
    pub stage: super::journal::Stage,
    pub wait_for: Option<String>,
}

impl Plan {
    /// A plan that sends nothing, with the reason as its summary.
    pub fn nothing(target: &RolloutRef, verb: Verb, reason: String) -> Plan {
        Plan {
            target: target.clone(),
            verb,
            patches: Vec::new(),
            pin: None,
            from_step: None,
            to_step: None,
            weight: None,
            summary: reason,
            home: Subresource::Main,
            seen_weights: None,
            stage: None,
        }
    }

    fn outcome(&self, resource_version: Option<String>) -> Outcome {
        Outcome {
            rollout: self.target.clone(),
            verb: self.verb,
            summary: self.summary.clone(),
            from_step: self.from_step,
            to_step: self.to_step,
            weight: self.weight,
            changed: !self.patches.is_empty(),
            resource_version,
        }
    }
}

/// Sends a plan's patches in order and reports the outcome with the object as the API
/// server answered the last request. A 404 from the status subresource falls back to the
/// main resource, carrying the following spec patch along, as kubectl-argo-rollouts does for
/// controllers without the subresource. A 422 on a pinned patch re-reads the release: it
/// moved on (nothing was changed) or changed meanwhile. Only the door calls this.
pub(crate) async fn send_plan(
    client: &kube::Client,
    plan: &Plan,
) -> Result<(Outcome, Option<ObjectReference>), OrchestratorError> {
    let mut last: Option<ObjectReference> = None;
    let mut i = 0;
    while i < plan.patches.len() {
        let patch = &plan.patches[i];
        let sent = match send_one(client, &plan.target, &patch.subresource, &patch.body).await {
            Err(kube::Error::Api(status))
                if status.code == 404 && patch.subresource == Subresource::Status =>
            {
                let unified = match plan.patches.get(i + 1) {
                    Some(next) if next.subresource == Subresource::Main => {
                        i += 1;
                        patch.body.and_then(&next.body)
                    }
                    _ => patch.body.clone(),
                };
                send_one(client, &plan.target, &Subresource::Main, &unified).await
            }
            other => other,
        };
        match sent {
            Ok(answered) => last = Some(answered),
            Err(err) => {
                let error = refused(client, plan, patch, err).await;
                if i == 0 {
                    return Err(error);
                }
                return Err(OrchestratorError::PartlyApplied {
                    target: plan.target.clone(),
                    verb: plan.verb,
                    applied: plan.patches[..i]
                        .iter()
                        .map(PlannedPatch::describe)
                        .collect(),
                    error: Box::new(error),
                });
            }
        }
        i += 1;
    }
    let resource_version = last.as_ref().and_then(|o| o.resource_version.clone());
    Ok((plan.outcome(resource_version), last))
}

/// A reference to `object` (what the audit Event is about).
pub(crate) fn reference_to<K: Resource<DynamicType = ()>>(object: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: object.meta().name.clone(),
        namespace: object.meta().namespace.clone(),
        uid: object.meta().uid.clone(),
        resource_version: object.meta().resource_version.clone(),
        ..ObjectReference::default()
    }
}

async fn send_one(
    client: &kube::Client,
    target: &RolloutRef,
    subresource: &Subresource,
    body: &PatchBody,
) -> Result<ObjectReference, kube::Error> {
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let json_patch = |ops: &Vec<Value>| -> Result<Patch<()>, kube::Error> {
        let patch: json_patch::Patch =
            serde_json::from_value(Value::Array(ops.clone())).map_err(kube::Error::SerdeError)?;
        Ok(Patch::Json::<()>(patch))
    };
    let (resource, name) = match subresource {
        Subresource::Main | Subresource::Status => {
            let api: Api<Rollout> = Api::namespaced(client.clone(), &target.namespace);
            let name = &target.name;
            let rollout = match (subresource, body) {
                (Subresource::Main, PatchBody::Merge(v)) => {
                    api.patch(name, &params, &Patch::Merge(v)).await?
                }
                (_, PatchBody::Merge(v)) => {
                    api.patch_status(name, &params, &Patch::Merge(v)).await?
                }
                (Subresource::Main, PatchBody::Json(ops)) => {
                    api.patch(name, &params, &json_patch(ops)?).await?
                }
                (_, PatchBody::Json(ops)) => {
                    api.patch_status(name, &params, &json_patch(ops)?).await?
                }
                // Only Flagger's plans POST, and only to a service proxy: nothing to send
                // to a rollout, which is read as it is.
                (_, PatchBody::Post(_)) => api.get(name).await?,
            };
            return Ok(reference_to(&rollout));
        }
        Subresource::Route(name) => (http_route_resource(), name),
        Subresource::Deployment(name) => (
            ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
            name,
        ),
        Subresource::Canary => (crate::cluster::canary_resource(), &target.name),
        proxy @ Subresource::ServiceProxy { .. } => {
            post_through_proxy(client, &proxy.proxy_path().unwrap_or_default(), body).await?;
            // The step changed no object; the audit is about the canary it acted for.
            (crate::cluster::canary_resource(), &target.name)
        }
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &resource);
    let answered = match body {
        PatchBody::Merge(v) => api.patch(name, &params, &Patch::Merge(v)).await?,
        PatchBody::Json(ops) => api.patch(name, &params, &json_patch(ops)?).await?,
        PatchBody::Post(_) => api.get(name).await?,
    };
    Ok(ObjectReference {
        api_version: Some(resource.api_version.clone()),
        kind: Some(resource.kind.clone()),
        name: answered.metadata.name.clone(),
        namespace: answered.metadata.namespace.clone(),
        uid: answered.metadata.uid.clone(),
        resource_version: answered.metadata.resource_version.clone(),
        ..ObjectReference::default()
    })
}

/// POSTs `body` to `path` (a service proxy) as the caller; a non-2xx answer is the error.
async fn post_through_proxy(
    client: &kube::Client,
    path: &str,
    body: &PatchBody,
) -> Result<(), kube::Error> {
    let json = match body {
        PatchBody::Post(v) => v.to_string(),
        other => Value::Array(other.operations()).to_string(),
    };
    let request = http::Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(json.into_bytes())
        .map_err(kube::Error::HttpError)?;
    client.request_text(request).await.map(|_| ())
}

/// RFC 7386 merge of `patch` into `target`.
fn merge_into(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if v.is_object() => merge_into(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn merge_to_operations(patch: &Value, prefix: String, ops: &mut Vec<Value>) {
    match patch {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                if v.is_object() {
                    merge_to_operations(v, path, ops);
                } else if v.is_null() {
                    ops.push(serde_json::json!({"op": "remove", "path": path}));
                } else {
                    ops.push(serde_json::json!({"op": "add", "path": path, "value": v}));
                }
            }
        }
        other => ops.push(serde_json::json!({"op": "replace", "path": prefix, "value": other})),
    }
}
