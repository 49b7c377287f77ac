//! Live per-version metrics: Prometheus client, query templates per mesh, a direct-scrape
//! source for clusters without Prometheus, and the bounded series store the window and CLI read.
//!
//! Flow: [`settings`] says where a context's metrics live → a [`source::MetricsSource`]
//! ([`prometheus_source`] or [`scrape`]) → [`source::Refresher`] fills a [`store::SeriesStore`]
//! → `model::MetricsSnapshot` per rollout.

pub mod exposition;
pub mod prometheus;
pub mod prometheus_source;
pub mod response;
pub mod scrape;
pub mod settings;
pub mod source;
pub mod store;
pub mod templates;

pub use prometheus::{Auth, PrometheusClient, PrometheusConfig, PrometheusError};
pub use prometheus_source::PrometheusSource;
pub use scrape::{ScrapeLayout, ScrapeSource};
pub use settings::{Settings, SourceConfig, SourceKind, resolve_source_config};
pub use source::{MetricsSource, Refresher, SourceError, Target, refresh_loop};
pub use store::SeriesStore;
pub use templates::Template;

/// Builds the source a resolved config names; `None` when the context has no metrics.
pub fn build_source(config: &SourceConfig) -> Result<Option<Box<dyn MetricsSource>>, SourceError> {
    match &config.kind {
        SourceKind::Prometheus(p) => {
            let client =
                PrometheusClient::new(p.clone()).map_err(|e| SourceError(e.to_string()))?;
            Ok(Some(Box::new(PrometheusSource::new(
                client,
                config.template.clone(),
                Some(config.version_label.clone()),
                &config.window,
            ))))
        }
        SourceKind::Scrape { url } => {
            let layout = if config.template.name == "generic" {
                ScrapeLayout::generic(&config.version_label)
            } else {
                ScrapeLayout::istio(&config.version_label)
            };
            let window = settings::parse_duration(&config.window)
                .map_err(|e| SourceError(format!("metrics window {:?}: {e}", config.window)))?;
            Ok(Some(Box::new(
                ScrapeSource::new(url, layout, std::time::Duration::from_secs(5))?
                    .with_window(window),
            )))
        }
        SourceKind::None => Ok(None),
    }
}
