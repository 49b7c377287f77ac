//! The lab: a local Kubernetes-compatible API with a simulated Argo Rollouts controller.
//! `Lab::start` brings up the API server, the controller loop, the traffic simulation and
//! (optionally) a child Prometheus on 127.0.0.1; `Lab::shutdown` stops all of them.

pub mod analysis_runs;
pub mod controller;
pub mod deployments;
mod files;
pub mod flagger;
pub mod kind;
pub mod kubeconfig;
pub mod loadtester;
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

use loadtester::LoadTester;
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
    #[error(
        "refusing to use {} as the lab's directory: {why}; the lab writes tokens there, so use a private directory (chmod 700 it, or pass a --dir that does not exist yet: the lab creates it with mode 0700)",
        path.display()
    )]
    UnsafeDir { path: PathBuf, why: String },
    #[error(
        "refusing to write {}: it is a symbolic link, and the lab never writes through one; remove it or use another --dir",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error(
        "cannot use {} (what a lab started on this directory before left): {message}; remove it to start a new lab there",
        path.display()
    )]
    State { path: PathBuf, message: String },
    #[error("{0}")]
    Tls(String),
    #[error(
        "cannot build a client for lab context {context:?}: {message}; use lab-admin, lab-viewer or lab-dev"
    )]
    ClientConfig { context: String, message: String },
    #[error("cannot start Prometheus for the lab: {0}; use --prometheus off to run without it")]
    Prometheus(String),
}

impl LabError {
    /// The CLI's exit code: 2 for what the person asked for and can correct (an address, a
    /// scenario, a speed, an unsafe or linked directory, a stale state file, a context), 1
    /// when the machine failed it (a write, TLS, seeding, Prometheus).
    pub fn exit_code(&self) -> u8 {
        match self {
            LabError::Listen { .. }
            | LabError::NotLoopback { .. }
            | LabError::Scenario { .. }
            | LabError::Speed { .. }
            | LabError::UnsafeDir { .. }
            | LabError::Symlink { .. }
            | LabError::State { .. }
            | LabError::ClientConfig { .. } => 2,
            LabError::Seed { .. }
            | LabError::Write { .. }
            | LabError::Tls(_)
            | LabError::Prometheus(_) => 1,
        }
    }
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
    /// The simulated `flagger-loadtester` behind its Service in namespace `test`.
    load_tester: LoadTester,
    tokens: Tokens,
    tls: LabTls,
    /// `None` while the API is stopped ([`Lab::stop_api`]).
    server: Option<ApiServer>,
    api_addr: SocketAddr,
    metrics_addr: SocketAddr,
    render: server::MetricsRenderer,
    scenario: String,
    dir: Option<PathBuf>,
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
        if let Some(dir) = &opts.dir {
            files::prepare_dir(dir)?;
        }
        let saved = match &opts.dir {
            Some(dir) => SavedState::load(dir)?,
            None => None,
        };
        let restored = saved
            .as_ref()
            .filter(|s| s.scenario == opts.scenario)
            .and_then(SavedState::store);
        let store = match restored {
            Some(store) => Arc::new(store),
            None => Arc::new(seeded_store(&opts.scenario)?),
        };
        let (tls, tokens) = match &saved {
            Some(s) => (
                LabTls::from_pem(s.ca_pem.clone(), s.cert_pem.clone(), s.key_pem.clone())
                    .map_err(LabError::Tls)?,
                s.tokens.clone(),
            ),
            None => (
                LabTls::generate().map_err(LabError::Tls)?,
                Tokens::generate(),
            ),
        };
        // Port 0 after a run in this directory: the addresses of that run, when still free,
        // so that its kubeconfig keeps working.
        let again = |asked: SocketAddr, before: Option<SocketAddr>| match before {
            Some(before) if asked.port() == 0 && before.ip() == asked.ip() => vec![before, asked],
            _ => vec![asked],
        };
        let listener = bind_first(&again(opts.addr, saved.as_ref().map(|s| s.api_addr)))?;
        let metrics_addr = SocketAddr::new(opts.addr.ip(), 0);
        let metrics_listener =
            bind_first(&again(metrics_addr, saved.as_ref().map(|s| s.metrics_addr)))?;
        let traffic = Arc::new(Mutex::new(Traffic::new(rand::random())));
        let render = {
            let traffic = Arc::clone(&traffic);
            Arc::new(move || traffic.lock().map(|t| t.render()).unwrap_or_default())
                as server::MetricsRenderer
        };
        let load_tester = LoadTester::default();
        let server = ApiServer::start(
            listener,
            metrics_listener,
            &tls,
            Arc::clone(&store),
            load_tester.clone(),
            tokens.clone(),
            render.clone(),
        )
        .map_err(|source| LabError::Listen {
            addr: opts.addr,
            source,
        })?;
        let (api_addr, metrics_addr) = (server.addr, server.metrics_addr);
        let api_url = format!("https://{api_addr}");
        let metrics_url = format!("http://{metrics_addr}/metrics");
        let controller = run_loop::ControllerLoop::start(
            Arc::clone(&store),
            traffic,
            load_tester.clone(),
            opts.speed,
        );
        let mut lab = Lab {
            api_url,
            metrics_url,
            prometheus_url: None,
            kubeconfig_path: None,
            store,
            load_tester,
            tokens,
            tls,
            server: Some(server),
            api_addr,
            metrics_addr,
            render,
            scenario: opts.scenario.clone(),
            dir: opts.dir.clone(),
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
            Some(dir) => dir.clone(),
            None => {
                // Only Prometheus writes here; removed again on shutdown.
                let port = self.api_addr.port();
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
            self.save_state()?;
        }
        Ok(())
    }

