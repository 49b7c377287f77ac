//! Commands from the window's buttons: the context's client, then
//! `orchestrator::execute_with` — the same choke point the CLI verbs use (guards, identity,
//! permissions, journal, audit) — answered with the outcome or the error in words; and the
//! rollback's outcome the window saw, journaled beside the abort this window sent.

use super::EventSink;
use super::fleet::Current;
use super::trust::Trust;
use crate::model::{Command, Outcome, RolloutRef, Verb};
use crate::orchestrator::rollback::{self, RollbackOutcome};
use crate::orchestrator::{self, ExecuteOptions, Journal};
use crate::ui::events::AppEvent;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The last abort this window sent, per rollout: where the rollback's outcome goes once the
/// window sees one.
pub type SentAborts = Arc<Mutex<HashMap<RolloutRef, SentAbort>>>;

/// An abort this window sent.
#[derive(Clone, Debug, PartialEq)]
pub enum SentAbort {
    /// Not answered yet. The window may see the rollback complete from the fleet's views
    /// before the abort's own answer is back (its audit trail and journal come after the
    /// change): that outcome waits here for the abort's journal id.
    InFlight { reached: Option<RollbackOutcome> },
    /// Answered: the abort's id in the journal.
    Sent(String),
}

/// One command and what it runs with.
pub struct CommandJob {
    pub sink: EventSink,
    pub current: Option<Current>,
    pub trust: Arc<Trust>,
    pub options: ExecuteOptions,
    pub command: Command,
    pub aborts: SentAborts,
}

/// Run one command and tell the window how it went.
pub async fn execute(job: CommandJob) {
    let CommandJob {
        sink,
        current,
        trust,
        mut options,
        command,
        aborts,
    } = job;
    let context = &command.target.context;
    // What the window already knows saves the orchestrator a round trip; a 403 that still
    // happens comes back in the server's words.
    options.identity = trust.identity(context);
    options.access = trust.access.fresh(context, &command.target.namespace);
    let abort = command.action.verb() == Verb::Abort;
    if abort {
        super::lock(&aborts).insert(
            command.target.clone(),
            SentAbort::InFlight { reached: None },
        );
    }
    let event = match run(current, &command, &options).await {
        Ok((outcome, id, warnings)) => {
            if abort {
                abort_answered(&aborts, &command.target, id, options.journal.clone());
            }
            for warning in warnings {
                sink.emit(AppEvent::Problem(warning));
            }
            AppEvent::CommandDone(outcome)
        }
        Err(error) => {
            if abort {
                super::lock(&aborts).remove(&command.target);
            }
            AppEvent::CommandFailed { command, error }
        }
    };
    sink.emit(event);
}

/// The abort to `target` was answered with journal id `id`: a rollback outcome the window
/// reached meanwhile is journaled now (off the runtime's threads: it fsyncs).
fn abort_answered(aborts: &SentAborts, target: &RolloutRef, id: String, journal: Option<Journal>) {
    let reached = {
        let mut sent = super::lock(aborts);
        let reached = match sent.get(target) {
            Some(SentAbort::InFlight { reached }) => reached.clone(),
            _ => None,
        };
        if reached.as_ref().is_some_and(|done| done.complete) {
            sent.remove(target);
        } else {
            sent.insert(target.clone(), SentAbort::Sent(id.clone()));
        }
        reached
    };
    if let Some(done) = reached {
        tokio::task::spawn_blocking(move || journal_rollback(journal, &id, &done));
    }
}

async fn run(
    current: Option<Current>,
    command: &Command,
    options: &ExecuteOptions,
) -> Result<(Outcome, String, Vec<String>), String> {
    let Some(current) = current else {
        return Err(format!(
            "{} {} was not sent: no kubeconfig is loaded yet; open one (File → Open \
             kubeconfig…) or start the lab",
            command.action.verb(),
            command.target
        ));
    };
    let client = current
        .kubeconfig
        .client(&command.target.context)
        .await
        .map_err(|e| e.to_string())?;
    orchestrator::execute_with(&client, command, options)
        .await
        .map(|done| (done.outcome, done.id, done.warnings))
        .map_err(|e| e.to_string())
}

