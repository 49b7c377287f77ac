//! The demo's Flagger canaries in namespace `test`, as Flagger leaves them mid-analysis:
//! `podinfo` (healthy, a confirm-promotion gate and a rollback hook on the load tester) and
//! `frontend` (its canary fails the success-rate check until Flagger rolls it back). Each
//! has its target Deployment `NAME`, the `NAME-primary` Flagger made, the Services
//! `NAME`/`NAME-primary`/`NAME-canary` and the HTTPRoute `NAME` that splits them.

use super::profile;
use crate::lab::controller::pod_template_hash;
use crate::lab::flagger::analysis::seconds;
use crate::lab::loadtester::LOAD_TESTER_APP;
use crate::lab::traffic::PROFILE_ANNOTATION;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The namespace of Flagger's tutorials.
pub const FLAGGER_NAMESPACE: &str = "test";
/// The canary approved through its confirm-promotion gate.
pub const PODINFO: &str = "podinfo";
/// The canary whose checks fail.
pub const FRONTEND: &str = "frontend";
/// The load tester's Service, as in Flagger's manifests (`service.yaml`).
pub const LOAD_TESTER_SERVICE: &str = "flagger-loadtester";

/// The namespace, the load tester and both canaries with everything Flagger made for them.
pub fn flagger(now: Timestamp) -> Vec<Value> {
    let ns = FLAGGER_NAMESPACE;
    let mut objects = vec![
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
        }),
        deployment(LOAD_TESTER_SERVICE, LOAD_TESTER_APP, "0.36.0", 1, None),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": LOAD_TESTER_SERVICE, "namespace": ns, "labels": {"app": LOAD_TESTER_APP}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": "10.96.30.10",
                "selector": {"app": LOAD_TESTER_APP},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            },
        }),
    ];
    let gate = |kind: &str, name: &str, path: &str| json!({"name": name, "type": kind, "url": format!("http://{LOAD_TESTER_SERVICE}.{ns}/{path}")});
    let podinfo = Release {
        name: PODINFO,
        stable: "6.0.0",
        canary: "6.0.1",
        canary_profile: profile(0.002, 30.0, 90.0, None),
        analysis: json!({
            "interval": "30s",
            "threshold": 5,
            "maxWeight": 50,
            "stepWeight": 10,
            "metrics": success_and_duration(),
            "webhooks": [
                gate("confirm-promotion", "promotion gate", "gate/check"),
                gate("rollback", "rollback", "rollback/check"),
            ],
        }),
        weight: 30,
        failed_checks: 0,
        ip: 40,
    };
    let frontend = Release {
        name: FRONTEND,
        stable: "2.0.0",
        canary: "2.1.0",
        canary_profile: profile(0.06, 35.0, 110.0, None),
        analysis: json!({
            "interval": "30s",
            "threshold": 3,
            "maxWeight": 30,
            "stepWeight": 5,
            "metrics": success_and_duration(),
            "webhooks": [gate("rollback", "rollback", "rollback/check")],
        }),
        weight: 5,
        failed_checks: 1,
        ip: 50,
    };
    objects.extend(podinfo.objects(now));
    objects.extend(frontend.objects(now));
    objects
}

fn success_and_duration() -> Value {
    json!([
        {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
        {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "30s"},
    ])
}

/// One Flagger canary caught mid-analysis at `weight`.
struct Release {
    name: &'static str,
    stable: &'static str,
    canary: &'static str,
    canary_profile: Value,
    analysis: Value,
    weight: i64,
    failed_checks: i64,
    /// Last octet base of its Services' cluster IPs.
    ip: u8,
}

impl Release {
    fn objects(&self, now: Timestamp) -> Vec<Value> {
        let (name, ns) = (self.name, FLAGGER_NAMESPACE);
        let primary = format!("{name}-primary");
        let canary_service = format!("{name}-canary");
        let stable_profile = profile(0.002, 30.0, 90.0, None);
        let target = deployment(name, name, self.canary, 2, Some(&self.canary_profile));
        let spec_hash = pod_template_hash(&target["spec"]["template"]);
        let service = |service: &str, app: &str, ip: u8| {
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": service, "namespace": ns, "labels": {"app": name}},
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": format!("10.96.30.{ip}"),
                    "selector": {"app": app},
                    "ports": [{"name": "http", "port": 9898, "targetPort": "http", "protocol": "TCP"}],
                },
            })
        };
        vec![
            deployment(&primary, &primary, self.stable, 2, Some(&stable_profile)),
            target,
            service(name, &primary, self.ip),
            service(&primary, &primary, self.ip + 1),
            service(&canary_service, name, self.ip + 2),
            json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {
                    "parentRefs": [{"name": "gateway", "namespace": "istio-ingress"}],
                    "hostnames": [format!("{name}.example.com")],
                    "rules": [{"backendRefs": [
                        {"name": primary, "port": 9898, "weight": 100 - self.weight},
                        {"name": canary_service, "port": 9898, "weight": self.weight},
                    ]}],
                },
            }),
            json!({
                "apiVersion": "flagger.app/v1beta1",
                "kind": "Canary",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "provider": "gatewayapi:v1",
                    "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "progressDeadlineSeconds": 60,
                    "service": {
                        "port": 9898,
                        "targetPort": 9898,
                        "hosts": [format!("{name}.example.com")],
                        "gatewayRefs": [{"name": "gateway", "namespace": "istio-ingress"}],
                    },
                    "analysis": self.analysis,
                },
                "status": {
                    "phase": "Progressing",
                    "canaryWeight": self.weight,
                    "failedChecks": self.failed_checks,
                    "iterations": 0,
                    "lastAppliedSpec": spec_hash,
                    "lastPromotedSpec": format!("{name}-{}", self.stable),
                    "lastTransitionTime": seconds(now),
                    "conditions": [{
                        "type": "Promoted",
                        "status": "Unknown",
                        "reason": "Progressing",
                        "message": "New revision detected, progressing canary analysis.",
                        "lastUpdateTime": seconds(now),
                        "lastTransitionTime": seconds(now),
                    }],
                },
            }),
        ]
    }
}

/// A running Deployment in `test` whose pods carry `app: APP` (and a traffic profile).
fn deployment(
    name: &str,
    app: &str,
    version: &str,
    replicas: i64,
    profile: Option<&Value>,
) -> Value {
    let (repository, port) = match app.trim_end_matches("-primary") {
        PODINFO => ("ghcr.io/stefanprodan/podinfo".to_string(), 9898),
        LOAD_TESTER_APP => ("ghcr.io/fluxcd/flagger-loadtester".to_string(), 8080),
        other => (format!("registry.example/{other}"), 9898),
    };
    let mut template = json!({
        "metadata": {"labels": {"app": app, "app.kubernetes.io/version": version}},
        "spec": {"containers": [{
            "name": app.trim_end_matches("-primary"),
            "image": format!("{repository}:{version}"),
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        }]},
    });
    if let Some(profile) = profile {
        template["metadata"]["annotations"] = json!({PROFILE_ANNOTATION: profile.to_string()});
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": FLAGGER_NAMESPACE, "labels": {"app": app}},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": app}},
            "template": template,
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    })
}
