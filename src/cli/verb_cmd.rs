//! The verbs that change a rollout: each becomes a `Command` for
//! `orchestrator::execute_with`, the same entry point the window uses.

use super::output::outcome_line;
use super::session::Session;
use super::{Commands, GlobalArgs, OutputFormat};
use crate::model::{Action, Command, Pin, Tool};
use crate::orchestrator::{self, ExecuteOptions, Journal, rollback};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// The environment setting that makes a comment required on every command.
pub const REQUIRE_COMMENT_ENV: &str = "RELEASE_COCKPIT_REQUIRE_COMMENT";

/// The action a verb subcommand asks for, with its `--comment`; `None` for the subcommands
/// that change nothing.
pub fn action_of(command: &Commands) -> Option<(String, Action, Option<String>)> {
    // What the caller saw, from --step and --expect-hash; `None` when neither was given.
    let pin = |step: &Option<i32>, hash: &Option<String>| {
        (step.is_some() || hash.is_some()).then(|| Pin {
            step: *step,
            pod_hash: hash.clone(),
            preview_hash: None,
        })
    };
    Some(match command {
        Commands::Promote {
            name,
            full,
            step,
            expect_hash,
            comment,
        } => {
            let pin = pin(step, expect_hash);
            let action = if *full {
                Action::PromoteFull { pin }
            } else {
                Action::Promote { pin }
            };
            (name.clone(), action, comment.clone())
        }
        Commands::Abort {
            name,
            expect_hash,
            comment,
            ..
        } => (
            name.clone(),
            Action::Abort {
                pin: pin(&None, expect_hash),
            },
            comment.clone(),
        ),
        Commands::Retry { name, comment } => (name.clone(), Action::Retry, comment.clone()),
        Commands::Pause { name, comment } => (name.clone(), Action::Pause, comment.clone()),
        Commands::Resume { name, comment } => (name.clone(), Action::Resume, comment.clone()),
        Commands::Restart { name, comment } => (name.clone(), Action::Restart, comment.clone()),
        Commands::Undo {
            name,
            to_revision,
            to_hash,
            expect_hash,
            comment,
        } => (
            name.clone(),
            Action::Undo {
                to_revision: *to_revision,
                pin: pin(&None, expect_hash),
                to_hash: to_hash.clone(),
            },
            comment.clone(),
        ),
        Commands::SetWeight {
            name,
            percent,
            step,
            expect_hash,
            comment,
        } => (
            name.clone(),
            Action::SetWeight {
                weight: *percent,
                pin: pin(step, expect_hash),
            },
            comment.clone(),
        ),
        Commands::List
        | Commands::Inbox(_)
        | Commands::Get { .. }
        | Commands::Watch(_)
        | Commands::Whoami
        | Commands::Metrics(_)
        | Commands::Lab(_)
        | Commands::Analyze(_)
        | Commands::Auto(_)
        | Commands::Report(_) => return None,
    })
}

/// The CLI's settings for `execute_with`: `--read-only` (or its env) and
/// `RELEASE_COCKPIT_REQUIRE_COMMENT`; the journal is the user's.
pub fn options(global: &GlobalArgs) -> ExecuteOptions {
    ExecuteOptions {
        read_only: global.read_only,
        require_comment: std::env::var(REQUIRE_COMMENT_ENV)
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
        ..ExecuteOptions::default()
    }
}

/// "stage 1 of 4 done (copy the canary's pod template to Deployment cart-stable): ...".
fn print_stage(out: &mut dyn Write, stage: &orchestrator::StageProgress) -> std::io::Result<()> {
    writeln!(
        out,
        "stage {} of {} done ({}): {}",
        stage.done.number, stage.done.of, stage.done.what, stage.summary
    )?;
    out.flush()
}

/// Sends the action through `orchestrator::execute_with` and prints the outcome (and, on
/// stderr, any part of the audit trail that could not be written). With `wait` (an abort's
/// `--wait`), then tracks the rollback until complete or stuck (see [`rollback::track`]),
/// prints it, journals it beside the abort, and exits 1 when it is stuck.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    session: &Session,
    name: &str,
    action: Action,
    comment: Option<String>,
    options: &ExecuteOptions,
    format: OutputFormat,
    wait: Option<Duration>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let target = orchestrator::resolve(&session.client, &session.target(name)).await?;
    if wait.is_some() && target.provider == crate::model::Provider::Flagger {
        // Refused before sending: the rollback would go out and its tracking fail after.
        return Err(super::UsageError(format!(
            "abort --wait tracks Argo rollouts and weighted releases, not yet Flagger canaries; \
             {} is a {} release: run abort without --wait and follow it with `get {}`",
            target.name,
            target.provider.as_str(),
            target.name
        ))
        .into());
    }
    let command = Command {
        target,
        action,
        tool: Tool::Cli,
        comment,
    };
    let sent_at = tokio::time::Instant::now();
    let done = match format {
        // A command in stages can wait minutes (a Deployment rolling out): each stage is
        // printed as it is done, so a pipeline's log shows where it is.
        OutputFormat::Text => {
            let (progress, mut stages) = tokio::sync::mpsc::unbounded_channel();
            let options = ExecuteOptions {
                stage_progress: Some(progress),
                ..options.clone()
            };
            let execute = orchestrator::execute_with(&session.client, &command, &options);
            tokio::pin!(execute);
            let done = loop {
                tokio::select! {
                    done = &mut execute => break done,
                    Some(stage) = stages.recv() => print_stage(out, &stage)?,
                }
            };
            while let Ok(stage) = stages.try_recv() {
                print_stage(out, &stage)?;
            }
            done?
        }
        _ => orchestrator::execute_with(&session.client, &command, options).await?,
    };
    for warning in &done.warnings {
        eprintln!("warning: {warning}");
    }
    let Some(timeout) = wait else {
        match format {
            OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
                writeln!(out, "{}", outcome_line(&done.outcome))?
            }
            OutputFormat::Json => {
                writeln!(out, "{}", serde_json::to_string_pretty(&done.outcome)?)?
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    if format == OutputFormat::Text {
        writeln!(out, "{}", outcome_line(&done.outcome))?;
        out.flush()?;
    }
    let tracked = rollback::track(
        &session.client,
        &command.target,
        sent_at,
        timeout,
        rollback::TRACK_EVERY,
    )
    .await?;
    let journal = match &options.journal {
        Some(journal) => Ok(journal.clone()),
        None => Journal::default_location(),
    };
    if let Err(e) = journal.and_then(|j| rollback::record(&j, &done.id, &tracked)) {
        eprintln!("warning: the rollback's outcome was not journaled: {e}");
    }
    match format {
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
            writeln!(out, "{}", tracked.message)?
        }
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "outcome": done.outcome,
                "rollback": tracked,
            }))?
        )?,
    }
    Ok(if tracked.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
