//! promote --full on the weighted release `cart` through the one door and the CLI: its four
//! stages (the canary's template to stable, stable available, all traffic to stable, the
//! canary at zero), the refusal to copy onto a stable Deployment changed meanwhile, and a run
//! cut off between stages reported at its stage and finished by the next promote --full.

use super::gateway::{cart, route, weights};
use super::*;
use http::{Request, Response};
use kube::client::Body;
use release_cockpit::orchestrator::journal::Stage;

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
    // Each stage is printed as it is done, the outcome after them.
    assert!(
        out.contains(
            "stage 2 of 4 done (wait until Deployment cart-stable is available with it): \
             Deployment cart-stable is available with it\n"
        ),
        "{out}"
    );
    let last_stage = out.find("stage 4 of 4 done").expect("stage 4 printed");
    let outcome = out.find("promoted fully").expect("the outcome printed");
    assert!(last_stage < outcome, "{out}");

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
            what: "all traffic to stable at the last step, weights 100/0".into()
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

/// A client whose requests go to the lab, but just before the first PATCH of a Deployment
/// someone else changes that Deployment (a new annotation through the lab's store).
fn client_racing_a_deployment_change(
    lab_client: kube::Client,
    store: std::sync::Arc<release_cockpit::lab::store::Store>,
) -> kube::Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut raced = false;
        while let Some((request, reply)) = handle.next_request().await {
            let path = request.uri().path().to_string();
            if request.method() == http::Method::PATCH && path.contains("/deployments/") && !raced {
                raced = true;
                let name = path.rsplit('/').next().unwrap_or_default().to_string();
                store
                    .update(
                        Kind::Deployment,
                        "demo",
                        &name,
                        release_cockpit::lab::store::Part::Main,
                        |d| {
                            let mut d = d.clone();
                            d["metadata"]["annotations"]["team.example/owner"] =
                                serde_json::json!("someone else");
                            Ok::<_, std::convert::Infallible>(d)
                        },
                    )
                    .expect("the change made meanwhile");
            }
            match lab_client.send(request).await {
                Ok(response) => reply.send_response(response),
                Err(e) => reply.send_error(e),
            }
        }
    });
    kube::Client::new(service, "demo")
}

/// promote --full's first stage is pinned to the stable Deployment as read: changed
/// meanwhile, the copy is refused, nothing moves, and the error names the Deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_full_refuses_to_copy_onto_a_stable_deployment_changed_meanwhile() {
    let t = TestLab::start().await;
    let before = image(&deployment(&t, "cart-stable"));
    let client = client_racing_a_deployment_change(t.client(ADMIN).await, t.lab.store().clone());
    let err = release_cockpit::orchestrator::execute_with(
        &client,
        &Command {
            target: cart(ADMIN),
            action: Action::PromoteFull { pin: None },
            tool: Tool::Cli,
            comment: None,
        },
        &t.options(),
    )
    .await
    .expect_err("the stable Deployment changed meanwhile");
    let message = err.to_string();
    assert!(
        message.contains("Deployment cart-stable changed after it was read")
            && message.contains("run promote --full again"),
        "{message}"
    );
    assert_eq!(image(&deployment(&t, "cart-stable")), before, "not copied");
    assert_eq!(weights(&route(&t)), (90, 10));
    let (_, outcomes) = journal_lines(&t.journal());
    assert_eq!(count(&outcomes, CommandResult::Refused), 1);
    t.lab.shutdown().await;
}
