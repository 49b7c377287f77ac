//! The rollout's activity, live: a watch on the core/v1 Events about the rollout, its
//! ReplicaSets and AnalysisRuns, or a weighted release's HTTPRoute and Deployments (selected by
//! involvedObject where the server allows it, else the namespace's, filtered here), kept in
//! memory as at most [`ACTIVITY_LIMIT`] entries per feed.
//! It retries and relists with the fleet watch's policy (`cluster::resilient_watcher`).

use super::audit::{ACTIVITY_LIMIT, ActivityEntry, entry_about};
use crate::cluster::{self, Attempt, WATCH_TIMEOUT_SECS};
use crate::model::{Provider, RolloutRef};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;
use std::collections::HashMap;

/// What the activity watch reports.
#[derive(Clone, Debug, PartialEq)]
pub enum ActivityUpdate {
    /// The activity as it stands now, newest first, at most [`ACTIVITY_LIMIT`] entries.
    Entries(Vec<ActivityEntry>),
    /// The watch was refused (forbidden, bad request…), in full words; it retries by itself.
    /// Said once per failure streak; a server that does not answer is the fleet's to report.
    Error(String),
}

/// Watches the Events about `target`, its ReplicaSets and its AnalysisRuns. The first [`ActivityUpdate::Entries`]
/// comes after the initial list; every Event created, updated (counted again) or deleted
/// after that sends the whole activity again, whether or not the rollout itself changed.
pub fn watch_activity(
    client: kube::Client,
    target: RolloutRef,
) -> impl Stream<Item = ActivityUpdate> + Send + 'static {
    let api: Api<Event> = Api::namespaced(client.clone(), &target.namespace);
    let read = feeds(client, api.clone(), target.clone());
    futures::stream::once(read).flat_map(move |(configs, parts)| {
        let feeds = configs.len();
        let watches = configs.into_iter().enumerate().map(|(i, config)| {
            cluster::resilient_watcher(api.clone(), config)
                .map(move |item| (i, item))
                .boxed()
        });
        let mut recent = RecentActivity::new(target.clone(), feeds).with_parts(parts);
        let mut failing = false;
        let target = target.clone();
        futures::stream::select_all(watches).filter_map(move |(feed, item)| {
            let update = match item {
                Ok(event) => {
                    failing = false;
                    recent.apply(feed, event).then(|| recent.entries())
                }
                Err((err, _)) if cluster::is_unreachable(&err) => None,
                Err((err, retry_in)) => {
                    let first = !failing;
                    failing = true;
                    first.then(|| {
                        let attempt = Attempt {
                            context: &target.context,
                            namespace: Some(&target.namespace),
                            name: Some(&target.name),
                            action: "watch events",
                        };
                        let error = cluster::describe_watch_error(err, attempt);
                        ActivityUpdate::Error(format!(
                            "{error}; trying again in {:.0} s",
                            retry_in.as_secs_f64().ceil()
                        ))
                    })
                }
            };
            futures::future::ready(update)
        })
    })
}

/// The watches to run: by involved object (the rollout's Events; all ReplicaSet and
/// AnalysisRun Events, whose names cannot be selected by prefix), or, when the server refuses those field
/// selectors (400), the namespace's Events. For a weighted release: its route's Events and
/// all Deployment Events, with the (kind, name) of its route and Deployments to keep. A
/// Flagger canary's Events are on the Canary (Flagger's and the cockpit's audit).
async fn feeds(
    client: kube::Client,
    api: Api<Event>,
    target: RolloutRef,
) -> (Vec<watcher::Config>, Vec<(String, String)>) {
    if target.provider == Provider::Gateway {
        let parts = weighted_parts(&client, &target).await;
        let route = parts
            .iter()
            .find(|(kind, _)| kind == "HTTPRoute")
            .map_or(target.name.clone(), |(_, name)| name.clone());
        let about_route = format!("involvedObject.kind=HTTPRoute,involvedObject.name={route}");
        return (
            selected(&api, &about_route, &["involvedObject.kind=Deployment"]).await,
            parts,
        );
    }
    let kind = match target.provider {
        Provider::Flagger => "Canary",
        Provider::Argo | Provider::Gateway => "Rollout",
    };
    let about_rollout = format!(
        "involvedObject.kind={kind},involvedObject.name={}",
        target.name
    );
    let configs = selected(
        &api,
        &about_rollout,
        &[
            "involvedObject.kind=ReplicaSet",
            "involvedObject.kind=AnalysisRun",
        ],
    )
    .await;
    (configs, Vec::new())
}

