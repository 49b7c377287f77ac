//! `release-cockpit inbox`: every rollout that needs a person, most urgent first — the
//! window's inbox for scripts and chat bots, from the same `attention::inbox`. Exit 0 when
//! nobody is needed, 3 when someone is.

use super::metrics_cmd::resolve_source;
use super::session::Session;
use super::{GlobalArgs, OutputFormat};
use crate::analysis::Policy;
use crate::attention::fleet_verdicts::{judge_round, judged_targets};
use crate::attention::{Evidence, InboxRow, Judgement, inbox};
use crate::cluster::{ClusterError, list_rollouts};
use crate::metrics::settings::{SourceKind, kubeconfig_extension};
use crate::metrics::source::now_secs;
use crate::metrics::{Refresher, build_source, judge_feed};
use crate::model::{RolloutRef, RolloutView};
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// The exit code when at least one rollout needs a person.
pub const NEEDS_SOMEONE_EXIT: u8 = 3;

pub const INBOX_LONG_ABOUT: &str = "\
Every rollout that needs a person, most urgent first, with its reason in words: aborted, \
degraded, waiting for approval (a pause step, a blue-green promotion, a manual pause) and for \
how long, or a pipeline's `auto` waiting for a person (its release-cockpit.io/auto-status); \
and, where a context's metrics are in Prometheus (settings file or kubeconfig extension), the \
judge's verdict on every canary and preview from one grouped read of the policy's window: a \
failing canary that still takes traffic ranks first, and metrics gone stale are said. A \
direct /metrics scrape keeps no history, so those contexts get no verdicts (said on stderr).

Scope: the current context (or --context NAME, or --all-contexts: every context of the \
kubeconfig; one that cannot be read is reported on stderr and exits 1), in the context's \
namespace (or -n, or -A for all namespaces).

Exit codes:
  0  nobody is needed
  3  at least one rollout needs a person
  1  a context could not be read
  2  bad usage or input";

#[derive(Clone, Debug, clap::Args)]
pub struct InboxArgs {
    /// Every context of the kubeconfig, not only the current one (or --context).
    #[arg(long, conflicts_with = "context")]
    pub all_contexts: bool,
}

pub async fn run(global: &GlobalArgs, args: &InboxArgs) -> anyhow::Result<ExitCode> {
    let first = Session::open(global).await?;
    let contexts = if args.all_contexts {
        first.kubeconfig.contexts()
    } else {
        vec![first.context.clone()]
    };
    let mut views: Vec<RolloutView> = Vec::new();
    let mut unreadable = 0;
    for context in &contexts {
        match read_context(&first, global, context).await {
            Ok(found) => views.extend(found),
            Err(e) => {
                unreadable += 1;
                eprintln!("error: context {context}: {e}");
            }
        }
    }
    let mut judged = Judged::default();
    for context in &contexts {
        let here: Vec<&RolloutView> = views
            .iter()
            .filter(|v| &v.reference.context == context)
            .collect();
        if let Err(e) = judged.judge_context(&first, context, &here).await {
            eprintln!("warning: context {context}: no verdicts: {e}");
        }
    }
    let verdict = |r: &RolloutRef| judged.verdicts.get(r).copied();
    let stale = |r: &RolloutRef| judged.stale_since.get(r).copied();
    let rows = inbox(
        &views,
        &Evidence {
            verdict: &verdict,
            metrics_stale_since: &stale,
        },
    );
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    let mut out = std::io::stdout().lock();
    match global.output {
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
            write_text(&mut out, &rows, now)?
        }
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json_of(&rows, now))?
        )?,
    }
    Ok(ExitCode::from(if unreadable > 0 {
        1
    } else if rows.is_empty() {
        0
    } else {
        NEEDS_SOMEONE_EXIT
    }))
}

/// The judge's verdicts and stale metrics, for the rollouts with a canary or preview.
#[derive(Default)]
struct Judged {
    verdicts: HashMap<RolloutRef, Judgement>,
    stale_since: HashMap<RolloutRef, f64>,
}

