//! Per-cluster metrics settings: a TOML file under the user's config dir
//! (`metrics.toml`), keyed by kubeconfig context, plus the `release-cockpit` extension a
//! kubeconfig context may carry. The file overrides the extension; built-ins fill the rest.
//!
//! The format, with every field, is [`SETTINGS_HELP`] (shown by `metrics --help`).

use super::prometheus::{Auth, PrometheusConfig};
use super::templates::{Template, TemplateError, VersionMatch};
use crate::model::SecurityWarning;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings file format, every field, as `release-cockpit metrics --help` shows it.
pub const SETTINGS_HELP: &str = r#"Metrics settings: metrics.toml in the user's config dir (or --metrics-settings FILE), one
table per kubeconfig context. It overrides the context's `release-cockpit` kubeconfig extension
({prometheusUrl, metricsUrl, template, versionLabel, window}); flags override both. Secrets are never written here:
name the env var or the file that holds them.

[contexts.prod]
prometheus_url = "https://mimir.example/prometheus"  # or metrics_url = "http://host/metrics"
bearer_token_env = "PROM_TOKEN"      # or bearer_token_file = "/run/secrets/prom-token"
headers = { "X-Scope-OrgID" = "team-a" }
ca_file = "/etc/ssl/corp-ca.pem"
skip_verify = false                  # accept any certificate: only when you must
template = "istio"                   # istio | linkerd | nginx | generic | a [templates] name
version_label = "rollouts_pod_template_hash"
refresh_secs = 10
timeout_secs = 10
window = "1m"                        # the rate() window

[contexts.staging]
prometheus_url = "http://prometheus.staging:9090"
basic_username = "ops"
basic_password_env = "PROM_PASSWORD"
template = "my-mesh"

[templates.my-mesh]
namespace_label = "namespace"
service_label = "app"                # its value is the rollout's name
default_version_label = "version"
version_match = "hash"               # or "canary-label" (empty = stable, set = canary)
# PromQL placeholders: {namespaces} and {services} (regex alternations: use them with =~),
# {version_label}, {window}. Any other {name} is rejected when the file is loaded.
share = 'sum by (namespace, app, {version_label}) (rate(requests_total{namespace=~"{namespaces}", app=~"{services}"}[{window}])) / ignoring({version_label}) group_left sum by (namespace, app) (rate(requests_total{namespace=~"{namespaces}", app=~"{services}"}[{window}]))'
error_rate = 'sum by (namespace, app, {version_label}) (rate(requests_total{namespace=~"{namespaces}", app=~"{services}", code=~"5.."}[{window}])) / sum by (namespace, app, {version_label}) (rate(requests_total{namespace=~"{namespaces}", app=~"{services}"}[{window}]))'
p95_ms = 'histogram_quantile(0.95, sum by (le, namespace, app, {version_label}) (rate(latency_ms_bucket{namespace=~"{namespaces}", app=~"{services}"}[{window}])))'
# Optional: the judge weighs error-rate and p95 samples by it (without it, every sample alike).
requests_per_second = 'sum by (namespace, app, {version_label}) (rate(requests_total{namespace=~"{namespaces}", app=~"{services}"}[{window}]))'
# Optional: latency histogram bucket increases per version; with them the judge compares
# latency on pooled counts (share of canary requests slower than stable's p95).
latency_buckets = 'sum by (le, namespace, app, {version_label}) (increase(latency_ms_bucket{namespace=~"{namespaces}", app=~"{services}"}[{window}]))'
latency_bucket_ms = 1                # milliseconds per unit of `le` (1000 for seconds)
# Optional: more latency quantiles per version, drawn on the latency chart beside p95; one
# query per entry of `quantiles`, with {quantile} replaced by it (default [0.99]).
latency_quantile = 'histogram_quantile({quantile}, sum by (le, namespace, app, {version_label}) (rate(latency_ms_bucket{namespace=~"{namespaces}", app=~"{services}"}[{window}])))'
quantiles = [0.5, 0.99]
"#;

/// The name of the kubeconfig context extension the cockpit reads.
pub const KUBECONFIG_EXTENSION: &str = "release-cockpit";

/// Settings of one context. Secrets are referenced (env var, file), never written here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSettings {
    pub prometheus_url: Option<String>,
    pub metrics_url: Option<String>,
    pub bearer_token_env: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_username: Option<String>,
    pub basic_password_env: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub skip_verify: bool,
    pub template: Option<String>,
    pub version_label: Option<String>,
    pub refresh_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    /// `rate()` window, e.g. `1m`.
    pub window: Option<String>,
}

