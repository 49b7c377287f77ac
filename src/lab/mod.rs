//! The lab: a local Kubernetes-compatible API with a simulated Argo Rollouts controller.
//! `Lab::start` brings up the API server, the controller loop, the traffic simulation and
//! (optionally) a child Prometheus on 127.0.0.1; `Lab::shutdown` stops all of them.

pub mod controller;
pub mod kind;
pub mod kubeconfig;
mod meta;
pub mod prometheus;
mod run_loop;
pub mod scenario;
pub mod server;
pub mod store;
pub mod traffic;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use kind::Kind;
pub use store::Store;

use serde_json::Value;
use server::{ApiServer, LabTls, Tokens};
use traffic::Traffic;

/// Whether the lab starts a real Prometheus scraping its `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PrometheusMode {
    /// Start one when a `prometheus` binary is on PATH; run without one otherwise.
    #[default]
    Auto,
    /// Never start one.
    Off,
    /// Start this binary; failing to start it is an error.
    Path(PathBuf),
}

/// How to start a lab.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Where the kubeconfig, `lab.json` and Prometheus data go; `None`: write no files
    /// (Prometheus, if any, then keeps its data in a temporary directory).
    pub dir: Option<PathBuf>,
    /// Where the API listens; port 0 picks a free port.
    pub addr: SocketAddr,
    /// One of [`scenario::NAMES`].
    pub scenario: String,
    /// Simulated time runs this many times faster than real time.
    pub speed: f64,
    pub prometheus: PrometheusMode,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            dir: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            scenario: "demo".to_string(),
            speed: 1.0,
            prometheus: PrometheusMode::Off,
        }
    }
}

/// Why the lab did not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "cannot listen on {addr} for the lab API: {source}; pick another --addr (port 0 picks a free one)"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the lab only listens on loopback addresses, not {addr}; use 127.0.0.1:PORT")]
    NotLoopback { addr: SocketAddr },
    #[error("unknown scenario {name:?}: {message}; choose one of {}", scenario::NAMES.join(", "))]
    Scenario { name: String, message: String },
    #[error("the lab speed must be a positive number, not {speed}")]
    Speed { speed: f64 },
    #[error("cannot seed the lab with {name}: {message}")]
    Seed { name: String, message: String },
    #[error("cannot write {}: {source}; check that the --dir is writable", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error(
        "cannot build a client for lab context {context:?}: {message}; use lab-admin, lab-viewer or lab-dev"
    )]
    ClientConfig { context: String, message: String },
    #[error("cannot start Prometheus for the lab: {0}; use --prometheus off to run without it")]
    Prometheus(String),
}

/// A running lab. [`Lab::shutdown`] stops it and waits; dropping it also stops the server,
/// the controller loop and Prometheus, without waiting for them.
pub struct Lab {
    /// `https://127.0.0.1:PORT`: the Kubernetes API (TLS, signed by [`Lab::ca_pem`]).
    pub api_url: String,
    /// `http://127.0.0.1:PORT2/metrics`: the simulated traffic in Istio's format.
    pub metrics_url: String,
    /// The child Prometheus scraping `metrics_url`, when one was started.
    pub prometheus_url: Option<String>,
    /// `DIR/kubeconfig`, when the lab was given a directory.
    pub kubeconfig_path: Option<PathBuf>,
    store: Arc<Store>,
    tokens: Tokens,
    tls: LabTls,
    server: ApiServer,
    controller: run_loop::ControllerLoop,
    prometheus: Option<prometheus::PrometheusChild>,
    /// The data directory made for Prometheus when the lab was given none.
    temp_dir: Option<PathBuf>,
}

