//! The CLI that automation runs: clap definitions with kubectl's flag names, and one
//! handler per verb. Handlers call `cluster` and `orchestrator` and print; exit codes are
//! 0 done, 1 the cluster refused (or the rollout degraded / timed out), 2 bad usage or input.

pub mod analyze_cmd;
pub mod auto_cmd;
pub mod inbox_cmd;
pub mod lab_cmd;
pub mod metrics_cmd;
mod notify_hook;
mod output;
mod read_cmd;
pub mod report_cmd;
mod session;
mod trust_cmd;
mod verb_cmd;
mod watch_cmd;

pub use output::{human_duration, status_icon};
pub use session::Session;
pub use watch_cmd::{Until, parse_timeout};

use crate::cluster::ClusterError;
use crate::orchestrator::OrchestratorError;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Release Cockpit: progressive delivery on Kubernetes (Argo Rollouts), as a window or a CLI.
#[derive(Debug, Parser)]
#[command(name = "release-cockpit", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Without a subcommand the cockpit window opens.
    #[command(subcommand)]
    pub command: Option<Commands>,
}

/// Flags every subcommand takes, named as kubectl names them.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Refuse every command that changes a rollout; nothing is sent (also: env RELEASE_COCKPIT_READ_ONLY=true).
    #[arg(long, global = true, env = "RELEASE_COCKPIT_READ_ONLY")]
    pub read_only: bool,
    /// Open the window on the embedded lab (started in this process): no cluster needed.
    #[arg(long)]
    pub lab: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Like `kubectl argo rollouts`.
    Text,
    /// The rollout views and outcomes as JSON (one document; `watch` prints one per line).
    Json,
    /// `report` only: the release report in Markdown with SVG charts beside it.
    Markdown,
    /// `report` only: the release report as one CSV table.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// List rollouts, weighted releases and Flagger canaries: NAME NAMESPACE CONTROLLER STRATEGY
    /// STATUS STEP SET-WEIGHT READY AGE.
    List,
    /// Every rollout that needs a person, most urgent first: exit 0 none, 3 some.
    #[command(long_about = inbox_cmd::INBOX_LONG_ABOUT)]
    Inbox(inbox_cmd::InboxArgs),
    /// Show one rollout like `kubectl argo rollouts get rollout`.
    Get {
        /// Rollout name.
        name: String,
    },
    /// Stream a rollout's changes until Ctrl-C, or until a condition (for CI).
    Watch(watch_cmd::WatchArgs),
    /// Promote past the current pause or step (pinned to what it reads, or to what you saw:
    /// --step, --expect-hash).
    Promote {
        name: String,
        /// Skip all remaining steps and analyses.
        #[arg(long)]
        full: bool,
        /// Only promote if the rollout is still at step N (what you saw); otherwise nothing changes.
        #[arg(long, value_name = "N", conflicts_with = "full")]
        step: Option<i32>,
        /// Only act if the rollout still runs pod hash HASH (its canary, or its blue-green
        /// preview: what you saw); otherwise nothing changes and you are told what is there now.
        #[arg(long, value_name = "HASH")]
        expect_hash: Option<String>,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Abort the update: all traffic back to stable (--wait: until it is, for pipelines).
    Abort {
        name: String,
        /// Only act if the rollout still runs pod hash HASH (its canary, or its blue-green
        /// preview: what you saw); otherwise nothing changes and you are told what is there now.
        #[arg(long, value_name = "HASH")]
        expect_hash: Option<String>,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
        /// After the abort, wait until all traffic is on stable and stable is fully available:
        /// prints "rollback complete in 12 s" (exit 0) or "stuck: stable 2/5 available after
        /// 60 s" (exit 1, also when --timeout passes first). The outcome is journaled.
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this long (90s, 2m, 1h; a bare number is seconds).
        #[arg(long, value_parser = parse_timeout, value_name = "DURATION", default_value = "2m", requires = "wait")]
        timeout: std::time::Duration,
    },
    /// Retry an aborted update.
    Retry {
        name: String,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Pause the rollout by hand.
    Pause {
        name: String,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Resume a paused rollout.
    Resume {
        name: String,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Restart the rollout's pods.
    Restart {
        name: String,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Roll back to an earlier revision's pod template (default: the previous one).
    Undo {
        name: String,
        /// The revision to go back to.
        #[arg(long, value_name = "N")]
        to_revision: Option<i64>,
        /// Only undo if that revision still has pod hash HASH (what you saw).
        #[arg(long, value_name = "HASH")]
        to_hash: Option<String>,
        /// Only act if the rollout still runs pod hash HASH (its canary, or its blue-green
        /// preview: what you saw); otherwise nothing changes and you are told what is there now.
        #[arg(long, value_name = "HASH")]
        expect_hash: Option<String>,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Move the canary to the step that declares PERCENT (Argo has no free weight).
    SetWeight {
        name: String,
        /// A weight declared by one of the rollout's setWeight steps.
        #[arg(value_parser = clap::value_parser!(i32).range(0..=100), allow_negative_numbers = true)]
        percent: i32,
        /// Only move if the rollout is still at step N (what you saw).
        #[arg(long, value_name = "N")]
        step: Option<i32>,
        /// Only act if the rollout still runs pod hash HASH (its canary, or its blue-green
        /// preview: what you saw); otherwise nothing changes and you are told what is there now.
        #[arg(long, value_name = "HASH")]
        expect_hash: Option<String>,
        /// Why: recorded in the journal, the rollout's last-action annotation and its Event.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Who you are in the cluster (SelfSubjectReview) and what you may do to rollouts here.
    Whoami,
    /// Live traffic share, error rate and p95 per version, from Prometheus or a direct scrape.
    Metrics(metrics_cmd::MetricsArgs),
    /// Run the lab: a local Kubernetes-compatible API with a simulated Argo Rollouts
    /// controller, live traffic and (when installed) a real Prometheus.
    Lab(lab_cmd::LabArgs),
    /// Judge the canary against stable over a window: exit 0 pass, 1 fail, 3 marginal, 4 no data.
    #[command(long_about = analyze_cmd::ANALYZE_LONG_ABOUT)]
    Analyze(analyze_cmd::AnalyzeArgs),
    /// Carry a rollout through its canary hands-off: abort on fail, promote on pass.
    #[command(long_about = auto_cmd::AUTO_LONG_ABOUT)]
    Auto(auto_cmd::AutoArgs),
    /// The release report for the review (-o markdown|csv|json, --since, --out DIR).
    #[command(long_about = report_cmd::REPORT_LONG_ABOUT)]
    Report(report_cmd::ReportArgs),
}

/// A usage problem found after parsing (e.g. `-A` with a verb on one rollout): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A watch ended without its condition: the rollout degraded, disappeared or time ran out.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WatchFailed(pub String);

/// Runs one subcommand (inside the runtime `main` built).
pub async fn run_command(global: &GlobalArgs, command: Commands) -> anyhow::Result<ExitCode> {
    if global.lab {
        return Err(UsageError(
            "--lab opens the window on the embedded lab and takes no subcommand; for a lab in \
             a terminal, run: release-cockpit lab"
                .into(),
        )
        .into());
    }
    if global.all_namespaces && !matches!(command, Commands::List | Commands::Inbox(_)) {
        return Err(UsageError(
            "-A/--all-namespaces only applies to list and inbox; name the namespace with -n".into(),
        )
        .into());
    }
    if matches!(global.output, OutputFormat::Markdown | OutputFormat::Csv)
        && !matches!(command, Commands::Report(_))
    {
        return Err(UsageError(
            "-o markdown and -o csv are the formats of `report`; use -o text or -o json".into(),
        )
        .into());
    }
    if let Commands::Lab(args) = command {
        return lab_cmd::run(args).await;
    }
    trust_cmd::report_crashed_commands();
    if let Commands::Inbox(args) = &command {
        return inbox_cmd::run(global, args).await;
    }
    let session = Session::open(global).await?;
    let mut out = std::io::stdout().lock();
    match command {
        Commands::List => read_cmd::list(&session, global.output, &mut out).await,
        Commands::Get { name } => read_cmd::get(&session, &name, global.output, &mut out).await,
        Commands::Watch(args) => {
            drop(out);
            watch_cmd::watch(&session, &args, global.output).await
        }
        Commands::Metrics(mut args) => {
            drop(out);
            args.output = match global.output {
                OutputFormat::Json => metrics_cmd::MetricsOutput::Json,
                _ => metrics_cmd::MetricsOutput::Text,
            };
            let extension = crate::metrics::settings::kubeconfig_extension(
                session.kubeconfig.raw(),
                &session.context,
            );
            metrics_cmd::run(
                session.client.clone(),
                &session.context,
                &session.namespace,
                args,
                extension.as_ref(),
            )
            .await
        }
        Commands::Whoami => trust_cmd::whoami(&session, global.output, &mut out).await,
        Commands::Analyze(args) => {
            drop(out);
            let extension = crate::metrics::settings::kubeconfig_extension(
                session.kubeconfig.raw(),
                &session.context,
            );
            let json = global.output == OutputFormat::Json;
            let target =
                crate::orchestrator::resolve(&session.client, &session.target(&args.name)).await?;
            analyze_cmd::run(&session.client, &target, &args, json, extension.as_ref()).await
        }
        Commands::Report(args) => {
            drop(out);
            let extension = crate::metrics::settings::kubeconfig_extension(
                session.kubeconfig.raw(),
                &session.context,
            );
            // A name nothing resolves is the report's to word (exit 2, "no rollout …").
            let target = crate::orchestrator::resolve(&session.client, &session.target(&args.name))
                .await
                .unwrap_or_else(|_| session.target(&args.name));
            report_cmd::run(
                &session.client,
                &target,
                &args,
                global.output,
                extension.as_ref(),
            )
            .await
        }
        Commands::Auto(args) => {
            drop(out);
            let extension = crate::metrics::settings::kubeconfig_extension(
                session.kubeconfig.raw(),
                &session.context,
            );
            // An Argo rollout, a weighted release or a Flagger canary of that name.
            let target =
                crate::orchestrator::resolve(&session.client, &session.target(&args.name)).await?;
            let options = verb_cmd::options(global);
            auto_cmd::run(
                &session.client,
                &target,
                &args,
                &options,
                extension.as_ref(),
            )
            .await
        }
        verb => {
            let (name, action, comment) = verb_cmd::action_of(&verb)
                .ok_or_else(|| UsageError(format!("{verb:?} does not change a rollout")))?;
            let options = verb_cmd::options(global);
            let wait = match verb {
                Commands::Abort {
                    wait: true,
                    timeout,
                    ..
                } => Some(timeout),
                _ => None,
            };
            verb_cmd::run(
                &session,
                &name,
                action,
                comment,
                &options,
                global.output,
                wait,
                &mut out,
            )
            .await
        }
    }
}

/// No subcommand: the cockpit window, on the user's kubeconfig or (`--lab`) on the embedded
/// lab. Every I/O task runs on `runtime`; this returns when the window is closed.
pub fn open_window(
    global: &GlobalArgs,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<ExitCode> {
    crate::ui::run_window(crate::ui::WindowOptions {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
        lab: global.lab,
        read_only: global.read_only,
        runtime: runtime.clone(),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The exit code for an error that ended a command.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    if let Some(e) = err.downcast_ref::<OrchestratorError>() {
        return e.exit_code();
    }
    if let Some(e) = err.downcast_ref::<ClusterError>() {
        return e.exit_code();
    }
    if let Some(e) = err.downcast_ref::<crate::lab::LabError>() {
        return e.exit_code();
    }
    if err.downcast_ref::<UsageError>().is_some()
        || err.downcast_ref::<crate::analysis::PolicyError>().is_some()
    {
        return 2;
    }
    1
}

/// True when the error is stdout closed under us (`release-cockpit list | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
