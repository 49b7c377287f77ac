use super::*;

fn settings(scenario: &'static str, judge: JudgeKind, rate_window_secs: usize) -> LabRunSettings {
    LabRunSettings {
        scenario,
        judge,
        policy: Policy::default(),
        judge_every_secs: 5.0,
        rate_window_secs,
        step_secs: 1,
        requests_per_second: None,
        max_secs: match scenario {
            "noisy-healthy" => 1200.0,
            _ => 400.0,
        },
    }
}

/// One seed per scenario: the spike and the regression are aborted, the healthy canary is
/// carried to Healthy through its three approval steps.
#[test]
fn lab_traffic_runs_end_as_auto_would() {
    let spike = run(&settings("error-spike", JudgeKind::Statistical, 1), 7).unwrap();
    assert_eq!(spike.bad_from_secs, Some(30.0));
    let at = spike.abort_secs.expect("the spike is aborted");
    assert!(at > 30.0, "aborted at {at} s, before the spike: {spike:?}");

    let slow = run(
        &settings("latency-regression", JudgeKind::Statistical, 1),
        7,
    )
    .unwrap();
    assert!(slow.abort_secs.is_some(), "{slow:?}");
    assert!(
        slow.abort_headline.as_deref().unwrap_or("").contains("p95"),
        "{slow:?}"
    );
}
