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
fn activity_keeps_our_events_about_the_rollout_newest_first() {
    let target = RolloutRef::new("lab-admin", "demo", "checkout");
    let mut older = audit_event(&rollout(), "aborted", &action());
    older.last_timestamp = Some(Time("2026-11-22T02:00:00Z".parse().expect("time")));
    let newer = audit_event(&rollout(), "promoted", &action());
    let mut controller = newer.clone();
    controller.reporting_component = Some("rollouts-controller".into());
    controller.source = None;
    let mut other_rollout = newer.clone();
    other_rollout.involved_object.name = Some("payments".into());
    let entries = activity_of(&target, vec![older, controller, newer, other_rollout]);
    assert_eq!(entries.len(), 2);
    assert!(entries[0].message.contains("promoted"));
    assert!(entries[1].message.contains("aborted"));
    assert_eq!(
        entries[0].action.as_ref().map(|a| a.user.as_str()),
        Some("lab-admin")
    );
}
