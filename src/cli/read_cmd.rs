//! `list` and `get`.

use super::OutputFormat;
use super::output::{write_get, write_list};
use super::session::Session;
use crate::cluster::{describe_rollout, list_rollouts};
use std::io::Write;
use std::process::ExitCode;

pub async fn list(
    session: &Session,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let views = list_rollouts(&session.client, &session.context, session.list_scope()).await?;
    match format {
        OutputFormat::Text => write_list(out, &views, jiff::Timestamp::now())?,
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn get(
    session: &Session,
    name: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let detail = describe_rollout(&session.client, &session.target(name)).await?;
    match format {
        OutputFormat::Text => write_get(out, &detail)?,
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&detail)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
