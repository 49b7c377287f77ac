//! A Flagger canary (`flagger.app/v1beta1` Canary) as the cockpit reads it: Flagger's
//! phase and counters from `status`, the analysis (interval, weight ladder or iterations,
//! threshold) and the webhooks that gate it from `spec`, and the RolloutView the fleet,
//! charts and judge use (stable = `NAME-primary`, canary = the target `NAME`).

use super::gateway::Side;
use super::view::{LAST_ACTION_ANNOTATION, Phase, StepKind, StrategyKind};
use super::{Provider, RolloutRef, RolloutView};
use serde::Serialize;
use serde_json::Value;

/// One webhook of the analysis: its name, type (`confirm-promotion`, `rollback`, …) and URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// What Flagger shows of a canary beyond the common view: its own words and counters.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlaggerDetail {
    /// Flagger's phase word (`WaitingPromotion`, `Finalising`, …).
    pub phase: String,
    pub canary_weight: i32,
    pub failed_checks: i32,
    /// `analysis.threshold`: failed checks before Flagger rolls back.
    pub threshold: i32,
    pub iterations: i32,
    /// `analysis.iterations` (blue-green, A/B); 0 for a weight ladder.
    pub max_iterations: i32,
    pub interval: String,
    pub last_transition_time: Option<String>,
    /// "Promoted Unknown WaitingPromotion: Waiting for approval."
    pub conditions: Vec<String>,
    pub webhooks: Vec<Webhook>,
    pub suspended: bool,
    pub skip_analysis: bool,
    /// The target Deployment (`NAME` unless `targetRef` says otherwise).
    pub target: String,
}

impl Webhook {
    /// The namespace of the Service the webhook calls (`http://SERVICE.NAMESPACE[:PORT]/…`),
    /// `canary_namespace` when its host names none, as the door reads it to open a gate.
    pub fn service_namespace(&self, canary_namespace: &str) -> String {
        let rest = self.url.strip_prefix("http://").unwrap_or(&self.url);
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        host.split('.')
            .nth(1)
            .filter(|ns| !ns.is_empty())
            .unwrap_or(canary_namespace)
            .to_string()
    }
}

impl FlaggerDetail {
    /// The gate webhook `verb` opens through the service proxy: Approve the gate Flagger waits
    /// on, Rollback the rollback gate; None for the verbs that patch the Canary.
    pub fn gate_for(&self, verb: super::Verb) -> Option<&Webhook> {
        match verb {
            super::Verb::Promote => self.waiting_gate(),
            super::Verb::Abort => self.webhook("rollback"),
            _ => None,
        }
    }

    /// The namespaces of the load testers its gates call that are not the canary's own,
    /// where `create services/proxy` is asked too.
    pub fn load_tester_namespaces(&self, canary_namespace: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for hook in &self.webhooks {
            let namespace = hook.service_namespace(canary_namespace);
            if namespace != canary_namespace && !out.contains(&namespace) {
                out.push(namespace);
            }
        }
        out
    }

    /// The first webhook of `kind`.
    pub fn webhook(&self, kind: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.kind == kind)
    }

    /// The confirm-* webhook Flagger waits on in its current phase, if any: confirm-rollout
    /// before the analysis starts, confirm-promotion at the end of the ladder,
    /// confirm-traffic-increase between steps.
    pub fn waiting_gate(&self) -> Option<&Webhook> {
        match self.phase.as_str() {
            "Waiting" => self.webhook("confirm-rollout"),
            "WaitingPromotion" => self.webhook("confirm-promotion"),
            "Progressing" => self.webhook("confirm-traffic-increase"),
            _ => None,
        }
    }
}

