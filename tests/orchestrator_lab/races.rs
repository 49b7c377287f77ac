//! Races and failures against the lab: 50 racing promotes, a command cut off between its
//! intent and its change, an answer lost after the change landed.

use super::*;
use http::{Request, Response};
use kube::client::Body;
use release_cockpit::orchestrator::{self, OrchestratorError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_promotes_advance_exactly_one_step() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(t.fresh_client(ADMIN).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let opts = t.options();
            tokio::spawn(async move {
                orchestrator::execute_with(&client, &promote_at(ADMIN, 1, Some("race")), &opts)
                    .await
            })
        })
        .collect();
    let mut done = 0;
    let mut moved_on = 0;
    for task in tasks {
        match task.await.expect("no panic") {
            Ok(executed) => {
                done += 1;
                assert_eq!(executed.outcome.to_step, Some(2));
            }
            Err(
                err @ (OrchestratorError::MovedOn { .. }
                | OrchestratorError::AlreadyPromoted { .. }),
            ) => {
                moved_on += 1;
                assert!(err.to_string().contains("nothing was changed"), "{err}");
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!((done, moved_on), (1, 49));
    let ro = t.rollout("checkout");
    assert!(
        step(&ro) <= Some(3),
        "one step (then the controller's own): {}",
        ro["status"]
    );
    let annotation = last_action(&ro).expect("annotation");
    assert_eq!(
        (
            annotation["fromStep"].as_i64(),
            annotation["toStep"].as_i64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(t.audit_events("checkout").len(), 1);

    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 50);
    assert_eq!(outcomes.len(), 50);
    assert_eq!(count(&outcomes, CommandResult::Done), 1);
    assert_eq!(count(&outcomes, CommandResult::MovedOn), 49);
    assert!(
        orchestrator::unfinished(&t.journal())
            .expect("journal")
            .is_empty()
    );
    t.lab.shutdown().await;
}

/// A client whose requests go to the lab, except PATCH, which is held forever: the command
/// stops between its intent and its change, as a process killed there would.
fn client_that_stalls_patches(lab_client: kube::Client) -> kube::Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some((request, reply)) = handle.next_request().await {
            if request.method() == http::Method::PATCH {
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

/// A client whose requests go to the lab, but whose first PATCH loses its answer: the lab
/// applies it and the client sees the connection reset, as when a network drops mid-request.
fn client_that_loses_the_first_patch_answer(lab_client: kube::Client) -> kube::Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut lost = false;
        while let Some((request, reply)) = handle.next_request().await {
            let is_patch = request.method() == http::Method::PATCH;
            let answer = lab_client.send(request).await;
            match answer {
                Ok(_) if is_patch && !lost => {
                    lost = true;
                    reply.send_error(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "connection reset by peer",
                    ));
                }
                Ok(response) => reply.send_response(response),
                Err(e) => reply.send_error(e),
            }
        }
    });
    kube::Client::new(service, "demo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_an_unknown_outcome_re_read_and_never_retried() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let client = client_that_loses_the_first_patch_answer(t.client(ADMIN).await);
    let command = Command {
        target: checkout(ADMIN),
        action: Action::SetWeight {
            weight: 60,
            pin: None,
        },
        tool: Tool::Cli,
        comment: None,
    };
    let err = orchestrator::execute_with(&client, &command, &t.options())
        .await
        .expect_err("unknown outcome");
    let OrchestratorError::UnknownOutcome {
        step: Some(now), ..
    } = &err
    else {
        panic!("expected an unknown outcome with the re-read step, got {err}");
    };
    let text = err.to_string();
    assert!(
        text.contains(&format!("re-read shows step {now}")),
        "{text}"
    );
    assert!(text.contains("connection reset by peer"), "{text}");
    // The change did land, once; nothing after it was sent (no annotation, no Event).
    let ro = t.rollout("checkout");
    assert!(*now >= 4 && step(&ro) >= Some(4), "{}", ro["status"]);
    assert!(last_action(&ro).is_none(), "not retried, not followed up");
    assert!(t.audit_events("checkout").is_empty());
    let (_, outcomes) = journal_lines(&t.journal());
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, CommandResult::Unknown);
    assert_eq!(outcomes[0].step, Some(*now));
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_cut_off_after_its_intent_is_reported_on_the_next_start() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let client = client_that_stalls_patches(t.client(ADMIN).await);
    let opts = t.options();
    let task = tokio::spawn(async move {
        orchestrator::execute_with(&client, &promote_at(ADMIN, 1, Some("cut off")), &opts).await
    });
    let journal = t.journal();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while journal.entries().expect("journal").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no intent was written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());

    let open = orchestrator::unfinished(&journal).expect("journal");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].user, "lab-admin");
    assert_eq!((open[0].from_step, open[0].to_step), (Some(1), Some(2)));
    assert_eq!(open[0].comment.as_deref(), Some("cut off"));
    assert_eq!(
        resource_version(&t.rollout("checkout")),
        resource_version(&before)
    );

    // The same intent from a process that is gone: the CLI's next start reports it, once.
    let mut gone = open[0].clone();
    gone.id.push_str("-gone");
    let mut exited = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    gone.pid = Some(exited.id());
    exited.wait().expect("wait");
    journal.append(&Entry::Intent(gone)).expect("append");
    let (code, _, err) = t.cli(&["--context", ADMIN, "list"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: promote on rollout 'checkout' in namespace demo of context lab-admin (step 1 → 2), sent by lab-admin")
            && err.contains("never finished"),
        "{err}"
    );
    let (_, _, err) = t.cli(&["--context", ADMIN, "list"]).await;
    assert!(!err.contains("never finished"), "reported once: {err}");
    t.lab.shutdown().await;
}