/// A weighted release's HTTPRoute and the Deployments behind its stable and canary
/// Services, as (kind, name); what cannot be read is left out (its Events then are not
/// shown; the fleet reports a cluster that does not answer).
pub(super) async fn weighted_parts(
    client: &kube::Client,
    target: &RolloutRef,
) -> Vec<(String, String)> {
    let Ok(route) = super::gateway::read_release(client, target).await else {
        return vec![("HTTPRoute".into(), target.name.clone())];
    };
    let mut parts = vec![("HTTPRoute".to_string(), route.route.clone())];
    for service in [&route.stable.service, &route.canary.service] {
        if let Ok(Some((deployment, _))) =
            cluster::release_deployment(client, target, service).await
            && let Some(name) = deployment.metadata.name
        {
            parts.push(("Deployment".into(), name));
        }
    }
    parts
}

/// Watches of `first` and each of `more` field selectors, or of the whole namespace when the
/// server refuses field selectors on Events (400).
async fn selected(api: &Api<Event>, first: &str, more: &[&str]) -> Vec<watcher::Config> {
    let config = |fields: Option<&str>| {
        let config = watcher::Config::default().timeout(WATCH_TIMEOUT_SECS);
        match fields {
            Some(fields) => config.fields(fields),
            None => config,
        }
    };
    let probe = ListParams::default().fields(first).limit(1);
    match api.list(&probe).await {
        Err(kube::Error::Api(status)) if status.code == 400 => vec![config(None)],
        // Anything else (it answered, or it is down): the watches will say.
        _ => std::iter::once(first)
            .chain(more.iter().copied())
            .map(|fields| config(Some(fields)))
            .collect(),
    }
}

/// The newest entries of each feed, keyed by Event (uid, else name), each with the order in
/// which it arrived (Events of one second: the later one is newer).
pub struct RecentActivity {
    target: RolloutRef,
    /// (kind, name) of the objects the release is made of beside itself (a weighted
    /// release's route and Deployments), whose Events are its activity too.
    parts: Vec<(String, String)>,
    feeds: Vec<Feed>,
    arrivals: u64,
}

#[derive(Default)]
struct Feed {
    kept: HashMap<String, (u64, ActivityEntry)>,
    /// While a (re)list is under way: what it has sent so far.
    listing: Option<HashMap<String, (u64, ActivityEntry)>>,
    listed: bool,
}

impl RecentActivity {
    pub fn new(target: RolloutRef, feeds: usize) -> RecentActivity {
        RecentActivity {
            target,
            parts: Vec::new(),
            feeds: (0..feeds.max(1)).map(|_| Feed::default()).collect(),
            arrivals: 0,
        }
    }

    /// Also keeps the Events about `parts` ((kind, name), see the field).
    pub fn with_parts(mut self, parts: Vec<(String, String)>) -> RecentActivity {
        self.parts = parts;
        self
    }

    /// Applies one watch event of feed `feed`; true when the activity changed and every
    /// feed has listed once (a half-listed activity would flicker).
    pub fn apply(&mut self, feed: usize, event: watcher::Event<Event>) -> bool {
        let changed = self.change(feed, event);
        changed && self.feeds.iter().all(|f| f.listed)
    }

