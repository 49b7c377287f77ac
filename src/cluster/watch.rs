//! Live rollouts: kube-rs's watcher + reflector turned into a stream of fleet snapshots that
//! recovers from an API server restart in seconds: a 410 Expired relists at once, and while
//! the server does not answer, retries wait 0.5 s doubling to at most 3 s (with jitter).
//! [`resilient_watcher`] is that policy for any kind (the activity's Events watch it too).

use super::error::{Attempt, ClusterError};
use crate::model::{Rollout, RolloutRef, RolloutView};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Seconds after which the API server ends each watch request (the watcher then resumes it).
/// Below the client's read timeout, so that a quiet watch never looks like a dead server.
pub const WATCH_TIMEOUT_SECS: u32 = 20;

/// The wait before the first retry after a failure; each further failure doubles it.
pub const RETRY_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two retries: a server that answers again is seen within it.
pub const RETRY_MAX: Duration = Duration::from_secs(3);

/// What a fleet watch reports.
#[derive(Clone, Debug, PartialEq)]
pub enum FleetUpdate {
    /// Every rollout in scope, sorted by namespace and name, after a change.
    Snapshot(Vec<RolloutView>),
    /// The API server does not answer (connection refused or dropped, 5xx): the watch tries
    /// again in `retry_in` by itself and sends a snapshot once the server is back.
    Reconnecting { message: String, retry_in: Duration },
    /// The watch failed otherwise (refused, forbidden…); it retries with backoff and sends a
    /// snapshot once it recovers.
    Error(String),
}

/// How a watch waits between retries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetryPolicy {
    /// [`RETRY_FIRST`] doubling to [`RETRY_MAX`], with jitter; a 410 Expired relists at once.
    #[default]
    Short,
    /// kube-rs's `default_backoff()` (0.8 s doubling to 30 s, reset after 120 s quiet) and
    /// its own 410 handling: what the cockpit did before; kept to measure against.
    KubeDefault,
}

/// Watches every rollout in `namespace` (all namespaces with `None`) of `context`.
pub fn watch_rollouts(
    client: kube::Client,
    context: String,
    namespace: Option<String>,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    watch_rollouts_with(client, context, namespace, RetryPolicy::Short)
}

/// [`watch_rollouts`] with a chosen retry policy (for measuring one against the other).
pub fn watch_rollouts_with(
    client: kube::Client,
    context: String,
    namespace: Option<String>,
    policy: RetryPolicy,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    let api: Api<Rollout> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    fleet_stream(
        api,
        watcher::Config::default(),
        policy,
        context,
        namespace,
        None,
    )
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
        RetryPolicy::Short,
        target.context,
        Some(target.namespace),
        Some(target.name),
    )
}

/// A watcher event, or a failure with the wait before the next try.
pub type WatchItem<K> = Result<watcher::Event<K>, (watcher::Error, Duration)>;
type Item = WatchItem<Rollout>;

fn fleet_stream(
    api: Api<Rollout>,
    config: watcher::Config,
    policy: RetryPolicy,
    context: String,
    namespace: Option<String>,
    name: Option<String>,
) -> impl Stream<Item = FleetUpdate> + Send + 'static {
    let (reader, mut writer) = reflector::store();
    let mut views = ViewCache::default();
    let config = config.timeout(WATCH_TIMEOUT_SECS);
    let events: BoxStream<'static, Item> = match policy {
        RetryPolicy::Short => resilient_watcher(api, config).boxed(),
        RetryPolicy::KubeDefault => {
            let mut last_failure: Option<Instant> = None;
            watcher(api, config)
                .default_backoff()
                .map(move |item| {
                    item.map_err(|e| {
                        // kube does not say how long it waits: report the last observed wait.
                        let now = Instant::now();
                        let wait = last_failure.map_or(Duration::from_millis(800), |t| now - t);
                        last_failure = Some(now);
                        (e, wait)
                    })
                })
                .boxed()
        }
    };
    events.filter_map(move |item| {
        let update = match item {
            Ok(event) => {
                writer.apply_watcher_event(&event);
                match event {
                    // Wait for the whole initial list before the first snapshot.
                    watcher::Event::Init | watcher::Event::InitApply(_) => None,
                    _ => Some(FleetUpdate::Snapshot(views.snapshot(&reader, &context))),
                }
            }
            Err((err, retry_in)) => {
                let unreachable = is_unreachable(&err);
                let attempt = Attempt {
                    context: &context,
                    namespace: namespace.as_deref(),
                    name: name.as_deref(),
                    action: "watch rollouts",
                };
                let message = describe_watch_error(err, attempt);
                Some(if unreachable {
                    FleetUpdate::Reconnecting {
                        message: message.to_string(),
                        retry_in,
                    }
                } else {
                    FleetUpdate::Error(message.to_string())
                })
            }
        };
        futures::future::ready(update)
    })
}

