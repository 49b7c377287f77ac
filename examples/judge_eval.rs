//! The canary judge evaluated on the lab's own traffic, as `auto` runs it: many seeds of one
//! scenario, judged by the statistical judge and by the naive peer on the same seeds, one
//! machine-readable line each (see `analysis::eval_summary`).
//!
//! `cargo run --release --example judge_eval -- --scenario error-spike --seeds 50
//! [--rate RPS] [--step 1s] [--rate-window 1s] [--judge-every 5s]`
//! Scenarios: noisy-healthy, error-spike, latency-regression. Exit 2 on bad arguments.

use release_cockpit::analysis::JudgeKind;
use release_cockpit::analysis::Policy;
use release_cockpit::analysis::eval_summary::summarize;
use release_cockpit::analysis::lab_eval::LabRunSettings;
use std::process::ExitCode;

const SCENARIOS: [&str; 3] = ["noisy-healthy", "error-spike", "latency-regression"];
const USAGE: &str = "usage: judge_eval --scenario noisy-healthy|error-spike|latency-regression \
    --seeds N [--rate RPS] [--step 1s] [--rate-window 1s] [--judge-every 5s]";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(settings) => evaluate(settings),
        Err(e) => {
            eprintln!("judge_eval: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

struct Args {
    scenario: &'static str,
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
                        .into_iter()
                        .find(|s| *s == value)
                        .ok_or_else(|| format!("unknown scenario {value:?}"))?,
                )
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
    let first = if args.scenario == "noisy-healthy" {
        0
    } else {
        1000
    };
    let seeds: Vec<u64> = (first..first + args.seeds).collect();
    for judge in [JudgeKind::Statistical, JudgeKind::Naive] {
        let settings = LabRunSettings {
            scenario: args.scenario,
            judge,
            policy: Policy::default(),
            judge_every_secs: args.judge_every_secs,
            rate_window_secs: args.rate_window_secs,
            step_secs: args.step_secs,
            requests_per_second: args.rate,
            max_secs: if args.scenario == "noisy-healthy" {
                1200.0
            } else {
                400.0
            },
        };
        match summarize(&settings, &seeds) {
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
