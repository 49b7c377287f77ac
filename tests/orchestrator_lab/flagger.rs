//! Flagger canaries through the one door and the CLI: `list`/`get` show them beside the
//! rollouts with their controller; approving podinfo at WaitingPromotion opens the load
//! tester's gate through the service proxy and Flagger promotes it; rollback opens the
//! rollback gate and Flagger fails it; each with the journal, the last-action annotation and
//! an audit Event on the Canary. The viewer is refused before anything is sent. The lab runs
//! 60 times faster so that Flagger's 30 s intervals pass in half a second.

use super::*;
use release_cockpit::model::Provider;

const SPEED: f64 = 60.0;

fn podinfo(context: &str) -> RolloutRef {
    RolloutRef {
        provider: Provider::Flagger,
        ..RolloutRef::new(context, "test", "podinfo")
    }
}

fn canary(t: &TestLab) -> Value {
    t.lab
        .store()
        .get(Kind::Canary, "test", "podinfo")
        .expect("podinfo's canary")
}

/// Polls the lab until podinfo's phase is `phase` (20 s at most).
async fn phase_becomes(t: &TestLab, phase: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let c = canary(t);
        if c["status"]["phase"] == phase {
            return c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "podinfo never got to {phase}: status {}",
            c["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Flagger's own Events on podinfo, oldest first.
fn flagger_said(t: &TestLab) -> Vec<String> {
    let (events, _) = t.lab.store().list(Kind::Event, Some("test"));
    events
        .iter()
        .filter(|e| {
            e["involvedObject"]["name"] == "podinfo" && e["reportingComponent"] == "flagger"
        })
        .filter_map(|e| e["message"].as_str().map(String::from))
        .collect()
}

fn cockpit_events(t: &TestLab) -> Vec<Value> {
    let (events, _) = t.lab.store().list(Kind::Event, Some("test"));
    events
        .into_iter()
        .filter(|e| {
            e["involvedObject"]["name"] == "podinfo"
                && e["involvedObject"]["kind"] == "Canary"
                && e["reportingComponent"] == "release-cockpit"
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_lists_canaries_beside_rollouts_and_the_cli_shows_their_controller() {
    let t = TestLab::start().await;
    let client = t.client(ADMIN).await;
    let views = release_cockpit::cluster::list_canaries(&client, ADMIN, None)
        .await
        .expect("canaries listed");
    let names: Vec<&str> = views.iter().map(|v| v.reference.name.as_str()).collect();
    assert_eq!(names, ["frontend", "podinfo"]);
    let podinfo = &views[1];
    assert_eq!(podinfo.reference.provider, Provider::Flagger);
    assert_eq!(podinfo.actual_weight, 30);
    assert_eq!(
        podinfo.step_label(),
        "2/6",
        "weights 10..50 then the promotion gate"
    );
    let roles: Vec<_> = podinfo.versions().into_iter().map(|v| v.role).collect();
    assert_eq!(
        roles.len(),
        2,
        "stable (podinfo-primary) and canary (podinfo): {roles:?}"
    );
    assert_eq!(
        release_cockpit::orchestrator::resolve(&client, &RolloutRef::new(ADMIN, "test", "podinfo"))
            .await
            .expect("resolved")
            .provider,
        Provider::Flagger
    );

    let (code, out, err) = t.cli(&["list", "-A"]).await;
    assert_eq!(code, 0, "{err}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>())
    };
    assert_eq!(
        row("podinfo"),
        Some(vec!["podinfo", "test", "Flagger"]),
        "{out}"
    );
    assert_eq!(
        row("checkout"),
        Some(vec!["checkout", "demo", "Argo"]),
        "{out}"
    );
    assert_eq!(row("cart"), Some(vec!["cart", "demo", "Gateway"]), "{out}");

    let (code, out, err) = t.cli(&["get", "podinfo", "-n", "test"]).await;
    assert_eq!(code, 0, "{err}");
    for line in [
        "Controller:      Flagger",
        "  Phase:         Progressing",
        "  FailedChecks:  0/5",
        "confirm-promotion \"promotion gate\" http://flagger-loadtester.test/gate/check",
    ] {
        assert!(out.contains(line), "{line:?} missing in:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_approves_podinfo_at_waiting_promotion_and_flagger_promotes_it() {
    let t = TestLab::start_at_speed(SPEED).await;
    phase_becomes(&t, "WaitingPromotion").await;
    let (code, out, err) = t
        .cli(&[
            "promote",
            "podinfo",
            "-n",
            "test",
            "--comment",
            "checked the dashboards",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("opened confirm-promotion gate \"promotion gate\""),
        "{out}"
    );
    assert!(
        t.lab
            .load_tester()
            .log()
            .contains(&"podinfo.test gate opened".to_string()),
        "{:?}",
        t.lab.load_tester().log()
    );
    let done = phase_becomes(&t, "Succeeded").await;
    let said = flagger_said(&t);
    let position = |text: &str| said.iter().position(|m| m.starts_with(text));
    let promoting = position("Copying podinfo.test template spec");
    let finalising = position("Routing all traffic to primary");
    let succeeded = position("Promotion completed!");
    assert!(
        promoting < finalising && finalising < succeeded && promoting.is_some(),
        "Promoting → Finalising → Succeeded in Flagger's Events: {said:?}"
    );
    let action = last_action(&done).expect("last-action on the Canary");
    assert_eq!(action["verb"], "promote");
    assert_eq!(action["comment"], "checked the dashboards");
    assert_eq!(cockpit_events(&t).len(), 1);
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].rollout, podinfo(ADMIN));
    assert_eq!(count(&outcomes, CommandResult::Done), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_opens_the_rollback_gate_and_flagger_fails_podinfo_with_the_rollback_recorded() {
    let t = TestLab::start_at_speed(SPEED).await;
    let command = Command {
        target: podinfo(ADMIN),
        action: Action::Abort { pin: None },
        tool: Tool::Cli,
        comment: Some("latency on the dashboards".into()),
    };
    let done =
        release_cockpit::orchestrator::execute_with(&t.client(ADMIN).await, &command, &t.options())
            .await
            .expect("rollback sent");
    assert!(done.outcome.changed);
    assert!(
        done.outcome.summary.starts_with("rollback requested"),
        "{}",
        done.outcome.summary
    );
    assert!(t.lab.load_tester().is_open("podinfo", "test", true));
    let failed = phase_becomes(&t, "Failed").await;
    assert_eq!(failed["status"]["canaryWeight"], 0);
    assert!(
        flagger_said(&t)
            .iter()
            .any(|m| m == "Rolling back podinfo.test manual rollback"),
        "{:?}",
        flagger_said(&t)
    );
    assert_eq!(last_action(&failed).expect("annotated")["verb"], "abort");
    let events = cockpit_events(&t);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("rollback requested"),
        "{}",
        events[0]
    );
    let (intents, outcomes) = journal_lines(&t.journal());
    assert_eq!(intents[0].verb, release_cockpit::model::Verb::Abort);
    assert_eq!(count(&outcomes, CommandResult::Done), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_is_refused_before_anything_reaches_the_load_tester() {
    let t = TestLab::start_at_speed(SPEED).await;
    phase_becomes(&t, "WaitingPromotion").await;
    let (code, out, err) = t
        .cli(&["--context", VIEWER, "promote", "podinfo", "-n", "test"])
        .await;
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("lab-viewer") && err.contains("patch canaries"),
        "{err}"
    );
    assert!(
        !t.lab
            .load_tester()
            .log()
            .iter()
            .any(|l| l.contains("opened")),
        "{:?}",
        t.lab.load_tester().log()
    );
    assert!(last_action(&canary(&t)).is_none());

    let (code, _, err) = t.cli(&["set-weight", "podinfo", "20", "-n", "test"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Flagger has no manual weight"), "{err}");
}

/// A canary in `demo` whose load tester lives in `test`: lab-dev may patch canaries in demo
/// but not create services/proxy in test, and the door asks where the gate is — refused
/// before sending, nothing reaches the load tester.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_permission_is_asked_in_the_load_testers_namespace() {
    let t = TestLab::start().await;
    let mut copy = canary(&t);
    copy["metadata"] = serde_json::json!({"name": "podinfo", "namespace": "demo"});
    copy["status"]["phase"] = serde_json::json!("WaitingPromotion");
    copy["status"]["canaryWeight"] = serde_json::json!(50);
    t.lab
        .store()
        .create(Kind::Canary, copy)
        .expect("canary in demo");
    let command = Command {
        target: RolloutRef {
            provider: Provider::Flagger,
            ..RolloutRef::new("lab-dev", "demo", "podinfo")
        },
        action: Action::Promote { pin: None },
        tool: Tool::Cli,
        comment: None,
    };
    let err = release_cockpit::orchestrator::execute_with(
        &t.client("lab-dev").await,
        &command,
        &t.options(),
    )
    .await
    .expect_err("refused");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            release_cockpit::orchestrator::OrchestratorError::NotPermitted { .. }
        ),
        "refused by the permission check, before the pin or the POST: {text}"
    );
    assert!(text.contains("create services/proxy"), "{text}");
    assert!(
        !t.lab
            .load_tester()
            .log()
            .iter()
            .any(|l| l.contains("opened")),
        "{:?}",
        t.lab.load_tester().log()
    );
}

/// The window's approval names the step it saw: a canary that moved on is refused before
/// anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_pinned_to_an_earlier_step_is_refused_before_sending() {
    let t = TestLab::start_at_speed(SPEED).await;
    phase_becomes(&t, "WaitingPromotion").await;
    let command = Command {
        target: podinfo(ADMIN),
        action: Action::Promote {
            pin: Some(Pin {
                step: Some(2),
                ..Pin::default()
            }),
        },
        tool: Tool::Gui,
        comment: None,
    };
    let err =
        release_cockpit::orchestrator::execute_with(&t.client(ADMIN).await, &command, &t.options())
            .await
            .expect_err("moved on");
    assert!(err.to_string().contains("moved on"), "{err}");
    assert!(!t.lab.load_tester().is_open("podinfo", "test", false));
}

/// What a Flagger canary does not have yet is refused before anything is sent, saying so:
/// `abort --wait` tracks Argo and weighted rollbacks (`report` and `watch` follow canaries:
/// metrics_prometheus/releases.rs, orchestrator_lab/watch.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_only_options_are_refused_before_sending() {
    let t = TestLab::start().await;
    let (code, _, err) = t.cli(&["abort", "podinfo", "-n", "test", "--wait"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("abort --wait tracks Argo rollouts and weighted releases, not yet Flagger"),
        "{err}"
    );
    assert!(!t.lab.load_tester().is_open("podinfo", "test", true));
}

/// The CLI's inbox lists Flagger canaries that need a person: podinfo at its promotion gate,
/// frontend rolled back by Flagger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_inbox_lists_canaries_that_need_a_person() {
    let t = TestLab::start_at_speed(SPEED).await;
    phase_becomes(&t, "WaitingPromotion").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while t
        .lab
        .store()
        .get(Kind::Canary, "test", "frontend")
        .expect("frontend")["status"]["phase"]
        != "Failed"
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "frontend never failed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, out, err) = t
        .cli(&["--context", ADMIN, "inbox", "-n", "test", "-o", "json"])
        .await;
    assert_eq!(code, 3, "{out}{err}");
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let kind_of = |name: &str| {
        json["rollouts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == name)
            .map(|r| r["kind"].clone())
    };
    assert_eq!(
        kind_of("podinfo"),
        Some("waiting-for-approval".into()),
        "{json}"
    );
    assert_eq!(kind_of("frontend"), Some("aborted".into()), "{json}");
}
