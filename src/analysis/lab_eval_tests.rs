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

fn median_p90_max(values: &mut [f64]) -> String {
    if values.is_empty() {
        return "–".into();
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!("{:.0} / {:.0} / {:.0}", at(0.5), at(0.9), at(1.0))
}

/// The table in BENCHMARKS.md, "Canary judge (lab traffic)". Long: run with
/// `cargo test --lib analysis::lab_eval::tests::lab_traffic_evaluation_table -- --ignored --nocapture`.
/// `LAB_EVAL_SEEDS` (noisy-healthy runs, default 200), `LAB_EVAL_BUSY_SEEDS` (noisy-healthy at
/// 50 req/s, default the same), `LAB_EVAL_BAD_SEEDS` (default 50), `LAB_EVAL_CONFIGS`
/// (`window/step,...`, default `1/1,60/1,10/10`).
#[test]
#[ignore]
fn lab_traffic_evaluation_table() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let healthy_seeds = env("LAB_EVAL_SEEDS", 200);
    let bad_seeds = env("LAB_EVAL_BAD_SEEDS", 50);
    let busy_seeds = env("LAB_EVAL_BUSY_SEEDS", healthy_seeds);
    // (rate window, sample step): per-second samples; rate(...[1m]) sampled every second;
    // non-overlapping 10 s samples.
    let configs: Vec<(usize, usize)> = std::env::var("LAB_EVAL_CONFIGS")
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|c| {
                    let (w, s) = c.split_once('/')?;
                    Some((w.trim().parse().ok()?, s.trim().parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_else(|| vec![(1, 1), (60, 1), (10, 10)]);
    println!(
        "| scenario | req/s | judge | rate window / step | runs | false rollbacks | caught | time to abort median / p90 / max (s) | reached Healthy | runs with a marginal verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (rate_window, step) in configs {
        for judge in [JudgeKind::Statistical, JudgeKind::Naive] {
            for (scenario, rps) in [
                ("noisy-healthy", None),
                ("noisy-healthy", Some(50.0)),
                ("error-spike", None),
                ("latency-regression", None),
            ] {
                let started = std::time::Instant::now();
                let seeds: Vec<u64> = match scenario {
                    "noisy-healthy" if rps.is_some() => (0..busy_seeds).collect(),
                    "noisy-healthy" => (0..healthy_seeds).collect(),
                    _ => (1000..1000 + bad_seeds).collect(),
                };
                let mut s = settings(scenario, judge, rate_window);
                s.step_secs = step;
                s.requests_per_second = rps;
                let (mut false_rollbacks, mut caught, mut healthy, mut marginal) = (0, 0, 0, 0);
                let mut times = Vec::new();
                let mut reasons = Vec::new();
                let halves: Vec<Vec<(u64, LabRunOutcome)>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = [0, 1]
                        .map(|half| {
                            let s = &s;
                            let seeds = &seeds;
                            scope.spawn(move || {
                                seeds
                                    .iter()
                                    .skip(half)
                                    .step_by(2)
                                    .map(|&seed| (seed, run(s, seed).unwrap()))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .into_iter()
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                let mut outcomes: Vec<(u64, LabRunOutcome)> =
                    halves.into_iter().flatten().collect();
                outcomes.sort_by_key(|(seed, _)| *seed);
                for (seed, o) in outcomes {
                    healthy += usize::from(o.healthy_secs.is_some());
                    marginal += usize::from(o.marginal_verdicts > 0);
                    match (o.abort_secs, o.bad_from_secs) {
                        (Some(at), Some(bad)) if at >= bad => {
                            caught += 1;
                            times.push(at - bad);
                        }
                        (Some(at), _) => {
                            false_rollbacks += 1;
                            if reasons.len() < 3 {
                                reasons.push(format!(
                                    "seed {seed} at {at:.0} s: {}",
                                    o.abort_headline.unwrap_or_default()
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                let n = seeds.len();
                let caught_text = if scenario == "noisy-healthy" {
                    "–".to_string()
                } else {
                    format!("{caught}/{n}")
                };
                let rate = rps.map_or("scenario".to_string(), |r| format!("{r:.0}"));
                println!(
                    "| {scenario} | {rate} | {judge:?} | {rate_window} s / {step} s | {n} | {false_rollbacks} ({:.1}%) | {caught_text} | {} | {healthy}/{n} | {marginal} |",
                    100.0 * false_rollbacks as f64 / n as f64,
                    median_p90_max(&mut times),
                );
                for r in reasons {
                    println!(
                        "    false rollback, {scenario} {rate} {judge:?} {rate_window}/{step}: {r}"
                    );
                }
                println!(
                    "    ({scenario} {rate} {judge:?} {rate_window}/{step}: {:.0} s)",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
}
