//! Simulated user traffic for the lab, exported in Istio's metric format. Each rollout is a
//! service taking a steady request rate, split between versions by `status.canary.weights`
//! (blue-green: all to `status.blueGreen.activeSelector`; the preview gets no user traffic).
//!
//! How each version behaves comes from its own pod template, read from the ReplicaSet of
//! that hash, annotation `lab.release-cockpit.io/profile` (JSON, every field optional):
//!
//! ```json
//! {"errorRate": 0.002, "latencyMs": {"median": 40, "p95": 120},
//!  "spike": {"afterSecs": 60, "errorRate": 0.06, "latencyFactor": 2.0}}
//! ```
//!
//! - `errorRate`: probability that a request answers 5xx (70 % `500`, 30 % `503`);
//! - `latencyMs`: a log-normal latency with this median and 95th percentile;
//! - `spike`: once the version has had traffic for `afterSecs` seconds of lab time (wall
//!   time × speed, counted from the first tick it got a non-zero share), its error rate
//!   becomes `spike.errorRate` and its latencies are multiplied by `spike.latencyFactor`.
//!
//! A business metric beside them: one request in [`ORDER_SHARE`] places an order, which fails
//! when its request does (so a version's error profile fails its orders too), counted per
//! version as `orders_completed_total` and `orders_failed_total` with the request metrics'
//! workload labels (both always exported, from 0). The README's policy judges their ratio.
//! And a saturation gauge, `queue_depth`: each version's requests in flight per ready pod
//! over the last tick (its latency-seconds over the tick), which the demo policy judges too.
//!
//! HTTPRoutes take traffic too: each route (keyed by its `release-cockpit.io/release`
//! annotation, else its name) is split by its backendRefs' weights (`routes.rs`).
//!
//! The rate comes from the Rollout's (or HTTPRoute's) annotation `lab.release-cockpit.io/requests-per-second`
//! (default 50, real time: `--speed` does not change it). Counts per tick are drawn from
//! distributions (Poisson arrivals, binomial splits, per-bucket latency draws), so a tick
//! costs O(versions × buckets) whatever the rate.

mod routes;
mod sample;
#[cfg(test)]
mod tests;

pub use routes::route_shares;

use super::controller::POD_TEMPLATE_HASH_LABEL;
use super::deployments::DEPLOYMENT_HASH_LABEL;
use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sample::LogNormal;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The time constant of the `queue_depth` gauge's moving average, in seconds.
const QUEUE_SMOOTHING_SECS: f64 = 10.0;

/// Pod-template annotation holding a version's behaviour (see the module doc).
pub const PROFILE_ANNOTATION: &str = "lab.release-cockpit.io/profile";
/// Rollout annotation with the service's request rate per second of real time.
pub const RATE_ANNOTATION: &str = "lab.release-cockpit.io/requests-per-second";
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 50.0;
/// HTTPRoute annotation naming the release it carries (the cockpit's Gateway API provider).
pub const RELEASE_ANNOTATION: &str = "release-cockpit.io/release";

/// The share of requests that place an order (the lab's business metric).
pub const ORDER_SHARE: f64 = 0.2;

/// Upper bounds of the latency histogram, in ms: Istio's default buckets up to 60 s, plus
/// 75, 150, 200, 300, 400 and 750 so that `histogram_quantile` resolves p95s in the range the
/// scenarios use. The last one is +Inf.
pub const BUCKETS_MS: [f64; 21] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0,
    1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0,
];
const BOUNDS: usize = BUCKETS_MS.len() + 1;
/// A tick longer than this (a suspended laptop) is not replayed as a burst.
const MAX_TICK_SECS: f64 = 5.0;

