//! The weighted (Gateway API) release `cart` through the one door and the CLI: set-weight
//! moves the route's weights (kubectl reads them back), with the journal, the last-action
//! annotation on the route and an audit Event; 140 is bad input; the viewer is refused before
//! sending; promote goes to the next declared step; abort puts the canary at 0 in one request;
//! abort --wait times the rollback. promote --full: promote_full.rs.

use super::*;
use release_cockpit::model::Provider;

pub(super) fn cart(context: &str) -> RolloutRef {
    RolloutRef {
        provider: Provider::Gateway,
        ..RolloutRef::new(context, "demo", "cart")
    }
}

pub(super) fn route(t: &TestLab) -> Value {
    t.lab
        .store()
        .get(Kind::HttpRoute, "demo", "cart")
        .expect("cart's route")
}

pub(super) fn weights(route: &Value) -> (i64, i64) {
    let refs = &route["spec"]["rules"][0]["backendRefs"];
    (
        refs[0]["weight"].as_i64().unwrap_or(-1),
        refs[1]["weight"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_weight_cart_33_gives_67_33_with_the_audit_trail_and_kubectl_agrees() {
    let t = TestLab::start().await;
    let (code, out, err) = t
        .cli(&[
            "set-weight",
            "cart",
            "33",
            "-n",
            "demo",
            "--comment",
            "dark launch",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("stable 67 / canary 33"), "{out}");
    assert_eq!(weights(&route(&t)), (67, 33));

    let kubectl = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(t.kubeconfig_path())
        .args(["get", "httproute", "cart", "-n", "demo", "-o", "json"])
        .output()
        .expect("kubectl runs");
    assert!(
        kubectl.status.success(),
        "{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    let seen: Value = serde_json::from_slice(&kubectl.stdout).expect("JSON");
    assert_eq!(weights(&seen), (67, 33), "kubectl reads the same weights");

    let action = last_action(&seen).expect("the last-action annotation is on the route");
    assert_eq!(action["verb"], "set-weight");
    assert_eq!(action["weight"], 33);
    assert_eq!(action["user"], "lab-admin");
    assert_eq!(action["comment"], "dark launch");
    let events = t.audit_events("cart");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "WeightSetByUser");
    assert_eq!(events[0]["involvedObject"]["kind"], "HTTPRoute");
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].weight, Some(33));
    assert_eq!(count(&outcomes, CommandResult::Done), 1);

    // A weight of 140 is bad input: exit 2, the weight named, nothing sent.
    let (code, _, err) = t.cli(&["set-weight", "cart", "140", "-n", "demo"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("140"), "{err}");
    assert_eq!(weights(&route(&t)), (67, 33));
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_is_refused_before_sending_and_promote_and_abort_move_the_weights() {
    let t = TestLab::start().await;
    let command = |context: &str, action: Action| Command {
        target: cart(context),
        action,
        tool: Tool::Cli,
        comment: None,
    };
    let before = route(&t);
    let viewer = t.client(VIEWER).await;
    let refused = release_cockpit::orchestrator::execute_with(
        &viewer,
        &command(
            VIEWER,
            Action::SetWeight {
                weight: 50,
                pin: None,
            },
        ),
        &t.options(),
    )
    .await
    .expect_err("the viewer may not patch httproutes");
    let message = refused.to_string();
    assert!(message.contains("patch httproutes"), "{message}");
    assert_eq!(
        route(&t)["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"],
        "nothing was sent"
    );

    let admin = t.client(ADMIN).await;
    // An approval of a step the release is no longer at is refused before sending.
    let stale = release_cockpit::orchestrator::execute_with(
        &admin,
        &command(
            ADMIN,
            Action::Promote {
                pin: Some(Pin {
                    step: Some(2),
                    ..Pin::default()
                }),
            },
        ),
        &t.options(),
    )
    .await
    .expect_err("the release is at step 0, not 2");
    assert!(stale.to_string().contains("moved on"), "{stale}");
    assert_eq!(weights(&route(&t)), (90, 10));
    let promoted = release_cockpit::orchestrator::execute_with(
        &admin,
        &command(ADMIN, Action::Promote { pin: None }),
        &t.options(),
    )
    .await
    .expect("promote");
    assert_eq!(
        promoted.outcome.summary,
        "promoted: step 0 → 1 (weight 25%)"
    );
    let now = route(&t);
    assert_eq!(weights(&now), (75, 25));
    assert_eq!(
        now["metadata"]["annotations"]["release-cockpit.io/step"],
        "1"
    );

    let aborted = release_cockpit::orchestrator::execute_with(
        &admin,
        &command(ADMIN, Action::Abort { pin: None }),
        &t.options(),
    )
    .await
    .expect("abort");
    assert!(aborted.outcome.changed);
    let now = route(&t);
    assert_eq!(weights(&now).1, 0, "all traffic back to stable");
    assert_eq!(
        now["metadata"]["annotations"]["release-cockpit.io/aborted"],
        "true"
    );
    let rv_before = before["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let rv_promoted = promoted
        .outcome
        .resource_version
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let rv_aborted = aborted
        .outcome
        .resource_version
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert!(rv_promoted > rv_before);
    assert_eq!(
        now["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        rv_aborted,
        "abort, its annotation and the last-action went in one request"
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_puts_the_stable_deployment_back_to_its_previous_replica_sets_template() {
    let t = TestLab::start().await;
    let store = t.lab.store();
    let image = |d: &Value| {
        d["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let stable = || {
        store
            .get(Kind::Deployment, "demo", "cart-stable")
            .expect("cart-stable")
    };
    let before = image(&stable());
    store
        .update(
            Kind::Deployment,
            "demo",
            "cart-stable",
            release_cockpit::lab::store::Part::Main,
            |d| {
                let mut d = d.clone();
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    serde_json::json!("registry.example/cart:2.5.0");
                Ok::<_, std::convert::Infallible>(d)
            },
        )
        .expect("a new stable image");
    // The Deployment controller makes the new ReplicaSet (revision 2).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stable()["metadata"]["annotations"]["deployment.kubernetes.io/revision"] != "2" {
        assert!(tokio::time::Instant::now() < deadline, "no revision 2");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, out, err) = t.cli(&["undo", "cart", "-n", "demo"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("back to revision 1"), "{out}");
    assert_eq!(image(&stable()), before, "the previous template is back");
    let action = last_action(&route(&t)).expect("last-action on the route");
    assert_eq!(action["verb"], "undo");
    t.lab.shutdown().await;
}

/// abort --wait on a weighted release tracks the rollback from the route's weights and the
/// stable Deployment: complete once the canary's share is 0 and stable has all its pods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_wait_on_cart_tracks_traffic_back_to_a_fully_available_stable() {
    let t = TestLab::start().await;
    let (code, out, err) = t
        .cli(&["-o", "json", "abort", "cart", "-n", "demo", "--wait"])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).expect("abort --wait -o json is JSON");
    eprintln!("abort --wait cart: {}", doc["rollback"]);
    let rollback = &doc["rollback"];
    assert_eq!(rollback["complete"], true, "{rollback}");
    assert_eq!(rollback["canaryWeight"], 0);
    assert_eq!(
        (&rollback["stableAvailable"], &rollback["desired"]),
        (&Value::from(3), &Value::from(3))
    );
    assert!(
        rollback["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("rollback complete in ")),
        "{rollback}"
    );
    assert_eq!(weights(&route(&t)).1, 0);
    let (_, outcomes) = journal_lines(&t.journal());
    assert!(
        outcomes
            .iter()
            .any(|o| o.message.starts_with("rollback complete in ")),
        "the rollback's outcome is journaled beside the abort: {outcomes:?}"
    );
    t.lab.shutdown().await;
}
