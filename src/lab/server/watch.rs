//! Watch streams: newline-delimited `{"type": ..., "object": ...}` events, replayed from a
//! resourceVersion or starting with the current objects, kept open until `timeoutSeconds`,
//! the client leaves or the lab stops. A watcher that falls behind is closed, never waited for.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, Interval};

use super::selector::Selector;
use super::status::ApiError;
use super::table;
use crate::lab::kind::Kind;
use crate::lab::store::{Store, StoredEvent};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);

/// What one watch request asks for.
pub struct WatchRequest {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub selector: Selector,
    /// `None` or `Some(0)`: start with the current objects as ADDED events.
    pub resource_version: Option<u64>,
    pub timeout: Option<Duration>,
    pub bookmarks: bool,
    /// Send each object as a one-row Table (`kubectl get -w`).
    pub table: bool,
    /// `sendInitialEvents=true` (streaming list): the current objects as ADDED events
    /// whatever the resourceVersion, then a BOOKMARK marking the end of them.
    pub initial_events: bool,
}

struct Stream {
    request: WatchRequest,
    pending: VecDeque<Bytes>,
    live: broadcast::Receiver<StoredEvent>,
    last_rv: u64,
    deadline: Option<Instant>,
    bookmark: Interval,
    stopping: watch::Receiver<bool>,
}

pub fn watch(store: &Store, request: WatchRequest, stopping: watch::Receiver<bool>) -> Response {
    let mut pending = VecDeque::new();
    let namespace = request.namespace.as_deref();
    let (live, last_rv) = match request.resource_version {
        _ if request.initial_events => {
            let (objects, sub) = store.list_and_subscribe(request.kind, namespace);
            for object in objects.into_iter().filter(|o| request.selector.matches(o)) {
                pending.push_back(object_line(&request, "ADDED", &object));
            }
            let end = json!({
                "kind": request.kind.kind(),
                "apiVersion": request.kind.api_version(),
                "metadata": {
                    "resourceVersion": sub.resource_version.to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
            });
            pending.push_back(line("BOOKMARK", &end));
            (sub.live, sub.resource_version)
        }
        None | Some(0) => {
            let (objects, sub) = store.list_and_subscribe(request.kind, namespace);
            for object in objects.into_iter().filter(|o| request.selector.matches(o)) {
                pending.push_back(object_line(&request, "ADDED", &object));
            }
            (sub.live, sub.resource_version)
        }
        Some(since) => match store.subscribe(Some(since)) {
            Ok(sub) => {
                for event in sub.replay.iter().filter(|e| wanted(&request, e)) {
                    pending.push_back(object_line(&request, event.change.as_str(), &event.object));
                }
                (sub.live, sub.resource_version)
            }
            Err(too_old) => {
                // kube-apiserver answers 200 and sends the 410 as an ERROR event.
                let error = ApiError::gone(&too_old).status_body();
                return stream_response(Body::from(line("ERROR", &error)));
            }
        },
    };
    let deadline = request.timeout.map(|t| Instant::now() + t);
    let mut bookmark = tokio::time::interval_at(Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    bookmark.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Stream {
        request,
        pending,
        live,
        last_rv,
        deadline,
        bookmark,
        stopping,
    };
    let events = futures::stream::unfold(state, |mut st| async move {
        let next = st.next_line().await?;
        Some((Ok::<_, std::convert::Infallible>(next), st))
    });
    stream_response(Body::from_stream(events))
}

fn stream_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn wanted(request: &WatchRequest, event: &StoredEvent) -> bool {
    event.kind == request.kind
        && request
            .namespace
            .as_deref()
            .is_none_or(|ns| ns == event.namespace())
        && request.selector.matches(&event.object)
}

/// An event about one object, as the object or as a one-row Table.
fn object_line(request: &WatchRequest, change: &str, object: &Value) -> Bytes {
    if request.table {
        let printed = table::table(
            request.kind,
            std::slice::from_ref(object),
            None,
            jiff::Timestamp::now(),
        );
        return line(change, &printed);
    }
    line(change, object)
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

impl Stream {
    /// The next line to send, or `None` when the watch is over.
    async fn next_line(&mut self) -> Option<Bytes> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if *self.stopping.borrow() {
            return None;
        }
        let deadline = self.deadline;
        loop {
            let timeout = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = self.live.recv() => match received {
                    Ok(event) if event.resource_version <= self.last_rv => {}
                    Ok(event) => {
                        self.last_rv = event.resource_version;
                        if wanted(&self.request, &event) {
                            return Some(object_line(&self.request, event.change.as_str(), &event.object));
                        }
                    }
                    // Lagged: the client resumes from its last resourceVersion on a new watch.
                    Err(_) => return None,
                },
                _ = self.bookmark.tick() => {
                    if self.request.bookmarks {
                        let object = json!({
                            "kind": self.request.kind.kind(),
                            "apiVersion": self.request.kind.api_version(),
                            "metadata": {"resourceVersion": self.last_rv.to_string()},
                        });
                        return Some(line("BOOKMARK", &object));
                    }
                }
                () = timeout => return None,
                _ = self.stopping.changed() => return None,
            }
        }
    }
}
