//! `release-cockpit report NAME`: the release report for a post-deployment review — the same
//! content as the window's Export, read from the cluster (rollout, ReplicaSets, Events) and
//! from the metrics source over `--since` (query_range with the same templates as the charts).

use super::analyze_cmd::{FeedArgs, load_policy, no_source};
use super::{OutputFormat, UsageError};
use crate::cluster::{self, ClusterError};
use crate::metrics::settings::parse_duration;
use crate::metrics::source::{Refresher, Target, now_secs};
use crate::metrics::{build_source, judge_feed};
use crate::model::{MetricsSnapshot, RolloutRef};
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
    /// Rollout name.
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
    let detail = match cluster::describe_rollout(client, target).await {
        Err(ClusterError::RolloutNotFound { .. }) => {
            return Err(UsageError(format!(
                "no rollout {} in namespace {} of context {}: check the name with \
                 `release-cockpit list -n {}`",
                target.name, target.namespace, target.context, target.namespace
            ))
            .into());
        }
        other => other?,
    };
    let view = &detail.view;
    let now = now_secs();
    let mut report = Report::new(view, now);

    let seen: Vec<roles::Seen> = detail
        .replica_sets
        .iter()
        .map(|rs| roles::Seen {
            hash: rs.hash.clone(),
            revision: rs.revision,
        })
        .collect();
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
    let promoted_at = roles::promoted_at(view, events.as_deref().unwrap_or(&[]));
    let follow = roles::versions_to_follow(view, &seen);
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
    report.rollback = rollback_line(&detail);

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

/// The rollback in words when the rollout was aborted: where it stands now (the CLI did not
/// watch it happen; `abort --wait` and the window time it).
fn rollback_line(detail: &cluster::RolloutDetail) -> Option<String> {
    if !detail.view.aborted {
        return None;
    }
    let reading = RollbackReading::of_view(&detail.view);
    let since = detail
        .view
        .aborted_at
        .as_deref()
        .map(|t| format!("aborted at {t}"))
        .unwrap_or_else(|| "aborted".into());
    Some(match assess(&reading) {
        Progress::Complete => {
            format!("{since}; rolled back: all traffic on stable, stable fully available")
        }
        Progress::Waiting(missing) => format!("{since}; not rolled back yet: {missing}"),
    })
}
