//! `release-cockpit auto NAME`: the hands-off loop a CI job runs. Samples the canary's
//! metrics every step, judges every interval, and acts on [`AutoLoop::decide`] through
//! `orchestrator::execute_with` (tool `auto`, the verdict in the comment); with
//! `--notify-webhook-env` it posts the rollout's transitions to a webhook.
//!
//! Why it waits is written to the rollout as the `release-cockpit.io/auto-status`
//! annotation (through the same door, only when the text changes), so the window and
//! `kubectl describe` show "waiting for approval: marginal verdict, score 82".

use super::analyze_cmd::{Feed, FeedArgs, load_policy, no_source};
use super::notify_hook::HookNotifier;
use crate::analysis::auto::{AUTO_STATUS_ANNOTATION, AutoLoop, AutoSettings, Decision, Ending};
use crate::analysis::{self, words};
use crate::cluster;
use crate::metrics::settings::parse_duration;
use crate::model::{Action, Command, RolloutRef, RolloutView, Tool};
use crate::orchestrator::{self, ExecuteOptions, OrchestratorError};
use serde_json::Value;
use std::process::ExitCode;
use std::time::Duration;

/// Exit codes and behaviour, as `auto --help` prints them (and the README quotes).
pub const AUTO_LONG_ABOUT: &str = "\
Carry a rollout through its canary hands-off, as a CI job would. Every --interval the canary \
is judged over the policy window (see `analyze`) and:
  fail      -> abort at once (all traffic back to stable)
  pass      -> at a step waiting for promotion, once the step has been watched for --dwell,
               promote, pinned to that step
  marginal  -> leave it to a person: wait, and show `waiting for approval: marginal verdict,
               score N` in the rollout's release-cockpit.io/auto-status annotation
  no data   -> wait for data up to --no-data-limit, then give up, leaving the rollout as it is
Every promote and abort goes through the orchestration API with tool `auto` and the verdict in \
the comment (last-action annotation, Event, journal). One line is printed per decision.

Exit codes:
  0  the rollout is Healthy (fully promoted)
  1  the rollout was aborted or is Degraded, or auto gave up (timeout, no data), or a
     command failed
  2  bad usage, or no metrics source configured";

/// Carry a rollout through its canary hands-off.
#[derive(Clone, Debug, clap::Args)]
pub struct AutoArgs {
    /// The rollout's name.
    pub name: String,
    /// Give up after this long (exit 1), leaving the rollout as it is.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    pub timeout: Duration,
    /// Judge (and decide) this often.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub interval: Duration,
    /// Watch each pause step this long before a pass promotes it (default: the policy window).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub dwell: Option<Duration>,
    /// Give up after this long without data (exit 1), leaving the rollout as it is.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    pub no_data_limit: Duration,
    #[arg(long, value_name = "VAR", help = super::notify_hook::FLAG_HELP)]
    pub notify_webhook_env: Option<String>,
    #[command(flatten)]
    pub feed: FeedArgs,
}

