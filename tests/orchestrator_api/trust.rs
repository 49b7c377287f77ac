//! `execute_with`'s trust and audit requests, exactly: SelfSubjectReview, the
//! SelfSubjectAccessReviews, the last-action annotation, the audit Event; and the guards that
//! send nothing at all.

use super::*;
use release_cockpit::orchestrator::journal::{CommandResult, Entry};
use release_cockpit::orchestrator::{
    Decision, ExecuteOptions, Identity, Journal, LAST_ACTION_ANNOTATION, Permission,
};

const SSR: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
const SSAR: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const EVENTS: &str = "/api/v1/namespaces/demo/events";

fn options(dir: &tempfile::TempDir) -> ExecuteOptions {
    ExecuteOptions {
        journal: Some(Journal::at(dir.path().join("journal.jsonl"), 1 << 20)),
        ..ExecuteOptions::default()
    }
}

fn command(action: Action, comment: Option<&str>) -> Command {
    Command {
        target: target(),
        action,
        tool: Tool::Cli,
        comment: comment.map(str::to_string),
    }
}

fn pinned(step: i32) -> Action {
    Action::Promote {
        pin: Some(Pin {
            step: Some(step),
            ..Pin::default()
        }),
    }
}

/// One SelfSubjectAccessReview for `resource`/`subresource` in namespace demo.
async fn serve_review(
    handle: &mut Handle,
    resource: &str,
    subresource: Option<&str>,
    allowed: bool,
) {
    let (body, reply) = expect(handle, "POST", SSAR, Some("application/json")).await;
    let mut attributes = json!({
        "namespace": "demo", "verb": "patch", "group": "argoproj.io", "resource": resource
    });
    if let Some(sub) = subresource {
        attributes["subresource"] = json!(sub);
    }
    assert_eq!(body["spec"]["resourceAttributes"], attributes);
    let mut answer = body.clone();
    answer["status"] = if allowed {
        json!({"allowed": true})
    } else {
        json!({"allowed": false, "reason": "no RBAC policy matched"})
    };
    respond(reply, 201, &answer);
}

fn entries(dir: &tempfile::TempDir) -> Vec<Entry> {
    Journal::at(dir.path().join("journal.jsonl"), 1 << 20)
        .entries()
        .expect("journal")
}

