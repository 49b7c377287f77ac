//! The lab's simulated Flagger: each pass reads every `flagger.app` Canary with its target
//! Deployment, asks its webhooks (the load tester's gates, through the same in-memory gate
//! storage the service proxy serves), and writes what [`analysis::decide`] says: the
//! Canary's status, its Events, the target's scale, the primary's template and the weights
//! of the HTTPRoute `NAME` that splits `NAME-primary` / `NAME-canary` (Flagger's Gateway API
//! provider, whatever `spec.provider` says), so traffic per version follows `canaryWeight`.
//! A new Canary is initialized as Flagger does: primary, Services and route created.

pub mod analysis;

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::kind::Kind;
use super::loadtester::{LOAD_TESTER_APP, LoadTester};
use super::store::{Part, Store};
use analysis::{Decision, Seen};

/// Makes Event names unique when several are recorded in the same nanosecond.
static EVENT_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// One pass over every Canary.
pub fn tick(store: &Store, load_tester: &LoadTester, now: Timestamp, speed: f64) {
    let (canaries, _) = store.list(Kind::Canary, None);
    for canary in &canaries {
        let meta = &canary["metadata"];
        let namespace = meta["namespace"].as_str().unwrap_or("");
        let name = meta["name"].as_str().unwrap_or("");
        let target_name = canary["spec"]["targetRef"]["name"].as_str().unwrap_or(name);
        let Some(target) = store.get(Kind::Deployment, namespace, target_name) else {
            continue;
        };
        let hooks = |kind: &str| call_hooks(store, load_tester, canary, kind);
        let seen = Seen {
            canary,
            target: &target,
        };
        let decision = analysis::decide(&seen, &hooks, now, speed);
        apply(store, canary, &target, decision, now);
    }
}

