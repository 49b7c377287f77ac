//! `release-cockpit`: the cockpit window without a subcommand, the CLI with one.
//! The only place a tokio runtime is created.

use anyhow::Context;
use clap::Parser;
use release_cockpit::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) if cli::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Errors are redacted where they are built; this is the last line of defence.
            eprintln!(
                "error: {}",
                release_cockpit::redact::redact(&format!("{err:#}"))
            );
            ExitCode::from(cli::exit_code_of(&err))
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // Quiet unless RUST_LOG asks: errors reach the person once, through `main`.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command {
        None => cli::open_window(&cli.global, runtime.handle()),
        Some(command) => runtime.block_on(cli::run_command(&cli.global, command)),
    }
}
