//! Fixtures of the metrics tests: an Istio exposition whose counters advance with time,
//! served by axum; a Prometheus process of the test's own; a fake Kubernetes API that
//! answers GET for one Argo rollout. Shared by metrics_prometheus.rs and metrics_lab.rs,
//! each of which uses a part of it.
#![allow(dead_code)]

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use release_cockpit::metrics::prometheus::{PrometheusClient, PrometheusConfig};
use release_cockpit::metrics::source::Target;
use release_cockpit::metrics::store::latest_value;
use release_cockpit::model::{MetricsSnapshot, RolloutRef, Signal, Version, VersionRole};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BOUNDS: [f64; 6] = [25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];
/// Cumulative share of requests at or under each bound (then +Inf = 1).
pub const STABLE_LATENCY: [f64; 6] = [0.30, 0.70, 0.93, 0.99, 1.0, 1.0];
pub const CANARY_LATENCY: [f64; 6] = [0.10, 0.40, 0.80, 0.90, 0.97, 1.0];
/// p95 by Prometheus's interpolation: stable 100 + 150·(0.02/0.06), canary 250 + 250·(0.05/0.07).
pub const STABLE_P95: f64 = 150.0;
pub const CANARY_P95: f64 = 250.0 + 250.0 * 0.05 / 0.07;
/// p99 likewise: stable 100 + 150·(0.06/0.06), canary 500 + 500·(0.02/0.03).
pub const STABLE_P99: f64 = 250.0;
pub const CANARY_P99: f64 = 500.0 + 500.0 * 0.02 / 0.03;

/// One simulated service: total rate, canary share, error shares.
#[derive(Clone)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub stable_hash: String,
    pub canary_hash: String,
    pub rate: f64,
    pub canary_share: f64,
    pub stable_errors: f64,
    pub canary_errors: f64,
}

impl Service {
    pub fn new(name: &str, canary_share: f64) -> Service {
        Service {
            namespace: "demo".into(),
            name: name.into(),
            stable_hash: format!("{name}-s6c5b8d"),
            canary_hash: format!("{name}-c7d4f9b"),
            rate: 200.0,
            canary_share,
            stable_errors: 0.005,
            canary_errors: 0.05,
        }
    }

    pub fn target(&self) -> Target {
        Target {
            rollout: RolloutRef::new("lab", &self.namespace, &self.name),
            versions: vec![
                Version::new(VersionRole::Stable, &self.stable_hash),
                Version::new(VersionRole::Canary, &self.canary_hash),
            ],
        }
    }
}

/// The exposition of every service at `secs` since start: counters = ⌊rate · t⌋.
/// The same traffic is also exported the way a plain app would (`http_requests_total`,
/// `http_request_duration_seconds`) for the generic template.
pub fn exposition(services: &[Service], secs: f64) -> String {
    let mut out = String::from("# TYPE istio_requests_total counter\n");
    let mut hist = String::from("# TYPE istio_request_duration_milliseconds histogram\n");
    let mut generic = String::from("# TYPE http_requests_total counter\n");
    for s in services {
        for (hash, share, errors, latency) in [
            (
                &s.stable_hash,
                1.0 - s.canary_share,
                s.stable_errors,
                STABLE_LATENCY,
            ),
            (
                &s.canary_hash,
                s.canary_share,
                s.canary_errors,
                CANARY_LATENCY,
            ),
        ] {
            let total = s.rate * share * secs;
            let labels = |code: &str| {
                format!(
                    r#"reporter="destination",destination_workload_namespace="{}",destination_canonical_service="{}",destination_workload="{}-{hash}",response_code="{code}",rollouts_pod_template_hash="{hash}""#,
                    s.namespace, s.name, s.name
                )
            };
            out += &format!(
                "istio_requests_total{{{}}} {}\n",
                labels("200"),
                (total * (1.0 - errors)).floor()
            );
            out += &format!(
                "istio_requests_total{{{}}} {}\n",
                labels("503"),
                (total * errors).floor()
            );
            // The source-side report of the same traffic must not be counted twice.
            out += &format!(
                "istio_requests_total{{{}}} {}\n",
                labels("200").replace("reporter=\"destination\"", "reporter=\"source\""),
                (total * 7.0).floor()
            );
            let app = |code: &str| {
                format!(
                    r#"namespace="{}",service="{}",code="{code}",rollouts_pod_template_hash="{hash}""#,
                    s.namespace, s.name
                )
            };
            generic += &format!(
                "http_requests_total{{{}}} {}\n",
                app("200"),
                (total * (1.0 - errors)).floor()
            );
            generic += &format!(
                "http_requests_total{{{}}} {}\n",
                app("500"),
                (total * errors).floor()
            );
            for (le, frac) in BOUNDS.iter().zip(latency) {
                generic += &format!(
                    "http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                    app("200"),
                    le / 1000.0,
                    (total * frac).floor()
                );
            }
            generic += &format!(
                "http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                app("200"),
                total.floor()
            );
            let base = labels("200");
            for (le, frac) in BOUNDS.iter().zip(latency) {
                hist += &format!(
                    "istio_request_duration_milliseconds_bucket{{{base},le=\"{le}\"}} {}\n",
                    (total * frac).floor()
                );
            }
            hist += &format!(
                "istio_request_duration_milliseconds_bucket{{{base},le=\"+Inf\"}} {}\n",
                total.floor()
            );
            hist += &format!(
                "istio_request_duration_milliseconds_sum{{{base}}} {}\n",
                (total * 120.0).floor()
            );
            hist += &format!(
                "istio_request_duration_milliseconds_count{{{base}}} {}\n",
                total.floor()
            );
        }
    }
    out + &hist + &generic
}