/// Calls the Canary's webhooks of `kind` as Flagger does (POST of its payload); only the
/// lab's load tester answers, any other URL fails as an unreachable host would.
fn call_hooks(
    store: &Store,
    load_tester: &LoadTester,
    canary: &Value,
    kind: &str,
) -> Result<(), String> {
    let meta = &canary["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or("");
    let payload = json!({
        "name": meta["name"],
        "namespace": namespace,
        "phase": canary["status"]["phase"],
        "metadata": {"type": kind},
    })
    .to_string();
    let hooks = canary["spec"]["analysis"]["webhooks"].as_array();
    for hook in hooks.into_iter().flatten().filter(|h| h["type"] == kind) {
        let hook_name = hook["name"].as_str().unwrap_or(kind).to_string();
        let url = hook["url"].as_str().unwrap_or("");
        let Some((service, hook_namespace, path)) = service_url(url, namespace) else {
            return Err(hook_name);
        };
        let reachable = store
            .get(Kind::Service, &hook_namespace, &service)
            .is_some_and(|s| s["spec"]["selector"]["app"] == LOAD_TESTER_APP);
        if !reachable || !(200..300).contains(&load_tester.serve(&path, payload.as_bytes()).status)
        {
            return Err(hook_name);
        }
    }
    Ok(())
}

/// `http://SERVICE[.NAMESPACE[.svc…]][:PORT]/PATH` → (service, namespace, path).
pub fn service_url(url: &str, default_namespace: &str) -> Option<(String, String, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = host.split(':').next()?;
    let mut labels = host.split('.');
    let service = labels.next().filter(|s| !s.is_empty())?;
    let namespace = labels.next().unwrap_or(default_namespace);
    Some((service.to_string(), namespace.to_string(), path.to_string()))
}

fn apply(store: &Store, canary: &Value, target: &Value, decision: Decision, now: Timestamp) {
    let meta = &canary["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or("");
    let name = meta["name"].as_str().unwrap_or("");
    let target_name = target["metadata"]["name"].as_str().unwrap_or(name);
    if decision.status != canary["status"] {
        let read_version = meta["resourceVersion"].clone();
        let status = decision.status.clone();
        // Based on the version read: a client's change meanwhile wins, the next pass decides
        // again (as Flagger's controller does on a conflict).
        let written = store.update(Kind::Canary, namespace, name, Part::Status, |current| {
            let mut next = current.clone();
            next["metadata"]["resourceVersion"] = read_version;
            next["status"] = status;
            Ok::<_, std::convert::Infallible>(next)
        });
        if written.is_err() {
            return;
        }
    }
    if decision.initialize {
        initialize(store, canary, target);
    }
    if let Some(replicas) = decision.scale_target {
        patch_main(store, Kind::Deployment, namespace, target_name, |d| {
            d["spec"]["replicas"] = json!(replicas);
        });
    }
    if decision.promote {
        let primary = format!("{target_name}-primary");
        let mut template = target["spec"]["template"].clone();
        template["metadata"]["labels"]["app"] = json!(primary);
        patch_main(store, Kind::Deployment, namespace, &primary, |d| {
            d["spec"]["template"] = template;
        });
    }
    if let Some(weight) = decision.weight {
        patch_main(store, Kind::HttpRoute, namespace, name, |route| {
            let refs = route["spec"]["rules"][0]["backendRefs"].as_array_mut();
            for backend in refs.into_iter().flatten() {
                let canary_side = backend["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("-canary"));
                backend["weight"] = json!(if canary_side { weight } else { 100 - weight });
            }
        });
    }
    for (warning, message) in decision.events {
        record_event(store, canary, warning, &message, now);
    }
}

/// What Flagger creates for a new canary, unless already there: `NAME-primary` (the
/// target's copy, its pods labelled `app: NAME-primary`), the Services `NAME` and
/// `NAME-primary` (the primary) and `NAME-canary` (the target), and the HTTPRoute `NAME`
/// with all traffic on the primary (Flagger's Gateway API provider).
fn initialize(store: &Store, canary: &Value, target: &Value) {
    let namespace = canary["metadata"]["namespace"].as_str().unwrap_or("");
    let name = canary["metadata"]["name"].as_str().unwrap_or("");
    let target_name = target["metadata"]["name"].as_str().unwrap_or(name);
    let target_app = target["spec"]["template"]["metadata"]["labels"]["app"]
        .as_str()
        .unwrap_or(target_name)
        .to_string();
    let primary = format!("{target_name}-primary");
    let port = canary["spec"]["service"]["port"].as_i64().unwrap_or(80);
    let mut deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": primary, "namespace": namespace, "labels": {"app": primary}},
        "spec": target["spec"].clone(),
    });
    deployment["spec"]["selector"] = json!({"matchLabels": {"app": primary}});
    deployment["spec"]["template"]["metadata"]["labels"]["app"] = json!(primary);
    let service = |service: &str, app: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": app},
                "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
            },
        })
    };
    let canary_service = format!("{name}-canary");
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "parentRefs": canary["spec"]["service"]["gatewayRefs"].clone(),
            "hostnames": canary["spec"]["service"]["hosts"].clone(),
            "rules": [{"backendRefs": [
                {"name": primary, "port": port, "weight": 100},
                {"name": canary_service, "port": port, "weight": 0},
            ]}],
        },
    });
    let made = [
        (Kind::Deployment, deployment),
        (Kind::Service, service(name, &primary)),
        (Kind::Service, service(&primary, &primary)),
        (Kind::Service, service(&canary_service, &target_app)),
        (Kind::HttpRoute, route),
    ];
    for (kind, object) in made {
        let object_name = object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if store.get(kind, namespace, &object_name).is_some() {
            continue;
        }
        if let Err(e) = store.create(kind, object) {
            tracing::warn!(
                "lab Flagger could not create {} {namespace}/{object_name}: {e}",
                kind.kind()
            );
        }
    }
}

fn patch_main(
    store: &Store,
    kind: Kind,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut Value),
) {
    let result = store.update(kind, namespace, name, Part::Main, |current| {
        let mut next = current.clone();
        change(&mut next);
        Ok::<_, std::convert::Infallible>(next)
    });
    if let Err(e) = result {
        tracing::warn!(
            "lab Flagger could not update {} {namespace}/{name}: {e}",
            kind.kind()
        );
    }
}