/// Journals the rollback's outcome as a second outcome line of the abort this window sent
/// to `done.rollout` (nothing when the abort came from elsewhere: the CLI's `--wait` and
/// `auto` journal their own). A complete rollback closes it; a stuck one may still complete.
pub fn record_rollback(journal: Option<Journal>, aborts: &SentAborts, done: &RollbackOutcome) {
    let id = {
        let mut sent = super::lock(aborts);
        match sent.get_mut(&done.rollout) {
            Some(SentAbort::InFlight { reached }) => {
                *reached = Some(done.clone());
                return;
            }
            Some(SentAbort::Sent(id)) => {
                let id = id.clone();
                if done.complete {
                    sent.remove(&done.rollout);
                }
                id
            }
            None => return,
        }
    };
    journal_rollback(journal, &id, done);
}

/// Appends the rollback's outcome beside abort `id` in the journal.
fn journal_rollback(journal: Option<Journal>, id: &str, done: &RollbackOutcome) {
    let journal = match journal.map_or_else(Journal::default_location, Ok) {
        Ok(journal) => journal,
        Err(e) => {
            tracing::warn!("the rollback's outcome was not journaled: {e}");
            return;
        }
    };
    if let Err(e) = rollback::record(&journal, id, done) {
        tracing::warn!("the rollback's outcome was not journaled: {e}");
    }
}

/// Commands whose process stopped between the journal's intent and its outcome, in words;
/// each is then closed as `unknown` so it is reported once. A journal that cannot be read
/// is not reported here: the next command that needs it says so.
pub fn unfinished_from_earlier_runs(journal: Option<Journal>) -> Vec<String> {
    let Some(journal) = journal.or_else(|| Journal::default_location().ok()) else {
        return Vec::new();
    };
    let Ok(crashed) = orchestrator::crashed(&journal) else {
        return Vec::new();
    };
    let texts = crashed
        .iter()
        .map(|intent| {
            let steps = match (intent.from_step, intent.to_step) {
                (Some(from), Some(to)) => format!(" (step {from} → {to})"),
                _ => String::new(),
            };
            format!(
                "{} on rollout '{}' in namespace {} of context {}{steps}, sent by {} at {}, \
                 never finished: the process stopped before its outcome was known{}; look at \
                 the rollout before sending it again",
                intent.verb,
                intent.rollout.name,
                intent.rollout.namespace,
                intent.rollout.context,
                intent.user,
                intent.time,
                intent.stopped_at(),
            )
        })
        .collect();
    if let Err(e) = orchestrator::acknowledge(&journal, &crashed) {
        tracing::warn!("could not close the unfinished commands in the journal: {e}");
    }
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(rollout: &RolloutRef) -> RollbackOutcome {
        RollbackOutcome {
            rollout: rollout.clone(),
            complete: true,
            elapsed_secs: 1.2,
            stable_available: 5,
            desired: 5,
            canary_weight: 0,
            message: "rollback complete in 1.2 s".into(),
        }
    }

    fn journaled(journal: &Journal) -> Vec<(String, String)> {
        journal
            .entries()
            .expect("journal")
            .into_iter()
            .filter_map(|e| match e {
                crate::orchestrator::journal::Entry::Outcome(o) => Some((o.id, o.message)),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_rollback_seen_before_the_aborts_answer_is_journaled_when_it_comes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Journal::at(dir.path().join("journal.jsonl"), 1 << 20);
        let checkout = RolloutRef::new("lab-admin", "demo", "checkout");
        let aborts = SentAborts::default();
        super::super::lock(&aborts).insert(checkout.clone(), SentAbort::InFlight { reached: None });
        // The fleet's views show the rollback complete while the abort's audit trail runs.
        record_rollback(Some(journal.clone()), &aborts, &complete(&checkout));
        assert!(
            journaled(&journal).is_empty(),
            "no id to journal it beside yet"
        );
        abort_answered(&aborts, &checkout, "abort-1".into(), Some(journal.clone()));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while journaled(&journal).is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            journaled(&journal),
            [(
                "abort-1".to_string(),
                "rollback complete in 1.2 s".to_string()
            )]
        );
        assert!(
            super::super::lock(&aborts).is_empty(),
            "a complete rollback closes the abort"
        );
        // An answered abort takes the outcome at once.
        super::super::lock(&aborts).insert(checkout.clone(), SentAbort::Sent("abort-2".into()));
        record_rollback(Some(journal.clone()), &aborts, &complete(&checkout));
        assert_eq!(journaled(&journal).len(), 2);
    }
}
