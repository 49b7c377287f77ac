//! The local journal: one JSON line per command, the intent written and fsynced before the
//! first request and the outcome after it, so a crash in between leaves a visible intent
//! ([`unfinished`]). Append-only; rotated by size to `journal.1`.

use crate::model::{Pin, RolloutRef, Tool, Verb};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The environment variable that moves the data dir (tests point it at a temp dir).
pub const DATA_DIR_ENV: &str = "RELEASE_COCKPIT_DATA_DIR";
/// The journal file's name inside the data dir; the rotated one is `journal.jsonl.1`.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// Past this size the journal is rotated before the next line.
pub const DEFAULT_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// Why the journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("no data directory for the journal: the home directory is unknown; set {DATA_DIR_ENV}")]
    NoDataDir,
    #[error("cannot write the command journal {}: {source}; nothing was sent (fix the file or set {DATA_DIR_ENV})", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the command journal {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

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
pub enum Entry {
    Intent(Intent),
    Outcome(Completion),
}

/// The journal file; cheap to clone, shared by every command of a process.
#[derive(Clone, Debug)]
pub struct Journal {
    path: PathBuf,
    rotate_bytes: u64,
    /// Serialises writers in this process so rotation and appends do not interleave.
    lock: Arc<Mutex<()>>,
}

impl Journal {
    /// The journal at `path`, rotated past `rotate_bytes`.
    pub fn at(path: impl Into<PathBuf>, rotate_bytes: u64) -> Journal {
        Journal {
            path: path.into(),
            rotate_bytes,
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// The user's journal: `$RELEASE_COCKPIT_DATA_DIR/journal.jsonl`, else the platform
    /// data dir (`~/.local/share/release-cockpit/` on Linux).
    pub fn default_location() -> Result<Journal, JournalError> {
        Ok(Journal::at(
            data_dir()?.join(JOURNAL_FILE),
            DEFAULT_ROTATE_BYTES,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rotated file that holds the lines before the current file's.
    pub fn rotated_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".1");
        PathBuf::from(name)
    }

    /// Appends one line and fsyncs it before returning.
    pub fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        let write_err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(entry).map_err(|e| write_err(e.into()))?;
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size > 0 && size + line.len() as u64 > self.rotate_bytes {
            std::fs::rename(&self.path, self.rotated_path()).map_err(write_err)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(write_err)?;
        // One write of the whole line: O_APPEND keeps lines of concurrent writers whole.
        file.write_all(&line).map_err(write_err)?;
        file.sync_data().map_err(write_err)
    }

    /// Every line, oldest first (the rotated file, then the current one). Lines that do not
    /// parse (a torn last line after a power cut) are skipped.
    pub fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let mut entries = Vec::new();
        for path in [self.rotated_path(), self.path.clone()] {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(JournalError::Read { path, source }),
            };
            for line in std::io::BufReader::new(file).lines() {
                let line = line.map_err(|source| JournalError::Read {
                    path: path.clone(),
                    source,
                })?;
                if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                    entries.push(entry);
                }
            }
        }
        Ok(entries)
    }
}

/// The commands whose intent was written but whose outcome never was: the process died (or
/// was killed) between the two, so whether they reached the cluster is unknown. Oldest first.
pub fn unfinished(journal: &Journal) -> Result<Vec<Intent>, JournalError> {
    let entries = journal.entries()?;
    let finished: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Outcome(c) => Some(c.id.as_str()),
            Entry::Intent(_) => None,
        })
        .collect();
    Ok(entries
        .iter()
        .filter_map(|e| match e {
            Entry::Intent(i) if !finished.contains(i.id.as_str()) => Some(i.clone()),
            _ => None,
        })
        .collect())
}

/// The unfinished commands whose process is gone: the ones to report on start.
pub fn crashed(journal: &Journal) -> Result<Vec<Intent>, JournalError> {
    let now = jiff::Timestamp::now();
    Ok(unfinished(journal)?
        .into_iter()
        .filter(|i| !i.may_be_running(now))
        .collect())
}

/// Closes reported unfinished commands with an `unknown` outcome (whether they reached the
/// cluster cannot be known any more), so each is reported once.
pub fn acknowledge(journal: &Journal, intents: &[Intent]) -> Result<(), JournalError> {
    for intent in intents {
        journal.append(&Entry::Outcome(Completion {
            id: intent.id.clone(),
            time: jiff::Timestamp::now(),
            result: CommandResult::Unknown,
            step: None,
            resource_version: None,
            message: "the process stopped before the outcome was written; reported on a later start; look at the rollout to know whether it happened".into(),
        }))?;
    }
    Ok(())
}

/// A fresh command id: time-ordered, unique across processes.
pub fn new_id(now: jiff::Timestamp) -> String {
    format!(
        "{}-{:08x}",
        now.strftime("%Y%m%dT%H%M%S%.6fZ"),
        rand::random::<u32>()
    )
}

fn data_dir() -> Result<PathBuf, JournalError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("io", "release-cockpit", "release-cockpit")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(JournalError::NoDataDir)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