/// The pre-flight of a command whose identity and access are not known beforehand: who am
/// I, the rollout, and a review per permission the verb may need, all sent together; served
/// in whatever order they arrive. `allowed`: the answer for (rollouts/status, rollouts).
async fn serve_preflight(handle: &mut Handle, user: &str, rollout: &Value, allowed: (bool, bool)) {
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (request, reply) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
            .await
            .expect("a pre-flight request within 5 s")
            .expect("the client hung up");
        let method = request.method().as_str().to_string();
        let path = request.uri().path().to_string();
        let bytes = request.into_body().collect_bytes().await.expect("body");
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match (method.as_str(), path.as_str()) {
            ("POST", SSR) => {
                let mut answer = body.clone();
                answer["status"] =
                    json!({"userInfo": {"username": user, "groups": ["system:authenticated"]}});
                respond(reply, 201, &answer);
                seen.push("whoami".to_string());
            }
            ("GET", ROLLOUT) => {
                respond(reply, 200, rollout);
                seen.push("get".to_string());
            }
            ("POST", SSAR) => {
                let attributes = &body["spec"]["resourceAttributes"];
                assert_eq!(
                    (
                        &attributes["namespace"],
                        &attributes["verb"],
                        &attributes["group"]
                    ),
                    (&json!("demo"), &json!("patch"), &json!("argoproj.io"))
                );
                let status = attributes["subresource"] == "status";
                let yes = if status { allowed.0 } else { allowed.1 };
                let mut answer = body.clone();
                answer["status"] = if yes {
                    json!({"allowed": true})
                } else {
                    json!({"allowed": false, "reason": "no RBAC policy matched"})
                };
                respond(reply, 201, &answer);
                seen.push(
                    if status {
                        "may patch status"
                    } else {
                        "may patch"
                    }
                    .to_string(),
                );
            }
            _ => panic!("unexpected pre-flight request {method} {path}"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["get", "may patch", "may patch status", "whoami"]);
}

/// The client hung up without a further request: nothing else was sent.
async fn no_more_requests(handle: &mut Handle) {
    let next = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("the client hung up");
    assert!(next.is_none(), "an unexpected request was sent");
}

#[tokio::test]
async fn promote_asks_who_and_may_i_then_annotates_and_records_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = options(&dir);
    let cmd = command(pinned(1), Some("error rate flat"));
    let (task, mut server) =
        start(move |c| async move { orchestrator::execute_with(&c, &cmd, &opts).await });
    serve_preflight(&mut server, "lab-admin", &rollout(1, "100"), (true, true)).await;
    let (body, reply) = expect(&mut server, "PATCH", STATUS, Some(JSON_PATCH)).await;
    // The intent was on disk before the change was sent.
    assert!(
        matches!(entries(&dir).as_slice(), [Entry::Intent(i)] if i.from_step == Some(1) && i.to_step == Some(2))
    );
    assert_eq!(
        body[0],
        json!({"op": "test", "path": "/status/currentStepIndex", "value": 1})
    );
    respond(reply, 200, &rollout(2, "101"));
    // Status JSON patches cannot carry metadata: the annotation follows as a merge patch.
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    let annotation: Value = serde_json::from_str(
        body["metadata"]["annotations"][LAST_ACTION_ANNOTATION]
            .as_str()
            .expect("annotation"),
    )
    .expect("annotation is JSON");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "only metadata: {body}"
    );
    assert_eq!(annotation["user"], "lab-admin");
    assert_eq!(annotation["verb"], "promote");
    assert_eq!(annotation["fromStep"], 1);
    assert_eq!(annotation["toStep"], 2);
    assert_eq!(annotation["weight"], 40);
    assert_eq!(annotation["comment"], "error rate flat");
    assert_eq!(annotation["tool"], "cli");
    respond(reply, 200, &rollout(2, "102"));
    let (event, reply) = expect(&mut server, "POST", EVENTS, Some("application/json")).await;
    assert_eq!(
        event["involvedObject"],
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
               "namespace": "demo", "uid": "uid-checkout", "resourceVersion": "101"})
    );
    assert_eq!(event["reason"], "PromotedByUser");
    assert_eq!(event["source"]["component"], "release-cockpit");
    assert_eq!(event["reportingComponent"], "release-cockpit");
    assert_eq!(
        event["message"],
        "lab-admin promoted: step 1 → 2 (weight 40%) (via cli): \"error rate flat\""
    );
    respond(reply, 201, &event);
    let done = finish(task, &mut server).await.expect("promoted");
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    assert_eq!(done.identity.user, "lab-admin");
    assert!(done.identity.verified);
    // The change's resourceVersion: the annotation and Event follow it.
    assert_eq!(done.outcome.resource_version.as_deref(), Some("101"));
    match entries(&dir).as_slice() {
        [Entry::Intent(i), Entry::Outcome(o)] => {
            assert_eq!(i.id, done.id);
            assert_eq!(o.id, done.id);
            assert_eq!(i.user, "lab-admin");
            assert_eq!(i.comment.as_deref(), Some("error rate flat"));
            assert_eq!(o.result, CommandResult::Done);
            assert_eq!(o.step, Some(2));
            assert_eq!(o.resource_version.as_deref(), Some("101"));
        }
        other => panic!("intent and outcome expected, got {other:?}"),
    }
}

