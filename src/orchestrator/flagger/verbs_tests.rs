use super::*;
use crate::model::Provider;

fn podinfo() -> RolloutRef {
    RolloutRef {
        provider: Provider::Flagger,
        ..RolloutRef::new("lab-admin", "test", "podinfo")
    }
}

fn canary(phase: &str, weight: i32, hooks: &[(&str, &str)]) -> FlaggerDetail {
    FlaggerDetail {
        phase: phase.into(),
        canary_weight: weight,
        failed_checks: 0,
        threshold: 5,
        iterations: 0,
        max_iterations: 0,
        interval: "30s".into(),
        last_transition_time: None,
        conditions: Vec::new(),
        webhooks: hooks
            .iter()
            .map(|(kind, url)| Webhook {
                name: format!("{kind} hook"),
                kind: kind.to_string(),
                url: url.to_string(),
            })
            .collect(),
        suspended: false,
        skip_analysis: false,
        target: "podinfo".into(),
    }
}

const GATE: (&str, &str) = (
    "confirm-promotion",
    "http://flagger-loadtester.test/gate/check",
);
const ROLLBACK: (&str, &str) = ("rollback", "http://flagger-loadtester.test/rollback/check");

#[test]
fn approve_pins_phase_and_weight_then_opens_the_gate_flagger_waits_on() {
    let plan = plan_promote(&podinfo(), &canary("WaitingPromotion", 50, &[GATE])).unwrap();
    assert_eq!(plan.home, Subresource::Canary);
    assert_eq!(
        plan.patches[0].body,
        PatchBody::Json(vec![
            json!({"op": "test", "path": "/status/phase", "value": "WaitingPromotion"}),
            json!({"op": "test", "path": "/status/canaryWeight", "value": 50}),
        ])
    );
    assert_eq!(
        plan.patches[1].subresource.proxy_path().as_deref(),
        Some("/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open")
    );
    assert_eq!(
        plan.patches[1].body,
        PatchBody::Post(json!({"name": "podinfo", "namespace": "test"}))
    );
}

#[test]
fn approve_without_the_webhook_names_the_one_to_add() {
    let err = plan_promote(&podinfo(), &canary("WaitingPromotion", 50, &[ROLLBACK])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no confirm-promotion webhook")
            && text.contains("http://flagger-loadtester.test/gate/check"),
        "{text}"
    );
    // A gate that is not the load tester's /gate/check cannot be opened from here.
    let halt = (
        "confirm-promotion",
        "http://flagger-loadtester.test/gate/halt",
    );
    let err = plan_promote(&podinfo(), &canary("WaitingPromotion", 50, &[halt])).unwrap_err();
    assert!(err.to_string().contains("/gate/halt"), "{err}");
    // Progressing toward a promotion gate: nothing to approve yet.
    let plan = plan_promote(&podinfo(), &canary("Progressing", 20, &[GATE])).unwrap();
    assert!(plan.patches.is_empty() && plan.summary.starts_with("nothing to do"));
}

#[test]
fn rollback_opens_the_rollback_gate_only_while_flagger_calls_it() {
    let plan = plan_abort(&podinfo(), &canary("Progressing", 20, &[ROLLBACK])).unwrap();
    assert_eq!(
        plan.patches[1].subresource.proxy_path().as_deref(),
        Some("/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/rollback/open")
    );
    let done = plan_abort(&podinfo(), &canary("Succeeded", 0, &[ROLLBACK])).unwrap();
    assert!(done.patches.is_empty(), "{}", done.summary);
    let err = plan_abort(&podinfo(), &canary("Progressing", 20, &[GATE])).unwrap_err();
    assert!(err.to_string().contains("no rollback webhook"), "{err}");
}

#[test]
fn pause_resume_and_promote_full_change_the_canary_spec() {
    let seen = canary("Progressing", 20, &[]);
    assert_eq!(
        plan_pause(&podinfo(), &seen).patches[0].body,
        PatchBody::Merge(json!({"spec": {"suspend": true}}))
    );
    assert!(plan_resume(&podinfo(), &seen).patches.is_empty());
    let full = plan_promote_full(&podinfo(), &seen);
    let PatchBody::Json(ops) = &full.patches[0].body else {
        panic!("a JSON patch");
    };
    assert_eq!(ops[0]["op"], "test");
    assert_eq!(
        ops[2],
        json!({"op": "add", "path": "/spec/skipAnalysis", "value": true})
    );
    let err = not_applicable(&podinfo(), Verb::SetWeight).to_string();
    assert!(err.contains("Flagger has no manual weight"), "{err}");
}
