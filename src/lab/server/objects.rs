//! Reads and writes of stored objects over HTTP: list (with selectors), get, create,
//! replace (PUT), patch (merge and JSON patch, main resource or `status`) and delete.

use serde_json::{Value, json};

use super::selector::Selector;
use super::status::ApiError;
use crate::lab::kind::Kind;
use crate::lab::store::{Part, Store, UpdateError};

/// Media types a PATCH may use on the lab's kinds.
const PATCH_TYPES: &str = "application/json-patch+json, application/merge-patch+json";

/// The objects a list request selects, and the resourceVersion the list is consistent with.
pub fn select(
    store: &Store,
    kind: Kind,
    namespace: Option<&str>,
    selector: &Selector,
) -> (Vec<Value>, u64) {
    let (items, rv) = store.list(kind, namespace);
    (
        items.into_iter().filter(|o| selector.matches(o)).collect(),
        rv,
    )
}

/// `RolloutList` & co.
pub fn list(kind: Kind, items: Vec<Value>, rv: u64) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": format!("{}List", kind.kind()),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    })
}

pub fn get(store: &Store, kind: Kind, namespace: &str, name: &str) -> Result<Value, ApiError> {
    store
        .get(kind, namespace, name)
        .ok_or_else(|| ApiError::not_found(kind, name))
}

pub fn create(
    store: &Store,
    kind: Kind,
    namespace: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut object = parse_object(body)?;
    check_kind(kind, &object)?;
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    match (namespace, object["metadata"]["namespace"].as_str()) {
        (Some(url), Some(body)) if url != body => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        (Some(url), _) => object["metadata"]["namespace"] = json!(url),
        (None, _) => {}
    }
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    validate(kind, &name, &object)?;
    store
        .create(kind, object)
        .map_err(|e| ApiError::from_store(kind, e))
}

pub fn replace(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
    part: Part,
    body: &[u8],
) -> Result<Value, ApiError> {
    let object = parse_object(body)?;
    check_kind(kind, &object)?;
    if object["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n != name)
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object["metadata"]["name"].as_str().unwrap_or("")
        )));
    }
    update(store, kind, namespace, name, part, |_| Ok(object))
}

pub fn delete(store: &Store, kind: Kind, namespace: &str, name: &str) -> Result<Value, ApiError> {
    store
        .delete(kind, namespace, name)
        .map_err(|e| ApiError::from_store(kind, e))
}

/// A PATCH as kube-apiserver takes it for `content_type`; 415 for strategic merge on custom
/// resources (as for Argo's CRDs) and for server-side apply, which the lab does not serve.
pub fn patch(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
    part: Part,
    content_type: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/merge-patch+json" => {}
        "application/strategic-merge-patch+json" if !kind.is_custom() => {}
        "application/json-patch+json" => {
            let ops: json_patch::Patch = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("unable to parse the JSON patch: {e}"))
            })?;
            return update(store, kind, namespace, name, part, |current| {
                let mut next = current.clone();
                json_patch::patch(&mut next, &ops).map_err(|e| {
                    let what = match e.kind {
                        json_patch::PatchErrorKind::TestFailed => "test operation failed",
                        _ => "JSON patch could not be applied",
                    };
                    ApiError::invalid(kind, name, format!("{what}: {e}"))
                })?;
                Ok(next)
            });
        }
        other => return Err(ApiError::unsupported_media_type(other, PATCH_TYPES)),
    }
    let merge: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("unable to parse the merge patch: {e}")))?;
    if !merge.is_object() {
        return Err(ApiError::bad_request("a merge patch must be a JSON object"));
    }
    update(store, kind, namespace, name, part, |current| {
        let mut next = current.clone();
        json_patch::merge(&mut next, &merge);
        Ok(next)
    })
}

fn update(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
    part: Part,
    write: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let checked = |current: &Value| {
        let next = write(current)?;
        validate(kind, name, &next)?;
        Ok(next)
    };
    store
        .update(kind, namespace, name, part, checked)
        .map_err(|e| match e {
            UpdateError::Store(e) => ApiError::from_store(kind, e),
            UpdateError::Write(e) => e,
        })
}

