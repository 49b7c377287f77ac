//! The Gateway API objects of the demo release `cart` as kubectl sees them: HTTPRoute with
//! its weights (JSON Patch `test` ops refused with 422 when the weights moved), Deployments
//! whose template change makes a new ReplicaSet that becomes available, Services, and the
//! viewer who may read but not patch.

use super::*;

fn weights(route: &Value) -> Vec<i64> {
    route["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["weight"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_and_patches_the_cart_routes_weights_pinned_by_test_ops() {
    need_kubectl().await;
    let t = TestLab::start().await;
    let (ok, out, err) = t.run(&["get", "httproutes", "-n", "demo"]).await;
    assert!(ok, "{err}");
    let header = out.lines().next().unwrap_or_default();
    assert!(
        header.contains("HOSTNAMES") && header.contains("AGE"),
        "{out}"
    );
    assert!(
        out.contains("cart") && out.contains("cart.shop.example"),
        "{out}"
    );

    let (ok, out, err) = t
        .run(&["get", "httproute", "cart", "-n", "demo", "-o", "json"])
        .await;
    assert!(ok, "{err}");
    let route: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(weights(&route), [90, 10]);
    assert_eq!(
        route["metadata"]["annotations"]["release-cockpit.io/release"],
        "cart"
    );

    // Pinned to weights that are no longer there: 422, nothing changes.
    let stale = r#"[{"op":"test","path":"/spec/rules/0/backendRefs/1/weight","value":25},
                    {"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":33}]"#;
    let (ok, _, err) = patch_cart(&t, stale).await;
    assert!(!ok && err.contains("is invalid"), "{err}");
    let pinned = r#"[{"op":"test","path":"/spec/rules/0/backendRefs/0/weight","value":90},
                     {"op":"test","path":"/spec/rules/0/backendRefs/1/weight","value":10},
                     {"op":"replace","path":"/spec/rules/0/backendRefs/0/weight","value":67},
                     {"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":33}]"#;
    let (ok, _, err) = patch_cart(&t, pinned).await;
    assert!(ok, "{err}");
    let (ok, out, _) = t
        .run(&[
            "get",
            "httproute",
            "cart",
            "-n",
            "demo",
            "-o",
            "jsonpath={.spec.rules[0].backendRefs[*].weight}",
        ])
        .await;
    assert!(ok);
    assert_eq!(out.trim(), "67 33");

    // The CRD's schema: a weight below 0 is refused.
    let negative = r#"[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":-1}]"#;
    let (ok, _, err) = patch_cart(&t, negative).await;
    assert!(!ok && err.contains("is invalid"), "{err}");

    // The viewer reads routes but may not patch them.
    let (ok, out, err) = t
        .run(&["--context", "lab-viewer", "get", "httproutes", "-n", "demo"])
        .await;
    assert!(ok && out.contains("cart"), "{err}");
    let (ok, _, err) = t
        .run(&[
            "--context",
            "lab-viewer",
            "patch",
            "httproute",
            "cart",
            "-n",
            "demo",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"x":"y"}}}"#,
        ])
        .await;
    assert!(!ok, "the viewer patched the route");
    assert!(
        err.contains("User \"lab-viewer\" cannot patch resource \"httproutes\" in API group \"gateway.networking.k8s.io\""),
        "{err}"
    );
    let route = t.lab.store().get(Kind::HttpRoute, "demo", "cart").unwrap();
    assert_eq!(weights(&route), [67, 33]);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployments_new_template_makes_a_new_replica_set_that_becomes_available() {
    need_kubectl().await;
    let t = TestLab::start().await;
    let (ok, out, err) = t.run(&["get", "deployments,services", "-n", "demo"]).await;
    assert!(ok, "{err}");
    for name in ["deployment.apps/cart-stable", "service/cart-canary", "3/3"] {
        assert!(out.contains(name), "{name} missing: {out}");
    }
    let (ok, _, err) = t
        .run(&[
            "set",
            "image",
            "deployment/cart-stable",
            "-n",
            "demo",
            "cart=registry.example/cart:2.4.0",
        ])
        .await;
    assert!(ok, "{err}");
    let replica_sets = || async {
        let (ok, out, err) = t
            .run(&[
                "get",
                "replicasets",
                "-n",
                "demo",
                "-l",
                "track=stable",
                "-o",
                "json",
            ])
            .await;
        assert!(ok, "{err}");
        let list: Value = serde_json::from_str(&out).unwrap();
        list["items"].as_array().unwrap().clone()
    };
    // The new ReplicaSet appears at once, labelled with its hash, its pods not yet available.
    let mut seen_unavailable = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let new = loop {
        let items = replica_sets().await;
        let new = items.iter().find(|rs| {
            rs["spec"]["template"]["spec"]["containers"][0]["image"]
                == "registry.example/cart:2.4.0"
        });
        if let Some(new) = new {
            let available = new["status"]["availableReplicas"].as_i64().unwrap_or(0);
            seen_unavailable |= available < 3;
            let old_scaled_down = items
                .iter()
                .filter(|rs| !std::ptr::eq(*rs, new))
                .all(|rs| rs["spec"]["replicas"] == 0);
            if available == 3 && old_scaled_down {
                break new.clone();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not rolled out: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(seen_unavailable, "the new pods were available at once");
    let hash = new["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(new["metadata"]["name"], format!("cart-stable-{hash}"));
    assert_eq!(
        new["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(new["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watches_httproutes_from_a_listed_resource_version() {
    use futures::StreamExt;
    use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
    let t = TestLab::start().await;
    let client = t.client("lab-viewer").await;
    let resource = release_cockpit::cluster::http_route_resource();
    let routes: Api<DynamicObject> = Api::namespaced_with(client, "demo", &resource);
    let listed = routes.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let since = listed.metadata.resource_version.unwrap();
    let mut events = routes
        .watch(&WatchParams::default().timeout(10), &since)
        .await
        .unwrap()
        .boxed();
    let admin = t.client("lab-admin").await;
    let admin_routes: Api<DynamicObject> = Api::namespaced_with(admin, "demo", &resource);
    let ops = serde_json::json!([
        {"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 40}
    ]);
    let patch: json_patch::Patch = serde_json::from_value(ops).unwrap();
    admin_routes
        .patch("cart", &PatchParams::default(), &Patch::Json::<()>(patch))
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .unwrap();
    let WatchEvent::Modified(route) = event else {
        panic!("expected MODIFIED, got {event:?}");
    };
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"][1]["weight"],
        40
    );
    assert_ne!(
        route.metadata.resource_version.as_deref(),
        Some(since.as_str())
    );
    t.lab.shutdown().await;
}

/// `kubectl patch httproute cart -n demo --type json -p PATCH` as the admin.
async fn patch_cart(t: &TestLab, patch: &str) -> (bool, String, String) {
    t.run(&[
        "patch",
        "httproute",
        "cart",
        "-n",
        "demo",
        "--type",
        "json",
        "-p",
        patch,
    ])
    .await
}
