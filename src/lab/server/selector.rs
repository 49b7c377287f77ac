//! `labelSelector` and `fieldSelector` as list and watch requests send them: equality,
//! inequality and existence terms joined by commas (set-based terms are refused with 400).

use serde_json::Value;

use super::status::ApiError;
use crate::lab::kind::Kind;

#[derive(Clone, Debug, PartialEq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// Which objects a request wants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selector {
    labels: Vec<Term>,
    /// Field terms: JSON pointer into the object, value, and whether it must equal (`=`,
    /// `==`) or differ (`!=`). A missing field reads as the empty string, as in kube-apiserver.
    fields: Vec<(String, String, bool)>,
}

/// The field selectors kube-apiserver supports for core/v1 Events (beyond `metadata.*`):
/// what `kubectl describe` and event filters send.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject.kind", "/involvedObject/kind"),
    ("involvedObject.namespace", "/involvedObject/namespace"),
    ("involvedObject.name", "/involvedObject/name"),
    ("involvedObject.uid", "/involvedObject/uid"),
    ("involvedObject.apiVersion", "/involvedObject/apiVersion"),
    (
        "involvedObject.resourceVersion",
        "/involvedObject/resourceVersion",
    ),
    ("involvedObject.fieldPath", "/involvedObject/fieldPath"),
    ("reason", "/reason"),
    ("reportingComponent", "/reportingComponent"),
    ("source", "/source/component"),
    ("type", "/type"),
];

impl Selector {
    /// Parses both selectors for a request on `kind` (Events accept more field labels).
    pub fn parse(
        kind: Kind,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Self, ApiError> {
        let mut selector = Selector::default();
        for term in split(label_selector) {
            selector.labels.push(parse_label_term(term)?);
        }
        for term in split(field_selector) {
            let (field, value, equal) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, v, true)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: {term:?}"
                )));
            };
            let pointer = match field.trim() {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => EVENT_FIELDS
                    .iter()
                    .find(|(name, _)| kind == Kind::Event && *name == other)
                    .map(|(_, pointer)| *pointer)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("field label not supported: {other}"))
                    })?,
            };
            selector
                .fields
                .push((pointer.to_string(), value.trim().to_string(), equal));
        }
        Ok(selector)
    }

    pub fn matches(&self, object: &Value) -> bool {
        let fields_ok = self.fields.iter().all(|(pointer, want, equal)| {
            let have = object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("");
            (have == want) == *equal
        });
        if !fields_ok {
            return false;
        }
        let meta = &object["metadata"];
        let label = |k: &str| meta["labels"][k].as_str();
        self.labels.iter().all(|term| match term {
            Term::Equals(k, v) => label(k) == Some(v.as_str()),
            Term::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Term::Exists(k) => label(k).is_some(),
            Term::Absent(k) => label(k).is_none(),
        })
    }
}

fn split(selector: Option<&str>) -> impl Iterator<Item = &str> {
    selector
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn parse_label_term(term: &str) -> Result<Term, ApiError> {
    let owned = |s: &str| s.trim().to_string();
    if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: set-based selectors are not served by the lab: {term:?}"
        )));
    }
    Ok(if let Some((k, v)) = term.split_once("!=") {
        Term::NotEquals(owned(k), owned(v))
    } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        Term::Equals(owned(k), owned(v))
    } else if let Some(k) = term.strip_prefix('!') {
        Term::Absent(owned(k))
    } else {
        Term::Exists(owned(term))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_and_field_terms_select_objects() {
        let rs = json!({"metadata": {"name": "checkout-6c7d", "namespace": "demo",
            "labels": {"app": "checkout", "rollouts-pod-template-hash": "6c7d"}}});
        let sel = |l: Option<&str>, f: Option<&str>| {
            Selector::parse(Kind::ReplicaSet, l, f)
                .unwrap()
                .matches(&rs)
        };
        assert!(sel(Some("rollouts-pod-template-hash=6c7d"), None));
        assert!(sel(Some("app==checkout,rollouts-pod-template-hash"), None));
        assert!(!sel(Some("app=search"), None));
        assert!(!sel(Some("app!=checkout"), None));
        assert!(sel(Some("!missing"), Some("metadata.name=checkout-6c7d")));
        assert!(!sel(None, Some("metadata.namespace=other")));
        assert!(sel(None, Some("metadata.namespace!=other")));
        assert!(Selector::parse(Kind::ReplicaSet, None, Some("spec.x=1")).is_err());
        assert!(Selector::parse(Kind::ReplicaSet, None, Some("reason=X")).is_err());
        assert!(Selector::parse(Kind::ReplicaSet, Some("app in (a,b)"), None).is_err());
    }

    #[test]
    fn events_are_selected_by_involved_object_as_kubectl_describe_asks() {
        let event = json!({"metadata": {"name": "checkout.1", "namespace": "demo"},
            "involvedObject": {"kind": "Rollout", "name": "checkout", "namespace": "demo",
                "uid": "u-1"},
            "reason": "RolloutPaused", "type": "Normal",
            "source": {"component": "rollouts-controller"}});
        let sel = |f: &str| {
            Selector::parse(Kind::Event, None, Some(f))
                .unwrap()
                .matches(&event)
        };
        assert!(sel(
            "involvedObject.name=checkout,involvedObject.namespace=demo,\
             involvedObject.kind=Rollout,involvedObject.uid=u-1"
        ));
        assert!(!sel("involvedObject.name=search"));
        assert!(sel(
            "type!=Warning,source=rollouts-controller,reason=RolloutPaused"
        ));
        assert!(sel("involvedObject.fieldPath="));
    }
}