/// Runs the loop until the rollout is Healthy, aborted, or auto gives up.
pub async fn run(
    client: &kube::Client,
    target: &RolloutRef,
    args: &AutoArgs,
    options: &ExecuteOptions,
    kubeconfig_extension: Option<&Value>,
) -> anyhow::Result<ExitCode> {
    // An Argo rollout of that name, else a weighted (Gateway API) release.
    let target = &orchestrator::resolve(client, target).await?;
    let mut hook = HookNotifier::from_flag(args.notify_webhook_env.as_deref())?;
    let policy = load_policy(args.feed.policy.as_deref(), target, None)?;
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
    let settings = AutoSettings {
        dwell_secs: args.dwell.unwrap_or(window).as_secs_f64(),
        no_data_limit_secs: args.no_data_limit.as_secs_f64(),
        timeout_secs: args.timeout.as_secs_f64(),
    };
    // Who auto acts as is asked once, not before every command it sends.
    let mut options = options.clone();
    if options.identity.is_none() && !options.read_only {
        options.identity = Some(orchestrator::whoami(client, &target.context).await?);
    }
    let options = &options;
    let started = tokio::time::Instant::now();
    let clock = || started.elapsed().as_secs_f64();
    let mut auto = AutoLoop::new(settings, clock());
    let mut status = Status::default();
    let mut last_judged: Option<f64> = None;
    // The last wait line printed: a wait is printed when it changes, not every interval.
    let mut last_line: Option<String> = None;
    let tick = feed.step.min(args.interval).max(Duration::from_millis(200));
    println!(
        "{} auto {}/{}: judging every {} over {} (source step {})",
        now_text(),
        target.namespace,
        target.name,
        words::duration(args.interval.as_secs_f64()),
        words::duration(window.as_secs_f64()),
        words::duration(feed.step.as_secs_f64()),
    );
    loop {
        let view = cluster::get_release(client, target).await?;
        let snapshot = feed.sample(&view).await;
        let now = clock();
        let due = last_judged.is_none_or(|t| now - t >= args.interval.as_secs_f64() - 0.05);
        // Settled states end the loop at once; otherwise decide only every interval.
        let settled = view.aborted
            || view.phase == crate::model::Phase::Degraded
            || !view.in_progress()
            || view.weighted_done();
        if !(due || settled)
            && let Some(hook) = hook.as_mut()
        {
            hook.observe(&view, None).await;
        }
        if due || settled {
            last_judged = Some(now);
            let verdict = analysis::judge_snapshot(&snapshot, &[], &policy);
            if let Some(hook) = hook.as_mut() {
                hook.observe(&view, Some(verdict.kind)).await;
            }
            match auto.decide(&view, Some(&verdict), now) {
                Decision::Done(ending) => {
                    if let Some(hook) = hook.as_mut() {
                        let reread = || async { cluster::get_release(client, target).await.ok() };
                        hook.finish(&view, reread).await;
                    }
                    let text = ending_text(&ending, &view);
                    println!("{} {text}", now_text());
                    status
                        .set(client, target, &format!("auto finished: {text}"), options)
                        .await;
                    return Ok(ExitCode::from(ending.exit_code()));
                }
                Decision::Wait { reason } => {
                    let line = format!("step {}: wait — {reason}", view.step_label());
                    if last_line.as_deref() != Some(line.as_str()) {
                        println!("{} {line}", now_text());
                        last_line = Some(line);
                    }
                    status.set(client, target, &reason, options).await;
                }
                Decision::Abort { pin, why } => {
                    println!("{} step {}: abort — {why}", now_text(), view.step_label());
                    let pin = Some(pin);
                    if act(client, target, Action::Abort { pin }, &why, options).await? {
                        let text = format!("aborted: {why}");
                        status.set(client, target, &text, options).await;
                    }
                }
                Decision::Promote { pin, why } => {
                    println!("{} step {}: promote — {why}", now_text(), view.step_label());
                    let pin = Some(pin);
                    if act(client, target, Action::Promote { pin }, &why, options).await? {
                        let text = format!("promoted: {why}");
                        status.set(client, target, &text, options).await;
                    }
                }
            }
        }
        tokio::time::sleep(tick).await;
    }
}

/// Sends one decision through the orchestration API; true when it was sent. A rollout that
/// moved on or changed meanwhile (a person promoted it, a new revision started, the
/// controller wrote its status) is not an error: the next decision re-reads and judges it
/// again; a pinned promote or abort never applies to a revision or step it did not judge.
async fn act(
    client: &kube::Client,
    target: &RolloutRef,
    action: Action,
    why: &str,
    options: &ExecuteOptions,
) -> anyhow::Result<bool> {
    let command = Command {
        target: target.clone(),
        action,
        tool: Tool::Auto,
        comment: Some(format!("auto: {why}")),
    };
    match orchestrator::execute_with(client, &command, options).await {
        Ok(done) => {
            for warning in &done.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(true)
        }
        Err(
            e @ (OrchestratorError::MovedOn { .. }
            | OrchestratorError::AlreadyPromoted { .. }
            | OrchestratorError::ChangedMeanwhile { .. }
            | OrchestratorError::Conflict { .. }
            | OrchestratorError::NotApplicable { .. }),
        ) => {
            println!("{} not sent, decided again next time: {e}", now_text());
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

fn ending_text(ending: &Ending, view: &RolloutView) -> String {
    match ending {
        Ending::Healthy => format!("done: rollout is Healthy ({})", view.step_label()),
        Ending::Aborted => "done: rollout is aborted".into(),
        Ending::Degraded => format!("done: rollout is Degraded: {}", view.message),
        Ending::GaveUp(why) => format!("gave up: {why}"),
    }
}

fn now_text() -> String {
    jiff::Zoned::now().strftime("%H:%M:%S").to_string()
}

/// The last auto-status written, so an unchanged one is not written again.
#[derive(Default)]
struct Status {
    last: Option<String>,
}

impl Status {
    /// Writes the `release-cockpit.io/auto-status` annotation through the orchestration API
    /// (journaled with tool `auto`; `--read-only` writes nothing). A failure is a warning
    /// only: the status is for people, the decisions do not depend on it.
    async fn set(
        &mut self,
        client: &kube::Client,
        target: &RolloutRef,
        text: &str,
        options: &ExecuteOptions,
    ) {
        if self.last.as_deref() == Some(text) {
            return;
        }
        let command = Command {
            target: target.clone(),
            action: Action::AutoStatus { text: text.into() },
            tool: Tool::Auto,
            comment: None,
        };
        let options = ExecuteOptions {
            // The status is not a decision: a required comment is for people's commands.
            require_comment: false,
            ..options.clone()
        };
        match orchestrator::execute_with(client, &command, &options).await {
            Ok(_) | Err(OrchestratorError::ReadOnly { .. }) => self.last = Some(text.to_string()),
            Err(e) => eprintln!("warning: could not write {AUTO_STATUS_ANNOTATION}: {e}"),
        }
    }
}
