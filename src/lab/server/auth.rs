//! Who is asking and what they may do: bearer tokens for `lab-admin` (everything),
//! `lab-viewer` (get/list/watch) and `lab-dev` (everything, in namespace `demo` only),
//! Forbidden messages as kube-apiserver words them, and the SelfSubjectAccessReview /
//! SelfSubjectReview answers built on the same rule.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::status::ApiError;

/// A user of the lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: &'static str,
    pub groups: &'static [&'static str],
    pub read_only: bool,
    /// The only namespace the user may touch (a RoleBinding, no ClusterRoleBinding);
    /// `None`: every namespace and the cluster scope.
    pub namespace: Option<&'static str>,
}

pub const ADMIN: User = User {
    name: "lab-admin",
    groups: &["lab:admins", "system:masters", "system:authenticated"],
    read_only: false,
    namespace: None,
};

pub const VIEWER: User = User {
    name: "lab-viewer",
    groups: &["lab:viewers", "system:authenticated"],
    read_only: true,
    namespace: None,
};

/// A team developer: may do everything in namespace `demo` and nothing elsewhere, not even
/// list rollouts across all namespaces (what most real users of the cockpit are).
pub const DEV: User = User {
    name: "lab-dev",
    groups: &["lab:devs", "system:authenticated"],
    read_only: false,
    namespace: Some(crate::lab::kubeconfig::NAMESPACE),
};

/// The bearer tokens this lab accepts, fresh for each lab.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tokens {
    pub admin: String,
    pub viewer: String,
    pub dev: String,
}

impl Tokens {
    pub fn generate() -> Self {
        Tokens {
            admin: token("admin"),
            viewer: token("viewer"),
            dev: token("dev"),
        }
    }

    /// The user named by the request's `Authorization: Bearer` header.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match token {
            Some(t) if t == self.admin => Ok(ADMIN),
            Some(t) if t == self.viewer => Ok(VIEWER),
            Some(t) if t == self.dev => Ok(DEV),
            _ => Err(ApiError::unauthorized()),
        }
    }
}

fn token(role: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("lab-{role}-{hex}")
}

/// One request as RBAC sees it.
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// Whether `user` may do what `attrs` describe.
pub fn allowed(user: &User, attrs: &Attributes) -> bool {
    // Everyone may ask the server who they are and what they may do.
    let self_review = attrs.verb == "create"
        && matches!(
            attrs.group.as_str(),
            "authorization.k8s.io" | "authentication.k8s.io"
        )
        && matches!(
            attrs.resource.as_str(),
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews" | "selfsubjectreviews"
        );
    if self_review {
        return true;
    }
    // An empty namespace is the cluster scope: all namespaces, or a cluster-scoped kind.
    let in_scope = user.namespace.is_none_or(|ns| attrs.namespace == ns);
    in_scope && (!user.read_only || matches!(attrs.verb.as_str(), "get" | "list" | "watch"))
}

/// The 403 kube-apiserver sends, e.g. `rollouts.argoproj.io "checkout" is forbidden: User
/// "lab-viewer" cannot patch resource "rollouts/status" in API group "argoproj.io" in the
/// namespace "demo"`.
pub fn forbidden(user: &User, attrs: &Attributes) -> ApiError {
    let qualified = match attrs.group.as_str() {
        "" => attrs.resource.clone(),
        group => format!("{}.{group}", attrs.resource),
    };
    let object = match attrs.name.as_str() {
        "" => qualified,
        name => format!("{qualified} \"{name}\""),
    };
    let resource = match attrs.subresource.as_str() {
        "" => attrs.resource.clone(),
        sub => format!("{}/{sub}", attrs.resource),
    };
    let scope = match attrs.namespace.as_str() {
        "" => "at the cluster scope".to_string(),
        ns => format!("in the namespace \"{ns}\""),
    };
    let mut err = ApiError::new(
        403,
        "Forbidden",
        format!(
            "{object} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            user.name, attrs.verb, attrs.group
        ),
    );
    let mut details = json!({"group": attrs.group, "kind": attrs.resource});
    if !attrs.name.is_empty() {
        details["name"] = json!(attrs.name);
    }
    err.details = Some(details);
    err
}