#[tokio::test]
async fn pause_carries_the_annotation_in_the_same_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ExecuteOptions {
        identity: Some(Identity {
            user: "ci-bot".into(),
            groups: Vec::new(),
            verified: true,
        }),
        ..options(&dir)
    };
    let cmd = command(Action::Pause, None);
    let (task, mut server) =
        start(move |c| async move { orchestrator::execute_with(&c, &cmd, &opts).await });
    serve_review(&mut server, "rollouts", None, true).await;
    let (body, reply) = expect(&mut server, "PATCH", ROLLOUT, Some(MERGE_PATCH)).await;
    assert_eq!(body["spec"], json!({"paused": true}));
    let annotation = body["metadata"]["annotations"][LAST_ACTION_ANNOTATION]
        .as_str()
        .expect("annotation in the same body");
    assert!(annotation.contains("\"user\":\"ci-bot\""), "{annotation}");
    respond(reply, 200, &rollout(1, "101"));
    let (event, reply) = expect(&mut server, "POST", EVENTS, Some("application/json")).await;
    assert_eq!(event["reason"], "PausedByUser");
    respond(reply, 201, &event);
    finish(task, &mut server).await.expect("paused");
}

#[tokio::test]
async fn a_viewer_is_refused_before_anything_is_sent_naming_the_permission() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = options(&dir);
    let cmd = command(pinned(1), None);
    let (task, mut server) =
        start(move |c| async move { orchestrator::execute_with(&c, &cmd, &opts).await });
    serve_preflight(
        &mut server,
        "lab-viewer",
        &rollout(1, "100"),
        (false, false),
    )
    .await;
    let err = finish(task, &mut server).await.expect_err("refused");
    no_more_requests(&mut server).await;
    assert!(matches!(
        &err,
        OrchestratorError::NotPermitted { permission: Permission::PatchRolloutStatus, user, .. } if user == "lab-viewer"
    ));
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "you (lab-viewer) may not patch rollouts/status in namespace demo of context lab"
        ),
        "{text}"
    );
    assert!(
        text.contains("ask your cluster administrator for a Role"),
        "{text}"
    );
    assert!(matches!(
        entries(&dir).as_slice(),
        [Entry::Intent(_), Entry::Outcome(o)] if o.result == CommandResult::Refused
    ));
}

#[tokio::test]
async fn read_only_and_a_missing_required_comment_send_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (opts, want_read_only) in [
        (
            ExecuteOptions {
                read_only: true,
                ..options(&dir)
            },
            true,
        ),
        (
            ExecuteOptions {
                require_comment: true,
                ..options(&dir)
            },
            false,
        ),
    ] {
        let cmd = command(Action::Abort { pin: None }, Some("  "));
        let (task, mut server) =
            start(move |c| async move { orchestrator::execute_with(&c, &cmd, &opts).await });
        let err = finish(task, &mut server).await.expect_err("refused");
        no_more_requests(&mut server).await;
        if want_read_only {
            assert!(matches!(err, OrchestratorError::ReadOnly { .. }), "{err}");
            assert!(
                err.to_string()
                    .starts_with("read-only mode: abort on rollout 'checkout'")
            );
        } else {
            assert!(
                matches!(err, OrchestratorError::CommentRequired { .. }),
                "{err}"
            );
            assert_eq!(err.exit_code(), 2);
        }
    }
    assert!(
        entries(&dir).is_empty(),
        "nothing to journal: nothing was attempted"
    );
}

