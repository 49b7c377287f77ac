//! The verbs that change a rollout: each becomes a `Command` for `orchestrator::execute`,
//! the same entry point the window uses.

use super::output::outcome_line;
use super::session::Session;
use super::{Commands, OutputFormat};
use crate::model::{Action, Command, StepPin, Tool};
use crate::orchestrator;
use std::io::Write;
use std::process::ExitCode;

/// The action a verb subcommand asks for, or `None` for the read-only subcommands.
pub fn action_of(command: &Commands) -> Option<(String, Action)> {
    let pin = |step: &Option<i32>| {
        step.map(|step| StepPin {
            step,
            pod_hash: None,
        })
    };
    Some(match command {
        Commands::Promote {
            name, full: true, ..
        } => (name.clone(), Action::PromoteFull),
        Commands::Promote {
            name,
            full: false,
            step,
        } => (name.clone(), Action::Promote { pin: pin(step) }),
        Commands::Abort { name } => (name.clone(), Action::Abort),
        Commands::Retry { name } => (name.clone(), Action::Retry),
        Commands::Pause { name } => (name.clone(), Action::Pause),
        Commands::Resume { name } => (name.clone(), Action::Resume),
        Commands::Restart { name } => (name.clone(), Action::Restart),
        Commands::Undo { name, to_revision } => (
            name.clone(),
            Action::Undo {
                to_revision: *to_revision,
            },
        ),
        Commands::SetWeight {
            name,
            percent,
            step,
        } => (
            name.clone(),
            Action::SetWeight {
                weight: *percent,
                pin: pin(step),
            },
        ),
        Commands::List | Commands::Get { .. } | Commands::Watch(_) | Commands::Metrics(_) => {
            return None;
        }
    })
}

/// Sends the action through `orchestrator::execute` and prints the outcome.
pub async fn run(
    session: &Session,
    name: &str,
    action: Action,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let command = Command {
        target: session.target(name),
        action,
        tool: Tool::Cli,
        comment: None,
    };
    let outcome = orchestrator::execute(&session.client, &command).await?;
    match format {
        OutputFormat::Text => writeln!(out, "{}", outcome_line(&outcome))?,
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&outcome)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
