//! The controller's working copy of a Rollout's `status`: read from the object, advanced by
//! `sync`, written back. Conditions follow Argo's `SetRolloutCondition` rules so that
//! timestamps only move when a condition really changes (no churn).

use serde_json::{Map, Value, json};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PauseCondition {
    pub reason: String,
    pub start_time: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Condition {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition_time: String,
    pub last_update_time: String,
}

/// The status fields the controller owns, as plain data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub abort: bool,
    pub aborted_at: Option<String>,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub promote_full: bool,
    pub current_pod_hash: Option<String>,
    pub current_step_hash: Option<String>,
    pub current_step_index: Option<i64>,
    pub stable_rs: Option<String>,
    pub active_selector: Option<String>,
    pub preview_selector: Option<String>,
    pub restarted_at: Option<String>,
    pub conditions: Vec<Condition>,
    /// `status.canary.currentBackgroundAnalysisRunStatus` and `currentStepAnalysisRunStatus`
    /// as the lab's analysis runner wrote them (the controller reads, never writes them).
    pub background_analysis: Option<AnalysisRunStatus>,
    pub step_analysis: Option<AnalysisRunStatus>,
}

/// Argo's `RolloutAnalysisRunStatus`: which run, its phase and message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisRunStatus {
    pub name: String,
    pub status: String,
    pub message: String,
}

impl AnalysisRunStatus {
    fn read(v: &Value) -> Option<AnalysisRunStatus> {
        let name = string_at(v, "name")?;
        Some(AnalysisRunStatus {
            name,
            status: text(v, "status"),
            message: text(v, "message"),
        })
    }

    /// Failed or Error: the run ends the update.
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "Failed" | "Error")
    }
}

fn string_at(status: &Value, key: &str) -> Option<String> {
    status
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl State {
    pub fn read(status: &Value) -> State {
        let pause_conditions = status
            .get("pauseConditions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|p| PauseCondition {
                        reason: text(p, "reason"),
                        start_time: text(p, "startTime"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let conditions = status
            .get("conditions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|c| Condition {
                        type_: text(c, "type"),
                        status: text(c, "status"),
                        reason: text(c, "reason"),
                        message: text(c, "message"),
                        last_transition_time: text(c, "lastTransitionTime"),
                        last_update_time: text(c, "lastUpdateTime"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let blue_green = status.get("blueGreen").cloned().unwrap_or(Value::Null);
        State {
            abort: status
                .get("abort")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            aborted_at: string_at(status, "abortedAt"),
            pause_conditions,
            controller_pause: status
                .get("controllerPause")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            promote_full: status
                .get("promoteFull")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            current_pod_hash: string_at(status, "currentPodHash"),
            current_step_hash: string_at(status, "currentStepHash"),
            current_step_index: status.get("currentStepIndex").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_f64().map(|f| f as i64))
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            }),
            stable_rs: string_at(status, "stableRS"),
            active_selector: string_at(&blue_green, "activeSelector"),
            preview_selector: string_at(&blue_green, "previewSelector"),
            restarted_at: string_at(status, "restartedAt"),
            conditions,
            background_analysis: AnalysisRunStatus::read(
                &status["canary"]["currentBackgroundAnalysisRunStatus"],
            ),
            step_analysis: AnalysisRunStatus::read(
                &status["canary"]["currentStepAnalysisRunStatus"],
            ),
        }
    }

    /// The message of the analysis run that failed this revision, if one did.
    pub fn analysis_failure(&self) -> Option<&str> {
        [&self.background_analysis, &self.step_analysis]
            .into_iter()
            .flatten()
            .find(|a| a.failed() && !a.message.is_empty())
            .map(|a| a.message.as_str())
    }

    pub fn pause_condition(&self, reason: &str) -> Option<&PauseCondition> {
        self.pause_conditions.iter().find(|p| p.reason == reason)
    }

    /// Argo's `AddPauseCondition` + `CalculatePauseStatus`: a new reason sets controllerPause.
    pub fn add_pause(&mut self, reason: &str, now: &str) {
        if self.pause_condition(reason).is_none() {
            self.pause_conditions.push(PauseCondition {
                reason: reason.into(),
                start_time: now.into(),
            });
            self.controller_pause = true;
        }
    }

    /// Argo clears `controllerPause` once no pause condition is left.
    pub fn remove_pause(&mut self, reason: &str) {
        self.pause_conditions.retain(|p| p.reason != reason);
        if self.pause_conditions.is_empty() {
            self.controller_pause = false;
        }
    }

    pub fn clear_pauses(&mut self) {
        self.pause_conditions.clear();
        self.controller_pause = false;
    }

    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Argo's `SetRolloutCondition`: nothing changes when status and reason are the same;
    /// otherwise the condition moves to the end, keeping lastTransitionTime if only the
    /// reason changed.
    pub fn set_condition(
        &mut self,
        type_: &str,
        status: &str,
        reason: &str,
        message: &str,
        now: &str,
    ) {
        let mut last_transition_time = now.to_string();
        if let Some(current) = self.condition(type_) {
            if current.status == status && current.reason == reason {
                return;
            }
            if current.status == status {
                last_transition_time = current.last_transition_time.clone();
            }
        }
        self.conditions.retain(|c| c.type_ != type_);
        self.conditions.push(Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
            last_transition_time,
            last_update_time: now.into(),
        });
    }

    pub fn pause_conditions_json(&self) -> Value {
        Value::Array(
            self.pause_conditions
                .iter()
                .map(|p| json!({"reason": p.reason, "startTime": p.start_time}))
                .collect(),
        )
    }

    pub fn conditions_json(&self) -> Value {
        Value::Array(
            self.conditions
                .iter()
                .map(|c| {
                    let mut m = Map::new();
                    m.insert("lastTransitionTime".into(), json!(c.last_transition_time));
                    m.insert("lastUpdateTime".into(), json!(c.last_update_time));
                    m.insert("message".into(), json!(c.message));
                    m.insert("reason".into(), json!(c.reason));
                    m.insert("status".into(), json!(c.status));
                    m.insert("type".into(), json!(c.type_));
                    Value::Object(m)
                })
                .collect(),
        )
    }
}
