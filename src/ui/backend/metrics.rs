//! The selected rollout's metrics: one tokio task that resolves where the context's metrics
//! live (the window's cluster settings > `metrics.toml` > the kubeconfig's `release-cockpit`
//! extension), refreshes on the window's tick and sends a `Metrics` event after each refresh,
//! with the canary judge's `Verdict` on the judge's own feed (per-interval samples, as `auto`).

use super::EventSink;
use super::fleet::{Current, FleetViews};
use crate::analysis;
use crate::metrics::settings::{ContextSettings, kubeconfig_extension};
use crate::metrics::source::now_secs;
use crate::metrics::{self, Refresher, Target};
use crate::model::{MetricsSnapshot, RolloutRef, VersionRole};
use crate::ui::events::{AppEvent, VerdictView};
use crate::ui::settings::{AuthRef, ClusterSettings, MeshTemplate, Settings};
use std::time::Duration;

/// Everything a metrics task needs, taken when the selection changes.
pub struct MetricsJob {
    pub sink: EventSink,
    pub current: Current,
    pub fleet: FleetViews,
    pub settings: Settings,
    pub rollout: RolloutRef,
    pub window_secs: u64,
}

/// Refresh until aborted (the selection changed or the window closed).
pub async fn stream_metrics(job: MetricsJob) {
    let MetricsJob {
        sink,
        current,
        fleet,
        settings,
        rollout,
        window_secs,
    } = job;
    let step = Duration::from_secs(u64::from(settings.refresh_secs.max(1)));
    // The policy `analyze` and `auto` read by default; a broken file is said in every verdict.
    let (policy, policy_error) = {
        let rollout = rollout.clone();
        match tokio::task::spawn_blocking(move || analysis::Policy::resolve(None, &rollout)).await {
            Ok(Ok(policy)) => (policy, None),
            Ok(Err(e)) => (
                analysis::Policy::default(),
                Some(format!("{e}; judging with the built-in policy")),
            ),
            Err(e) => (
                analysis::Policy::default(),
                Some(format!("reading the policy failed: {e}")),
            ),
        }
    };
    let judge_history = Duration::from_secs_f64(policy.window_secs.max(1.0)) + step * 2;
    // Two feeds from one config: the plots' (smooth rates over the configured window) and the
    // judge's (each sample over its own step, as `analyze` and `auto` sample).
    let feeds = match config_for(&current, &settings, &rollout.context).await {
        Ok(config) => {
            sink.emit(AppEvent::Security {
                origin: format!("metrics/{}", rollout.context),
                warnings: metrics::settings::security_warnings(&config, &rollout.context),
            });
            let (judged, _) = metrics::judge_feed(&config, Some(step), None);
            metrics::build_source(&config)
                .and_then(|plots| Ok((plots, metrics::build_source(&judged)?)))
                .map_err(|e| e.to_string())
        }
        Err(error) => Err(error),
    };
    // The policy's custom metrics are plotted and judged like the built-in signals.
    let (mut refresher, mut judge_feed) = match feeds {
        Ok((Some(plots), Some(judged))) => (
            Refresher::new(plots, Duration::from_secs(window_secs), step)
                .with_custom(policy.custom_queries()),
            Refresher::new(judged, judge_history, step).with_custom(policy.custom_queries()),
        ),
        Ok(_) => {
            let error = no_source(&rollout.context);
            return emit_error(&sink, rollout, error);
        }
        Err(error) => return emit_error(&sink, rollout, error),
    };
    loop {
        // The fleet knows the versions (stable, canary hashes); wait until it has arrived.
        let Some(target) = target_of(&fleet, &rollout) else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let targets = std::slice::from_ref(&target);
        let now = now_secs();
        let judged = has_new_version(&target);
        if judged {
            tokio::join!(
                refresher.refresh(targets, now),
                judge_feed.refresh(targets, now)
            );
            let mut verdict = analysis::judge_snapshot(&judge_feed.snapshot(&target), &[], &policy);
            if let Some(error) = &policy_error {
                verdict.reasons.insert(0, error.clone());
            }
            sink.emit(AppEvent::Verdict {
                rollout: rollout.clone(),
                verdict: VerdictView::from(&verdict),
            });
        } else {
            refresher.refresh(targets, now).await;
        }
        sink.emit(AppEvent::Metrics(refresher.snapshot(&target)));
        tokio::time::sleep(refresher.next_delay()).await;
    }
}

