//! Evaluation harness for the judges on synthetic series: seeded per-interval samples and
//! latency histograms shaped like the lab's scenarios, each judge run the way `auto` runs it
//! (every few seconds on what has arrived so far), measuring time-to-detect and false-fail
//! rates for BENCHMARKS.md (`examples/judge_eval.rs --source synthetic`).

use super::eval_summary::Summary;
use super::{ERROR_RATE, MetricStatus};
use super::{JudgeKind, MetricSeries, P95_MS, Policy, VerdictKind, judge, judge_naive};
use crate::lab::traffic::BUCKETS_MS;
use crate::model::{BucketPoint, Point};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A lab scenario, as far as the judge sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Both versions draw from the same distributions.
    NoisyHealthy,
    /// From `bad_from_secs` on, the canary's error rate is 6%.
    ErrorSpike,
    /// From `bad_from_secs` on, every canary latency is doubled (so its p95 doubles).
    LatencyRegression,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::NoisyHealthy => "noisy-healthy",
            Scenario::ErrorSpike => "error-spike",
            Scenario::LatencyRegression => "latency-regression",
        }
    }

    fn is_bad(self) -> bool {
        self != Scenario::NoisyHealthy
    }
}

/// How the synthetic traffic and the judging loop are shaped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Sample (scrape) step.
    pub step_secs: f64,
    /// Requests per second reaching each version (Poisson).
    pub requests_per_sec: f64,
    /// Healthy error probability per request.
    pub error_rate: f64,
    /// The canary's error probability in `ErrorSpike` once bad.
    pub spike_error_rate: f64,
    /// Log-normal latency: median (ms) and σ of its logarithm.
    pub latency_median_ms: f64,
    pub latency_sigma: f64,
    /// How long the canary runs, and when a bad canary turns bad (both from its first sample).
    pub duration_secs: f64,
    pub bad_from_secs: f64,
    /// How often the judge runs, as the `auto` loop would.
    pub judge_every_secs: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            step_secs: 1.0,
            requests_per_sec: 3.0,
            error_rate: 0.002,
            spike_error_rate: 0.06,
            latency_median_ms: 50.0,
            latency_sigma: 0.4,
            duration_secs: 360.0,
            bad_from_secs: 60.0,
            judge_every_secs: 5.0,
        }
    }
}

/// Where the synthetic clock starts (unix seconds), so timestamps look like real ones.
const T0: f64 = 1_700_000_000.0;

/// Per-interval error rate and p95 for canary and stable over the whole run, seeded.
/// An interval with no request is a gap, as it is in Prometheus.
pub fn generate(scenario: Scenario, settings: &Settings, seed: u64) -> Vec<MetricSeries> {
    let mut rng = StdRng::seed_from_u64(seed);
    let intervals = (settings.duration_secs / settings.step_secs).round() as usize;
    let mut error = MetricSeries {
        name: ERROR_RATE.into(),
        ..MetricSeries::default()
    };
    let mut p95 = MetricSeries {
        name: P95_MS.into(),
        ..MetricSeries::default()
    };
    for i in 1..=intervals {
        let offset = i as f64 * settings.step_secs;
        let t_secs = T0 + offset;
        let bad = scenario.is_bad() && offset > settings.bad_from_secs;
        for canary in [true, false] {
            let (mut p_error, mut slow_factor) = (settings.error_rate, 1.0);
            if canary && bad {
                match scenario {
                    Scenario::ErrorSpike => p_error = settings.spike_error_rate,
                    Scenario::LatencyRegression => slow_factor = 2.0,
                    Scenario::NoisyHealthy => {}
                }
            }
            let (requests, e, l, buckets) = interval(&mut rng, settings, p_error, slow_factor);
            let (es, ls, bs) = if canary {
                (&mut error.canary, &mut p95.canary, &mut p95.canary_buckets)
            } else {
                (
                    &mut error.baseline,
                    &mut p95.baseline,
                    &mut p95.baseline_buckets,
                )
            };
            es.push(Point { t_secs, value: e });
            ls.push(Point { t_secs, value: l });
            bs.push(BucketPoint {
                t_secs,
                le: buckets,
                requests: requests as f64,
            });
            let rate = Point {
                t_secs,
                value: Some(requests as f64 / settings.step_secs),
            };
            for m in [&mut error, &mut p95] {
                if canary {
                    m.canary_requests.push(rate);
                } else {
                    m.baseline_requests.push(rate);
                }
            }
        }
    }
    vec![error, p95]
}

