//! Evaluation of the judges on the lab's own traffic: a scenario's rollout, the lab's Argo
//! controller and traffic model ticked in simulated time (1 s a tick, no wall clock), sampled
//! as the direct-scrape source samples `/metrics`, judged and acted on as `auto`.
//!
//! Each tick: the controller reconciles, the traffic flows for 1 s, `/metrics` is rendered and
//! parsed, and the counter increases of the last `rate_window_secs` become one sample and one
//! latency histogram interval per version (the scrape source's own `increases`, `signals` and
//! `bucket_points`). Every `judge_every_secs` the
//! [`AutoLoop`] decides on the verdict; its promotes and aborts are applied to the rollout as
//! the orchestrator's own patches.

use super::auto::{AutoLoop, AutoSettings, Decision, Ending};
use super::{
    JudgeKind, MetricSeries, MetricStatus, P95_MS, Policy, VerdictKind, judge, judge_naive,
    metric_series, with_latency_buckets,
};
use crate::lab::controller::reconcile;
use crate::lab::scenario;
use crate::lab::traffic::Traffic;
use crate::metrics::exposition::parse_exposition;
use crate::metrics::response::Labels;
use crate::metrics::scrape::{
    Group, Increases, ScrapeLayout, ScrapeSource, bucket_points, signals,
};
use crate::metrics::source::Target;
use crate::model::{BucketSeries, Point, Rollout, RolloutRef, RolloutView, VersionSeries};
use crate::orchestrator::{PatchBody, plan_promote};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How one run is made and judged.
#[derive(Clone, Debug)]
pub struct LabRunSettings {
    /// A scenario of [`SCENARIOS`].
    pub scenario: &'static str,
    pub judge: JudgeKind,
    pub policy: Policy,
    /// `auto --interval`.
    pub judge_every_secs: f64,
    /// The rate window of each sample (1: per-interval samples; 60: like `rate(...[1m])`).
    pub rate_window_secs: usize,
    /// Seconds between samples (1: every scrape; equal to the rate window: non-overlapping).
    pub step_secs: usize,
    /// Overrides the scenario's request rate (requests per simulated second).
    pub requests_per_second: Option<f64>,
    /// Stop after this much simulated time.
    pub max_secs: f64,
}

/// What happened in one run, times in seconds from the canary's first traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct LabRunOutcome {
    /// When the canary went bad (the spike's `afterSecs`; 0 for a regression from the start);
    /// `None` for a healthy canary.
    pub bad_from_secs: Option<f64>,
    /// The abort decision, and its headline.
    pub abort_secs: Option<f64>,
    pub abort_headline: Option<String>,
    /// Reached Healthy (fully promoted by `auto`).
    pub healthy_secs: Option<f64>,
    /// The first verdict with a latency finding, pass or fail (not "no data").
    pub latency_verdict_secs: Option<f64>,
    pub promotes: usize,
    pub marginal_verdicts: usize,
}

/// The scenarios the evaluation runs, and the rollout each judges: `checkout`'s canary, or
/// for `blue-green` `payments`'s preview against its active version.
pub const SCENARIOS: [(&str, &str); 4] = [
    ("noisy-healthy", "checkout"),
    ("error-spike", "checkout"),
    ("latency-regression", "checkout"),
    ("blue-green", "payments"),
];

const COUNTERS: [&str; 2] = [
    "istio_requests_total",
    "istio_request_duration_milliseconds_bucket",
];

