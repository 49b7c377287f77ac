//! `release-cockpit metrics NAME`: per version of a rollout its role, hash, traffic share,
//! error rate and p95 now (and with `--since` the series), from Prometheus or a direct scrape.
//!
//! `-o json` is a stable shape CI can gate on; a value without data is `null` (a version
//! that takes no requests while its service does, like a blue-green preview, has share `0`
//! and `null` error rate and p95):
//!
//! ```json
//! {"rollout": "demo/checkout", "source": "prometheus",
//!  "versions": [{"role": "stable", "hash": "6c5b8d7f9", "share": 0.8, "error_rate": 0.001, "p95_ms": 120.5},
//!               {"role": "canary", "hash": "7d4f9b8c6", "share": 0.2, "error_rate": null, "p95_ms": null}]}
//! ```
//!
//! `source` is `prometheus` or `scrape`; `role` is `stable`, `canary`, `active` or `preview`.
//! With `--since`, each version also has `"series": {"share": [[unix_secs, value|null], ...],
//! "error_rate": [...], "p95_ms": [...]}`. Exit codes: 0 ok, 1 the source failed, 2 no source
//! configured or bad input.

use crate::metrics::settings::{
    Settings, SourceConfig, SourceKind, parse_duration, resolve_source_config,
};
use crate::metrics::source::{Refresher, Target, now_secs};
use crate::metrics::store::latest_value;
use crate::metrics::{PrometheusConfig, build_source};
use crate::model::{MetricsSnapshot, Rollout, RolloutView, Signal, VersionRole, VersionSeries};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Set from the global `-o text|json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricsOutput {
    #[default]
    Text,
    Json,
}

/// Live traffic share, error rate and p95 per version of a rollout.
#[derive(Clone, Debug, clap::Args)]
#[command(after_long_help = crate::metrics::settings::SETTINGS_HELP)]
pub struct MetricsArgs {
    /// The rollout's name.
    pub name: String,
    /// Also print the series of the last DURATION (e.g. 30s, 10m, 1h); Prometheus only.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Prometheus API base URL; overrides the settings file and the kubeconfig extension.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// A `/metrics` exposition to scrape directly when there is no Prometheus.
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,
    /// Query template: istio, linkerd, nginx, generic, or one from the settings file.
    #[arg(long)]
    pub template: Option<String>,
    /// The label holding the version (default: the template's, e.g. rollouts_pod_template_hash).
    #[arg(long)]
    pub version_label: Option<String>,
    /// Metrics settings file (default: metrics.toml in the user's config dir).
    #[arg(long, value_name = "FILE")]
    pub metrics_settings: Option<PathBuf>,
    /// Seconds between the two scrapes a direct-scrape rate is computed from.
    #[arg(long, default_value_t = 5)]
    pub scrape_secs: u64,
    /// Output: `text` for people, `json` for CI (the shape is in the module doc); from `-o`.
    #[arg(skip)]
    pub output: MetricsOutput,
}

/// What `collect` found: the snapshot, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum Collected {
    /// Data (possibly with `null`s where a version has no traffic).
    Ok(MetricsSnapshot),
    /// The source failed; the snapshot's `error` says why.
    Failed(MetricsSnapshot),
    /// No Prometheus nor metrics URL is configured for the context; the text says where to set one.
    NoSource(String),
}

/// Runs the command and prints. `kubeconfig_extension` is the context's `release-cockpit`
/// extension (see `metrics::settings::kubeconfig_extension`).
pub async fn run(
    client: kube::Client,
    context: &str,
    namespace: &str,
    args: MetricsArgs,
    kubeconfig_extension: Option<&Value>,
) -> anyhow::Result<ExitCode> {
    match collect(client, context, namespace, &args, kubeconfig_extension).await? {
        Collected::NoSource(why) => {
            eprintln!("error: {why}");
            Ok(ExitCode::from(2))
        }
        Collected::Failed(snapshot) => {
            eprintln!(
                "error: metrics for rollout {} in context {context}: {}",
                snapshot.rollout,
                snapshot.error.as_deref().unwrap_or("the source failed")
            );
            Ok(ExitCode::from(1))
        }
        Collected::Ok(snapshot) => {
            let with_series = args.since.is_some();
            match args.output {
                MetricsOutput::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report(&snapshot, with_series))?
                ),
                MetricsOutput::Text => print!("{}", to_text(&snapshot, with_series)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Gets the rollout, resolves where its metrics live (flags > settings file > kubeconfig
/// extension), and reads them: one range query per signal from Prometheus, or two scrapes
/// `--scrape-secs` apart from a `/metrics` endpoint.
pub async fn collect(
    client: kube::Client,
    context: &str,
    namespace: &str,
    args: &MetricsArgs,
    kubeconfig_extension: Option<&Value>,
) -> anyhow::Result<Collected> {
    let rollouts = kube::Api::<Rollout>::namespaced(client, namespace);
    let rollout = rollouts.get(&args.name).await.map_err(|e| {
        // The API's own message ("… not found"), not kube's debug dump of the Status.
        let why = match &e {
            kube::Error::Api(status) => status.message.clone(),
            other => other.to_string(),
        };
        anyhow::anyhow!(
            "cannot get rollout {namespace}/{} in context {context}: {why}; check the name and namespace (-n)",
            args.name
        )
    })?;
    let view = RolloutView::from_rollout(context, &rollout);
    let target = Target::from_view(&view);

    let (mut config, settings, settings_path) = resolve_source(
        args.metrics_settings.as_deref(),
        kubeconfig_extension,
        context,
        args.prometheus.as_deref(),
        args.metrics_url.as_deref(),
    )?;
    if let Some(name) = &args.template {
        config.template = settings.template(context, name)?;
        config.version_label = config.template.default_version_label.clone();
    }
    if let Some(label) = &args.version_label {
        config.version_label = label.clone();
    }
    let Some(source) = build_source(&config)? else {
        let where_ = settings_path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the metrics settings".into());
        return Ok(Collected::NoSource(format!(
            "no metrics source for context {context}: pass --prometheus URL or --metrics-url URL, add [contexts.{context}] with prometheus_url to {where_}, or a release-cockpit extension to the kubeconfig context"
        )));
    };

    let scraping = source.kind() == "scrape";
    // Without --since only "now" is asked for: a 1 s step puts it at the last whole second
    // instead of up to a refresh interval back (right after the lab starts, that older step
    // would predate Prometheus's first samples and show nothing).
    let step = if scraping {
        Duration::from_secs(args.scrape_secs.max(1))
    } else if args.since.is_none() {
        Duration::from_secs(1)
    } else {
        config.refresh
    };
    let history = args.since.unwrap_or(step * 3).max(step * 2);
    let mut refresher = Refresher::new(source, history, step);
    let targets = [target.clone()];
    let mut report = refresher.refresh(&targets, now_secs()).await;
    if scraping && report.ok {
        tokio::time::sleep(step).await;
        report = refresher.refresh(&targets, now_secs()).await;
    }
    let dropped = refresher.dropped_non_finite();
    if dropped > 0 {
        eprintln!(
            "warning: {dropped} samples from {} were NaN or ±Inf and were dropped (not shown, \
             not judged); check the exporter behind that URL",
            crate::redact::redact_url(source_endpoint(&config))
        );
    }
    let snapshot = refresher.snapshot(&target);
    Ok(if report.ok {
        Collected::Ok(snapshot)
    } else {
        Collected::Failed(snapshot)
    })
}

/// The URL a source config reads, for messages (redact it before showing).
fn source_endpoint(config: &SourceConfig) -> &str {
    match &config.kind {
        SourceKind::Prometheus(p) => &p.url,
        SourceKind::Scrape { url } => url,
        SourceKind::None => "(no source)",
    }
}

fn find<'a>(
    snapshot: &'a MetricsSnapshot,
    hash: &str,
    signal: Signal,
) -> Option<&'a VersionSeries> {
    snapshot
        .series
        .iter()
        .find(|s| s.version.hash == hash && s.signal == signal)
}

fn versions_of(snapshot: &MetricsSnapshot) -> Vec<crate::model::Version> {
    let mut out: Vec<crate::model::Version> = Vec::new();
    for s in &snapshot.series {
        if !out.contains(&s.version) {
            out.push(s.version.clone());
        }
    }
    out
}

/// The documented JSON shape (see the module doc); fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricsReport {
    pub rollout: String,
    pub source: String,
    pub versions: Vec<VersionReport>,
}

/// One version in [`MetricsReport`]; `None` is written as `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VersionReport {
    pub role: VersionRole,
    pub hash: String,
    pub share: Option<f64>,
    pub error_rate: Option<f64>,
    pub p95_ms: Option<f64>,
    pub requests_per_second: Option<f64>,
    /// Only with `--since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesReport>,
}

