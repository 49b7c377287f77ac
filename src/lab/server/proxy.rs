//! The service proxy (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`): checked by
//! RBAC as `services/proxy` with the verb of the method, then passed to what the Service
//! selects. In the lab only the simulated Flagger load tester answers behind a Service.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::{self, Attributes, User};
use super::status::ApiError;
use super::{ServerState, read_body};
use crate::lab::kind::Kind;
use crate::lab::loadtester::LOAD_TESTER_APP;

/// A proxied request, as the route names it.
pub(super) struct ProxyRequest<'a> {
    pub namespace: &'a str,
    pub service: &'a str,
    pub port: &'a str,
    pub path: &'a str,
}

pub(super) async fn service_proxy(
    state: &ServerState,
    user: &User,
    method: &Method,
    request: ProxyRequest<'_>,
    body: Body,
) -> Result<Response, ApiError> {
    let verb = match *method {
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => return Err(ApiError::method_not_allowed(method.as_str())),
    };
    let name = match request.port {
        "" => request.service.to_string(),
        port => format!("{}:{port}", request.service),
    };
    let attrs = Attributes {
        verb: verb.into(),
        group: String::new(),
        resource: "services".into(),
        subresource: "proxy".into(),
        namespace: request.namespace.into(),
        name,
    };
    if !auth::allowed(user, &attrs) {
        return Err(auth::forbidden(user, &attrs));
    }
    let service = state
        .store
        .get(Kind::Service, request.namespace, request.service)
        .ok_or_else(|| ApiError::not_found(Kind::Service, request.service))?;
    let port_matches = request.port.is_empty()
        || service["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| {
                p["name"] == request.port || request.port.parse::<i64>().ok() == p["port"].as_i64()
            });
    let selects_load_tester = service["spec"]["selector"]["app"] == LOAD_TESTER_APP;
    if !port_matches || !selects_load_tester {
        // What kube-apiserver answers when nothing listens behind the Service's port.
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            format!("no endpoints available for service \"{}\"", request.service),
        ));
    }
    let body = read_body(body).await?;
    let answer = state.load_tester.serve(request.path, &body);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    Ok((
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        answer.body,
    )
        .into_response())
}
