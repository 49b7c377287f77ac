//! The lab's in-memory object store: JSON objects by kind/namespace/name, one global
//! `resourceVersion`, `generation` on spec changes only, and watch fan-out with a bounded
//! replay buffer so `watch?resourceVersion=N` resumes where a client left off.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::meta::{metadata_mut, new_uid, now_rfc3339, random_suffix, remove_field, str_at};

pub use super::kind::Kind;

/// How many past changes a watch can resume from before it gets 410 Gone.
const REPLAY_EVENTS: usize = 1024;
/// How many changes a watcher may fall behind before it is dropped.
const WATCH_LAG: usize = 256;

/// What a watch event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Deleted,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// One change to one object, in store order.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub resource_version: u64,
    pub kind: Kind,
    pub change: Change,
    pub object: Arc<Value>,
}

impl StoredEvent {
    pub fn namespace(&self) -> &str {
        self.object["metadata"]["namespace"].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// Which part of an object a write may change, as with a `status` subresource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The main resource: status changes are dropped (for kinds with a status subresource).
    Main,
    /// The `status` subresource: everything but status is kept as it was.
    Status,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("{} \"{name}\" not found", kind.qualified())]
    NotFound { kind: Kind, name: String },
    #[error("namespaces \"{namespace}\" not found")]
    NamespaceNotFound { namespace: String },
    #[error("{} \"{name}\" already exists", kind.qualified())]
    AlreadyExists { kind: Kind, name: String },
    #[error(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        kind.qualified()
    )]
    Conflict { kind: Kind, name: String },
    #[error("{0}")]
    Invalid(String),
}

/// A replay of past events plus a live feed, as handed to one watcher.
pub struct Subscription {
    /// Events after the requested resourceVersion that happened before subscribing.
    pub replay: Vec<StoredEvent>,
    pub live: broadcast::Receiver<StoredEvent>,
    /// The store's resourceVersion when the subscription was taken.
    pub resource_version: u64,
}

/// The requested resourceVersion is older than the replay buffer (410 Gone).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("too old resource version: {requested} ({oldest})")]
pub struct TooOld {
    pub requested: u64,
    pub oldest: u64,
}

type Key = (Kind, String, String);

struct Inner {
    resource_version: u64,
    objects: BTreeMap<Key, Value>,
    history: VecDeque<StoredEvent>,
    /// The newest resourceVersion no longer in `history`.
    evicted: u64,
}