/// `[unix_secs, value|null]` pairs per signal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesReport {
    pub share: Vec<(f64, Option<f64>)>,
    pub error_rate: Vec<(f64, Option<f64>)>,
    pub p95_ms: Vec<(f64, Option<f64>)>,
    pub requests_per_second: Vec<(f64, Option<f64>)>,
}

pub fn report(snapshot: &MetricsSnapshot, with_series: bool) -> MetricsReport {
    let versions = versions_of(snapshot)
        .into_iter()
        .map(|v| {
            let now = |signal| find(snapshot, &v.hash, signal).and_then(latest_value);
            let points = |signal| {
                find(snapshot, &v.hash, signal)
                    .map(|s| s.points.iter().map(|p| (p.t_secs, p.value)).collect())
                    .unwrap_or_default()
            };
            VersionReport {
                role: v.role,
                share: now(Signal::TrafficShare),
                error_rate: now(Signal::ErrorRate),
                p95_ms: now(Signal::P95Ms),
                requests_per_second: now(Signal::RequestRate),
                series: with_series.then(|| SeriesReport {
                    share: points(Signal::TrafficShare),
                    error_rate: points(Signal::ErrorRate),
                    p95_ms: points(Signal::P95Ms),
                    requests_per_second: points(Signal::RequestRate),
                }),
                hash: v.hash,
            }
        })
        .collect();
    MetricsReport {
        rollout: snapshot.rollout.to_string(),
        source: snapshot.source.clone(),
        versions,
    }
}