#[tokio::test]
async fn a_connection_lost_mid_patch_is_an_unknown_outcome_after_a_re_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ExecuteOptions {
        identity: Some(Identity {
            user: "lab-admin".into(),
            groups: Vec::new(),
            verified: true,
        }),
        ..options(&dir)
    };
    let cmd = command(Action::Abort { pin: None }, None);
    let (task, mut server) =
        start(move |c| async move { orchestrator::execute_with(&c, &cmd, &opts).await });
    serve_review(&mut server, "rollouts", Some("status"), true).await;
    serve_review(&mut server, "rollouts", None, true).await;
    let (_, reply) = expect(&mut server, "PATCH", STATUS, Some(MERGE_PATCH)).await;
    reply.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    ));
    serve_get(&mut server, &rollout(3, "105")).await;
    let err = finish(task, &mut server).await.expect_err("unknown");
    no_more_requests(&mut server).await;
    assert!(
        matches!(err, OrchestratorError::UnknownOutcome { step: Some(3), .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("unknown outcome of abort"), "{text}");
    assert!(text.contains("re-read shows step 3"), "{text}");
    assert!(matches!(
        entries(&dir).as_slice(),
        [Entry::Intent(_), Entry::Outcome(o)] if o.result == CommandResult::Unknown && o.step == Some(3)
    ));
}

#[tokio::test]
async fn whoami_falls_back_to_the_kubeconfig_user_unverified_on_404() {
    let (task, mut server) =
        start(|c| async move { orchestrator::whoami(&c, "no-such-context").await });
    let (_, reply) = expect(&mut server, "POST", SSR, Some("application/json")).await;
    respond(reply, 404, &not_found_resource());
    let me = finish(task, &mut server).await.expect("identity");
    assert!(!me.verified);
    assert!(me.display_name().ends_with("(unverified)"), "{me:?}");
}

#[tokio::test]
async fn access_asks_for_each_permission_in_the_namespace() {
    let (task, mut server) =
        start(|c| async move { orchestrator::access(&c, "lab", "demo").await });
    let mut seen = Vec::new();
    for _ in 0..7 {
        let (body, reply) = expect(&mut server, "POST", SSAR, Some("application/json")).await;
        let attrs = body["spec"]["resourceAttributes"].clone();
        assert_eq!(attrs["namespace"], "demo");
        let allowed = attrs["resource"] == "events";
        seen.push(format!(
            "{} {}/{}",
            attrs["verb"].as_str().unwrap_or_default(),
            attrs["resource"].as_str().unwrap_or_default(),
            attrs["subresource"].as_str().unwrap_or_default()
        ));
        let mut answer = body.clone();
        answer["status"] = json!({"allowed": allowed});
        respond(reply, 201, &answer);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "create events/",
            "create services/proxy",
            "patch canaries/",
            "patch deployments/",
            "patch httproutes/",
            "patch rollouts/",
            "patch rollouts/status"
        ]
    );
    let access = finish(task, &mut server).await.expect("access");
    assert_eq!(access.create_events, Decision::Allowed);
    assert!(!access.allows(Permission::PatchRolloutStatus));
    assert!(!access.allows(Permission::PatchHttpRoutes));
    assert!(
        !access.allows(Permission::CreateServiceProxy),
        "Flagger's are asked too"
    );
    assert_eq!(
        access.first_missing(&[Permission::CreateEvents, Permission::PatchRollouts]),
        Some(Permission::PatchRollouts)
    );
}