/// The object store shared by the API server and the controller loop.
pub struct Store {
    inner: Mutex<Inner>,
    feed: broadcast::Sender<StoredEvent>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        let (feed, _) = broadcast::channel(WATCH_LAG);
        Store {
            inner: Mutex::new(Inner {
                resource_version: 0,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                evicted: 0,
            }),
            feed,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written object (every write is a
        // single insert), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().resource_version
    }

    /// Objects of `kind`, in one namespace or all (`None`), sorted by namespace and name,
    /// with the resourceVersion the list is consistent with.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|want| want == ns))
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.resource_version)
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        let key = (kind, namespace.to_string(), name.to_string());
        self.lock().objects.get(&key).cloned()
    }

    /// Stores a new object: sets uid, creationTimestamp, generation 1 and a resourceVersion.
    pub fn create(&self, kind: Kind, mut object: Value) -> Result<Value, StoreError> {
        if !object.is_object() {
            return Err(StoreError::Invalid(
                "the object must be a JSON object".into(),
            ));
        }
        let namespace = str_at(&object, "namespace");
        let mut name = str_at(&object, "name");
        if name.is_empty() {
            let prefix = str_at(&object, "generateName");
            if prefix.is_empty() {
                return Err(StoreError::Invalid(
                    "metadata.name: Required value: name or generateName is required".into(),
                ));
            }
            name = format!("{prefix}{}", random_suffix());
        }
        if kind.namespaced() && namespace.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.namespace: Required value".into(),
            ));
        }
        let mut inner = self.lock();
        if kind.namespaced() && !inner.objects.contains_key(&namespace_key(&namespace)) {
            return Err(StoreError::NamespaceNotFound { namespace });
        }
        let key = (kind, namespace.clone(), name.clone());
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists { kind, name });
        }
        let rv = inner.resource_version + 1;
        object["apiVersion"] = json!(kind.api_version());
        object["kind"] = json!(kind.kind());
        let meta = metadata_mut(&mut object);
        meta.insert("name".into(), json!(name));
        if kind.namespaced() {
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.insert("generation".into(), json!(1));
        meta.remove("generateName");
        if kind == Kind::Namespace && object.get("status").is_none() {
            // As kube-apiserver does: a new namespace is Active.
            object["status"] = json!({"phase": "Active"});
        }
        inner.commit(&self.feed, key, kind, Change::Added, object.clone());
        Ok(object)
    }

    /// Rewrites one object: `write` gets the current object and returns the desired one.
    /// Only `part` of it is taken (see [`Part`]); identity fields are kept; a
    /// `metadata.resourceVersion` in the result that is not the current one is a conflict.
    /// An unchanged object is not rewritten (no new resourceVersion, no event).
    pub fn update<E>(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        part: Part,
        write: impl FnOnce(&Value) -> Result<Value, E>,
    ) -> Result<Value, UpdateError<E>> {
        let key = (kind, namespace.to_string(), name.to_string());
        let mut inner = self.lock();
        let Some(current) = inner.objects.get(&key).cloned() else {
            return Err(UpdateError::Store(StoreError::NotFound {
                kind,
                name: name.to_string(),
            }));
        };
        let desired = write(&current).map_err(UpdateError::Write)?;
        if !desired.is_object() {
            return Err(UpdateError::Store(StoreError::Invalid(
                "the object must be a JSON object".into(),
            )));
        }
        let current_rv = current["metadata"]["resourceVersion"].clone();
        match &desired["metadata"]["resourceVersion"] {
            Value::Null => {}
            rv if *rv == current_rv => {}
            _ => {
                return Err(UpdateError::Store(StoreError::Conflict {
                    kind,
                    name: name.to_string(),
                }));
            }
        }
        let mut next = merge_part(kind, &current, desired, part);
        if next == current {
            return Ok(next);
        }
        let rv = inner.resource_version + 1;
        if next.get("spec") != current.get("spec") {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            metadata_mut(&mut next).insert("generation".into(), json!(generation));
        }
        metadata_mut(&mut next).insert("resourceVersion".into(), json!(rv.to_string()));
        inner.commit(&self.feed, key, kind, Change::Modified, next.clone());
        Ok(next)
    }

    /// Removes an object and returns it as it was last stored.
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value, StoreError> {
        let key = (kind, namespace.to_string(), name.to_string());
        let mut inner = self.lock();
        let Some(mut object) = inner.objects.remove(&key) else {
            return Err(StoreError::NotFound {
                kind,
                name: name.to_string(),
            });
        };
        let rv = inner.resource_version + 1;
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv.to_string()));
        inner.commit(&self.feed, key, kind, Change::Deleted, object.clone());
        Ok(object)
    }

    /// The current objects of `kind` and a feed of every change after them.
    pub fn list_and_subscribe(
        &self,
        kind: Kind,
        namespace: Option<&str>,
    ) -> (Vec<Value>, Subscription) {
        let inner = self.lock();
        let live = self.feed.subscribe();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|want| want == ns))
            .map(|(_, v)| v.clone())
            .collect();
        let sub = Subscription {
            replay: Vec::new(),
            live,
            resource_version: inner.resource_version,
        };
        (items, sub)
    }

    /// What a restarted API server has: the objects and the resourceVersion (etcd keeps
    /// them) but no watch cache. The restart itself takes a resourceVersion (kube-apiserver
    /// writes on start too), and every watch from a resourceVersion issued before it now
    /// gets 410 Expired: the client must list again.
    pub fn forget_watch_history(&self) {
        let mut inner = self.lock();
        inner.resource_version += 1;
        inner.history.clear();
        inner.evicted = inner.resource_version;
    }

    /// The objects and the resourceVersion, for a lab that starts again later
    /// ([`Store::restore`]): `{"resourceVersion": "N", "objects": [...]}`.
    pub fn export(&self) -> Value {
        let inner = self.lock();
        let objects: Vec<&Value> = inner.objects.values().collect();
        json!({
            "resourceVersion": inner.resource_version.to_string(),
            "objects": objects,
        })
    }

    /// A store holding what [`Store::export`] saved, with no watch history: a watch from any
    /// earlier resourceVersion gets 410 Expired, as from a restarted API server.
    pub fn restore(saved: &Value) -> Result<Store, String> {
        let resource_version = saved["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse::<u64>().ok())
            .ok_or("no resourceVersion")?;
        let store = Store::new();
        {
            let mut inner = store.lock();
            for object in saved["objects"].as_array().ok_or("no objects")? {
                let kind = super::kind_of(object).ok_or_else(|| {
                    format!(
                        "an object of a kind the lab does not serve: {}",
                        object["kind"]
                    )
                })?;
                let namespace = if kind.namespaced() {
                    str_at(object, "namespace")
                } else {
                    String::new()
                };
                inner
                    .objects
                    .insert((kind, namespace, str_at(object, "name")), object.clone());
            }
            inner.resource_version = resource_version;
        }
        store.forget_watch_history();
        Ok(store)
    }

    /// A feed of every change after `since` (`None`: from now on).
    pub fn subscribe(&self, since: Option<u64>) -> Result<Subscription, TooOld> {
        let inner = self.lock();
        let live = self.feed.subscribe();
        let replay = match since {
            None => Vec::new(),
            Some(since) if since < inner.evicted => {
                return Err(TooOld {
                    requested: since,
                    oldest: inner.evicted + 1,
                });
            }
            Some(since) => inner
                .history
                .iter()
                .filter(|e| e.resource_version > since)
                .cloned()
                .collect(),
        };
        Ok(Subscription {
            replay,
            live,
            resource_version: inner.resource_version,
        })
    }
}

