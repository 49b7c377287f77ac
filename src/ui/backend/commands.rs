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

/// The journal id of the last abort this window sent, per rollout: where the rollback's
/// outcome goes once the window sees one.
pub type SentAborts = Arc<Mutex<HashMap<RolloutRef, String>>>;

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
    let event = match run(current, &command, &options).await {
        Ok((outcome, id, warnings)) => {
            if outcome.verb == Verb::Abort {
                super::lock(&aborts).insert(command.target.clone(), id);
            }
            for warning in warnings {
                sink.emit(AppEvent::Problem(warning));
            }
            AppEvent::CommandDone(outcome)
        }
        Err(error) => AppEvent::CommandFailed { command, error },
    };
    sink.emit(event);
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
        if done.complete {
            sent.remove(&done.rollout)
        } else {
            sent.get(&done.rollout).cloned()
        }
    };
    let Some(id) = id else {
        return;
    };
    let journal = match journal.map_or_else(Journal::default_location, Ok) {
        Ok(journal) => journal,
        Err(e) => {
            tracing::warn!("the rollback's outcome was not journaled: {e}");
            return;
        }
    };
    if let Err(e) = rollback::record(&journal, &id, done) {
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
