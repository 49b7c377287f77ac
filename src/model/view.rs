//! `RolloutView`: what a person (or a pipeline) sees of one rollout, computed from the raw
//! Argo object the way `kubectl argo rollouts get` computes it — phase, step i/n, declared
//! and actual weight, stable/canary (active/preview) hashes.

use super::argo::Rollout;
use super::phase::{actual_weight, current_set_weight, phase_of};
use super::{RolloutRef, Version, VersionRole};
use kube::ResourceExt;
use serde::Serialize;

/// The rollout phase as Argo's CLI shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum Phase {
    Healthy,
    Progressing,
    Paused,
    Degraded,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Healthy => "Healthy",
            Phase::Progressing => "Progressing",
            Phase::Paused => "Paused",
            Phase::Degraded => "Degraded",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Phase> {
        match s {
            "Healthy" => Some(Phase::Healthy),
            "Progressing" => Some(Phase::Progressing),
            "Paused" => Some(Phase::Paused),
            "Degraded" => Some(Phase::Degraded),
            _ => None,
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Canary,
    BlueGreen,
    /// Neither strategy set: Argo rejects such a rollout as InvalidSpec.
    Unknown,
    /// A weighted release on the Gateway API (an annotated HTTPRoute): free weights.
    Weighted,
}

impl StrategyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Canary => "Canary",
            StrategyKind::BlueGreen => "BlueGreen",
            StrategyKind::Unknown => "Unknown",
            StrategyKind::Weighted => "weighted (Gateway API)",
        }
    }
}

/// One step of a canary ladder, in words the cockpit shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum StepKind {
    SetWeight {
        weight: i32,
    },
    /// `pause: {}` (duration `None`) waits for a human to promote.
    Pause {
        duration: Option<String>,
    },
    Analysis,
    Experiment,
    Other {
        name: String,
    },
}

/// The weight step `index` of `steps` sets: the last `setWeight` at or before it (0 before
/// any); 100 past the last step. Argo rollouts and weighted releases step the same way.
pub fn weight_at_step(steps: &[StepKind], index: i32) -> i32 {
    let Ok(index) = usize::try_from(index) else {
        return 0;
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

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepKind::SetWeight { weight } => write!(f, "setWeight {weight}%"),
            StepKind::Pause { duration: None } => f.write_str("pause (until promoted)"),
            StepKind::Pause { duration: Some(d) } => write!(f, "pause {d}"),
            StepKind::Analysis => f.write_str("analysis"),
            StepKind::Experiment => f.write_str("experiment"),
            StepKind::Other { name } => f.write_str(name),
        }
    }
}

/// Everything the cockpit and the CLI show of a rollout; plain data, cheap to clone.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    pub reference: RolloutRef,
    pub strategy: StrategyKind,
    pub steps: Vec<StepKind>,
    /// `status.currentStepIndex`; equals `steps.len()` once every step is done.
    pub current_step: Option<i32>,
    /// The weight the current step declares (Argo's "SetWeight"); 0 when aborted, 100 when done.
    pub set_weight: i32,
    /// The weight the traffic router actually has (Argo's "ActualWeight").
    pub actual_weight: i32,
    pub phase: Phase,
    pub message: String,
    pub stable_hash: Option<String>,
    pub current_hash: Option<String>,
    pub active_hash: Option<String>,
    pub preview_hash: Option<String>,
    /// Image(s) of the current pod template (the canary or preview once a rollout is underway).
    pub images: Vec<String>,
    pub paused: bool,
    pub pause_reasons: Vec<String>,
    pub controller_pause: bool,
    pub aborted: bool,
    pub aborted_at: Option<String>,
    pub revision: Option<String>,
    pub resource_version: Option<String>,
    pub generation: Option<i64>,
    pub created_at: Option<String>,
    /// Most recent pause condition start, or the creation time: how long it has been like this.
    pub since: Option<String>,
    /// `status.replicas`: every pod of the rollout, canary's and stable's.
    pub replicas: i32,
    /// `spec.replicas` (1 when unset, as Argo defaults it): what stable must have available
    /// for a rollback to be complete.
    pub desired_replicas: i32,
    pub ready_replicas: i32,
    pub updated_replicas: i32,
    pub available_replicas: i32,
    /// Raw `release-cockpit.io/last-action` annotation, when a person or `auto` acted on it.
    pub last_action: Option<String>,
    /// Raw `release-cockpit.io/auto-status` annotation: what a pipeline's `auto` waits for.
    pub auto_status: Option<String>,
    /// Flagger's own phase, counters and webhooks, for a Flagger canary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagger: Option<super::flagger::FlaggerDetail>,
}

pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
pub const LAST_ACTION_ANNOTATION: &str = "release-cockpit.io/last-action";
/// Where `auto` writes what it waits for ("waiting for approval: marginal verdict, score 82").
pub const AUTO_STATUS_ANNOTATION: &str = "release-cockpit.io/auto-status";

impl RolloutView {
    /// The view of `ro` as seen through `context`. For a canary without traffic routing the
    /// actual weight is estimated from `status` (see [`RolloutView::from_rollout_with_replica_sets`]).
    pub fn from_rollout(context: &str, ro: &Rollout) -> RolloutView {
        RolloutView::from_rollout_with_replica_sets(context, ro, None)
    }

    /// Like [`RolloutView::from_rollout`], with the available pod count of the canary
    /// ReplicaSet when the caller listed the ReplicaSets: then the actual weight of a canary
    /// without traffic routing is exactly what `kubectl argo rollouts get` shows.
    pub fn from_rollout_with_replica_sets(
        context: &str,
        ro: &Rollout,
        canary_available: Option<i32>,
    ) -> RolloutView {
        let status = ro.status.clone().unwrap_or_default();
        let spec = &ro.spec;
        let strategy = if spec.strategy.canary.is_some() {
            StrategyKind::Canary
        } else if spec.strategy.blue_green.is_some() {
            StrategyKind::BlueGreen
        } else {
            StrategyKind::Unknown
        };
        let steps: Vec<StepKind> = spec
            .strategy
            .canary
            .as_ref()
            .map(|c| c.steps.iter().map(step_kind).collect())
            .unwrap_or_default();
        // Argo shows "Step i/n" only once the controller has written currentStepIndex, but it
        // computes weights as if a missing index were 0 (`GetCurrentCanaryStep`).
        let current_step = match strategy {
            StrategyKind::Canary if !steps.is_empty() => status.current_step_index,
            _ => None,
        };
        let step_index = match strategy {
            StrategyKind::Canary if !steps.is_empty() => {
                Some(status.current_step_index.unwrap_or(0).max(0))
            }
            _ => None,
        };
        let set_weight = current_set_weight(&steps, step_index, &status);
        let actual_weight = actual_weight(
            ro,
            &status,
            &steps,
            step_index,
            set_weight,
            canary_available,
        );
        let (phase, message) = phase_of(ro, &status);
        let annotations = ro.annotations();
        let images = ro
            .spec
            .template
            .as_ref()
            .and_then(|t| t.pointer("/spec/containers"))
            .and_then(|c| c.as_array())
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("image").and_then(|i| i.as_str()).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let since = status
            .pause_conditions
            .iter()
            .filter_map(|p| p.start_time.clone())
            .max()
            .or_else(|| {
                ro.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
            });
        RolloutView {
            reference: RolloutRef {
                context: context.to_string(),
                namespace: ro.namespace().unwrap_or_default(),
                name: ro.name_any(),
                provider: super::Provider::Argo,
            },
            strategy,
            steps,
            current_step,
            set_weight,
            actual_weight,
            phase,
            message,
            stable_hash: status.stable_rs.clone(),
            current_hash: status.current_pod_hash.clone(),
            active_hash: status.blue_green.active_selector.clone(),
            preview_hash: status.blue_green.preview_selector.clone(),
            images,
            paused: spec.paused,
            pause_reasons: status
                .pause_conditions
                .iter()
                .map(|p| p.reason.clone())
                .collect(),
            controller_pause: status.controller_pause,
            aborted: status.abort,
            aborted_at: status.aborted_at.clone(),
            revision: annotations.get(REVISION_ANNOTATION).cloned(),
            resource_version: ro.resource_version(),
            generation: ro.metadata.generation,
            created_at: ro
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
            since,
            replicas: status.replicas,
            desired_replicas: spec.replicas.unwrap_or(1),
            ready_replicas: status.ready_replicas,
            updated_replicas: status.updated_replicas,
            available_replicas: status.available_replicas,
            last_action: annotations.get(LAST_ACTION_ANNOTATION).cloned(),
            auto_status: annotations
                .get(AUTO_STATUS_ANNOTATION)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            flagger: None,
        }
    }