/// [`report`] as a JSON value (for checks; print [`report`] itself to keep the field order).
pub fn to_json(snapshot: &MetricsSnapshot, with_series: bool) -> Value {
    serde_json::to_value(report(snapshot, with_series)).unwrap_or(Value::Null)
}

fn fmt_pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} ms"))
}

fn fmt_rate(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}/s"))
}

/// A table a person reads; `-` where there is no data.
pub fn to_text(snapshot: &MetricsSnapshot, with_series: bool) -> String {
    let mut out = format!(
        "rollout {}  (source: {})\n",
        snapshot.rollout, snapshot.source
    );
    out += &format!(
        "{:<8} {:<12} {:>8} {:>8} {:>10} {:>10}\n",
        "ROLE", "HASH", "SHARE", "ERRORS", "P95", "REQUESTS"
    );
    let versions = versions_of(snapshot);
    for v in &versions {
        let now = |signal| find(snapshot, &v.hash, signal).and_then(latest_value);
        out += &format!(
            "{:<8} {:<12} {:>8} {:>8} {:>10} {:>10}\n",
            v.role.as_str(),
            v.hash,
            fmt_pct(now(Signal::TrafficShare)),
            fmt_pct(now(Signal::ErrorRate)),
            fmt_ms(now(Signal::P95Ms)),
            fmt_rate(now(Signal::RequestRate)),
        );
    }
    if with_series {
        for v in &versions {
            out += &format!(
                "\n{} {}\n{:<20} {:>8} {:>8} {:>10} {:>10}\n",
                v.role, v.hash, "TIME", "SHARE", "ERRORS", "P95", "REQUESTS"
            );
            let Some(share) = find(snapshot, &v.hash, Signal::TrafficShare) else {
                continue;
            };
            for (i, p) in share.points.iter().enumerate() {
                let at = |signal| {
                    find(snapshot, &v.hash, signal)
                        .and_then(|s| s.points.get(i))
                        .filter(|q| q.t_secs == p.t_secs)
                        .and_then(|q| q.value)
                };
                let time = jiff::Timestamp::from_millisecond((p.t_secs * 1000.0) as i64)
                    .map(|t| t.strftime("%H:%M:%S").to_string())
                    .unwrap_or_default();
                out += &format!(
                    "{:<20} {:>8} {:>8} {:>10} {:>10}\n",
                    time,
                    fmt_pct(p.value),
                    fmt_pct(at(Signal::ErrorRate)),
                    fmt_ms(at(Signal::P95Ms)),
                    fmt_rate(at(Signal::RequestRate)),
                );
            }
        }
    }
    out
}