    fn change(&mut self, feed: usize, event: watcher::Event<Event>) -> bool {
        let target = self.target.clone();
        let parts = self.parts.clone();
        let entry_of = |e: &Event| entry_about(&target, &parts, e);
        let Some(f) = self.feeds.get_mut(feed) else {
            return false;
        };
        match event {
            watcher::Event::Init => {
                f.listing = Some(HashMap::new());
                false
            }
            watcher::Event::InitApply(e) => {
                if let (Some(listing), Some(entry)) = (f.listing.as_mut(), entry_of(&e)) {
                    self.arrivals += 1;
                    keep(listing, key(&e), self.arrivals, entry);
                }
                false
            }
            watcher::Event::InitDone => {
                f.kept = f.listing.take().unwrap_or_default();
                f.listed = true;
                true
            }
            watcher::Event::Apply(e) => match entry_of(&e) {
                Some(entry) => {
                    self.arrivals += 1;
                    keep(&mut f.kept, key(&e), self.arrivals, entry);
                    true
                }
                None => f.kept.remove(&key(&e)).is_some(),
            },
            watcher::Event::Delete(e) => f.kept.remove(&key(&e)).is_some(),
        }
    }

    /// Every feed's entries, newest first, at most [`ACTIVITY_LIMIT`].
    pub fn entries(&self) -> ActivityUpdate {
        let mut all: Vec<&(u64, ActivityEntry)> =
            self.feeds.iter().flat_map(|f| f.kept.values()).collect();
        all.sort_by_key(|(arrived, e)| std::cmp::Reverse((e.time, *arrived)));
        all.truncate(ACTIVITY_LIMIT);
        ActivityUpdate::Entries(all.into_iter().map(|(_, e)| e.clone()).collect())
    }
}

fn key(e: &Event) -> String {
    e.metadata
        .uid
        .clone()
        .or_else(|| e.metadata.name.clone())
        .unwrap_or_default()
}

