//! One tokio task per watched context: build the client, run `cluster::watch_rollouts`, and
//! turn what it reports into `Fleet` and `ContextState` events. A context that cannot be
//! reached says why and when it retries; it never holds up the window or the other contexts.
//! A user who may not list rollouts in all namespaces is watched in the context's namespace.
//! Weighted (Gateway API) releases join the same fleet, read every couple of seconds.

use super::EventSink;
use super::trust::Trust;
use crate::cluster::{
    FleetUpdate, LoadedKubeconfig, list_canaries, list_weighted, may_list_all_rollouts,
    watch_rollouts,
};
use crate::model::RolloutView;
use crate::orchestrator::ACCESS_REFRESH;
use crate::ui::events::{AppEvent, ContextState};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;

/// How long to wait before building a client again when the kubeconfig entry itself failed.
const CLIENT_RETRY_SECS: u64 = 30;
/// How often the weighted (Gateway API) releases are read again.
const WEIGHTED_REFRESH: Duration = Duration::from_secs(2);

/// The kubeconfig the watches and commands use, with the generation it was loaded in.
#[derive(Clone)]
pub struct Current {
    pub generation: u64,
    pub kubeconfig: Arc<LoadedKubeconfig>,
}

/// The latest rollouts of each watched context, for the tasks that need a rollout's versions.
pub type FleetViews = Arc<Mutex<HashMap<String, Vec<RolloutView>>>>;

/// The running watches, by context, and what each new one needs.
pub struct Watches {
    runtime: tokio::runtime::Handle,
    sink: EventSink,
    fleet: FleetViews,
    trust: Arc<Trust>,
    tasks: HashMap<String, Watch>,
}

struct Watch {
    namespace: Option<String>,
    generation: u64,
    task: AbortHandle,
}

impl Watches {
    pub fn new(
        runtime: tokio::runtime::Handle,
        sink: EventSink,
        fleet: FleetViews,
        trust: Arc<Trust>,
    ) -> Watches {
        Watches {
            runtime,
            sink,
            fleet,
            trust,
            tasks: HashMap::new(),
        }
    }

    /// Watch exactly `contexts` in `namespace`: keep the watches that already do that with
    /// this kubeconfig, stop the others, start the missing ones.
    pub fn set(&mut self, current: &Current, contexts: &[String], namespace: Option<String>) {
        let fleet = &self.fleet;
        self.tasks.retain(|context, w| {
            let keep = contexts.contains(context)
                && w.namespace == namespace
                && w.generation == current.generation;
            if !keep {
                w.task.abort();
                super::lock(fleet).remove(context);
            }
            keep
        });
        for context in contexts {
            if self.tasks.contains_key(context) {
                continue;
            }
            let task = self.runtime.spawn(watch_context(
                self.sink.clone(),
                self.fleet.clone(),
                self.trust.clone(),
                current.clone(),
                context.clone(),
                namespace.clone(),
            ));
            self.tasks.insert(
                context.clone(),
                Watch {
                    namespace: namespace.clone(),
                    generation: current.generation,
                    task: task.abort_handle(),
                },
            );
        }
    }

    pub fn stop_all(&mut self) {
        for (_, w) in self.tasks.drain() {
            w.task.abort();
        }
    }
}

