use super::*;
use crate::model::{Phase, Rollout};

const CHECKOUT_YAML: &str = include_str!("../../tests/fixtures/checkout-rollout.yaml");

/// `checkout` moving on by itself at step 0 (20%), not waiting.
fn moving() -> RolloutView {
    let rollout: Rollout = serde_saphyr::from_str(CHECKOUT_YAML).expect("fixture parses");
    let mut view = RolloutView::from_rollout("lab-admin", &rollout);
    view.pause_reasons.clear();
    view.controller_pause = false;
    view.phase = Phase::Progressing;
    view.current_step = Some(0);
    view
}

fn at_gate(since: &str) -> RolloutView {
    let mut view = moving();
    view.current_step = Some(1);
    view.pause_reasons = vec!["CanaryPauseStep".into()];
    view.since = Some(since.into());
    view
}

const ALICE_ABORT: &str = r#"{"user":"alice","verb":"abort","fromStep":null,"toStep":null,
    "weight":null,"comment":null,"time":"2026-11-22T02:00:00Z","tool":"gui"}"#;

fn aborted(canary_weight: i32, stable_available: i32) -> RolloutView {
    let mut view = moving();
    view.aborted = true;
    view.aborted_at = Some("2026-11-22T02:00:00Z".into());
    view.actual_weight = canary_weight;
    view.available_replicas = stable_available;
    view.updated_replicas = 0;
    view.phase = Phase::Degraded;
    view.message = "RolloutAborted: Rollout aborted update to revision 4".into();
    view.last_action = Some(ALICE_ABORT.into());
    view
}

fn t(rfc3339: &str) -> f64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("time")
        .as_millisecond() as f64
        / 1000.0
}

fn kinds(notices: &[Notice]) -> Vec<NoticeKind> {
    notices.iter().map(|n| n.kind).collect()
}

#[test]
fn a_rollout_that_starts_waiting_is_told_once_and_what_was_already_so_is_not() {
    let mut d = Transitions::default();
    let now = t("2026-11-22T01:50:00Z");
    // Already waiting at first sight: not news.
    let mut other = at_gate("2026-11-22T01:00:00Z");
    other.reference.name = "payments".into();
    assert!(d.observe(&other, None, now).is_empty());
    assert!(d.observe(&moving(), None, now).is_empty());
    let gate = at_gate("2026-11-22T01:52:10Z");
    let notices = d.observe(&gate, None, now);
    assert_eq!(kinds(&notices), [NoticeKind::WaitingForApproval]);
    assert_eq!(notices[0].title, "checkout waits for approval");
    assert_eq!(
        notices[0].body,
        "lab-admin shop/checkout: waiting for approval at step 1/8 (20%)"
    );
    // The same view again, and the same wait after a flicker: never twice.
    assert!(d.observe(&gate, None, now).is_empty());
    assert!(d.observe(&moving(), None, now).is_empty());
    assert!(d.observe(&gate, None, now).is_empty());
    // The next gate is a new wait.
    let mut next = at_gate("2026-11-22T02:05:00Z");
    next.current_step = Some(3);
    assert_eq!(
        kinds(&d.observe(&next, None, now)),
        [NoticeKind::WaitingForApproval]
    );
}

#[test]
fn a_verdict_turning_to_fail_is_told_once_per_revision() {
    let mut d = Transitions::default();
    let now = 0.0;
    let view = moving();
    assert!(d.observe(&view, Some(VerdictKind::Pass), now).is_empty());
    let notices = d.observe(&view, Some(VerdictKind::Fail), now);
    assert_eq!(kinds(&notices), [NoticeKind::VerdictFail]);
    assert!(
        notices[0].text().starts_with(
            "checkout is failing: lab-admin shop/checkout: the verdict turned to fail"
        ),
        "{}",
        notices[0].text()
    );
    assert!(d.observe(&view, Some(VerdictKind::Fail), now).is_empty());
    assert!(d.observe(&view, None, now).is_empty(), "unknown keeps it");
    // Marginal, then fail again on the same revision: already told.
    assert!(
        d.observe(&view, Some(VerdictKind::Marginal), now)
            .is_empty()
    );
    assert!(d.observe(&view, Some(VerdictKind::Fail), now).is_empty());
    // A new revision failing is news.
    let mut next = moving();
    next.current_hash = Some("abc123".into());
    assert_eq!(
        kinds(&d.observe(&next, Some(VerdictKind::Fail), now)),
        [NoticeKind::VerdictFail]
    );
}

