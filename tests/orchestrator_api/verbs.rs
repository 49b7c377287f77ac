//! Each verb's requests, exactly.

use super::*;

#[tokio::test]
async fn promote_pins_the_step_it_read_and_clears_the_pause() {
    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentStepIndex", "value": 1},
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "remove", "path": "/status/pauseConditions"}
        ])
    );
    respond(reply, 200, &rollout(1, "101"));
    let outcome = finish(task, &mut server).await.expect("promoted");
    assert_eq!(outcome.summary, "promoted: step 1 → 2 (weight 40%)");
    assert_eq!(
        (outcome.from_step, outcome.to_step, outcome.weight),
        (Some(1), Some(2), Some(40))
    );
    assert!(outcome.changed);
    assert_eq!(outcome.resource_version.as_deref(), Some("101"));
    assert_eq!(outcome.rollout, target());
}

#[tokio::test]
async fn promote_of_a_running_step_moves_the_step_index() {
    let (task, mut server) = start(|c| async move {
        let pin = Pin {
            step: Some(2),
            pod_hash: Some(CANARY_HASH.into()),
            preview_hash: None,
        };
        door(c, Action::Promote { pin: Some(pin) }).await
    });
    serve_get(&mut server, &rollout(2, "100")).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentStepIndex", "value": 2},
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "replace", "path": "/status/currentStepIndex", "value": 3}
        ])
    );
    respond(reply, 200, &rollout(3, "101"));
    let outcome = finish(task, &mut server).await.expect("promoted");
    assert_eq!(outcome.summary, "promoted: step 2 → 3 (weight 40%)");
}

#[tokio::test]
async fn promote_of_a_manually_paused_rollout_also_unpauses_the_spec() {
    let mut paused = rollout(1, "100");
    paused["spec"]["paused"] = json!(true);
    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    serve_get(&mut server, &paused).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(body.as_array().map(Vec::len), Some(3));
    respond(reply, 200, &paused);
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    assert_eq!(without_audit(body), json!({"spec": {"paused": false}}));
    respond(reply, 200, &rollout(1, "102"));
    let outcome = finish(task, &mut server).await.expect("promoted");
    assert_eq!(outcome.resource_version.as_deref(), Some("102"));
}

#[tokio::test]
async fn promote_full_sets_promote_full_in_status() {
    let (task, mut server) =
        start(|c| async move { door(c, Action::PromoteFull { pin: None }).await });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentStepIndex", "value": 1},
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "add", "path": "/status/promoteFull", "value": true}
        ])
    );
    respond(reply, 200, &rollout(1, "101"));
    let outcome = finish(task, &mut server).await.expect("promoted fully");
    assert_eq!(outcome.weight, Some(100));
    assert_eq!((outcome.from_step, outcome.to_step), (Some(1), Some(8)));
}

#[tokio::test]
async fn promote_full_of_a_fully_promoted_rollout_sends_nothing() {
    let mut done = rollout(1, "100");
    done["status"]["currentPodHash"] = json!(STABLE_HASH);
    done["status"]["pauseConditions"] = json!([]);
    let (task, mut server) =
        start(|c| async move { door(c, Action::PromoteFull { pin: None }).await });
    serve_get(&mut server, &done).await;
    let outcome = finish(task, &mut server).await.expect("nothing to do");
    assert!(!outcome.changed);
    assert!(
        outcome.summary.starts_with("nothing to promote"),
        "{}",
        outcome.summary
    );
}

#[tokio::test]
async fn abort_and_retry_patch_status_only() {
    for (abort, verb) in [(true, "abort"), (false, "retry")] {
        let (task, mut server) = start(move |c| async move {
            if abort {
                door(c, Action::Abort { pin: None }).await
            } else {
                door(c, Action::Retry).await
            }
        });
        let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
        assert_eq!(body, json!({"status": {"abort": abort}}), "{verb}");
        respond(reply, 200, &rollout(1, "101"));
        let outcome = finish(task, &mut server).await.expect(verb);
        assert_eq!(outcome.verb.as_str(), verb);
        assert!(outcome.changed);
    }
}

