//! A client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`) that works
//! with any server speaking it (Prometheus, Thanos, Mimir, VictoriaMetrics): bearer/basic
//! auth, extra headers, custom CA, per-request timeout; dropping a call's future cancels it.
//! Errors name the server by its redacted URL (no `user:password@`, no `?token=`).

use super::response::{QueryResponse, ResponseError, parse_response};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Queries longer than this go as a POST form (URLs have length limits in proxies).
pub const POST_THRESHOLD_CHARS: usize = 1024;

/// How to authenticate. Secrets are named, never held in settings: the token is read from
/// the env var or file when a request is sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Auth {
    #[default]
    None,
    BearerEnv(String),
    BearerFile(PathBuf),
    Basic {
        username: String,
        password_env: String,
    },
}

/// Everything needed to talk to one server.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusConfig {
    /// Base URL, e.g. `http://127.0.0.1:9090` or `https://mimir.example/prometheus`.
    pub url: String,
    pub auth: Auth,
    /// Extra headers sent with every request, e.g. `X-Scope-OrgID`.
    pub headers: BTreeMap<String, String>,
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate: only when the settings say so explicitly.
    pub skip_verify: bool,
    pub timeout: Duration,
}

impl PrometheusConfig {
    pub fn new(url: &str) -> PrometheusConfig {
        PrometheusConfig {
            url: url.trim_end_matches('/').to_string(),
            auth: Auth::None,
            headers: BTreeMap::new(),
            ca_file: None,
            skip_verify: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What went wrong talking to Prometheus; each names the server, the query and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error(
        "cannot reach Prometheus at {url} (query `{query}`): {source}. Check the Prometheus URL in the metrics settings or --prometheus, and that the server is up"
    )]
    Unreachable {
        url: String,
        query: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "Prometheus at {url} did not answer within {timeout_secs}s (query `{query}`). The server is overloaded or the query too heavy; it will be retried with back-off"
    )]
    Timeout {
        url: String,
        query: String,
        timeout_secs: f64,
    },
    #[error(
        "Prometheus at {url} refused query `{query}` (HTTP {status}, {error_type}): {error}. Fix the query template in the metrics settings"
    )]
    Rejected {
        url: String,
        query: String,
        status: u16,
        error_type: String,
        error: String,
    },
    #[error(
        "Prometheus at {url} answered HTTP {status} to query `{query}`: {body}. Check the auth settings (token env var/file, basic auth, X-Scope-OrgID)"
    )]
    Unauthorized {
        url: String,
        query: String,
        status: u16,
        body: String,
    },
    #[error(
        "the answer of {url} to query `{query}` (HTTP {status}) is not the Prometheus API's JSON: {detail}. Check that the URL points at the Prometheus API root, not a UI or a login proxy"
    )]
    NotApi {
        url: String,
        query: String,
        status: u16,
        detail: String,
    },
    #[error("cannot set up the client for Prometheus at {url}: {detail}")]
    Setup { url: String, detail: String },
}

