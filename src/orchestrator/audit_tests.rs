use super::*;
use serde_json::json;

fn plan(patches: Vec<PlannedPatch>) -> Plan {
    let mut plan = Plan::nothing(
        &RolloutRef::new("lab-admin", "demo", "checkout"),
        Verb::Promote,
        "promoted: step 1 → 2 (weight 40%)".into(),
    );
    plan.patches = patches;
    plan.from_step = Some(1);
    plan.to_step = Some(2);
    plan.weight = Some(40);
    plan
}

fn action() -> LastAction {
    LastAction {
        user: "lab-admin".into(),
        verb: Verb::Promote,
        from_step: Some(1),
        to_step: Some(2),
        weight: Some(40),
        comment: Some("error rate flat".into()),
        time: "2026-11-22T03:00:00Z".parse().expect("time"),
        tool: Tool::Cli,
    }
}

fn annotation_of(body: &Value) -> LastAction {
    let text = body["metadata"]["annotations"][LAST_ACTION_ANNOTATION]
        .as_str()
        .expect("annotation is a JSON string");
    serde_json::from_str(text).expect("annotation parses")
}

#[test]
fn a_main_merge_patch_carries_the_annotation_in_the_same_body() {
    let status = PlannedPatch {
        subresource: Subresource::Status,
        body: PatchBody::Json(vec![
            json!({"op": "remove", "path": "/status/pauseConditions"}),
        ]),
    };
    let unpause = PlannedPatch {
        subresource: Subresource::Main,
        body: PatchBody::Merge(json!({"spec": {"paused": false}})),
    };
    let (annotated, after) = annotate(&plan(vec![status.clone(), unpause]), &action());
    assert_eq!(after, None, "no extra request");
    assert_eq!(annotated.patches.len(), 2);
    assert_eq!(annotated.patches[0], status);
    let PatchBody::Merge(body) = &annotated.patches[1].body else {
        panic!("merge patch expected");
    };
    assert_eq!(body["spec"], json!({"paused": false}));
    assert_eq!(annotation_of(body), action());
}

#[test]
fn a_status_only_plan_gets_a_merge_patch_right_after() {
    let status = PlannedPatch {
        subresource: Subresource::Status,
        body: PatchBody::Merge(json!({"status": {"abort": true}})),
    };
    let (annotated, after) = annotate(&plan(vec![status.clone()]), &action());
    assert_eq!(annotated.patches, vec![status], "the change as planned");
    let after = after.expect("the annotation as its own request");
    assert_eq!(after.subresource, Subresource::Main);
    let PatchBody::Merge(body) = &after.body else {
        panic!("merge patch expected");
    };
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only metadata");
    assert_eq!(
        annotation_of(body).comment.as_deref(),
        Some("error rate flat")
    );
}

#[test]
fn a_plan_that_sends_nothing_stays_empty() {
    let (annotated, after) = annotate(&plan(Vec::new()), &action());
    assert!(annotated.patches.is_empty());
    assert_eq!(after, None);
}

fn rollout() -> Rollout {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "demo", "uid": "uid-1", "resourceVersion": "77"},
        "spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}]}}}
    }))
    .expect("rollout")
}

#[test]
fn the_event_names_the_rollout_the_user_the_step_change_and_the_comment() {
    let event = audit_event(&rollout(), "promoted: step 1 → 2 (weight 40%)", &action());
    let json = serde_json::to_value(&event).expect("json");
    assert_eq!(
        json["involvedObject"],
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
               "namespace": "demo", "uid": "uid-1", "resourceVersion": "77"})
    );
    assert_eq!(json["reason"], "PromotedByUser");
    assert_eq!(json["type"], "Normal");
    assert_eq!(json["source"]["component"], "release-cockpit");
    assert_eq!(json["reportingComponent"], "release-cockpit");
    assert_eq!(
        json["message"],
        "lab-admin promoted: step 1 → 2 (weight 40%) (via cli): \"error rate flat\""
    );
    assert!(
        json["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("checkout."))
    );
    assert_eq!(json["count"], 1);
}

#[test]
fn reasons_follow_the_verbs() {
    assert_eq!(event_reason(Verb::Abort), "AbortedByUser");
    assert_eq!(event_reason(Verb::PromoteFull), "PromotedByUser");
    assert_eq!(event_reason(Verb::SetWeight), "WeightSetByUser");
    assert_eq!(event_reason(Verb::Undo), "UndoneByUser");
}

