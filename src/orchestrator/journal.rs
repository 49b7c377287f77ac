//! The local journal: one JSON line per command, the intent written and fsynced before the
//! first request and the outcome after it, so a crash in between leaves a visible intent
//! ([`unfinished`]). Append-only; rotated by size to `journal.jsonl.1`. Private to the user
//! (file 0600 in a 0700 directory) and written by one process at a time (a file lock), so the
//! window and a CLI in a terminal never tear or lose each other's lines.

pub use super::journal_entry::{CommandResult, Completion, Entry, Intent, Stage, StageDone};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The environment variable that moves the data dir (tests point it at a temp dir).
pub const DATA_DIR_ENV: &str = "RELEASE_COCKPIT_DATA_DIR";
/// The journal file's name inside the data dir; the rotated one is `journal.jsonl.1`.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// Past this size the journal is rotated before the next line.
pub const DEFAULT_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// How much of the journal's end a start-up check reads ([`crashed`]): a crashed command is
/// reported by the next start, so its intent is among the last lines; ~1000 commands.
pub const START_SCAN_BYTES: u64 = 256 * 1024;
/// The journal file's mode (Unix): the user's alone.
pub const FILE_MODE: u32 = 0o600;
/// The journal directory's mode (Unix): the user's alone.
pub const DIR_MODE: u32 = 0o700;

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
    #[error("cannot lock the command journal {}: {source}; nothing was sent (check the file system, or set {DATA_DIR_ENV} to a local directory)", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the command journal {}: {source}; check its permissions (it should be yours, mode 0600)", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

    /// The lock file every writer takes (`journal.jsonl.lock`): a file of its own, because
    /// rotation renames the journal itself.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Appends one line and fsyncs it before returning. Under the process's mutex and the
    /// cross-process file lock: the size is read, the file rotated if needed and the line
    /// written while no other writer can, so no line is torn and no rotation is lost.
    pub fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        let write_err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        // Messages are redacted where errors are built; this is the last line of defence
        // before the disk (a URL with a token in a comment, an error built elsewhere).
        let mut entry = entry.clone();
        match &mut entry {
            Entry::Intent(intent) => {
                intent.comment = intent.comment.as_deref().map(crate::redact::redact);
            }
            Entry::Stage(_) => {}
            Entry::Outcome(outcome) => outcome.message = crate::redact::redact(&outcome.message),
        }
        let mut line = serde_json::to_vec(&entry).map_err(|e| write_err(e.into()))?;
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).map_err(write_err)?;
        }
        let _lock = self.file_lock(true)?;
        // Another process may have rotated or written since: the size is read under the lock.
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size > 0 && size + line.len() as u64 > self.rotate_bytes {
            std::fs::rename(&self.path, self.rotated_path()).map_err(write_err)?;
        }
        let mut file = private_file(&self.path).map_err(write_err)?;
        // One write of the whole line (O_APPEND), then fsync, all under the lock.
        file.write_all(&line).map_err(write_err)?;
        file.sync_data().map_err(write_err)
    }

    /// Takes the cross-process lock: exclusive for writers, shared for readers (so a reader
    /// never sees a rotation half done). Released when the returned file is dropped.
    fn file_lock(&self, exclusive: bool) -> Result<std::fs::File, JournalError> {
        let path = self.lock_path();
        let lock_err = |source| JournalError::Lock {
            path: path.clone(),
            source,
        };
        let file = private_file(&path).map_err(lock_err)?;
        if exclusive {
            file.lock().map_err(lock_err)?;
        } else {
            file.lock_shared().map_err(lock_err)?;
        }
        Ok(file)
    }

    /// Every line, oldest first (the rotated file, then the current one). Lines that do not
    /// parse (a torn last line after a power cut) are skipped. Reads both files whole: for
    /// the start-up check use [`Journal::recent_entries`].
    pub fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        self.recent_entries(u64::MAX)
    }

    /// The lines in the last `max_bytes` of the journal (the current file's end, then the
    /// rotated file's end when the current one is shorter), oldest first. A line cut by the
    /// limit is skipped. Reads at most `max_bytes` whatever the journal's size.
    pub fn recent_entries(&self, max_bytes: u64) -> Result<Vec<Entry>, JournalError> {
        // No lock file yet: nothing was ever written, and a reader creates nothing.
        let _lock = match self.lock_path().exists() {
            true => Some(self.file_lock(false)?),
            false => None,
        };
        let mut chunks = Vec::new();
        let mut budget = max_bytes;
        for path in [self.path.clone(), self.rotated_path()] {
            if budget == 0 {
                break;
            }
            let read_err = |source| JournalError::Read {
                path: path.clone(),
                source,
            };
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(read_err(source)),
            };
            let len = file.metadata().map_err(read_err)?.len();
            let take = len.min(budget);
            budget -= take;
            file.seek(SeekFrom::Start(len - take)).map_err(read_err)?;
            let mut reader = std::io::BufReader::new(file.take(take));
            if take < len {
                // Started inside a line (or at its start: then that line is lost, harmlessly).
                let mut cut = Vec::new();
                reader.read_until(b'\n', &mut cut).map_err(read_err)?;
            }
            let mut entries = Vec::new();
            for line in reader.split(b'\n') {
                let line = line.map_err(read_err)?;
                if let Ok(entry) = serde_json::from_slice::<Entry>(&line) {
                    entries.push(entry);
                }
            }
            chunks.push(entries);
        }
        Ok(chunks.into_iter().rev().flatten().collect())
    }
}