/// kube's watcher with our retry policy: a 410 Expired (the server lost the watch cache, as
/// after a restart) starts a fresh watcher, which lists again at once and reports nothing
/// (kube's own would wait a backoff first, and a 410 answered as HTTP status when starting
/// the watch would make it retry the same stale resourceVersion for ever); any other
/// failure is reported with the wait before the next try.
pub fn resilient_watcher<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = WatchItem<K>> + Send + 'static
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    struct State<K> {
        api: Api<K>,
        config: watcher::Config,
        inner: BoxStream<'static, watcher::Result<watcher::Event<K>>>,
        backoff: ShortBackoff,
        wait: Option<Duration>,
        last_relist: Option<Instant>,
    }
    let inner = watcher(api.clone(), config.clone()).boxed();
    let state = State {
        api,
        config,
        inner,
        backoff: ShortBackoff::default(),
        wait: None,
        last_relist: None,
    };
    futures::stream::unfold(state, |mut st| async move {
        if let Some(wait) = st.wait.take() {
            tokio::time::sleep(wait).await;
        }
        loop {
            // kube's watcher never ends by itself; if it did, so does this stream.
            match st.inner.next().await? {
                Ok(event) => {
                    st.backoff.reset();
                    return Some((Ok(event), st));
                }
                Err(err) if is_expired(&err) => {
                    tracing::debug!("watch expired (410), listing again: {err}");
                    // A server that answers 410 to every fresh list+watch must not make this
                    // spin: relist at once only if the last relist was a while ago.
                    if st.last_relist.is_some_and(|t| t.elapsed() < RETRY_MAX) {
                        tokio::time::sleep(st.backoff.next_wait()).await;
                    }
                    st.last_relist = Some(Instant::now());
                    st.inner = watcher(st.api.clone(), st.config.clone()).boxed();
                }
                Err(err) => {
                    let wait = st.backoff.next_wait();
                    st.wait = Some(wait);
                    return Some((Err((err, wait)), st));
                }
            }
        }
    })
}

/// [`RETRY_FIRST`] doubling to [`RETRY_MAX`], each wait shortened by up to a fifth at random
/// so that many clients of one restarted server do not come back in lockstep.
#[derive(Debug)]
pub struct ShortBackoff {
    next: Duration,
}

impl Default for ShortBackoff {
    fn default() -> Self {
        ShortBackoff { next: RETRY_FIRST }
    }
}

impl ShortBackoff {
    /// The wait before the next try; never longer than [`RETRY_MAX`].
    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(RETRY_MAX);
        base.mul_f64(1.0 - 0.2 * rand::random::<f64>())
    }

    /// After a success: the next failure waits [`RETRY_FIRST`] again.
    pub fn reset(&mut self) {
        self.next = RETRY_FIRST;
    }
}

/// The server lost the resourceVersion the watch resumes from: list again.
fn is_expired(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    }
}

/// The server does not answer (down, restarting, overloaded) rather than refusing.
pub fn is_unreachable(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => match e {
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
                true
            }
            kube::Error::Api(status) => matches!(status.code, 500 | 502 | 503 | 504),
            _ => false,
        },
        watcher::Error::WatchError(status) => matches!(status.code, 500 | 502 | 503 | 504),
        watcher::Error::NoResourceVersion => false,
    }
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

/// A watch failure as a person reads it: what was watched, where, and what to do.
pub fn describe_watch_error(err: watcher::Error, attempt: Attempt<'_>) -> ClusterError {
    let (context, action) = (attempt.context, attempt.action);
    match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => attempt.error(e),
        watcher::Error::WatchError(status) => attempt.error(kube::Error::Api(status)),
        watcher::Error::NoResourceVersion => ClusterError::Unexpected {
            context: context.into(),
            action: action.into(),
            message: "the list had no resourceVersion; the server does not support watch".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_backoff_doubles_to_three_seconds_and_resets() {
        let mut b = ShortBackoff::default();
        let waits: Vec<Duration> = (0..8).map(|_| b.next_wait()).collect();
        for (wait, base) in waits.iter().zip([0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0]) {
            let secs = wait.as_secs_f64();
            assert!(secs <= base && secs >= base * 0.8, "{secs} vs {base}");
        }
        b.reset();
        assert!(b.next_wait() <= RETRY_FIRST);
    }

    fn status(code: u16, reason: &str) -> Box<kube::core::Status> {
        Box::new(kube::core::Status::failure("too old resource version", reason).with_code(code))
    }

    #[test]
    fn expired_means_410_however_it_comes() {
        assert!(is_expired(&watcher::Error::WatchError(status(
            410, "Expired"
        ))));
        assert!(is_expired(&watcher::Error::WatchStartFailed(
            kube::Error::Api(status(410, "Gone"))
        )));
        assert!(!is_expired(&watcher::Error::WatchError(status(
            500, "Internal"
        ))));
        assert!(!is_unreachable(&watcher::Error::WatchStartFailed(
            kube::Error::Api(status(403, "Forbidden"))
        )));
        assert!(is_unreachable(&watcher::Error::WatchStartFailed(
            kube::Error::Api(status(503, "ServiceUnavailable"))
        )));
    }
}
