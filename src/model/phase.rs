//! How `kubectl argo rollouts get` computes a rollout's phase, set weight and actual weight
//! (Argo's rolloututil.go and rollout_info.go), check for check in the same order.

use super::argo::{Rollout, RolloutStatus};
use super::view::{Phase, StepKind};

/// Argo's `GetCurrentSetWeight`: 0 when aborted, 100 once past the last step (or with no
/// steps), otherwise the last `setWeight` at or before the current step.
pub(crate) fn current_set_weight(
    steps: &[StepKind],
    index: Option<i32>,
    status: &RolloutStatus,
) -> i32 {
    if status.abort {
        return 0;
    }
    let Some(index) = index.and_then(|i| usize::try_from(i).ok()) else {
        return 100;
    };
    if index >= steps.len() {
        return 100;
    }
    steps[..=index]
        .iter()
        .rev()
        .find_map(|s| match s {
            StepKind::SetWeight { weight } => Some(*weight),
            _ => None,
        })
        .unwrap_or(0)
}

/// Argo's `ActualWeight` (`NewRolloutInfo`): 100 past the last step; 0 while nothing is
/// available; with traffic routing, what the router was told (`status.canary.weights`) or
/// else the set weight; without it, the canary ReplicaSet's share of available pods.
pub(crate) fn actual_weight(
    ro: &Rollout,
    status: &RolloutStatus,
    steps: &[StepKind],
    index: Option<i32>,
    set_weight: i32,
    canary_available: Option<i32>,
) -> i32 {
    let Some(canary) = &ro.spec.strategy.canary else {
        return set_weight;
    };
    let past_last_step = index
        .and_then(|i| usize::try_from(i).ok())
        .is_none_or(|i| i >= steps.len());
    if past_last_step {
        return 100;
    }
    if status.available_replicas <= 0 {
        return 0;
    }
    if canary.traffic_routing.is_some() {
        return status
            .canary
            .weights
            .as_ref()
            .map_or(set_weight, |w| w.canary.weight);
    }
    let canary_available = canary_available.unwrap_or_else(|| estimate_canary_available(status));
    canary_available.max(0) * 100 / status.available_replicas
}

/// Without the ReplicaSets, the canary's available pods are estimated from `status`:
/// the updated (canary) pods minus the pods that are not available, on the assumption that
/// unavailable pods are new ones (where a bad rollout fails). Exact when the canary is fully
/// available or fully unavailable.
fn estimate_canary_available(status: &RolloutStatus) -> i32 {
    if status.current_pod_hash.is_none() || status.current_pod_hash == status.stable_rs {
        return 0;
    }
    let unavailable = (status.replicas - status.available_replicas).max(0);
    (status.updated_replicas - unavailable).clamp(0, status.updated_replicas.max(0))
}

/// Argo's `GetRolloutPhase`: the controller's own `status.phase` when it wrote one (v1.0+),
/// otherwise the client-side calculation of older CLIs.
pub(crate) fn phase_of(ro: &Rollout, status: &RolloutStatus) -> (Phase, String) {
    let generation = ro.metadata.generation.unwrap_or(0);
    if let Some(observed) = status
        .observed_generation
        .as_deref()
        .and_then(|g| g.parse::<i64>().ok())
        && observed < generation
    {
        return (
            Phase::Progressing,
            "waiting for rollout spec update to be observed".into(),
        );
    }
    // A person cleared the pause conditions but the controller has not reacted yet.
    if status.controller_pause && status.pause_conditions.is_empty() {
        return (Phase::Progressing, "waiting for rollout to unpause".into());
    }
    if let Some(phase) = status.phase.as_deref().and_then(Phase::parse) {
        return (phase, status.message.clone().unwrap_or_default());
    }
    calculate_phase(ro, status)
}

/// Argo's `CalculateRolloutPhase`, check for check in the same order.
fn calculate_phase(ro: &Rollout, status: &RolloutStatus) -> (Phase, String) {
    for cond in &status.conditions {
        if cond.type_ == "InvalidSpec" {
            return (
                Phase::Degraded,
                format!("InvalidSpec: {}", cond.message.as_deref().unwrap_or("")),
            );
        }
        if let Some(reason @ ("RolloutAborted" | "ProgressDeadlineExceeded")) =
            cond.reason.as_deref()
        {
            return (
                Phase::Degraded,
                format!("{reason}: {}", cond.message.as_deref().unwrap_or("")),
            );
        }
    }
    if ro.spec.paused {
        return (Phase::Paused, "manually paused".into());
    }
    if let Some(p) = status.pause_conditions.first() {
        return (Phase::Paused, p.reason.clone());
    }
    if let Some(restart_at) = &ro.spec.restart_at
        && !same_instant(Some(restart_at), status.restarted_at.as_ref())
    {
        return (Phase::Progressing, "rollout is restarting".into());
    }
    if status.updated_replicas < ro.spec.replicas.unwrap_or(1) {
        return (
            Phase::Progressing,
            "more replicas need to be updated".into(),
        );
    }
    if status.available_replicas < status.updated_replicas {
        return (
            Phase::Progressing,
            "updated replicas are still becoming available".into(),
        );
    }
    let current = status.current_pod_hash.as_deref();
    let fully_promoted = status.stable_rs.is_some() && status.stable_rs.as_deref() == current;
    if ro.spec.strategy.blue_green.is_some() {
        if status.blue_green.active_selector.is_none()
            || status.blue_green.active_selector.as_deref() != current
        {
            return (Phase::Progressing, "active service cutover pending".into());
        }
        if !fully_promoted {
            // Argo says "waiting for analysis to complete" when a post-promotion analysis is
            // configured; the cockpit does not model that field, and v1.0+ controllers write
            // `status.phase` themselves, so this branch only serves pre-1.0 objects.
            return (
                Phase::Progressing,
                "waiting for post-promotion verification to complete".into(),
            );
        }
    } else if let Some(canary) = &ro.spec.strategy.canary {
        if canary.traffic_routing.is_none() && status.replicas > status.updated_replicas {
            return (
                Phase::Progressing,
                "old replicas are pending termination".into(),
            );
        }
        if !fully_promoted {
            return (
                Phase::Progressing,
                "waiting for all steps to complete".into(),
            );
        }
    }
    (Phase::Healthy, String::new())
}

/// Two RFC 3339 timestamps name the same instant (Argo compares parsed times, not text).
fn same_instant(a: Option<&String>, b: Option<&String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        },
        (None, None) => true,
        _ => false,
    }
}
