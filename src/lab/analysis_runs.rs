//! The lab's AnalysisRuns, run as Argo's controller runs them: a background run for a canary
//! whose spec has `analysis`, a run per `analysis` step, each metric measured every interval
//! from the lab's own traffic counters (the numbers `/metrics` exports) and judged by its
//! successCondition / failureCondition and limits; a failed run aborts the rollout.
//!
//! The lab measures one thing, the canary's 5xx ratio since the previous measurement,
//! whatever the template's provider says; conditions of the form `result[0] > 0.05`
//! (`>`, `>=`, `<`, `<=`, `==`) are understood. The first measurement comes one interval after
//! the run starts (there is no traffic to measure before). A retried rollout is not analysed
//! again for the same revision.

use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::controller::{REVISION_ANNOTATION, RolloutEvent, parse_duration};
use super::kind::Kind;
use super::store::{Part, Store};
use super::traffic::Traffic;

/// Measurements kept per metric, as Argo's default `measurementRetention`.
const KEPT_MEASUREMENTS: usize = 10;
/// Label Argo puts on runs: `Background` or `Step`.
pub const ROLLOUT_TYPE_LABEL: &str = "rollout-type";
/// The lab's exact start time of a run (`status.startedAt` has whole seconds).
const STARTED_ANNOTATION: &str = "lab.release-cockpit.io/started-at";
/// Argo's default `consecutiveErrorLimit`.
const DEFAULT_CONSECUTIVE_ERROR_LIMIT: i64 = 4;

/// An Event to record on `object` (a Rollout or an AnalysisRun).
pub struct Recorded {
    pub object: Value,
    pub event: RolloutEvent,
}

/// Which run of a rollout: its name, its kind and the templates/args it comes from.
struct Wanted {
    name: String,
    background: bool,
    analysis: Value,
    step: Option<i64>,
}

/// One pass over every canary rollout with analysis: start the runs that should exist, take
/// the measurements that are due, finish runs and tell the rollout. Returns the Events.
pub fn tick(store: &Store, traffic: &Mutex<Traffic>, now: Timestamp, speed: f64) -> Vec<Recorded> {
    let mut recorded = Vec::new();
    let (rollouts, _) = store.list(Kind::Rollout, None);
    for rollout in &rollouts {
        for wanted in wanted_runs(rollout) {
            run_one(store, traffic, rollout, &wanted, now, speed, &mut recorded);
        }
    }
    recorded
}

/// The runs Argo would have for `rollout` now: the background run while a canary update is
/// in progress, the step run while the current step is an analysis step.
fn wanted_runs(rollout: &Value) -> Vec<Wanted> {
    let canary = &rollout["spec"]["strategy"]["canary"];
    let status = &rollout["status"];
    let name = rollout["metadata"]["name"].as_str().unwrap_or_default();
    let (Some(hash), Some(stable)) = (
        status["currentPodHash"].as_str(),
        status["stableRS"].as_str(),
    ) else {
        return Vec::new();
    };
    if hash == stable || canary.is_null() {
        return Vec::new();
    }
    let revision = rollout["metadata"]["annotations"][REVISION_ANNOTATION]
        .as_str()
        .unwrap_or("1");
    let mut wanted = Vec::new();
    if canary["analysis"]["templates"]
        .as_array()
        .is_some_and(|t| !t.is_empty())
    {
        wanted.push(Wanted {
            name: format!("{name}-{hash}-{revision}"),
            background: true,
            analysis: canary["analysis"].clone(),
            step: None,
        });
    }
    if let Some(index) = status["currentStepIndex"].as_i64() {
        let step = &canary["steps"][usize::try_from(index).unwrap_or(usize::MAX)];
        if step["analysis"].is_object() {
            wanted.push(Wanted {
                name: format!("{name}-{hash}-{revision}-{index}"),
                background: false,
                analysis: step["analysis"].clone(),
                step: Some(index),
            });
        }
    }
    wanted
}

