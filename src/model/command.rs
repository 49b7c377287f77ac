//! Commands: a verb with its arguments, aimed at one rollout. The window emits these and
//! the orchestrator executes them — the same functions the CLI verbs call.

use super::{RolloutRef, Verb};
use serde::{Deserialize, Serialize};

/// The step the caller saw. Promote and set-weight apply only to it: if the rollout has
/// moved on, the API server refuses the change and nothing happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPin {
    pub step: i32,
    pub pod_hash: Option<String>,
}

/// A verb and its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verb")]
pub enum Action {
    Promote { pin: Option<StepPin> },
    PromoteFull,
    Abort,
    Retry,
    Pause,
    Resume,
    Restart,
    Undo { to_revision: Option<i64> },
    SetWeight { weight: i32, pin: Option<StepPin> },
}

impl Action {
    pub fn verb(&self) -> Verb {
        match self {
            Action::Promote { .. } => Verb::Promote,
            Action::PromoteFull => Verb::PromoteFull,
            Action::Abort => Verb::Abort,
            Action::Retry => Verb::Retry,
            Action::Pause => Verb::Pause,
            Action::Resume => Verb::Resume,
            Action::Restart => Verb::Restart,
            Action::Undo { .. } => Verb::Undo,
            Action::SetWeight { .. } => Verb::SetWeight,
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
