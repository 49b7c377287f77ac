//! Approvals pinned to what was seen, against the lab: a new canary or a new blue-green
//! revision arriving between what the person saw and the command is refused, nothing changes
//! on the rollout, and the journal records the refusal with the pin; the CLI's
//! `--expect-hash` does the same for a pipeline.

use super::*;
use release_cockpit::cluster::get_rollout;
use release_cockpit::model::{Pin, RolloutView};
use release_cockpit::orchestrator::{self, OrchestratorError};

/// What the window shows of `name` through the admin context now.
async fn seen(t: &TestLab, name: &str) -> RolloutView {
    let client = t.client(ADMIN).await;
    let target = RolloutRef::new(ADMIN, "demo", name);
    get_rollout(&client, &target).await.expect("get").1
}

/// Sends `action` on `name` as the window would, expecting it refused because the rollout
/// moved on to `now_hash`; returns the error's words.
async fn refused(t: &TestLab, name: &str, action: Action, now_hash: &str) -> String {
    let client = t.client(ADMIN).await;
    let command = Command {
        target: RolloutRef::new(ADMIN, "demo", name),
        action: action.clone(),
        tool: Tool::Gui,
        comment: Some("looked fine".into()),
    };
    let err = orchestrator::execute_with(&client, &command, &t.options())
        .await
        .expect_err("moved on");
    match &err {
        OrchestratorError::MovedOn { now, .. } => {
            assert_eq!(now.pod_hash.as_deref(), Some(now_hash), "{action:?}: {err}");
        }
        other => panic!("{action:?}: expected moved on, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&format!("pod hash {now_hash} (a new revision)")),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    text
}

/// Every refusal is journaled: an intent carrying the pin, and a moved-on outcome.
fn assert_journaled_refusals(t: &TestLab, pins: &[Pin]) {
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), pins.len(), "{intents:?}");
    for (intent, pin) in intents.iter().zip(pins) {
        assert_eq!(intent.pin.as_ref(), Some(pin), "{intent:?}");
        let outcome = outcomes
            .iter()
            .find(|o| o.id == intent.id)
            .expect("an outcome for every intent");
        assert_eq!(outcome.result, CommandResult::MovedOn, "{outcome:?}");
        assert!(outcome.message.contains("moved on"), "{}", outcome.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_canary_after_the_person_looked_is_neither_approved_nor_promoted() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let view = seen(&t, "checkout").await;
    let pin = Pin::of_view(&view);
    assert_eq!(pin.step, Some(1));
    let undo_pin = Pin {
        pod_hash: pin.pod_hash.clone(),
        ..Pin::default()
    };
    let now = t
        .new_revision("checkout", "registry.example/checkout:9.9.9")
        .await;
    let now_hash = now["status"]["currentPodHash"].as_str().expect("hash");
    let actions = [
        Action::Promote {
            pin: Some(pin.clone()),
        },
        Action::PromoteFull {
            pin: Some(pin.clone()),
        },
        Action::SetWeight {
            weight: 40,
            pin: Some(pin.clone()),
        },
        Action::Abort {
            pin: Some(undo_pin.clone()),
        },
        Action::Undo {
            to_revision: None,
            pin: Some(undo_pin.clone()),
            to_hash: None,
        },
    ];
    for action in actions {
        refused(&t, "checkout", action, now_hash).await;
    }
    let ro = t.rollout("checkout");
    assert_ne!(ro["status"]["promoteFull"], true, "{}", ro["status"]);
    assert_ne!(ro["status"]["abort"], true, "{}", ro["status"]);
    assert_eq!(
        ro["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/checkout:9.9.9"
    );
    assert!(last_action(&ro).is_none(), "no change was recorded");
    assert!(t.audit_events("checkout").is_empty());
    assert_journaled_refusals(
        &t,
        &[pin.clone(), pin.clone(), pin, undo_pin.clone(), undo_pin],
    );

    // A pipeline says what it saw with --expect-hash: exit 1, the new hash in words.
    let old = view.current_hash.as_deref().expect("hash");
    for verb in [&["promote", "checkout"][..], &["abort", "checkout"]] {
        let args = [&["--context", ADMIN][..], verb, &["--expect-hash", old]].concat();
        let (code, out, err) = t.cli(&args).await;
        assert_eq!(code, 1, "{verb:?}: stdout {out} stderr {err}");
        assert!(
            err.contains(&format!("pod hash {now_hash} (a new revision)")),
            "{err}"
        );
    }
    let ro = t.rollout("checkout");
    assert_ne!(ro["status"]["abort"], true, "{}", ro["status"]);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_blue_green_revision_after_the_person_looked_is_not_promoted() {
    let t = TestLab::start().await;
    let waiting = t
        .wait_for("payments", "to wait for promotion", |ro| {
            !ro["status"]["pauseConditions"].is_null()
        })
        .await;
    let preview = waiting["status"]["blueGreen"]["previewSelector"].clone();
    let view = seen(&t, "payments").await;
    let pin = Pin::of_view(&view);
    assert_eq!(
        pin.preview_hash.as_ref(),
        preview.as_str().map(String::from).as_ref()
    );
    assert_eq!(pin.step, None, "blue-green has no steps");
    let now = t
        .new_revision("payments", "registry.example/payments:9.9.9")
        .await;
    let now_hash = now["status"]["currentPodHash"].as_str().expect("hash");
    let text = refused(
        &t,
        "payments",
        Action::Promote {
            pin: Some(pin.clone()),
        },
        now_hash,
    )
    .await;
    assert!(
        text.contains(&format!(
            "was for preview {}",
            preview.as_str().expect("preview")
        )),
        "{text}"
    );
    refused(
        &t,
        "payments",
        Action::PromoteFull {
            pin: Some(pin.clone()),
        },
        now_hash,
    )
    .await;
    let ro = t.rollout("payments");
    assert_ne!(ro["status"]["promoteFull"], true, "{}", ro["status"]);
    assert_ne!(
        ro["status"]["blueGreen"]["activeSelector"], now_hash,
        "the new revision did not become active"
    );
    assert!(last_action(&ro).is_none(), "no change was recorded");
    assert_journaled_refusals(&t, &[pin.clone(), pin]);
    t.lab.shutdown().await;
}