/// Answers a SelfSubjectAccessReview: the request with `status.allowed` filled in.
pub fn access_review(user: &User, mut review: Value) -> Value {
    let spec = &review["spec"];
    let allowed = if let Some(ra) = spec.get("resourceAttributes") {
        let field = |k: &str| ra[k].as_str().unwrap_or("").to_string();
        let attrs = Attributes {
            verb: field("verb"),
            group: field("group"),
            resource: field("resource"),
            subresource: field("subresource"),
            namespace: field("namespace"),
            name: field("name"),
        };
        self::allowed(user, &attrs)
    } else if let Some(nra) = spec.get("nonResourceAttributes") {
        (!user.read_only && user.namespace.is_none()) || nra["verb"].as_str() == Some("get")
    } else {
        false
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    review["status"] = if allowed {
        json!({"allowed": true, "reason": format!("lab: {} may do this", user.name)})
    } else {
        // RBAC gives no reason for a denial; kubectl then prints a bare "no".
        json!({"allowed": false})
    };
    review
}

/// Answers a SelfSubjectReview (`kubectl auth whoami`).
pub fn self_review(user: &User) -> Value {
    json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "SelfSubjectReview",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, sub: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: "argoproj.io".into(),
            resource: "rollouts".into(),
            subresource: sub.into(),
            namespace: "demo".into(),
            name: "checkout".into(),
        }
    }

    #[test]
    fn viewer_reads_but_never_writes() {
        assert!(allowed(&VIEWER, &attrs("get", "")));
        assert!(allowed(&VIEWER, &attrs("watch", "")));
        assert!(!allowed(&VIEWER, &attrs("patch", "status")));
        assert!(allowed(&ADMIN, &attrs("patch", "status")));
        assert_eq!(
            forbidden(&VIEWER, &attrs("patch", "status")).message,
            "rollouts.argoproj.io \"checkout\" is forbidden: User \"lab-viewer\" cannot patch \
             resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"demo\""
        );
    }

    #[test]
    fn access_review_answers_for_the_asker() {
        let review = json!({"spec": {"resourceAttributes": {
            "verb": "patch", "group": "argoproj.io", "resource": "rollouts", "namespace": "demo"}}});
        assert_eq!(
            access_review(&VIEWER, review.clone())["status"]["allowed"],
            false
        );
        assert_eq!(access_review(&ADMIN, review)["status"]["allowed"], true);
    }

    #[test]
    fn dev_does_everything_in_demo_and_nothing_elsewhere() {
        assert!(allowed(&DEV, &attrs("patch", "status")));
        assert!(allowed(&DEV, &attrs("list", "")));
        let all_namespaces = Attributes {
            verb: "list".into(),
            group: "argoproj.io".into(),
            resource: "rollouts".into(),
            ..Attributes::default()
        };
        assert!(!allowed(&DEV, &all_namespaces));
        assert!(allowed(&VIEWER, &all_namespaces));
        assert!(allowed(&ADMIN, &all_namespaces));
        assert_eq!(
            forbidden(&DEV, &all_namespaces).message,
            "rollouts.argoproj.io is forbidden: User \"lab-dev\" cannot list resource \"rollouts\" \
             in API group \"argoproj.io\" at the cluster scope"
        );
        let elsewhere = Attributes {
            namespace: "payments".into(),
            ..attrs("get", "")
        };
        assert!(!allowed(&DEV, &elsewhere));
        let namespaces = Attributes {
            verb: "list".into(),
            resource: "namespaces".into(),
            ..Attributes::default()
        };
        assert!(!allowed(&DEV, &namespaces));
        let whoami = Attributes {
            verb: "create".into(),
            group: "authentication.k8s.io".into(),
            resource: "selfsubjectreviews".into(),
            ..Attributes::default()
        };
        assert!(allowed(&DEV, &whoami));
    }

    #[test]
    fn access_review_follows_the_dev_namespace() {
        let ask = |namespace: Option<&str>| {
            let mut ra = json!({"verb": "list", "group": "argoproj.io", "resource": "rollouts"});
            if let Some(ns) = namespace {
                ra["namespace"] = json!(ns);
            }
            access_review(&DEV, json!({"spec": {"resourceAttributes": ra}}))["status"]["allowed"]
                .clone()
        };
        assert_eq!(ask(None), false);
        assert_eq!(ask(Some("")), false);
        assert_eq!(ask(Some("demo")), true);
        assert_eq!(ask(Some("kube-system")), false);
    }

    #[test]
    fn tokens_identify_users() {
        let tokens = Tokens::generate();
        let mut headers = HeaderMap::new();
        assert!(tokens.authenticate(&headers).is_err());
        headers.insert(
            "authorization",
            format!("Bearer {}", tokens.viewer).parse().unwrap(),
        );
        assert_eq!(tokens.authenticate(&headers).unwrap(), VIEWER);
        headers.insert(
            "authorization",
            format!("Bearer {}", tokens.dev).parse().unwrap(),
        );
        assert_eq!(tokens.authenticate(&headers).unwrap(), DEV);
        headers.insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(tokens.authenticate(&headers).unwrap_err().code, 401);
    }
}
