//! One pass of the simulated Argo controller over a rollout's status: the canary step machine
//! (setWeight, pause, promote, abort, retry, promoteFull, step jumps) and the blue-green
//! preview/active switch, then the conditions Argo derives from the result.

use super::Clock;
use super::state::State;
use super::subject::{Counts, Plan, Subject};
use crate::model::argo::PauseStep;

pub const CANARY_PAUSE_STEP: &str = "CanaryPauseStep";
pub const BLUE_GREEN_PAUSE: &str = "BlueGreenPause";
/// The pause Argo adds when a step's analysis ends Inconclusive: a person decides.
pub const INCONCLUSIVE_PAUSE: &str = "InconclusiveAnalysisRun";

/// Advance `st` by one controller sync. `revision` is the rollout's revision number, bumped
/// when a new pod template appears.
pub fn sync(ro: &Subject, st: &mut State, clock: &Clock, revision: &mut u64) {
    match &ro.plan {
        Plan::Canary(_) => sync_canary(ro, st, clock, revision),
        Plan::BlueGreen { .. } => sync_blue_green(ro, st, clock, revision),
        Plan::Invalid(_) => {}
    }
    if st.pause_conditions.is_empty() {
        st.controller_pause = false;
    }
    if ro.restart_at.is_some() && st.restarted_at != ro.restart_at {
        // Pods restart instantly in the lab.
        st.restarted_at.clone_from(&ro.restart_at);
    }
}

/// A new pod template (or new steps): Argo's `resetRolloutStatus`.
fn start_revision(ro: &Subject, st: &mut State, revision: &mut u64) {
    if st.current_pod_hash.as_deref() != Some(ro.pod_hash.as_str()) {
        *revision = match st.current_pod_hash {
            None => ro.revision.unwrap_or(1).max(1),
            Some(_) => ro.revision.unwrap_or(0) + 1,
        };
    }
    st.current_pod_hash = Some(ro.pod_hash.clone());
    st.clear_pauses();
    st.abort = false;
    st.aborted_at = None;
    st.promote_full = false;
}

fn sync_canary(ro: &Subject, st: &mut State, clock: &Clock, revision: &mut u64) {
    let Plan::Canary(plan) = &ro.plan else {
        return;
    };
    let steps_len = plan.steps.len() as i64;
    if st.current_pod_hash.as_deref() != Some(ro.pod_hash.as_str())
        || st.current_step_hash.as_deref() != Some(plan.step_hash.as_str())
    {
        start_revision(ro, st, revision);
        st.current_step_hash = Some(plan.step_hash.clone());
        st.current_step_index = (steps_len > 0).then(|| {
            // Going back to the stable template skips the steps, as Argo does.
            if st.stable_rs == st.current_pod_hash {
                steps_len
            } else {
                0
            }
        });
        return;
    }
    let mut index = st.current_step_index.unwrap_or(0).clamp(0, steps_len);
    if st.promote_full {
        st.clear_pauses();
        st.abort = false;
        index = steps_len;
    }
    let initial_deploy = st.stable_rs.is_none();
    if initial_deploy || (!st.abort && (st.promote_full || index == steps_len)) {
        // Argo's promoteStable: the canary becomes stable.
        st.clear_pauses();
        st.abort = false;
        st.aborted_at = None;
        st.promote_full = false;
        st.current_step_index = (steps_len > 0).then_some(steps_len);
        st.stable_rs.clone_from(&st.current_pod_hash);
        return;
    }
    if st.abort {
        st.clear_pauses();
        st.aborted_at.get_or_insert_with(|| clock.now_text.clone());
        st.current_step_index = (steps_len > 0).then(|| {
            if st.stable_rs == st.current_pod_hash {
                steps_len
            } else {
                0
            }
        });
        return;
    }
    st.aborted_at = None;
    st.current_step_index = (steps_len > 0).then_some(index);
    if ro.paused {
        return;
    }
    let Some(step) = usize::try_from(index).ok().and_then(|i| plan.steps.get(i)) else {
        return;
    };
    let completed = match &step.pause {
        Some(pause) => {
            let cond = st.pause_condition(CANARY_PAUSE_STEP).cloned();
            if cond.is_none() && !st.controller_pause {
                st.add_pause(CANARY_PAUSE_STEP, &clock.now_text);
                return;
            }
            (st.controller_pause && cond.is_none())
                || match (pause_seconds(pause), cond) {
                    (Some(secs), Some(cond)) => clock.waited(&cond.start_time, secs),
                    _ => false,
                }
        }
        // An analysis step waits for its run (started by the lab's analysis runner, named
        // `<rollout>-<hash>-<revision>-<step>`): Successful moves on, Inconclusive pauses for
        // a person, Failed or Error aborts, as Argo does.
        None if step.analysis.is_some() => {
            let run_name = format!("{}-{}-{}-{index}", ro.name, ro.pod_hash, revision);
            let run = st.step_analysis.clone().filter(|a| a.name == run_name);
            match run.as_ref().map(|a| a.status.as_str()) {
                Some("Successful") => true,
                Some("Inconclusive") => {
                    if st.pause_condition(INCONCLUSIVE_PAUSE).is_none() && !st.controller_pause {
                        st.add_pause(INCONCLUSIVE_PAUSE, &clock.now_text);
                    }
                    false
                }
                Some("Failed" | "Error") => {
                    st.abort = true;
                    false
                }
                _ => false,
            }
        }
        // setWeight completes at once (pods are instant); experiments pass too.
        None => true,
    };
    if completed {
        st.current_step_index = Some(index + 1);
        st.remove_pause(CANARY_PAUSE_STEP);
    }
}

