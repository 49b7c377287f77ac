use super::*;
use crate::model::Rollout;
use std::collections::HashMap;

const CHECKOUT_YAML: &str = include_str!("../../tests/fixtures/checkout-rollout.yaml");

/// `checkout` paused for a person at step 1 (20%), renamed.
fn waiting(name: &str, paused_at: &str) -> RolloutView {
    let rollout: Rollout = serde_saphyr::from_str(CHECKOUT_YAML).expect("fixture parses");
    let mut view = RolloutView::from_rollout("lab-admin", &rollout);
    view.reference.name = name.into();
    view.since = Some(paused_at.into());
    view
}

/// Moving on by itself at 40%: needs nobody.
fn progressing(name: &str) -> RolloutView {
    let mut view = waiting(name, "2026-11-22T01:00:00Z");
    view.pause_reasons.clear();
    view.controller_pause = false;
    view.phase = Phase::Progressing;
    view.actual_weight = 40;
    view
}

fn aborted(name: &str, last_action: Option<&str>) -> RolloutView {
    let mut view = progressing(name);
    view.aborted = true;
    view.aborted_at = Some("2026-11-22T02:00:00Z".into());
    view.actual_weight = 0;
    view.phase = Phase::Degraded;
    view.message = "RolloutAborted: Rollout aborted update to revision 4".into();
    view.last_action = last_action.map(str::to_string);
    view
}

fn names(rows: &[InboxRow]) -> Vec<&str> {
    rows.iter().map(|r| r.rollout.name.as_str()).collect()
}

#[test]
fn most_urgent_first_each_with_its_reason_in_words() {
    let fleet = vec![
        progressing("quiet"),
        waiting("newer-gate", "2026-11-22T01:55:00Z"),
        waiting("older-gate", "2026-11-22T01:10:00Z"),
        aborted(
            "rolled-back",
            Some(
                r#"{"user":"alice","verb":"abort","fromStep":null,"toStep":null,"weight":null,
                    "comment":null,"time":"2026-11-22T02:00:00Z","tool":"gui"}"#,
            ),
        ),
        progressing("failing"),
        {
            let mut v = progressing("pipeline");
            v.auto_status = Some("waiting for approval: marginal verdict, score 82".into());
            v
        },
        progressing("blind"),
    ];
    let verdicts = HashMap::from([
        (
            fleet[4].reference.clone(),
            Judgement {
                kind: VerdictKind::Fail,
                score: 12.0,
            },
        ),
        (
            fleet[2].reference.clone(),
            Judgement::from_words("pass", 97.0).expect("words"),
        ),
    ]);
    let stale = HashMap::from([(fleet[6].reference.clone(), 1_000.0)]);
    let evidence = Evidence {
        verdict: &|r| verdicts.get(r).copied(),
        metrics_stale_since: &|r| stale.get(r).copied(),
    };
    let rows = inbox(&fleet, &evidence);
    assert_eq!(
        names(&rows),
        [
            "failing",
            "rolled-back",
            "older-gate",
            "newer-gate",
            "pipeline",
            "blind"
        ]
    );
    let text: Vec<String> = rows.iter().map(InboxRow::text).collect();
    assert_eq!(
        text[0],
        "failing verdict (score 12) while the canary takes 40% of traffic"
    );
    assert_eq!(
        text[1],
        "aborted by alice (gui): RolloutAborted: Rollout aborted update to revision 4"
    );
    assert_eq!(
        text[2],
        "waiting for approval at step 1/8 (20%) (verdict pass, score 97)"
    );
    assert_eq!(
        text[4],
        "auto: waiting for approval — marginal verdict, score 82"
    );
    assert!(
        text[5].starts_with("metrics stale during the rollout"),
        "{}",
        text[5]
    );
    // How long: from the pause, the abort, the last sample.
    let now = unix_secs("2026-11-22T02:10:00Z").expect("time");
    assert_eq!(rows[2].waiting_secs(now), Some(3600.0));
    assert_eq!(rows[1].waiting_secs(now), Some(600.0));
    assert_eq!(rows[0].waiting_secs(now), None);
    assert_eq!(
        count_by_context(&rows).get("lab-admin"),
        Some(&6),
        "one row per rollout that needs someone"
    );
}

#[test]
fn nobody_needed_gives_an_empty_inbox_and_one_row_carries_every_reason() {
    let quiet = [progressing("a"), progressing("b")];
    assert!(inbox(&quiet, &Evidence::rollouts_only()).is_empty());
    // Paused at the gate and auto waiting: one row, the gate first, auto's words after it.
    let mut both = waiting("both", "2026-11-22T01:52:10Z");
    both.auto_status = Some("waiting for approval: marginal verdict, score 70".into());
    let rows = inbox([&both], &Evidence::rollouts_only());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, NeedKind::WaitingForApproval);
    assert_eq!(
        rows[0].text(),
        "waiting for approval at step 1/8 (20%); auto: waiting for approval — marginal \
         verdict, score 70"
    );
    // A failing verdict after the abort is no longer "while it takes traffic".
    let gone = aborted("gone", None);
    let fail = |_: &RolloutRef| {
        Some(Judgement {
            kind: VerdictKind::Fail,
            score: 5.0,
        })
    };
    let evidence = Evidence {
        verdict: &fail,
        metrics_stale_since: &|_| Some(0.0),
    };
    let rows = inbox([&gone], &evidence);
    assert_eq!(rows[0].kind, NeedKind::Aborted);
    assert_eq!(rows[0].needs.len(), 1, "{:?}", rows[0].needs);
    assert_eq!(
        rows[0].text(),
        "aborted: RolloutAborted: Rollout aborted update to revision 4"
    );
}

#[test]
fn blue_green_and_manual_pauses_and_inconclusive_analyses_say_what_they_wait_for() {
    let mut manual = progressing("manual");
    manual.paused = true;
    let mut inconclusive = waiting("inconclusive", "2026-11-22T01:00:00Z");
    inconclusive.pause_reasons = vec!["InconclusiveAnalysisRun".into()];
    let mut blue = progressing("blue");
    blue.strategy = StrategyKind::BlueGreen;
    blue.pause_reasons = vec!["BlueGreenPause".into()];
    blue.active_hash = Some("aaa".into());
    blue.current_hash = Some("bbb".into());
    blue.preview_hash = Some("bbb".into());
    let rows = inbox([&manual, &inconclusive, &blue], &Evidence::rollouts_only());
    let text: HashMap<&str, String> = rows
        .iter()
        .map(|r| (r.rollout.name.as_str(), r.text()))
        .collect();
    assert_eq!(text["manual"], "paused by hand: Resume to continue");
    assert_eq!(
        text["inconclusive"],
        "analysis inconclusive at step 1/8: approve or roll back"
    );
    assert_eq!(text["blue"], "waiting for promotion: preview bbb");
    let json = serde_json::to_value(&rows[0]).expect("json");
    assert_eq!(json["kind"], "waiting-for-approval", "{json}");
    assert_eq!(json["context"], "lab-admin", "{json}");
}