/// The activity asks for the rollout's Events and for ReplicaSet Events with field
/// selectors, and keeps ours and the controller's about checkout and its ReplicaSets.
#[tokio::test]
async fn activity_lists_the_rollouts_events_with_a_field_selector() {
    let (task, mut server) = start(|c| async move { orchestrator::activity(&c, &target()).await });
    let mut next_query = async || {
        let (request, reply) = tokio::time::timeout(Duration::from_secs(5), server.next_request())
            .await
            .expect("a request")
            .expect("the client is there");
        assert_eq!(request.uri().path(), EVENTS);
        let query = request
            .uri()
            .query()
            .unwrap_or_default()
            .replace("%2C", ",")
            .replace("%3D", "=");
        (query, reply)
    };
    let (query, reply) = next_query().await;
    assert!(
        query.contains("fieldSelector=involvedObject.kind=Rollout,involvedObject.name=checkout"),
        "{query}"
    );
    let ours = json!({
        "metadata": {"name": "checkout.1", "namespace": "demo"},
        "involvedObject": {"kind": "Rollout", "name": "checkout", "namespace": "demo"},
        "reason": "AbortedByUser", "message": "lab-admin aborted (via gui)",
        "reportingComponent": "release-cockpit", "lastTimestamp": "2026-11-22T03:00:00Z"
    });
    let controller = json!({
        "metadata": {"name": "checkout.2", "namespace": "demo"},
        "involvedObject": {"kind": "Rollout", "name": "checkout", "namespace": "demo"},
        "reason": "RolloutStepCompleted", "message": "Rollout step 2/8 completed",
        "source": {"component": "rollouts-controller"}, "lastTimestamp": "2026-11-22T03:01:00Z"
    });
    let list = |items: Vec<Value>| json!({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items});
    respond(reply, 200, &list(vec![ours, controller]));
    let (query, reply) = next_query().await;
    assert!(
        query.contains("fieldSelector=involvedObject.kind=ReplicaSet"),
        "{query}"
    );
    let created = json!({
        "metadata": {"name": "checkout-6c7d.1", "namespace": "demo"},
        "involvedObject": {"kind": "ReplicaSet", "name": "checkout-6c7d", "namespace": "demo"},
        "reason": "SuccessfulCreate", "message": "Created pod: checkout-6c7d-x2k4p",
        "source": {"component": "replicaset-controller"}, "lastTimestamp": "2026-11-22T03:02:00Z"
    });
    let not_ours = json!({
        "metadata": {"name": "search-9f8e.1", "namespace": "demo"},
        "involvedObject": {"kind": "ReplicaSet", "name": "search-9f8e", "namespace": "demo"},
        "reason": "SuccessfulCreate", "message": "Created pod: search-9f8e-abcde",
        "source": {"component": "replicaset-controller"}, "lastTimestamp": "2026-11-22T03:03:00Z"
    });
    respond(reply, 200, &list(vec![created, not_ours]));
    let (query, reply) = next_query().await;
    assert!(
        query.contains("fieldSelector=involvedObject.kind=AnalysisRun"),
        "{query}"
    );
    let failed = json!({
        "metadata": {"name": "checkout-6c7d-4.1", "namespace": "demo"},
        "involvedObject": {"kind": "AnalysisRun", "name": "checkout-6c7d-4", "namespace": "demo"},
        "reason": "AnalysisRunFailed", "message": "Analysis Run Failed", "type": "Warning",
        "source": {"component": "rollouts-controller"}, "lastTimestamp": "2026-11-22T03:04:00Z"
    });
    let other_run = json!({
        "metadata": {"name": "search-9f8e-2.1", "namespace": "demo"},
        "involvedObject": {"kind": "AnalysisRun", "name": "search-9f8e-2", "namespace": "demo"},
        "reason": "AnalysisRunFailed", "message": "Analysis Run Failed", "type": "Warning",
        "source": {"component": "rollouts-controller"}, "lastTimestamp": "2026-11-22T03:05:00Z"
    });
    respond(reply, 200, &list(vec![failed, other_run]));
    let entries = finish(task, &mut server).await.expect("activity");
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.reason.as_str(), e.source.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("AnalysisRunFailed", "rollouts-controller"),
            ("SuccessfulCreate", "replicaset-controller"),
            ("RolloutStepCompleted", "rollouts-controller"),
            ("AbortedByUser", "release-cockpit"),
        ]
    );
    assert!(entries[3].ours && !entries[2].ours);
}

/// `may_list_all_rollouts` asks one review with no namespace (all namespaces) and reads
/// the answer; a server without SelfSubjectAccessReview (404, 405) leaves it unknown.
#[tokio::test]
async fn may_list_all_rollouts_asks_once_at_the_cluster_scope() {
    for (code, allowed, expected) in [
        (201, Some(true), Some(true)),
        (201, Some(false), Some(false)),
        (404, None, None),
        (405, None, None),
    ] {
        let (task, mut server) = start(|c| async move { cluster::may_list_all_rollouts(&c).await });
        let (body, reply) = expect(&mut server, "POST", SSAR, Some("application/json")).await;
        assert_eq!(body["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            body["spec"]["resourceAttributes"],
            json!({"verb": "list", "group": "argoproj.io", "resource": "rollouts"})
        );
        match allowed {
            Some(allowed) => {
                let mut answer = body.clone();
                answer["status"] = json!({"allowed": allowed});
                respond(reply, code, &answer);
            }
            None => respond(reply, code, &not_found_resource()),
        }
        assert_eq!(
            finish(task, &mut server).await,
            expected,
            "answer {code} {allowed:?}"
        );
        no_more_requests(&mut server).await;
    }
}
