//! What the API server refuses, as it refuses it (real `Status` bodies), and what the
//! person is told.

use super::*;

#[tokio::test]
async fn status_subresource_404_falls_back_to_the_main_resource() {
    let (task, mut server) = start(|c| async move { door(c, Action::Abort { pin: None }).await });
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    assert_eq!(body, json!({"status": {"abort": true}}));
    respond(reply, 404, &not_found_resource());
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    assert_eq!(body, json!({"status": {"abort": true}}));
    respond(reply, 200, &rollout(1, "101"));
    assert_eq!(
        finish(task, &mut server)
            .await
            .expect("aborted")
            .resource_version
            .as_deref(),
        Some("101")
    );
}

#[tokio::test]
async fn fallback_carries_the_spec_patch_along_in_one_request() {
    let mut paused = rollout(1, "100");
    paused["spec"]["paused"] = json!(true);
    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    serve_get(&mut server, &paused).await;
    let (status_ops, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    respond(reply, 404, &not_found_resource());
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(JSON_PATCH)).await;
    // The status ops, the last-action annotation (it rides on the rollout's own patch) and
    // the unpause, in one request.
    let mut unified = status_ops.as_array().expect("ops").clone();
    let ops = body.as_array().expect("ops");
    assert_eq!(
        ops[unified.len()]["path"],
        "/metadata/annotations/release-cockpit.io~1last-action"
    );
    unified.push(ops[unified.len()].clone());
    unified.push(json!({"op": "add", "path": "/spec/paused", "value": false}));
    assert_eq!(body, Value::Array(unified));
    respond(reply, 200, &rollout(1, "101"));
    finish(task, &mut server).await.expect("promoted");
}