impl Inner {
    fn commit(
        &mut self,
        feed: &broadcast::Sender<StoredEvent>,
        key: Key,
        kind: Kind,
        change: Change,
        object: Value,
    ) {
        self.resource_version += 1;
        let event = StoredEvent {
            resource_version: self.resource_version,
            kind,
            change,
            object: Arc::new(object.clone()),
        };
        if change == Change::Deleted {
            self.objects.remove(&key);
        } else {
            self.objects.insert(key, object);
        }
        if self.history.len() == REPLAY_EVENTS
            && let Some(old) = self.history.pop_front()
        {
            self.evicted = old.resource_version;
        }
        self.history.push_back(event.clone());
        // Nobody watching is fine: the event stays in the replay buffer.
        let _ = feed.send(event);
    }
}

/// Why an update did not happen: the store refused it, or the caller's closure failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error(transparent)]
    Store(StoreError),
    #[error("the change could not be applied")]
    Write(E),
}

/// The object `part` of `desired` makes of `current`, keeping identity fields.
fn merge_part(kind: Kind, current: &Value, desired: Value, part: Part) -> Value {
    let mut next = match (part, kind.has_status_subresource()) {
        (Part::Status, _) => {
            let mut next = current.clone();
            match desired.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => remove_field(&mut next, "status"),
            }
            next
        }
        (Part::Main, true) => {
            let mut next = desired;
            match current.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => remove_field(&mut next, "status"),
            }
            next
        }
        (Part::Main, false) => desired,
    };
    next["apiVersion"] = current["apiVersion"].clone();
    next["kind"] = current["kind"].clone();
    if !next["metadata"].is_object() {
        next["metadata"] = json!({});
    }
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
        "resourceVersion",
    ] {
        match current["metadata"].get(field) {
            Some(v) => next["metadata"][field] = v.clone(),
            None => {
                metadata_mut(&mut next).remove(field);
            }
        }
    }
    next
}

fn namespace_key(namespace: &str) -> Key {
    (Kind::Namespace, String::new(), namespace.to_string())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
