//! `labelSelector` and `fieldSelector` as list and watch requests send them: equality,
//! inequality and existence terms joined by commas (set-based terms are refused with 400).

use serde_json::Value;

use super::status::ApiError;

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
    name: Option<String>,
    namespace: Option<String>,
}

impl Selector {
    pub fn parse(
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Self, ApiError> {
        let mut selector = Selector::default();
        for term in split(label_selector) {
            selector.labels.push(parse_label_term(term)?);
        }
        for term in split(field_selector) {
            let (field, value) = term
                .split_once("==")
                .or_else(|| term.split_once('='))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("invalid field selector: {term:?}"))
                })?;
            match field.trim() {
                "metadata.name" => selector.name = Some(value.trim().to_string()),
                "metadata.namespace" => selector.namespace = Some(value.trim().to_string()),
                other => {
                    return Err(ApiError::bad_request(format!(
                        "field label not supported: {other}"
                    )));
                }
            }
        }
        Ok(selector)
    }

    pub fn matches(&self, object: &Value) -> bool {
        let meta = &object["metadata"];
        let field_ok = |want: &Option<String>, key: &str| {
            want.as_deref()
                .is_none_or(|w| meta[key].as_str().unwrap_or("") == w)
        };
        if !field_ok(&self.name, "name") || !field_ok(&self.namespace, "namespace") {
            return false;
        }
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
        let sel = |l: Option<&str>, f: Option<&str>| Selector::parse(l, f).unwrap().matches(&rs);
        assert!(sel(Some("rollouts-pod-template-hash=6c7d"), None));
        assert!(sel(Some("app==checkout,rollouts-pod-template-hash"), None));
        assert!(!sel(Some("app=search"), None));
        assert!(!sel(Some("app!=checkout"), None));
        assert!(sel(Some("!missing"), Some("metadata.name=checkout-6c7d")));
        assert!(!sel(None, Some("metadata.namespace=other")));
        assert!(Selector::parse(None, Some("spec.x=1")).is_err());
        assert!(Selector::parse(Some("app in (a,b)"), None).is_err());
    }
}
