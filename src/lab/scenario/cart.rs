//! The demo's Gateway API release `cart`: plain Deployments `cart-stable` and `cart-canary`
//! behind Services of the same names, split by the HTTPRoute `cart` (annotated as a release
//! the cockpit drives) at weight 10 on the canary, its first step. In the error-spike
//! scenario its canary starts failing too.

use super::{NAMESPACE, profile};
use crate::lab::traffic::{PROFILE_ANNOTATION, RATE_ANNOTATION, RELEASE_ANNOTATION};
use serde_json::{Value, json};

/// The release's name, its route's name.
pub const CART: &str = "cart";
/// Its steps, in the `release-cockpit.io/steps` format.
pub const CART_STEPS: &str = "10,25,50,100";

/// Deployments, Services and the HTTPRoute of `cart`, its canary as healthy as stable.
pub fn cart() -> Vec<Value> {
    cart_with_canary(&profile(0.002, 30.0, 90.0, None))
}

/// [`cart`] whose canary (2.4.0) behaves as `canary_profile` says (e.g. an error spike).
pub fn cart_with_canary(canary_profile: &Value) -> Vec<Value> {
    let healthy = profile(0.002, 30.0, 90.0, None);
    vec![
        deployment("cart-stable", "stable", "2.3.0", 3, &healthy),
        deployment("cart-canary", "canary", "2.4.0", 1, canary_profile),
        service("cart-stable", "stable"),
        service("cart-canary", "canary"),
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {
                "name": CART,
                "namespace": NAMESPACE,
                "labels": {"app": CART, "app.kubernetes.io/part-of": "shop"},
                "annotations": {
                    RELEASE_ANNOTATION: CART,
                    "release-cockpit.io/steps": CART_STEPS,
                    "release-cockpit.io/step": "0",
                    RATE_ANNOTATION: "50",
                },
            },
            "spec": {
                "parentRefs": [{"name": "shop-gateway"}],
                "hostnames": ["cart.shop.example"],
                "rules": [{
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"name": "cart-stable", "port": 80, "weight": 90},
                        {"name": "cart-canary", "port": 80, "weight": 10},
                    ],
                }],
            },
        }),
    ]
}

/// A Deployment already running (its status says so: the lab's Deployment controller makes
/// its first ReplicaSet available at once).
fn deployment(name: &str, track: &str, version: &str, replicas: i64, profile: &Value) -> Value {
    let labels = json!({"app": CART, "track": track});
    let mut template_labels = labels.clone();
    template_labels["app.kubernetes.io/version"] = json!(version);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": template_labels,
                    "annotations": {PROFILE_ANNOTATION: profile.to_string()},
                },
                "spec": {"containers": [{
                    "name": CART,
                    "image": format!("registry.example/cart:{version}"),
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                }]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    })
}

fn service(name: &str, track: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": CART}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": if track == "stable" { "10.96.20.11" } else { "10.96.20.12" },
            "selector": {"app": CART, "track": track},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    })
}