/// Creates `dir` (and its parents) for the user alone; tightens an existing directory that
/// others may read. A directory the user does not own and cannot tighten is used as it is.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)?;
        }
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
        {
            tracing::warn!(
                "the journal directory {} is mode {:o} (others may read it) and could not be \
                 tightened to 0700: {e}; run: chmod 700 {}",
                dir.display(),
                mode & 0o777,
                dir.display()
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Opens `path` to append, created 0600; an existing file others may read is tightened.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(FILE_MODE);
        let file = options.open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// The commands whose intent was written but whose outcome never was: the process died (or
/// was killed) between the two, so whether they reached the cluster is unknown. Oldest first.
/// Reads the whole journal: for the start-up check use [`crashed`], which reads its end.
pub fn unfinished(journal: &Journal) -> Result<Vec<Intent>, JournalError> {
    Ok(unfinished_among(&journal.entries()?))
}

/// The intents among `entries` with no outcome among them, each with the stage it had
/// reached when it runs in stages. An outcome always follows its intent, so on the
/// journal's last lines this is exact for every intent they hold.
fn unfinished_among(entries: &[Entry]) -> Vec<Intent> {
    let finished: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Outcome(c) => Some(c.id.as_str()),
            Entry::Intent(_) | Entry::Stage(_) => None,
        })
        .collect();
    let reached: std::collections::HashMap<&str, &StageDone> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Stage(s) => Some((s.id.as_str(), s)),
            Entry::Intent(_) | Entry::Outcome(_) => None,
        })
        .collect();
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Intent(i) if !finished.contains(i.id.as_str()) => {
                let mut intent = i.clone();
                if let Some(done) = reached.get(i.id.as_str()) {
                    intent.stage = Some(Box::new(done.next.clone().unwrap_or(done.done.clone())));
                }
                Some(intent)
            }
            _ => None,
        })
        .collect()
}

/// The unfinished commands whose process is gone: the ones to report on start. Reads only
/// the journal's last [`START_SCAN_BYTES`], so a start costs the same with a 10 MB journal
/// as with an empty one; each start reports (and closes) what crashed before it, so an
/// older crash was already reported.
pub fn crashed(journal: &Journal) -> Result<Vec<Intent>, JournalError> {
    let now = jiff::Timestamp::now();
    Ok(unfinished_among(&journal.recent_entries(START_SCAN_BYTES)?)
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
