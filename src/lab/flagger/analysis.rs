//! What the simulated Flagger decides for one Canary on one pass, as Flagger's scheduler
//! does each analysis interval: detect a new revision, wait at its confirm-* gates, check
//! the canary's metrics, step the weight, promote, finalise, or roll back.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::lab::controller::{parse_duration, pod_template_hash};
use crate::lab::traffic::Profile;

/// The objects one Canary's pass reads.
pub struct Seen<'a> {
    pub canary: &'a Value,
    /// The target Deployment `NAME` (the new version runs here).
    pub target: &'a Value,
}

/// Asks the Canary's webhooks of one type; `Err` names the first that did not answer 2xx.
pub type Hooks<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// What to write after one pass; `status` is written only when it differs.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub status: Value,
    /// Flagger's Events ("Synced"): (warning, message).
    pub events: Vec<(bool, String)>,
    /// Replicas for the target Deployment.
    pub scale_target: Option<i64>,
    /// Copy the target's pod template to `NAME-primary`.
    pub promote: bool,
    /// The canary's weight on the route.
    pub weight: Option<i64>,
    /// Make what Flagger makes at initialization: `NAME-primary`, its Services and route.
    pub initialize: bool,
}

/// The analysis settings Flagger reads from `spec.analysis`.
#[derive(Debug, PartialEq)]
pub struct Analysis {
    pub interval_secs: f64,
    pub threshold: i64,
    /// The canary weights in order; empty for blue-green and A/B (iterations instead).
    pub ladder: Vec<i64>,
    pub iterations: i64,
    /// `request-success-rate` minimum, in percent.
    pub min_success_percent: Option<f64>,
    /// `request-duration` maximum, in ms (checked against the canary's p95).
    pub max_duration_ms: Option<f64>,
}

