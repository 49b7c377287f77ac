//! Kubeconfig as kubectl reads it: `--kubeconfig`, else the merged `KUBECONFIG` list, else
//! `~/.kube/config`; contexts and their namespaces; one `kube::Client` per context, with
//! timeouts so that an unreachable server fails fast and is named. Loading also registers the
//! kubeconfig's secrets for redaction and finds the contexts whose connection is unsafe
//! ([`SecurityWarning`]), once, for the CLI's `warning:` lines and the window's status bar.

use super::error::{ClusterError, chain};
use crate::model::SecurityWarning;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// How long to wait for a TCP/TLS connection to an API server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait between bytes of an answer. Watches ask the server to end them sooner
/// (see `watch.rs`), so an idle watch never trips this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The API server URL of each context a client was built for, so that transport errors
/// deep in a request can name the URL they failed to reach.
static SERVER_URLS: LazyLock<Mutex<HashMap<String, String>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The API server URL of `context`, once a client for it was built in this process.
pub fn server_url(context: &str) -> Option<String> {
    SERVER_URLS
        .lock()
        .ok()
        .and_then(|urls| urls.get(context).cloned())
}

/// The kubeconfig user name of each context a client was built for: who the cockpit says
/// it is when the cluster cannot tell (no SelfSubjectReview).
static USER_NAMES: LazyLock<Mutex<HashMap<String, String>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The kubeconfig user name of `context`, once a client for it was built in this process.
pub fn kubeconfig_user(context: &str) -> Option<String> {
    USER_NAMES
        .lock()
        .ok()
        .and_then(|users| users.get(context).cloned())
}

/// The loader's name in the architecture; the loaded, merged kubeconfig is the same type.
pub type Kubeconfigs = LoadedKubeconfig;

/// A merged kubeconfig and the clients built from it (one per context, built on demand).
pub struct LoadedKubeconfig {
    config: Kubeconfig,
    files: Vec<PathBuf>,
    clients: Mutex<HashMap<String, kube::Client>>,
    warnings: Vec<SecurityWarning>,
}

impl std::fmt::Debug for LoadedKubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKubeconfig")
            .field("files", &self.files)
            .field("contexts", &self.contexts())
            .field("current_context", &self.current_context())
            .finish_non_exhaustive()
    }
}

impl LoadedKubeconfig {
    /// Loads the kubeconfig the way kubectl does: `explicit` (`--kubeconfig`) alone when
    /// given; else every file in `KUBECONFIG` that exists, merged (the first file to name a
    /// cluster, user or context wins, and so does the first `current-context`); else
    /// `~/.kube/config`.
    pub fn load(explicit: Option<&Path>) -> Result<LoadedKubeconfig, ClusterError> {
        let env = std::env::var_os("KUBECONFIG");
        LoadedKubeconfig::load_with(explicit, env.as_deref(), home_dir().as_deref())
    }

    /// [`LoadedKubeconfig::load`] with `KUBECONFIG` and the home directory given.
    fn load_with(
        explicit: Option<&Path>,
        env: Option<&std::ffi::OsStr>,
        home: Option<&Path>,
    ) -> Result<LoadedKubeconfig, ClusterError> {
        let files = kubeconfig_files(explicit, env, home)?;
        let mut merged: Option<Kubeconfig> = None;
        for path in &files {
            let config = read_file(path)?;
            merged = Some(match merged {
                None => config,
                Some(m) => m.merge(config).map_err(|e| ClusterError::MergeKubeconfig {
                    files: join_paths(&files),
                    message: e.to_string(),
                })?,
            });
        }
        Ok(LoadedKubeconfig::from_kubeconfig(
            merged.unwrap_or_default(),
            files,
        ))
    }

    /// Wraps an already-parsed kubeconfig (the lab writes one; tests build them). Registers
    /// its secrets for redaction and computes its [`SecurityWarning`]s.
    pub fn from_kubeconfig(config: Kubeconfig, files: Vec<PathBuf>) -> LoadedKubeconfig {
        register_secrets(&config);
        let warnings = security_warnings(&config);
        LoadedKubeconfig {
            config,
            files,
            clients: Mutex::new(HashMap::new()),
            warnings,
        }
    }

    /// Every context whose connection is unsafe (`insecure-skip-tls-verify`, credentials
    /// over plain `http://`), in kubeconfig order.
    pub fn security_warnings(&self) -> &[SecurityWarning] {
        &self.warnings
    }