fn parse_object(body: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    if !(value["metadata"].is_object() || value["metadata"].is_null()) {
        return Err(ApiError::bad_request("metadata must be a JSON object"));
    }
    Ok(value)
}

fn check_kind(kind: Kind, object: &Value) -> Result<(), ApiError> {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or(&kind.api_version())
        .to_string();
    let object_kind = object["kind"].as_str().unwrap_or(kind.kind()).to_string();
    if api_version != kind.api_version() || object_kind != kind.kind() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) and kind ({object_kind}) do not match the request ({} {})",
            kind.api_version(),
            kind.kind()
        )));
    }
    Ok(())
}

/// Rejects what the real API server would: an object whose shape its schema refuses.
fn validate(kind: Kind, name: &str, object: &Value) -> Result<(), ApiError> {
    if !object["metadata"].is_object() && !object["metadata"].is_null() {
        return Err(ApiError::invalid(kind, name, "metadata: must be an object"));
    }
    if kind == Kind::Rollout {
        if !object["spec"].is_object() {
            return Err(ApiError::invalid(kind, name, "spec: Required value"));
        }
        serde_json::from_value::<crate::model::Rollout>(object.clone())
            .map_err(|e| ApiError::invalid(kind, name, e.to_string()))?;
    }
    if kind == Kind::HttpRoute {
        validate_weights(name, object)?;
    }
    if kind == Kind::Canary {
        validate_canary(name, object)?;
    }
    Ok(())
}

/// What Flagger's Canary CRD requires: `spec.targetRef` (apiVersion, kind, name),
/// `spec.analysis`, and a name and url on every webhook.
fn validate_canary(name: &str, canary: &Value) -> Result<(), ApiError> {
    let spec = &canary["spec"];
    let mut missing: Vec<String> = Vec::new();
    if !spec.is_object() {
        missing.push("spec".into());
    } else {
        if !spec["targetRef"].is_object() {
            missing.push("spec.targetRef".into());
        } else {
            for field in ["apiVersion", "kind", "name"] {
                if !spec["targetRef"][field].is_string() {
                    missing.push(format!("spec.targetRef.{field}"));
                }
            }
        }
        if !spec["analysis"].is_object() {
            missing.push("spec.analysis".into());
        }
        let hooks = spec["analysis"]["webhooks"]
            .as_array()
            .into_iter()
            .flatten();
        for (i, hook) in hooks.enumerate() {
            for field in ["name", "url"] {
                if !hook[field].is_string() {
                    missing.push(format!("spec.analysis.webhooks[{i}].{field}"));
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> = missing
        .iter()
        .map(|f| format!("{f}: Required value"))
        .collect();
    let mut err = ApiError::invalid(Kind::Canary, name, format!("[{}]", fields.join(", ")));
    // The causes kubectl prints under "is invalid", as kube-apiserver sends them.
    if let Some(details) = err.details.as_mut() {
        details["causes"] = missing
            .iter()
            .map(|f| json!({"reason": "FieldValueRequired", "message": "Required value", "field": f}))
            .collect();
    }
    Err(err)
}

/// The HTTPRoute CRD's schema for `backendRefs[].weight`: an integer from 0 to 1000000.
fn validate_weights(name: &str, route: &Value) -> Result<(), ApiError> {
    let rules = route["spec"]["rules"].as_array().into_iter().flatten();
    for (r, rule) in rules.enumerate() {
        let refs = rule["backendRefs"].as_array().into_iter().flatten();
        for (b, backend) in refs.enumerate() {
            let weight = &backend["weight"];
            let field = format!("spec.rules[{r}].backendRefs[{b}].weight");
            let problem = match weight {
                Value::Null => None,
                w if w.as_i64().is_none() => Some(format!(
                    "Invalid value: \"{}\": {field} in body must be of type integer",
                    w
                )),
                w if w.as_i64().is_some_and(|w| w < 0) => Some(format!(
                    "Invalid value: {w}: {field} in body should be greater than or equal to 0"
                )),
                w if w.as_i64().is_some_and(|w| w > 1_000_000) => Some(format!(
                    "Invalid value: {w}: {field} in body should be less than or equal to 1000000"
                )),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(ApiError::invalid(
                    Kind::HttpRoute,
                    name,
                    format!("{field}: {problem}"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