#[tokio::test]
async fn pause_patches_the_spec() {
    let (task, mut server) = start(|c| async move { door(c, Action::Pause).await });
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    assert_eq!(without_audit(body), json!({"spec": {"paused": true}}));
    respond(reply, 200, &rollout(1, "101"));
    assert_eq!(
        finish(task, &mut server).await.expect("paused").summary,
        "paused"
    );
}

#[tokio::test]
async fn resume_unpauses_the_spec_then_clears_pause_conditions() {
    let (task, mut server) = start(|c| async move { door(c, Action::Resume).await });
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    assert_eq!(without_audit(body), json!({"spec": {"paused": false}}));
    respond(reply, 200, &rollout(1, "101"));
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    assert_eq!(body, json!({"status": {"pauseConditions": null}}));
    respond(reply, 200, &rollout(1, "102"));
    let outcome = finish(task, &mut server).await.expect("resumed");
    assert_eq!(outcome.resource_version.as_deref(), Some("102"));
}

#[tokio::test]
async fn restart_sets_restart_at_to_now() {
    let before = jiff::Timestamp::now();
    let (task, mut server) = start(|c| async move { door(c, Action::Restart).await });
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    let body = without_audit(body);
    let at = body["spec"]["restartAt"]
        .as_str()
        .expect("restartAt")
        .to_string();
    assert_eq!(without_audit(body), json!({"spec": {"restartAt": at}}));
    assert_eq!(
        at.len(),
        "2026-11-22T02:00:00Z".len(),
        "RFC 3339 to the second: {at}"
    );
    let at: jiff::Timestamp = at.parse().expect("RFC 3339");
    assert!(
        (at.as_second() - before.as_second()).abs() <= 2,
        "{at} is now"
    );
    respond(reply, 200, &rollout(1, "101"));
    finish(task, &mut server).await.expect("restarted");
}

#[tokio::test]
async fn undo_restores_the_previous_revision_template_without_its_hash_label() {
    let (task, mut server) = start(|c| async move {
        door(
            c,
            Action::Undo {
                to_revision: None,
                pin: None,
                to_hash: None,
            },
        )
        .await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (body, reply) = expect(
        &mut server,
        "GET",
        "/apis/apps/v1/namespaces/demo/replicasets",
        None,
    )
    .await;
    assert_eq!(body, Value::Null);
    let list = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSetList", "metadata": {"resourceVersion": "100"},
        "items": [
            replica_set(2, CANARY_HASH, "shop/checkout:2.0", "uid-checkout"),
            replica_set(1, STABLE_HASH, "shop/checkout:1.0", "uid-checkout"),
            replica_set(9, "0000000000", "other/app:9", "uid-someone-else"),
        ]
    });
    respond(reply, 200, &list);
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "replace", "path": "/spec/template", "value": template("shop/checkout:1.0", None)}
        ])
    );
    respond(reply, 200, &rollout(0, "101"));
    let outcome = finish(task, &mut server).await.expect("undone");
    assert_eq!(
        outcome.summary,
        "rolled back: pod template of revision 1 restored (was revision 2)"
    );
}

/// undo's reads: the rollout at revision 2, and its ReplicaSets of revisions 2 and 1.
async fn serve_revisions(server: &mut Handle) {
    serve_get(server, &rollout(1, "100")).await;
    let (_, reply) = expect(
        server,
        "GET",
        "/apis/apps/v1/namespaces/demo/replicasets",
        None,
    )
    .await;
    let list = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSetList", "metadata": {},
        "items": [
            replica_set(2, CANARY_HASH, "shop/checkout:2.0", "uid-checkout"),
            replica_set(1, STABLE_HASH, "shop/checkout:1.0", "uid-checkout"),
        ]
    });
    respond(reply, 200, &list);
}

