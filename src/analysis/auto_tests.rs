use super::*;
use crate::analysis::verdict::JudgeKind;
use crate::model::{RolloutRef, StepKind};

fn settings() -> AutoSettings {
    AutoSettings {
        dwell_secs: 60.0,
        no_data_limit_secs: 300.0,
        timeout_secs: 3600.0,
    }
}

/// A canary at step 1 (pause until promoted) of 20 % → pause → 50 % → pause.
fn paused_at(step: i32) -> RolloutView {
    RolloutView {
        reference: RolloutRef::new("lab", "demo", "checkout"),
        strategy: StrategyKind::Canary,
        steps: vec![
            StepKind::SetWeight { weight: 20 },
            StepKind::Pause { duration: None },
            StepKind::SetWeight { weight: 50 },
            StepKind::Pause { duration: None },
        ],
        current_step: Some(step),
        set_weight: 20,
        actual_weight: 20,
        phase: Phase::Paused,
        message: String::new(),
        stable_hash: Some("aaa".into()),
        current_hash: Some("bbb".into()),
        active_hash: None,
        preview_hash: None,
        images: vec![],
        paused: false,
        pause_reasons: vec!["CanaryPauseStep".into()],
        controller_pause: true,
        aborted: false,
        aborted_at: None,
        revision: Some("4".into()),
        resource_version: None,
        generation: None,
        created_at: None,
        since: None,
        replicas: 5,
        desired_replicas: 5,
        ready_replicas: 5,
        updated_replicas: 1,
        available_replicas: 5,
        last_action: None,
        auto_status: None,
        flagger: None,
    }
}

fn verdict(kind: VerdictKind, score: f64) -> Verdict {
    Verdict {
        kind,
        score,
        judge: JudgeKind::Statistical,
        window_from_secs: None,
        window_to_secs: None,
        metrics: vec![],
        reasons: vec!["error rate 6.0% vs stable 0.2%".into()],
    }
}

#[test]
fn fail_aborts_at_once_even_before_the_dwell() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let d = auto.decide(&paused_at(1), Some(&verdict(VerdictKind::Fail, 0.0)), 1.0);
    assert_eq!(
        d,
        Decision::Abort {
            pin: Pin {
                pod_hash: Some("bbb".into()),
                ..Pin::default()
            },
            why: "fail, score 0: error rate 6.0% vs stable 0.2%".into()
        }
    );
}

#[test]
fn pass_promotes_pinned_after_the_dwell_only() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let pass = verdict(VerdictKind::Pass, 100.0);
    let view = paused_at(1);
    match auto.decide(&view, Some(&pass), 10.0) {
        Decision::Wait { reason } => {
            assert_eq!(
                reason,
                "pass, score 100; watching step 1/4 1m more before promoting"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        auto.decide(&view, Some(&pass), 69.0),
        Decision::Wait { .. }
    ));
    assert_eq!(
        auto.decide(&view, Some(&pass), 70.0),
        Decision::Promote {
            pin: Pin {
                step: Some(1),
                pod_hash: Some("bbb".into()),
                preview_hash: None,
            },
            why: "pass, score 100: error rate 6.0% vs stable 0.2%".into()
        }
    );
    // At the next pause the dwell starts again.
    assert!(matches!(
        auto.decide(&paused_at(3), Some(&pass), 71.0),
        Decision::Wait { .. }
    ));
    assert!(matches!(
        auto.decide(&paused_at(3), Some(&pass), 131.0),
        Decision::Promote {
            pin: Pin { step: Some(3), .. },
            ..
        }
    ));
}

#[test]
fn pass_while_the_rollout_moves_by_itself_waits() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let mut view = paused_at(0);
    view.phase = Phase::Progressing;
    view.pause_reasons.clear();
    let d = auto.decide(&view, Some(&verdict(VerdictKind::Pass, 97.0)), 500.0);
    assert_eq!(
        d,
        Decision::Wait {
            reason: "pass, score 97; rollout moves on by itself".into()
        }
    );
}

#[test]
fn marginal_waits_for_a_person_with_the_score() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let d = auto.decide(
        &paused_at(1),
        Some(&verdict(VerdictKind::Marginal, 82.0)),
        500.0,
    );
    assert_eq!(
        d,
        Decision::Wait {
            reason: "waiting for approval: marginal verdict, score 82".into()
        }
    );
}

