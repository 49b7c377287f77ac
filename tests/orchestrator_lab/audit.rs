//! Issue 6 against the lab: who the user is, what they may do, the audit trail in its three
//! places, read-only mode, and a 403 the permission check did not foresee.

use super::*;
use release_cockpit::orchestrator::{self, Decision, OrchestratorError, Permission};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_access_tell_the_admin_from_the_viewer() {
    let t = TestLab::start().await;
    let admin = orchestrator::whoami(&t.client(ADMIN).await, ADMIN)
        .await
        .expect("whoami");
    assert_eq!(admin.user, "lab-admin");
    assert!(admin.verified);
    assert!(
        admin.groups.contains(&"lab:admins".to_string()),
        "{admin:?}"
    );
    let cache = orchestrator::AccessCache::default();
    let viewer_client = t.client(VIEWER).await;
    let viewer = cache
        .get(&viewer_client, VIEWER, "demo")
        .await
        .expect("access");
    for p in Permission::ALL {
        assert!(!viewer.allows(p), "viewer may not {p}");
    }
    assert_eq!(
        cache.fresh(VIEWER, "demo"),
        Some(viewer),
        "cached per context and namespace"
    );
    let admin_access = orchestrator::access(&t.client(ADMIN).await, ADMIN, "demo")
        .await
        .expect("access");
    assert_eq!(admin_access.patch_rollout_status, Decision::Allowed);

    let (code, out, err) = t.cli(&["--context", VIEWER, "whoami"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("user:     lab-viewer\n"), "{out}");
    assert!(out.contains("patch rollouts/status  no"), "{out}");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_is_refused_before_sending_with_the_permission_named() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let (code, out, err) = t.cli(&["--context", VIEWER, "promote", "checkout"]).await;
    assert_eq!(code, 1, "stdout {out} stderr {err}");
    assert!(
        err.contains(
            "you (lab-viewer) may not patch rollouts/status in namespace demo of context lab-viewer"
        ),
        "{err}"
    );
    assert!(err.contains("ask your cluster administrator for a Role granting verb 'patch' on resource 'rollouts/status'"), "{err}");
    // The lab saw no change: same resourceVersion, no annotation, no Event.
    let after = t.rollout("checkout");
    assert_eq!(resource_version(&after), resource_version(&before));
    assert!(last_action(&after).is_none());
    assert!(t.audit_events("checkout").is_empty());
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].user, "lab-viewer");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, CommandResult::Refused);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_promote_is_recorded_in_the_annotation_an_event_and_the_journal() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let (code, out, err) = t
        .cli(&[
            "--context",
            ADMIN,
            "promote",
            "checkout",
            "--comment",
            "p95 flat, errors flat",
        ])
        .await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert!(err.is_empty(), "no warnings: {err}");
    let ro = t.rollout("checkout");
    let annotation = last_action(&ro).expect("last-action annotation");
    assert_eq!(annotation["user"], "lab-admin");
    assert_eq!(annotation["verb"], "promote");
    assert_eq!(annotation["fromStep"], 1);
    assert_eq!(annotation["toStep"], 2);
    assert_eq!(annotation["weight"], 40);
    assert_eq!(annotation["comment"], "p95 flat, errors flat");
    assert_eq!(annotation["tool"], "cli");

    let events = t.audit_events("checkout");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["reason"], "PromotedByUser");
    assert_eq!(event["involvedObject"]["kind"], "Rollout");
    assert_eq!(event["involvedObject"]["uid"], ro["metadata"]["uid"]);
    assert_eq!(event["source"]["component"], "release-cockpit");
    let message = event["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("lab-admin promoted: step 1 → 2 (weight 40%)"),
        "{message}"
    );
    assert!(message.contains("p95 flat, errors flat"), "{message}");
    assert_eq!(
        last_action(event),
        Some(annotation.clone()),
        "one record, two places"
    );

    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!((intents.len(), outcomes.len()), (1, 1));
    let (intent, outcome) = (&intents[0], &outcomes[0]);
    assert_eq!(intent.id, outcome.id);
    assert_eq!(intent.user, "lab-admin");
    assert_eq!((intent.from_step, intent.to_step), (Some(1), Some(2)));
    assert_eq!(intent.comment.as_deref(), Some("p95 flat, errors flat"));
    assert_eq!(intent.rollout, checkout(ADMIN));
    assert!(intent.time <= outcome.time);
    assert_eq!(outcome.result, CommandResult::Done);
    assert_eq!(outcome.step, Some(2));
    assert_eq!(
        outcome.resource_version.as_ref(),
        event["involvedObject"]["resourceVersion"]
            .as_str()
            .map(str::to_string)
            .as_ref(),
        "the Event points at the version the change produced"
    );

    let activity = orchestrator::activity(&t.client(VIEWER).await, &checkout(VIEWER))
        .await
        .expect("activity");
    let ours: Vec<_> = activity.iter().filter(|e| e.ours).collect();
    assert_eq!(ours.len(), 1, "{activity:?}");
    assert_eq!(ours[0].reason, "PromotedByUser");
    assert_eq!(
        ours[0].action.as_ref().map(|a| a.user.as_str()),
        Some("lab-admin")
    );
    t.lab.shutdown().await;
}