impl Judged {
    /// One grouped read of the context's Prometheus over the judge's window, then the same
    /// judge (and each rollout's policy) as the window's fleet column. A context without
    /// metrics is judged by nothing; a direct scrape has no history to judge on.
    async fn judge_context(
        &mut self,
        first: &Session,
        context: &str,
        views: &[&RolloutView],
    ) -> anyhow::Result<()> {
        let targets = judged_targets(views.iter().copied());
        if targets.is_empty() {
            return Ok(());
        }
        let extension = kubeconfig_extension(first.kubeconfig.raw(), context);
        let (config, _, _) = resolve_source(None, extension.as_ref(), context, None, None)?;
        if matches!(config.kind, SourceKind::Scrape { .. }) {
            anyhow::bail!(
                "its metrics are a direct /metrics scrape, which keeps no history to judge; \
                 the window and `analyze` sample it over time (or set a Prometheus URL)"
            );
        }
        let (config, step) = judge_feed(&config, None, None);
        let Some(source) = build_source(&config)? else {
            return Ok(());
        };
        let mut policies = HashMap::new();
        let mut window = Duration::ZERO;
        for t in &targets {
            let policy = Policy::resolve(None, &t.rollout)?;
            window = window.max(Duration::from_secs_f64(policy.window_secs.max(1.0)));
            policies.insert(t.rollout.clone(), policy);
        }
        let mut refresher = Refresher::new(source, window + step * 2, step);
        for (rollout, verdict, stale) in
            judge_round(&mut refresher, &targets, &policies, now_secs()).await
        {
            self.verdicts.insert(
                rollout.clone(),
                Judgement {
                    kind: verdict.kind,
                    score: verdict.score,
                },
            );
            if let Some(since) = stale {
                self.stale_since.insert(rollout, since);
            }
        }
        Ok(())
    }
}

/// The releases of one context (Argo rollouts, weighted releases, Flagger canaries), in the
/// namespace asked for (or all with -A).
async fn read_context(
    first: &Session,
    global: &GlobalArgs,
    context: &str,
) -> Result<Vec<RolloutView>, ClusterError> {
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| first.kubeconfig.default_namespace(context));
    let scope = (!global.all_namespaces).then_some(namespace.as_str());
    let client = if context == first.context {
        first.client.clone()
    } else {
        first.kubeconfig.client(context).await?
    };
    let (rollouts, weighted, canaries) = tokio::join!(
        list_rollouts(&client, context, scope),
        crate::cluster::list_weighted(&client, context, scope),
        crate::cluster::list_canaries(&client, context, scope),
    );
    let mut views = rollouts?;
    views.extend(weighted?);
    views.extend(canaries?);
    Ok(views)
}

/// `{"count": N, "rollouts": [{context, namespace, name, kind, text, needs, sinceSecs,
/// waitingSecs}]}`.
pub fn json_of(rows: &[InboxRow], now_secs: f64) -> serde_json::Value {
    let rollouts: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("text".into(), row.text().into());
                map.insert(
                    "waitingSecs".into(),
                    row.waiting_secs(now_secs).map(f64::round).into(),
                );
            }
            value
        })
        .collect();
    serde_json::json!({"count": rows.len(), "rollouts": rollouts})
}

/// REASON CONTEXT NAMESPACE NAME WAITING WHAT, or "Nobody needs you."
pub fn write_text(out: &mut dyn Write, rows: &[InboxRow], now_secs: f64) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "Nobody needs you.");
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            [
                row.kind.as_str().to_uppercase(),
                row.rollout.context.clone(),
                row.rollout.namespace.clone(),
                row.rollout.name.clone(),
                row.waiting_secs(now_secs)
                    .map_or_else(|| "-".into(), |s| super::human_duration(s as i64)),
                row.text(),
            ]
        })
        .collect();
    let header = ["REASON", "CONTEXT", "NAMESPACE", "NAME", "WAITING", "WHAT"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<width$}", width = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &table {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
