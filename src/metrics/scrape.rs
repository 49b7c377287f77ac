//! The direct-scrape `MetricsSource`, for clusters without Prometheus (the lab with
//! `--prometheus off`): reads a `/metrics` exposition every refresh and computes the same
//! three signals from counter deltas (resets handled) and histogram bucket deltas.

use super::exposition::{ExpoSample, histogram_quantile, parse_exposition};
use super::response::Labels;
use super::source::{
    BucketSignal, FetchRequest, Fetched, MetricsSource, NamedPoint, SignalPoint, SourceError,
    Target,
};
use super::templates::quantile_name;
use crate::model::{BucketPoint, Point, Signal};
use futures::future::BoxFuture;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Metric and label names the scrape source reads; Istio's by default.
#[derive(Clone, Debug, PartialEq)]
pub struct ScrapeLayout {
    pub requests: String,
    pub bucket: String,
    pub namespace_label: String,
    pub service_label: String,
    pub version_label: String,
    pub status_label: String,
    /// Only series whose labels all match these are counted (Istio: `reporter="destination"`).
    pub required: Vec<(String, String)>,
    /// Multiplies bucket bounds into milliseconds (1000 for seconds histograms).
    pub le_to_ms: f64,
    /// Extra latency quantiles drawn beside p95 (the template's `quantiles`), from the same
    /// window's bucket increases.
    pub quantiles: Vec<f64>,
}

impl ScrapeLayout {
    pub fn istio(version_label: &str) -> ScrapeLayout {
        ScrapeLayout {
            requests: "istio_requests_total".into(),
            bucket: "istio_request_duration_milliseconds_bucket".into(),
            namespace_label: "destination_workload_namespace".into(),
            service_label: "destination_canonical_service".into(),
            version_label: version_label.into(),
            status_label: "response_code".into(),
            required: vec![("reporter".into(), "destination".into())],
            le_to_ms: 1.0,
            quantiles: vec![0.99],
        }
    }

    pub fn generic(version_label: &str) -> ScrapeLayout {
        ScrapeLayout {
            requests: "http_requests_total".into(),
            bucket: "http_request_duration_seconds_bucket".into(),
            namespace_label: "namespace".into(),
            service_label: "service".into(),
            version_label: version_label.into(),
            status_label: "code".into(),
            required: vec![],
            le_to_ms: 1000.0,
            quantiles: vec![0.99],
        }
    }
}

/// (namespace, service, version label value) of a series.
pub type Group = (String, String, String);

/// Counter values of one scrape keyed by the full label set (name included).
#[derive(Clone, Debug, Default)]
struct Scrape {
    t_secs: f64,
    counters: HashMap<(String, Labels), f64>,
    /// Kept samples whose value was NaN or ±Inf: dropped, never judged.
    dropped: u64,
}

pub struct ScrapeSource {
    http: reqwest::Client,
    url: String,
    /// The URL as messages show it, without credentials ([`crate::redact::redact_url`]).
    shown_url: String,
    layout: ScrapeLayout,
    timeout: Duration,
    previous: Option<Scrape>,
    /// Rates are taken over this window, like `rate(...[1m])` in the Prometheus templates.
    window: Duration,
    /// Increases between consecutive scrapes within the window, newest last, with the times
    /// of the two scrapes each pair spans.
    recent: VecDeque<(f64, f64, HashMap<Group, Increases>)>,
}

/// Per-group sums of counter increases between two scrapes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Increases {
    pub requests: f64,
    pub errors: f64,
    /// Bucket upper bound (ms) → increase.
    pub buckets: Vec<(f64, f64)>,
}

