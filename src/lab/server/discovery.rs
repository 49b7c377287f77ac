//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis` and one resource list per
//! group/version, built from [`Kind`] so that what is listed is exactly what is served.

use serde_json::{Value, json};

use crate::lab::kind::Kind;

/// Group/versions served besides the object kinds: the review APIs.
const REVIEW_GROUPS: [(&str, &str, &str, &str); 2] = [
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
    ),
    (
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
    ),
];

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-lab",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// The named groups, each with its one version.
fn groups() -> Vec<(&'static str, &'static str)> {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    let kinds = Kind::ALL.into_iter().map(|k| (k.group(), k.version()));
    let reviews = REVIEW_GROUPS.iter().map(|(g, v, _, _)| (*g, *v));
    for (group, version) in kinds.chain(reviews) {
        if !group.is_empty() && !groups.contains(&(group, version)) {
            groups.push((group, version));
        }
    }
    groups
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [gv],
        "preferredVersion": gv,
    })
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|(g, v)| {
            let mut doc = group_doc(g, v);
            if let Some(map) = doc.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            doc
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`, when the group is served.
pub fn group(group: &str) -> Option<Value> {
    groups()
        .into_iter()
        .find(|(g, _)| *g == group)
        .map(|(g, v)| group_doc(g, v))
}

/// `/api/v1` (group "") or `/apis/GROUP/VERSION`, when served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for kind in Kind::ALL {
        if kind.group() != group || kind.version() != version {
            continue;
        }
        resources.push(json!({
            "name": kind.plural(),
            "singularName": kind.singular(),
            "namespaced": kind.namespaced(),
            "kind": kind.kind(),
            "verbs": kind.verbs(),
            "shortNames": kind.short_names(),
            "categories": categories(kind),
        }));
        if kind.has_status_subresource() {
            let status_verbs: &[&str] = if kind.is_custom() {
                &["get", "patch", "update"]
            } else {
                &["get"]
            };
            resources.push(json!({
                "name": format!("{}/status", kind.plural()),
                "singularName": "",
                "namespaced": kind.namespaced(),
                "kind": kind.kind(),
                "verbs": status_verbs,
            }));
        }
    }
    for (g, v, plural, kind) in REVIEW_GROUPS {
        if g == group && v == version {
            resources.push(json!({
                "name": plural, "singularName": "", "namespaced": false, "kind": kind, "verbs": ["create"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// `/openapi/v3`: one document per group/version that has object kinds.
pub fn openapi_root() -> Value {
    let mut paths = serde_json::Map::new();
    for kind in Kind::ALL {
        let path = gv_path(kind.group(), kind.version());
        let url = format!("/openapi/v3/{path}?hash=lab");
        paths.insert(path, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

/// The OpenAPI v3 document of one group/version. It carries no schemas: only each kind's
/// PATCH operation, declaring `fieldValidation`, so kubectl create/apply leave validation
/// to the server instead of failing to download schemas.
pub fn openapi_group_version(group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for kind in Kind::ALL {
        if kind.group() != group || kind.version() != version {
            continue;
        }
        let scope = if kind.namespaced() {
            "namespaces/{namespace}/"
        } else {
            ""
        };
        let path = format!(
            "/{}/{scope}{}/{{name}}",
            gv_path(group, version),
            kind.plural()
        );
        let gvk = json!({"group": group, "version": version, "kind": kind.kind()});
        let patch = json!({
            "x-kubernetes-group-version-kind": gvk,
            "x-kubernetes-action": "patch",
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}},
        });
        paths.insert(path, json!({"patch": patch}));
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (release-cockpit lab)", "version": "v1.33.0"},
        "paths": paths,
    }))
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// kubectl's `get all` reads categories; Argo's CRDs declare none, built-ins use `all`.
fn categories(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::ReplicaSet | Kind::Deployment | Kind::Service | Kind::Canary => vec!["all"],
        Kind::HttpRoute => vec!["gateway-api"],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argo_group_lists_rollouts_with_status_and_short_name() {
        let doc = resource_list("argoproj.io", "v1alpha1").unwrap();
        let names: Vec<&str> = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "rollouts",
                "rollouts/status",
                "analysisruns",
                "analysisruns/status",
                "analysistemplates"
            ]
        );
        assert_eq!(doc["resources"][0]["shortNames"][0], "ro");
        assert!(resource_list("argoproj.io", "v1").is_none());
        assert!(resource_list("authorization.k8s.io", "v1").is_some());
        let groups = group_list();
        assert!(
            groups["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["name"] == "argoproj.io")
        );
    }
}
