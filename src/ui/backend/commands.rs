//! Commands from the window's buttons: the context's client, then `orchestrator::execute` —
//! the same function the CLI verbs call — answered with the outcome or the error in words.

use super::EventSink;
use super::fleet::Current;
use crate::model::Command;
use crate::orchestrator;
use crate::ui::events::AppEvent;

/// Run one command and tell the window how it went.
pub async fn execute(sink: EventSink, current: Option<Current>, command: Command) {
    let event = match run(current, &command).await {
        Ok(outcome) => AppEvent::CommandDone(outcome),
        Err(error) => AppEvent::CommandFailed { command, error },
    };
    sink.emit(event);
}

async fn run(current: Option<Current>, command: &Command) -> Result<crate::model::Outcome, String> {
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
    orchestrator::execute(&client, command)
        .await
        .map_err(|e| e.to_string())
}
