//! `release-cockpit analyze NAME`: the canary judge's verdict on a rollout now, over a window,
//! for CI to gate on. Also the metrics feed `auto` shares: where a context's metrics live
//! (flags > settings file > kubeconfig extension) and a [`Feed`] that samples them.

use super::UsageError;
use crate::analysis::{self, Policy, Verdict};
use crate::cluster;
use crate::metrics::settings::{SourceKind, parse_duration};
use crate::metrics::source::{Refresher, Target, now_secs};
use crate::metrics::{build_source, judge_feed};
use crate::model::{MetricsSnapshot, RolloutRef, RolloutView};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes and the data source, as `analyze --help` prints them (and the README quotes).
pub const ANALYZE_LONG_ABOUT: &str = "\
Judge a rollout's canary (or blue-green preview) against stable (active) over a window and \
print the verdict: pass, marginal, fail or no data, a score 0-100 and the reasons.

Metrics come from the context's source (--prometheus / --metrics-url, the metrics settings \
file, or the kubeconfig's release-cockpit extension). With Prometheus the window is read at \
once (query_range at --step). A direct /metrics scrape has no history: analyze samples it \
every --step for the whole window, then judges (so `--window 5m` takes 5 minutes).

Exit codes:
  0  pass      the canary is as good as stable
  1  fail      the canary is worse (or the rollout/metrics could not be read)
  2  bad usage, or no metrics source configured
  3  marginal  the score is between the marginal and pass marks: a person should decide
  4  no data   too few samples to judge (no canary traffic, or the source is stale)";

/// Where to read metrics and how to sample them; shared by `analyze` and `auto`.
#[derive(Clone, Debug, clap::Args)]
pub struct FeedArgs {
    /// Judge policy file (TOML; default: policy.toml in the config directory, the one the
    /// window reads, else the built-in rules).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Seconds between samples (default: the context's refresh, 10 s, for Prometheus; 1 s for
    /// a direct scrape).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub step: Option<Duration>,
    /// The rate window of each sample (default: the step for a direct scrape, so samples do
    /// not overlap; the settings' window, 1m, for Prometheus).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub rate_window: Option<Duration>,
    /// Prometheus API base URL; overrides the settings file and the kubeconfig extension.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// A `/metrics` exposition to scrape directly when there is no Prometheus.
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,
    /// Metrics settings file (default: metrics.toml in the user's config dir).
    #[arg(long, value_name = "FILE")]
    pub metrics_settings: Option<PathBuf>,
}

/// Judge a rollout's canary now.
#[derive(Clone, Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The rollout's name.
    pub name: String,
    /// The window to judge (default: the policy's, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub window: Option<Duration>,
    #[command(flatten)]
    pub feed: FeedArgs,
}

/// The policy for one rollout ([`Policy::resolve`]); `window` overrides its window.
pub fn load_policy(
    path: Option<&std::path::Path>,
    rollout: &RolloutRef,
    window: Option<Duration>,
) -> anyhow::Result<Policy> {
    let mut policy = Policy::resolve(path, rollout)?;
    if let Some(w) = window {
        policy.window_secs = w.as_secs_f64();
        policy.validate().map_err(|problem| {
            UsageError(format!(
                "--window ({} s) cannot be used: {problem}",
                w.as_secs()
            ))
        })?;
    }
    Ok(policy)
}

/// A metrics source sampled for one rollout, keeping `history` of samples.
pub struct Feed {
    refresher: Refresher,
    /// The sample step.
    pub step: Duration,
    /// True for a direct scrape (no history: samples accumulate from the first refresh).
    pub scraping: bool,
    /// NaN/±Inf samples dropped so far, as last said on stderr.
    dropped_said: u64,
}

impl Feed {
    /// Resolves the context's source; `Ok(None)` when none is configured (the error text in
    /// [`no_source`] says where to set one). The policy's custom metrics are fetched beside
    /// the built-in signals, so the judge sees them as the window's does.
    pub fn open(
        args: &FeedArgs,
        context: &str,
        kubeconfig_extension: Option<&Value>,
        history: Duration,
        policy: &Policy,
    ) -> anyhow::Result<Option<Feed>> {
        let (config, _, _) = super::metrics_cmd::resolve_source(
            args.metrics_settings.as_deref(),
            kubeconfig_extension,
            context,
            args.prometheus.as_deref(),
            args.metrics_url.as_deref(),
        )?;
        let scraping = matches!(config.kind, SourceKind::Scrape { .. });
        let (config, step) = judge_feed(&config, args.step, args.rate_window);
        let Some(source) = build_source(&config)? else {
            return Ok(None);
        };
        Ok(Some(Feed {
            refresher: Refresher::new(source, history + step * 2, step)
                .with_custom(policy.custom_queries()),
            step,
            scraping,
            dropped_said: 0,
        }))
    }