fn sync_blue_green(ro: &Subject, st: &mut State, clock: &Clock, revision: &mut u64) {
    let Plan::BlueGreen {
        preview_service,
        auto_promotion_enabled,
        auto_promotion_seconds,
        ..
    } = &ro.plan
    else {
        return;
    };
    let current = Some(ro.pod_hash.clone());
    let preview_for = |hash: &Option<String>| preview_service.as_ref().and(hash.clone());
    st.current_step_hash = None;
    st.current_step_index = None;
    if st.current_pod_hash != current {
        start_revision(ro, st, revision);
        return;
    }
    if st.active_selector.is_none() || st.stable_rs.is_none() {
        // Initial deploy: everything points at the only version there is.
        st.active_selector.clone_from(&current);
        st.preview_selector = preview_for(&current);
        st.stable_rs.clone_from(&current);
        st.clear_pauses();
        return;
    }
    if st.active_selector == current {
        if !st.abort {
            st.stable_rs.clone_from(&current);
            st.promote_full = false;
            st.clear_pauses();
            st.aborted_at = None;
        } else {
            st.aborted_at.get_or_insert_with(|| clock.now_text.clone());
        }
        st.preview_selector = preview_for(&current);
        return;
    }
    if st.abort {
        st.preview_selector = preview_for(&st.stable_rs.clone());
        st.clear_pauses();
        st.aborted_at.get_or_insert_with(|| clock.now_text.clone());
        return;
    }
    st.aborted_at = None;
    st.preview_selector = preview_for(&current);
    if st.promote_full {
        st.active_selector.clone_from(&current);
        st.clear_pauses();
        return;
    }
    if ro.paused {
        return;
    }
    let needs_pause = !auto_promotion_enabled || *auto_promotion_seconds > 0;
    let completed = if needs_pause {
        let cond = st.pause_condition(BLUE_GREEN_PAUSE).cloned();
        if cond.is_none() && !st.controller_pause {
            st.add_pause(BLUE_GREEN_PAUSE, &clock.now_text);
            return;
        }
        (st.controller_pause && cond.is_none())
            || (*auto_promotion_enabled
                && cond
                    .is_some_and(|c| clock.waited(&c.start_time, *auto_promotion_seconds as f64)))
    } else {
        true
    };
    if completed {
        st.active_selector.clone_from(&current);
        st.remove_pause(BLUE_GREEN_PAUSE);
    }
}