impl ScrapeSource {
    pub fn new(
        url: &str,
        layout: ScrapeLayout,
        timeout: Duration,
    ) -> Result<ScrapeSource, SourceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| {
                SourceError(format!(
                    "cannot set up the scrape client for {}: {e}",
                    crate::redact::redact_url(url)
                ))
            })?;
        Ok(ScrapeSource {
            http,
            url: url.to_string(),
            shown_url: crate::redact::redact_url(url),
            layout,
            timeout,
            previous: None,
            window: Duration::from_secs(60),
            recent: VecDeque::new(),
        })
    }

    /// Takes rates over `window` (default 1 minute) instead of the last interval only.
    pub fn with_window(mut self, window: Duration) -> ScrapeSource {
        self.window = window;
        self
    }

    fn keep(&self, s: &ExpoSample) -> bool {
        (s.name == self.layout.requests || s.name == self.layout.bucket)
            && self
                .layout
                .required
                .iter()
                .all(|(k, v)| s.labels.get(k) == Some(v))
    }

    fn group_of(&self, labels: &Labels) -> Option<Group> {
        Some((
            labels.get(&self.layout.namespace_label)?.clone(),
            labels.get(&self.layout.service_label)?.clone(),
            labels.get(&self.layout.version_label)?.clone(),
        ))
    }

    /// Increases per group between two scrapes; a counter that went down was reset, and
    /// its increase is its new value (what Prometheus's `rate()` assumes).
    pub fn increases(
        &self,
        before: &HashMap<(String, Labels), f64>,
        after: &HashMap<(String, Labels), f64>,
    ) -> HashMap<Group, Increases> {
        let mut out: HashMap<Group, Increases> = HashMap::new();
        let mut buckets: HashMap<Group, HashMap<u64, (f64, f64)>> = HashMap::new();
        for ((name, labels), now) in after {
            let Some(group) = self.group_of(labels) else {
                continue;
            };
            let Some(prev) = before.get(&(name.clone(), labels.clone())) else {
                continue;
            };
            let inc = if now >= prev { now - prev } else { *now };
            if name == &self.layout.requests {
                let entry = out.entry(group).or_default();
                entry.requests += inc;
                if labels
                    .get(&self.layout.status_label)
                    .is_some_and(|c| c.starts_with('5'))
                {
                    entry.errors += inc;
                }
            } else if let Some(le) = labels
                .get("le")
                .and_then(|l| super::response::parse_value(l))
            {
                let le_ms = le * self.layout.le_to_ms;
                let slot = buckets
                    .entry(group)
                    .or_default()
                    .entry(le_ms.to_bits())
                    .or_insert((le_ms, 0.0));
                slot.1 += inc;
            }
        }
        for (group, b) in buckets {
            out.entry(group).or_default().buckets = b.into_values().collect();
        }
        out
    }

    async fn scrape(&self) -> Result<Scrape, SourceError> {
        let text = self
            .http
            .get(&self.url)
            .timeout(self.timeout)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| {
                SourceError(format!(
                    "cannot scrape {}: {}. Check the metrics URL (--metrics-url or the kubeconfig's release-cockpit extension) and that the endpoint is up",
                    self.shown_url,
                    e.without_url()
                ))
            })?
            .text()
            .await
            .map_err(|e| {
                SourceError(format!(
                    "reading the scrape of {} failed: {}",
                    self.shown_url,
                    e.without_url()
                ))
            })?;
        let t_secs = super::source::now_secs();
        let samples = parse_exposition(&text).map_err(|e| {
            SourceError(format!(
                "{} is not a Prometheus text exposition ({e}); check the metrics URL",
                self.shown_url
            ))
        })?;
        let (counters, dropped) = finite_counters(samples.into_iter().filter(|s| self.keep(s)));
        Ok(Scrape {
            t_secs,
            counters,
            dropped,
        })
    }

    async fn fetch_now(&mut self, req: &FetchRequest) -> Result<Fetched, SourceError> {
        let current = self.scrape().await?;
        let mut fetched = Fetched {
            queries: 1,
            dropped_non_finite: current.dropped,
            ..Fetched::default()
        };
        if current.dropped > 0 {
            fetched.warnings.push(format!(
                "{} samples of {} were NaN or ±Inf and were dropped before judging",
                current.dropped, self.shown_url
            ));
        }
        let Some(previous) = self.previous.take() else {
            self.previous = Some(current);
            return Ok(fetched);
        };
        let t_secs = current.t_secs;
        let increases = self.increases(&previous.counters, &current.counters);
        self.recent.push_back((previous.t_secs, t_secs, increases));
        self.previous = Some(current);
        // Keep the pairs that end inside the window, and always the newest.
        while self.recent.len() > 1
            && self
                .recent
                .get(1)
                .is_some_and(|(_, t, _)| *t <= t_secs - self.window.as_secs_f64())
        {
            self.recent.pop_front();
        }
        let summed = sum_increases(self.recent.iter().map(|(_, _, inc)| inc));
        let span = self
            .recent
            .front()
            .map_or(0.0, |(from, _, _)| t_secs - from);
        fetched.points = signals(&summed, &req.targets, t_secs, span);
        fetched.quantiles = quantile_points(&summed, &req.targets, t_secs, &self.layout.quantiles);
        // Histogram intervals do not overlap: each is the newest pair of scrapes only, so
        // the judge can pool them (the rate window's sum would count a request many times).
        if let Some((_, _, newest)) = self.recent.back() {
            fetched.buckets = bucket_points(newest, &req.targets, t_secs);
        }
        Ok(fetched)
    }
}

/// The counters among `samples`, without the NaN and ±Inf values (a counter is a finite
/// count; one of those would poison every rate and the judge): also how many were dropped.
fn finite_counters(
    samples: impl Iterator<Item = ExpoSample>,
) -> (HashMap<(String, Labels), f64>, u64) {
    let mut dropped = 0;
    let mut counters = HashMap::new();
    for s in samples {
        if s.value.is_finite() {
            counters.insert((s.name, s.labels), s.value);
        } else {
            dropped += 1;
        }
    }
    (counters, dropped)
}