/// One interval of one version: (requests, error rate, p95 ms, latency histogram on the
/// lab's bucket bounds).
type Draw = (usize, Option<f64>, Option<f64>, Vec<(f64, f64)>);

/// One interval of one version drawn, the rates `None` without requests.
fn interval(rng: &mut StdRng, settings: &Settings, p_error: f64, slow_factor: f64) -> Draw {
    let requests = poisson(rng, settings.requests_per_sec * settings.step_secs);
    if requests == 0 {
        return (
            0,
            None,
            None,
            BUCKETS_MS.iter().map(|b| (*b, 0.0)).collect(),
        );
    }
    let errors = (0..requests)
        .filter(|_| rng.random::<f64>() < p_error)
        .count();
    let mut latencies: Vec<f64> = (0..requests)
        .map(|_| {
            let z = standard_normal(rng);
            slow_factor * settings.latency_median_ms * (settings.latency_sigma * z).exp()
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let buckets = BUCKETS_MS
        .iter()
        .map(|b| (*b, latencies.partition_point(|l| l <= b) as f64))
        .collect();
    (
        requests,
        Some(errors as f64 / requests as f64),
        Some(quantile(&latencies, 0.95)),
        buckets,
    )
}

/// Linear-interpolated quantile of sorted values (numpy's default method).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

/// Knuth's Poisson sampler; fine for the small means used here.
fn poisson(rng: &mut StdRng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let mut product = rng.random::<f64>();
    let mut k = 0;
    while product > limit {
        k += 1;
        product *= rng.random::<f64>();
    }
    k
}

/// Box–Muller.
fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// What one run did: when the judge first said Fail (seconds since the canary's start),
/// and when it first said Marginal.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    pub first_fail_secs: Option<f64>,
    pub first_marginal_secs: Option<f64>,
    /// The first verdict that judged latency (pass or fail, not "no data").
    pub first_latency_verdict_secs: Option<f64>,
    /// The failing verdict's headline, for telling why a healthy canary failed.
    pub fail_headline: Option<String>,
}

/// Runs one judge on one seeded run, judging every `judge_every_secs` on the samples that have
/// arrived so far, stopping at the first Fail (that is where `auto` aborts).
pub fn run_once(
    scenario: Scenario,
    settings: &Settings,
    seed: u64,
    policy: &Policy,
    judge_kind: JudgeKind,
) -> RunOutcome {
    let full = generate(scenario, settings, seed);
    let mut outcome = RunOutcome {
        first_fail_secs: None,
        first_marginal_secs: None,
        first_latency_verdict_secs: None,
        fail_headline: None,
    };
    let mut now = settings.judge_every_secs;
    while now <= settings.duration_secs + 1e-9 {
        let cut = T0 + now;
        let so_far: Vec<MetricSeries> = full
            .iter()
            .map(|m| {
                let upto = |points: &[Point]| -> Vec<Point> {
                    points
                        .iter()
                        .take_while(|p| p.t_secs <= cut)
                        .copied()
                        .collect()
                };
                let buckets_upto = |points: &[BucketPoint]| -> Vec<BucketPoint> {
                    points
                        .iter()
                        .take_while(|p| p.t_secs <= cut)
                        .cloned()
                        .collect()
                };
                MetricSeries {
                    name: m.name.clone(),
                    canary: upto(&m.canary),
                    baseline: upto(&m.baseline),
                    canary_requests: upto(&m.canary_requests),
                    baseline_requests: upto(&m.baseline_requests),
                    canary_buckets: buckets_upto(&m.canary_buckets),
                    baseline_buckets: buckets_upto(&m.baseline_buckets),
                    sample_span_secs: m.sample_span_secs,
                }
            })
            .collect();
        let verdict = match judge_kind {
            JudgeKind::Statistical => judge(&so_far, policy),
            JudgeKind::Naive => judge_naive(&so_far, policy),
        };
        let latency_judged = verdict
            .metrics
            .iter()
            .any(|m| m.name == P95_MS && m.status != MetricStatus::NoData);
        if latency_judged && outcome.first_latency_verdict_secs.is_none() {
            outcome.first_latency_verdict_secs = Some(now);
        }
        match verdict.kind {
            VerdictKind::Fail => {
                outcome.first_fail_secs = Some(now);
                outcome.fail_headline = Some(verdict.headline());
                return outcome;
            }
            VerdictKind::Marginal if outcome.first_marginal_secs.is_none() => {
                outcome.first_marginal_secs = Some(now)
            }
            _ => {}
        }
        now += settings.judge_every_secs;
    }
    outcome
}

/// One row of the evaluation: a scenario, a judge, many seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub scenario: Scenario,
    /// Which policy: "default" unless the caller names its variant.
    pub policy: String,
    pub judge: JudgeKind,
    pub requests_per_sec: f64,
    pub runs: usize,
    /// Runs that failed while the canary was still healthy (all of a healthy run; before
    /// `bad_from_secs` for a bad one).
    pub false_fails: usize,
    /// Runs that ever showed Marginal before failing (a human would have been asked).
    pub marginal_runs: usize,
    /// Seconds from the canary going bad to the first Fail, for bad runs that were caught.
    pub detect_secs: Vec<f64>,
    /// Seconds from the canary's start to a Fail while it was still healthy.
    pub false_fail_secs: Vec<f64>,
    /// Seed and headline of each false fail.
    pub false_fail_reasons: Vec<(u64, String)>,
    /// Seconds from the canary's start to its first latency verdict, per run that had one.
    pub latency_verdict_secs: Vec<f64>,
}

