//! Clusters: kubeconfig contexts, one kube client per context, rollout list/get/watch, and
//! the weighted (Gateway API) releases beside them.
//! Everything here reads; changes go through `orchestrator`.

mod analysis_runs;
mod client;
mod error;
mod flagger;
mod kubeconfig;
mod revisions;
mod rollouts;
mod scope;
mod watch;
mod watch_release;
mod weighted;

pub use analysis_runs::{KEPT_RUNS, rollout_analysis_runs, runs_of};
pub use error::{Attempt, ClusterError, chain};
pub use flagger::{canary_resource, get_canary, get_release, list_canaries};
pub use kubeconfig::{
    CONNECT_TIMEOUT, Kubeconfigs, LoadedKubeconfig, READ_TIMEOUT, kubeconfig_user, server_url,
};
pub use revisions::{ReleaseRevisions, SideOwner, SideRevision, release_revisions, revisions_of};
pub(crate) use rollouts::fetch_rollout;
pub use rollouts::{
    POD_TEMPLATE_HASH_LABEL, ReplicaSetInfo, RolloutDetail, TaggedImage, describe_rollout,
    detail_of, get_rollout, list_rollouts, owned_replica_sets, replica_set_info, revision_of,
    rollout_replica_sets,
};
pub use scope::{LIST_ALL_ROLLOUTS_GRANT_HINT, may_list_all_rollouts, self_access_review};
pub use watch::{
    FleetUpdate, RETRY_FIRST, RETRY_MAX, RetryPolicy, ShortBackoff, WATCH_TIMEOUT_SECS, WatchItem,
    describe_watch_error, is_unreachable, resilient_watcher, watch_rollout, watch_rollouts,
    watch_rollouts_with,
};
pub use watch_release::{RELEASE_REREAD, watch_release};
pub use weighted::{
    DEPLOYMENT_HASH_LABEL, deployment_revision, get_weighted, http_route_resource, list_weighted,
    release_deployment,
};
