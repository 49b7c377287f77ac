//! The controller loop: every 100 ms, reconciles each rollout with the simulated Argo
//! controller (writing `status` and new ReplicaSets only when something changed), each
//! Deployment with the Deployment controller, and advances the traffic simulation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::controller;
use super::kind::Kind;
use super::loadtester::LoadTester;
use super::store::{Part, Store, StoreError, UpdateError};
use super::traffic::Traffic;

const TICK: Duration = Duration::from_millis(100);
/// Makes Event names unique when several are recorded in the same nanosecond.
static EVENT_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The running loop; [`ControllerLoop::stop`] ends it.
pub struct ControllerLoop {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ControllerLoop {
    pub fn start(
        store: Arc<Store>,
        traffic: Arc<Mutex<Traffic>>,
        load_tester: LoadTester,
        speed: f64,
    ) -> Self {
        // One pass before anyone can read: seeded rollouts carry their previous revision's
        // status next to a new template, and a client listing right after `start` must see
        // them as the controller leaves them (payments awaiting promotion), not half-seeded.
        tick(&store, &traffic, &load_tester, speed);
        let (stop, mut stopping) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => tick(&store, &traffic, &load_tester, speed),
                    _ = stopping.wait_for(|stop| *stop) => break,
                }
            }
        });
        ControllerLoop { stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// One pass: reconcile every rollout (and scale its old ReplicaSets), then let traffic flow
/// for the time since the last one.
pub fn tick(store: &Store, traffic: &Mutex<Traffic>, load_tester: &LoadTester, speed: f64) {
    let now = jiff::Timestamp::now();
    let (rollouts, read_rollouts) = store.list(Kind::Rollout, None);
    let (replica_sets, read_replica_sets) = store.list(Kind::ReplicaSet, None);
    for rollout in &rollouts {
        let owned = controller::owned_replica_sets(rollout, &replica_sets);
        let mut current = None;
        if let Some(reconciled) = controller::reconcile_with(rollout, &owned, now, speed) {
            current = apply(store, rollout, reconciled, now);
        }
        let current = current.as_ref().unwrap_or(rollout);
        let namespace = current["metadata"]["namespace"].as_str().unwrap_or("");
        let scaled: Vec<_> = controller::scale_old_replica_sets(current, &owned, now, speed)
            .into_iter()
            .filter_map(|old| write_replica_set(store, namespace, old))
            .collect();
        for event in &scaled {
            record_event(store, current, event, now, ROLLOUTS_CONTROLLER);
        }
    }
    super::flagger::tick(store, load_tester, now, speed);
    super::deployments::tick(store, now, speed);
    for recorded in super::analysis_runs::tick(store, traffic, now, speed) {
        record_event(
            store,
            &recorded.object,
            &recorded.event,
            now,
            ROLLOUTS_CONTROLLER,
        );
    }
    // Read again only when something was written (deep copies are most of an idle tick).
    let unchanged = read_rollouts == read_replica_sets && store.resource_version() == read_rollouts;
    let (rollouts, replica_sets) = if unchanged {
        (rollouts, replica_sets)
    } else {
        (
            store.list(Kind::Rollout, None).0,
            store.list(Kind::ReplicaSet, None).0,
        )
    };
    let (routes, _) = store.list(Kind::HttpRoute, None);
    let (services, _) = store.list(Kind::Service, None);
    if let Ok(mut traffic) = traffic.lock() {
        traffic.tick_with_routes(&rollouts, &replica_sets, &routes, &services, now, speed);
    }
}

/// Writes what the controller decided for `rollout`, as a status write based on the version
/// it read: if a client changed the rollout meanwhile, the write is dropped and the next
/// tick reconciles the new state (as Argo's controller does on a conflict). Returns the
/// rollout as written, when it was.
fn apply(
    store: &Store,
    rollout: &Value,
    reconciled: controller::Reconciled,
    now: jiff::Timestamp,
) -> Option<Value> {
    let meta = &rollout["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or("");
    let name = meta["name"].as_str().unwrap_or("");
    let read_version = meta["resourceVersion"].clone();
    let scaled: Vec<_> = reconciled
        .replica_sets
        .into_iter()
        .filter_map(|replica_set| write_replica_set(store, namespace, replica_set))
        .collect();
    let status = reconciled.status;
    let written = store.update(Kind::Rollout, namespace, name, Part::Status, |current| {
        let mut next = current.clone();
        next["metadata"]["resourceVersion"] = read_version;
        next["status"] = status;
        Ok::<_, std::convert::Infallible>(next)
    });
    let mut written = match written {
        Ok(written) => written,
        Err(UpdateError::Store(StoreError::Conflict { .. } | StoreError::NotFound { .. })) => {
            return None;
        }
        Err(e) => {
            tracing::warn!(
                "lab controller could not write the status of rollout {namespace}/{name}: {e}"
            );
            return None;
        }
    };
    if let Some(annotations) = reconciled.metadata_annotations {
        // The revision annotation, on the version just written (a metadata change: the
        // generation stays).
        let read_version = written["metadata"]["resourceVersion"].clone();
        let updated = store.update(Kind::Rollout, namespace, name, Part::Main, |current| {
            let mut next = current.clone();
            next["metadata"]["resourceVersion"] = read_version;
            if !next["metadata"]["annotations"].is_object() {
                next["metadata"]["annotations"] = Value::Object(Default::default());
            }
            for (k, v) in annotations {
                next["metadata"]["annotations"][k] = v;
            }
            Ok::<_, std::convert::Infallible>(next)
        });
        if let Ok(updated) = updated {
            written = updated;
        }
    }
    for event in reconciled.events.iter().chain(&scaled) {
        record_event(store, &written, event, now, ROLLOUTS_CONTROLLER);
    }
    Some(written)
}

/// The component Argo's controller records its Events as.
const ROLLOUTS_CONTROLLER: &str = "rollouts-controller";

/// Records `event` as a core/v1 Event on `rollout` (or on another object: an AnalysisRun of
/// Argo's, a Deployment of the Deployment controller's), as `component` does.
pub(super) fn record_event(
    store: &Store,
    rollout: &Value,
    event: &controller::RolloutEvent,
    now: jiff::Timestamp,
    component: &str,
) {
    let meta = &rollout["metadata"];
    let name = meta["name"].as_str().unwrap_or("rollout");
    let namespace = meta["namespace"].as_str().unwrap_or("");
    let at = jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string();
    let object = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            // As kube's recorder names them: the object and a unique hex number.
            "name": format!("{name}.{:x}", now.as_nanosecond() + i128::from(EVENT_SEQUENCE.fetch_add(1, Ordering::Relaxed))),
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": rollout["apiVersion"].as_str().unwrap_or("argoproj.io/v1alpha1"),
            "kind": rollout["kind"].as_str().unwrap_or("Rollout"),
            "name": name,
            "namespace": namespace,
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
        },
        "reason": event.reason,
        "message": event.message,
        "type": event.type_,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
        "eventTime": null,
    });
    if let Err(e) = store.create(Kind::Event, object) {
        tracing::warn!(
            "lab controller could not record event {} on {namespace}/{name}: {e}",
            event.reason
        );
    }
}