impl Lab {
    /// Seeds the store with `opts.scenario`, starts the API server, the controller loop and
    /// (per `opts.prometheus`) Prometheus, and writes the kubeconfig and `lab.json` into
    /// `opts.dir`. Runs on the caller's tokio runtime (any flavour, with IO and time enabled);
    /// returns once the API accepts connections.
    pub async fn start(opts: LabOptions) -> Result<Lab, LabError> {
        if !opts.addr.ip().is_loopback() {
            return Err(LabError::NotLoopback { addr: opts.addr });
        }
        if !(opts.speed.is_finite() && opts.speed > 0.0) {
            return Err(LabError::Speed { speed: opts.speed });
        }
        let seed = scenario::seed(&opts.scenario).map_err(|message| LabError::Scenario {
            name: opts.scenario.clone(),
            message,
        })?;
        let store = Arc::new(Store::new());
        // Namespaces first: namespaced objects are refused in a namespace that does not exist.
        let mut seed = seed;
        // Rollouts before their ReplicaSets, so each ReplicaSet's ownerReference carries its
        // rollout's uid (the cockpit finds a rollout's ReplicaSets by that uid).
        seed.sort_by_key(|o| match kind_of(o) {
            Some(Kind::Namespace) => 0,
            Some(Kind::Rollout) => 1,
            _ => 2,
        });
        let mut rollout_uids: HashMap<(String, String), Value> = HashMap::new();
        for mut object in seed {
            set_owner_uids(&mut object, &rollout_uids);
            let name = object_label(&object);
            let kind = kind_of(&object).ok_or_else(|| LabError::Seed {
                name: name.clone(),
                message: "the lab does not serve this kind".into(),
            })?;
            let created = store.create(kind, object).map_err(|e| LabError::Seed {
                name,
                message: e.to_string(),
            })?;
            if kind == Kind::Rollout {
                let meta = &created["metadata"];
                rollout_uids.insert(
                    (
                        meta["namespace"].as_str().unwrap_or_default().to_string(),
                        meta["name"].as_str().unwrap_or_default().to_string(),
                    ),
                    meta["uid"].clone(),
                );
            }
        }
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .map_err(|source| LabError::Listen {
                addr: opts.addr,
                source,
            })?;
        let metrics_addr = SocketAddr::new(opts.addr.ip(), 0);
        let metrics_listener =
            tokio::net::TcpListener::bind(metrics_addr)
                .await
                .map_err(|source| LabError::Listen {
                    addr: metrics_addr,
                    source,
                })?;
        let tls = LabTls::generate().map_err(LabError::Tls)?;
        let traffic = Arc::new(Mutex::new(Traffic::new(rand::random())));
        let render = {
            let traffic = Arc::clone(&traffic);
            Arc::new(move || traffic.lock().map(|t| t.render()).unwrap_or_default())
                as server::MetricsRenderer
        };
        let tokens = Tokens::generate();
        let server = ApiServer::start(
            listener,
            metrics_listener,
            &tls,
            Arc::clone(&store),
            tokens.clone(),
            render,
        )
        .map_err(|source| LabError::Listen {
            addr: opts.addr,
            source,
        })?;
        let api_url = format!("https://{}", server.addr);
        let metrics_url = format!("http://{}/metrics", server.metrics_addr);
        let controller = run_loop::ControllerLoop::start(Arc::clone(&store), traffic, opts.speed);
        let mut lab = Lab {
            api_url,
            metrics_url,
            prometheus_url: None,
            kubeconfig_path: None,
            store,
            tokens,
            tls,
            server,
            controller,
            prometheus: None,
            temp_dir: None,
        };
        if let Err(e) = lab.finish_start(&opts).await {
            lab.shutdown().await;
            return Err(e);
        }
        Ok(lab)
    }

