//! Many seeds of one lab scenario, judged as `auto` judges ([`super::lab_eval::run`]), tallied
//! into the one machine-readable line `examples/judge_eval.rs` prints: how many bad canaries
//! were caught, how many healthy ones were rolled back, and how long detection took.

use super::JudgeKind;
use super::lab_eval::{LabRunOutcome, LabRunSettings, run};

/// The tally of one scenario over its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub scenario: &'static str,
    pub judge: JudgeKind,
    pub seeds: usize,
    /// Aborted at or after the canary went bad.
    pub caught: usize,
    /// Aborted before the canary went bad, or a healthy canary aborted.
    pub false_rollbacks: usize,
    /// Carried to Healthy.
    pub healthy: usize,
    /// Runs in which the judge said marginal at least once.
    pub marginal: usize,
    /// Seconds from going bad to the abort, per caught run, sorted.
    pub detect_secs: Vec<f64>,
    /// Seconds from the canary's start to the first verdict that judged latency (pass or
    /// fail), per run that had one, sorted; runs without one are `no_latency_verdict`.
    pub latency_verdict_secs: Vec<f64>,
    pub no_latency_verdict: usize,
    /// The first few false rollbacks, in words, to look into.
    pub false_rollback_notes: Vec<String>,
}

/// Runs `seeds` of `settings` on two threads (the machine's two cores) and tallies them.
pub fn summarize(settings: &LabRunSettings, seeds: &[u64]) -> Result<Summary, String> {
    let halves: Vec<Result<Vec<(u64, LabRunOutcome)>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = [0, 1]
            .map(|half| {
                scope.spawn(move || {
                    seeds
                        .iter()
                        .skip(half)
                        .step_by(2)
                        .map(|&seed| run(settings, seed).map(|o| (seed, o)))
                        .collect::<Result<Vec<_>, String>>()
                })
            })
            .into_iter()
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("an evaluation thread panicked".into()))
            })
            .collect()
    });
    let mut outcomes = Vec::new();
    for half in halves {
        outcomes.extend(half?);
    }
    outcomes.sort_by_key(|(seed, _)| *seed);
    Ok(tally(settings, &outcomes))
}

/// The tally of runs already made, in seed order.
pub fn tally(settings: &LabRunSettings, outcomes: &[(u64, LabRunOutcome)]) -> Summary {
    let mut summary = Summary {
        scenario: settings.scenario,
        judge: settings.judge,
        seeds: outcomes.len(),
        caught: 0,
        false_rollbacks: 0,
        healthy: 0,
        marginal: 0,
        detect_secs: Vec::new(),
        latency_verdict_secs: Vec::new(),
        no_latency_verdict: 0,
        false_rollback_notes: Vec::new(),
    };
    for (seed, o) in outcomes {
        match o.latency_verdict_secs {
            Some(t) => summary.latency_verdict_secs.push(t),
            None => summary.no_latency_verdict += 1,
        }
        summary.healthy += usize::from(o.healthy_secs.is_some());
        summary.marginal += usize::from(o.marginal_verdicts > 0);
        match (o.abort_secs, o.bad_from_secs) {
            (Some(at), Some(bad)) if at >= bad => {
                summary.caught += 1;
                summary.detect_secs.push(at - bad);
            }
            (Some(at), _) => {
                summary.false_rollbacks += 1;
                if summary.false_rollback_notes.len() < 3 {
                    summary.false_rollback_notes.push(format!(
                        "seed {seed} at {at:.0} s: {}",
                        o.abort_headline.as_deref().unwrap_or_default()
                    ));
                }
            }
            (None, _) => {}
        }
    }
    summary.detect_secs.sort_by(f64::total_cmp);
    summary.latency_verdict_secs.sort_by(f64::total_cmp);
    summary
}

impl Summary {
    /// The `q` quantile of the detection times (nearest rank), when any run was caught.
    pub fn detect_quantile(&self, q: f64) -> Option<f64> {
        nearest_rank(&self.detect_secs, q)
    }
}

/// The `q` quantile of sorted values by nearest rank; `None` when there are none.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| sorted[((n - 1) as f64 * q).round() as usize])
}

