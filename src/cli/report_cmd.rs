//! `release-cockpit report NAME`: the release report for a post-deployment review — the same
//! content as the window's Export, read from the cluster (rollout, ReplicaSets, Events) and
//! from the metrics source over `--since` (query_range with the same templates as the charts),
//! for an Argo rollout, a weighted (Gateway API) release or a Flagger canary.

use super::analyze_cmd::{FeedArgs, load_policy, no_source};
use super::{OutputFormat, UsageError};
use crate::cluster::{self, ClusterError};
use crate::metrics::settings::parse_duration;
use crate::metrics::source::{Refresher, Target, now_secs};
use crate::metrics::{build_source, judge_feed};
use crate::model::{MetricsSnapshot, Provider, RolloutRef, RolloutView};
use crate::orchestrator::rollback::{Progress, RollbackReading, assess};
use crate::report::{self, Report, roles};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub const REPORT_LONG_ABOUT: &str = "\
The release report for a post-deployment review: every version seen with its roles over \
time, the steps, every action (who, when, tool, comment) and the controller's Events, the \
canary judge's verdicts over time with their reasons, the rollback's outcome, and the series \
of each signal per version. The same content as the window's Export.

-o markdown (the default; -o text is the same) writes one SVG chart per signal beside the \
report and references them by relative paths; -o csv is one table whose `kind` column says \
what each row is (version, action, event, verdict, point); -o json is one document.

With --out DIR the report (report.md, report.csv or report.json) and its charts go into DIR; \
without it the report goes to stdout and the charts into the current directory.

Metrics come from the context's source as for `analyze` (--prometheus, the metrics settings \
file, or the kubeconfig's release-cockpit extension), read with query_range over --since.";

#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// Release name (an Argo rollout, a weighted release or a Flagger canary).
    pub name: String,
    /// How far back the series and verdicts go (30m, 1h, 1d; at most a day).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_since)]
    pub since: Duration,
    /// Write the report and its charts into DIR (made when missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub feed: FeedArgs,
}

/// `--since`: a duration from a minute to a day.
fn parse_since(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(60) || d > Duration::from_secs(86_400) {
        return Err(format!(
            "{text:?} is outside 1m..1d: a report covers a minute to a day"
        ));
    }
    Ok(d)
}

/// Points per series the report asks for: enough for a chart, few enough for one query.
const POINTS: f64 = 360.0;
/// Verdicts over the span (one every since/12).
const VERDICTS: f64 = 12.0;