impl Analysis {
    pub fn of(canary: &Value) -> Analysis {
        let a = &canary["spec"]["analysis"];
        let int = |key: &str| a[key].as_i64().unwrap_or(0);
        let max_weight = a["maxWeight"].as_i64().unwrap_or(100);
        let ladder = match a["stepWeights"].as_array() {
            Some(weights) if !weights.is_empty() => {
                weights.iter().filter_map(Value::as_i64).collect()
            }
            _ if int("stepWeight") > 0 => {
                let step = int("stepWeight");
                (1..)
                    .map(|i| (i * step).min(max_weight))
                    .take_while(|w| *w < max_weight)
                    .chain([max_weight])
                    .collect()
            }
            _ => Vec::new(),
        };
        let metric = |name: &str, bound: &str| {
            a["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["name"] == name)
                .and_then(|m| m["thresholdRange"][bound].as_f64())
        };
        Analysis {
            interval_secs: a["interval"]
                .as_str()
                .and_then(parse_duration)
                .unwrap_or(60.0),
            threshold: a["threshold"].as_i64().unwrap_or(1).max(1),
            ladder,
            iterations: int("iterations"),
            min_success_percent: metric("request-success-rate", "min"),
            max_duration_ms: metric("request-duration", "max"),
        }
    }
}

/// The phase, weight and counters Flagger keeps in `status`.
fn status_of(canary: &Value) -> (String, i64, i64, i64) {
    let s = &canary["status"];
    (
        s["phase"].as_str().unwrap_or("").to_string(),
        s["canaryWeight"].as_i64().unwrap_or(0),
        s["failedChecks"].as_i64().unwrap_or(0),
        s["iterations"].as_i64().unwrap_or(0),
    )
}

/// One pass for the Canary in `seen`, at `now`, lab time running `speed` times faster.
pub fn decide(seen: &Seen, hooks: Hooks, now: Timestamp, speed: f64) -> Decision {
    let canary = seen.canary;
    let name = canary["metadata"]["name"].as_str().unwrap_or("");
    let namespace = canary["metadata"]["namespace"].as_str().unwrap_or("");
    let id = format!("{name}.{namespace}");
    let mut out = Decision {
        status: canary["status"].clone(),
        ..Decision::default()
    };
    if canary["spec"]["suspend"] == true {
        return out;
    }
    let analysis = Analysis::of(canary);
    let (phase, weight, failed, iterations) = status_of(canary);
    let spec_hash = pod_template_hash(&seen.target["spec"]["template"]);
    let applied = canary["status"]["lastAppliedSpec"].as_str().unwrap_or("");
    let replicas = seen.target["spec"]["replicas"].as_i64().unwrap_or(1);
    let since = canary["status"]["lastTransitionTime"]
        .as_str()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let due = since.is_none_or(|t| {
        now.duration_since(t).as_secs_f64() * speed.max(f64::MIN_POSITIVE) >= analysis.interval_secs
    });
    match phase.as_str() {
        "" | "Initializing" => {
            set(&mut out.status, now, "Initialized", 0, 0, 0);
            out.status["lastAppliedSpec"] = json!(spec_hash);
            out.status["lastPromotedSpec"] = json!(spec_hash);
            out.scale_target = Some(0);
            out.initialize = true;
            out.events
                .push((false, format!("Initialization done! {id}")));
        }
        "Initialized" | "Succeeded" | "Failed" if applied != spec_hash => {
            out.events.push((
                false,
                format!("New revision detected! Scaling up {name}.{namespace}"),
            ));
            out.status["lastAppliedSpec"] = json!(spec_hash);
            out.scale_target = Some(replicas.max(1));
            match hooks("confirm-rollout") {
                Ok(()) => set(&mut out.status, now, "Progressing", 0, 0, 0),
                Err(hook) => {
                    set(&mut out.status, now, "Waiting", 0, 0, 0);
                    out.events.push((
                        false,
                        format!("Halt advancement {id} waiting for approval {hook}"),
                    ));
                }
            }
        }
        // Flagger calls the rollback webhook while waiting for confirmation too.
        "Waiting" if due && has_hook(canary, "rollback") && hooks("rollback").is_ok() => {
            roll_back(&mut out, &id, "manual rollback");
            set(&mut out.status, now, "Failed", 0, failed, iterations);
        }
        "Waiting" if due && hooks("confirm-rollout").is_ok() => {
            out.events
                .push((false, format!("Confirm-rollout check passed {id}")));
            set(&mut out.status, now, "Progressing", 0, 0, 0);
        }
        "Progressing" | "WaitingPromotion" if due => {
            if hooks("rollback").is_ok() && has_hook(canary, "rollback") {
                roll_back(&mut out, &id, "manual rollback");
                set(&mut out.status, now, "Failed", 0, failed, iterations);
                return out;
            }
            if canary["spec"]["skipAnalysis"] == true {
                promoting(&mut out, &id, &format!("{name}-primary.{namespace}"));
                set(
                    &mut out.status,
                    now,
                    "Promoting",
                    weight,
                    failed,
                    iterations,
                );
                return out;
            }
            if let Err(why) = check_metrics(&analysis, seen.target, &id) {
                let failed = failed + 1;
                out.events.push((true, why));
                if failed >= analysis.threshold {
                    let reason = format!("failed checks threshold reached {failed}");
                    roll_back(&mut out, &id, &reason);
                    set(&mut out.status, now, "Failed", 0, failed, iterations);
                } else {
                    set(&mut out.status, now, &phase, weight, failed, iterations);
                }
                return out;
            }
            let next_weight = analysis.ladder.iter().copied().find(|w| *w > weight);
            let more_iterations = analysis.ladder.is_empty() && iterations < analysis.iterations;
            if let Some(next) = next_weight {
                match hooks("confirm-traffic-increase") {
                    Ok(()) => {
                        out.events
                            .push((false, format!("Advance {id} canary weight {next}")));
                        out.weight = Some(next);
                        set(
                            &mut out.status,
                            now,
                            "Progressing",
                            next,
                            failed,
                            iterations,
                        );
                    }
                    Err(hook) => out.events.push((
                        false,
                        format!(
                            "Halt advancement {id} waiting for traffic increase approval {hook}"
                        ),
                    )),
                }
            } else if more_iterations {
                out.events.push((
                    false,
                    format!(
                        "Advance {id} canary iteration {}/{}",
                        iterations + 1,
                        analysis.iterations
                    ),
                ));
                set(
                    &mut out.status,
                    now,
                    "Progressing",
                    weight,
                    failed,
                    iterations + 1,
                );
            } else {
                match hooks("confirm-promotion") {
                    Ok(()) => {
                        out.events
                            .push((false, format!("Confirm-promotion check passed {id}")));
                        promoting(&mut out, &id, &format!("{name}-primary.{namespace}"));
                        set(
                            &mut out.status,
                            now,
                            "Promoting",
                            weight,
                            failed,
                            iterations,
                        );
                    }
                    Err(hook) if phase != "WaitingPromotion" => {
                        out.events.push((
                            false,
                            format!("Halt advancement {id} waiting for approval {hook}"),
                        ));
                        set(
                            &mut out.status,
                            now,
                            "WaitingPromotion",
                            weight,
                            failed,
                            iterations,
                        );
                    }
                    // Still waiting: the checks ran and passed, nothing else changes.
                    Err(_) => {}
                }
            }
        }
        "Promoting" if due => {
            out.events
                .push((false, format!("Routing all traffic to primary {id}")));
            out.weight = Some(0);
            set(&mut out.status, now, "Finalising", 0, failed, iterations);
        }
        "Finalising" if due => {
            out.events.push((
                false,
                format!("Promotion completed! Scaling down {name}.{namespace}"),
            ));
            out.scale_target = Some(0);
            out.status["lastPromotedSpec"] = json!(spec_hash);
            set(&mut out.status, now, "Succeeded", 0, 0, 0);
        }
        _ => {}
    }
    out
}

fn has_hook(canary: &Value, kind: &str) -> bool {
    canary["spec"]["analysis"]["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|h| h["type"] == kind)
}

/// Flagger starts promoting: the canary's template is copied onto `primary` (its
/// `NAME-primary.NAMESPACE`), as its Event says.
fn promoting(out: &mut Decision, id: &str, primary: &str) {
    out.events
        .push((false, format!("Copying {id} template spec to {primary}")));
    out.promote = true;
}

fn roll_back(out: &mut Decision, id: &str, why: &str) {
    out.events.push((true, format!("Rolling back {id} {why}")));
    out.events
        .push((true, format!("Canary failed! Scaling down {id}")));
    out.weight = Some(0);
    out.scale_target = Some(0);
}

/// The canary's metrics against the analysis thresholds, as the lab's traffic serves them
/// (the profile on the target's pod template); `Err` is Flagger's halt message.
fn check_metrics(analysis: &Analysis, target: &Value, id: &str) -> Result<(), String> {
    let profile = Profile::of_template(&target["spec"]["template"]);
    let error_rate = profile
        .spike
        .as_ref()
        .and_then(|s| s.error_rate)
        .unwrap_or(profile.error_rate)
        .max(profile.error_rate);
    let success = 100.0 * (1.0 - error_rate);
    if let Some(min) = analysis.min_success_percent
        && success < min
    {
        return Err(format!(
            "Halt {id} advancement success rate {success:.2}% < {min}%"
        ));
    }
    if let Some(max) = analysis.max_duration_ms
        && profile.latency_ms.p95 > max
    {
        return Err(format!(
            "Halt {id} advancement request duration {:.0}ms > {max}ms",
            profile.latency_ms.p95
        ));
    }
    Ok(())
}

/// Writes the phase, weight, counters, transition time and `Promoted` condition.
fn set(status: &mut Value, now: Timestamp, phase: &str, weight: i64, failed: i64, iterations: i64) {
    status["phase"] = json!(phase);
    status["canaryWeight"] = json!(weight);
    status["failedChecks"] = json!(failed);
    status["iterations"] = json!(iterations);
    status["lastTransitionTime"] = json!(seconds(now));
    let (condition, reason, message) = condition(phase);
    status["conditions"] = json!([{
        "type": "Promoted", "status": condition, "reason": reason, "message": message,
        "lastUpdateTime": seconds(now), "lastTransitionTime": seconds(now),
    }]);
}

/// The `Promoted` condition Flagger keeps for `phase`: status, reason, message.
fn condition(phase: &str) -> (&'static str, &'static str, &'static str) {
    match phase {
        "Initialized" => (
            "True",
            "Initialized",
            "Deployment initialization completed.",
        ),
        "Waiting" => ("Unknown", "Waiting", "Waiting for approval."),
        "WaitingPromotion" => ("Unknown", "WaitingPromotion", "Waiting for approval."),
        "Succeeded" => (
            "True",
            "Succeeded",
            "Canary analysis completed successfully, promotion finished.",
        ),
        "Failed" => (
            "False",
            "Failed",
            "Canary analysis failed, Deployment scaled to zero.",
        ),
        _ => (
            "Unknown",
            "Progressing",
            "New revision detected, progressing canary analysis.",
        ),
    }
}

/// RFC 3339 to the second, as Kubernetes writes times.
pub fn seconds(now: Timestamp) -> String {
    Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