/// How one version answers requests.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Profile {
    pub error_rate: f64,
    pub latency_ms: LatencyMs,
    pub spike: Option<Spike>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LatencyMs {
    pub median: f64,
    pub p95: f64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Spike {
    pub after_secs: f64,
    pub error_rate: Option<f64>,
    pub latency_factor: Option<f64>,
}

impl Default for Profile {
    /// A healthy service: 0.2 % errors, median 40 ms, p95 120 ms.
    fn default() -> Self {
        Profile {
            error_rate: 0.002,
            latency_ms: LatencyMs::default(),
            spike: None,
        }
    }
}

impl Default for LatencyMs {
    fn default() -> Self {
        LatencyMs {
            median: 40.0,
            p95: 120.0,
        }
    }
}

impl Default for Spike {
    fn default() -> Self {
        Spike {
            after_secs: 60.0,
            error_rate: None,
            latency_factor: None,
        }
    }
}

impl Profile {
    /// The profile a pod template declares; the default one when it declares none or an
    /// unreadable one (the lab keeps serving rather than failing on a typo).
    pub fn of_template(template: &Value) -> Profile {
        template
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(PROFILE_ANNOTATION))
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }

    /// Error rate and latency after `lab_secs` of traffic.
    fn at(&self, lab_secs: f64) -> (f64, LogNormal) {
        let mut error_rate = self.error_rate;
        let mut factor = 1.0;
        if let Some(spike) = self.spike.as_ref().filter(|s| lab_secs >= s.after_secs) {
            error_rate = spike.error_rate.unwrap_or(error_rate);
            factor = spike.latency_factor.unwrap_or(1.0).max(0.0);
        }
        let latency = LogNormal::from_median_p95(
            self.latency_ms.median * factor,
            self.latency_ms.p95 * factor,
        );
        (error_rate.clamp(0.0, 1.0), latency)
    }
}

/// One labelled counter set: requests with one response code from one version.
#[derive(Clone, Debug)]
struct Series {
    requests: u64,
    buckets: [u64; BOUNDS],
    sum_ms: f64,
}

#[derive(Clone, Debug, Default)]
struct Version {
    first_traffic: Option<Timestamp>,
    revision_label: String,
    /// Keyed by (destination_service_name, response_code).
    series: BTreeMap<(String, u16), Series>,
    orders_completed: u64,
    orders_failed: u64,
    /// Requests in flight per ready pod (Little's law: each tick's latency-seconds over its
    /// duration, over the pods), averaged over ~10 s, exported as the `queue_depth` gauge.
    queue_depth: f64,
}

#[derive(Default)]
struct Service {
    versions: BTreeMap<String, Version>,
}

/// The traffic simulation: feed it the rollouts and ReplicaSets every tick, render it for
/// `/metrics`.
pub struct Traffic {
    rng: StdRng,
    services: BTreeMap<(String, String), Service>,
    last_tick: Option<Timestamp>,
}

/// Where some traffic goes: (pod hash, share in percent, service name).
pub type Share = (String, f64, String);

/// Where a rollout's traffic goes now.
fn shares(rollout: &Value) -> Vec<Share> {
    let name = rollout["metadata"]["name"].as_str().unwrap_or_default();
    let status = &rollout["status"];
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(String::from);
    let strategy = &rollout["spec"]["strategy"];
    if strategy.get("blueGreen").is_some() {
        let service = text(&strategy["blueGreen"]["activeService"]).unwrap_or(name.into());
        return text(&status["blueGreen"]["activeSelector"])
            .map(|active| vec![(active, 100.0, service)])
            .unwrap_or_default();
    }
    let weights = &status["canary"]["weights"];
    let destination = |w: &Value| {
        Some((
            text(&w["podTemplateHash"])?,
            w["weight"].as_f64().unwrap_or(0.0).clamp(0.0, 100.0),
            text(&w["serviceName"]).unwrap_or(name.into()),
        ))
    };
    match (
        destination(&weights["stable"]),
        destination(&weights["canary"]),
    ) {
        (Some(stable), Some(canary)) if stable.0 == canary.0 => {
            vec![(stable.0, 100.0, stable.2)]
        }
        (Some(stable), Some(canary)) => vec![stable, canary],
        (Some(only), None) | (None, Some(only)) => vec![(only.0, 100.0, only.2)],
        (None, None) => text(&status["stableRS"])
            .or_else(|| text(&status["currentPodHash"]))
            .map(|h| vec![(h, 100.0, name.into())])
            .unwrap_or_default(),
    }
}

fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Traffic {
    pub fn new(seed: u64) -> Traffic {
        Traffic {
            rng: StdRng::seed_from_u64(seed),
            services: BTreeMap::new(),
            last_tick: None,
        }
    }

    /// Let traffic flow for the wall time since the previous tick (none on the first).
    pub fn tick(&mut self, rollouts: &[Value], replica_sets: &[Value], now: Timestamp, speed: f64) {
        self.tick_with_routes(rollouts, replica_sets, &[], &[], now, speed);
    }

    /// [`Traffic::tick`] with the lab's HTTPRoutes and Services as well.
    pub fn tick_with_routes(
        &mut self,
        rollouts: &[Value],
        replica_sets: &[Value],
        routes: &[Value],
        services: &[Value],
        now: Timestamp,
        speed: f64,
    ) {
        let dt = self
            .last_tick
            .map(|last| {
                now.duration_since(last)
                    .as_secs_f64()
                    .clamp(0.0, MAX_TICK_SECS)
            })
            .unwrap_or(0.0);
        self.last_tick = Some(now);
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        // (namespace, hash) → [(owning rollout, ReplicaSet)]
        let mut templates: HashMap<(&str, &str), Vec<(&str, &Value)>> = HashMap::new();
        for rs in replica_sets {
            let meta = &rs["metadata"];
            let namespace = meta["namespace"].as_str().unwrap_or_default();
            let labels = &meta["labels"];
            let hash = labels[POD_TEMPLATE_HASH_LABEL]
                .as_str()
                .or(labels[DEPLOYMENT_HASH_LABEL].as_str());
            if let Some(hash) = hash {
                let owner = meta["ownerReferences"][0]["name"]
                    .as_str()
                    .or_else(|| meta["name"].as_str()?.strip_suffix(hash)?.strip_suffix('-'))
                    .unwrap_or_default();
                templates
                    .entry((namespace, hash))
                    .or_default()
                    .push((owner, rs));
            }
        }
        let in_namespace = |objects: &[Value], namespace: &str| -> Vec<Value> {
            objects
                .iter()
                .filter(|o| o["metadata"]["namespace"] == namespace)
                .cloned()
                .collect()
        };
        // (the Rollout or HTTPRoute, the service it names, where its traffic goes)
        let mut splits: Vec<(&Value, &str, Vec<Share>)> = Vec::new();
        for rollout in rollouts {
            let name = rollout["metadata"]["name"].as_str().unwrap_or_default();
            splits.push((rollout, name, shares(rollout)));
        }
        for route in routes {
            let meta = &route["metadata"];
            let namespace = meta["namespace"].as_str().unwrap_or_default();
            let name = meta["annotations"][RELEASE_ANNOTATION]
                .as_str()
                .or(meta["name"].as_str())
                .unwrap_or_default();
            let shares = route_shares(
                route,
                &in_namespace(services, namespace),
                &in_namespace(replica_sets, namespace),
            );
            splits.push((route, name, shares));
        }
        let mut alive = Vec::new();
        for (object, name, shares) in splits {
            let meta = &object["metadata"];
            let Some(namespace) = meta["namespace"].as_str() else {
                continue;
            };
            let key = (namespace.to_string(), name.to_string());
            alive.push(key.clone());
            let rate = meta["annotations"][RATE_ANNOTATION]
                .as_str()
                .and_then(|r| r.parse::<f64>().ok())
                .filter(|r| r.is_finite() && *r >= 0.0)
                .unwrap_or(DEFAULT_REQUESTS_PER_SECOND);
            let service = self.services.entry(key).or_default();
            // A version that takes no traffic drains: its gauge decays like the others' move.
            for version in service.versions.values_mut() {
                version.queue_depth *= (-dt / QUEUE_SMOOTHING_SECS).exp();
            }
            let mut remaining = sample::poisson(&mut self.rng, rate * dt);
            let mut share_left = 100.0;
            for (hash, share, service_name) in shares {
                let n = if share_left <= share {
                    remaining
                } else {
                    sample::binomial(&mut self.rng, remaining, share / share_left)
                };
                remaining -= n;
                share_left -= share;
                if share <= 0.0 {
                    continue;
                }
                // The rollout's own ReplicaSet for this hash; any with that hash otherwise.
                let replica_set = templates
                    .get(&(namespace, hash.as_str()))
                    .and_then(|found| {
                        found
                            .iter()
                            .find(|(owner, _)| *owner == name)
                            .or(found.first())
                            .map(|(_, rs)| *rs)
                    });
                let template = replica_set.map(|rs| &rs["spec"]["template"]);
                let version = service.versions.entry(hash.clone()).or_default();
                let first = *version.first_traffic.get_or_insert(now);
                if let Some(t) = template {
                    version.revision_label = t["metadata"]["labels"]["app.kubernetes.io/version"]
                        .as_str()
                        .unwrap_or("latest")
                        .to_string();
                }
                let profile = template.map(Profile::of_template).unwrap_or_default();
                let lab_secs = now.duration_since(first).as_secs_f64() * speed;
                let (error_rate, latency) = profile.at(lab_secs);
                let errors = sample::binomial(&mut self.rng, n, error_rate);
                let unavailable = sample::binomial(&mut self.rng, errors, 0.3);
                // Orders ride on requests: a failed request fails its order.
                let failed_orders = sample::binomial(&mut self.rng, errors, ORDER_SHARE);
                version.orders_failed += failed_orders;
                version.orders_completed +=
                    sample::binomial(&mut self.rng, n - errors, ORDER_SHARE);
                let mut busy_ms = 0.0;
                for (code, count) in [
                    (200, n - errors),
                    (500, errors - unavailable),
                    (503, unavailable),
                ] {
                    if count == 0 && code != 200 {
                        continue;
                    }
                    let series = version
                        .series
                        .entry((service_name.clone(), code))
                        .or_insert_with(|| Series {
                            requests: 0,
                            buckets: [0; BOUNDS],
                            sum_ms: 0.0,
                        });
                    let mut bounds = [f64::INFINITY; BOUNDS];
                    bounds[..BUCKETS_MS.len()].copy_from_slice(&BUCKETS_MS);
                    let ms = latency.fill(&mut self.rng, count, &bounds, &mut series.buckets);
                    series.sum_ms += ms;
                    busy_ms += ms;
                    series.requests += count;
                }
                // Per pod, as a pod's own gauge reads (the policy takes the max by version):
                // the version's requests in flight over its ready pods.
                let pods = replica_set
                    .and_then(|rs| {
                        rs["status"]["readyReplicas"]
                            .as_f64()
                            .or(rs["spec"]["replicas"].as_f64())
                    })
                    .unwrap_or(1.0)
                    .max(1.0);
                // Averaged over about QUEUE_SMOOTHING_SECS (an exponential moving average, as
                // a pod's exported queue gauge is): one tick holds a request or two.
                if dt > 0.0 {
                    let now_in_flight = busy_ms / 1000.0 / dt / pods;
                    let keep = (-dt / QUEUE_SMOOTHING_SECS).exp();
                    // The decay above already applied `keep` once this tick.
                    version.queue_depth += (1.0 - keep) * now_in_flight;
                }
            }
        }
        // A deleted rollout's service is gone; its series end, as a deleted workload's do.
        self.services.retain(|key, _| alive.contains(key));
    }

    /// Requests and 5xx answers a version (pod hash) of rollout `namespace/name` has served
    /// so far: the counters `/metrics` exports, so analysis measures what Prometheus sees.
    pub fn totals(&self, namespace: &str, name: &str, hash: &str) -> Option<(u64, u64)> {
        let service = self
            .services
            .get(&(namespace.to_string(), name.to_string()))?;
        let version = service.versions.get(hash)?;
        let mut requests = 0;
        let mut errors = 0;
        for ((_, code), series) in &version.series {
            requests += series.requests;
            if *code >= 500 {
                errors += series.requests;
            }
        }
        Some((requests, errors))
    }

    /// The Prometheus text exposition (format 0.0.4) of every counter and histogram.
    pub fn render(&self) -> String {
        let mut requests = String::new();
        let mut durations = String::new();
        let mut completed = String::new();
        let mut failed = String::new();
        let mut queue = String::new();
        for ((namespace, name), service) in &self.services {
            for (hash, version) in &service.versions {
                let workload = format!(
                    "destination_workload_namespace=\"{}\",destination_workload=\"{}\",\
                     destination_canonical_service=\"{}\",rollouts_pod_template_hash=\"{}\"",
                    label_value(namespace),
                    label_value(&format!("{name}-{hash}")),
                    label_value(name),
                    label_value(hash),
                );
                let _ = writeln!(
                    completed,
                    "orders_completed_total{{{workload}}} {}",
                    version.orders_completed
                );
                let _ = writeln!(
                    failed,
                    "orders_failed_total{{{workload}}} {}",
                    version.orders_failed
                );
                let _ = writeln!(queue, "queue_depth{{{workload}}} {}", version.queue_depth);
                for ((service_name, code), series) in &version.series {
                    let labels = format!(
                        "reporter=\"destination\",destination_workload_namespace=\"{}\",\
                         destination_workload=\"{}\",destination_canonical_service=\"{}\",\
                         destination_canonical_revision=\"{}\",destination_service_name=\"{}\",\
                         request_protocol=\"http\",response_code=\"{code}\",\
                         rollouts_pod_template_hash=\"{}\"",
                        label_value(namespace),
                        label_value(&format!("{name}-{hash}")),
                        label_value(name),
                        label_value(&version.revision_label),
                        label_value(service_name),
                        label_value(hash),
                    );
                    let _ = writeln!(
                        requests,
                        "istio_requests_total{{{labels}}} {}",
                        series.requests
                    );
                    let mut cumulative = 0;
                    for (slot, count) in series.buckets.iter().enumerate() {
                        cumulative += count;
                        let le = BUCKETS_MS
                            .get(slot)
                            .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                        let _ = writeln!(
                            durations,
                            "istio_request_duration_milliseconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                        );
                    }
                    let _ = writeln!(
                        durations,
                        "istio_request_duration_milliseconds_sum{{{labels}}} {}",
                        series.sum_ms
                    );
                    let _ = writeln!(
                        durations,
                        "istio_request_duration_milliseconds_count{{{labels}}} {}",
                        series.requests
                    );
                }
            }
        }
        format!(
            "# HELP istio_requests_total Requests served (simulated by the Release Cockpit lab).\n\
             # TYPE istio_requests_total counter\n{requests}\
             # HELP istio_request_duration_milliseconds Request duration in milliseconds (simulated by the Release Cockpit lab).\n\
             # TYPE istio_request_duration_milliseconds histogram\n{durations}\
             # HELP orders_completed_total Orders placed and completed (simulated by the Release Cockpit lab).\n\
             # TYPE orders_completed_total counter\n{completed}\
             # HELP orders_failed_total Orders that failed (simulated by the Release Cockpit lab).\n\
             # TYPE orders_failed_total counter\n{failed}\
             # HELP queue_depth Requests in flight (simulated by the Release Cockpit lab).\n\
             # TYPE queue_depth gauge\n{queue}"
        )
    }
}
