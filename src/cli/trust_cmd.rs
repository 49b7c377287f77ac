//! `whoami` (the user the cluster sees and what they may do to rollouts here), and the
//! start-up warning about commands a crash left without an outcome in the journal.

use super::OutputFormat;
use super::session::Session;
use crate::orchestrator::{self, Decision, Journal, Permission};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

/// Prints who the user is in the session's context and, for the session's namespace,
/// which of the cockpit's permissions they have.
pub async fn whoami(
    session: &Session,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let identity = orchestrator::whoami(&session.client, &session.context).await?;
    let access =
        orchestrator::access(&session.client, &session.context, &session.namespace).await?;
    match format {
        OutputFormat::Json => {
            let doc = json!({"context": session.context, "identity": identity, "access": access});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
            writeln!(out, "user:     {}", identity.display_name())?;
            if !identity.groups.is_empty() {
                writeln!(out, "groups:   {}", identity.groups.join(", "))?;
            }
            writeln!(out, "context:  {}", session.context)?;
            writeln!(out, "in namespace {}:", session.namespace)?;
            for permission in Permission::ALL {
                let answer = match access.decision(permission) {
                    Decision::Allowed => "yes".to_string(),
                    Decision::Denied { reason: Some(r) } => format!("no ({r})"),
                    Decision::Denied { reason: None } => "no".to_string(),
                    Decision::Unknown => "unknown (the server cannot say)".to_string(),
                };
                writeln!(out, "  {:<22} {answer}", permission.as_str())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Warns on stderr about commands whose process stopped between intent and outcome (each
/// once: they are then closed as `unknown`). A journal that cannot be read is not an error
/// here; the next command that needs it says so.
pub fn report_crashed_commands() {
    let Ok(journal) = Journal::default_location() else {
        return;
    };
    let Ok(crashed) = orchestrator::crashed(&journal) else {
        return;
    };
    for intent in &crashed {
        let steps = match (intent.from_step, intent.to_step) {
            (Some(from), Some(to)) => format!(" (step {from} → {to})"),
            _ => String::new(),
        };
        eprintln!(
            "warning: {} on rollout '{}' in namespace {} of context {}{steps}, sent by {} at {}, never finished: the process stopped before its outcome was known{}; check the rollout (release-cockpit --context {} -n {} get {}) before sending it again",
            intent.verb,
            intent.rollout.name,
            intent.rollout.namespace,
            intent.rollout.context,
            intent.user,
            intent.time,
            intent.stopped_at(),
            intent.rollout.context,
            intent.rollout.namespace,
            intent.rollout.name,
        );
    }
    if !crashed.is_empty()
        && let Err(e) = orchestrator::acknowledge(&journal, &crashed)
    {
        eprintln!("warning: {e}");
    }
}