/// Reads a Canary (as JSON) with the Sides of its primary and target Deployments.
pub fn view_of(context: &str, canary: &Value, primary: &Side, target: &Side) -> RolloutView {
    let meta = &canary["metadata"];
    let spec = &canary["spec"];
    let status = &canary["status"];
    let analysis = &spec["analysis"];
    let int = |v: &Value| v.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
    let name = meta["name"].as_str().unwrap_or_default().to_string();
    let webhooks: Vec<Webhook> = analysis["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| Webhook {
            name: w["name"].as_str().unwrap_or_default().to_string(),
            kind: w["type"].as_str().unwrap_or_default().to_string(),
            url: w["url"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    let detail = FlaggerDetail {
        phase: status["phase"]
            .as_str()
            .unwrap_or("Initializing")
            .to_string(),
        canary_weight: int(&status["canaryWeight"]),
        failed_checks: int(&status["failedChecks"]),
        threshold: int(&analysis["threshold"]).max(1),
        iterations: int(&status["iterations"]),
        max_iterations: int(&analysis["iterations"]),
        interval: analysis["interval"].as_str().unwrap_or("1m").to_string(),
        last_transition_time: status["lastTransitionTime"].as_str().map(String::from),
        conditions: status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let text = |k: &str| c[k].as_str().unwrap_or_default();
                format!(
                    "{} {} {}: {}",
                    text("type"),
                    text("status"),
                    text("reason"),
                    text("message")
                )
            })
            .collect(),
        suspended: spec["suspend"] == true,
        skip_analysis: spec["skipAnalysis"] == true,
        target: spec["targetRef"]["name"]
            .as_str()
            .unwrap_or(&name)
            .to_string(),
        webhooks,
    };
    let steps = ladder(analysis, detail.webhook("confirm-promotion").is_some());
    let settled = matches!(
        detail.phase.as_str(),
        "Initializing" | "Initialized" | "Succeeded" | "Failed" | "Terminated"
    );
    let current_step = current_step(&detail, &steps);
    let (phase, pause_reasons) = match detail.phase.as_str() {
        "Failed" => (Phase::Degraded, Vec::new()),
        "Waiting" | "WaitingPromotion" => (Phase::Paused, vec![detail.phase.clone()]),
        _ if settled => (Phase::Healthy, Vec::new()),
        _ => (Phase::Progressing, Vec::new()),
    };
    let message = message(&detail);
    let annotations = &meta["annotations"];
    let annotation = |k: &str| annotations[k].as_str().map(str::trim).map(String::from);
    RolloutView {
        reference: RolloutRef {
            context: context.to_string(),
            namespace: meta["namespace"].as_str().unwrap_or_default().to_string(),
            name,
            provider: Provider::Flagger,
        },
        strategy: StrategyKind::Canary,
        steps,
        current_step,
        set_weight: detail.canary_weight,
        actual_weight: detail.canary_weight,
        phase,
        message,
        stable_hash: primary.hash.clone(),
        // Settled, no canary plays a part: the primary is the only version.
        current_hash: if settled {
            primary.hash.clone()
        } else {
            target.hash.clone().or_else(|| primary.hash.clone())
        },
        active_hash: None,
        preview_hash: None,
        images: if settled {
            primary.images.clone()
        } else {
            target.images.clone()
        },
        paused: detail.suspended,
        pause_reasons,
        controller_pause: false,
        aborted: detail.phase == "Failed",
        aborted_at: (detail.phase == "Failed")
            .then(|| detail.last_transition_time.clone())
            .flatten(),
        revision: None,
        resource_version: meta["resourceVersion"].as_str().map(String::from),
        generation: meta["generation"].as_i64(),
        created_at: meta["creationTimestamp"].as_str().map(String::from),
        since: detail
            .last_transition_time
            .clone()
            .or_else(|| meta["creationTimestamp"].as_str().map(String::from)),
        replicas: primary.replicas + target.replicas,
        desired_replicas: primary.replicas.max(1),
        ready_replicas: primary.ready + target.ready,
        updated_replicas: target.updated,
        available_replicas: primary.available + target.available,
        last_action: annotation(LAST_ACTION_ANNOTATION),
        auto_status: annotation(super::view::AUTO_STATUS_ANNOTATION).filter(|s| !s.is_empty()),
        flagger: Some(detail),
    }
}

/// The step ladder: one `setWeight` per weight (`stepWeights`, or `stepWeight` up to
/// `maxWeight`), or one `iteration` step per iteration (blue-green, A/B); then the
/// confirm-promotion gate as a pause until approved.
fn ladder(analysis: &Value, promotion_gate: bool) -> Vec<StepKind> {
    let int = |k: &str| analysis[k].as_i64().unwrap_or(0);
    let max = analysis["maxWeight"].as_i64().unwrap_or(100);
    let weights: Vec<i64> = match analysis["stepWeights"].as_array() {
        Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_i64).collect(),
        _ if int("stepWeight") > 0 => (1..)
            .map(|i| (i * int("stepWeight")).min(max))
            .take_while(|w| *w < max)
            .chain([max])
            .collect(),
        _ => Vec::new(),
    };
    let mut steps: Vec<StepKind> = if weights.is_empty() {
        (0..int("iterations"))
            .map(|i| StepKind::Other {
                name: format!("iteration {}", i + 1),
            })
            .collect()
    } else {
        weights
            .into_iter()
            .map(|w| StepKind::SetWeight {
                weight: i32::try_from(w).unwrap_or(100),
            })
            .collect()
    };
    if promotion_gate {
        steps.push(StepKind::Pause { duration: None });
    }
    steps
}

/// Where on the ladder the canary is: the step of its weight (or iteration), the gate while
/// waiting for promotion, past the end once promoted.
fn current_step(detail: &FlaggerDetail, steps: &[StepKind]) -> Option<i32> {
    let len = i32::try_from(steps.len()).unwrap_or(i32::MAX);
    match detail.phase.as_str() {
        "Initializing" | "Initialized" | "Failed" | "Terminated" => None,
        "Succeeded" | "Promoting" | "Finalising" => Some(len),
        "WaitingPromotion" => Some((len - 1).max(0)),
        _ if detail.max_iterations > 0 && detail.canary_weight == 0 => {
            Some((detail.iterations - 1).clamp(0, len))
        }
        _ => steps
            .iter()
            .position(
                |s| matches!(s, StepKind::SetWeight { weight } if *weight == detail.canary_weight),
            )
            .and_then(|i| i32::try_from(i).ok())
            .or(Some(0)),
    }
}

/// "Flagger WaitingPromotion: waiting at confirm-promotion webhook "promotion gate";
/// failed checks 0/5".
fn message(detail: &FlaggerDetail) -> String {
    let mut text = format!("Flagger {}", detail.phase);
    if let Some(gate) = detail
        .waiting_gate()
        .filter(|_| detail.phase.starts_with("Waiting"))
    {
        text.push_str(&format!(
            ": waiting at {} webhook \"{}\"",
            gate.kind, gate.name
        ));
    }
    text.push_str(&format!(
        "; failed checks {}/{}",
        detail.failed_checks, detail.threshold
    ));
    if detail.max_iterations > 0 {
        text.push_str(&format!(
            "; iteration {}/{}",
            detail.iterations, detail.max_iterations
        ));
    }
    if detail.suspended {
        text.push_str("; suspended");
    }
    text
}

#[cfg(test)]
#[path = "flagger_tests.rs"]
mod tests;
