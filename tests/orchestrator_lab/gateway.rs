//! The weighted (Gateway API) release `cart` through the one door and the CLI: set-weight
//! moves the route's weights (kubectl reads them back), with the journal, the last-action
//! annotation on the route and an audit Event; 140 is bad input; the viewer is refused before
//! sending; promote goes to the next declared step; abort puts the canary at 0 in one request;
//! promote --full runs its four stages, and one cut off between them is reported at its stage
//! and finished by the next promote --full.

use super::*;
use http::{Request, Response};
use kube::client::Body;
use release_cockpit::model::Provider;
use release_cockpit::orchestrator::journal::Stage;

fn cart(context: &str) -> RolloutRef {
    RolloutRef {
        provider: Provider::Gateway,
        ..RolloutRef::new(context, "demo", "cart")
    }
}

fn route(t: &TestLab) -> Value {
    t.lab
        .store()
        .get(Kind::HttpRoute, "demo", "cart")
        .expect("cart's route")
}

fn weights(route: &Value) -> (i64, i64) {
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

fn deployment(t: &TestLab, name: &str) -> Value {
    t.lab
        .store()
        .get(Kind::Deployment, "demo", name)
        .expect("cart's Deployment")
}

fn image(deployment: &Value) -> String {
    deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn stage_lines(journal: &Journal) -> Vec<(u32, Option<u32>)> {
    journal
        .entries()
        .expect("journal")
        .into_iter()
        .filter_map(|e| match e {
            Entry::Stage(s) => Some((s.done.number, s.next.map(|n| n.number))),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_full_puts_the_canarys_template_on_stable_then_all_traffic_and_scales_the_canary_down()
 {
    let t = TestLab::start().await;
    let canary_image = image(&deployment(&t, "cart-canary"));
    assert_ne!(image(&deployment(&t, "cart-stable")), canary_image);

    // The viewer may patch neither Deployments nor routes: refused before anything is sent.
    let before = deployment(&t, "cart-stable");
    let refused = release_cockpit::orchestrator::execute_with(
        &t.client(VIEWER).await,
        &Command {
            target: cart(VIEWER),
            action: Action::PromoteFull { pin: None },
            tool: Tool::Cli,
            comment: None,
        },
        &t.options(),
    )
    .await
    .expect_err("the viewer may not patch deployments");
    assert!(
        refused.to_string().contains("patch deployments"),
        "{refused}"
    );
    assert_eq!(
        deployment(&t, "cart-stable")["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"],
        "nothing was sent"
    );

    let (code, out, err) = t
        .cli(&[
            "promote",
            "--full",
            "cart",
            "-n",
            "demo",
            "--comment",
            "ship 2.4.0",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("promoted fully: Deployment cart-stable got the canary's pod template"),
        "{out}"
    );

    let stable = deployment(&t, "cart-stable");
    assert_eq!(
        image(&stable),
        canary_image,
        "stable runs the canary's template"
    );
    assert_eq!(
        stable["spec"]["template"]["metadata"]["labels"]["track"], "stable",
        "stable's pods keep the labels its Service selects"
    );
    let replicas = stable["spec"]["replicas"].clone();
    assert_eq!(stable["status"]["updatedReplicas"], replicas);
    assert_eq!(stable["status"]["availableReplicas"], replicas);
    assert_eq!(
        stable["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2",
        "the lab's Deployment controller rolled out a new ReplicaSet"
    );
    let now = route(&t);
    assert_eq!(weights(&now), (100, 0));
    assert_eq!(
        now["metadata"]["annotations"]["release-cockpit.io/step"],
        "4"
    );
    assert_eq!(deployment(&t, "cart-canary")["spec"]["replicas"], 0);

    let action = last_action(&now).expect("the last-action annotation is on the route");
    assert_eq!(action["verb"], "promote-full");
    assert_eq!(action["comment"], "ship 2.4.0");
    let events = t.audit_events("cart");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "PromotedByUser");
    assert_eq!(events[0]["involvedObject"]["kind"], "HTTPRoute");
    assert_eq!(
        stage_lines(&t.journal()),
        vec![(1, Some(2)), (2, Some(3)), (3, Some(4)), (4, None)]
    );
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 2, "the viewer's refusal and the promotion");
    assert_eq!(intents[1].stage.as_ref().map(|s| s.number), Some(1));
    assert_eq!(count(&outcomes, CommandResult::Done), 1);

    // Everything is done: a second promote --full sends nothing.
    let (code, out, err) = t.cli(&["promote", "--full", "cart", "-n", "demo"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to do"), "{out}");
    t.lab.shutdown().await;
}

/// A client whose requests go to the lab, except PATCHes of HTTPRoutes, which are held
/// forever: promote --full does its Deployment stages and stops before the traffic stage,
/// as a process killed there would.
fn client_that_stalls_route_patches(lab_client: kube::Client) -> kube::Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some((request, reply)) = handle.next_request().await {
            if request.method() == http::Method::PATCH
                && request.uri().path().contains("/httproutes/")
            {
                held.push(reply);
                continue;
            }
            match lab_client.send(request).await {
                Ok(response) => reply.send_response(response),
                Err(e) => reply.send_error(e),
            }
        }
    });
    kube::Client::new(service, "demo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promote_full_cut_off_between_stages_is_reported_at_its_stage_and_the_next_one_finishes_it()
 {
    let t = TestLab::start().await;
    let canary_image = image(&deployment(&t, "cart-canary"));
    let client = client_that_stalls_route_patches(t.client(ADMIN).await);
    let opts = t.options();
    let task = tokio::spawn(async move {
        release_cockpit::orchestrator::execute_with(
            &client,
            &Command {
                target: cart(ADMIN),
                action: Action::PromoteFull { pin: None },
                tool: Tool::Cli,
                comment: Some("cut off".into()),
            },
            &opts,
        )
        .await
    });
    let journal = t.journal();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !stage_lines(&journal).contains(&(2, Some(3))) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "stage 2 never finished: {:?}",
            journal.entries()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());

    // Stages 1 and 2 happened; the traffic did not move.
    assert_eq!(image(&deployment(&t, "cart-stable")), canary_image);
    assert_eq!(weights(&route(&t)), (90, 10));
    let open = release_cockpit::orchestrator::unfinished(&journal).expect("journal");
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].stage.as_deref(),
        Some(&Stage {
            number: 3,
            of: 4,
            what: "all traffic to stable (weights 100/0) at the last step".into()
        })
    );

    // The same intent from a process that is gone: the CLI's next start reports its stage.
    let mut gone = open[0].clone();
    gone.id.push_str("-gone");
    gone.stage = None;
    let mut exited = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    gone.pid = Some(exited.id());
    exited.wait().expect("wait");
    journal
        .append(&Entry::Intent(gone.clone()))
        .expect("append");
    for (done, next) in [(1, 2), (2, 3)] {
        let stage = |number| Stage {
            number,
            of: 4,
            what: format!("stage {number}"),
        };
        journal
            .append(&Entry::Stage(
                release_cockpit::orchestrator::journal::StageDone {
                    id: gone.id.clone(),
                    time: jiff::Timestamp::now(),
                    done: stage(done),
                    next: Some(stage(next)),
                },
            ))
            .expect("append");
    }
    let (code, _, err) = t.cli(&["--context", ADMIN, "list"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: promote-full on rollout 'cart'")
            && err.contains("it stopped at stage 3 of 4 (stage 3); run promote --full again"),
        "{err}"
    );

    let (code, out, err) = t.cli(&["promote", "--full", "cart", "-n", "demo"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("continued from stage 3 of 4"), "{out}");
    assert_eq!(weights(&route(&t)), (100, 0));
    assert_eq!(deployment(&t, "cart-canary")["spec"]["replicas"], 0);
    assert_eq!(
        deployment(&t, "cart-stable")["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2",
        "the template was not copied again"
    );
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