impl std::fmt::Display for Summary {
    /// `scenario=error-spike judge=statistical seeds=50 caught=50 false_rollbacks=0
    /// detect_s_median=15 detect_s_p90=20 detect_s_max=20 healthy=0 marginal=3
    /// latency_verdict_s_median=10 latency_verdict_s_max=15 no_latency_verdict=0`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quantile = |values: &[f64], q: f64| {
            nearest_rank(values, q).map_or_else(|| "none".to_string(), |s| format!("{s:.0}"))
        };
        let secs = |q: f64| quantile(&self.detect_secs, q);
        let judge = match self.judge {
            JudgeKind::Statistical => "statistical",
            JudgeKind::Naive => "naive",
        };
        write!(
            f,
            "scenario={} judge={judge} seeds={} caught={} false_rollbacks={} detect_s_median={} \
             detect_s_p90={} detect_s_max={} healthy={} marginal={} latency_verdict_s_median={} \
             latency_verdict_s_max={} no_latency_verdict={}",
            self.scenario,
            self.seeds,
            self.caught,
            self.false_rollbacks,
            secs(0.5),
            secs(0.9),
            secs(1.0),
            self.healthy,
            self.marginal,
            quantile(&self.latency_verdict_secs, 0.5),
            quantile(&self.latency_verdict_secs, 1.0),
            self.no_latency_verdict,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Policy;

    fn outcome(bad: Option<f64>, abort: Option<f64>) -> LabRunOutcome {
        LabRunOutcome {
            bad_from_secs: bad,
            abort_secs: abort,
            abort_headline: abort.map(|_| "fail, score 0: error rate".into()),
            healthy_secs: abort.is_none().then_some(300.0),
            latency_verdict_secs: abort.map(|_| 10.0),
            promotes: 3,
            marginal_verdicts: 0,
        }
    }

    fn settings(scenario: &'static str, judge: JudgeKind) -> LabRunSettings {
        LabRunSettings {
            scenario,
            judge,
            policy: Policy::default(),
            judge_every_secs: 5.0,
            rate_window_secs: 1,
            step_secs: 1,
            requests_per_second: None,
            max_secs: 400.0,
        }
    }

    #[test]
    fn the_line_counts_catches_false_rollbacks_and_detection_times() {
        let runs = [
            (1, outcome(Some(30.0), Some(45.0))),
            (2, outcome(Some(30.0), Some(50.0))),
            (3, outcome(Some(30.0), Some(20.0))),
            (4, outcome(Some(30.0), None)),
        ];
        let s = tally(&settings("error-spike", JudgeKind::Statistical), &runs);
        assert_eq!(
            s.to_string(),
            "scenario=error-spike judge=statistical seeds=4 caught=2 false_rollbacks=1 \
             detect_s_median=20 detect_s_p90=20 detect_s_max=20 healthy=1 marginal=0 \
             latency_verdict_s_median=10 latency_verdict_s_max=10 no_latency_verdict=1"
        );
        assert_eq!(s.detect_quantile(0.0), Some(15.0));
        assert_eq!(
            s.false_rollback_notes,
            ["seed 3 at 20 s: fail, score 0: error rate"]
        );
        let none = tally(&settings("noisy-healthy", JudgeKind::Naive), &[]);
        assert!(none.to_string().contains("detect_s_median=none"), "{none}");
    }

    /// The smoke run of the evaluation in the suite: two seeds of the spike, both caught by
    /// the statistical judge, on the real lab traffic model.
    #[test]
    fn two_seeds_of_the_error_spike_are_caught() {
        let s = summarize(
            &settings("error-spike", JudgeKind::Statistical),
            &[1000, 1001],
        )
        .expect("runs");
        assert_eq!((s.seeds, s.caught, s.false_rollbacks), (2, 2, 0), "{s}");
        assert!(s.detect_quantile(1.0).is_some_and(|t| t <= 60.0), "{s}");
    }

    /// The same for the latency regression, judged on pooled latency buckets: caught within
    /// the 30 s target, and latency had a verdict from the first judging.
    #[test]
    fn two_seeds_of_the_latency_regression_are_caught_on_buckets() {
        let s = summarize(
            &settings("latency-regression", JudgeKind::Statistical),
            &[1000, 1001],
        )
        .expect("runs");
        assert_eq!((s.seeds, s.caught, s.false_rollbacks), (2, 2, 0), "{s}");
        assert!(s.detect_quantile(1.0).is_some_and(|t| t <= 30.0), "{s}");
        assert_eq!(s.no_latency_verdict, 0, "{s}");
    }
}
