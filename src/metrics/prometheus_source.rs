//! The Prometheus-backed `MetricsSource`: per refresh, one range query per signal for every
//! shown rollout at once (namespaces and services as `=~` alternations), results split
//! client-side by namespace, service and version; a step without data becomes a gap, except
//! the share of a version that took no requests while another version did, which is 0.

use super::prometheus::PrometheusClient;
use super::response::QueryData;
use super::source::{FetchRequest, Fetched, MetricsSource, SignalPoint, SourceError, Target};
use super::templates::{RenderContext, Template};
use crate::model::{Point, Signal, Version};
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

    /// The queries one refresh sends for `targets`: one per signal, whatever the number of
    /// rollouts and namespaces shown.
    pub fn plan(&self, targets: &[Target]) -> Vec<(Signal, String)> {
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
        let ctx = RenderContext {
            namespaces: &namespaces,
            services: &services,
            version_label: &self.version_label,
            window: &self.window,
        };
        Signal::ALL
            .iter()
            .filter(|&&signal| !self.template.query(signal).trim().is_empty())
            .map(|&signal| (signal, self.template.render(signal, &ctx)))
            .collect()
    }

    /// Fetches `req` without needing `&mut`: the same as [`MetricsSource::fetch`], usable
    /// concurrently from one source.
    pub async fn fetch_window(&self, req: &FetchRequest) -> Result<Fetched, SourceError> {
        let (q0, b0) = self.client.traffic();
        let plan = self.plan(&req.targets);
        let answers = futures::future::join_all(plan.iter().map(|(_, promql)| {
            self.client
                .query_range(promql, req.start_secs, req.end_secs, req.step_secs)
        }))
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
            // (namespace, rollout name, version hash) → time in ms → value; NaN (0/0 when a
            // version had no requests) and ±Inf are left out and become gaps.
            let mut values: HashMap<(&str, &str, &str), HashMap<i64, f64>> = HashMap::new();
            for s in &series {
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
        let (q1, b1) = self.client.traffic();
        fetched.queries = q1 - q0;
        fetched.bytes = b1 - b0;
        Ok(fetched)
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

    fn fetch<'a>(
        &'a mut self,
        request: &'a FetchRequest,
    ) -> BoxFuture<'a, Result<Fetched, SourceError>> {
        Box::pin(self.fetch_window(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::PrometheusConfig;
    use crate::model::{RolloutRef, Version, VersionRole};

    /// A blue-green preview takes no requests: Prometheus has no series for it. Its share is
    /// 0 where the active version has one, a gap where neither has; error rate stays a gap.
    #[tokio::test]
    async fn a_version_without_requests_has_share_zero_while_its_service_has_traffic() {
        let body = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"destination_workload_namespace": "demo", "destination_canonical_service": "payments",
                        "rollouts_pod_template_hash": "active1"},
             "values": [[1010, "1"], [1020, "1"]]}]}});
        let app = axum::Router::new().route(
            "/api/v1/query_range",
            axum::routing::any(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = PrometheusClient::new(PrometheusConfig::new(&url)).unwrap();
        let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
        let target = Target {
            rollout: RolloutRef::new("lab", "demo", "payments"),
            versions: vec![
                Version::new(VersionRole::Active, "active1"),
                Version::new(VersionRole::Preview, "preview2"),
            ],
        };
        let req = FetchRequest {
            targets: vec![target],
            start_secs: 1000.0,
            end_secs: 1020.0,
            step_secs: 10.0,
        };
        let fetched = source.fetch_window(&req).await.unwrap();
        let values = |hash: &str, signal: Signal| -> Vec<Option<f64>> {
            fetched
                .points
                .iter()
                .filter(|p| p.version.hash == hash && p.signal == signal)
                .map(|p| p.point.value)
                .collect()
        };
        // Every query answers with the same matrix: the active version has values at 1010, 1020.
        assert_eq!(
            values("active1", Signal::TrafficShare),
            [None, Some(1.0), Some(1.0)]
        );
        assert_eq!(
            values("preview2", Signal::TrafficShare),
            [None, Some(0.0), Some(0.0)]
        );
        assert_eq!(values("preview2", Signal::ErrorRate), [None, None, None]);
        assert_eq!(values("preview2", Signal::P95Ms), [None, None, None]);
    }

    #[test]
    fn queries_per_refresh_do_not_grow_with_rollouts_or_namespaces() {
        let client = PrometheusClient::new(PrometheusConfig::new("http://127.0.0.1:9")).unwrap();
        let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
        let targets: Vec<Target> = (0..100)
            .map(|i| Target {
                rollout: RolloutRef::new("lab", &format!("ns{}", i % 3), &format!("svc{i}")),
                versions: vec![Version::new(VersionRole::Stable, "aaa")],
            })
            .collect();
        let plan = source.plan(&targets);
        assert_eq!(plan.len(), Signal::ALL.len());
        assert!(
            plan[0]
                .1
                .contains(r#"destination_workload_namespace=~"ns0|ns1|ns2""#)
        );
        assert!(plan[0].1.contains("svc0|svc1|svc2|"));
        assert!(plan[0].1.contains("|svc99\""));
    }
}