/// Creates the ReplicaSet, or brings its labels, spec and status up to date. Returns Argo's
/// `ScalingReplicaSet` event when its replica count changed.
fn write_replica_set(
    store: &Store,
    namespace: &str,
    mut replica_set: Value,
) -> Option<controller::RolloutEvent> {
    if replica_set["metadata"]["namespace"].is_null() {
        replica_set["metadata"]["namespace"] = Value::from(namespace);
    }
    let name = replica_set["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let rs_namespace = replica_set["metadata"]["namespace"]
        .as_str()
        .unwrap_or(namespace)
        .to_string();
    let replicas = |rs: &Value| rs["spec"]["replicas"].as_i64().unwrap_or(0);
    let to = replicas(&replica_set);
    let Some(existing) = store.get(Kind::ReplicaSet, &rs_namespace, &name) else {
        if let Err(e) = store.create(Kind::ReplicaSet, replica_set.clone()) {
            tracing::warn!("lab controller could not create ReplicaSet {rs_namespace}/{name}: {e}");
            return None;
        }
        return scaling_event(&replica_set, 0, to);
    };
    for part in [Part::Main, Part::Status] {
        let desired = replica_set.clone();
        let written = store.update(Kind::ReplicaSet, &rs_namespace, &name, part, |current| {
            let mut next = current.clone();
            for field in ["spec", "status"] {
                if let Some(v) = desired.get(field) {
                    next[field] = v.clone();
                }
            }
            for field in ["labels", "annotations", "ownerReferences"] {
                if let Some(v) = desired["metadata"].get(field) {
                    next["metadata"][field] = v.clone();
                }
            }
            Ok::<_, std::convert::Infallible>(next)
        });
        if let Err(e) = written {
            tracing::warn!("lab controller could not update ReplicaSet {rs_namespace}/{name}: {e}");
            return None;
        }
    }
    scaling_event(&replica_set, replicas(&existing), to)
}

/// Argo's `Scaled up|down ReplicaSet NAME (revision N) from A to B`.
fn scaling_event(replica_set: &Value, from: i64, to: i64) -> Option<controller::RolloutEvent> {
    if from == to {
        return None;
    }
    let meta = &replica_set["metadata"];
    Some(controller::RolloutEvent {
        type_: "Normal",
        reason: "ScalingReplicaSet",
        message: format!(
            "Scaled {} ReplicaSet {} (revision {}) from {from} to {to}",
            if to > from { "up" } else { "down" },
            meta["name"].as_str().unwrap_or(""),
            meta["annotations"][controller::REVISION_ANNOTATION]
                .as_str()
                .unwrap_or("0"),
        ),
    })
}