pub async fn run(
    client: &kube::Client,
    target: &RolloutRef,
    args: &ReportArgs,
    format: OutputFormat,
    kubeconfig_extension: Option<&serde_json::Value>,
) -> anyhow::Result<ExitCode> {
    let (view, revisions) = read_release(client, target).await?;
    let view = &view;
    let now = now_secs();
    let mut report = Report::new(view, now);
    let policy = load_policy(args.feed.policy.as_deref(), target, None)?;
    let (actions, events) = match crate::orchestrator::activity(client, target).await {
        Ok(entries) => {
            let (actions, events) = report::split_activity(&entries);
            (actions, Some(events))
        }
        Err(e) => {
            report
                .notes
                .push(format!("the activity could not be read: {e}"));
            (Vec::new(), None)
        }
    };
    let events_read = events.as_deref().unwrap_or(&[]);
    let promoted_at = match target.provider {
        Provider::Argo => roles::promoted_at(view, events_read),
        Provider::Flagger => roles::flagger_promoted_at(events_read),
        Provider::Gateway => roles::weighted_promoted_at(view),
    };
    let follow = match &revisions {
        Revisions::Argo(seen) => roles::versions_to_follow(view, seen),
        Revisions::TwoDeployments(Ok(revisions)) => {
            roles::versions_of_two_deployments(view, revisions)
        }
        Revisions::TwoDeployments(Err(e)) => {
            report.notes.push(format!(
                "the ReplicaSets could not be listed ({e}): only the versions running now are \
                 in the report"
            ));
            view.versions()
        }
    };
    let previous_stable = follow
        .iter()
        .any(|v| v.role == crate::model::VersionRole::PreviousStable);
    if target.provider == Provider::Gateway && previous_stable && promoted_at.is_none() {
        report.notes.push(
            "when stable took over is read from the traffic: the route keeps only its last \
             action, and that is not a promotion"
                .into(),
        );
    }
    let custom = policy.custom_queries();
    match read_series(args, target, &follow, &custom, kubeconfig_extension, now).await? {
        Some(mut snapshot) => {
            snapshot.roles = roles::infer(view, &snapshot.series, promoted_at);
            // Each verdict judges the policy's window ending at its time, as `analyze` would
            // have then; the windows of neighbouring verdicts may overlap.
            let step = args.since.as_secs_f64() / VERDICTS;
            report.verdicts = report::verdicts::over_time(
                &snapshot,
                &policy,
                now - args.since.as_secs_f64(),
                now,
                step,
            );
            report = report.with_metrics(&snapshot);
        }
        None => report.notes.push(no_source(&target.context)),
    }
    if let Some(events) = events {
        report = report.with_activity(actions, events);
    }
    report.rollback = rollback_line(view, target.provider);

    let (text, file_name) = match format {
        OutputFormat::Json => (report::render::json(&report)?, "report.json"),
        OutputFormat::Csv => (report::render::csv(&report), "report.csv"),
        OutputFormat::Text | OutputFormat::Markdown => {
            let charts = report::render::charts(&report);
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
            std::fs::create_dir_all(&dir).map_err(|e| write_error(&dir, e))?;
            for chart in &charts {
                let path = dir.join(&chart.file_name);
                std::fs::write(&path, &chart.svg).map_err(|e| write_error(&path, e))?;
            }
            (report::render::markdown(&report, &charts), "report.md")
        }
    };
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
            let path = dir.join(file_name);
            std::fs::write(&path, text).map_err(|e| write_error(&path, e))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_error(path: &Path, e: std::io::Error) -> UsageError {
    UsageError(format!(
        "cannot write {}: {e}; choose a directory you may write to with --out",
        path.display()
    ))
}

/// The series of `versions` over `--since` from the context's metrics source (the judge's
/// feed: one sample per step, as `analyze` judges), or `None` with no source configured.
async fn read_series(
    args: &ReportArgs,
    target: &RolloutRef,
    versions: &[crate::model::Version],
    custom: &[crate::analysis::CustomQuery],
    kubeconfig_extension: Option<&serde_json::Value>,
    now: f64,
) -> anyhow::Result<Option<MetricsSnapshot>> {
    let (config, _, _) = super::metrics_cmd::resolve_source(
        args.feed.metrics_settings.as_deref(),
        kubeconfig_extension,
        &target.context,
        args.feed.prometheus.as_deref(),
        args.feed.metrics_url.as_deref(),
    )?;
    let step = args.feed.step.unwrap_or(Duration::from_secs_f64(
        (args.since.as_secs_f64() / POINTS).max(1.0).ceil(),
    ));
    let (config, step) = judge_feed(&config, Some(step), args.feed.rate_window);
    let Some(source) = build_source(&config)? else {
        return Ok(None);
    };
    let mut refresher = Refresher::new(source, args.since, step).with_custom(custom.to_vec());
    let target = Target {
        rollout: target.clone(),
        versions: versions.to_vec(),
    };
    refresher.refresh(std::slice::from_ref(&target), now).await;
    Ok(Some(refresher.snapshot(&target)))
}

/// The release as its provider shows it, with the revisions its versions come from: an Argo
/// rollout's ReplicaSets, or the two Deployments' of a weighted release or Flagger canary.
enum Revisions {
    Argo(Vec<roles::Seen>),
    TwoDeployments(Result<cluster::ReleaseRevisions, ClusterError>),
}

async fn read_release(
    client: &kube::Client,
    target: &RolloutRef,
) -> anyhow::Result<(RolloutView, Revisions)> {
    let read = match target.provider {
        Provider::Argo => cluster::describe_rollout(client, target)
            .await
            .map(|detail| {
                let seen = detail
                    .replica_sets
                    .iter()
                    .map(|rs| roles::Seen {
                        hash: rs.hash.clone(),
                        revision: rs.revision,
                    })
                    .collect();
                (detail.view, Revisions::Argo(seen))
            }),
        Provider::Gateway | Provider::Flagger => match cluster::get_release(client, target).await {
            Ok(view) => {
                let revisions = cluster::release_revisions(client, target, &view).await;
                Ok((view, Revisions::TwoDeployments(revisions)))
            }
            Err(e) => Err(e),
        },
    };
    match read {
        Err(ClusterError::RolloutNotFound { .. }) => Err(UsageError(format!(
            "no rollout {} in namespace {} of context {}: check the name with \
             `release-cockpit list -n {}`",
            target.name, target.namespace, target.context, target.namespace
        ))
        .into()),
        other => Ok(other?),
    }
}

/// The rollback in words when the release was aborted: where it stands now (the CLI did not
/// watch it happen; `abort --wait` and the window time it). Argo and Flagger say when it was
/// aborted; a weighted release's route says so when abort is still its last action.
fn rollback_line(view: &RolloutView, provider: Provider) -> Option<String> {
    if !view.aborted {
        return None;
    }
    let reading = RollbackReading::of_view(view);
    let aborted_at = match provider {
        Provider::Gateway => view
            .last_action
            .as_deref()
            .and_then(|a| serde_json::from_str::<crate::orchestrator::LastAction>(a).ok())
            .filter(|a| a.verb == crate::model::Verb::Abort)
            .map(|a| a.time.to_string()),
        Provider::Argo | Provider::Flagger => view.aborted_at.clone(),
    };
    let since = aborted_at
        .map(|t| format!("aborted at {t}"))
        .unwrap_or_else(|| "aborted".into());
    Some(match assess(&reading) {
        Progress::Complete => {
            format!("{since}; rolled back: all traffic on stable, stable fully available")
        }
        Progress::Waiting(missing) => format!("{since}; not rolled back yet: {missing}"),
    })
}
