//! One release followed live, whatever its provider: an Argo rollout through its Rollout
//! watch; a weighted release through a watch on its namespace's HTTPRoutes and a Flagger
//! canary through a watch on its Canary, each change read again as a view (`get_release`).
//! Their Deployments' pods change without the route or Canary changing: read every 5 s too.

use super::ClusterError;
use super::error::Attempt;
use super::flagger::{canary_resource, get_release};
use super::watch::{
    FleetUpdate, WATCH_TIMEOUT_SECS, WatchItem, describe_watch_error, is_unreachable,
    resilient_watcher, watch_rollout,
};
use super::weighted::http_route_resource;
use crate::model::{Provider, RolloutRef};
use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use std::time::Duration;

/// How often a weighted release or Flagger canary is read again with no change to its route
/// or Canary (its Deployments' availability); the fleet polls them every 2 s.
pub const RELEASE_REREAD: Duration = Duration::from_secs(5);

/// Follows `target`: snapshots hold its view after each change (nothing once it is deleted).
pub fn watch_release(client: kube::Client, target: RolloutRef) -> BoxStream<'static, FleetUpdate> {
    let (resource, config) = match target.provider {
        Provider::Argo => return watch_rollout(client, target).boxed(),
        // A release's name is its route's annotation, not always the route's name: all routes.
        Provider::Gateway => (http_route_resource(), watcher::Config::default()),
        Provider::Flagger => (
            canary_resource(),
            watcher::Config::default().fields(&format!("metadata.name={}", target.name)),
        ),
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &resource);
    let changes = resilient_watcher(api, config.timeout(WATCH_TIMEOUT_SECS))
        .map(|item| Wake::Changed(Box::new(item)));
    let rereads = futures::stream::unfold((), |()| async {
        tokio::time::sleep(RELEASE_REREAD).await;
        Some((Wake::Reread, ()))
    });
    futures::stream::select(changes, rereads)
        .filter_map(move |wake| {
            let (client, target) = (client.clone(), target.clone());
            async move { update_on(wake, &client, &target).await }
        })
        .boxed()
}

enum Wake {
    Changed(Box<WatchItem<DynamicObject>>),
    Reread,
}

/// The update a wake-up gives: the view read again, or why the watch failed.
async fn update_on(wake: Wake, client: &kube::Client, target: &RolloutRef) -> Option<FleetUpdate> {
    let wake = match wake {
        Wake::Changed(item) => Some(*item),
        Wake::Reread => None,
    };
    match wake {
        // Wait for the whole initial list before the first read.
        Some(Ok(watcher::Event::Init | watcher::Event::InitApply(_))) => None,
        Some(Ok(_)) | None => Some(read(client, target).await),
        Some(Err((err, retry_in))) => {
            let unreachable = is_unreachable(&err);
            let attempt = Attempt {
                context: &target.context,
                namespace: Some(&target.namespace),
                name: Some(&target.name),
                action: match target.provider {
                    Provider::Flagger => "watch canaries.flagger.app",
                    Provider::Argo | Provider::Gateway => "watch httproutes",
                },
            };
            let message = describe_watch_error(err, attempt).to_string();
            Some(if unreachable {
                FleetUpdate::Reconnecting { message, retry_in }
            } else {
                FleetUpdate::Error(message)
            })
        }
    }
}

async fn read(client: &kube::Client, target: &RolloutRef) -> FleetUpdate {
    match get_release(client, target).await {
        Ok(view) => FleetUpdate::Snapshot(vec![view]),
        Err(ClusterError::RolloutNotFound { .. }) => FleetUpdate::Snapshot(Vec::new()),
        Err(e @ ClusterError::Unreachable { .. }) => FleetUpdate::Reconnecting {
            message: e.to_string(),
            retry_in: RELEASE_REREAD,
        },
        Err(e) => FleetUpdate::Error(e.to_string()),
    }
}
