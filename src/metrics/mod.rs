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

/// The canary judge's feed from the context's source config, and its sample step: `step`, else
/// 1 s for a direct scrape, else the source's refresh. A scrape's samples then each cover
/// their own step (rate window = step) unless `rate_window` says otherwise: the judge's
/// statistics assume independent samples, and overlapping 1-minute rates are not (see
/// BENCHMARKS.md, "Canary judge (lab traffic)"). Prometheus keeps its configured rate window
/// (a `rate` needs two of Prometheus's own scrapes), or `rate_window`.
/// `analyze`, `auto` and the window's live verdict all judge this feed.
pub fn judge_feed(
    config: &SourceConfig,
    step: Option<std::time::Duration>,
    rate_window: Option<std::time::Duration>,
) -> (SourceConfig, std::time::Duration) {
    let mut config = config.clone();
    let scraping = matches!(config.kind, SourceKind::Scrape { .. });
    let step = step
        .unwrap_or(if scraping {
            std::time::Duration::from_secs(1)
        } else {
            config.refresh
        })
        .max(std::time::Duration::from_secs(1));
    match (rate_window, scraping) {
        (Some(w), _) => config.window = format!("{}s", w.as_secs().max(1)),
        (None, true) => config.window = format!("{}s", step.as_secs().max(1)),
        (None, false) => {}
    }
    (config, step)
}

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
            let mut layout = match config.template.name.as_str() {
                "istio" => ScrapeLayout::istio(&config.version_label),
                "generic" => ScrapeLayout::generic(&config.version_label),
                other => {
                    return Err(SourceError(format!(
                        "direct scrape of {url} reads Istio or generic (http_requests_total) metrics, not the {other:?} template; configure a Prometheus URL for it, or use template istio/generic"
                    )));
                }
            };
            layout.quantiles = config.template.quantiles.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: SourceKind, template: &str) -> SourceConfig {
        let mut c = resolve_source_config(None, &Settings::default(), "lab").unwrap();
        c.kind = kind;
        c.template = Template::builtin(template).unwrap();
        c
    }

    #[test]
    fn builds_the_configured_source() {
        let prom = SourceKind::Prometheus(PrometheusConfig::new("http://127.0.0.1:9090"));
        let source = build_source(&config(prom, "linkerd")).unwrap().unwrap();
        assert_eq!(
            (source.kind(), source.endpoint()),
            ("prometheus", "http://127.0.0.1:9090")
        );
        let scrape = SourceKind::Scrape {
            url: "http://127.0.0.1:8080/metrics".into(),
        };
        let source = build_source(&config(scrape.clone(), "istio"))
            .unwrap()
            .unwrap();
        assert_eq!(source.kind(), "scrape");
        let Err(err) = build_source(&config(scrape, "nginx")) else {
            panic!("nginx metrics cannot be scraped directly")
        };
        assert!(
            err.to_string().contains("configure a Prometheus URL"),
            "{err}"
        );
        assert!(
            build_source(&config(SourceKind::None, "istio"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_judge_feed_takes_per_interval_samples_from_a_scrape() {
        let scrape = config(
            SourceKind::Scrape {
                url: "http://127.0.0.1:8080/metrics".into(),
            },
            "istio",
        );
        let (feed, step) = judge_feed(&scrape, None, None);
        assert_eq!((feed.window.as_str(), step.as_secs()), ("1s", 1));
        let (feed, step) = judge_feed(&scrape, Some(std::time::Duration::from_secs(5)), None);
        assert_eq!((feed.window.as_str(), step.as_secs()), ("5s", 5));
        let prom = config(
            SourceKind::Prometheus(PrometheusConfig::new("http://127.0.0.1:9090")),
            "istio",
        );
        let (feed, step) = judge_feed(&prom, None, None);
        assert_eq!((feed.window.as_str(), step), ("1m", prom.refresh));
        let (feed, _) = judge_feed(&prom, None, Some(std::time::Duration::from_secs(30)));
        assert_eq!(feed.window, "30s");
    }
}