    async fn finish_start(&mut self, opts: &LabOptions) -> Result<(), LabError> {
        let data_dir = match &opts.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| LabError::Write {
                    path: dir.clone(),
                    source,
                })?;
                dir.clone()
            }
            None => {
                // Only Prometheus writes here; removed again on shutdown.
                let port = self.server.addr.port();
                let temp = std::env::temp_dir()
                    .join(format!("release-cockpit-lab-{}-{port}", std::process::id()));
                self.temp_dir = Some(temp.clone());
                temp
            }
        };
        let child = prometheus::start(&opts.prometheus, &self.metrics_url, &data_dir)
            .await
            .map_err(LabError::Prometheus)?;
        self.prometheus_url = child.as_ref().map(|c| c.url.clone());
        self.prometheus = child;
        if let Some(dir) = &opts.dir {
            let files = kubeconfig::LabFiles {
                api_url: &self.api_url,
                metrics_url: &self.metrics_url,
                prometheus_url: self.prometheus_url.as_deref(),
                ca_pem: &self.tls.ca_pem,
                admin_token: &self.tokens.admin,
                viewer_token: &self.tokens.viewer,
                dev_token: &self.tokens.dev,
            };
            self.kubeconfig_path = Some(kubeconfig::write(dir, &files)?);
        }
        Ok(())
    }

    /// Stops the API server (ending open watches), the controller loop and Prometheus.
    pub async fn shutdown(self) {
        self.controller.stop().await;
        self.server.stop().await;
        if let Some(child) = self.prometheus {
            child.stop().await;
        }
        if let Some(temp) = self.temp_dir.filter(|t| t.exists())
            && let Err(e) = std::fs::remove_dir_all(&temp)
        {
            tracing::warn!(
                "could not remove the lab's temporary directory {}: {e}",
                temp.display()
            );
        }
    }

    /// The bearer token of `lab-admin` (may do everything).
    pub fn admin_token(&self) -> &str {
        &self.tokens.admin
    }

    /// The bearer token of `lab-viewer` (get, list and watch only).
    pub fn viewer_token(&self) -> &str {
        &self.tokens.viewer
    }

    /// The bearer token of `lab-dev` (everything in namespace `demo`, nothing elsewhere).
    pub fn dev_token(&self) -> &str {
        &self.tokens.dev
    }

    /// A kube-rs client configuration for `context` ([`kubeconfig::ADMIN_CONTEXT`],
    /// [`kubeconfig::VIEWER_CONTEXT`] or [`kubeconfig::DEV_CONTEXT`]), built from the same kubeconfig the lab writes, so
    /// in-process users need no file.
    pub async fn kube_config(&self, context: &str) -> Result<kube::Config, LabError> {
        let files = kubeconfig::LabFiles {
            api_url: &self.api_url,
            metrics_url: &self.metrics_url,
            prometheus_url: self.prometheus_url.as_deref(),
            ca_pem: &self.tls.ca_pem,
            admin_token: &self.tokens.admin,
            viewer_token: &self.tokens.viewer,
            dev_token: &self.tokens.dev,
        };
        let err = |message: String| LabError::ClientConfig {
            context: context.to_string(),
            message,
        };
        let config: kube::config::Kubeconfig =
            serde_json::from_value(kubeconfig::kubeconfig(&files))
                .map_err(|e| err(e.to_string()))?;
        let options = kube::config::KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        kube::Config::from_custom_kubeconfig(config, &options)
            .await
            .map_err(|e| err(e.to_string()))
    }

    /// PEM of the CA that signed the API's certificate: what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.tls.ca_pem
    }

    /// The object store, for tests that check what the lab holds.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }
}

/// The stored kind an object's `apiVersion`/`kind` names.
pub fn kind_of(object: &serde_json::Value) -> Option<Kind> {
    let api_version = object["apiVersion"].as_str()?;
    let kind = object["kind"].as_str()?;
    Kind::ALL
        .into_iter()
        .find(|k| k.api_version() == api_version && k.kind() == kind)
}

fn object_label(object: &serde_json::Value) -> String {
    let meta = &object["metadata"];
    format!(
        "{} {}/{}",
        object["kind"].as_str().unwrap_or("object"),
        meta["namespace"].as_str().unwrap_or(""),
        meta["name"].as_str().unwrap_or("")
    )
}

/// Fills in the uid of each Rollout ownerReference from the rollouts already seeded (keyed by
/// namespace and name), as the API server would have them when Argo created the ReplicaSet.
fn set_owner_uids(object: &mut Value, rollout_uids: &HashMap<(String, String), Value>) {
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(owners) = object["metadata"]
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for owner in owners.iter_mut().filter(|o| o["kind"] == "Rollout") {
        let name = owner["name"].as_str().unwrap_or_default().to_string();
        if let Some(uid) = rollout_uids.get(&(namespace.clone(), name)) {
            owner["uid"] = uid.clone();
        }
    }
}