/// Watch one context until aborted. The watch retries by itself (every few seconds at most
/// while the server does not answer; at once after a 410); this task only reports how it goes.
async fn watch_context(
    sink: EventSink,
    fleet: FleetViews,
    trust: Arc<Trust>,
    current: Current,
    context: String,
    namespace: Option<String>,
) {
    let state = |state| AppEvent::ContextState {
        context: context.clone(),
        state,
    };
    // Whether this context answered since the watch started: only then is an outage
    // "reconnecting"; a server never reached is "unreachable", with what to check.
    let mut ever_connected = false;
    loop {
        sink.emit(state(ContextState::Connecting));
        let client = match current.kubeconfig.client(&context).await {
            Ok(client) => client,
            Err(e) => {
                sink.emit(state(ContextState::Unreachable {
                    reason: e.to_string(),
                    retry_in_secs: CLIENT_RETRY_SECS,
                }));
                tokio::time::sleep(Duration::from_secs(CLIENT_RETRY_SECS)).await;
                continue;
            }
        };
        let default_namespace = namespace
            .clone()
            .unwrap_or_else(|| current.kubeconfig.default_namespace(&context));
        let scope = Scope::ask(&client, namespace.as_deref(), &default_namespace).await;
        let mut updates = std::pin::pin!(watch_rollouts(
            client.clone(),
            context.clone(),
            scope.watched.clone()
        ));
        let mut last_failure: Option<std::time::Instant> = None;
        // When the server stopped answering (unix seconds), for "reconnecting (since …)".
        let mut down_since: Option<f64> = None;
        let mut connected = false;
        let mut last_rollouts: Vec<RolloutView> = Vec::new();
        let mut access_tick = tokio::time::interval(ACCESS_REFRESH);
        access_tick.tick().await;
        // Weighted (Gateway API) releases and Flagger canaries are read beside the watched
        // rollouts, every few seconds: the fleet shows them in the same rows.
        let mut weighted: Vec<RolloutView> = Vec::new();
        let mut polled = Polled::default();
        let mut weighted_tick = tokio::time::interval(WEIGHTED_REFRESH);
        loop {
            let update = tokio::select! {
                update = updates.next() => match update {
                    Some(update) => update,
                    None => break,
                },
                _ = access_tick.tick() => {
                    if scope.narrowed && may_list_all_rollouts(&client).await == Some(true) {
                        // Granted since: watch all namespaces, as asked.
                        break;
                    }
                    trust
                        .ask_access(
                            &sink,
                            &client,
                            &context,
                            &default_namespace,
                            &with_weighted(&last_rollouts, &weighted),
                        )
                        .await;
                    continue;
                }
                _ = weighted_tick.tick() => {
                    polled.refresh(&client, &context, scope.watched.as_deref()).await;
                    let now = polled.all();
                    if now != weighted {
                        weighted = now;
                        if connected {
                            let rollouts = with_weighted(&last_rollouts, &weighted);
                            // Canaries may live in namespaces no rollout does (Flagger's).
                            trust
                                .ask_access(&sink, &client, &context, &default_namespace, &rollouts)
                                .await;
                            super::lock(&fleet).insert(context.clone(), rollouts.clone());
                            sink.emit(AppEvent::Fleet {
                                context: context.clone(),
                                rollouts,
                            });
                        }
                    }
                    continue;
                }
            };
            match update {
                FleetUpdate::Snapshot(rollouts) => {
                    if !connected {
                        connected = true;
                        ever_connected = true;
                        last_failure = None;
                        down_since = None;
                        sink.emit(state(scope.connected()));
                        // A (re)connection may come with other credentials: ask again.
                        trust.forget(&context);
                        trust.ask_identity(&sink, &client, &context).await;
                    }
                    trust
                        .ask_access(
                            &sink,
                            &client,
                            &context,
                            &default_namespace,
                            &with_weighted(&rollouts, &weighted),
                        )
                        .await;
                    last_rollouts.clone_from(&rollouts);
                    let rollouts = with_weighted(&rollouts, &weighted);
                    super::lock(&fleet).insert(context.clone(), rollouts.clone());
                    sink.emit(AppEvent::Fleet {
                        context: context.clone(),
                        rollouts,
                    });
                }
                FleetUpdate::Reconnecting { message, retry_in } if ever_connected => {
                    connected = false;
                    let since_secs = *down_since.get_or_insert_with(crate::ui::theme::now_secs);
                    sink.emit(state(ContextState::Reconnecting {
                        since_secs,
                        reason: message,
                        retry_in_secs: retry_in.as_secs_f64().ceil() as u64,
                    }));
                }
                FleetUpdate::Reconnecting {
                    message: reason, ..
                }
                | FleetUpdate::Error(reason) => {
                    connected = false;
                    let now = std::time::Instant::now();
                    let retry_in_secs = retry_estimate_secs(last_failure.map(|t| now - t));
                    last_failure = Some(now);
                    sink.emit(state(ContextState::Unreachable {
                        reason,
                        retry_in_secs,
                    }));
                    if scope.unknown && may_list_all_rollouts(&client).await == Some(false) {
                        // The server could not say before (it was down, say); now it says
                        // no: watch the context's namespace instead.
                        break;
                    }
                }
            }
        }
        // The watcher's stream does not end on its own; if it ever does, or the scope the user
        // may watch changed, start over.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The releases read by polling, as last read of each kind: weighted (Gateway API) ones and
/// Flagger canaries. A kind that fails to read keeps what it had, so a user who may not list
/// canaries still sees their weighted releases move (and the reverse).
#[derive(Default)]
struct Polled {
    weighted: Vec<RolloutView>,
    canaries: Vec<RolloutView>,
}

impl Polled {
    async fn refresh(&mut self, client: &kube::Client, context: &str, namespace: Option<&str>) {
        let (weighted, canaries) = tokio::join!(
            list_weighted(client, context, namespace),
            list_canaries(client, context, namespace),
        );
        if let Ok(weighted) = weighted {
            self.weighted = weighted;
        }
        if let Ok(canaries) = canaries {
            self.canaries = canaries;
        }
    }

    fn all(&self) -> Vec<RolloutView> {
        self.weighted
            .iter()
            .chain(&self.canaries)
            .cloned()
            .collect()
    }
}

/// The watched rollouts and the weighted releases, in one list sorted by reference.
fn with_weighted(rollouts: &[RolloutView], weighted: &[RolloutView]) -> Vec<RolloutView> {
    let mut all: Vec<RolloutView> = rollouts.iter().chain(weighted).cloned().collect();
    all.sort_by(|a, b| a.reference.cmp(&b.reference));
    all
}

/// Which namespaces one watch covers: what the user asked for, or, when they asked for all
/// and the cluster says they may not list rollouts across them, the context's namespace.
struct Scope {
    /// What `watch_rollouts` gets: `None` for all namespaces.
    watched: Option<String>,
    /// All namespaces were asked for and refused: only the context's namespace is watched.
    narrowed: bool,
    /// All namespaces were asked for and the cluster could not say whether that is allowed.
    unknown: bool,
}

impl Scope {
    async fn ask(client: &kube::Client, asked: Option<&str>, default_namespace: &str) -> Scope {
        if let Some(ns) = asked {
            return Scope {
                watched: Some(ns.to_string()),
                narrowed: false,
                unknown: false,
            };
        }
        let answer = may_list_all_rollouts(client).await;
        Scope {
            watched: (answer == Some(false)).then(|| default_namespace.to_string()),
            narrowed: answer == Some(false),
            unknown: answer.is_none(),
        }
    }

    fn connected(&self) -> ContextState {
        match (&self.watched, self.narrowed) {
            (Some(namespace), true) => ContextState::ConnectedIn {
                namespace: namespace.clone(),
            },
            _ => ContextState::Connected,
        }
    }
}

/// When the watch will try again after a failure that is not the server being down: as long
/// as it waited between the last two failures, rounded up; one second after the first.
pub fn retry_estimate_secs(since_previous_failure: Option<Duration>) -> u64 {
    since_previous_failure.map_or(1, |d| d.as_secs_f64().ceil().max(1.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_estimate_is_the_last_observed_wait() {
        assert_eq!(retry_estimate_secs(None), 1);
        assert_eq!(retry_estimate_secs(Some(Duration::from_millis(200))), 1);
        assert_eq!(retry_estimate_secs(Some(Duration::from_millis(1300))), 2);
        assert_eq!(retry_estimate_secs(Some(Duration::from_secs(30))), 30);
    }
}