fn emit_error(sink: &EventSink, rollout: RolloutRef, error: String) {
    sink.emit(AppEvent::Metrics(MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout,
        source: "none".into(),
        series: Vec::new(),
        stale_since_secs: None,
        error: Some(error),
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }));
}

/// Whether there is a new version (canary or preview) for the judge to judge.
fn has_new_version(target: &Target) -> bool {
    target
        .versions
        .iter()
        .any(|v| matches!(v.role, VersionRole::Canary | VersionRole::Preview))
}

fn no_source(context: &str) -> String {
    format!(
        "no metrics source for context {context}: set its Prometheus URL in Settings → \
         Clusters, or add [contexts.{context}] with prometheus_url or metrics_url to {}",
        metrics::Settings::default_path()
            .map_or_else(|| "metrics.toml".into(), |p| p.display().to_string())
    )
}

fn target_of(fleet: &FleetViews, rollout: &RolloutRef) -> Option<Target> {
    let views = super::lock(fleet);
    views
        .get(&rollout.context)?
        .iter()
        .find(|v| &v.reference == rollout)
        .map(Target::from_view)
}

/// Where a context's metrics come from, or why that cannot be read, in words.
pub(super) async fn config_for(
    current: &Current,
    window: &Settings,
    context: &str,
) -> Result<metrics::SourceConfig, String> {
    let extension = kubeconfig_extension(current.kubeconfig.raw(), context);
    let path = metrics::Settings::default_path();
    let mut file = tokio::task::spawn_blocking(move || match &path {
        Some(p) => metrics::Settings::load(p),
        None => Ok(metrics::Settings::default()),
    })
    .await
    .map_err(|e| format!("reading the metrics settings failed: {e}"))?
    .map_err(|e| e.to_string())?;
    if let Some(cluster) = window.clusters.get(context) {
        let entry = file.contexts.entry(context.to_string()).or_default();
        apply_window_settings(entry, cluster);
    }
    metrics::resolve_source_config(extension.as_ref(), &file, context).map_err(|e| e.to_string())
}

/// What the user set in the window's settings for a cluster wins over the file.
fn apply_window_settings(entry: &mut ContextSettings, cluster: &ClusterSettings) {
    let url = cluster.prometheus_url.trim();
    if !url.is_empty() {
        entry.prometheus_url = Some(url.to_string());
        entry.metrics_url = None;
    }
    match &cluster.auth {
        AuthRef::None => {}
        AuthRef::EnvVar(var) => {
            entry.bearer_token_env = Some(var.clone());
            entry.bearer_token_file = None;
        }
        AuthRef::File(path) => {
            entry.bearer_token_env = None;
            entry.bearer_token_file = Some(path.clone());
        }
    }
    // The mesh belongs to the Prometheus the user named; Istio is also the built-in default.
    if !url.is_empty() || cluster.mesh != MeshTemplate::Istio {
        entry.template = Some(template_name(cluster.mesh).to_string());
    }
    let label = cluster.version_label.trim();
    if !label.is_empty() {
        entry.version_label = Some(label.to_string());
    }
}

fn template_name(mesh: MeshTemplate) -> &'static str {
    match mesh {
        MeshTemplate::Istio => "istio",
        MeshTemplate::Linkerd => "linkerd",
        MeshTemplate::NginxIngress => "nginx",
        MeshTemplate::Generic => "generic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_settings_override_the_file_only_where_set() {
        let mut entry = ContextSettings {
            metrics_url: Some("http://127.0.0.1:1/metrics".into()),
            template: Some("istio".into()),
            ..ContextSettings::default()
        };
        apply_window_settings(&mut entry, &ClusterSettings::default());
        assert_eq!(
            entry.metrics_url.as_deref(),
            Some("http://127.0.0.1:1/metrics")
        );
        assert_eq!(entry.prometheus_url, None);

        let cluster = ClusterSettings {
            prometheus_url: " http://prom:9090 ".into(),
            auth: AuthRef::EnvVar("PROM_TOKEN".into()),
            mesh: MeshTemplate::Linkerd,
            version_label: "version".into(),
        };
        apply_window_settings(&mut entry, &cluster);
        assert_eq!(entry.prometheus_url.as_deref(), Some("http://prom:9090"));
        assert_eq!(entry.metrics_url, None);
        assert_eq!(entry.bearer_token_env.as_deref(), Some("PROM_TOKEN"));
        assert_eq!(entry.template.as_deref(), Some("linkerd"));
        assert_eq!(entry.version_label.as_deref(), Some("version"));
    }
}
