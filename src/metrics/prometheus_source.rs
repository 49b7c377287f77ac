//! The Prometheus-backed `MetricsSource`: per refresh, one range query per signal (and one for
//! the latency buckets) for every shown rollout at once (namespaces and services as `=~`
//! alternations), results split client-side by namespace, service and version; a step without
//! data becomes a gap, except the share of a version that took no requests while another
//! version did, which is 0.

use super::prometheus::PrometheusClient;
use super::response::QueryData;
use super::response::RangeSeries;
use super::source::{
    BucketSignal, FetchRequest, Fetched, MetricsSource, NamedPoint, SignalPoint, SourceError,
    Target,
};
use super::templates::{RenderContext, Template};
use crate::analysis::CustomQuery;
use crate::model::{BucketPoint, Point, Signal, Version};
use futures::future::BoxFuture;
use std::collections::HashMap;

pub struct PrometheusSource {
    client: PrometheusClient,
    template: Template,
    version_label: String,
    window: String,
}

impl PrometheusSource {
    /// `version_label` overrides the template's default; `window` is the `rate()` range.
    pub fn new(
        client: PrometheusClient,
        template: Template,
        version_label: Option<String>,
        window: &str,
    ) -> PrometheusSource {
        let version_label = version_label.unwrap_or_else(|| template.default_version_label.clone());
        PrometheusSource {
            client,
            template,
            version_label,
            window: window.to_string(),
        }
    }

    pub fn client(&self) -> &PrometheusClient {
        &self.client
    }