    /// The [`LoadedKubeconfig::security_warnings`] of one context.
    pub fn security_warnings_of(&self, context: &str) -> Vec<SecurityWarning> {
        self.warnings
            .iter()
            .filter(|w| w.context == context)
            .cloned()
            .collect()
    }

    /// The merged kubeconfig itself (e.g. to read a context's extensions).
    pub fn raw(&self) -> &Kubeconfig {
        &self.config
    }

    /// The files this kubeconfig was read from, in merge order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Context names in kubeconfig order.
    pub fn contexts(&self) -> Vec<String> {
        self.config
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// `current-context`, as the first file that sets it says.
    pub fn current_context(&self) -> Option<String> {
        self.config
            .current_context
            .clone()
            .filter(|c| !c.is_empty())
    }

    /// The namespace a context works in: its `namespace`, else `default`.
    pub fn default_namespace(&self, context: &str) -> String {
        self.config
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.context.as_ref())
            .and_then(|c| c.namespace.clone())
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".into())
    }

    /// The context to use: `requested` (`--context`) or `current-context`, checked to exist.
    pub fn resolve_context(&self, requested: Option<&str>) -> Result<String, ClusterError> {
        let context = match requested {
            Some(c) => c.to_string(),
            None => self
                .current_context()
                .ok_or_else(|| ClusterError::NoCurrentContext {
                    files: join_paths(&self.files),
                    known: self.known_contexts(),
                })?,
        };
        if !self.contexts().contains(&context) {
            return Err(ClusterError::UnknownContext {
                context,
                files: join_paths(&self.files),
                known: self.known_contexts(),
            });
        }
        Ok(context)
    }

    /// The user entry a context names (`contexts[].context.user`).
    pub fn user_of(&self, context: &str) -> Option<String> {
        self.config
            .contexts
            .iter()
            .find(|c| c.name == context)?
            .context
            .as_ref()?
            .user
            .clone()
            .filter(|u| !u.is_empty())
    }

    /// The API server URL a context points at, straight from the kubeconfig.
    pub fn cluster_url(&self, context: &str) -> Option<String> {
        let cluster = self
            .config
            .contexts
            .iter()
            .find(|c| c.name == context)?
            .context
            .as_ref()?
            .cluster
            .clone();
        self.config
            .clusters
            .iter()
            .find(|c| c.name == cluster)?
            .cluster
            .as_ref()?
            .server
            .clone()
    }

    /// The client for `context`, built on first use (inside the tokio runtime: exec
    /// plugins and token refresh run on it) and shared afterwards. Sends nothing.
    pub async fn client(&self, context: &str) -> Result<kube::Client, ClusterError> {
        if let Some(client) = self.cached(context) {
            return Ok(client);
        }
        if !self.contexts().iter().any(|c| c == context) {
            return Err(ClusterError::UnknownContext {
                context: context.into(),
                files: join_paths(&self.files),
                known: self.known_contexts(),
            });
        }
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            cluster: None,
            user: None,
        };
        let mut config = kube::Config::from_custom_kubeconfig(self.config.clone(), &options)
            .await
            .map_err(|e| bad_context(context, &e))?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = Some(READ_TIMEOUT);
        config.write_timeout = Some(WRITE_TIMEOUT);
        // Count the read timeout from the request, not from when a pooled connection idled.
        config.reset_reader_on_write = true;
        if let Ok(mut urls) = SERVER_URLS.lock() {
            urls.insert(context.to_string(), config.cluster_url.to_string());
        }
        if let (Some(user), Ok(mut users)) = (self.user_of(context), USER_NAMES.lock()) {
            users.insert(context.to_string(), user);
        }
        let client = super::client::build(config).map_err(|e| ClusterError::BadContext {
            context: context.into(),
            message: chain(&e),
        })?;
        if let Ok(mut clients) = self.clients.lock() {
            clients
                .entry(context.to_string())
                .or_insert_with(|| client.clone());
        }
        Ok(client)
    }

    fn cached(&self, context: &str) -> Option<kube::Client> {
        self.clients.lock().ok()?.get(context).cloned()
    }

    fn known_contexts(&self) -> String {
        let known = self.contexts();
        if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        }
    }
}

