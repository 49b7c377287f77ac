//! The orchestration API against a mock API server (kube's tower-test pattern, as
//! kube-rs/controller-rs does): every request of every verb is asserted — method, path,
//! content type and body — and real Kubernetes `Status` bodies drive the error paths.

use http::{Request, Response};
use kube::client::Body;
use release_cockpit::cluster::{self, ClusterError};
use release_cockpit::model::{Action, Command, Outcome, Pin, RolloutRef, Tool};
use release_cockpit::orchestrator::{
    self, Access, Decision, ExecuteOptions, Identity, Journal, OrchestratorError,
};
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;
type Reply = tower_test::mock::SendResponse<Response<Body>>;

const ROLLOUT: &str = "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/checkout";
const STATUS: &str = "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/checkout/status";
const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const CANARY_HASH: &str = "6f9b7c5d4";
const STABLE_HASH: &str = "5d8f7b6c9";

fn target() -> RolloutRef {
    RolloutRef::new("lab", "demo", "checkout")
}

/// A canary rollout as the Argo controller writes it, paused at `step` when that step is a
/// pause step. Steps: 20%, pause, 40%, pause 10s, 60%, pause, 80%, pause 10s.
fn rollout(step: i32, resource_version: &str) -> Value {
    let steps = json!([
        {"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {"duration": "10s"}},
        {"setWeight": 60}, {"pause": {}}, {"setWeight": 80}, {"pause": {"duration": "10s"}}
    ]);
    let paused_here = steps[step as usize]["pause"].is_object();
    let mut status = json!({
        "currentStepIndex": step,
        "currentPodHash": CANARY_HASH,
        "stableRS": STABLE_HASH,
        "observedGeneration": "7",
        "phase": if paused_here { "Paused" } else { "Progressing" },
        "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
        "canary": {"weights": {"canary": {"weight": 20}, "stable": {"weight": 80}}},
    });
    if paused_here {
        status["pauseConditions"] =
            json!([{"reason": "CanaryPauseStep", "startTime": "2026-11-22T01:00:00Z"}]);
        status["controllerPause"] = json!(true);
        status["message"] = json!("CanaryPauseStep");
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": "checkout", "namespace": "demo", "uid": "uid-checkout",
            "generation": 7, "resourceVersion": resource_version,
            "annotations": {"rollout.argoproj.io/revision": "2"},
            "creationTimestamp": "2026-11-20T10:00:00Z"
        },
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": {"app": "checkout"}},
            "template": template("shop/checkout:2.0", None),
            "strategy": {"canary": {"steps": steps}}
        },
        "status": status
    })
}

fn template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "checkout"});
    if let Some(h) = hash {
        labels["rollouts-pod-template-hash"] = json!(h);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "checkout", "image": image}]}
    })
}

fn replica_set(revision: i64, hash: &str, image: &str, owner_uid: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("checkout-{hash}"), "namespace": "demo",
            "labels": {"app": "checkout", "rollouts-pod-template-hash": hash},
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": [{
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
                "uid": owner_uid, "controller": true
            }]
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "checkout", "rollouts-pod-template-hash": hash}},
            "template": template(image, Some(hash))
        },
        "status": {"replicas": 1, "availableReplicas": 1}
    })
}

/// A Kubernetes `Status` body as the API server sends it.
fn status_body(code: u16, reason: &str, message: &str, details: Value) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code
    })
}

fn not_found_object() -> Value {
    status_body(
        404,
        "NotFound",
        "rollouts.argoproj.io \"checkout\" not found",
        json!({"name": "checkout", "group": "argoproj.io", "kind": "rollouts"}),
    )
}

