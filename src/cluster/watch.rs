//! Live rollouts: kube-rs's watcher + reflector with the default backoff, turned into a
//! stream of fleet snapshots. Survives the API server restarting (it re-lists and goes on).

use super::error::{Attempt, ClusterError};
use crate::model::{Rollout, RolloutRef, RolloutView};
use futures::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::HashMap;

/// Seconds after which the API server ends each watch request (the watcher then resumes it).
/// Below the client's read timeout, so that a quiet watch never looks like a dead server.
pub const WATCH_TIMEOUT_SECS: u32 = 20;

/// What a fleet watch reports.
#[derive(Clone, Debug, PartialEq)]
pub enum FleetUpdate {
    /// Every rollout in scope, sorted by namespace and name, after a change.
    Snapshot(Vec<RolloutView>),
    /// The watch failed; it retries with backoff and sends a snapshot once it recovers.
    Error(String),
}

/// Watches every rollout in `namespace` (all namespaces with `None`) of `context`.
pub fn watch_rollouts(
    client: kube::Client,
    context: String,
    namespace: Option<String>,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    let api: Api<Rollout> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    fleet_stream(api, watcher::Config::default(), context, namespace, None)
}

/// Watches one rollout (a field selector on its name); snapshots hold it, or nothing once
/// it is deleted.
pub fn watch_rollout(
    client: kube::Client,
    target: RolloutRef,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    let api: Api<Rollout> = Api::namespaced(client, &target.namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", target.name));
    fleet_stream(
        api,
        config,
        target.context,
        Some(target.namespace),
        Some(target.name),
    )
}

fn fleet_stream(
    api: Api<Rollout>,
    config: watcher::Config,
    context: String,
    namespace: Option<String>,
    name: Option<String>,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    let (reader, writer) = reflector::store();
    let mut views = ViewCache::default();
    watcher(api, config.timeout(WATCH_TIMEOUT_SECS))
        .default_backoff()
        .reflect(writer)
        .filter_map(move |event| {
            let update = match event {
                // Wait for the whole initial list before the first snapshot.
                Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => None,
                Ok(_) => Some(FleetUpdate::Snapshot(views.snapshot(&reader, &context))),
                Err(err) => Some(FleetUpdate::Error(
                    describe(err, &context, namespace.as_deref(), name.as_deref()).to_string(),
                )),
            };
            futures::future::ready(update)
        })
}

/// Views keyed by object, recomputed only when the resourceVersion changes.
#[derive(Default)]
struct ViewCache {
    views: HashMap<(String, String), (Option<String>, RolloutView)>,
}

impl ViewCache {
    fn snapshot(&mut self, store: &Store<Rollout>, context: &str) -> Vec<RolloutView> {
        let mut out = Vec::new();
        let mut seen = HashMap::new();
        for ro in store.state() {
            let key = (
                ro.metadata.namespace.clone().unwrap_or_default(),
                ro.metadata.name.clone().unwrap_or_default(),
            );
            let version = ro.metadata.resource_version.clone();
            let view = match self.views.get(&key) {
                Some((v, view)) if *v == version && version.is_some() => view.clone(),
                _ => RolloutView::from_rollout(context, &ro),
            };
            seen.insert(key, (version, view.clone()));
            out.push(view);
        }
        self.views = seen;
        out.sort_by(|a, b| a.reference.cmp(&b.reference));
        out
    }
}

fn describe(
    err: watcher::Error,
    context: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> ClusterError {
    let attempt = Attempt {
        context,
        namespace,
        name,
        action: "watch rollouts",
    };
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => attempt.error(e),
        watcher::Error::WatchError(status) => attempt.error(kube::Error::Api(status)),
        watcher::Error::NoResourceVersion => ClusterError::Unexpected {
            context: context.into(),
            action: "watch rollouts".into(),
            message: "the list had no resourceVersion; the server does not support watch".into(),
        },
    }
}