#[test]
fn no_data_waits_up_to_the_limit_then_gives_up_without_acting() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let none = verdict(VerdictKind::NoData, 0.0);
    let view = paused_at(1);
    assert!(matches!(
        auto.decide(&view, Some(&none), 10.0),
        Decision::Wait { reason } if reason.starts_with("waiting for data (0s of 5m)")
    ));
    // Data coming back resets the count.
    auto.decide(&view, Some(&verdict(VerdictKind::Marginal, 80.0)), 200.0);
    assert!(matches!(
        auto.decide(&view, Some(&none), 300.0),
        Decision::Wait { .. }
    ));
    match auto.decide(&view, Some(&none), 600.0) {
        Decision::Done(Ending::GaveUp(why)) => {
            assert!(
                why.starts_with("no data for 5m; rollout left at step 1/4"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ends_on_healthy_aborted_degraded_and_timeout() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let mut done = paused_at(4);
    done.phase = Phase::Healthy;
    done.stable_hash = Some("bbb".into());
    assert_eq!(
        auto.decide(&done, None, 1.0),
        Decision::Done(Ending::Healthy)
    );
    assert_eq!(Ending::Healthy.exit_code(), 0);

    let mut aborted = paused_at(1);
    aborted.aborted = true;
    aborted.phase = Phase::Degraded;
    assert_eq!(
        auto.decide(&aborted, None, 1.0),
        Decision::Done(Ending::Aborted)
    );
    assert_eq!(Ending::Aborted.exit_code(), 1);

    let mut degraded = paused_at(1);
    degraded.phase = Phase::Degraded;
    assert_eq!(
        auto.decide(&degraded, None, 1.0),
        Decision::Done(Ending::Degraded)
    );

    let d = auto.decide(
        &paused_at(1),
        Some(&verdict(VerdictKind::Pass, 100.0)),
        3600.0,
    );
    assert!(
        matches!(&d, Decision::Done(Ending::GaveUp(why)) if why == "timed out after 60m at step 1/4"),
        "{d:?}"
    );
}

#[test]
fn a_canary_without_traffic_is_not_judged() {
    let mut auto = AutoLoop::new(settings(), 0.0);
    let mut view = paused_at(0);
    view.actual_weight = 0;
    assert_eq!(
        auto.decide(&view, Some(&verdict(VerdictKind::Fail, 0.0)), 1.0),
        Decision::Wait {
            reason: "canary takes no traffic yet".into()
        }
    );
}

/// cart, a weighted (Gateway API) release at `weight` on step `step` of 10,25,50,100, as
/// [`crate::model::gateway::WeightedRoute::view`] shows it.
fn cart_at(step: i32, weight: i32) -> RolloutView {
    let steps = [10, 25, 50, 100]
        .map(|weight| StepKind::SetWeight { weight })
        .to_vec();
    let waiting = weight > 0 && weight < 100;
    RolloutView {
        reference: RolloutRef {
            provider: crate::model::Provider::Gateway,
            ..RolloutRef::new("lab", "demo", "cart")
        },
        strategy: StrategyKind::Weighted,
        steps,
        current_step: Some(step),
        set_weight: weight,
        actual_weight: weight,
        phase: if waiting {
            Phase::Paused
        } else {
            Phase::Healthy
        },
        pause_reasons: if waiting {
            vec![crate::model::gateway::WAITING_FOR_PROMOTE.into()]
        } else {
            vec![]
        },
        controller_pause: false,
        ..paused_at(0)
    }
}

#[test]
fn a_weighted_release_is_promoted_after_the_dwell_aborted_on_fail_and_done_at_100() {
    let pass = verdict(VerdictKind::Pass, 100.0);
    let mut auto = AutoLoop::new(settings(), 0.0);
    assert!(matches!(
        auto.decide(&cart_at(1, 25), Some(&pass), 0.0),
        Decision::Wait { .. }
    ));
    match auto.decide(&cart_at(1, 25), Some(&pass), 61.0) {
        Decision::Promote { pin, .. } => assert_eq!(pin.step, Some(1), "pinned to the step"),
        other => panic!("expected a promote, got {other:?}"),
    }
    let fail = verdict(VerdictKind::Fail, 0.0);
    assert!(matches!(
        auto.decide(&cart_at(2, 50), Some(&fail), 62.0),
        Decision::Abort { .. }
    ));
    let mut paused = cart_at(2, 50);
    paused.paused = true;
    match auto.decide(&paused, Some(&pass), 200.0) {
        Decision::Wait { reason } => assert!(reason.contains("paused by hand"), "{reason}"),
        other => panic!("a paused release waits for a person, got {other:?}"),
    }
    assert_eq!(
        auto.decide(&cart_at(3, 100), Some(&pass), 201.0),
        Decision::Done(Ending::Healthy),
        "the last step, 100, reached"
    );
    assert_eq!(
        auto.decide(&cart_at(4, 0), Some(&pass), 202.0),
        Decision::Done(Ending::Healthy),
        "promoted fully: all traffic on stable"
    );
    assert!(
        matches!(
            auto.decide(&cart_at(0, 0), Some(&pass), 203.0),
            Decision::Wait { .. }
        ),
        "not started: the canary takes no traffic"
    );
}