    /// One refresh for `view`'s versions; the snapshot the judge reads. NaN/±Inf samples
    /// the source dropped are said on stderr (a `warning:` line when the count grows).
    pub async fn sample(&mut self, view: &RolloutView) -> MetricsSnapshot {
        let target = Target::from_view(view);
        self.refresher
            .refresh(std::slice::from_ref(&target), now_secs())
            .await;
        let dropped = self.refresher.dropped_non_finite();
        if dropped > self.dropped_said {
            eprintln!(
                "warning: {dropped} samples of rollout {} were NaN or ±Inf and were dropped \
                 before judging; check the exporter behind the metrics URL",
                target.rollout
            );
            self.dropped_said = dropped;
        }
        self.refresher.snapshot(&target)
    }

    /// Whether the last refresh succeeded (a note about custom metrics is no failure).
    pub fn healthy(&self) -> bool {
        self.refresher.health().error.is_none()
    }
}

/// The message for a context without a metrics source.
pub fn no_source(context: &str) -> String {
    format!(
        "no metrics source for context {context}: pass --prometheus URL or --metrics-url URL, add [contexts.{context}] with prometheus_url to the metrics settings file, or a release-cockpit extension to the kubeconfig context"
    )
}

/// Runs `analyze` and prints the verdict; the exit code is the verdict's.
pub async fn run(
    client: &kube::Client,
    target: &RolloutRef,
    args: &AnalyzeArgs,
    json: bool,
    kubeconfig_extension: Option<&Value>,
) -> anyhow::Result<ExitCode> {
    let target = &crate::orchestrator::resolve(client, target).await?;
    let view = cluster::get_release(client, target).await?;
    let policy = load_policy(args.feed.policy.as_deref(), target, args.window)?;
    let window = Duration::from_secs_f64(policy.window_secs.max(1.0));
    let Some(mut feed) = Feed::open(
        &args.feed,
        &target.context,
        kubeconfig_extension,
        window,
        &policy,
    )?
    else {
        eprintln!("error: {}", no_source(&target.context));
        return Ok(ExitCode::from(2));
    };
    let mut snapshot = feed.sample(&view).await;
    if feed.scraping && feed.healthy() {
        eprintln!(
            "sampling the direct scrape every {} for {} (a scrape has no history; configure Prometheus to judge at once)",
            analysis::words::duration(feed.step.as_secs_f64()),
            analysis::words::duration(window.as_secs_f64())
        );
        let until = tokio::time::Instant::now() + window + feed.step;
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(feed.step).await;
            snapshot = feed.sample(&view).await;
        }
    }
    let verdict = analysis::judge_snapshot(&snapshot, &[], &policy);
    print_verdict(target, &snapshot.source, &verdict, json)?;
    Ok(ExitCode::from(verdict.kind.exit_code()))
}

fn print_verdict(
    target: &RolloutRef,
    source: &str,
    verdict: &Verdict,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let doc = serde_json::json!({
            "rollout": format!("{}/{}", target.namespace, target.name),
            "source": source,
            "exit_code": verdict.kind.exit_code(),
            "verdict": verdict,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "rollout {}/{}  (source: {source})",
            target.namespace, target.name
        );
        print!("{}", verdict.to_text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    fn long_help(sub: &str) -> String {
        let mut cli = crate::cli::Cli::command();
        cli.find_subcommand_mut(sub)
            .unwrap_or_else(|| panic!("no {sub} subcommand"))
            .render_long_help()
            .to_string()
    }

    #[test]
    fn help_documents_the_exit_codes() {
        let analyze = long_help("analyze");
        for line in [
            "0  pass",
            "1  fail",
            "3  marginal",
            "4  no data",
            "--window <DURATION>",
        ] {
            assert!(analyze.contains(line), "{line:?} missing from\n{analyze}");
        }
        let auto = long_help("auto");
        for line in [
            "0  the rollout is Healthy",
            "waiting for approval: marginal verdict",
            "--interval <DURATION>",
            "[default: 1h]",
        ] {
            assert!(auto.contains(line), "{line:?} missing from\n{auto}");
        }
    }
}