/// A user template as written in the file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    #[serde(default = "default_namespace_label")]
    pub namespace_label: String,
    pub service_label: String,
    pub default_version_label: String,
    #[serde(default)]
    pub version_match: VersionMatch,
    pub share: String,
    pub error_rate: String,
    pub p95_ms: String,
    /// Requests per second per version (optional; the judge weighs samples by it).
    #[serde(default)]
    pub requests_per_second: String,
    /// Latency histogram bucket increases per version, grouped by `le` (optional; the judge
    /// then judges latency on pooled counts).
    #[serde(default)]
    pub latency_buckets: String,
    /// Milliseconds per unit of the buckets' `le` bounds.
    #[serde(default = "one_ms")]
    pub latency_bucket_ms: f64,
    /// Optional: a latency quantile's query with `{quantile}`, asked once per `quantiles`
    /// entry and drawn on the latency chart.
    #[serde(default)]
    pub latency_quantile: String,
    #[serde(default = "default_quantiles")]
    pub quantiles: Vec<f64>,
}

fn default_quantiles() -> Vec<f64> {
    vec![0.99]
}

fn one_ms() -> f64 {
    1.0
}

fn default_namespace_label() -> String {
    "namespace".into()
}

/// The whole settings file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub contexts: BTreeMap<String, ContextSettings>,
    /// User templates, validated; a built-in of the same name is replaced.
    pub templates: BTreeMap<String, Template>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    contexts: BTreeMap<String, ContextSettings>,
    #[serde(default)]
    templates: BTreeMap<String, TemplateSettings>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read metrics settings {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "metrics settings {path} is not valid: {detail}. Fix the file (every field is listed by `release-cockpit metrics --help`)"
    )]
    Invalid { path: PathBuf, detail: String },
    #[error("metrics settings {path}: {source}")]
    Template {
        path: PathBuf,
        #[source]
        source: TemplateError,
    },
    #[error(
        "context {context}: unknown metrics template {name:?}; use istio, linkerd, nginx, generic or one under [templates]"
    )]
    UnknownTemplate { context: String, name: String },
}

impl Settings {
    /// `<config dir>/metrics.toml`, e.g. `~/.config/release-cockpit/metrics.toml` on Linux.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("io", "release-cockpit", "release-cockpit")
            .map(|d| d.config_dir().join("metrics.toml"))
    }

    /// Loads a file; a missing file is empty settings. Templates are validated here.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Settings::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(SettingsError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| SettingsError::Invalid {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let mut templates = BTreeMap::new();
        for (name, t) in raw.templates {
            let template = Template {
                name: name.clone(),
                namespace_label: t.namespace_label,
                service_label: t.service_label,
                default_version_label: t.default_version_label,
                version_match: t.version_match,
                share: t.share,
                error_rate: t.error_rate,
                p95_ms: t.p95_ms,
                requests_per_second: t.requests_per_second,
                latency_buckets: t.latency_buckets,
                latency_bucket_ms: t.latency_bucket_ms,
                latency_quantile: t.latency_quantile,
                quantiles: t.quantiles,
            };
            template
                .validate()
                .map_err(|source| SettingsError::Template {
                    path: path.to_path_buf(),
                    source,
                })?;
            templates.insert(name, template);
        }
        let settings = Settings {
            contexts: raw.contexts,
            templates,
        };
        for (context, c) in &settings.contexts {
            if let Some(name) = &c.template {
                settings.template(context, name)?;
            }
            let invalid = |detail: String| SettingsError::Invalid {
                path: path.to_path_buf(),
                detail: format!("[contexts.{context}] {detail}"),
            };
            if let Some(window) = &c.window {
                parse_duration(window).map_err(|e| invalid(format!("window: {e}")))?;
            }
            if c.basic_username.is_some() && c.basic_password_env.is_none() {
                return Err(invalid(
                    "basic_username needs basic_password_env (the env var holding the password)"
                        .into(),
                ));
            }
        }
        Ok(settings)
    }

    /// A template by name: the user's first, then the built-ins.
    pub fn template(&self, context: &str, name: &str) -> Result<Template, SettingsError> {
        self.templates
            .get(name)
            .cloned()
            .or_else(|| Template::builtin(name))
            .ok_or_else(|| SettingsError::UnknownTemplate {
                context: context.to_string(),
                name: name.to_string(),
            })
    }
}

/// Where one context's metrics come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Prometheus(PrometheusConfig),
    /// A `/metrics` exposition to scrape directly.
    Scrape {
        url: String,
    },
    /// Nothing configured.
    None,
}

/// Everything needed to build a source for one context.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceConfig {
    pub kind: SourceKind,
    pub template: Template,
    pub version_label: String,
    pub refresh: Duration,
    pub window: String,
}

