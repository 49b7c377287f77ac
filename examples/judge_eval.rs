//! The canary judge evaluated as `auto` runs it: many seeds of one scenario, judged by the
//! statistical judge and by the naive peer on the same seeds, one machine-readable line each
//! (see `analysis::eval_summary`), on the lab's own traffic or on synthetic series.
//!
//! `cargo run --release --example judge_eval -- --scenario latency-regression --seeds 50
//! [--source lab|synthetic] [--rate RPS] [--step 1s] [--rate-window 1s] [--judge-every 5s]`
//! Scenarios: noisy-healthy, error-spike, latency-regression, blue-green (the lab's `payments`
//! preview judged against its active version; lab source only). `--rate`: the service's
//! requests per second (lab), or each version's (synthetic, default 3). Each line also says
//! how long the first latency verdict (pass or fail) took: `latency_verdict_s_*`.
//! Exit 2 on bad arguments.

use release_cockpit::analysis::JudgeKind;
use release_cockpit::analysis::Policy;
use release_cockpit::analysis::eval_summary::{Summary, summarize};
use release_cockpit::analysis::evaluate::{self, Scenario};
use release_cockpit::analysis::lab_eval::{LabRunSettings, SCENARIOS};
use std::process::ExitCode;

const USAGE: &str = "usage: judge_eval --scenario noisy-healthy|error-spike|latency-regression|blue-green \
    --seeds N [--source lab|synthetic] [--rate RPS] [--step 1s] [--rate-window 1s] [--judge-every 5s]";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(settings) => evaluate(settings),
        Err(e) => {
            eprintln!("judge_eval: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Source {
    Lab,
    Synthetic,
}

struct Args {
    scenario: &'static str,
    source: Source,
    seeds: u64,
    rate: Option<f64>,
    step_secs: usize,
    rate_window_secs: usize,
    judge_every_secs: f64,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut scenario = None;
    let mut seeds = None;
    let mut parsed = Args {
        scenario: "",
        source: Source::Lab,
        seeds: 0,
        rate: None,
        step_secs: 1,
        rate_window_secs: 1,
        judge_every_secs: 5.0,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--scenario" => {
                scenario = Some(
                    SCENARIOS
                        .iter()
                        .map(|(s, _)| *s)
                        .find(|s| *s == value)
                        .ok_or_else(|| format!("unknown scenario {value:?}"))?,
                )
            }
            "--source" => {
                parsed.source = match value.as_str() {
                    "lab" => Source::Lab,
                    "synthetic" => Source::Synthetic,
                    _ => return Err(format!("--source {value}: lab or synthetic")),
                }
            }
            "--seeds" => {
                seeds = Some(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=10_000).contains(n))
                        .ok_or_else(|| format!("--seeds {value}: a count from 1 to 10000"))?,
                )
            }
            "--rate" => {
                parsed.rate = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|r| r.is_finite() && *r > 0.0 && *r <= 10_000.0)
                        .ok_or_else(|| {
                            format!("--rate {value}: requests per second, 0 to 10000")
                        })?,
                )
            }
            "--step" => parsed.step_secs = secs(&flag, &value)?,
            "--rate-window" => parsed.rate_window_secs = secs(&flag, &value)?,
            "--judge-every" => parsed.judge_every_secs = secs(&flag, &value)? as f64,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    parsed.scenario = scenario.ok_or("--scenario is required")?;
    parsed.seeds = seeds.ok_or("--seeds is required")?;
    if parsed.source == Source::Synthetic && parsed.scenario == "blue-green" {
        return Err(
            "blue-green is a lab scenario (a preview judged against its active version); \
             use --source lab"
                .into(),
        );
    }
    Ok(parsed)
}

/// "10s" or "10": whole seconds, 1 to 600.
fn secs(flag: &str, value: &str) -> Result<usize, String> {
    value
        .trim_end_matches('s')
        .parse::<usize>()
        .ok()
        .filter(|s| (1..=600).contains(s))
        .ok_or_else(|| format!("{flag} {value}: whole seconds from 1 to 600, e.g. 10s"))
}

fn evaluate(args: Args) -> ExitCode {
    // Healthy canaries from seed 0, bad ones from 1000: the seeds the BENCHMARKS tables used.
    let healthy = matches!(args.scenario, "noisy-healthy" | "blue-green");
    let first = if healthy { 0 } else { 1000 };
    let seeds: Vec<u64> = (first..first + args.seeds).collect();
    for judge in [JudgeKind::Statistical, JudgeKind::Naive] {
        let summary = match args.source {
            Source::Lab => lab(&args, judge, &seeds),
            Source::Synthetic => synthetic(&args, judge, &seeds),
        };
        match summary {
            Ok(summary) => {
                println!("{summary}");
                for note in &summary.false_rollback_notes {
                    eprintln!("  false rollback ({judge:?}): {note}");
                }
            }
            Err(e) => {
                eprintln!("judge_eval: {} could not run: {e}", args.scenario);
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

fn lab(args: &Args, judge: JudgeKind, seeds: &[u64]) -> Result<Summary, String> {
    let settings = LabRunSettings {
        scenario: args.scenario,
        judge,
        policy: Policy::default(),
        judge_every_secs: args.judge_every_secs,
        rate_window_secs: args.rate_window_secs,
        step_secs: args.step_secs,
        requests_per_second: args.rate,
        max_secs: if args.scenario == "noisy-healthy" || args.scenario == "blue-green" {
            1200.0
        } else {
            400.0
        },
    };
    summarize(&settings, seeds)
}

/// The synthetic series of `analysis::evaluate`: each version gets `--rate` requests per
/// second (3 by default), a bad canary turns bad 60 s after it starts.
fn synthetic(args: &Args, judge: JudgeKind, seeds: &[u64]) -> Result<Summary, String> {
    let scenario = match args.scenario {
        "error-spike" => Scenario::ErrorSpike,
        "latency-regression" => Scenario::LatencyRegression,
        _ => Scenario::NoisyHealthy,
    };
    let settings = evaluate::Settings {
        step_secs: args.step_secs as f64,
        requests_per_sec: args.rate.unwrap_or(3.0),
        judge_every_secs: args.judge_every_secs,
        ..evaluate::Settings::default()
    };
    let (from, to) = (seeds[0], seeds[seeds.len() - 1] + 1);
    // Two halves on the machine's two cores, as the lab runs are.
    let halves: Vec<Result<evaluate::Row, String>> = std::thread::scope(|scope| {
        let mid = from + (to - from) / 2;
        let handles = [from..mid, mid..to].map(|range| {
            let settings = &settings;
            scope.spawn(move || {
                evaluate::evaluate(scenario, settings, range, &Policy::default(), judge)
            })
        });
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "an evaluation thread panicked".to_string())
            })
            .collect()
    });
    let mut rows = halves.into_iter();
    let mut row = rows.next().ok_or("no evaluation ran")??;
    for other in rows {
        let other = other?;
        row.runs += other.runs;
        row.false_fails += other.false_fails;
        row.marginal_runs += other.marginal_runs;
        row.detect_secs.extend(other.detect_secs);
        row.false_fail_secs.extend(other.false_fail_secs);
        row.false_fail_reasons.extend(other.false_fail_reasons);
        row.latency_verdict_secs.extend(other.latency_verdict_secs);
    }
    Ok(row.summary())
}
