//! Commands: a verb with its arguments, aimed at one rollout. The window emits these and
//! the orchestrator executes them — the same functions the CLI verbs call.

use super::{Rollout, RolloutRef, RolloutView, StrategyKind, Verb};
use serde::{Deserialize, Serialize};

/// What the person (or `auto`) saw when deciding. A command carrying a pin applies only to
/// that: if the rollout moved on (another step, a new canary, a new preview), the API server
/// refuses the change, nothing happens, and the person is told what is there now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// `status.currentStepIndex`, for a canary with steps.
    pub step: Option<i32>,
    /// `status.currentPodHash`: the version being rolled out (the canary, or the blue-green
    /// preview's ReplicaSet).
    pub pod_hash: Option<String>,
    /// `status.blueGreen.previewSelector`: the preview a blue-green approval promotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_hash: Option<String>,
}

impl Pin {
    /// What `view` shows: its step, its current pod hash and (blue-green) its preview.
    pub fn of_view(view: &RolloutView) -> Pin {
        Pin {
            step: view.current_step,
            pod_hash: view.current_hash.clone(),
            preview_hash: match view.strategy {
                StrategyKind::BlueGreen => view.preview_hash.clone(),
                _ => None,
            },
        }
    }

    /// The same fields as read from `ro` (what is there now).
    pub fn of_rollout(ro: &Rollout) -> Pin {
        let status = ro.status.clone().unwrap_or_default();
        Pin {
            step: status.current_step_index,
            pod_hash: status.current_pod_hash,
            preview_hash: ro
                .spec
                .strategy
                .blue_green
                .as_ref()
                .and(status.blue_green.preview_selector),
        }
    }

    /// True when every field this pin names has the same value in `now` (a field the pin
    /// leaves out is not checked).
    pub fn holds_in(&self, now: &Pin) -> bool {
        (self.step.is_none() || self.step == now.step)
            && (self.pod_hash.is_none() || self.pod_hash == now.pod_hash)
            && (self.preview_hash.is_none() || self.preview_hash == now.preview_hash)
    }

    /// "step 1, pod hash 6f9b7c5d4" / "preview 7855cfc5b8"; the fields this pin names.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(step) = self.step {
            parts.push(format!("step {step}"));
        }
        match (&self.preview_hash, &self.pod_hash) {
            (Some(preview), Some(pod)) if preview == pod => {
                parts.push(format!("preview {preview}"))
            }
            (Some(preview), pod) => {
                parts.push(format!("preview {preview}"));
                if let Some(pod) = pod {
                    parts.push(format!("newest pod hash {pod}"));
                }
            }
            (None, Some(pod)) => parts.push(format!("pod hash {pod}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "no step and no pod hash".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A verb and its arguments. `pin`: see [`Pin`]; `None` pins promote and set-weight to what
/// the orchestrator reads just before sending, and leaves abort and undo unpinned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verb")]
pub enum Action {
    Promote {
        pin: Option<Pin>,
    },
    PromoteFull {
        pin: Option<Pin>,
    },
    Abort {
        pin: Option<Pin>,
    },
    Retry,
    Pause,
    Resume,
    Restart,
    /// Back to `to_revision`'s pod template (the previous revision with `None`); `to_hash`
    /// is that revision's pod hash as the caller saw it.
    Undo {
        to_revision: Option<i64>,
        pin: Option<Pin>,
        to_hash: Option<String>,
    },
    SetWeight {
        weight: i32,
        pin: Option<Pin>,
    },
    /// What `auto` is waiting for, in the `release-cockpit.io/auto-status` annotation.
    AutoStatus {
        text: String,
    },
}

impl Action {
    pub fn verb(&self) -> Verb {
        match self {
            Action::Promote { .. } => Verb::Promote,
            Action::PromoteFull { .. } => Verb::PromoteFull,
            Action::Abort { .. } => Verb::Abort,
            Action::Retry => Verb::Retry,
            Action::Pause => Verb::Pause,
            Action::Resume => Verb::Resume,
            Action::Restart => Verb::Restart,
            Action::Undo { .. } => Verb::Undo,
            Action::SetWeight { .. } => Verb::SetWeight,
            Action::AutoStatus { .. } => Verb::AutoStatus,
        }
    }

    /// The pin this action carries, if any.
    pub fn pin(&self) -> Option<&Pin> {
        match self {
            Action::Promote { pin }
            | Action::PromoteFull { pin }
            | Action::Abort { pin }
            | Action::Undo { pin, .. }
            | Action::SetWeight { pin, .. } => pin.as_ref(),
            Action::Retry
            | Action::Pause
            | Action::Resume
            | Action::Restart
            | Action::AutoStatus { .. } => None,
        }
    }
}

/// Which tool sent a command; recorded in the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Gui,
    Cli,
    Auto,
}

/// A command aimed at one rollout, with who sends it and an optional comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub target: RolloutRef,
    pub action: Action,
    pub tool: Tool,
    pub comment: Option<String>,
}
