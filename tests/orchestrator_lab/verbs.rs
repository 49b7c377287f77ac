//! Issue 2's verbs end to end: the real binary against the lab, exit codes and text checked,
//! and the lab's store showing what Argo's controller would do with each change.

use super::*;
use release_cockpit::cluster::get_rollout;
use release_cockpit::model::Phase;
use release_cockpit::orchestrator::{self, OrchestratorError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_advances_checkout_one_step() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let (code, out, err) = t.cli(&["--context", ADMIN, "promote", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert_eq!(
        out.trim(),
        "rollout 'checkout' promoted: step 1 → 2 (weight 40%)"
    );
    // The controller moves on to the 10 s pause at step 3 by itself, and stops there.
    let ro = t
        .wait_for("checkout", "past step 1", |ro| step(ro) >= Some(2))
        .await;
    assert!(
        step(&ro) <= Some(3),
        "one promote, one step: {}",
        ro["status"]
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_degrades_and_retry_restarts() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let client = t.client(ADMIN).await;
    let (code, out, err) = t.cli(&["--context", ADMIN, "abort", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert!(out.contains("rollout 'checkout' aborted"), "{out}");
    t.wait_for("checkout", "degraded", |ro| {
        ro["status"]["phase"] == "Degraded"
    })
    .await;
    let (_, view) = get_rollout(&client, &checkout(ADMIN)).await.expect("get");
    assert_eq!(view.phase, Phase::Degraded, "{view:?}");
    let (code, out, err) = t.cli(&["--context", ADMIN, "get", "checkout"]).await;
    assert_eq!(code, 0, "stderr {err}");
    assert!(out.contains("Degraded"), "{out}");

    let (code, out, err) = t.cli(&["--context", ADMIN, "retry", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    let ro = t
        .wait_for("checkout", "retried", |ro| {
            ro["status"]["abort"] != true && ro["status"]["phase"] != "Degraded"
        })
        .await;
    assert!(
        step(&ro) <= Some(1),
        "the update starts again: {}",
        ro["status"]
    );
    let (_, view) = get_rollout(&client, &checkout(ADMIN)).await.expect("get");
    assert_ne!(view.phase, Phase::Degraded, "{view:?}");
    t.lab.shutdown().await;
}

/// `abort --wait` for pipelines: the abort goes through the one door, then the rollback is
/// tracked until all traffic is on stable and stable is fully available; the time it took is
/// printed and journaled beside the abort.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_wait_reports_the_rollback_complete_with_its_time() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let (code, out, err) = t
        .cli(&[
            "--context",
            ADMIN,
            "abort",
            "checkout",
            "--wait",
            "--timeout",
            "30s",
        ])
        .await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("rollout 'checkout' aborted"), "{out}");
    let secs: f64 = lines[1]
        .strip_prefix("rollback complete in ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no elapsed time in {:?}", lines[1]));
    assert!((0.0..30.0).contains(&secs), "{secs}");
    // What the tracker saw is what the lab holds: no canary traffic, stable fully available.
    let client = t.client(ADMIN).await;
    let (_, view) = get_rollout(&client, &checkout(ADMIN)).await.expect("get");
    assert!(view.aborted, "{view:?}");
    assert_eq!(view.actual_weight, 0, "{view:?}");
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 1, "one command: the abort");
    let messages: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.id == intents[0].id)
        .map(|o| o.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1], lines[1], "the rollback's outcome is journaled");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_weight_60_jumps_to_the_60_percent_step_and_refuses_undeclared_weights() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let (code, out, err) = t
        .cli(&["--context", ADMIN, "set-weight", "checkout", "55"])
        .await;
    assert_eq!(code, 2, "stdout {out} stderr {err}");
    assert!(err.contains("declared: 20%, 40%, 60%, 80%"), "{err}");
    assert_eq!(step(&t.rollout("checkout")), Some(1), "nothing was changed");

    let (code, out, err) = t
        .cli(&["--context", ADMIN, "set-weight", "checkout", "60"])
        .await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert_eq!(
        out.trim(),
        "rollout 'checkout' set to weight 60%: step 1 → 4"
    );
    let ro = t
        .wait_for("checkout", "step 4", |ro| step(ro) >= Some(4))
        .await;
    assert!(step(&ro) <= Some(5), "{}", ro["status"]);
    let (_, view) = get_rollout(&t.client(ADMIN).await, &checkout(ADMIN))
        .await
        .expect("get");
    assert_eq!(view.set_weight, 60, "{view:?}");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_goes_back_to_the_previous_template() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let running = before["status"]["currentPodHash"]
        .as_str()
        .expect("hash")
        .to_string();
    let image = |ro: &Value| ro["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    let old_image = image(&before);
    // A newer revision, so that the previous one is a ReplicaSet the controller made (the
    // seed's stable ReplicaSet has no ownerReference). The lab's controller does not yet
    // write the rollout's revision annotation as Argo does, so the test writes it: the
    // revision of the ReplicaSet running now.
    let api: kube::Api<release_cockpit::model::Rollout> =
        kube::Api::namespaced(t.client(ADMIN).await, "demo");
    let running_rs = t
        .lab
        .store()
        .get(Kind::ReplicaSet, "demo", &format!("checkout-{running}"))
        .expect("the running ReplicaSet");
    let revision = running_rs["metadata"]["annotations"]["rollout.argoproj.io/revision"].clone();
    let annotate = serde_json::json!({"metadata": {"annotations": {"rollout.argoproj.io/revision": revision}}});
    api.patch(
        "checkout",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&annotate),
    )
    .await
    .expect("revision annotation");
    t.new_revision("checkout", "registry.example/checkout:1.4.3")
        .await;

    let (code, out, err) = t.cli(&["--context", ADMIN, "undo", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert!(out.contains("rollout 'checkout'"), "{out}");
    let ro = t
        .wait_for("checkout", "back on the previous template", |ro| {
            ro["status"]["currentPodHash"] == running.as_str()
        })
        .await;
    assert_eq!(image(&ro), old_image);
    assert!(
        ro["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"].is_null(),
        "no hash label in the template"
    );
    assert_eq!(last_action(&ro).expect("annotation")["verb"], "undo");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_restart_change_the_spec() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let client = t.client(ADMIN).await;
    let target = checkout(ADMIN);
    let opts = t.options();
    let run = |action: Action| Command {
        target: target.clone(),
        action,
        tool: Tool::Gui,
        comment: None,
    };
    orchestrator::execute_with(&client, &run(Action::Pause), &opts)
        .await
        .expect("pause");
    assert_eq!(t.rollout("checkout")["spec"]["paused"], true);
    orchestrator::execute_with(&client, &run(Action::Resume), &opts)
        .await
        .expect("resume");
    assert_eq!(t.rollout("checkout")["spec"]["paused"], false);
    let done = orchestrator::execute_with(&client, &run(Action::Restart), &opts)
        .await
        .expect("restart");
    assert!(done.outcome.changed);
    assert!(t.rollout("checkout")["spec"]["restartAt"].is_string());
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_cli_promotes_advance_one_step() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let args = ["--context", ADMIN, "promote", "checkout", "--step", "1"];
    let ((a, a_out, a_err), (b, b_out, b_err)) = tokio::join!(t.cli(&args), t.cli(&args));
    let mut codes = [a, b];
    codes.sort();
    assert_eq!(codes, [0, 1], "a: {a_out}{a_err} b: {b_out}{b_err}");
    let loser = if a == 1 { &a_err } else { &b_err };
    assert!(
        (loser.contains("rollout 'checkout' moved on to step")
            || loser.contains("rollout 'checkout' step 1 was already promoted by someone else"))
            && loser.contains("nothing was changed"),
        "{loser}"
    );
    let ro = t.rollout("checkout");
    assert!(step(&ro) <= Some(3), "{}", ro["status"]);
    assert_eq!(t.audit_events("checkout").len(), 1);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_pin_is_refused_without_sending() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let client = t.client(ADMIN).await;
    let err = orchestrator::execute_with(&client, &promote_at(ADMIN, 0, None), &t.options())
        .await
        .expect_err("moved on");
    assert!(
        matches!(
            &err,
            OrchestratorError::MovedOn { seen, now, .. }
                if seen.step == Some(0) && now.step == Some(1)
        ),
        "{err}"
    );
    assert_eq!(
        resource_version(&t.rollout("checkout")),
        resource_version(&before)
    );
    t.lab.shutdown().await;
}
