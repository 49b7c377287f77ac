//! The activity of a release read once (the report, `get`): the Events about it, ours and
//! its controller's, for each provider as the live feed (activity_watch.rs) follows them —
//! an Argo rollout and its ReplicaSets and AnalysisRuns, a weighted release's route and
//! Deployments, a Flagger canary's Canary.

use super::OrchestratorError;
use super::activity_watch::weighted_parts;
use super::audit::{ActivityEntry, activity_about};
use crate::cluster::Attempt;
use crate::model::{Provider, RolloutRef};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};

/// The activity of `target`, newest first, at most [`super::ACTIVITY_LIMIT`] entries. Asks
/// the server to select by involved object; a server that does not support those field
/// selectors (400) is asked for the namespace's Events, filtered here.
pub async fn activity(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<Vec<ActivityEntry>, OrchestratorError> {
    let api: Api<Event> = Api::namespaced(client.clone(), &target.namespace);
    let failed = |e: kube::Error| {
        OrchestratorError::Cluster(
            Attempt {
                context: &target.context,
                namespace: Some(&target.namespace),
                name: None,
                action: "list events",
            }
            .error(e),
        )
    };
    // Names of ReplicaSets, AnalysisRuns and a weighted release's Deployments cannot be
    // selected with the release's: all Events of those kinds, filtered here.
    let (first, more, parts) = match target.provider {
        Provider::Argo => (
            format!(
                "involvedObject.kind=Rollout,involvedObject.name={}",
                target.name
            ),
            vec![
                "involvedObject.kind=ReplicaSet",
                "involvedObject.kind=AnalysisRun",
            ],
            Vec::new(),
        ),
        Provider::Gateway => {
            let parts = weighted_parts(client, target).await;
            let route = parts
                .iter()
                .find(|(kind, _)| kind == "HTTPRoute")
                .map_or(target.name.clone(), |(_, name)| name.clone());
            (
                format!("involvedObject.kind=HTTPRoute,involvedObject.name={route}"),
                vec!["involvedObject.kind=Deployment"],
                parts,
            )
        }
        Provider::Flagger => (
            format!(
                "involvedObject.kind=Canary,involvedObject.name={}",
                target.name
            ),
            Vec::new(),
            Vec::new(),
        ),
    };
    let everything = ListParams::default();
    let whole_namespace = || api.list(&everything);
    let events = match api.list(&ListParams::default().fields(&first)).await {
        Err(kube::Error::Api(status)) if status.code == 400 => {
            whole_namespace().await.map_err(failed)?.items
        }
        Err(e) => return Err(failed(e)),
        Ok(list) => {
            let mut items = list.items;
            for fields in more {
                match api.list(&ListParams::default().fields(fields)).await {
                    Ok(list) => items.extend(list.items),
                    Err(kube::Error::Api(status)) if status.code == 400 => {
                        items = whole_namespace().await.map_err(failed)?.items;
                        break;
                    }
                    Err(e) => return Err(failed(e)),
                }
            }
            items
        }
    };
    Ok(activity_about(target, &parts, events))
}