    /// `draw` with the values the template is drawn with for `targets`: their namespaces and
    /// names as one alternation each, this source's version label and rate window.
    fn drawn<T>(&self, targets: &[Target], draw: impl FnOnce(&RenderContext<'_>) -> T) -> T {
        let (namespaces, services) = names(targets);
        draw(&RenderContext {
            namespaces: &namespaces,
            services: &services,
            version_label: &self.version_label,
            window: &self.window,
        })
    }

    /// The queries one refresh sends for `targets`: one per signal, whatever the number of
    /// rollouts and namespaces shown (and [`PrometheusSource::bucket_query`]).
    pub fn plan(&self, targets: &[Target]) -> Vec<(Signal, String)> {
        self.drawn(targets, |ctx| {
            Signal::ALL
                .iter()
                .filter(|&&signal| !self.template.query(signal).trim().is_empty())
                .map(|&signal| (signal, self.template.render(signal, ctx)))
                .collect()
        })
    }

    /// The custom metrics' queries of a refresh for `targets`, drawn like the template's: one
    /// per metric, whatever the number of rollouts shown.
    pub fn custom_plan(&self, targets: &[Target], custom: &[CustomQuery]) -> Vec<(String, String)> {
        self.drawn(targets, |ctx| {
            custom
                .iter()
                .map(|c| (c.name.clone(), self.template.render_text(&c.query, ctx)))
                .collect()
        })
    }

    /// The template's extra latency quantiles' queries for `targets` (`p99`, …): one per
    /// quantile, whatever the number of rollouts shown.
    pub fn quantile_plan(&self, targets: &[Target]) -> Vec<(String, String)> {
        self.drawn(targets, |ctx| self.template.render_quantiles(ctx))
    }

    /// The one latency bucket query of a refresh for `targets`, when the template has one.
    pub fn bucket_query(&self, targets: &[Target]) -> Option<String> {
        self.drawn(targets, |ctx| self.template.render_buckets(ctx))
    }
}

/// The namespaces and the rollout names of `targets`, each once, in order.
fn names(targets: &[Target]) -> (Vec<String>, Vec<String>) {
    let mut namespaces: Vec<String> = Vec::new();
    let mut services: Vec<String> = Vec::new();
    for t in targets {
        if !namespaces.contains(&t.rollout.namespace) {
            namespaces.push(t.rollout.namespace.clone());
        }
        if !services.contains(&t.rollout.name) {
            services.push(t.rollout.name.clone());
        }
    }
    (namespaces, services)
}

impl PrometheusSource {
    /// Fetches `req` without needing `&mut`: the same as [`MetricsSource::fetch`], usable
    /// concurrently from one source.
    pub async fn fetch_window(&self, req: &FetchRequest) -> Result<Fetched, SourceError> {
        let (q0, b0) = self.client.traffic();
        let plan = self.plan(&req.targets);
        let bucket_query = self.bucket_query(&req.targets);
        let custom_plan = self.custom_plan(&req.targets, &req.custom);
        let quantile_plan = self.quantile_plan(&req.targets);
        let (start, end, step) = (req.start_secs, req.end_secs, req.step_secs);
        let (answers, buckets, custom_answers, quantile_answers) = futures::future::join4(
            futures::future::join_all(
                plan.iter()
                    .map(|(_, promql)| self.client.query_range(promql, start, end, step)),
            ),
            async {
                match &bucket_query {
                    Some(promql) => Some(self.client.query_range(promql, start, end, step).await),
                    None => None,
                }
            },
            futures::future::join_all(
                custom_plan
                    .iter()
                    .map(|(_, promql)| self.client.query_range(promql, start, end, step)),
            ),
            futures::future::join_all(
                quantile_plan
                    .iter()
                    .map(|(_, promql)| self.client.query_range(promql, start, end, step)),
            ),
        )
        .await;
        let mut fetched = Fetched::default();
        let by_name: HashMap<(&str, &str), &Target> = req
            .targets
            .iter()
            .map(|t| ((t.rollout.namespace.as_str(), t.rollout.name.as_str()), t))
            .collect();
        let steps = ((req.end_secs - req.start_secs) / req.step_secs)
            .round()
            .max(0.0) as usize
            + 1;
        for ((signal, _), answer) in plan.iter().zip(answers) {
            let answer = answer.map_err(|e| SourceError(e.to_string()))?;
            fetched.warnings.extend(answer.warnings);
            let series = match answer.data {
                QueryData::Matrix(m) => m,
                other => {
                    return Err(SourceError(format!(
                        "Prometheus at {} answered a range query with {other:?} instead of a matrix; check the {} template",
                        self.client.url(),
                        self.template.name
                    )));
                }
            };
            let values = self.by_version(&series, &by_name);
            for target in &req.targets {
                for v in &target.versions {
                    let slot = points_of(&values, target, v);
                    for i in 0..steps {
                        let t = req.start_secs + i as f64 * req.step_secs;
                        let key = (t * 1000.0).round() as i64;
                        let mut value = slot.and_then(|m| m.get(&key).copied());
                        // A version without requests has no series, so Prometheus has no
                        // share for it; while another version of the service has one, its
                        // share is 0 (a blue-green preview), as the scrape source says.
                        if value.is_none()
                            && *signal == Signal::TrafficShare
                            && target.versions.iter().any(|o| {
                                points_of(&values, target, o).is_some_and(|m| m.contains_key(&key))
                            })
                        {
                            value = Some(0.0);
                        }
                        fetched.points.push(SignalPoint {
                            rollout: target.rollout.clone(),
                            version: v.clone(),
                            signal: *signal,
                            point: Point { t_secs: t, value },
                        });
                    }
                }
            }
        }
        for ((name, _), answer) in custom_plan.iter().zip(custom_answers) {
            let answer = answer.map_err(|e| custom_error(name, e))?;
            fetched.warnings.extend(answer.warnings);
            let QueryData::Matrix(series) = answer.data else {
                return Err(SourceError(format!(
                    "custom metric {name}: Prometheus at {} answered its range query with \
                     something other than a matrix; check metrics.{name}.query in the judge policy",
                    self.client.url()
                )));
            };
            self.named_points(&series, req, &by_name, name, &mut fetched.custom);
        }
        for ((name, _), answer) in quantile_plan.iter().zip(quantile_answers) {
            let answer = answer.map_err(|e| SourceError(format!("{name} latency: {e}")))?;
            fetched.warnings.extend(answer.warnings);
            let QueryData::Matrix(series) = answer.data else {
                return Err(SourceError(format!(
                    "{name} latency: Prometheus at {} answered its range query with something \
                     other than a matrix; check the {} template's latency_quantile",
                    self.client.url(),
                    self.template.name
                )));
            };
            self.named_points(&series, req, &by_name, name, &mut fetched.quantiles);
        }
        if let Some(answer) = buckets {
            let answer = answer.map_err(|e| SourceError(e.to_string()))?;
            fetched.warnings.extend(answer.warnings);
            let QueryData::Matrix(series) = answer.data else {
                return Err(SourceError(format!(
                    "Prometheus at {} answered the latency bucket query with something other than a matrix; check the {} template's latency_buckets",
                    self.client.url(),
                    self.template.name
                )));
            };
            // Each step's increase covers the whole window: where windows overlap (window >
            // step) every request would be pooled window/step times, so each step keeps its
            // share of the window.
            let window_secs = super::settings::parse_duration(&self.window)
                .map(|w| w.as_secs_f64())
                .unwrap_or(req.step_secs);
            let scale = (req.step_secs / window_secs.max(f64::MIN_POSITIVE)).min(1.0);
            fetched.buckets = self.bucket_points(&series, &req.targets, scale);
        }
        let (q1, b1) = self.client.traffic();
        fetched.queries = q1 - q0;
        fetched.bytes = b1 - b0;
        Ok(fetched)
    }
}

/// A custom metric's query failed: the metric, the policy key and Prometheus's own message.
fn custom_error(name: &str, error: super::PrometheusError) -> SourceError {
    let key = format!("metrics.{name}.query");
    match error {
        super::PrometheusError::Rejected {
            url,
            status,
            error_type,
            error,
            ..
        } => SourceError(format!(
            "custom metric {name}: Prometheus at {url} refused its query (HTTP {status}, \
             {error_type}): {error}; fix {key} in the judge policy"
        )),
        other => SourceError(format!("custom metric {name} ({key}): {other}")),
    }
}

impl PrometheusSource {
    /// A query's answer split by (namespace, rollout name, version hash) → time in ms →
    /// value, for the shown targets only (`by_name`), versions matched as the template says.
    /// NaN (0/0 when a version had no requests) and ±Inf are left out and become gaps.
    fn by_version<'a>(
        &self,
        series: &'a [RangeSeries],
        by_name: &HashMap<(&'a str, &'a str), &'a Target>,
    ) -> HashMap<(&'a str, &'a str, &'a str), HashMap<i64, f64>> {
        let mut values: HashMap<(&str, &str, &str), HashMap<i64, f64>> = HashMap::new();
        for s in series {
            let service = s
                .labels
                .get(&self.template.service_label)
                .map(String::as_str);
            let version = s
                .labels
                .get(&self.version_label)
                .map(String::as_str)
                .unwrap_or("");
            let namespace = s
                .labels
                .get(&self.template.namespace_label)
                .map(String::as_str);
            let (Some(namespace), Some(service)) = (namespace, service) else {
                continue;
            };
            // Services matched by the `=~` but not shown (same name, other namespace).
            let Some(target) = by_name.get(&(namespace, service)) else {
                continue;
            };
            let Some(v) = self.template.version_for(version, &target.versions) else {
                continue;
            };
            let slot = values
                .entry((namespace, service, v.hash.as_str()))
                .or_default();
            for (t, value) in &s.points {
                if value.is_finite() {
                    slot.insert((t * 1000.0).round() as i64, *value);
                }
            }
        }
        values
    }

