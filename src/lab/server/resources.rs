//! Requests on stored objects: picks the verb from the method (and `?watch`), checks the
//! user may use it and the lab serves it, then lists, watches, reads or writes through
//! [`objects`](super::objects) and [`watch`](super::watch).

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;

use super::auth::{self, Attributes, User};
use super::selector::Selector;
use super::status::{ApiError, json_response};
use super::{ServerState, objects, read_body, table, watch};
use crate::lab::kind::Kind;
use crate::lab::store::Part;

#[allow(clippy::too_many_arguments)]
pub(super) async fn collection(
    state: &ServerState,
    user: &User,
    method: &Method,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    kind: Kind,
    namespace: Option<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let watching = query.get("watch").is_some_and(|w| w == "1" || w == "true");
    let verb = match *method {
        Method::GET if watching => "watch",
        Method::GET => "list",
        Method::POST if namespace.is_some() || !kind.namespaced() => "create",
        _ => return Err(ApiError::method_not_allowed(method.as_str())),
    };
    authorize(
        user,
        verb,
        kind,
        namespace.as_deref().unwrap_or(""),
        "",
        false,
    )?;
    allow_verb(kind, verb, false)?;
    let selector = Selector::parse(
        kind,
        query.get("labelSelector").map(String::as_str),
        query.get("fieldSelector").map(String::as_str),
    )?;
    match verb {
        "watch" => {
            let resource_version = match query.get("resourceVersion").map(String::as_str) {
                None | Some("") => None,
                Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid resourceVersion {rv:?}: must be a number"
                    ))
                })?),
            };
            let timeout = query
                .get("timeoutSeconds")
                .and_then(|t| t.parse::<u64>().ok())
                .map(Duration::from_secs);
            let bookmarks = query
                .get("allowWatchBookmarks")
                .is_some_and(|b| b == "true" || b == "1");
            let request = watch::WatchRequest {
                kind,
                namespace,
                selector,
                resource_version,
                timeout,
                bookmarks,
                table: table::wanted(headers),
                initial_events: query.get("sendInitialEvents").is_some_and(|v| v == "true"),
            };
            Ok(watch::watch(&state.store, request, state.stopping.clone()))
        }
        "list" => {
            let (items, rv) = objects::select(&state.store, kind, namespace.as_deref(), &selector);
            let body = if table::wanted(headers) {
                table::table(kind, &items, Some(rv), jiff::Timestamp::now())
            } else {
                objects::list(kind, items, rv)
            };
            Ok(json_response(StatusCode::OK, &body))
        }
        _ => {
            require_json(headers)?;
            let body = read_body(body).await?;
            let created = objects::create(&state.store, kind, namespace.as_deref(), &body)?;
            Ok(json_response(StatusCode::CREATED, &created))
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn object(
    state: &ServerState,
    user: &User,
    method: &Method,
    headers: &HeaderMap,
    kind: Kind,
    namespace: &str,
    name: &str,
    status: bool,
    body: Body,
) -> Result<Response, ApiError> {
    let verb = match *method {
        Method::GET => "get",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if !status => "delete",
        _ => return Err(ApiError::method_not_allowed(method.as_str())),
    };
    authorize(user, verb, kind, namespace, name, status)?;
    allow_verb(kind, verb, status)?;
    let store = &state.store;
    let part = if status { Part::Status } else { Part::Main };
    let object = match verb {
        "get" if table::wanted(headers) => {
            let object = objects::get(store, kind, namespace, name)?;
            table::table(kind, &[object], None, jiff::Timestamp::now())
        }
        "get" => objects::get(store, kind, namespace, name)?,
        "delete" => {
            // kubectl sends `dryRun` for deletes in the DeleteOptions body, not the query.
            let options: serde_json::Value =
                serde_json::from_slice(&read_body(body).await?).unwrap_or_default();
            if options["dryRun"].as_array().is_some_and(|d| !d.is_empty()) {
                return Err(ApiError::bad_request(
                    "the lab does not serve dry runs (dryRun); send the request without it",
                ));
            }
            objects::delete(store, kind, namespace, name)?
        }
        "update" => {
            require_json(headers)?;
            objects::replace(store, kind, namespace, name, part, &read_body(body).await?)?
        }
        _ => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            objects::patch(
                store,
                kind,
                namespace,
                name,
                part,
                content_type,
                &read_body(body).await?,
            )?
        }
    };
    Ok(json_response(StatusCode::OK, &object))
}

fn authorize(
    user: &User,
    verb: &str,
    kind: Kind,
    namespace: &str,
    name: &str,
    status: bool,
) -> Result<(), ApiError> {
    let attrs = Attributes {
        verb: verb.to_string(),
        group: kind.group().to_string(),
        resource: kind.plural().to_string(),
        subresource: if status {
            "status".into()
        } else {
            String::new()
        },
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    if auth::allowed(user, &attrs) {
        Ok(())
    } else {
        Err(auth::forbidden(user, &attrs))
    }
}

/// 405 for verbs the lab does not serve on `kind` (e.g. writing ReplicaSets).
fn allow_verb(kind: Kind, verb: &str, status: bool) -> Result<(), ApiError> {
    let served = match (status, kind.is_custom()) {
        (false, _) => kind.verbs().contains(&verb),
        (true, true) => matches!(verb, "get" | "patch" | "update"),
        (true, false) => verb == "get",
    };
    if served {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed(verb))
    }
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if content_type.split(';').next().unwrap_or("").trim() == "application/json" {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(
            content_type,
            "application/json",
        ))
    }
}