    /// `"i/n"` as `kubectl argo rollouts get` prints it, or empty for blue-green.
    pub fn step_label(&self) -> String {
        match self.current_step {
            Some(i) => format!("{i}/{}", self.steps.len()),
            None => String::new(),
        }
    }

    /// `auto`'s status as the window and `get` show it: "auto: waiting for approval — marginal
    /// verdict, score 82" (the annotation's first ": " becomes a dash), or None when no
    /// pipeline's `auto` has written one.
    pub fn auto_status_line(&self) -> Option<String> {
        let text = self.auto_status.as_deref()?;
        let text = text.strip_prefix("auto ").unwrap_or(text);
        Some(match text.split_once(": ") {
            Some((what, why)) => format!("auto: {what} — {why}"),
            None => format!("auto: {text}"),
        })
    }

    /// True for a weighted (Gateway API) release whose canary takes all traffic (its last
    /// step, `100`, reached) or that is past its last declared step (after promote --full,
    /// all traffic on stable): the end `auto` carries it to, as Argo's last step ends Healthy.
    pub fn weighted_done(&self) -> bool {
        if self.strategy != StrategyKind::Weighted || self.aborted {
            return false;
        }
        let past_last_step = !self.steps.is_empty()
            && self
                .current_step
                .is_some_and(|step| step >= self.steps.len() as i32);
        self.actual_weight >= 100 || past_last_step
    }

    /// True when the rollout waits for a person: an indefinite pause step, a blue-green
    /// pause, or a manual pause. Timed pauses resume by themselves and do not count.
    pub fn waiting_for_human(&self) -> bool {
        if self.aborted {
            return false;
        }
        if self.paused {
            return true;
        }
        self.pause_reasons.iter().any(|r| match r.as_str() {
            "CanaryPauseStep" => matches!(
                self.current_step
                    .and_then(|i| self.steps.get(usize::try_from(i).ok()?)),
                Some(StepKind::Pause { duration: None }) | None
            ),
            _ => true,
        })
    }

    /// The weights each `setWeight` step declares, with the step index that declares it,
    /// in ladder order: the only weights an Argo rollout can be moved to.
    pub fn declared_weights(&self) -> Vec<(i32, i32)> {
        self.steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                StepKind::SetWeight { weight } => Some((i as i32, *weight)),
                _ => None,
            })
            .collect()
    }

    /// The versions that take (or may take) traffic now, each with its role.
    pub fn versions(&self) -> Vec<Version> {
        let mut out = Vec::new();
        match self.strategy {
            StrategyKind::BlueGreen => {
                if let Some(h) = &self.active_hash {
                    out.push(Version::new(VersionRole::Active, h));
                }
                if let Some(h) = &self.preview_hash
                    && Some(h) != self.active_hash.as_ref()
                {
                    out.push(Version::new(VersionRole::Preview, h));
                }
            }
            _ => {
                if let Some(h) = &self.stable_hash {
                    out.push(Version::new(VersionRole::Stable, h));
                }
                if let Some(h) = &self.current_hash
                    && Some(h) != self.stable_hash.as_ref()
                {
                    out.push(Version::new(VersionRole::Canary, h));
                }
            }
        }
        out
    }

    /// Is a new revision still being rolled out (canary not yet stable / preview not active)?
    pub fn in_progress(&self) -> bool {
        match self.strategy {
            StrategyKind::BlueGreen => self.current_hash != self.active_hash,
            _ => self.current_hash.is_some() && self.current_hash != self.stable_hash,
        }
    }
}

fn step_kind(step: &super::argo::CanaryStep) -> StepKind {
    if let Some(w) = step.set_weight {
        StepKind::SetWeight { weight: w }
    } else if let Some(p) = &step.pause {
        StepKind::Pause {
            duration: p.duration.as_ref().map(|d| match d {
                serde_json::Value::String(s) => s.clone(),
                other => format!("{other}s"),
            }),
        }
    } else if step.analysis.is_some() {
        StepKind::Analysis
    } else if step.experiment.is_some() {
        StepKind::Experiment
    } else if step.set_canary_scale.is_some() {
        StepKind::Other {
            name: "setCanaryScale".into(),
        }
    } else if step.set_header_route.is_some() {
        StepKind::Other {
            name: "setHeaderRoute".into(),
        }
    } else if step.set_mirror_route.is_some() {
        StepKind::Other {
            name: "setMirrorRoute".into(),
        }
    } else {
        StepKind::Other {
            name: "plugin".into(),
        }
    }
}