#[tokio::test]
async fn undo_to_a_revision_whose_hash_changed_sends_nothing() {
    let (task, mut server) = start(|c| async move {
        let action = Action::Undo {
            to_revision: Some(1),
            pin: None,
            to_hash: Some("0ld0ld0ld".into()),
        };
        door(c, action).await
    });
    serve_revisions(&mut server).await;
    let err = finish(task, &mut server)
        .await
        .expect_err("revision moved on");
    assert!(
        matches!(err, OrchestratorError::RevisionChanged { revision: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!(
            "is pod hash {STABLE_HASH}, not 0ld0ld0ld as you saw it"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn undo_to_an_unknown_revision_lists_the_known_ones_and_sends_nothing() {
    let (task, mut server) = start(|c| async move {
        door(
            c,
            Action::Undo {
                to_revision: Some(7),
                pin: None,
                to_hash: None,
            },
        )
        .await
    });
    serve_revisions(&mut server).await;
    let err = finish(task, &mut server).await.expect_err("no revision 7");
    assert!(
        matches!(err, OrchestratorError::RevisionNotFound { revision: 7, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("revisions in the cluster: 2, 1"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test]
async fn set_weight_moves_to_the_step_that_declares_it() {
    let (task, mut server) = start(|c| async move {
        door(
            c,
            Action::SetWeight {
                weight: 60,
                pin: None,
            },
        )
        .await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentStepIndex", "value": 1},
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "remove", "path": "/status/pauseConditions"},
            {"op": "replace", "path": "/status/currentStepIndex", "value": 4}
        ])
    );
    respond(reply, 200, &rollout(4, "101"));
    let outcome = finish(task, &mut server).await.expect("weight set");
    assert_eq!(outcome.summary, "set to weight 60%: step 1 → 4");
    assert_eq!(
        (outcome.from_step, outcome.to_step, outcome.weight),
        (Some(1), Some(4), Some(60))
    );
}

#[tokio::test]
async fn set_weight_refuses_an_undeclared_weight_listing_the_declared_ones() {
    let (task, mut server) = start(|c| async move {
        door(
            c,
            Action::SetWeight {
                weight: 50,
                pin: None,
            },
        )
        .await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let err = finish(task, &mut server)
        .await
        .expect_err("50 is not declared");
    assert!(
        matches!(err, OrchestratorError::WeightNotDeclared { weight: 50, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("declared: 20%, 40%, 60%, 80%"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);

    let (task, _server) = start(|c| async move {
        door(
            c,
            Action::SetWeight {
                weight: 101,
                pin: None,
            },
        )
        .await
    });
    let err = finish(task, &mut server)
        .await
        .expect_err("out of range, nothing sent");
    assert!(
        matches!(err, OrchestratorError::WeightOutOfRange { weight: 101 }),
        "{err}"
    );
}

#[tokio::test]
async fn list_and_get_read_rollouts_into_views() {
    let (task, mut server) =
        start(|c| async move { cluster::list_rollouts(&c, "lab", Some("demo")).await });
    let (_, reply) = expect(
        &mut server,
        "GET",
        "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts",
        None,
    )
    .await;
    let list = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "RolloutList", "metadata": {"resourceVersion": "100"},
        "items": [rollout(1, "100")]
    });
    respond(reply, 200, &list);
    let views = finish(task, &mut server).await.expect("listed");
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert_eq!(v.reference, target());
    assert_eq!(
        (v.step_label().as_str(), v.set_weight, v.actual_weight),
        ("1/8", 20, 20)
    );
    assert!(v.waiting_for_human());

    let (task, mut server) = start(|c| async move { cluster::get_rollout(&c, &target()).await });
    serve_get(&mut server, &rollout(2, "100")).await;
    let (_, view) = finish(task, &mut server).await.expect("got");
    assert_eq!(view.current_step, Some(2));
}