/// The activity a viewer reads lists the promote's audit entry beside the Event the
/// controller recorded when it completed the step, each with its source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_lists_a_promote_beside_the_controllers_step_event() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let (code, out, err) = t
        .cli(&[
            "--context",
            ADMIN,
            "promote",
            "checkout",
            "--comment",
            "looks good",
        ])
        .await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    let viewer = t.client(VIEWER).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let step_done = |e: &orchestrator::ActivityEntry| {
        e.reason == "RolloutStepCompleted" && e.message.starts_with("Rollout step 2/8 completed")
    };
    let activity = loop {
        let activity = orchestrator::activity(&viewer, &checkout(VIEWER))
            .await
            .expect("activity");
        if activity.iter().any(step_done) {
            break activity;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no RolloutStepCompleted for step 2 within 10 s: {activity:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let promote = activity
        .iter()
        .find(|e| e.reason == "PromotedByUser")
        .expect("the promote's audit entry");
    assert!(promote.ours);
    assert_eq!(promote.source, "release-cockpit");
    assert_eq!(
        promote.action.as_ref().and_then(|a| a.comment.as_deref()),
        Some("looks good")
    );
    let step = activity.iter().find(|e| step_done(e)).expect("step Event");
    assert!(!step.ours);
    assert_eq!(step.source, "rollouts-controller");
    assert!(
        step.time >= promote.time,
        "the step completes after the promote"
    );
    assert!(
        activity.iter().any(|e| e.reason == "ScalingReplicaSet"),
        "the controller's scaling is there too: {activity:#?}"
    );
    assert!(
        activity.windows(2).all(|w| w[0].time >= w[1].time),
        "newest first"
    );
    assert!(activity.len() <= orchestrator::ACTIVITY_LIMIT);
    t.lab.shutdown().await;
}

/// The activity watch (as a viewer) sends the controller's Event about the rollout and its
/// ReplicaSet though the rollout does not change, and the promote's audit entry without
/// anyone reading the list again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_watch_sees_a_controller_event_that_changes_nothing_else() {
    use futures::StreamExt;
    use orchestrator::ActivityUpdate;
    let t = TestLab::start().await;
    let at_approval = t.checkout_at_approval().await;
    let updates = orchestrator::watch_activity(t.client(VIEWER).await, checkout(VIEWER));
    futures::pin_mut!(updates);
    let mut next = async || -> Vec<orchestrator::ActivityEntry> {
        match tokio::time::timeout(Duration::from_secs(10), updates.next()).await {
            Ok(Some(ActivityUpdate::Entries(entries))) => entries,
            other => panic!("no activity within 10 s: {other:?}"),
        }
    };
    let first = next().await;
    assert!(
        first.iter().any(|e| e.reason == "RolloutStepCompleted"),
        "the initial list has the controller's Events: {first:#?}"
    );
    let hash = at_approval["status"]["currentPodHash"]
        .as_str()
        .expect("pod hash");
    // What the controller's recorder would send, straight to the API server: the rollout
    // itself stays as it is.
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(t.client(ADMIN).await, "demo");
    for (kind, name, reason) in [
        ("Rollout", "checkout".to_string(), "AnalysisRunRunning"),
        (
            "ReplicaSet",
            format!("checkout-{hash}"),
            "ScalingReplicaSet",
        ),
    ] {
        let event: k8s_openapi::api::core::v1::Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("{name}.watch-test-{reason}"), "namespace": "demo"},
            "involvedObject": {"kind": kind, "name": name, "namespace": "demo"},
            "reason": reason,
            "message": "seen by the watch",
            "type": "Normal",
            "source": {"component": "rollouts-controller"},
            "lastTimestamp": jiff::Timestamp::now().to_string(),
            "count": 1,
        }))
        .expect("event");
        events
            .create(&kube::api::PostParams::default(), &event)
            .await
            .expect("create event");
    }
    let seen = |entries: &[orchestrator::ActivityEntry], reason: &str| {
        entries
            .iter()
            .any(|e| e.reason == reason && e.message == "seen by the watch" && !e.ours)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let entries = next().await;
        if seen(&entries, "AnalysisRunRunning") && seen(&entries, "ScalingReplicaSet") {
            assert!(entries.len() <= orchestrator::ACTIVITY_LIMIT);
            assert!(
                entries.windows(2).all(|w| w[0].time >= w[1].time),
                "newest first"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{entries:#?}");
    }
    assert_eq!(
        t.rollout("checkout")["metadata"]["resourceVersion"],
        at_approval["metadata"]["resourceVersion"],
        "the rollout did not change"
    );
    // A promote through the orchestration API: its audit Event arrives on the same watch.
    let (code, out, err) = t.cli(&["--context", ADMIN, "promote", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    loop {
        let entries = next().await;
        if entries
            .iter()
            .any(|e| e.ours && e.reason == "PromotedByUser")
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline + Duration::from_secs(10));
    }
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_sends_nothing() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let (code, out, err) = t
        .cli(&["--read-only", "--context", ADMIN, "abort", "checkout"])
        .await;
    assert_eq!(code, 1, "stdout {out} stderr {err}");
    assert!(
        err.contains("read-only mode: abort on rollout 'checkout'"),
        "{err}"
    );
    let client = t.client(ADMIN).await;
    let opts = ExecuteOptions {
        read_only: true,
        ..t.options()
    };
    let actions = [
        Action::Promote { pin: None },
        Action::PromoteFull { pin: None },
        Action::Abort { pin: None },
        Action::Retry,
        Action::Pause,
        Action::Resume,
        Action::Restart,
        Action::Undo {
            to_revision: None,
            pin: None,
            to_hash: None,
        },
        Action::AutoStatus {
            text: "waiting for approval".into(),
        },
        Action::SetWeight {
            weight: 60,
            pin: None,
        },
    ];
    for action in actions {
        let command = Command {
            target: checkout(ADMIN),
            action,
            tool: Tool::Gui,
            comment: None,
        };
        let err = orchestrator::execute_with(&client, &command, &opts)
            .await
            .expect_err("read-only");
        assert!(matches!(err, OrchestratorError::ReadOnly { .. }), "{err}");
    }
    let after = t.rollout("checkout");
    assert_eq!(resource_version(&after), resource_version(&before));
    assert_eq!(after["spec"], before["spec"]);
    assert!(t.audit_events("checkout").is_empty());
    assert!(t.journal().entries().expect("journal").is_empty());
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_despite_a_stale_permission_answer_quotes_the_server() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let client = t.client(VIEWER).await;
    // What a window might still believe from before its user's rights were taken away.
    let stale = release_cockpit::orchestrator::Access {
        context: VIEWER.into(),
        namespace: "demo".into(),
        patch_rollouts: Decision::Allowed,
        patch_rollout_status: Decision::Allowed,
        create_events: Decision::Allowed,
        patch_httproutes: Decision::Allowed,
        patch_deployments: Decision::Allowed,
        patch_canaries: Decision::Allowed,
        create_service_proxy: Decision::Allowed,
    };
    let opts = ExecuteOptions {
        access: Some(stale),
        ..t.options()
    };
    let err = orchestrator::execute_with(&client, &promote_at(VIEWER, 1, None), &opts)
        .await
        .expect_err("forbidden");
    let OrchestratorError::Forbidden { message, .. } = &err else {
        panic!("expected Forbidden, got {err}");
    };
    assert!(
        message.contains("lab-viewer"),
        "the server's own words: {message}"
    );
    assert!(err.to_string().contains(message.as_str()));
    assert_eq!(err.exit_code(), 1);
    assert_eq!(
        resource_version(&t.rollout("checkout")),
        resource_version(&before)
    );
    let (_, outcomes) = journal_lines(&t.journal());
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, CommandResult::Refused);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_comment_is_asked_for_before_sending() {
    let t = TestLab::start().await;
    let before = t.checkout_at_approval().await;
    let require = [("RELEASE_COCKPIT_REQUIRE_COMMENT", "true")];
    let (code, out, err) = t
        .cli_with_env(&require, &["--context", ADMIN, "promote", "checkout"])
        .await;
    assert_eq!(code, 2, "stdout {out} stderr {err}");
    assert!(
        err.contains("promote on rollout 'checkout' needs a comment"),
        "{err}"
    );
    assert!(err.contains("--comment"), "{err}");
    assert_eq!(
        resource_version(&t.rollout("checkout")),
        resource_version(&before)
    );

    let (code, out, err) = t
        .cli_with_env(
            &require,
            &[
                "--context",
                ADMIN,
                "promote",
                "checkout",
                "--comment",
                "CAB-1234",
            ],
        )
        .await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    assert_eq!(
        last_action(&t.rollout("checkout")).expect("annotation")["comment"],
        "CAB-1234"
    );
    t.lab.shutdown().await;
}
