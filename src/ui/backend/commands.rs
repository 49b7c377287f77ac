//! Commands from the window's buttons: the context's client, then
//! `orchestrator::execute_with` — the same choke point the CLI verbs use (guards, identity,
//! permissions, journal, audit) — answered with the outcome or the error in words.

use super::EventSink;
use super::fleet::Current;
use super::trust::Trust;
use crate::model::{Command, Outcome};
use crate::orchestrator::{self, ExecuteOptions, Journal};
use crate::ui::events::AppEvent;
use std::sync::Arc;

/// One command and what it runs with.
pub struct CommandJob {
    pub sink: EventSink,
    pub current: Option<Current>,
    pub trust: Arc<Trust>,
    pub options: ExecuteOptions,
    pub command: Command,
}

/// Run one command and tell the window how it went.
pub async fn execute(job: CommandJob) {
    let CommandJob {
        sink,
        current,
        trust,
        mut options,
        command,
    } = job;
    let context = &command.target.context;
    // What the window already knows saves the orchestrator a round trip; a 403 that still
    // happens comes back in the server's words.
    options.identity = trust.identity(context);
    options.access = trust.access.fresh(context, &command.target.namespace);
    let event = match run(current, &command, &options).await {
        Ok((outcome, warnings)) => {
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
) -> Result<(Outcome, Vec<String>), String> {
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
        .map(|done| (done.outcome, done.warnings))
        .map_err(|e| e.to_string())
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
                 never finished: the process stopped before its outcome was known; look at \
                 the rollout before sending it again",
                intent.verb,
                intent.rollout.name,
                intent.rollout.namespace,
                intent.rollout.context,
                intent.user,
                intent.time,
            )
        })
        .collect();
    if let Err(e) = orchestrator::acknowledge(&journal, &crashed) {
        tracing::warn!("could not close the unfinished commands in the journal: {e}");
    }
    texts
}