#[derive(Clone)]
pub struct Lab {
    pub services: Arc<Vec<Service>>,
    pub started: Instant,
    pub seen_headers: Arc<Mutex<Vec<HeaderMap>>>,
}

/// Serves `/metrics`, a slow `/slow/api/v1/query` and a header-recording fake API.
pub async fn serve(services: Vec<Service>) -> (String, Lab) {
    let lab = Lab {
        services: Arc::new(services),
        // Start "1000 s ago" so the first counters are large, like a running mesh.
        started: Instant::now() - Duration::from_secs(1000),
        seen_headers: Arc::default(),
    };
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(lab): State<Lab>| async move {
                exposition(&lab.services, lab.started.elapsed().as_secs_f64())
            }),
        )
        .route(
            "/slow/api/v1/query",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "{}"
            }),
        )
        .route(
            "/echo/api/v1/query",
            get(|State(lab): State<Lab>, headers: HeaderMap| async move {
                lab.seen_headers.lock().unwrap().push(headers);
                r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#
            }),
        )
        .with_state(lab.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, lab)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Prometheus process of our own; killed on drop.
pub struct Prometheus {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Prometheus {
    pub fn binary() -> Option<PathBuf> {
        let out = Command::new("sh")
            .args(["-c", "command -v prometheus"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    }

    pub fn start(dir: &Path, port: u16, scrape_target: &str) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n- job_name: lab\n  scrape_interval: 1s\n  static_configs:\n  - targets: [\"{scrape_target}\"]\n"
            ),
        )
        .unwrap();
        let mut command = Command::new("prometheus");
        release_cockpit::lab::prometheus::die_with_parent(&mut command);
        let child = command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .unwrap();
        Prometheus {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn restart(&mut self, scrape_target: &str) {
        self.stop();
        *self = Prometheus::start(&self.dir.clone(), self.port, scrape_target);
    }

    /// Waits until a query over the lab's counters answers for every service and version.
    pub async fn wait_for_data(&self, series: usize) {
        let client = PrometheusClient::new(PrometheusConfig::new(&self.url())).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let q = r#"count(rate(istio_requests_total{reporter="destination"}[1m]) > 0)"#;
            if let Ok(r) = client.query(q, None).await
                && let release_cockpit::metrics::response::QueryData::Vector(v) = r.data
                && v.first().is_some_and(|s| s.value as usize >= series)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus has no data after 60 s; see {}",
                self.dir.join("prometheus.log").display()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn now_value(snap: &MetricsSnapshot, hash: &str, signal: Signal) -> Option<f64> {
    snap.series
        .iter()
        .find(|s| s.version.hash == hash && s.signal == signal)
        .and_then(latest_value)
}

/// The newest value of extra quantile `name` (`p99`) of version `hash`.
pub fn now_quantile(snap: &MetricsSnapshot, hash: &str, name: &str) -> Option<f64> {
    snap.quantiles
        .iter()
        .filter(|s| s.version.hash == hash && s.name == name)
        .flat_map(|s| s.points.iter().rev())
        .find_map(|p| p.value)
}

/// The bucket width around `ms` among the lab's bounds.
pub fn bucket_width(ms: f64) -> f64 {
    let mut lower = 0.0;
    for b in BOUNDS {
        if ms <= b {
            return b - lower;
        }
        lower = b;
    }
    f64::INFINITY
}

/// The rollout of the Argo fixture `canary-demo` (stableRS 877894d5b, currentPodHash
/// 65fb5ffc84) as traffic in the exposition.
pub fn argo_fixture_service() -> Service {
    Service {
        namespace: "jesse-test".into(),
        stable_hash: "877894d5b".into(),
        canary_hash: "65fb5ffc84".into(),
        ..Service::new("canary-demo", 0.2)
    }
}

/// A Kubernetes API answering GET for the fixture rollout only; kube-rs talks to it over HTTP.
pub async fn fake_kube_api() -> kube::Client {
    let rollout = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "canary-demo", "namespace": "jesse-test", "generation": 3, "resourceVersion": "100"},
        "spec": {"replicas": 5, "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
        "status": {"stableRS": "877894d5b", "currentPodHash": "65fb5ffc84", "currentStepIndex": 1,
                   "observedGeneration": "3", "phase": "Paused", "replicas": 5}
    });
    let app = Router::new().route(
        "/apis/argoproj.io/v1alpha1/namespaces/{ns}/rollouts/{name}",
        get(move |axum::extract::Path((ns, name)): axum::extract::Path<(String, String)>| {
            let rollout = rollout.clone();
            async move {
                if ns == "jesse-test" && name == "canary-demo" {
                    (axum::http::StatusCode::OK, axum::Json(rollout))
                } else {
                    (
                        axum::http::StatusCode::NOT_FOUND,
                        axum::Json(serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "message": format!("rollouts.argoproj.io \"{name}\" not found"), "reason": "NotFound", "code": 404})),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = kube::Config::new(url.parse::<http::Uri>().unwrap());
    kube::Client::try_from(config).unwrap()
}