    /// The bucket query's answer as one histogram interval per target version per step:
    /// series split by namespace, service and version, gathered by `le` at each timestamp
    /// (bounds scaled to ms, counts by `scale`); a step is kept only with its `+Inf` bucket
    /// (its requests).
    /// One named series' answer (a custom metric's, an extra quantile's) as a point per target
    /// version and step, gaps where the version has no value.
    fn named_points(
        &self,
        series: &[RangeSeries],
        req: &FetchRequest,
        by_name: &HashMap<(&str, &str), &Target>,
        name: &str,
        out: &mut Vec<NamedPoint>,
    ) {
        let values = self.by_version(series, by_name);
        let steps = ((req.end_secs - req.start_secs) / req.step_secs)
            .round()
            .max(0.0) as usize
            + 1;
        for target in &req.targets {
            for v in &target.versions {
                let slot = points_of(&values, target, v);
                for i in 0..steps {
                    let t = req.start_secs + i as f64 * req.step_secs;
                    let key = (t * 1000.0).round() as i64;
                    out.push(NamedPoint {
                        rollout: target.rollout.clone(),
                        version: v.clone(),
                        name: name.to_string(),
                        point: Point {
                            t_secs: t,
                            value: slot.and_then(|m| m.get(&key).copied()),
                        },
                    });
                }
            }
        }
    }