#[tokio::test]
async fn forbidden_quotes_the_server() {
    let message = "rollouts.argoproj.io \"checkout\" is forbidden: User \"viewer\" cannot patch resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"demo\"";
    let (task, mut server) = start(|c| async move { door(c, Action::Abort { pin: None }).await });
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    respond(
        reply,
        403,
        &status_body(
            403,
            "Forbidden",
            message,
            json!({"name": "checkout", "group": "argoproj.io", "kind": "rollouts"}),
        ),
    );
    let err = finish(task, &mut server).await.expect_err("forbidden");
    assert!(matches!(err, OrchestratorError::Forbidden { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(message), "{text}");
    assert!(
        text.starts_with(
            "not allowed to abort rollout 'checkout' in namespace demo of context lab"
        ),
        "{text}"
    );
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn missing_rollout_is_named_with_namespace_and_context() {
    // No GET for abort: the status patch 404s, the fallback to the main resource too.
    let (task, mut server) = start(|c| async move { door(c, Action::Abort { pin: None }).await });
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    respond(reply, 404, &not_found_object());
    let (_, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    respond(reply, 404, &not_found_object());
    let err = finish(task, &mut server).await.expect_err("not found");
    assert!(matches!(err, OrchestratorError::NotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("rollout 'checkout' not found in namespace demo of context lab"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);

    // promote reads first: the GET's 404 says the same.
    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    let (_, reply) = expect(&mut server, "GET", ROLLOUT, None).await;
    respond(reply, 404, &not_found_object());
    let err = finish(task, &mut server).await.expect_err("not found");
    assert!(
        matches!(
            err,
            OrchestratorError::Cluster(ClusterError::RolloutNotFound { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("not found in namespace demo of context lab"),
        "{err}"
    );
}

#[tokio::test]
async fn conflict_says_to_re_read_and_retry_by_hand() {
    let message = "Operation cannot be fulfilled on rollouts.argoproj.io \"checkout\": the object has been modified; please apply your changes to the latest version and try again";
    let (task, mut server) = start(|c| async move { door(c, Action::Pause).await });
    let (_, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    respond(
        reply,
        409,
        &status_body(
            409,
            "Conflict",
            message,
            json!({"name": "checkout", "group": "argoproj.io", "kind": "rollouts"}),
        ),
    );
    let err = finish(task, &mut server).await.expect_err("conflict");
    assert!(matches!(err, OrchestratorError::Conflict { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(message) && text.contains("re-read the rollout and retry by hand"),
        "{text}"
    );
    assert_eq!(err.exit_code(), 1);
}

/// What the API server answers when a JSON Patch `test` op fails.
fn failed_test() -> Value {
    status_body(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        json!({}),
    )
}

#[tokio::test]
async fn failed_pin_after_the_rollout_moved_on_changes_nothing_and_says_where_it_is() {
    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    respond(reply, 422, &failed_test());
    // Re-read: another approver already promoted.
    serve_get(&mut server, &rollout(2, "101")).await;
    let err = finish(task, &mut server).await.expect_err("moved on");
    assert!(
        matches!(
            &err,
            OrchestratorError::MovedOn { seen, now, .. }
                if seen.step == Some(1) && now.step == Some(2)
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "rollout 'checkout' in namespace demo of context lab moved on: promote was for step 1, \
             pod hash {CANARY_HASH}, it now shows step 2, pod hash {CANARY_HASH}; nothing was \
             changed. Look at it again and decide on what is there now"
        )
    );
    assert_eq!(err.exit_code(), 1);
}

/// A blue-green rollout waiting for promotion with `preview` as its preview and newest hash.
fn blue_green(preview: &str, resource_version: &str) -> Value {
    let mut ro = rollout(0, resource_version);
    ro["spec"]["strategy"] =
        json!({"blueGreen": {"activeService": "checkout", "previewService": "checkout-preview"}});
    let status = &mut ro["status"];
    status.as_object_mut().map(|s| s.remove("currentStepIndex"));
    status["currentPodHash"] = json!(preview);
    status["blueGreen"] = json!({"activeSelector": STABLE_HASH, "previewSelector": preview});
    status["pauseConditions"] =
        json!([{"reason": "BlueGreenPause", "startTime": "2026-11-22T01:00:00Z"}]);
    status["controllerPause"] = json!(true);
    ro
}

/// The race the pin closes: the rollout read just before sending showed the preview the
/// person approved, but a new revision became the preview before the patch arrived. The API
/// server refuses the `test` ops; the re-read names the new preview.
#[tokio::test]
async fn a_new_preview_between_read_and_send_is_refused_by_the_server() {
    let pin = Pin {
        step: None,
        pod_hash: Some(CANARY_HASH.into()),
        preview_hash: Some(CANARY_HASH.into()),
    };
    let (task, mut server) =
        start(move |c| async move { door(c, Action::Promote { pin: Some(pin) }).await });
    serve_get(&mut server, &blue_green(CANARY_HASH, "100")).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    assert_eq!(
        body,
        json!([
            {"op": "test", "path": "/status/currentPodHash", "value": CANARY_HASH},
            {"op": "test", "path": "/status/blueGreen/previewSelector", "value": CANARY_HASH},
            {"op": "remove", "path": "/status/pauseConditions"}
        ])
    );
    respond(reply, 422, &failed_test());
    serve_get(&mut server, &blue_green("7aa1bb2cc3", "101")).await;
    let err = finish(task, &mut server).await.expect_err("moved on");
    assert!(
        matches!(&err, OrchestratorError::MovedOn { now, .. } if now.preview_hash.as_deref() == Some("7aa1bb2cc3")),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("promote was for preview {CANARY_HASH}")),
        "{text}"
    );
    assert!(
        text.contains("now shows preview 7aa1bb2cc3, pod hash 7aa1bb2cc3 (a new revision)"),
        "{text}"
    );
}

#[tokio::test]
async fn failed_pin_without_a_move_is_a_change_meanwhile() {
    let (task, mut server) = start(|c| async move {
        door(
            c,
            Action::SetWeight {
                weight: 40,
                pin: None,
            },
        )
        .await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    respond(reply, 422, &failed_test());
    serve_get(&mut server, &rollout(1, "101")).await;
    let err = finish(task, &mut server)
        .await
        .expect_err("changed meanwhile");
    assert!(
        matches!(
            err,
            OrchestratorError::ChangedMeanwhile { step: Some(1), .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("nothing was changed"), "{err}");
}

#[tokio::test]
async fn a_pin_that_no_longer_holds_is_refused_before_sending() {
    let (task, mut server) = start(|c| async move {
        let pin = Pin {
            step: Some(0),
            ..Pin::default()
        };
        door(c, Action::Promote { pin: Some(pin) }).await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let err = finish(task, &mut server).await.expect_err("moved on");
    assert_eq!(
        err.to_string(),
        "rollout 'checkout' in namespace demo of context lab moved on: promote was for step 0, \
         it now shows step 1; nothing was changed. Look at it again and decide on what is there now"
    );
    let (task, mut server) = start(|c| async move {
        let pin = Pin {
            step: Some(1),
            pod_hash: Some("0ld0ld0ld".into()),
            preview_hash: None,
        };
        door(
            c,
            Action::SetWeight {
                weight: 60,
                pin: Some(pin),
            },
        )
        .await
    });
    serve_get(&mut server, &rollout(1, "100")).await;
    let err = finish(task, &mut server).await.expect_err("new revision");
    assert!(
        err.to_string().contains(&format!(
            "it now shows step 1, pod hash {CANARY_HASH} (a new revision)"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn unpinned_422_reports_the_server_message() {
    let message = "Rollout.argoproj.io \"checkout\" is invalid: spec.restartAt: Invalid value: \"2026-11-22T02:00:00Z\": must be in the future";
    let (task, mut server) = start(|c| async move { door(c, Action::Restart).await });
    let (_, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    respond(
        reply,
        422,
        &status_body(
            422,
            "Invalid",
            message,
            json!({"name": "checkout", "kind": "Rollout"}),
        ),
    );
    let err = finish(task, &mut server).await.expect_err("invalid");
    assert!(matches!(err, OrchestratorError::Invalid { .. }), "{err}");
    assert!(err.to_string().contains(message), "{err}");
}

#[tokio::test]
async fn missing_crd_says_argo_rollouts_is_not_installed() {
    let (task, mut server) =
        start(|c| async move { cluster::list_rollouts(&c, "lab", Some("demo")).await });
    let (_, reply) = expect(
        &mut server,
        "GET",
        "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts",
        None,
    )
    .await;
    respond(reply, 404, &not_found_resource());
    let err = finish(task, &mut server).await.expect_err("no CRD");
    assert!(
        matches!(err, ClusterError::ArgoNotInstalled { .. }),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(
            "Argo Rollouts is not installed in cluster lab (no rollouts.argoproj.io/v1alpha1)"
        ),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);

    let (task, mut server) = start(|c| async move { door(c, Action::Promote { pin: None }).await });
    let (_, reply) = expect(&mut server, "GET", ROLLOUT, None).await;
    respond(reply, 404, &not_found_resource());
    let err = finish(task, &mut server).await.expect_err("no CRD");
    assert!(
        matches!(
            err,
            OrchestratorError::Cluster(ClusterError::ArgoNotInstalled { .. })
        ),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test]
async fn a_refusal_after_an_applied_request_says_what_was_already_sent() {
    let message = "rollouts.argoproj.io \"checkout\" is forbidden: User \"approver\" cannot patch resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"demo\"";
    let (task, mut server) = start(|c| async move { door(c, Action::Resume).await });
    let (_, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    respond(reply, 200, &rollout(1, "101"));
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    respond(
        reply,
        403,
        &status_body(403, "Forbidden", message, json!({"name": "checkout"})),
    );
    let err = finish(task, &mut server).await.expect_err("partly applied");
    assert!(
        matches!(err, OrchestratorError::PartlyApplied { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("sent: rollout merge patch {"), "{text}");
    assert!(text.contains(r#""spec":{"paused":false}}"#), "{text}");
    assert!(text.contains(message), "{text}");
    assert_eq!(err.exit_code(), 1);
}
