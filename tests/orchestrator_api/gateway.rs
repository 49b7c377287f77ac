//! A weighted (Gateway API) release's set-weight against the mock API server: the request is
//! a JSON Patch of the HTTPRoute pinned by `test` ops to the weights read, and when the API
//! server refuses it (422: the weights changed meanwhile) the error names both.

use super::*;
use release_cockpit::model::Provider;

const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/demo/httproutes";
const ROUTE: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/demo/httproutes/cart";

fn route(stable: i64, canary: i64, resource_version: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "cart", "namespace": "demo", "resourceVersion": resource_version,
            "annotations": {"release-cockpit.io/release": "cart",
                "release-cockpit.io/steps": "10,25,50,100"}},
        "spec": {"rules": [{"backendRefs": [
            {"name": "cart-stable", "port": 80, "weight": stable},
            {"name": "cart-canary", "port": 80, "weight": canary}]}]}
    })
}

fn list(items: Value) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRouteList",
        "metadata": {"resourceVersion": "50"}, "items": [items]})
}

#[tokio::test]
async fn a_weight_changed_meanwhile_is_refused_by_the_pin_naming_both() {
    let (task, mut server) = start(|client| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = ExecuteOptions {
            journal: Some(Journal::at(dir.path().join("journal.jsonl"), 1 << 20)),
            identity: Some(Identity {
                user: "lab-admin".into(),
                groups: Vec::new(),
                verified: true,
            }),
            ..ExecuteOptions::default()
        };
        let command = Command {
            target: RolloutRef {
                provider: Provider::Gateway,
                ..RolloutRef::new("lab", "demo", "cart")
            },
            action: Action::SetWeight {
                weight: 33,
                pin: None,
            },
            tool: Tool::Cli,
            comment: None,
        };
        orchestrator::execute_with(&client, &command, &options).await
    });
    let mut lists = 0;
    let mut patched = None;
    while patched.is_none() || lists < 2 {
        let next = tokio::time::timeout(Duration::from_secs(5), server.next_request())
            .await
            .expect("a request within 5 s");
        let Some((request, reply)) = next else {
            panic!("the command ended early: {:?}", task.await);
        };
        let method = request.method().as_str().to_string();
        let path = request.uri().path().to_string();
        let content_type = request
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ascii").to_string());
        let bytes = request.into_body().collect_bytes().await.expect("body");
        match (method.as_str(), path.as_str()) {
            ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") => {
                let mut review: Value = serde_json::from_slice(&bytes).expect("review");
                assert_eq!(
                    review["spec"]["resourceAttributes"]["resource"],
                    "httproutes"
                );
                review["status"] = json!({"allowed": true});
                respond(reply, 201, &review);
            }
            ("GET", ROUTES) => {
                lists += 1;
                // The first read sees 90/10; by the re-read someone has set 80/20.
                let body = if lists == 1 {
                    list(route(90, 10, "41"))
                } else {
                    list(route(80, 20, "42"))
                };
                respond(reply, 200, &body);
            }
            ("PATCH", ROUTE) => {
                assert_eq!(content_type.as_deref(), Some(JSON_PATCH));
                let ops: Value = serde_json::from_slice(&bytes).expect("JSON Patch");
                assert_eq!(
                    ops[0],
                    json!({"op": "test", "path": "/spec/rules/0/backendRefs/0/weight", "value": 90})
                );
                assert_eq!(
                    ops[1],
                    json!({"op": "test", "path": "/spec/rules/0/backendRefs/1/weight", "value": 10})
                );
                assert_eq!(ops[3]["value"], 33);
                patched = Some(ops);
                let refused = status_body(
                    422,
                    "Invalid",
                    "httproutes.gateway.networking.k8s.io \"cart\" is invalid: test operation failed",
                    json!({"name": "cart", "group": "gateway.networking.k8s.io", "kind": "httproutes"}),
                );
                respond(reply, 422, &refused);
            }
            other => panic!("unexpected request {other:?}"),
        }
    }
    let err = task
        .await
        .expect("no panic")
        .expect_err("refused by the pin");
    assert!(
        matches!(
            err,
            OrchestratorError::WeightsChanged {
                seen: (90, 10),
                now: (80, 20),
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("stable 90% / canary 10%")
            && message.contains("stable 80% / canary 20%")
            && message.contains("nothing was changed"),
        "{message}"
    );
}
