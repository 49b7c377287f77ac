//! Request paths → what they name: a discovery document, a collection of one kind (in a
//! namespace or all of them), one object or its `status`, a review API, or nothing served.

use crate::lab::kind::Kind;

/// What a request path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Root,
    Version,
    Health,
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList {
        group: String,
        version: String,
    },
    /// `None`: all namespaces (or a cluster-scoped kind).
    Collection {
        kind: Kind,
        namespace: Option<String>,
    },
    /// `namespace` is empty for cluster-scoped kinds; `status` is the subresource.
    Object {
        kind: Kind,
        namespace: String,
        name: String,
        status: bool,
    },
    Review {
        group: String,
        resource: String,
    },
    /// `/api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH`: a request passed on to a
    /// Service's pods (`port` as written: a number, a port name, or empty).
    ServiceProxy {
        namespace: String,
        service: String,
        port: String,
        path: String,
    },
    /// `/openapi/v3`: which group/versions have a document.
    OpenApiRoot,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/GROUP/VERSION`.
    OpenApiGroupVersion {
        group: String,
        version: String,
    },
}

const REVIEWS: [(&str, &str); 2] = [
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
];

/// What `path` names, or `None` when the lab serves nothing there.
pub fn parse(path: &str) -> Option<Target> {
    let trimmed = path.strip_prefix('/')?;
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    match segments.as_slice() {
        [] => Some(Target::Root),
        ["version"] => Some(Target::Version),
        ["healthz" | "readyz" | "livez"] => Some(Target::Health),
        ["api"] => Some(Target::CoreVersions),
        ["api", "v1", rest @ ..] => resource_path("", "v1", rest),
        ["apis"] => Some(Target::GroupList),
        ["openapi", "v3"] => Some(Target::OpenApiRoot),
        ["openapi", "v3", "api", "v1"] => Some(Target::OpenApiGroupVersion {
            group: String::new(),
            version: "v1".into(),
        }),
        ["openapi", "v3", "apis", group, version] => Some(Target::OpenApiGroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        }),
        ["apis", group] => Some(Target::Group(group.to_string())),
        ["apis", group, version, rest @ ..] => resource_path(group, version, rest),
        _ => None,
    }
}

fn resource_path(group: &str, version: &str, rest: &[&str]) -> Option<Target> {
    let find = |plural: &str| Kind::find(group, version, plural);
    let object = |kind: Kind, namespace: &str, name: &str, status: bool| Target::Object {
        kind,
        namespace: namespace.to_string(),
        name: name.to_string(),
        status,
    };
    match rest {
        [] => Some(Target::ResourceList {
            group: group.into(),
            version: version.into(),
        }),
        [plural] if version == "v1" && REVIEWS.contains(&(group, *plural)) => {
            Some(Target::Review {
                group: group.into(),
                resource: plural.to_string(),
            })
        }
        [plural] => Some(Target::Collection {
            kind: find(plural)?,
            namespace: None,
        }),
        ["namespaces", namespace, plural] => match find(plural) {
            Some(kind) if kind.namespaced() => Some(Target::Collection {
                kind,
                namespace: Some(namespace.to_string()),
            }),
            _ if *plural == "status" && group.is_empty() => {
                Some(object(Kind::Namespace, "", namespace, true))
            }
            _ => None,
        },
        [
            "namespaces",
            namespace,
            "services",
            name,
            "proxy",
            rest @ ..,
        ] if group.is_empty() => {
            // `NAME`, `NAME:PORT` or `SCHEME:NAME:PORT`, as kube-apiserver reads it.
            let parts: Vec<&str> = name.split(':').collect();
            let (service, port) = match parts.as_slice() {
                [service] => (*service, ""),
                [service, port] | [_, service, port] => (*service, *port),
                _ => return None,
            };
            Some(Target::ServiceProxy {
                namespace: namespace.to_string(),
                service: service.to_string(),
                port: port.to_string(),
                path: format!("/{}", rest.join("/")),
            })
        }
        ["namespaces", namespace, plural, name] => {
            let kind = find(plural).filter(|k| k.namespaced())?;
            Some(object(kind, namespace, name, false))
        }
        ["namespaces", namespace, plural, name, "status"] => {
            let kind = find(plural).filter(|k| k.namespaced() && k.has_status_subresource())?;
            Some(object(kind, namespace, name, true))
        }
        [plural, name] => {
            let kind = find(plural).filter(|k| !k.namespaced())?;
            Some(object(kind, "", name, false))
        }
        [plural, name, "status"] => {
            let kind = find(plural).filter(|k| !k.namespaced() && k.has_status_subresource())?;
            Some(object(kind, "", name, true))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_what_kubernetes_clients_ask_for() {
        assert_eq!(
            parse("/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/checkout/status"),
            Some(Target::Object {
                kind: Kind::Rollout,
                namespace: "demo".into(),
                name: "checkout".into(),
                status: true
            })
        );
        assert_eq!(
            parse("/apis/argoproj.io/v1alpha1/rollouts"),
            Some(Target::Collection {
                kind: Kind::Rollout,
                namespace: None
            })
        );
        assert_eq!(
            parse("/api/v1/namespaces"),
            Some(Target::Collection {
                kind: Kind::Namespace,
                namespace: None
            })
        );
        assert_eq!(
            parse("/api/v1/namespaces/demo"),
            Some(Target::Object {
                kind: Kind::Namespace,
                namespace: String::new(),
                name: "demo".into(),
                status: false
            })
        );
        assert_eq!(
            parse("/api/v1/namespaces/demo/events"),
            Some(Target::Collection {
                kind: Kind::Event,
                namespace: Some("demo".into())
            })
        );
        assert_eq!(parse("/api/v1/namespaces/demo/pods"), None);
        assert_eq!(parse("/openapi/v2"), None);
        assert_eq!(parse("/apis//x"), None);
        assert_eq!(
            parse("/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/x/scale"),
            None
        );
        assert_eq!(
            parse("/api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open"),
            Some(Target::ServiceProxy {
                namespace: "test".into(),
                service: "flagger-loadtester".into(),
                port: "80".into(),
                path: "/gate/open".into(),
            })
        );
        assert_eq!(
            parse("/api/v1/namespaces/test/services/http:flagger-loadtester:http/proxy"),
            Some(Target::ServiceProxy {
                namespace: "test".into(),
                service: "flagger-loadtester".into(),
                port: "http".into(),
                path: "/".into(),
            })
        );
        assert!(matches!(
            parse("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
            Some(Target::Review { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_paths_never_panic(path in "/[a-z0-9./{}-]{0,60}") {
            let _ = parse(&path);
        }
    }
}