/// `extension` is the `release-cockpit` extension of the context (`{prometheusUrl,
/// metricsUrl, template, versionLabel, window}`); the settings file's entry for `context` overrides it; the
/// built-ins (Istio, refresh 10 s, window 1m) fill the rest. A Prometheus URL wins over a
/// metrics URL from the same place.
pub fn resolve_source_config(
    kubeconfig_extension: Option<&serde_json::Value>,
    settings: &Settings,
    context: &str,
) -> Result<SourceConfig, SettingsError> {
    let ext = |key: &str| {
        kubeconfig_extension
            .and_then(|e| e.get(key))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let file = settings.contexts.get(context).cloned().unwrap_or_default();
    let template_name = file
        .template
        .clone()
        .or_else(|| ext("template"))
        .unwrap_or_else(|| "istio".into());
    let template = settings.template(context, &template_name)?;
    let version_label = file
        .version_label
        .clone()
        .or_else(|| ext("versionLabel"))
        .unwrap_or_else(|| template.default_version_label.clone());
    let (prom, scrape) = if file.prometheus_url.is_some() || file.metrics_url.is_some() {
        (file.prometheus_url.clone(), file.metrics_url.clone())
    } else {
        (ext("prometheusUrl"), ext("metricsUrl"))
    };
    let kind = match (prom, scrape) {
        (Some(url), _) => {
            let mut config = PrometheusConfig::new(&url);
            config.auth = match (
                &file.bearer_token_env,
                &file.bearer_token_file,
                &file.basic_username,
            ) {
                (Some(var), _, _) => Auth::BearerEnv(var.clone()),
                (None, Some(path), _) => Auth::BearerFile(path.clone()),
                (None, None, Some(user)) => Auth::Basic {
                    username: user.clone(),
                    password_env: file.basic_password_env.clone().unwrap_or_default(),
                },
                _ => Auth::None,
            };
            config.headers = file.headers.clone();
            config.ca_file = file.ca_file.clone();
            config.skip_verify = file.skip_verify;
            if let Some(t) = file.timeout_secs {
                config.timeout = Duration::from_secs(t.max(1));
            }
            SourceKind::Prometheus(config)
        }
        (None, Some(url)) => SourceKind::Scrape { url },
        (None, None) => SourceKind::None,
    };
    Ok(SourceConfig {
        kind,
        template,
        version_label,
        refresh: Duration::from_secs(file.refresh_secs.unwrap_or(10).max(1)),
        window: match file.window.or_else(|| ext("window")) {
            Some(window) => {
                parse_duration(&window).map_err(|e| SettingsError::Invalid {
                    path: PathBuf::from(format!(
                        "(the kubeconfig's {KUBECONFIG_EXTENSION} extension of context {context})"
                    )),
                    detail: format!("window {window:?}: {e}"),
                })?;
                window
            }
            None => "1m".into(),
        },
    })
}

/// Why a context's metrics connection is unsafe: `skip_verify` (the server's certificate is
/// not checked), or credentials (bearer token, basic auth, `user:password@` or `?token=` in
/// the URL) sent over plain `http://`. Each names the context and the (redacted) URL.
pub fn security_warnings(config: &SourceConfig, context: &str) -> Vec<SecurityWarning> {
    let (url, auth, skip_verify) = match &config.kind {
        SourceKind::Prometheus(p) => (p.url.as_str(), p.auth != Auth::None, p.skip_verify),
        SourceKind::Scrape { url } => (url.as_str(), false, false),
        SourceKind::None => return Vec::new(),
    };
    let shown = crate::redact::redact_url(url);
    let mut out = Vec::new();
    if skip_verify {
        out.push(SecurityWarning {
            context: context.to_string(),
            short: "metrics TLS not verified".into(),
            text: format!(
                "metrics of context '{context}': skip_verify is set for {shown}, so its \
                 certificate is not checked and anyone on the network path can pose as it; set \
                 ca_file to the server's CA in [contexts.{context}] and remove skip_verify"
            ),
        });
    }
    let plain_http = url.trim_start().to_ascii_lowercase().starts_with("http://");
    if plain_http && (auth || crate::redact::url_has_credentials(url)) {
        out.push(SecurityWarning {
            context: context.to_string(),
            short: "metrics credentials over http".into(),
            text: format!(
                "metrics of context '{context}': credentials go to {shown} over plain HTTP, \
                 where anyone on the network path can read them; use the server's https:// URL"
            ),
        });
    }
    out
}

/// The longest duration [`parse_duration`] accepts: a year.
pub const MAX_DURATION_SECS: u64 = 366 * 86_400;

/// Parses `90`, `30s`, `10m`, `1h`, `1d` into a duration (at most a year).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 10m or 1h"))?;
    let per_unit: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unit must be s, m, h or d")),
    };
    let secs = n
        .checked_mul(per_unit)
        .filter(|s| *s <= MAX_DURATION_SECS)
        .ok_or_else(|| format!("{text:?} is longer than a year; use a shorter duration"))?;
    if secs == 0 {
        return Err("the duration must be more than 0".into());
    }
    Ok(Duration::from_secs(secs))
}

/// The `release-cockpit` extension of `context` in a kubeconfig, if it has one.
pub fn kubeconfig_extension(
    kubeconfig: &kube::config::Kubeconfig,
    context: &str,
) -> Option<serde_json::Value> {
    kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.name == KUBECONFIG_EXTENSION)
        .map(|e| e.extension.clone())
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