/// Adds up per-group increases of consecutive scrape pairs (buckets by bound).
fn sum_increases<'a>(
    parts: impl Iterator<Item = &'a HashMap<Group, Increases>>,
) -> HashMap<Group, Increases> {
    let mut out: HashMap<Group, Increases> = HashMap::new();
    for part in parts {
        for (group, inc) in part {
            let total = out.entry(group.clone()).or_default();
            total.requests += inc.requests;
            total.errors += inc.errors;
            for (le, count) in &inc.buckets {
                match total.buckets.iter_mut().find(|(b, _)| b == le) {
                    Some(slot) => slot.1 += count,
                    None => total.buckets.push((*le, *count)),
                }
            }
        }
    }
    out
}

/// Every signal of every target's versions from per-group increases over `span_secs` (the
/// request rate needs the span; without one, > 0, it is a gap).
pub fn signals(
    increases: &HashMap<Group, Increases>,
    targets: &[Target],
    t_secs: f64,
    span_secs: f64,
) -> Vec<SignalPoint> {
    let mut out = Vec::new();
    for target in targets {
        let r = &target.rollout;
        let service_total: f64 = increases
            .iter()
            .filter(|((ns, svc, _), _)| ns == &r.namespace && svc == &r.name)
            .map(|(_, inc)| inc.requests)
            .sum();
        for v in &target.versions {
            let inc = increases.get(&(r.namespace.clone(), r.name.clone(), v.hash.clone()));
            let requests = inc.map_or(0.0, |i| i.requests);
            let values = [
                (
                    Signal::TrafficShare,
                    (service_total > 0.0).then(|| requests / service_total),
                ),
                (
                    Signal::ErrorRate,
                    inc.filter(|i| i.requests > 0.0)
                        .map(|i| i.errors / i.requests),
                ),
                (
                    Signal::P95Ms,
                    inc.and_then(|i| histogram_quantile(0.95, &i.buckets)),
                ),
                (
                    Signal::RequestRate,
                    (span_secs > 0.0).then(|| requests / span_secs),
                ),
            ];
            for (signal, value) in values {
                out.push(SignalPoint {
                    rollout: r.clone(),
                    version: v.clone(),
                    signal,
                    point: Point { t_secs, value },
                });
            }
        }
    }
    out
}

/// Every target version's extra latency quantiles (`p99`) over the window's bucket
/// increases, as Prometheus's `histogram_quantile` answers them; a gap without requests.
pub fn quantile_points(
    increases: &HashMap<Group, Increases>,
    targets: &[Target],
    t_secs: f64,
    quantiles: &[f64],
) -> Vec<NamedPoint> {
    let mut out = Vec::new();
    for target in targets {
        let r = &target.rollout;
        for v in &target.versions {
            let inc = increases.get(&(r.namespace.clone(), r.name.clone(), v.hash.clone()));
            for &q in quantiles {
                out.push(NamedPoint {
                    rollout: r.clone(),
                    version: v.clone(),
                    name: quantile_name(q),
                    point: Point {
                        t_secs,
                        value: inc.and_then(|i| histogram_quantile(q, &i.buckets)),
                    },
                });
            }
        }
    }
    out
}

/// Every target version's latency bucket increases as one interval of its histogram (finite
/// bounds ascending, the `+Inf` bucket as its requests), for the judge to pool; a version
/// whose histogram has no `+Inf` bucket in `increases` has none.
pub fn bucket_points(
    increases: &HashMap<Group, Increases>,
    targets: &[Target],
    t_secs: f64,
) -> Vec<BucketSignal> {
    let mut out = Vec::new();
    for target in targets {
        let r = &target.rollout;
        for v in &target.versions {
            let Some(inc) = increases.get(&(r.namespace.clone(), r.name.clone(), v.hash.clone()))
            else {
                continue;
            };
            let Some(requests) = inc
                .buckets
                .iter()
                .find(|(le, _)| *le == f64::INFINITY)
                .map(|(_, count)| *count)
            else {
                continue;
            };
            let mut le: Vec<(f64, f64)> = inc
                .buckets
                .iter()
                .filter(|(b, c)| b.is_finite() && c.is_finite())
                .copied()
                .collect();
            le.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.push(BucketSignal {
                rollout: r.clone(),
                version: v.clone(),
                point: BucketPoint {
                    t_secs,
                    le,
                    requests,
                },
            });
        }
    }
    out
}

impl MetricsSource for ScrapeSource {
    fn kind(&self) -> &'static str {
        crate::analysis::SCRAPE_SOURCE
    }

    fn runs_queries(&self) -> bool {
        false
    }

    fn endpoint(&self) -> &str {
        &self.shown_url
    }

    fn rate_window_secs(&self) -> Option<f64> {
        Some(self.window.as_secs_f64())
    }

    fn fetch<'a>(
        &'a mut self,
        request: &'a FetchRequest,
    ) -> BoxFuture<'a, Result<Fetched, SourceError>> {
        Box::pin(self.fetch_now(request))
    }
}

#[cfg(test)]
#[path = "scrape_tests.rs"]
mod tests;
