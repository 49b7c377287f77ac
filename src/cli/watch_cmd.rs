//! `watch NAME`: streams a release's changes (an Argo rollout, a weighted release, a Flagger
//! canary: see cluster::watch_release) until Ctrl-C, or until it is healthy, paused or
//! degraded (`--until`, for CI), failing on degradation or `--timeout`; with
//! `--notify-webhook-env` its transitions are posted to a webhook.

use super::notify_hook::HookNotifier;
use super::output::{watch_line, watch_state};
use super::session::Session;
use super::{OutputFormat, WatchFailed};
use crate::cluster::{FleetUpdate, get_release, watch_release};
use crate::model::{Phase, RolloutView};
use clap::{Args, ValueEnum};
use futures::StreamExt;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Release name (an Argo rollout, a weighted release or a Flagger canary).
    pub name: String,
    /// Stop with exit 0 once the rollout reaches this phase (exit 1 if it degrades first).
    #[arg(long, value_enum)]
    pub until: Option<Until>,
    /// Give up with exit 1 after this long: 90s, 10m, 1h (a bare number is seconds).
    #[arg(long, value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    #[arg(long, value_name = "VAR", help = super::notify_hook::FLAG_HELP)]
    pub notify_webhook_env: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Until {
    Healthy,
    Paused,
    Degraded,
}

impl Until {
    fn phase(self) -> Phase {
        match self {
            Until::Healthy => Phase::Healthy,
            Until::Paused => Phase::Paused,
            Until::Degraded => Phase::Degraded,
        }
    }
}

/// "90s", "10m", "1h", "1h30m", or a bare number of seconds.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not a duration (examples: 90s, 10m, 1h30m)");
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// What a new view means for the watch: go on, or stop with an exit code.
fn verdict(view: &RolloutView, until: Option<Until>) -> Option<Result<(), String>> {
    let until = until?;
    if view.phase == until.phase() {
        return Some(Ok(()));
    }
    if view.phase == Phase::Degraded {
        return Some(Err(format!(
            "{} '{}' is degraded: {}",
            view.reference.provider.release_word(),
            view.reference.name,
            view.message
        )));
    }
    None
}

pub async fn watch(
    session: &Session,
    args: &WatchArgs,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let target = crate::orchestrator::resolve(&session.client, &session.target(&args.name)).await?;
    let mut hook = HookNotifier::from_flag(args.notify_webhook_env.as_deref())?;
    // Fail at once (and name the problem) when the release or its controller is missing.
    let first = get_release(&session.client, &target).await?;
    // A rollback may get stuck while nothing changes: look again this often.
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut updates = watch_release(session.client.clone(), target.clone());
    let mut last_state = String::new();
    let mut view = first;
    // Since when the API server has not answered (printed once per outage).
    let mut down_since: Option<jiff::Timestamp> = None;
    loop {
        if let Some(hook) = hook.as_mut() {
            hook.observe(&view, None).await;
        }
        let state = watch_state(&view);
        if state != last_state {
            print_view(&view, format)?;
            last_state = state;
        }
        let stop = verdict(&view, args.until);
        if stop.is_some()
            && let Some(hook) = hook.as_mut()
        {
            let reread = || async { get_release(&session.client, &target).await.ok() };
            hook.finish(&view, reread).await;
        }
        match stop {
            Some(Ok(())) => return Ok(ExitCode::SUCCESS),
            Some(Err(why)) => return Err(WatchFailed(why).into()),
            None => {}
        }
        let next = tokio::select! {
            next = updates.next() => next,
            _ = sleep_until(deadline) => {
                let waited = args.timeout.map_or(0, |t| t.as_secs());
                return Err(WatchFailed(format!(
                    "timed out after {waited} s waiting for {} '{}' (now {}: {})",
                    target.provider.release_word(), target.name, view.phase, view.message
                )).into());
            }
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
            _ = tick.tick(), if hook.is_some() => {
                if let Some(hook) = hook.as_mut() {
                    hook.tick(&view).await;
                }
                continue;
            }
        };
        match next {
            Some(FleetUpdate::Snapshot(views)) => {
                if let Some(since) = down_since.take() {
                    eprintln!(
                        "watch: reconnected to context {} (the API server did not answer since {})",
                        target.context,
                        clock(since)
                    );
                }
                match views.into_iter().find(|v| v.reference.name == target.name) {
                    Some(v) => view = v,
                    None => {
                        return Err(WatchFailed(format!(
                            "{} '{}' was deleted from namespace {} of context {}",
                            target.provider.release_word(),
                            target.name,
                            target.namespace,
                            target.context
                        ))
                        .into());
                    }
                }
            }
            Some(FleetUpdate::Reconnecting { message, .. }) => {
                if down_since.is_none() {
                    let now = jiff::Timestamp::now();
                    down_since = Some(now);
                    eprintln!(
                        "watch: reconnecting to context {} — the API server does not answer \
                         (since {}); retrying every few seconds: {message}",
                        target.context,
                        clock(now)
                    );
                }
            }
            Some(FleetUpdate::Error(message)) => eprintln!("watch: {message} (retrying)"),
            None => return Err(WatchFailed("the watch stream ended".into()).into()),
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Local wall-clock time, HH:MM:SS.
fn clock(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

fn print_view(view: &RolloutView, format: OutputFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Csv => {
            writeln!(out, "{}", watch_line(view, jiff::Timestamp::now()))?
        }
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(view)?)?,
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_kubectl_durations() {
        assert_eq!(parse_timeout("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_timeout("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "m", "10x", "1.5m", "10m5", "abc"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
