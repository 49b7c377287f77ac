//! The lab's Kubernetes API server (axum on 127.0.0.1): authenticates each request, checks
//! the user may do it, and hands it to discovery, object reads/writes, watches or reviews.
//! Anything it does not serve gets a real `Status` 404; every failure is a `Status` body.

mod auth;
mod discovery;
mod objects;
mod protobuf;
mod proxy;
mod resources;
mod route;
mod selector;
mod status;
mod table;
mod tls;
mod watch;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use auth::{ADMIN, DEV, Tokens, User, VIEWER};
pub use status::ApiError;
pub use tls::LabTls;

use crate::lab::loadtester::LoadTester;
use crate::lab::store::Store;
use route::Target;
use status::json_response;

/// Largest request body the lab reads.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Renders the traffic exposition served at `/metrics`.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

struct ServerState {
    store: Arc<Store>,
    load_tester: LoadTester,
    tokens: Tokens,
    server_address: String,
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// The running API server (HTTPS) and metrics endpoint (plain HTTP, as Prometheus scrapes);
/// `stop` ends open watches and waits for both listeners to close.
pub struct ApiServer {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ApiServer {
    /// Serves the store (and `load_tester` behind its Service) over TLS on `api` and the
    /// traffic exposition on `metrics` until [`ApiServer::stop`].
    pub fn start(
        api: TcpListener,
        metrics: TcpListener,
        tls: &LabTls,
        store: Arc<Store>,
        load_tester: LoadTester,
        tokens: Tokens,
        render: MetricsRenderer,
    ) -> std::io::Result<Self> {
        let addr = api.local_addr()?;
        let metrics_addr = metrics.local_addr()?;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let state = Arc::new(ServerState {
            store,
            load_tester,
            tokens,
            server_address: addr.to_string(),
            stopping: stopping.clone(),
        });
        let api_app = Router::new().fallback(handle).with_state(state);
        let metrics_app = Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || serve_metrics(render.clone())),
            )
            .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n") });
        let shutdown = |mut stopping: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        let api_serve = axum::serve(tls.listener(api)?, api_app)
            .with_graceful_shutdown(shutdown(stopping.clone()));
        let metrics_serve =
            axum::serve(metrics, metrics_app).with_graceful_shutdown(shutdown(stopping));
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(e) = api_serve.await {
                    tracing::warn!("lab API server on {addr} stopped: {e}");
                }
            }),
            tokio::spawn(async move {
                if let Err(e) = metrics_serve.await {
                    tracing::warn!("lab metrics endpoint on {metrics_addr} stopped: {e}");
                }
            }),
        ];
        Ok(ApiServer {
            addr,
            metrics_addr,
            stop,
            tasks,
        })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for mut task in self.tasks {
            // Idle keep-alive connections could hold graceful shutdown; don't wait forever.
            if tokio::time::timeout(Duration::from_secs(3), &mut task)
                .await
                .is_err()
            {
                task.abort();
                // Aborting only asks: the listener closes when the task is dropped, so wait
                // for that before saying the server stopped (a connect right after would
                // otherwise still be accepted).
                let _ = task.await;
            }
        }
    }
}

async fn serve_metrics(render: MetricsRenderer) -> Response {
    let text = render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match dispatch(&state, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    tracing::debug!("lab {method} {uri} -> {}", response.status());
    response
}

async fn dispatch(
    state: &ServerState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let path = uri.path();
    let target = route::parse(path).ok_or_else(|| ApiError::not_found_path(path))?;
    match &target {
        Target::Version => return read_only(method, discovery::version),
        Target::Health => return Ok((StatusCode::OK, "ok").into_response()),
        _ => {}
    }
    let user = state.tokens.authenticate(headers)?;
    let query: HashMap<String, String> = Query::try_from_uri(uri)
        .map(|q: Query<HashMap<String, String>>| q.0)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
    if method != Method::GET && query.contains_key("dryRun") {
        // Refused rather than ignored: ignoring it would make a dry run write for real.
        return Err(ApiError::bad_request(
            "the lab does not serve dry runs (dryRun); send the request without it",
        ));
    }
    match target {
        Target::Version | Target::Health => Err(ApiError::not_found_path(path)),
        Target::Root => read_only(
            method,
            || json!({"paths": ["/api", "/api/v1", "/apis", "/version"]}),
        ),
        Target::CoreVersions => {
            read_only(method, || discovery::core_versions(&state.server_address))
        }
        Target::GroupList => read_only(method, discovery::group_list),
        Target::Group(group) => {
            let doc = discovery::group(&group).ok_or_else(|| ApiError::not_found_path(path))?;
            read_only(method, || doc)
        }
        Target::ResourceList { group, version } => {
            let doc = discovery::resource_list(&group, &version)
                .ok_or_else(|| ApiError::not_found_path(path))?;
            read_only(method, || doc)
        }
        Target::OpenApiRoot => read_only(method, discovery::openapi_root),
        Target::OpenApiGroupVersion { group, version } => {
            let doc = discovery::openapi_group_version(&group, &version)
                .ok_or_else(|| ApiError::not_found_path(path))?;
            read_only(method, || doc)
        }
        Target::Review { resource, .. } => {
            if method != Method::POST {
                return Err(ApiError::method_not_allowed(method.as_str()));
            }
            let answer = match resource.as_str() {
                "selfsubjectaccessreviews" => {
                    auth::access_review(&user, read_review(headers, body).await?)
                }
                // A SelfSubjectReview asks nothing but "who am I": its body carries no data.
                _ => auth::self_review(&user),
            };
            Ok(json_response(StatusCode::CREATED, &answer))
        }
        Target::ServiceProxy {
            namespace,
            service,
            port,
            path,
        } => {
            let request = proxy::ProxyRequest {
                namespace: &namespace,
                service: &service,
                port: &port,
                path: &path,
            };
            proxy::service_proxy(state, &user, method, request, body).await
        }
        Target::Collection { kind, namespace } => {
            resources::collection(state, &user, method, headers, &query, kind, namespace, body)
                .await
        }
        Target::Object {
            kind,
            namespace,
            name,
            status,
        } => {
            resources::object(
                state, &user, method, headers, kind, &namespace, &name, status, body,
            )
            .await
        }
    }
}

fn read_only(method: &Method, doc: impl FnOnce() -> Value) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed(method.as_str()));
    }
    Ok(json_response(StatusCode::OK, &doc()))
}

async fn read_body(body: Body) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map(|b| b.to_vec())
        .map_err(|e| {
            ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("the request body could not be read: {e}"),
            )
        })
}

/// A review object sent as JSON or, as kubectl does for built-in kinds, as protobuf.
async fn read_review(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with(protobuf::CONTENT_TYPE) {
        let bytes = read_body(body).await?;
        return protobuf::access_review(&bytes).map_err(ApiError::bad_request);
    }
    read_json(body).await
}

async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(body).await?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ))
    }
}
