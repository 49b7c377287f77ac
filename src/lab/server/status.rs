//! Kubernetes `Status` error bodies: every refusal the lab makes is one of these, shaped as
//! kube-apiserver writes them, so kubectl and kube-rs report them as they would on a cluster.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::lab::kind::Kind;
use crate::lab::store::{StoreError, TooOld};

/// A failed request: HTTP code, Kubernetes reason, message and details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, kind: Kind, name: &str) -> Self {
        let mut details = json!({"group": kind.group(), "kind": kind.plural()});
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        self.details = Some(details);
        self
    }

    pub fn not_found_path(path: &str) -> Self {
        ApiError::new(404, "NotFound", format!("the server could not find the requested resource (path {path})"))
            .with_raw_details(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
    }

    pub fn not_found(kind: Kind, name: &str) -> Self {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", kind.qualified()),
        )
        .with_details(kind, name)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed(method: &str) -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &str) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {accepted} (got {content_type:?})"
            ),
        )
    }

    pub fn invalid(kind: Kind, name: &str, message: impl Into<String>) -> Self {
        ApiError::new(
            422,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {}",
                kind.qualified(),
                message.into()
            ),
        )
        .with_details(kind, name)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn gone(too_old: &TooOld) -> Self {
        ApiError::new(410, "Expired", too_old.to_string())
    }

    fn with_raw_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The error from the store, about `kind` named `name`.
    pub fn from_store(kind: Kind, err: StoreError) -> Self {
        let message = err.to_string();
        match err {
            StoreError::NotFound { name, .. } => ApiError::not_found(kind, &name),
            StoreError::NamespaceNotFound { namespace } => ApiError::new(404, "NotFound", message)
                .with_raw_details(json!({"name": namespace, "kind": "namespaces"})),
            StoreError::AlreadyExists { name, .. } => {
                ApiError::new(409, "AlreadyExists", message).with_details(kind, &name)
            }
            StoreError::Conflict { name, .. } => {
                ApiError::new(409, "Conflict", message).with_details(kind, &name)
            }
            StoreError::Invalid(m) => ApiError::new(
                422,
                "Invalid",
                format!("{} is invalid: {m}", kind.qualified()),
            ),
        }
    }

    /// The `Status` object itself (also sent inside watch `ERROR` events).
    pub fn status_body(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            body["details"] = details.clone();
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(code, &self.status_body())
    }
}

/// A JSON body with the content type Kubernetes clients expect.
pub fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