/// A Prometheus API client; counts the queries it sends and the bytes it receives.
#[derive(Debug)]
pub struct PrometheusClient {
    http: reqwest::Client,
    config: PrometheusConfig,
    /// The URL as messages show it: [`crate::redact::redact_url`] of the configured one.
    shown_url: String,
    queries_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl PrometheusClient {
    pub fn new(config: PrometheusConfig) -> Result<PrometheusClient, PrometheusError> {
        let shown_url = crate::redact::redact_url(&config.url);
        let setup = |detail: String| PrometheusError::Setup {
            url: shown_url.clone(),
            detail: crate::redact::redact(&detail),
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("release-cockpit/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| setup(format!("cannot read CA file {}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| setup(format!("CA file {} is not PEM: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(setup(format!(
                    "CA file {} holds no PEM certificate; point ca_file at a PEM bundle",
                    ca.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if config.skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| setup(format!("bad header name {k:?}: {e}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|e| setup(format!("bad value for header {k}: {e}")))?;
            headers.insert(name, value);
        }
        builder = builder.default_headers(headers);
        let http = builder.build().map_err(|e| setup(e.to_string()))?;
        Ok(PrometheusClient {
            http,
            config,
            shown_url,
            queries_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
        })
    }

    /// The server's URL for messages: without credentials.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Queries sent and response bytes received since the client was made.
    pub fn traffic(&self) -> (u64, u64) {
        (
            self.queries_sent.load(Ordering::Relaxed),
            self.bytes_received.load(Ordering::Relaxed),
        )
    }

    /// `/api/v1/query` at `time_secs` (server's now when `None`).
    pub async fn query(
        &self,
        promql: &str,
        time_secs: Option<f64>,
    ) -> Result<QueryResponse, PrometheusError> {
        let mut params = vec![("query", promql.to_string())];
        if let Some(t) = time_secs {
            params.push(("time", format!("{t:.3}")));
        }
        self.send("query", promql, params).await
    }

    /// `/api/v1/query_range` from `start_secs` to `end_secs` every `step_secs`.
    pub async fn query_range(
        &self,
        promql: &str,
        start_secs: f64,
        end_secs: f64,
        step_secs: f64,
    ) -> Result<QueryResponse, PrometheusError> {
        let params = vec![
            ("query", promql.to_string()),
            ("start", format!("{start_secs:.3}")),
            ("end", format!("{end_secs:.3}")),
            ("step", format!("{step_secs}")),
        ];
        self.send("query_range", promql, params).await
    }

    fn auth_error(&self, promql: &str, detail: String) -> PrometheusError {
        PrometheusError::Setup {
            url: self.shown_url.clone(),
            detail: format!("{detail} (query `{promql}`)"),
        }
    }

    async fn send(
        &self,
        endpoint: &str,
        promql: &str,
        params: Vec<(&str, String)>,
    ) -> Result<QueryResponse, PrometheusError> {
        let url = format!("{}/api/v1/{endpoint}", self.config.url);
        let mut req = if promql.len() > POST_THRESHOLD_CHARS {
            self.http.post(&url).form(&params)
        } else {
            self.http.get(&url).query(&params)
        };
        req = req.timeout(self.config.timeout);
        req = match &self.config.auth {
            Auth::None => req,
            Auth::BearerEnv(var) => {
                let token = std::env::var(var).map_err(|_| {
                    self.auth_error(
                        promql,
                        format!("env var {var} with the bearer token is not set"),
                    )
                })?;
                req.bearer_auth(token.trim())
            }
            Auth::BearerFile(path) => {
                let token = std::fs::read_to_string(path).map_err(|e| {
                    self.auth_error(
                        promql,
                        format!("cannot read bearer token file {}: {e}", path.display()),
                    )
                })?;
                req.bearer_auth(token.trim())
            }
            Auth::Basic {
                username,
                password_env,
            } => {
                let password = std::env::var(password_env).map_err(|_| {
                    self.auth_error(
                        promql,
                        format!("env var {password_env} with the basic-auth password is not set"),
                    )
                })?;
                req.basic_auth(username, Some(password))
            }
        };
        self.queries_sent.fetch_add(1, Ordering::Relaxed);
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                PrometheusError::Timeout {
                    url: self.shown_url.clone(),
                    query: promql.to_string(),
                    timeout_secs: self.config.timeout.as_secs_f64(),
                }
            } else {
                PrometheusError::Unreachable {
                    url: self.shown_url.clone(),
                    query: promql.to_string(),
                    // The request URL may carry ?token=…; the server is named by `url`.
                    source: e.without_url(),
                }
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport)?;
        self.bytes_received
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        if status == 401 || status == 403 {
            return Err(PrometheusError::Unauthorized {
                url: self.shown_url.clone(),
                query: promql.to_string(),
                status,
                body: crate::redact::redact(&String::from_utf8_lossy(&body[..body.len().min(200)])),
            });
        }
        match parse_response(&body) {
            Ok(r) if (200..300).contains(&status) => Ok(r),
            Ok(_) => Err(PrometheusError::NotApi {
                url: self.shown_url.clone(),
                query: promql.to_string(),
                status,
                detail: "a success body with an error status".into(),
            }),
            Err(ResponseError::Api { error_type, error }) => Err(PrometheusError::Rejected {
                url: self.shown_url.clone(),
                query: promql.to_string(),
                status,
                error_type,
                error,
            }),
            Err(ResponseError::NotApi(detail)) => Err(PrometheusError::NotApi {
                url: self.shown_url.clone(),
                query: promql.to_string(),
                status,
                detail,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_never_show_the_credentials_in_the_url() {
        // Nothing listens on port 1: the request fails with the URL in reqwest's error.
        let config =
            PrometheusConfig::new("http://ops:hunter22-pw@127.0.0.1:1/prom?token=t0k3n-xyz");
        let client = PrometheusClient::new(config).expect("client");
        let err = client.query("up", None).await.expect_err("unreachable");
        let text = crate::cluster::chain(&err);
        for secret in ["hunter22-pw", "t0k3n-xyz"] {
            assert!(!text.contains(secret), "{secret} in: {text}");
        }
        assert!(text.contains("127.0.0.1:1"), "names the server: {text}");
        assert!(
            client.url().contains("<redacted>@127.0.0.1:1"),
            "{}",
            client.url()
        );
    }
}
