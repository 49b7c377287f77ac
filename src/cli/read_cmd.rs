//! `list` and `get`.

use super::OutputFormat;
use super::output::{write_get, write_list};
use super::session::Session;
use crate::cluster::{
    ClusterError, LIST_ALL_ROLLOUTS_GRANT_HINT, RolloutDetail, TaggedImage, describe_rollout,
    get_canary, get_weighted, list_canaries, list_rollouts, list_weighted,
};
use crate::model::{Provider, VersionRole};
use std::io::Write;
use std::process::ExitCode;

pub async fn list(
    session: &Session,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let views = match list_rollouts(&session.client, &session.context, session.list_scope()).await {
        Ok(views) => views,
        // A namespace-scoped user asked for -A: say what works instead (exit code 1 still).
        Err(err @ ClusterError::Forbidden { .. }) if session.all_namespaces => {
            anyhow::bail!(
                "{err}; without -A, list shows namespace {} (the context's own); to list every \
                 namespace, ask an administrator for {LIST_ALL_ROLLOUTS_GRANT_HINT}",
                session.namespace
            )
        }
        // A cluster with weighted (Gateway API) releases only, no Argo Rollouts.
        Err(ClusterError::ArgoNotInstalled { .. }) => Vec::new(),
        Err(err) => return Err(err.into()),
    };
    let mut views = views;
    views.extend(list_weighted(&session.client, &session.context, session.list_scope()).await?);
    views.extend(list_canaries(&session.client, &session.context, session.list_scope()).await?);
    views.sort_by(|a, b| a.reference.cmp(&b.reference));
    match format {
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
            write_list(out, &views, jiff::Timestamp::now())?
        }
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
    let target = crate::orchestrator::resolve(&session.client, &session.target(name)).await?;
    let detail = match target.provider {
        Provider::Argo => describe_rollout(&session.client, &target).await?,
        Provider::Gateway | Provider::Flagger => {
            let view = match target.provider {
                Provider::Flagger => get_canary(&session.client, &target).await?,
                _ => get_weighted(&session.client, &target).await?,
            };
            let tagged_images = view
                .images
                .iter()
                .map(|image| TaggedImage {
                    image: image.clone(),
                    roles: vec![VersionRole::Canary],
                })
                .collect();
            RolloutDetail {
                view,
                replica_sets: Vec::new(),
                tagged_images,
                analysis_runs: Vec::new(),
            }
        }
    };
    match format {
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => write_get(out, &detail)?,
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&detail)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