#[test]
fn an_abort_says_by_whom_and_its_rollback_completes_or_sticks_once() {
    let mut d = Transitions::default();
    let abort = t("2026-11-22T02:00:00Z");
    assert!(d.observe(&moving(), None, abort - 5.0).is_empty());
    let notices = d.observe(&aborted(20, 4), None, abort + 1.0);
    assert_eq!(kinds(&notices), [NoticeKind::Aborted]);
    assert_eq!(
        notices[0].body,
        "lab-admin shop/checkout: aborted by alice (gui): RolloutAborted: Rollout aborted \
         update to revision 4"
    );
    assert!(d.observe(&aborted(20, 4), None, abort + 10.0).is_empty());
    // A minute without a new view: stuck, once.
    let view = aborted(0, 4);
    let stuck = d.tick(&[&view], abort + 61.0);
    assert_eq!(kinds(&stuck), [NoticeKind::RollbackStuck]);
    assert!(
        stuck[0].body.contains("stuck: stable 4/5 available after"),
        "{}",
        stuck[0].body
    );
    assert!(d.tick(&[&view], abort + 90.0).is_empty());
    // It gets there later: complete, once.
    let done = d.observe(&aborted(0, 5), None, abort + 95.0);
    assert_eq!(kinds(&done), [NoticeKind::RollbackComplete]);
    assert!(
        done[0].body.contains("rollback complete in 95 s"),
        "{}",
        done[0].body
    );
    assert!(d.observe(&aborted(0, 5), None, abort + 100.0).is_empty());
    assert!(d.tick(&[&aborted(0, 5)], abort + 200.0).is_empty());
}

#[test]
fn first_seen_already_rolled_back_is_not_news() {
    let mut d = Transitions::default();
    let abort = t("2026-11-22T02:00:00Z");
    assert!(d.observe(&aborted(0, 5), None, abort + 600.0).is_empty());
    assert!(d.tick(&[&aborted(0, 5)], abort + 700.0).is_empty());
}

#[test]
fn settings_choose_events_contexts_and_quiet_hours() {
    let notice = |kind, context: &str| Notice {
        kind,
        rollout: RolloutRef::new(context, "shop", "checkout"),
        title: String::new(),
        body: String::new(),
        key: String::new(),
    };
    let all = NotifySettings::default();
    assert!(all.allows(&notice(NoticeKind::Aborted, "prod-eu"), 3));
    let picky = NotifySettings {
        waiting_for_approval: false,
        contexts: vec!["prod-eu".into()],
        quiet_hours: Some((22, 7)),
        ..NotifySettings::default()
    };
    assert!(!picky.allows(&notice(NoticeKind::WaitingForApproval, "prod-eu"), 12));
    assert!(picky.allows(&notice(NoticeKind::Aborted, "prod-eu"), 12));
    assert!(!picky.allows(&notice(NoticeKind::Aborted, "staging"), 12));
    for night in [22, 23, 0, 6] {
        assert!(
            !picky.allows(&notice(NoticeKind::Aborted, "prod-eu"), night),
            "{night}"
        );
    }
    assert!(picky.allows(&notice(NoticeKind::Aborted, "prod-eu"), 7));
    let lunch = NotifySettings {
        quiet_hours: Some((12, 14)),
        ..NotifySettings::default()
    };
    assert!(lunch.is_quiet(13) && !lunch.is_quiet(14) && !lunch.is_quiet(11));
}

#[test]
fn an_abort_waits_briefly_to_say_who_and_is_one_abort_while_the_controller_catches_up() {
    let mut d = Transitions::default();
    let abort = t("2026-11-22T02:00:00Z");
    assert!(d.observe(&moving(), None, abort - 5.0).is_empty());
    // The status patch lands first: no abortedAt, the old message, no annotation yet.
    let mut first = aborted(20, 4);
    first.aborted_at = None;
    first.message = "CanaryPauseStep".into();
    first.last_action = None;
    assert!(
        d.observe(&first, None, abort).is_empty(),
        "waits to say who"
    );
    assert!(d.waiting_to_tell());
    // The controller writes abortedAt and its message; then the door's annotation lands.
    let mut second = aborted(20, 4);
    second.last_action = None;
    assert!(d.observe(&second, None, abort + 1.0).is_empty());
    let told = d.observe(&aborted(20, 4), None, abort + 1.5);
    assert_eq!(kinds(&told), [NoticeKind::Aborted]);
    assert!(
        told[0].body.contains("aborted by alice (gui)"),
        "{}",
        told[0].body
    );
    assert!(!d.waiting_to_tell());
    assert!(d.observe(&aborted(20, 4), None, abort + 2.0).is_empty());

    // Without an annotation, after the wait it was the controller.
    let mut d = Transitions::default();
    assert!(d.observe(&moving(), None, abort - 5.0).is_empty());
    assert!(d.observe(&second, None, abort).is_empty());
    let told = d.tick(&[&second], abort + ATTRIBUTION_WAIT_SECS);
    assert_eq!(kinds(&told), [NoticeKind::Aborted]);
    assert!(
        told[0]
            .body
            .contains("aborted by the controller: RolloutAborted"),
        "{}",
        told[0].body
    );
    // Stopping early tells at once with what is known.
    let mut d = Transitions::default();
    assert!(d.observe(&moving(), None, abort - 5.0).is_empty());
    assert!(d.observe(&first, None, abort).is_empty());
    let flushed = d.flush(&first, abort + 0.1);
    assert_eq!(kinds(&flushed), [NoticeKind::Aborted]);
    assert!(
        flushed[0].body.contains("traffic goes back to stable"),
        "{}",
        flushed[0].body
    );
}