/// Where a CLI command's metrics come from for `context`: the settings file (or its default
/// location) over the kubeconfig's `release-cockpit` extension, under the `--prometheus` /
/// `--metrics-url` flags. A `--prometheus` URL keeps the settings' auth, headers and CA.
/// Also returns the settings read (for `--template`) and their path (for the "no source" hint).
pub fn resolve_source(
    settings_file: Option<&std::path::Path>,
    kubeconfig_extension: Option<&Value>,
    context: &str,
    prometheus: Option<&str>,
    metrics_url: Option<&str>,
) -> anyhow::Result<(SourceConfig, Settings, Option<PathBuf>)> {
    let settings_path = settings_file
        .map(std::path::Path::to_path_buf)
        .or_else(Settings::default_path);
    let settings = match &settings_path {
        Some(p) => Settings::load(p)?,
        None => Settings::default(),
    };
    let mut config = resolve_source_config(kubeconfig_extension, &settings, context)?;
    if let Some(url) = prometheus {
        config.kind = match config.kind {
            SourceKind::Prometheus(mut p) => {
                p.url = url.trim_end_matches('/').to_string();
                SourceKind::Prometheus(p)
            }
            _ => SourceKind::Prometheus(PrometheusConfig::new(url)),
        };
    } else if let Some(url) = metrics_url {
        config.kind = SourceKind::Scrape { url: url.into() };
    }
    for warning in crate::metrics::settings::security_warnings(&config, context) {
        eprintln!("warning: {warning}");
    }
    Ok((config, settings, settings_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, RolloutRef, Version, VersionRole};
    use serde_json::json;

    fn snapshot() -> MetricsSnapshot {
        let stable = Version::new(VersionRole::Stable, "aaa");
        let canary = Version::new(VersionRole::Canary, "bbb");
        let s = |v: &Version, signal, vals: &[Option<f64>]| VersionSeries {
            version: v.clone(),
            signal,
            points: vals
                .iter()
                .enumerate()
                .map(|(i, value)| Point {
                    t_secs: 1_700_000_000.0 + i as f64 * 10.0,
                    value: *value,
                })
                .collect(),
        };
        MetricsSnapshot {
            quantiles: Vec::new(),
            sample_window_secs: None,
            rollout: RolloutRef::new("lab", "demo", "checkout"),
            source: "prometheus".into(),
            series: vec![
                s(&stable, Signal::TrafficShare, &[Some(0.8), Some(0.8)]),
                s(&stable, Signal::ErrorRate, &[Some(0.001), None]),
                s(&stable, Signal::P95Ms, &[Some(120.5)]),
                s(&stable, Signal::RequestRate, &[Some(40.0)]),
                s(&canary, Signal::TrafficShare, &[Some(0.2)]),
                s(&canary, Signal::ErrorRate, &[]),
                s(&canary, Signal::P95Ms, &[None]),
            ],
            stale_since_secs: None,
            error: None,
            roles: Vec::new(),
            latency_buckets: Vec::new(),
            custom: Vec::new(),
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let j = to_json(&snapshot(), false);
        assert_eq!(
            j,
            json!({"rollout": "demo/checkout", "source": "prometheus", "versions": [
                {"role": "stable", "hash": "aaa", "share": 0.8, "error_rate": 0.001, "p95_ms": 120.5, "requests_per_second": 40.0},
                {"role": "canary", "hash": "bbb", "share": 0.2, "error_rate": null, "p95_ms": null, "requests_per_second": null}
            ]})
        );
        let printed = serde_json::to_string(&report(&snapshot(), false)).unwrap();
        assert!(
            printed.starts_with(r#"{"rollout":"demo/checkout","source":"prometheus","versions":[{"role":"stable","hash":"aaa","share":0.8,"error_rate":0.001,"p95_ms":120.5,"requests_per_second":40.0}"#),
            "{printed}"
        );
        let with = to_json(&snapshot(), true);
        assert_eq!(
            with["versions"][0]["series"]["error_rate"][1],
            json!([1_700_000_010.0, null])
        );
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: MetricsArgs,
    }

    #[test]
    fn long_help_lists_the_settings_format() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("bearer_token_env"), "{help}");
        assert!(help.contains("--prometheus <URL>"), "{help}");
    }

    #[test]
    fn text_has_a_row_per_version() {
        let t = to_text(&snapshot(), false);
        assert!(
            t.contains("stable   aaa            80.00%    0.10%   120.5 ms"),
            "{t}"
        );
        assert!(
            t.contains("canary   bbb            20.00%        -          -"),
            "{t}"
        );
    }
}