/// Records a core/v1 Event on the Canary as Flagger's recorder does (reason `Synced`).
fn record_event(store: &Store, canary: &Value, warning: bool, message: &str, now: Timestamp) {
    let meta = &canary["metadata"];
    let name = meta["name"].as_str().unwrap_or("canary");
    let namespace = meta["namespace"].as_str().unwrap_or("");
    let at = analysis::seconds(now);
    let sequence = EVENT_SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let object = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{name}.{:x}", now.as_nanosecond() + i128::from(sequence)),
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "name": name,
            "namespace": namespace,
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
        },
        "reason": "Synced",
        "message": message,
        "type": if warning { "Warning" } else { "Normal" },
        "source": {"component": "flagger"},
        "reportingComponent": "flagger",
        "reportingInstance": "",
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
        "eventTime": null,
    });
    if let Err(e) = store.create(Kind::Event, object) {
        tracing::warn!("lab Flagger could not record an Event on canary {namespace}/{name}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's canaries run by this controller alone, an interval per pass: podinfo steps
    /// to its max weight and waits at its promotion gate; opened, it is promoted; frontend
    /// fails its checks and is rolled back. Each step is in the store, Events included.
    #[test]
    fn the_demo_canaries_run_to_their_ends_through_the_store() {
        let store = crate::lab::seeded_store("demo").expect("demo seeds");
        let tester = LoadTester::default();
        let mut now = Timestamp::now();
        let mut phases = Vec::new();
        let phase = |name: &str| {
            let canary = store.get(Kind::Canary, "test", name).expect("seeded");
            canary["status"]["phase"].as_str().unwrap_or("").to_string()
        };
        for _ in 0..6 {
            now += jiff::SignedDuration::from_secs(31);
            tick(&store, &tester, now, 1.0);
            phases.push(phase("podinfo"));
        }
        assert_eq!(
            phases.last().map(String::as_str),
            Some("WaitingPromotion"),
            "{phases:?}"
        );
        let route = store
            .get(Kind::HttpRoute, "test", "podinfo")
            .expect("route");
        assert_eq!(route["spec"]["rules"][0]["backendRefs"][1]["weight"], 50);
        assert_eq!(phase("frontend"), "Failed");
        let frontend = store.get(Kind::Canary, "test", "frontend").expect("seeded");
        assert_eq!(frontend["status"]["failedChecks"], 3);

        tester.serve("/gate/open", br#"{"name":"podinfo","namespace":"test"}"#);
        for _ in 0..3 {
            now += jiff::SignedDuration::from_secs(31);
            tick(&store, &tester, now, 1.0);
            phases.push(phase("podinfo"));
        }
        assert_eq!(
            &phases[phases.len() - 3..],
            ["Promoting", "Finalising", "Succeeded"]
        );
        let primary = store
            .get(Kind::Deployment, "test", "podinfo-primary")
            .expect("primary");
        assert_eq!(
            primary["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"],
            "6.0.1"
        );
        assert_eq!(
            primary["spec"]["template"]["metadata"]["labels"]["app"],
            "podinfo-primary"
        );
        let target = store
            .get(Kind::Deployment, "test", "podinfo")
            .expect("target");
        assert_eq!(target["spec"]["replicas"], 0);
        let (events, _) = store.list(Kind::Event, Some("test"));
        let said = |text: &str| events.iter().any(|e| e["message"] == text);
        assert!(said("Promotion completed! Scaling down podinfo.test"));
        assert!(said(
            "Rolling back frontend.test failed checks threshold reached 3"
        ));
    }

    #[test]
    fn webhook_urls_name_a_service_its_namespace_and_a_path() {
        assert_eq!(
            service_url("http://flagger-loadtester.test/gate/check", "demo"),
            Some((
                "flagger-loadtester".into(),
                "test".into(),
                "/gate/check".into()
            ))
        );
        assert_eq!(
            service_url("http://flagger-loadtester:80/rollback/check", "test"),
            Some((
                "flagger-loadtester".into(),
                "test".into(),
                "/rollback/check".into()
            ))
        );
        assert_eq!(service_url("ftp://x/", "test"), None);
    }
}
