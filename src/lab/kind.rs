//! The resource kinds the lab serves, with the names Kubernetes uses for them in paths,
//! discovery documents, error messages and RBAC (group, version, plural, kind).

/// A kind of object the lab stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Event,
    EventV1,
    ReplicaSet,
    Rollout,
    AnalysisRun,
    AnalysisTemplate,
    Deployment,
    Service,
    /// `gateway.networking.k8s.io/v1` HTTPRoute, as the Gateway API's standard CRD declares
    /// it (`../shared/fixtures/gateway-api/`).
    HttpRoute,
    /// `flagger.app/v1beta1` Canary, as Flagger's CRD declares it
    /// (`../shared/fixtures/flagger/crd.yaml`).
    Canary,
}

/// The Gateway API's group.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
/// Flagger's group.
pub const FLAGGER_GROUP: &str = "flagger.app";

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Namespace,
        Kind::Event,
        Kind::EventV1,
        Kind::ReplicaSet,
        Kind::Rollout,
        Kind::AnalysisRun,
        Kind::AnalysisTemplate,
        Kind::Deployment,
        Kind::Service,
        Kind::HttpRoute,
        Kind::Canary,
    ];

    /// API group ("" for the core group).
    pub fn group(self) -> &'static str {
        match self {
            Kind::Namespace | Kind::Event | Kind::Service => "",
            Kind::EventV1 => "events.k8s.io",
            Kind::ReplicaSet | Kind::Deployment => "apps",
            Kind::Rollout | Kind::AnalysisRun | Kind::AnalysisTemplate => "argoproj.io",
            Kind::HttpRoute => GATEWAY_GROUP,
            Kind::Canary => FLAGGER_GROUP,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Kind::Rollout | Kind::AnalysisRun | Kind::AnalysisTemplate => "v1alpha1",
            Kind::Canary => "v1beta1",
            _ => "v1",
        }
    }

    /// `apiVersion` as written in objects: `v1` or `group/version`.
    pub fn api_version(self) -> String {
        match self.group() {
            "" => self.version().to_string(),
            group => format!("{group}/{}", self.version()),
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Event | Kind::EventV1 => "Event",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Rollout => "Rollout",
            Kind::AnalysisRun => "AnalysisRun",
            Kind::AnalysisTemplate => "AnalysisTemplate",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::HttpRoute => "HTTPRoute",
            Kind::Canary => "Canary",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Event | Kind::EventV1 => "events",
            Kind::ReplicaSet => "replicasets",
            Kind::Rollout => "rollouts",
            Kind::AnalysisRun => "analysisruns",
            Kind::AnalysisTemplate => "analysistemplates",
            Kind::Deployment => "deployments",
            Kind::Service => "services",
            Kind::HttpRoute => "httproutes",
            Kind::Canary => "canaries",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Kind::Namespace => "namespace",
            Kind::Event | Kind::EventV1 => "event",
            Kind::ReplicaSet => "replicaset",
            Kind::Rollout => "rollout",
            Kind::AnalysisRun => "analysisrun",
            Kind::AnalysisTemplate => "analysistemplate",
            Kind::Deployment => "deployment",
            Kind::Service => "service",
            Kind::HttpRoute => "httproute",
            Kind::Canary => "canary",
        }
    }

    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace => &["ns"],
            Kind::Event | Kind::EventV1 => &["ev"],
            Kind::ReplicaSet => &["rs"],
            Kind::Rollout => &["ro"],
            Kind::AnalysisRun => &["ar"],
            Kind::AnalysisTemplate => &["at"],
            Kind::Deployment => &["deploy"],
            Kind::Service => &["svc"],
            Kind::HttpRoute | Kind::Canary => &[],
        }
    }

    pub fn namespaced(self) -> bool {
        self != Kind::Namespace
    }

    /// Whether the kind has a `status` subresource (status and spec are written apart).
    pub fn has_status_subresource(self) -> bool {
        matches!(
            self,
            Kind::Rollout
                | Kind::AnalysisRun
                | Kind::ReplicaSet
                | Kind::Namespace
                | Kind::Deployment
                | Kind::Service
                | Kind::HttpRoute
                | Kind::Canary
        )
    }

    /// Custom resources refuse strategic-merge patches (415); built-in kinds take them.
    pub fn is_custom(self) -> bool {
        matches!(self.group(), "argoproj.io" | GATEWAY_GROUP | FLAGGER_GROUP)
    }

    /// The verbs clients may use on the kind through this lab.
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace | Kind::ReplicaSet => &["get", "list", "watch"],
            Kind::Event | Kind::EventV1 => &["create", "delete", "get", "list", "patch", "watch"],
            Kind::Rollout
            | Kind::AnalysisRun
            | Kind::AnalysisTemplate
            | Kind::Deployment
            | Kind::Service
            | Kind::HttpRoute
            | Kind::Canary => &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
        }
    }

    /// `rollouts.argoproj.io`, `replicasets.apps`, `events`: the name used in error messages.
    pub fn qualified(self) -> String {
        match self.group() {
            "" => self.plural().to_string(),
            group => format!("{}.{group}", self.plural()),
        }
    }

    /// The kind served at `group`/`version` under `plural`, if any.
    pub fn find(group: &str, version: &str, plural: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.version() == version && k.plural() == plural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_kinds() {
        assert_eq!(
            Kind::find("argoproj.io", "v1alpha1", "rollouts"),
            Some(Kind::Rollout)
        );
        assert_eq!(Kind::find("", "v1", "events"), Some(Kind::Event));
        assert_eq!(
            Kind::find("events.k8s.io", "v1", "events"),
            Some(Kind::EventV1)
        );
        assert_eq!(Kind::find("apps", "v1", "rollouts"), None);
        assert_eq!(Kind::Rollout.qualified(), "rollouts.argoproj.io");
        assert_eq!(Kind::Event.api_version(), "v1");
        assert_eq!(Kind::ReplicaSet.api_version(), "apps/v1");
        assert_eq!(
            Kind::find("apps", "v1", "deployments"),
            Some(Kind::Deployment)
        );
        assert_eq!(Kind::find("", "v1", "services"), Some(Kind::Service));
    }

    /// HTTPRoute is served as the Gateway API's own CRD declares it.
    #[test]
    fn httproutes_are_served_as_the_gateway_api_crd_declares_them() {
        served_as_declared(
            "gateway-api/gateway.networking.k8s.io_httproutes.yaml",
            Kind::HttpRoute,
        );
        assert_eq!(
            Kind::find("gateway.networking.k8s.io", "v1", "httproutes"),
            Some(Kind::HttpRoute)
        );
    }

    /// Canary is served as Flagger's own CRD declares it (the fixture holds several CRDs; the
    /// first is canaries.flagger.app).
    #[test]
    fn canaries_are_served_as_flaggers_crd_declares_them() {
        served_as_declared("flagger/crd.yaml", Kind::Canary);
        assert_eq!(
            Kind::find("flagger.app", "v1beta1", "canaries"),
            Some(Kind::Canary)
        );
    }

    fn served_as_declared(fixture: &str, kind: Kind) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures")
            .join(fixture);
        let text = std::fs::read_to_string(&path).expect("the CRD fixture");
        // The first document, up to its schema: the names, scope, versions and subresources
        // (Flagger's long schema descriptions are more YAML than the parser takes).
        let text = text.split("\n---").next().expect("a first document");
        let text = text
            .split("\n      schema:")
            .next()
            .expect("the CRD's head");
        let crd: serde_json::Value = serde_saphyr::from_str(text).expect("CRD parses");
        let spec = &crd["spec"];
        assert_eq!(spec["group"], kind.group());
        assert_eq!(spec["names"]["kind"], kind.kind());
        assert_eq!(spec["names"]["plural"], kind.plural());
        assert_eq!(spec["names"]["singular"], kind.singular());
        assert_eq!(spec["scope"] == "Namespaced", kind.namespaced());
        let storage = spec["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .find(|v| v["storage"] == true)
            .expect("a storage version");
        assert_eq!(storage["name"], kind.version());
        assert_eq!(
            storage["subresources"].get("status").is_some(),
            kind.has_status_subresource()
        );
        assert!(kind.is_custom(), "custom resources refuse strategic merge");
    }
}