/// Adds (or replaces) one entry; beyond [`ACTIVITY_LIMIT`] the oldest goes.
fn keep(
    kept: &mut HashMap<String, (u64, ActivityEntry)>,
    key: String,
    arrived: u64,
    entry: ActivityEntry,
) {
    kept.insert(key, (arrived, entry));
    if kept.len() > ACTIVITY_LIMIT {
        let oldest = kept
            .iter()
            .min_by_key(|(_, (arrived, e))| (e.time, *arrived))
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            kept.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::api::ObjectMeta;

    fn event(name: &str, kind: &str, object: &str, reason: &str, second: i64) -> Event {
        let at = jiff::Timestamp::from_second(1_780_000_000 + second).expect("time");
        Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("demo".into()),
                uid: Some(format!("uid-{name}")),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                kind: Some(kind.into()),
                name: Some(object.into()),
                namespace: Some("demo".into()),
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            type_: Some("Normal".into()),
            reporting_component: Some("rollouts-controller".into()),
            last_timestamp: Some(Time(at)),
            ..Event::default()
        }
    }

    fn reasons(update: ActivityUpdate) -> Vec<String> {
        match update {
            ActivityUpdate::Entries(entries) => entries.into_iter().map(|e| e.reason).collect(),
            ActivityUpdate::Error(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_new_event_after_the_list_changes_the_activity_and_others_do_not() {
        let mut recent = RecentActivity::new(RolloutRef::new("lab", "demo", "checkout"), 2);
        assert!(!recent.apply(0, watcher::Event::Init));
        let step = event("a", "Rollout", "checkout", "RolloutStepCompleted", 1);
        assert!(!recent.apply(0, watcher::Event::InitApply(step)));
        assert!(
            !recent.apply(0, watcher::Event::InitDone),
            "the ReplicaSets' feed has not listed yet"
        );
        recent.apply(1, watcher::Event::Init);
        assert!(recent.apply(1, watcher::Event::InitDone));
        assert_eq!(reasons(recent.entries()), ["RolloutStepCompleted"]);
        // Another rollout's ReplicaSet: not ours to show.
        let other = event("b", "ReplicaSet", "search-6c7d", "ScalingReplicaSet", 2);
        assert!(!recent.apply(1, watcher::Event::Apply(other)));
        // The controller aborts without the rollout being watched here: it shows at once.
        let mut aborted = event("c", "Rollout", "checkout", "RolloutAborted", 3);
        aborted.type_ = Some("Warning".into());
        assert!(recent.apply(0, watcher::Event::Apply(aborted.clone())));
        let scaled = event("d", "ReplicaSet", "checkout-6c7d", "ScalingReplicaSet", 3);
        assert!(recent.apply(1, watcher::Event::Apply(scaled)));
        assert_eq!(
            reasons(recent.entries()),
            [
                "ScalingReplicaSet",
                "RolloutAborted",
                "RolloutStepCompleted"
            ],
            "newest first; of one second, the later arrival first"
        );
        assert!(recent.apply(0, watcher::Event::Delete(aborted)));
        assert_eq!(recent.entries(), {
            let mut r = RecentActivity::new(RolloutRef::new("lab", "demo", "checkout"), 1);
            r.apply(0, watcher::Event::InitDone);
            r.apply(
                0,
                watcher::Event::Apply(event(
                    "d",
                    "ReplicaSet",
                    "checkout-6c7d",
                    "ScalingReplicaSet",
                    3,
                )),
            );
            r.apply(
                0,
                watcher::Event::Apply(event("a", "Rollout", "checkout", "RolloutStepCompleted", 1)),
            );
            r.entries()
        });
    }

    #[test]
    fn a_weighted_release_keeps_the_events_of_its_route_and_deployments_only() {
        let cart = RolloutRef {
            provider: Provider::Gateway,
            ..RolloutRef::new("lab", "demo", "cart")
        };
        let parts = vec![
            ("HTTPRoute".to_string(), "cart".to_string()),
            ("Deployment".to_string(), "cart-stable".to_string()),
        ];
        let mut recent = RecentActivity::new(cart, 1).with_parts(parts);
        recent.apply(0, watcher::Event::InitDone);
        let promoted = event("a", "HTTPRoute", "cart", "PromotedByUser", 1);
        assert!(recent.apply(0, watcher::Event::Apply(promoted)));
        let scaled = event("b", "Deployment", "cart-stable", "ScalingReplicaSet", 2);
        assert!(recent.apply(0, watcher::Event::Apply(scaled)));
        let other = event("c", "Deployment", "checkout-stable", "ScalingReplicaSet", 3);
        assert!(!recent.apply(0, watcher::Event::Apply(other)), "not cart's");
        assert_eq!(
            reasons(recent.entries()),
            ["ScalingReplicaSet", "PromotedByUser"]
        );
    }

    #[test]
    fn a_relist_replaces_what_was_kept_and_memory_stays_bounded() {
        let mut recent = RecentActivity::new(RolloutRef::new("lab", "demo", "checkout"), 1);
        recent.apply(0, watcher::Event::InitDone);
        for i in 0..(ACTIVITY_LIMIT as i64 + 50) {
            let e = event(&format!("e{i}"), "Rollout", "checkout", &format!("R{i}"), i);
            recent.apply(0, watcher::Event::Apply(e));
        }
        let ActivityUpdate::Entries(entries) = recent.entries() else {
            panic!("entries")
        };
        assert_eq!(entries.len(), ACTIVITY_LIMIT);
        assert_eq!(entries[0].reason, format!("R{}", ACTIVITY_LIMIT + 49));
        assert_eq!(recent.feeds[0].kept.len(), ACTIVITY_LIMIT);
        // After a 410 the watcher lists again: until it is done the old entries stay.
        recent.apply(0, watcher::Event::Init);
        let fresh = event("z", "Rollout", "checkout", "RolloutCompleted", 999);
        recent.apply(0, watcher::Event::InitApply(fresh));
        assert_eq!(recent.feeds[0].kept.len(), ACTIVITY_LIMIT);
        assert!(recent.apply(0, watcher::Event::InitDone));
        assert_eq!(reasons(recent.entries()), ["RolloutCompleted"]);
    }
}