/// Registers every credential the kubeconfig holds (tokens, passwords, client keys, exec
/// plugin env values, auth-provider settings) with [`crate::redact::register_secret`], so a
/// plugin or server that echoes one never gets it into an error.
fn register_secrets(config: &Kubeconfig) {
    for named in &config.auth_infos {
        let Some(auth) = &named.auth_info else {
            continue;
        };
        // Serialising exposes the secret strings (kube keeps them as SecretString).
        let Ok(value) = serde_json::to_value(auth) else {
            continue;
        };
        for key in ["token", "password", "client-key-data"] {
            if let Some(secret) = value.get(key).and_then(|v| v.as_str()) {
                crate::redact::register_secret(secret);
            }
        }
        if let Some(env) = value.pointer("/exec/env").and_then(|v| v.as_array()) {
            for secret in env.iter().filter_map(|e| e.get("value")?.as_str()) {
                crate::redact::register_secret(secret);
            }
        }
        if let Some(settings) = value
            .pointer("/auth-provider/config")
            .and_then(|v| v.as_object())
        {
            for secret in settings.values().filter_map(|v| v.as_str()) {
                crate::redact::register_secret(secret);
            }
        }
    }
}

/// The contexts whose connection is unsafe: the API server's certificate is not checked
/// (`insecure-skip-tls-verify`), or credentials go over plain `http://`.
fn security_warnings(config: &Kubeconfig) -> Vec<SecurityWarning> {
    let mut out = Vec::new();
    for named in &config.contexts {
        let Some(context) = &named.context else {
            continue;
        };
        let Some(cluster) = config
            .clusters
            .iter()
            .find(|c| c.name == context.cluster)
            .and_then(|c| c.cluster.as_ref())
        else {
            continue;
        };
        let server = cluster
            .server
            .as_deref()
            .map(crate::redact::redact_url)
            .unwrap_or_else(|| "(no server)".into());
        let name = &named.name;
        if cluster.insecure_skip_tls_verify == Some(true) {
            out.push(SecurityWarning {
                context: name.clone(),
                short: "TLS not verified".into(),
                text: format!(
                    "context '{name}' skips TLS verification (insecure-skip-tls-verify on \
                     cluster '{}', {server}): anyone on the network path can pose as the API \
                     server and take your credentials; set certificate-authority-data for the \
                     cluster and remove insecure-skip-tls-verify",
                    context.cluster
                ),
            });
        }
        let has_credentials = context.user.as_ref().is_some_and(|user| {
            config
                .auth_infos
                .iter()
                .find(|a| &a.name == user)
                .and_then(|a| a.auth_info.as_ref())
                .is_some_and(|a| {
                    a.token.is_some()
                        || a.token_file.is_some()
                        || a.password.is_some()
                        || a.exec.is_some()
                        || a.auth_provider.is_some()
                })
        });
        if server.starts_with("http://") && has_credentials {
            out.push(SecurityWarning {
                context: name.clone(),
                short: "credentials over http".into(),
                text: format!(
                    "context '{name}' sends its credentials over plain HTTP ({server}): anyone \
                     on the network path can read them; use the server's https:// URL"
                ),
            });
        }
    }
    out
}

fn bad_context(context: &str, err: &KubeconfigError) -> ClusterError {
    ClusterError::BadContext {
        context: context.into(),
        message: chain(err),
    }
}

/// Which files to read, in merge order. Missing files in `KUBECONFIG` are skipped as
/// client-go does; an explicit file must exist.
fn kubeconfig_files(
    explicit: Option<&Path>,
    env: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
) -> Result<Vec<PathBuf>, ClusterError> {
    if let Some(path) = explicit {
        return Ok(vec![path.to_path_buf()]);
    }
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        let listed: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = listed.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            return Err(ClusterError::NoKubeconfig {
                searched: format!("KUBECONFIG={}", join_paths(&listed)),
            });
        }
        return Ok(existing);
    }
    let default = home.map(|h| h.join(".kube").join("config"));
    match default {
        Some(path) if path.exists() => Ok(vec![path]),
        Some(path) => Err(ClusterError::NoKubeconfig {
            searched: format!("{} (KUBECONFIG is not set)", path.display()),
        }),
        None => Err(ClusterError::NoKubeconfig {
            searched: "KUBECONFIG (not set) and ~/.kube/config (no home directory)".into(),
        }),
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|e| match e {
        KubeconfigError::ReadConfig(source, _) => ClusterError::ReadKubeconfig {
            path: path.to_path_buf(),
            source,
        },
        // serde-saphyr's message carries the line and column of the offending node.
        KubeconfigError::Parse(inner) => ClusterError::ParseKubeconfig {
            path: path.to_path_buf(),
            message: inner.to_string().trim_start_matches("error: ").to_string(),
        },
        other => ClusterError::ParseKubeconfig {
            path: path.to_path_buf(),
            message: chain(&other),
        },
    })
}

fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
}

fn join_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no files".into();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "kubeconfig_tests.rs"]
mod tests;