fn run_one(
    store: &Store,
    traffic: &Mutex<Traffic>,
    rollout: &Value,
    wanted: &Wanted,
    now: Timestamp,
    speed: f64,
    recorded: &mut Vec<Recorded>,
) {
    let namespace = rollout["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let aborted = rollout["status"]["abort"] == true;
    let run = match store.get(Kind::AnalysisRun, namespace, &wanted.name) {
        Some(run) => run,
        None if aborted => return,
        None => {
            let Some(run) = new_run(store, rollout, wanted, now) else {
                return;
            };
            match store.create(Kind::AnalysisRun, run) {
                Ok(created) => {
                    tell_rollout(store, rollout, wanted, &created);
                    created
                }
                Err(e) => {
                    tracing::warn!(
                        "lab analysis could not create AnalysisRun {namespace}/{}: {e}",
                        wanted.name
                    );
                    return;
                }
            }
        }
    };
    if run["status"]["phase"] != "Running" {
        return;
    }
    let mut status = run["status"].clone();
    if aborted {
        // Argo terminates the runs of an aborted update.
        status["phase"] = json!("Successful");
        status["message"] = json!("Run Terminated");
    } else {
        let hash = rollout["status"]["currentPodHash"]
            .as_str()
            .unwrap_or_default();
        let name = rollout["metadata"]["name"].as_str().unwrap_or_default();
        let totals = traffic
            .lock()
            .ok()
            .and_then(|t| t.totals(namespace, name, hash));
        if !measure(&run, &mut status, totals, now, speed) {
            return;
        }
    }
    let written = store.update(
        Kind::AnalysisRun,
        namespace,
        &wanted.name,
        Part::Status,
        |current| {
            let mut next = current.clone();
            next["status"] = status.clone();
            Ok::<_, std::convert::Infallible>(next)
        },
    );
    let run = match written {
        Ok(run) => run,
        Err(e) => {
            tracing::warn!(
                "lab analysis could not write AnalysisRun {namespace}/{}: {e}",
                wanted.name
            );
            return;
        }
    };
    let phase = run["status"]["phase"].as_str().unwrap_or_default();
    if phase == "Running" {
        return;
    }
    let rollout = tell_rollout(store, rollout, wanted, &run).unwrap_or_else(|| rollout.clone());
    if aborted {
        return;
    }
    let message = run["status"]["message"].as_str().unwrap_or_default();
    let (type_, reason) = match phase {
        "Successful" => ("Normal", "AnalysisRunSuccessful"),
        "Inconclusive" => ("Warning", "AnalysisRunInconclusive"),
        "Error" => ("Warning", "AnalysisRunError"),
        _ => ("Warning", "AnalysisRunFailed"),
    };
    let kind = if wanted.background { "" } else { "Step " };
    recorded.push(Recorded {
        object: run.clone(),
        event: RolloutEvent {
            type_,
            reason,
            message: if message.is_empty() {
                format!("Analysis run completed: {phase}")
            } else {
                message.to_string()
            },
        },
    });
    recorded.push(Recorded {
        object: rollout,
        event: RolloutEvent {
            type_,
            reason,
            message: format!(
                "{kind}Analysis Run '{}' Status New: '{phase}' Previous: 'Running'",
                wanted.name
            ),
        },
    });
}

/// The run for `wanted`, from its templates (args substituted), shaped as Argo creates it.
fn new_run(store: &Store, rollout: &Value, wanted: &Wanted, now: Timestamp) -> Option<Value> {
    let meta = &rollout["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    let mut metrics = Vec::new();
    let mut template_args: Vec<Value> = Vec::new();
    for reference in wanted.analysis["templates"].as_array()? {
        let template_name = reference["templateName"].as_str().unwrap_or_default();
        let Some(template) = store.get(Kind::AnalysisTemplate, namespace, template_name) else {
            // Every tick would repeat it: debug, not warn.
            tracing::debug!(
                "lab analysis: rollout {namespace}/{} names AnalysisTemplate {template_name:?}, which does not exist; create it in namespace {namespace}",
                meta["name"].as_str().unwrap_or_default()
            );
            return None;
        };
        metrics.extend(
            template["spec"]["metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        template_args.extend(
            template["spec"]["args"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    // The rollout's values fill the templates' args.
    let values = wanted.analysis["args"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut args = Vec::new();
    for arg in template_args {
        let name = arg["name"].as_str().unwrap_or_default();
        let value = values
            .iter()
            .find(|v| v["name"] == name)
            .and_then(|v| v["value"].as_str())
            .or(arg["value"].as_str())
            .unwrap_or_default();
        args.push(json!({"name": name, "value": value}));
    }
    let mut text = Value::Array(metrics).to_string();
    for arg in &args {
        let name = arg["name"].as_str().unwrap_or_default();
        let value = arg["value"].as_str().unwrap_or_default();
        text = text.replace(&format!("{{{{args.{name}}}}}"), value);
    }
    let metrics: Value = serde_json::from_str(&text).ok()?;
    let hash = rollout["status"]["currentPodHash"]
        .as_str()
        .unwrap_or_default();
    let mut labels = json!({
        super::controller::POD_TEMPLATE_HASH_LABEL: hash,
        ROLLOUT_TYPE_LABEL: if wanted.background { "Background" } else { "Step" },
    });
    if let Some(step) = wanted.step {
        labels["step-index"] = json!(step.to_string());
    }
    let revision = meta["annotations"][REVISION_ANNOTATION]
        .as_str()
        .unwrap_or("1");
    Some(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": wanted.name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {REVISION_ANNOTATION: revision, STARTED_ANNOTATION: now.to_string()},
            "ownerReferences": [{
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "name": meta["name"],
                "uid": meta["uid"],
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {"metrics": metrics, "args": args},
        "status": {"phase": "Running", "startedAt": whole_seconds(now)},
    }))
}

/// Writes the run's phase into the rollout's `status.canary` (and `abort` when a run failed),
/// as Argo's controller does. Returns the rollout as written.
fn tell_rollout(store: &Store, rollout: &Value, wanted: &Wanted, run: &Value) -> Option<Value> {
    let meta = &rollout["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    let phase = run["status"]["phase"].as_str().unwrap_or("Pending");
    let mut summary = json!({"name": wanted.name, "status": phase});
    if let Some(message) = run["status"]["message"].as_str().filter(|m| !m.is_empty()) {
        summary["message"] = json!(message);
    }
    let key = if wanted.background {
        "currentBackgroundAnalysisRunStatus"
    } else {
        "currentStepAnalysisRunStatus"
    };
    let fails = matches!(phase, "Failed" | "Error");
    let written = store.update(Kind::Rollout, namespace, name, Part::Status, |current| {
        let mut next = current.clone();
        if !next["status"]["canary"].is_object() {
            next["status"]["canary"] = Value::Object(Map::new());
        }
        next["status"]["canary"][key] = summary.clone();
        if fails && next["status"]["abort"] != true {
            next["status"]["abort"] = json!(true);
        }
        Ok::<_, std::convert::Infallible>(next)
    });
    match written {
        Ok(written) => Some(written),
        Err(e) => {
            tracing::warn!(
                "lab analysis could not write the analysis status of rollout {namespace}/{name}: {e}"
            );
            None
        }
    }
}

/// Takes the measurements due on `run` into `status`, judges each metric and the run.
/// Returns whether anything changed.
fn measure(
    run: &Value,
    status: &mut Value,
    totals: Option<(u64, u64)>,
    now: Timestamp,
    speed: f64,
) -> bool {
    let Some(metrics) = run["spec"]["metrics"].as_array() else {
        return false;
    };
    let started = run["metadata"]["annotations"][STARTED_ANNOTATION]
        .as_str()
        .or(status["startedAt"].as_str())
        .unwrap_or_default()
        .to_string();
    let mut results: Vec<Value> = status["metricResults"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut changed = false;
    for metric in metrics {
        let name = metric["name"].as_str().unwrap_or_default();
        let index = match results.iter().position(|r| r["name"] == name) {
            Some(i) => i,
            None => {
                results.push(
                    json!({"name": name, "phase": "Running", "count": 0, "measurements": []}),
                );
                changed = true;
                results.len() - 1
            }
        };
        let result = &mut results[index];
        if result["phase"] != "Running" {
            continue;
        }
        let measurements = result["measurements"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Kubernetes times are whole seconds; the lab keeps the exact one beside the counters
        // so that a fast lab (`--speed`) measures on time.
        let last = measurements
            .last()
            .and_then(|m| {
                m["metadata"]["measuredAt"]
                    .as_str()
                    .or(m["finishedAt"].as_str())
            })
            .unwrap_or(&started)
            .to_string();
        let interval = metric["interval"]
            .as_str()
            .and_then(parse_duration)
            .unwrap_or(60.0);
        let elapsed = last
            .parse::<Timestamp>()
            .map(|t| now.duration_since(t).as_secs_f64() * speed)
            .unwrap_or(f64::INFINITY);
        if elapsed < interval {
            continue;
        }
        let Some((requests, errors)) = totals else {
            continue;
        };
        let counter = |key: &str| {
            measurements
                .last()
                .and_then(|m| m["metadata"][key].as_str())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (new_requests, new_errors) = (
            requests.saturating_sub(counter("requests")),
            errors.saturating_sub(counter("errors")),
        );
        if new_requests == 0 {
            continue;
        }
        let value = new_errors as f64 / new_requests as f64;
        let at = whole_seconds(now);
        let (phase, message) = assess(metric, value);
        let mut measurement = json!({
            "phase": phase,
            "value": format_value(value),
            "startedAt": at,
            "finishedAt": at,
            "metadata": {
                "requests": requests.to_string(),
                "errors": errors.to_string(),
                "measuredAt": now.to_string(),
            },
        });
        if let Some(message) = message {
            measurement["message"] = json!(message);
        }
        let mut kept = measurements;
        kept.push(measurement);
        if kept.len() > KEPT_MEASUREMENTS {
            kept.drain(..kept.len() - KEPT_MEASUREMENTS);
        }
        result["measurements"] = Value::Array(kept);
        bump(result, "count");
        match phase {
            "Successful" => {
                bump(result, "successful");
                result["consecutiveError"] = json!(0);
            }
            "Failed" => bump(result, "failed"),
            "Inconclusive" => bump(result, "inconclusive"),
            _ => {
                bump(result, "error");
                bump(result, "consecutiveError");
            }
        }
        if let Some((phase, message)) = metric_outcome(metric, result) {
            result["phase"] = json!(phase);
            if let Some(message) = message {
                result["message"] = json!(message);
            }
        }
        changed = true;
    }
    if !changed {
        return false;
    }
    // The run: the worst finished metric decides; it runs while any metric runs.
    let phases: Vec<&str> = results
        .iter()
        .map(|r| r["phase"].as_str().unwrap_or("Running"))
        .collect();
    let worst = ["Failed", "Error", "Inconclusive"]
        .into_iter()
        .find(|p| phases.contains(p));
    let phase = match worst {
        Some(p) => p,
        None if phases.iter().all(|p| *p == "Successful") => "Successful",
        None => "Running",
    };
    if phase != "Running" {
        let message = results
            .iter()
            .find(|r| r["phase"] == phase)
            .and_then(|r| r["message"].as_str())
            .unwrap_or_default()
            .to_string();
        status["phase"] = json!(phase);
        if !message.is_empty() {
            status["message"] = json!(message);
        }
        status["completedAt"] = json!(whole_seconds(now));
    }
    let count_of = |p: &str| phases.iter().filter(|x| **x == p).count();
    let mut summary = json!({"count": phases.len()});
    for (key, p) in [
        ("successful", "Successful"),
        ("failed", "Failed"),
        ("inconclusive", "Inconclusive"),
        ("error", "Error"),
    ] {
        if count_of(p) > 0 {
            summary[key] = json!(count_of(p));
        }
    }
    status["runSummary"] = summary;
    status["metricResults"] = Value::Array(results);
    true
}

fn bump(result: &mut Value, key: &str) {
    let n = result[key].as_i64().unwrap_or(0);
    result[key] = json!(n + 1);
}

/// Argo's `assessMetricStatus`: Failed past the failure limit, Inconclusive past the
/// inconclusive limit, Error past the consecutive error limit, Successful once `count`
/// measurements were taken; `None` while it runs.
fn metric_outcome(metric: &Value, result: &Value) -> Option<(&'static str, Option<String>)> {
    let name = metric["name"].as_str().unwrap_or_default();
    let n = |key: &str| result[key].as_i64().unwrap_or(0);
    let limit = |key: &str, default: i64| metric[key].as_i64().unwrap_or(default);
    let failure_limit = limit("failureLimit", 0);
    let inconclusive_limit = limit("inconclusiveLimit", 0);
    let error_limit = limit("consecutiveErrorLimit", DEFAULT_CONSECUTIVE_ERROR_LIMIT);
    if failure_limit >= 0 && n("failed") > failure_limit {
        let message = format!(
            "Metric \"{name}\" assessed Failed due to failed ({}) > failureLimit ({failure_limit})",
            n("failed")
        );
        return Some(("Failed", Some(message)));
    }
    if inconclusive_limit >= 0 && n("inconclusive") > inconclusive_limit {
        let message = format!(
            "Metric \"{name}\" assessed Inconclusive due to inconclusive ({}) > inconclusiveLimit ({inconclusive_limit})",
            n("inconclusive")
        );
        return Some(("Inconclusive", Some(message)));
    }
    if error_limit >= 0 && n("consecutiveError") > error_limit {
        let message = format!(
            "Metric \"{name}\" assessed Error due to consecutiveErrors ({}) > consecutiveErrorLimit ({error_limit})",
            n("consecutiveError")
        );
        return Some(("Error", Some(message)));
    }
    let count = metric["count"].as_i64().unwrap_or(0);
    (count > 0 && n("count") >= count).then_some(("Successful", None))
}

/// One measurement's phase from the metric's conditions, as Argo judges it: the failure
/// condition wins, then the success condition; neither met → Inconclusive when both are set.
fn assess(metric: &Value, value: f64) -> (&'static str, Option<String>) {
    let success = metric["successCondition"]
        .as_str()
        .filter(|c| !c.is_empty());
    let failure = metric["failureCondition"]
        .as_str()
        .filter(|c| !c.is_empty());
    let judge = |condition: Option<&str>| condition.map(|c| evaluate(c, value)).transpose();
    match (judge(success), judge(failure)) {
        (Err(e), _) | (_, Err(e)) => ("Error", Some(e)),
        (_, Ok(Some(true))) => ("Failed", None),
        (Ok(Some(true)), _) => ("Successful", None),
        (Ok(Some(false)), Ok(None)) => ("Failed", None),
        (Ok(None), Ok(Some(false))) | (Ok(None), Ok(None)) => ("Successful", None),
        (Ok(Some(false)), Ok(Some(false))) => ("Inconclusive", None),
    }
}

/// `result[0] > 0.05` (or `result > 0.05`) for the measured value.
pub fn evaluate(condition: &str, value: f64) -> Result<bool, String> {
    let unsupported = || {
        format!(
            "the lab evaluates conditions like `result[0] > 0.05` only, not {condition:?}; simplify the AnalysisTemplate's condition"
        )
    };
    let rest = condition.trim();
    let rest = rest
        .strip_prefix("result[0]")
        .or_else(|| rest.strip_prefix("result"))
        .ok_or_else(unsupported)?
        .trim_start();
    let (op, number) = [">=", "<=", "==", ">", "<"]
        .into_iter()
        .find_map(|op| rest.strip_prefix(op).map(|n| (op, n.trim())))
        .ok_or_else(unsupported)?;
    let threshold: f64 = number.parse().map_err(|_| unsupported())?;
    Ok(match op {
        ">=" => value >= threshold,
        "<=" => value <= threshold,
        "==" => (value - threshold).abs() < f64::EPSILON,
        ">" => value > threshold,
        _ => value < threshold,
    })
}

/// A ratio as Argo prints a Prometheus scalar: a few significant digits, no trailing zeros.
fn format_value(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".into()
    } else {
        text.to_string()
    }
}

fn whole_seconds(now: Timestamp) -> String {
    Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_limits_judge_as_argo_does() {
        let metric = json!({
            "name": "error-rate", "successCondition": "result[0] <= 0.05",
            "failureCondition": "result[0] > 0.05", "failureLimit": 2, "count": 10,
        });
        assert_eq!(assess(&metric, 0.082).0, "Failed");
        assert_eq!(assess(&metric, 0.002).0, "Successful");
        let strict = json!({"successCondition": "result[0] <= 0.01", "failureCondition": "result[0] >= 0.05"});
        assert_eq!(assess(&strict, 0.02).0, "Inconclusive");
        assert_eq!(
            assess(&json!({"successCondition": "len(result) > 1"}), 0.1).0,
            "Error"
        );
        let result = json!({"count": 4, "failed": 3, "successful": 1});
        let (phase, message) = metric_outcome(&metric, &result).unwrap();
        assert_eq!(phase, "Failed");
        assert_eq!(
            message.unwrap(),
            "Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2)"
        );
        assert_eq!(format_value(0.08203), "0.082");
        assert_eq!(format_value(0.0), "0");
    }

    /// The demo at 200× speed (and 100× the traffic, so that a minute's sample is large):
    /// inventory's background run fails after the spike and aborts it with Argo's words;
    /// catalog's step analysis ends Inconclusive and pauses for a person.
    #[test]
    fn the_demo_fails_inventory_and_leaves_catalog_inconclusive() {
        let store = crate::lab::seeded_store("demo").expect("the demo seeds");
        for name in ["inventory", "catalog"] {
            store
                .update(Kind::Rollout, "demo", name, Part::Main, |current| {
                    let mut next = current.clone();
                    next["metadata"]["annotations"][crate::lab::traffic::RATE_ANNOTATION] =
                        json!("5000");
                    Ok::<_, std::convert::Infallible>(next)
                })
                .expect("the rollout is seeded");
        }
        let traffic = Mutex::new(Traffic::new(7));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (inventory, catalog) = loop {
            crate::lab::run_loop::tick(&store, &traffic, &Default::default(), 200.0);
            let inventory = store.get(Kind::Rollout, "demo", "inventory").unwrap();
            let catalog = store.get(Kind::Rollout, "demo", "catalog").unwrap();
            let done = inventory["status"]["abortedAt"].is_string()
                && catalog["status"]["pauseConditions"][0]["reason"] == "InconclusiveAnalysisRun";
            if done || std::time::Instant::now() > deadline {
                break (inventory, catalog);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let status = &inventory["status"];
        let message = status["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("RolloutAborted: Rollout aborted update to revision 13: Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2)"),
            "{status:#}"
        );
        let run_name = status["canary"]["currentBackgroundAnalysisRunStatus"]["name"]
            .as_str()
            .unwrap();
        let run = store.get(Kind::AnalysisRun, "demo", run_name).unwrap();
        assert_eq!(run["status"]["phase"], "Failed");
        assert_eq!(
            run["metadata"]["ownerReferences"][0]["uid"],
            inventory["metadata"]["uid"]
        );
        assert_eq!(
            run["metadata"]["labels"]["rollouts-pod-template-hash"],
            status["currentPodHash"]
        );
        let result = &run["status"]["metricResults"][0];
        assert_eq!(result["failed"], 3, "{result:#}");
        let last = result["measurements"].as_array().unwrap().last().unwrap();
        assert_eq!(last["phase"], "Failed");
        assert!(last["value"].as_str().unwrap().parse::<f64>().unwrap() > 0.05);
        assert!(last["startedAt"].is_string() && last["finishedAt"].is_string());
        let (events, _) = store.list(Kind::Event, Some("demo"));
        assert!(
            events.iter().any(|e| e["reason"] == "AnalysisRunFailed"
                && e["involvedObject"]["kind"] == "AnalysisRun")
        );
        assert!(events.iter().any(|e| {
            e["reason"] == "RolloutAborted"
                && e["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("failureLimit (2)")
        }));

        let status = &catalog["status"];
        assert_eq!(status["controllerPause"], true, "{status:#}");
        assert_eq!(status["currentStepIndex"], 1);
        let step = &status["canary"]["currentStepAnalysisRunStatus"];
        assert_eq!(step["status"], "Inconclusive", "{status:#}");
    }
}