#[test]
fn activity_keeps_ours_and_the_controllers_events_about_the_rollout_newest_first() {
    let target = RolloutRef::new("lab-admin", "demo", "checkout");
    let at = |t: &str| Some(Time(t.parse().expect("time")));
    let mut older = audit_event(&rollout(), "aborted", &action());
    older.last_timestamp = at("2026-11-22T02:00:00Z");
    let newer = audit_event(&rollout(), "promoted", &action());
    let mut controller = newer.clone();
    controller.metadata.name = Some("checkout.controller".into());
    controller.metadata.annotations = None;
    controller.reporting_component = Some("rollouts-controller".into());
    controller.source = None;
    controller.reason = Some("RolloutAborted".into());
    controller.type_ = Some("Warning".into());
    controller.last_timestamp = at("2026-11-22T02:30:00Z");
    let mut scaled = controller.clone();
    scaled.metadata.name = Some("checkout-6c7d.1".into());
    scaled.involved_object.kind = Some("ReplicaSet".into());
    scaled.involved_object.name = Some("checkout-6c7d".into());
    scaled.reporting_component = None;
    scaled.source = Some(EventSource {
        component: Some("replicaset-controller".into()),
        host: None,
    });
    scaled.reason = Some("SuccessfulCreate".into());
    scaled.type_ = Some("Normal".into());
    scaled.count = Some(3);
    scaled.last_timestamp = at("2026-11-22T02:10:00Z");
    let mut other_rollout = newer.clone();
    other_rollout.metadata.name = Some("payments.1".into());
    other_rollout.involved_object.name = Some("payments".into());
    // `checkout-v2`'s ReplicaSet is not checkout's, nor is another namespace's.
    let mut other_replica_set = scaled.clone();
    other_replica_set.metadata.name = Some("checkout-v2-6c7d.1".into());
    other_replica_set.involved_object.name = Some("checkout-v2-6c7d".into());
    let mut analysis = scaled.clone();
    analysis.metadata.name = Some("checkout-6c7d-2.1".into());
    analysis.involved_object.kind = Some("AnalysisRun".into());
    analysis.involved_object.name = Some("checkout-6c7d-2".into());
    analysis.reason = Some("AnalysisRunFailed".into());
    analysis.last_timestamp = at("2026-11-22T02:05:00Z");
    // `checkout-v2`'s AnalysisRun (hash `v2`, "revision" `6c7d`) is not checkout's.
    let mut other_analysis = analysis.clone();
    other_analysis.metadata.name = Some("checkout-v2-6c7d-2.1".into());
    other_analysis.involved_object.name = Some("checkout-v2-6c7d-2".into());
    let mut other_namespace = scaled.clone();
    other_namespace.metadata.name = Some("checkout-6c7d.2".into());
    other_namespace.involved_object.namespace = Some("prod".into());
    let entries = activity_of(
        &target,
        vec![
            older,
            controller.clone(),
            newer.clone(),
            other_rollout,
            scaled,
            other_replica_set,
            other_namespace,
            analysis,
            other_analysis,
            newer,
            controller,
        ],
    );
    let got: Vec<(&str, &str, bool)> = entries
        .iter()
        .map(|e| (e.reason.as_str(), e.source.as_str(), e.ours))
        .collect();
    assert_eq!(
        got,
        [
            ("PromotedByUser", "release-cockpit", true),
            ("RolloutAborted", "rollouts-controller", false),
            ("SuccessfulCreate", "replicaset-controller", false),
            ("AnalysisRunFailed", "replicaset-controller", false),
            ("PromotedByUser", "release-cockpit", true),
        ],
        "listed twice counts once"
    );
    assert_eq!(
        entries[3].object.as_deref(),
        Some("AnalysisRun checkout-6c7d-2")
    );
    assert!(entries[4].message.contains("aborted"));
    assert_eq!(
        entries[0].action.as_ref().map(|a| a.user.as_str()),
        Some("lab-admin")
    );
    assert!(entries[1].warning && entries[1].object.is_none());
    assert_eq!(
        entries[2].object.as_deref(),
        Some("ReplicaSet checkout-6c7d")
    );
    assert_eq!(entries[2].count, 3);
}

#[test]
fn activity_keeps_the_newest_entries_only() {
    let target = RolloutRef::new("lab-admin", "demo", "checkout");
    let base: jiff::Timestamp = "2026-11-22T00:00:00Z".parse().expect("time");
    let events: Vec<Event> = (0..(ACTIVITY_LIMIT as i64 + 50))
        .map(|i| {
            let mut e = audit_event(&rollout(), "promoted", &action());
            e.metadata.name = Some(format!("checkout.{i}"));
            e.last_timestamp = Some(Time(base + jiff::SignedDuration::from_secs(i)));
            e
        })
        .collect();
    let entries = activity_of(&target, events);
    assert_eq!(entries.len(), ACTIVITY_LIMIT);
    assert_eq!(
        entries[0].time,
        Some(base + jiff::SignedDuration::from_secs(ACTIVITY_LIMIT as i64 + 49))
    );
    assert_eq!(
        entries[ACTIVITY_LIMIT - 1].time,
        Some(base + jiff::SignedDuration::from_secs(50))
    );
}

#[test]
fn events_of_the_same_second_stay_newest_first() {
    let target = RolloutRef::new("lab-admin", "demo", "checkout");
    let events: Vec<Event> = [
        "RolloutStepCompleted",
        "TrafficWeightUpdated",
        "RolloutPaused",
    ]
    .iter()
    .enumerate()
    .map(|(i, reason)| {
        let mut e = audit_event(&rollout(), "promoted", &action());
        e.metadata.name = Some(format!("checkout.{i}"));
        e.reason = Some((*reason).into());
        e
    })
    .collect();
    let reasons: Vec<String> = activity_of(&target, events)
        .into_iter()
        .map(|e| e.reason)
        .collect();
    assert_eq!(
        reasons,
        [
            "RolloutPaused",
            "TrafficWeightUpdated",
            "RolloutStepCompleted"
        ]
    );
}