/// `pause.duration` in seconds: a number, or a Go duration string (`30s`, `5m`, `1h30m`).
pub fn pause_seconds(pause: &PauseStep) -> Option<f64> {
    match pause.duration.as_ref()? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_duration(s),
        _ => None,
    }
}

/// A Go duration (`30s`, `5m`, `1h30m`) or a bare number, in seconds.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Some(secs);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Set the conditions Argo derives after a sync (`checkPausedConditions` and
/// `calculateRolloutConditions`), comparing with the state before it.
pub fn update_conditions(ro: &Subject, prev: &State, st: &mut State, revision: u64, clock: &Clock) {
    let now = clock.now_text.as_str();
    if let Plan::Invalid(message) = &ro.plan {
        st.set_condition("InvalidSpec", "True", "InvalidSpec", message, now);
        return;
    }
    st.conditions.retain(|c| c.type_ != "InvalidSpec");
    let counts = Counts::of(ro, st);
    let paused = !st.pause_conditions.is_empty() || ro.paused;
    let healthy = ro.is_healthy(st, &counts);
    let rs_name = format!("{}-{}", ro.name, ro.pod_hash);
    let progress_reason = st
        .condition("Progressing")
        .map(|c| c.reason.clone())
        .unwrap_or_default();

    if !st.abort && progress_reason != "RolloutAborted" {
        let paused_true = st.condition("Paused").is_some_and(|c| c.status == "True");
        if paused != paused_true {
            let status = if paused { "True" } else { "False" };
            st.set_condition("Paused", status, "RolloutPaused", "Rollout is paused", now);
        }
    }

    let new_revision = prev.current_pod_hash != st.current_pod_hash;
    let progressed = new_revision
        || prev.stable_rs != st.stable_rs
        || prev.current_step_index != st.current_step_index
        || prev.current_step_hash != st.current_step_hash
        || prev.active_selector != st.active_selector
        || prev.preview_selector != st.preview_selector
        || Counts::of(ro, prev).updated != counts.updated;
    if st.abort {
        let message = match st.analysis_failure() {
            Some(why) => format!("Rollout aborted update to revision {revision}: {why}"),
            None => format!("Rollout aborted update to revision {revision}"),
        };
        st.set_condition("Progressing", "False", "RolloutAborted", &message, now);
    } else if paused {
        st.set_condition(
            "Progressing",
            "Unknown",
            "RolloutPaused",
            "Rollout is paused",
            now,
        );
    } else if new_revision {
        let message = format!("Created new replica set \"{rs_name}\"");
        st.set_condition("Progressing", "True", "NewReplicaSetCreated", &message, now);
    } else if healthy {
        let message = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
        st.set_condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &message,
            now,
        );
    } else if progressed {
        let message = format!("ReplicaSet \"{rs_name}\" is progressing.");
        st.set_condition("Progressing", "True", "ReplicaSetUpdated", &message, now);
    } else if progress_reason == "RolloutAborted" {
        let message = "Retrying Rollout after abort";
        st.set_condition("Progressing", "Unknown", "RolloutRetry", message, now);
    } else if progress_reason == "RolloutPaused" {
        let message = "Rollout is resumed";
        st.set_condition("Progressing", "Unknown", "RolloutResumed", message, now);
    }

    if !paused && healthy {
        st.set_condition(
            "Healthy",
            "True",
            "RolloutHealthy",
            "Rollout is healthy",
            now,
        );
    } else if st.condition("Healthy").is_some() {
        st.set_condition(
            "Healthy",
            "False",
            "RolloutHealthy",
            "Rollout is not healthy",
            now,
        );
    }
    let available = "Rollout has minimum availability";
    st.set_condition("Available", "True", "AvailableReason", available, now);
    let completed = st.stable_rs.is_some() && st.stable_rs == st.current_pod_hash;
    let status = if completed { "True" } else { "False" };
    st.set_condition(
        "Completed",
        status,
        "RolloutCompleted",
        "RolloutCompleted",
        now,
    );
}
