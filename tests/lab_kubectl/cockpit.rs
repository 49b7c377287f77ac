//! What the cockpit's own cluster layer reads from the lab: the rollout detail behind
//! `release-cockpit get` (tagged images, ReplicaSets scaled as Argo does) and the
//! controller's Events.

use std::time::Duration;

use kube::api::{Api, ListParams, Patch, PatchParams};
use release_cockpit::model::Rollout;
use serde_json::json;

use crate::TestLab;

/// What `release-cockpit get` reads: the ReplicaSets owned (by uid) by each rollout, tagged
/// stable/canary/active/preview; old ones scale down once the update is done; the
/// controller's Events are there for the activity panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_reads_tagged_images_scale_down_and_controller_events() {
    use k8s_openapi::api::core::v1::Event;
    use release_cockpit::cluster::describe_rollout;
    use release_cockpit::model::{RolloutRef, VersionRole};

    let t = TestLab::start().await;
    let client = t.client("lab-viewer").await;
    let checkout = RolloutRef::new("lab-viewer", "demo", "checkout");
    let roles = |d: &release_cockpit::cluster::RolloutDetail| -> Vec<(String, Vec<VersionRole>)> {
        d.tagged_images
            .iter()
            .map(|i| (i.image.clone(), i.roles.clone()))
            .collect()
    };
    let expected = [
        (
            "registry.example/checkout:1.4.1".to_string(),
            vec![VersionRole::Stable],
        ),
        (
            "registry.example/checkout:1.4.2".to_string(),
            vec![VersionRole::Canary],
        ),
    ];
    // The rollout and its ReplicaSets are two reads; under load the controller's tick can
    // land between them. Wait (bounded) for a consistent pair.
    let mut detail = describe_rollout(&client, &checkout).await.unwrap();
    for _ in 0..50 {
        if roles(&detail) == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        detail = describe_rollout(&client, &checkout).await.unwrap();
    }
    assert_eq!(roles(&detail), expected);
    let payments = describe_rollout(&client, &RolloutRef::new("lab-viewer", "demo", "payments"))
        .await
        .unwrap();
    assert_eq!(
        roles(&payments),
        [
            (
                "registry.example/payments:2.0.3".to_string(),
                vec![VersionRole::Stable, VersionRole::Active]
            ),
            (
                "registry.example/payments:2.1.0".to_string(),
                vec![VersionRole::Preview]
            ),
        ]
    );

    // Promote checkout all the way: the old stable ReplicaSet goes to zero at once.
    let admin: Api<Rollout> = Api::namespaced(t.client("lab-admin").await, "demo");
    admin
        .patch_status(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"promoteFull": true}})),
        )
        .await
        .unwrap();
    let mut done = describe_rollout(&client, &checkout).await.unwrap();
    for _ in 0..50 {
        if done.tagged_images.len() == 1 && done.view.phase.as_str() == "Healthy" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        done = describe_rollout(&client, &checkout).await.unwrap();
    }
    assert_eq!(
        roles(&done),
        [(
            "registry.example/checkout:1.4.2".to_string(),
            vec![VersionRole::Stable]
        )]
    );
    let replicas: Vec<i32> = done.replica_sets.iter().map(|rs| rs.replicas).collect();
    assert_eq!(replicas, [5, 0], "new stable full, old one scaled down");

    let events: Api<Event> = Api::namespaced(client, "demo");
    let uid = t.rollout("checkout")["metadata"]["uid"].clone();
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| json!(e.involved_object.uid) == uid)
        .filter_map(|e| e.reason)
        .collect();
    for reason in ["RolloutUpdated", "RolloutPaused", "RolloutCompleted"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason} in {reasons:?}"
        );
    }
    t.lab.shutdown().await;
}