    /// Writes `DIR/lab-state.json` (mode 0600): certificates, tokens, addresses, objects and
    /// resourceVersion, so that a lab started again on this directory is the same server
    /// with the same data ([`Lab::shutdown`] writes the final objects).
    fn save_state(&self) -> Result<(), LabError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let state = SavedState {
            scenario: self.scenario.clone(),
            api_addr: self.api_addr,
            metrics_addr: self.metrics_addr,
            ca_pem: self.tls.ca_pem.clone(),
            cert_pem: self.tls.cert_pem.clone(),
            key_pem: self.tls.key_pem.clone(),
            tokens: self.tokens.clone(),
            store: self.store.export(),
            clean: false,
        };
        let text = serde_json::to_string_pretty(&state).map_err(|e| LabError::Write {
            path: dir.join(STATE_FILE),
            source: std::io::Error::other(e),
        })?;
        files::write(dir, STATE_FILE, text.as_bytes(), true).map(|_| ())
    }

    /// Stops the API server and the metrics endpoint as a server that goes down: open watches
    /// end, new connections are refused; the objects and the controller stay.
    pub async fn stop_api(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Starts the API server again on the same addresses, with the same certificate and
    /// tokens, like a restarted kube-apiserver: the objects and resourceVersions are kept
    /// (etcd keeps them), the watch cache is not, so a watch from an earlier
    /// resourceVersion gets 410 Expired.
    pub async fn start_api(&mut self) -> Result<(), LabError> {
        self.stop_api().await;
        self.store.forget_watch_history();
        let listener = bind_first(&[self.api_addr])?;
        let metrics_listener = bind_first(&[self.metrics_addr])?;
        let server = ApiServer::start(
            listener,
            metrics_listener,
            &self.tls,
            Arc::clone(&self.store),
            self.load_tester.clone(),
            self.tokens.clone(),
            self.render.clone(),
        )
        .map_err(|source| LabError::Listen {
            addr: self.api_addr,
            source,
        })?;
        self.server = Some(server);
        Ok(())
    }

    /// Stops the API server (ending open watches), the controller loop and Prometheus.
    pub async fn shutdown(self) {
        self.controller.stop().await;
        if let Some(server) = self.server {
            server.stop().await;
        }
        if let Some(dir) = &self.dir
            && let Err(e) = save_final(dir, &self.scenario, &self.store)
        {
            tracing::warn!("could not save the lab's objects in {}: {e}", dir.display());
        }
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

    /// The simulated Flagger load tester: its gates and what it was asked.
    pub fn load_tester(&self) -> &LoadTester {
        &self.load_tester
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.api_addr
    }
}

/// Where a lab keeps what it needs to start again as the same server (mode 0600: it holds
/// the tokens and the serving key).
pub const STATE_FILE: &str = "lab-state.json";

/// `DIR/lab-state.json`.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedState {
    scenario: String,
    api_addr: SocketAddr,
    metrics_addr: SocketAddr,
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    tokens: Tokens,
    /// [`Store::export`].
    store: Value,
    /// The lab stopped cleanly after writing `store`; otherwise it may have issued
    /// resourceVersions after it.
    clean: bool,
}

impl SavedState {
    fn load(dir: &std::path::Path) -> Result<Option<SavedState>, LabError> {
        let Some(text) = files::read(dir, STATE_FILE)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LabError::State {
                path: dir.join(STATE_FILE),
                message: format!("it is not a lab state ({e})"),
            })
    }

    /// The saved objects, in a store that lost its watch history (see
    /// [`Store::forget_watch_history`]). After an unclean stop the resourceVersion starts at
    /// the current Unix time in milliseconds at least, above any the previous run issued.
    fn store(&self) -> Option<Store> {
        let mut saved = self.store.clone();
        if !self.clean {
            let rv: u64 = saved["resourceVersion"].as_str()?.parse().ok()?;
            let now = jiff::Timestamp::now().as_millisecond().max(0) as u64;
            saved["resourceVersion"] = Value::String(rv.max(now).to_string());
        }
        match Store::restore(&saved) {
            Ok(store) => Some(store),
            Err(e) => {
                tracing::warn!("the lab's saved objects cannot be used ({e}); seeding again");
                None
            }
        }
    }
}

/// Marks `DIR/lab-state.json` clean with the store's final objects and resourceVersion.
fn save_final(dir: &std::path::Path, scenario: &str, store: &Store) -> Result<(), LabError> {
    let Some(mut state) = SavedState::load(dir)? else {
        return Ok(());
    };
    if state.scenario != scenario {
        return Ok(());
    }
    state.store = store.export();
    state.clean = true;
    let text = serde_json::to_string_pretty(&state).map_err(|e| LabError::Write {
        path: dir.join(STATE_FILE),
        source: std::io::Error::other(e),
    })?;
    files::write(dir, STATE_FILE, text.as_bytes(), true).map(|_| ())
}

/// A store seeded with `scenario`'s objects.
pub(crate) fn seeded_store(scenario: &str) -> Result<Store, LabError> {
    let seed = scenario::seed(scenario).map_err(|message| LabError::Scenario {
        name: scenario.to_string(),
        message,
    })?;
    let store = Store::new();
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
    Ok(store)
}

/// Listens on the first of `addrs` that is free (SO_REUSEADDR, so that a lab stopped a
/// moment ago can listen on its address again, as a restarted server does).
fn bind_first(addrs: &[SocketAddr]) -> Result<tokio::net::TcpListener, LabError> {
    let mut last = None;
    for &addr in addrs {
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        };
        let bound = socket.and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            s.listen(1024)
        });
        match bound {
            Ok(listener) => return Ok(listener),
            Err(source) => last = Some(LabError::Listen { addr, source }),
        }
    }
    Err(last.unwrap_or(LabError::Listen {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        source: std::io::Error::other("no address to listen on"),
    }))
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
