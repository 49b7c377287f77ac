//! The Kubernetes Events Argo's controller records for a rollout (`RolloutUpdated`,
//! `RolloutStepCompleted`, `TrafficWeightUpdated`, `RolloutPaused`, `RolloutResumed`,
//! `RolloutAborted`, `RolloutCompleted`), found by comparing the status before and after a sync.

use serde_json::Value;

/// One event to record against the rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutEvent {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

fn normal(reason: &'static str, message: String) -> RolloutEvent {
    RolloutEvent {
        type_: "Normal",
        reason,
        message,
    }
}

/// The events for `rollout` (as read, with its old status) moving to `status` at revision
/// `revision`, oldest first.
pub fn events_between(rollout: &Value, status: &Value, revision: u64) -> Vec<RolloutEvent> {
    let old = &rollout["status"];
    let name = rollout["metadata"]["name"].as_str().unwrap_or_default();
    let steps: &[Value] = rollout["spec"]["strategy"]["canary"]["steps"]
        .as_array()
        .map_or(&[], Vec::as_slice);
    let hash = status["currentPodHash"].as_str().unwrap_or_default();
    let mut out = Vec::new();
    let new_revision = old["currentPodHash"] != status["currentPodHash"];
    if new_revision && old["currentPodHash"].is_string() {
        out.push(normal(
            "RolloutUpdated",
            format!("Rollout updated to revision {revision}"),
        ));
        out.push(normal(
            "NewReplicaSetCreated",
            format!("Created ReplicaSet {name}-{hash} (revision {revision})"),
        ));
    }
    // A client sets `abort`; the controller answers with `abortedAt`.
    let aborted = status["abort"] == true;
    if aborted && status["abortedAt"].is_string() && old["abortedAt"].is_null() {
        out.push(RolloutEvent {
            type_: "Warning",
            reason: "RolloutAborted",
            message: abort_message(status, revision),
        });
    }
    // A rollout's first revision skips its steps (no events); an update starts at step 0.
    let from = if new_revision {
        old["currentPodHash"].is_string().then_some(0)
    } else {
        old["currentStepIndex"].as_i64()
    };
    if let (Some(from), Some(to)) = (from, status["currentStepIndex"].as_i64()) {
        for index in from.max(0)..to.min(steps.len() as i64) {
            let step = &steps[index as usize];
            out.push(normal(
                "RolloutStepCompleted",
                format!(
                    "Rollout step {}/{} completed ({})",
                    index + 1,
                    steps.len(),
                    describe_step(step)
                ),
            ));
        }
    }
    let weight = |s: &Value| s["canary"]["weights"]["canary"]["weight"].as_i64();
    if let (Some(from), Some(to)) = (weight(old), weight(status))
        && from != to
    {
        out.push(normal(
            "TrafficWeightUpdated",
            format!("Traffic weight updated from {from} to {to}"),
        ));
    }
    let pause_reason = |s: &Value| {
        s["pauseConditions"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| p["reason"].as_str())
            .map(String::from)
    };
    // A pause at another step is a new pause, even when the sync went from one to the next.
    let moved = old["currentStepIndex"] != status["currentStepIndex"] || new_revision;
    // A promote clears `pauseConditions` itself; the `Paused` condition still says it was.
    let was_paused = pause_reason(old).is_some()
        || old["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Paused" && c["status"] == "True");
    let (paused_before, paused_now) = (was_paused.then_some(()), pause_reason(status));
    if paused_before.is_some() && (paused_now.is_none() || moved) && !aborted {
        out.push(normal("RolloutResumed", "Rollout is resumed".into()));
    }
    if let Some(reason) = paused_now
        && (paused_before.is_none() || moved)
    {
        out.push(normal(
            "RolloutPaused",
            format!("Rollout is paused ({reason})"),
        ));
    }
    let stable = status["stableRS"].as_str();
    if stable.is_some()
        && stable == status["currentPodHash"].as_str()
        && old["stableRS"].is_string()
        && old["stableRS"].as_str() != stable
    {
        let how = if steps.is_empty() {
            "Completed blue-green update".to_string()
        } else {
            format!("Completed all {} canary steps", steps.len())
        };
        out.push(normal(
            "RolloutCompleted",
            format!("Rollout completed update to revision {revision} ({hash}): {how}"),
        ));
    }
    out
}

/// `Rollout aborted update to revision N`, with the failed analysis's message when one
/// caused it (Argo's words: `...: Metric "error-rate" assessed Failed due to ...`).
fn abort_message(status: &Value, revision: u64) -> String {
    let canary = &status["canary"];
    let why = [
        "currentBackgroundAnalysisRunStatus",
        "currentStepAnalysisRunStatus",
    ]
    .iter()
    .map(|key| &canary[*key])
    .find(|run| matches!(run["status"].as_str(), Some("Failed" | "Error")))
    .and_then(|run| run["message"].as_str())
    .filter(|m| !m.is_empty());
    match why {
        Some(why) => format!("Rollout aborted update to revision {revision}: {why}"),
        None => format!("Rollout aborted update to revision {revision}"),
    }
}

/// A step as Argo names it in `RolloutStepCompleted`: `setWeight: 20`, `pause: 30s`, `pause`.
fn describe_step(step: &Value) -> String {
    if let Some(w) = step.get("setWeight") {
        return format!("setWeight: {w}");
    }
    if let Some(pause) = step.get("pause") {
        return match &pause["duration"] {
            Value::String(d) => format!("pause: {d}"),
            Value::Number(n) => format!("pause: {n}s"),
            _ => "pause".into(),
        };
    }
    step.as_object()
        .and_then(|m| m.keys().next().cloned())
        .unwrap_or_else(|| "step".into())
}
