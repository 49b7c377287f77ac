//! The journal's lines: a command's [`Intent`] (written before its first request), a
//! [`StageDone`] after each stage of a command in stages, and its [`Completion`]; one JSON
//! object per line, tagged by `kind`. The file itself: [`super::journal`].

use crate::model::{Pin, RolloutRef, Tool, Verb};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a command is about to do, written before its first request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    pub id: String,
    pub time: jiff::Timestamp,
    pub user: String,
    pub rollout: RolloutRef,
    pub verb: Verb,
    pub from_step: Option<i32>,
    pub to_step: Option<i32>,
    pub weight: Option<i32>,
    pub comment: Option<String>,
    pub tool: Tool,
    /// The process that sent it, to tell a crashed command from one still running.
    #[serde(default)]
    pub pid: Option<u32>,
    /// What the command was pinned to (what its sender saw), when it was pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Pin>,
    /// Undo: the revision it goes back to, and that revision's pod hash as the sender saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_revision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_hash: Option<String>,
    /// A command that runs in stages (a weighted release's promote --full): the stage it
    /// starts at. In [`unfinished`] and [`crashed`], the stage it had reached: the one after
    /// the last stage it journaled as done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Box<Stage>>,
}

/// One stage of a command that runs in stages, e.g. "stage 2 of 4 (wait until Deployment
/// cart-stable is available)".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub number: u32,
    pub of: u32,
    /// What the stage does, in words.
    pub what: String,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stage {} of {} ({})", self.number, self.of, self.what)
    }
}

/// A stage finished, written with the intent's id; `next` is the stage that follows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageDone {
    pub id: String,
    pub time: jiff::Timestamp,
    pub done: Stage,
    pub next: Option<Stage>,
}

impl Intent {
    /// True while the process that wrote this intent may still be sending it: its pid is
    /// alive (Linux: `/proc/PID`), or, where that cannot be checked, for ten minutes.
    pub fn may_be_running(&self, now: jiff::Timestamp) -> bool {
        let Some(pid) = self.pid else {
            return false;
        };
        if pid == std::process::id() {
            return true;
        }
        let proc = Path::new("/proc");
        if proc.is_dir() {
            return proc.join(pid.to_string()).exists();
        }
        now.duration_since(self.time) < jiff::SignedDuration::from_mins(10)
    }

    /// For a report of an unfinished command in stages: " — it stopped at stage 3 of 4
    /// (...); run promote --full again to continue from there"; empty for other commands.
    pub fn stopped_at(&self) -> String {
        match &self.stage {
            Some(stage) => format!(
                " — it stopped at {stage}; run {} again to continue from there (the stages \
                 already done are seen on the cluster and not repeated)",
                self.verb.command_words()
            ),
            None => String::new(),
        }
    }
}

/// How a command ended, as far as the cockpit knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandResult {
    /// Sent and accepted (or nothing needed sending).
    Done,
    /// A step-pinned command found the rollout at another step; nothing was changed.
    MovedOn,
    /// Refused by the cluster or a guard; nothing was changed.
    Refused,
    /// Some requests were applied, then one was refused.
    PartlyApplied,
    /// The connection failed after a request may have been sent: re-read to know.
    Unknown,
}

/// How a command ended, written with the intent's id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    pub id: String,
    pub time: jiff::Timestamp,
    pub result: CommandResult,
    /// The step the rollout was at afterwards, when known.
    pub step: Option<i32>,
    pub resource_version: Option<String>,
    /// The outcome or error in words.
    pub message: String,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
// Entries live one at a time, a line being written or read: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Entry {
    Intent(Intent),
    Stage(StageDone),
    Outcome(Completion),
}