    fn bucket_points(
        &self,
        series: &[RangeSeries],
        targets: &[Target],
        scale: f64,
    ) -> Vec<BucketSignal> {
        type Slot = (f64, Vec<(f64, f64)>, Option<f64>);
        let mut gathered: HashMap<(usize, usize, i64), Slot> = HashMap::new();
        for s in series {
            let label = |name: &str| s.labels.get(name).map(String::as_str);
            let (Some(namespace), Some(service), Some(le)) = (
                label(&self.template.namespace_label),
                label(&self.template.service_label),
                label("le").and_then(super::response::parse_value),
            ) else {
                continue;
            };
            let version = label(&self.version_label).unwrap_or("");
            let Some(ti) = targets
                .iter()
                .position(|t| t.rollout.namespace == namespace && t.rollout.name == service)
            else {
                continue;
            };
            let Some(vi) = self
                .template
                .version_for(version, &targets[ti].versions)
                .and_then(|v| targets[ti].versions.iter().position(|o| o == v))
            else {
                continue;
            };
            for (t, value) in &s.points {
                if !value.is_finite() {
                    continue;
                }
                let key = (ti, vi, (t * 1000.0).round() as i64);
                let slot = gathered.entry(key).or_insert((*t, Vec::new(), None));
                if le == f64::INFINITY {
                    slot.2 = Some(slot.2.unwrap_or(0.0) + value * scale);
                } else {
                    slot.1
                        .push((le * self.template.latency_bucket_ms, value * scale));
                }
            }
        }
        let mut out: Vec<BucketSignal> = gathered
            .into_iter()
            .filter_map(|((ti, vi, _), (t_secs, mut le, requests))| {
                le.sort_by(|a, b| a.0.total_cmp(&b.0));
                Some(BucketSignal {
                    rollout: targets[ti].rollout.clone(),
                    version: targets[ti].versions[vi].clone(),
                    point: BucketPoint {
                        t_secs,
                        le,
                        requests: requests?,
                    },
                })
            })
            .collect();
        out.sort_by(|a, b| a.point.t_secs.total_cmp(&b.point.t_secs));
        out
    }
}

/// The points of `version` of `target` among a query's split-up values (time ms → value).
fn points_of<'m, 'k>(
    values: &'m HashMap<(&'k str, &'k str, &'k str), HashMap<i64, f64>>,
    target: &'k Target,
    version: &'k Version,
) -> Option<&'m HashMap<i64, f64>> {
    values.get(&(
        target.rollout.namespace.as_str(),
        target.rollout.name.as_str(),
        version.hash.as_str(),
    ))
}

impl MetricsSource for PrometheusSource {
    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn endpoint(&self) -> &str {
        self.client.url()
    }

    fn rate_window_secs(&self) -> Option<f64> {
        super::settings::parse_duration(&self.window)
            .ok()
            .map(|w| w.as_secs_f64())
    }

    fn fetch<'a>(
        &'a mut self,
        request: &'a FetchRequest,
    ) -> BoxFuture<'a, Result<Fetched, SourceError>> {
        Box::pin(self.fetch_window(request))
    }
}

#[cfg(test)]
#[path = "prometheus_source_tests.rs"]
mod tests;
