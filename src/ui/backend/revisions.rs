//! The revisions Undo can go back to, for its dialog: the rollout's ReplicaSets (revision,
//! pod hash, images) and the pod hash running now, read when the dialog opens and sent up as
//! `AppEvent::Revisions`, so the undo the person confirms is pinned to the one they picked.

use super::EventSink;
use crate::cluster::{fetch_rollout, replica_set_info, rollout_replica_sets};
use crate::model::RolloutRef;
use crate::ui::events::{AppEvent, Revisions};

pub async fn load_revisions(sink: &EventSink, client: &kube::Client, rollout: RolloutRef) {
    let read = async {
        let object = fetch_rollout(client, &rollout).await?;
        let replica_sets = rollout_replica_sets(client, &rollout, &object).await?;
        Ok::<_, crate::cluster::ClusterError>(Revisions {
            running_hash: object
                .status
                .as_ref()
                .and_then(|s| s.current_pod_hash.clone()),
            replica_sets: replica_sets.iter().map(replica_set_info).collect(),
        })
    };
    let result = read.await.map_err(|e| {
        format!("could not read the revisions of {rollout}: {e}; close the dialog and try again")
    });
    sink.emit(AppEvent::Revisions { rollout, result });
}