/// One run of `settings.scenario` with traffic seed `seed`.
pub fn run(settings: &LabRunSettings, seed: u64) -> Result<LabRunOutcome, String> {
    let name = SCENARIOS
        .iter()
        .find(|(s, _)| *s == settings.scenario)
        .map(|(_, rollout)| *rollout)
        .ok_or_else(|| {
            let known: Vec<&str> = SCENARIOS.iter().map(|(s, _)| *s).collect();
            format!(
                "the evaluation has no scenario {:?}; known: {}",
                settings.scenario,
                known.join(", ")
            )
        })?;
    let mut objects = scenario::seed(settings.scenario)?;
    let mut rollout = take(&mut objects, "Rollout", name)?;
    if let Some(rate) = settings.requests_per_second {
        rollout["metadata"]["annotations"][crate::lab::traffic::RATE_ANNOTATION] =
            Value::from(rate.to_string());
    }
    let mut replica_sets: Vec<Value> = objects
        .into_iter()
        .filter(|o| o["kind"] == "ReplicaSet")
        .collect();
    let context = "lab-eval";
    let reference = RolloutRef::new(context, scenario::NAMESPACE, name);
    let source = ScrapeSource::new(
        "http://127.0.0.1:1/metrics",
        ScrapeLayout::istio("rollouts_pod_template_hash"),
        Duration::from_secs(1),
    )
    .map_err(|e| e.to_string())?;

    let mut traffic = Traffic::new(seed);
    let start = jiff::Timestamp::now();
    let mut previous: Option<HashMap<(String, Labels), f64>> = None;
    let mut recent: VecDeque<HashMap<Group, Increases>> = VecDeque::new();
    let mut store: Vec<VersionSeries> = Vec::new();
    let mut histograms: Vec<BucketSeries> = Vec::new();
    let mut canary_from: Option<f64> = None;
    let mut auto: Option<AutoLoop> = None;
    let mut outcome = LabRunOutcome {
        bad_from_secs: None,
        abort_secs: None,
        abort_headline: None,
        healthy_secs: None,
        latency_verdict_secs: None,
        promotes: 0,
        marginal_verdicts: 0,
    };
    let step = settings.step_secs.max(1);
    let window_ticks = (settings.policy.window_secs as usize / step).max(1) + 2;
    let mut next_judge = 0.0;

    for tick in 0..=(settings.max_secs as i64) {
        let t = tick as f64;
        let now = start
            .checked_add(jiff::SignedDuration::from_secs(tick))
            .map_err(|e| e.to_string())?;
        if let Some(done) = reconcile(&rollout, now, 1.0) {
            rollout["status"] = done.status;
            if let Some(annotations) = done.metadata_annotations {
                for (k, v) in annotations {
                    rollout["metadata"]["annotations"][k] = v;
                }
            }
            for rs in done.replica_sets {
                let name = rs["metadata"]["name"].clone();
                match replica_sets
                    .iter_mut()
                    .find(|r| r["metadata"]["name"] == name)
                {
                    Some(old) => *old = rs,
                    None => replica_sets.push(rs),
                }
            }
        }
        traffic.tick(std::slice::from_ref(&rollout), &replica_sets, now, 1.0);

        let typed: Rollout = serde_json::from_value(rollout.clone()).map_err(|e| e.to_string())?;
        let view = RolloutView::from_rollout(context, &typed);
        let counters = counters(&traffic.render())?;
        if let Some(before) = &previous {
            recent.push_back(source.increases(before, &counters));
            while recent.len() > settings.rate_window_secs.max(1) {
                recent.pop_front();
            }
            let target = Target {
                rollout: reference.clone(),
                versions: view.versions(),
            };
            if (tick as usize).is_multiple_of(step) {
                let summed = sum(&recent);
                let targets = [target];
                for sp in signals(&summed, &targets, t, recent.len() as f64) {
                    push(&mut store, sp.version, sp.signal, sp.point, window_ticks);
                }
                // Histogram intervals do not overlap: the step's own ticks only.
                let fresh = sum(&recent
                    .iter()
                    .rev()
                    .take(step)
                    .cloned()
                    .collect::<VecDeque<_>>());
                for b in bucket_points(&fresh, &targets, t) {
                    push_buckets(&mut histograms, b.version, b.point, window_ticks);
                }
            }
        }
        previous = Some(counters);

        // A canary is under test once it takes traffic; a blue-green preview once it exists
        // (it takes no user traffic in the lab).
        let blue_green = view.strategy == crate::model::StrategyKind::BlueGreen;
        if view.in_progress() && (view.actual_weight > 0 || blue_green) && canary_from.is_none() {
            canary_from = Some(t);
            outcome.bad_from_secs = match settings.scenario {
                "error-spike" => Some(30.0),
                "latency-regression" => Some(0.0),
                _ => None,
            };
            auto = Some(AutoLoop::new(
                AutoSettings {
                    dwell_secs: settings.policy.window_secs,
                    no_data_limit_secs: 600.0,
                    timeout_secs: settings.max_secs,
                },
                t,
            ));
            next_judge = t + settings.judge_every_secs;
        }
        let (Some(from), Some(auto)) = (canary_from, auto.as_mut()) else {
            continue;
        };
        if t + 1e-9 < next_judge {
            continue;
        }
        next_judge += settings.judge_every_secs;
        let versions = view.versions();
        let current: Vec<VersionSeries> = store
            .iter()
            .filter(|s| versions.contains(&s.version))
            .cloned()
            .collect();
        let mut metrics: Vec<MetricSeries> = metric_series(&current, &[]);
        let current: Vec<BucketSeries> = histograms
            .iter()
            .filter(|s| versions.contains(&s.version))
            .cloned()
            .collect();
        with_latency_buckets(&mut metrics, &current);
        let verdict = match settings.judge {
            JudgeKind::Statistical => judge(&metrics, &settings.policy),
            JudgeKind::Naive => judge_naive(&metrics, &settings.policy),
        };
        let latency_judged = verdict
            .metrics
            .iter()
            .any(|m| m.name == P95_MS && m.status != MetricStatus::NoData);
        if latency_judged && outcome.latency_verdict_secs.is_none() {
            outcome.latency_verdict_secs = Some(t - from);
        }
        if verdict.kind == VerdictKind::Marginal {
            outcome.marginal_verdicts += 1;
        }
        match auto.decide(&view, Some(&verdict), t) {
            Decision::Abort { why, .. } => {
                outcome.abort_secs = Some(t - from);
                outcome.abort_headline = Some(why);
                return Ok(outcome);
            }
            Decision::Promote { pin, .. } => {
                let plan = plan_promote(&reference, &typed, Some(&pin), false)
                    .map_err(|e| e.to_string())?;
                for patch in plan.patches {
                    apply(&mut rollout, &patch.body)?;
                }
                outcome.promotes += 1;
            }
            Decision::Done(Ending::Healthy) => {
                outcome.healthy_secs = Some(t - from);
                return Ok(outcome);
            }
            Decision::Done(_) => return Ok(outcome),
            Decision::Wait { .. } => {}
        }
    }
    Ok(outcome)
}