/// Runs `seeds` with one judge on one scenario.
pub fn evaluate(
    scenario: Scenario,
    settings: &Settings,
    seeds: std::ops::Range<u64>,
    policy: &Policy,
    judge_kind: JudgeKind,
) -> Row {
    let mut row = Row {
        scenario,
        policy: "default".into(),
        judge: judge_kind,
        requests_per_sec: settings.requests_per_sec,
        runs: 0,
        false_fails: 0,
        marginal_runs: 0,
        detect_secs: Vec::new(),
        false_fail_secs: Vec::new(),
        false_fail_reasons: Vec::new(),
        latency_verdict_secs: Vec::new(),
    };
    for seed in seeds {
        let outcome = run_once(scenario, settings, seed, policy, judge_kind);
        row.runs += 1;
        row.latency_verdict_secs
            .extend(outcome.first_latency_verdict_secs);
        if outcome.first_marginal_secs.is_some() {
            row.marginal_runs += 1;
        }
        match outcome.first_fail_secs {
            Some(t) if scenario.is_bad() && t > settings.bad_from_secs => {
                row.detect_secs.push(t - settings.bad_from_secs)
            }
            Some(t) => {
                row.false_fails += 1;
                row.false_fail_secs.push(t);
                let headline = outcome.fail_headline.unwrap_or_default();
                row.false_fail_reasons.push((seed, headline));
            }
            None => {}
        }
    }
    row
}

impl Row {
    /// The row as the evaluation's one machine-readable line (the lab runs' format): a fail
    /// is the rollback, "healthy" counts healthy runs never failed.
    pub fn summary(&self) -> Summary {
        let mut detect_secs = self.detect_secs.clone();
        detect_secs.sort_by(f64::total_cmp);
        let mut latency_verdict_secs = self.latency_verdict_secs.clone();
        latency_verdict_secs.sort_by(f64::total_cmp);
        Summary {
            scenario: self.scenario.as_str(),
            judge: self.judge,
            seeds: self.runs,
            caught: self.detect_secs.len(),
            false_rollbacks: self.false_fails,
            healthy: if self.scenario.is_bad() {
                0
            } else {
                self.runs - self.false_fails
            },
            marginal: self.marginal_runs,
            detect_secs,
            no_latency_verdict: self.runs - latency_verdict_secs.len(),
            latency_verdict_secs,
            false_rollback_notes: self
                .false_fail_reasons
                .iter()
                .take(3)
                .map(|(seed, why)| format!("seed {seed}: {why}"))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