fn not_found_resource() -> Value {
    status_body(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

fn respond(reply: Reply, code: u16, body: &Value) {
    let response = Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("response");
    reply.send_response(response);
}

/// Starts `verb` against a mock API server and returns the handle that plays the server.
fn start<T, F>(verb: impl FnOnce(kube::Client) -> F) -> (tokio::task::JoinHandle<T>, Handle)
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    (tokio::spawn(verb(client)), handle)
}

/// Takes the next request, asserts method, path, content type and (for PATCH) the field
/// manager, and returns its JSON body (Null when empty) with the reply slot.
async fn expect(
    handle: &mut Handle,
    method: &str,
    path: &str,
    content_type: Option<&str>,
) -> (Value, Reply) {
    let (request, reply) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .unwrap_or_else(|_| panic!("no {method} {path} within 5 s"))
        .expect("the client hung up");
    assert_eq!(
        request.method().as_str(),
        method,
        "method of {}",
        request.uri()
    );
    assert_eq!(request.uri().path(), path);
    if method == "PATCH" {
        // kube writes "?&fieldManager=..."; the API server ignores the empty pair.
        let query = request.uri().query().unwrap_or_default();
        let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        assert_eq!(
            pairs,
            ["fieldManager=release-cockpit"],
            "query of {method} {path}"
        );
    }
    let got_type = request
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_string());
    assert_eq!(
        got_type.as_deref(),
        content_type,
        "content type of {method} {path}"
    );
    let bytes = request
        .into_body()
        .collect_bytes()
        .await
        .expect("request body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (body, reply)
}

/// Waits for the command to end, playing the server for its audit trail meanwhile: the
/// last-action annotation (a metadata-only merge patch) and the Event, in any order. Any other
/// request fails the test: the verb asked for something its test did not expect.
async fn finish<T>(task: tokio::task::JoinHandle<T>, handle: &mut Handle) -> T {
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    let mut task = task;
    loop {
        tokio::select! {
            done = &mut task => return done.expect("the verb did not panic"),
            next = handle.next_request() => match next {
                Some((request, reply)) => serve_audit(request, reply).await,
                None => {
                    return tokio::time::timeout(Duration::from_secs(5), task)
                        .await
                        .expect("the verb finished after the client hung up")
                        .expect("the verb did not panic");
                }
            },
            _ = &mut deadline => panic!("the verb did not finish within 5 s"),
        }
    }
}

/// Answers one audit request (see [`finish`]); panics on anything else.
async fn serve_audit(request: Request<Body>, reply: Reply) {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let bytes = request
        .into_body()
        .collect_bytes()
        .await
        .expect("request body");
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let annotation_only = body.as_object().is_some_and(|o| o.len() == 1)
        && body["metadata"]["annotations"]
            .get("release-cockpit.io/last-action")
            .is_some();
    match (method.as_str(), path.as_str()) {
        ("PATCH", ROLLOUT) if annotation_only => respond(reply, 200, &rollout(1, "199")),
        ("POST", "/api/v1/namespaces/demo/events") => respond(reply, 201, &body),
        _ => panic!("unexpected request {method} {path}: {body}"),
    }
}

/// `body` without the last-action annotation the door adds to a merge patch of the rollout.
fn without_audit(mut body: Value) -> Value {
    if let Some(metadata) = body.as_object_mut().and_then(|o| o.get_mut("metadata")) {
        if let Some(annotations) = metadata["annotations"].as_object_mut() {
            annotations.remove("release-cockpit.io/last-action");
            if annotations.is_empty() {
                metadata.as_object_mut().map(|m| m.remove("annotations"));
            }
        }
        if metadata.as_object().is_some_and(|m| m.is_empty())
            && let Some(o) = body.as_object_mut()
        {
            o.remove("metadata");
        }
    }
    body
}

/// `action` on the checkout rollout through the one door, with who the user is and what they
/// may do already known (so no SelfSubjectReview or access review goes out), journaling into
/// a directory of its own.
async fn door(client: kube::Client, action: Action) -> Result<Outcome, OrchestratorError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let allowed = Access {
        context: "lab".into(),
        namespace: "demo".into(),
        patch_rollouts: Decision::Allowed,
        patch_rollout_status: Decision::Allowed,
        create_events: Decision::Allowed,
        patch_httproutes: Decision::Allowed,
        patch_deployments: Decision::Allowed,
        patch_canaries: Decision::Allowed,
        create_service_proxy: Decision::Allowed,
    };
    let options = ExecuteOptions {
        journal: Some(Journal::at(dir.path().join("journal.jsonl"), 1 << 20)),
        identity: Some(Identity {
            user: "lab-admin".into(),
            groups: Vec::new(),
            verified: true,
        }),
        access: Some(allowed),
        ..ExecuteOptions::default()
    };
    let command = Command {
        target: target(),
        action,
        tool: Tool::Cli,
        comment: None,
    };
    orchestrator::execute_with(&client, &command, &options)
        .await
        .map(|done| done.outcome)
}

/// GET of the rollout, answered with `body`.
async fn serve_get(handle: &mut Handle, body: &Value) {
    let (sent, reply) = expect(handle, "GET", ROLLOUT, None).await;
    assert_eq!(sent, Value::Null);
    respond(reply, 200, body);
}

#[path = "orchestrator_api/errors.rs"]
mod errors;
#[path = "orchestrator_api/gateway.rs"]
mod gateway;
#[path = "orchestrator_api/trust.rs"]
mod trust;
#[path = "orchestrator_api/verbs.rs"]
mod verbs;
#[path = "orchestrator_api/watch.rs"]
mod watch;