fn take(objects: &mut Vec<Value>, kind: &str, name: &str) -> Result<Value, String> {
    let i = objects
        .iter()
        .position(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .ok_or_else(|| format!("the scenario has no {kind} {name}"))?;
    Ok(objects.remove(i))
}

fn counters(text: &str) -> Result<HashMap<(String, Labels), f64>, String> {
    Ok(parse_exposition(text)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| COUNTERS.contains(&s.name.as_str()))
        .filter(|s| s.labels.get("reporter").map(String::as_str) == Some("destination"))
        .map(|s| ((s.name, s.labels), s.value))
        .collect())
}

/// The increases of the last few ticks summed per group (bucket by bucket).
fn sum(parts: &VecDeque<HashMap<Group, Increases>>) -> HashMap<Group, Increases> {
    let mut out: HashMap<Group, Increases> = HashMap::new();
    for part in parts {
        for (group, inc) in part {
            let total = out.entry(group.clone()).or_default();
            total.requests += inc.requests;
            total.errors += inc.errors;
            for (le, count) in &inc.buckets {
                match total.buckets.iter_mut().find(|(l, _)| l == le) {
                    Some((_, c)) => *c += count,
                    None => total.buckets.push((*le, *count)),
                }
            }
        }
    }
    for inc in out.values_mut() {
        inc.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

fn push(
    store: &mut Vec<VersionSeries>,
    version: crate::model::Version,
    signal: crate::model::Signal,
    point: Point,
    keep: usize,
) {
    let series = match store
        .iter()
        .position(|s| s.version == version && s.signal == signal)
    {
        Some(i) => &mut store[i],
        None => {
            store.push(VersionSeries {
                version,
                signal,
                points: Vec::new(),
            });
            let last = store.len() - 1;
            &mut store[last]
        }
    };
    series.points.push(point);
    if series.points.len() > keep {
        let extra = series.points.len() - keep;
        series.points.drain(..extra);
    }
}

fn push_buckets(
    store: &mut Vec<BucketSeries>,
    version: crate::model::Version,
    point: crate::model::BucketPoint,
    keep: usize,
) {
    let series = match store.iter().position(|s| s.version == version) {
        Some(i) => &mut store[i],
        None => {
            store.push(BucketSeries {
                version,
                points: Vec::new(),
            });
            let last = store.len() - 1;
            &mut store[last]
        }
    };
    series.points.push(point);
    if series.points.len() > keep {
        let extra = series.points.len() - keep;
        series.points.drain(..extra);
    }
}

fn apply(rollout: &mut Value, body: &PatchBody) -> Result<(), String> {
    match body {
        PatchBody::Merge(patch) => {
            json_patch::merge(rollout, patch);
            Ok(())
        }
        PatchBody::Json(ops) => {
            let ops: json_patch::Patch =
                serde_json::from_value(Value::Array(ops.clone())).map_err(|e| e.to_string())?;
            json_patch::patch(rollout, &ops).map_err(|e| e.to_string())
        }
        PatchBody::Post(_) => Err("a POST to a service changes no rollout".to_string()),
    }
}

#[cfg(test)]
#[path = "lab_eval_tests.rs"]
mod tests;
