//! The rollback's outcome: after an abort, is all traffic back on a fully available stable,
//! and how long did that take? [`assess`] decides from one reading (pure); [`track`] reads
//! until then or a timeout (`abort --wait`); the window feeds [`outcome`] its fleet's views
//! ([`RollbackReading::of_view`]); [`record`] journals it.

use super::journal::{CommandResult, Completion, Entry, Journal, JournalError};
use crate::cluster::{
    self, ClusterError, ReplicaSetInfo, RolloutDetail, detail_of, rollout_replica_sets,
};
use crate::model::{Provider, Rollout, RolloutRef, RolloutView, StrategyKind};
use serde::Serialize;
use std::time::Duration;

/// The time a rollback should take at most, from the abort to all traffic on a fully
/// available stable: what "complete in 12 s" is measured against.
pub const TARGET: Duration = Duration::from_secs(30);

/// How often [`track`] reads the rollout and its ReplicaSets.
pub const TRACK_EVERY: Duration = Duration::from_millis(500);

/// What a rollback needs, read from the rollout and its ReplicaSets at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackReading {
    pub rollout: RolloutRef,
    pub strategy: StrategyKind,
    /// The stable ReplicaSet's pod hash (`status.stableRS`): what the rollback goes back to.
    pub stable_hash: Option<String>,
    /// Canary: the percent of traffic the canary still takes (what `get` shows as actual).
    pub canary_weight: i32,
    /// Blue-green: the pod hash the active service selects.
    pub active_hash: Option<String>,
    /// The pods the rollout wants (`spec.replicas`, 1 when unset, as Argo defaults it).
    pub desired: i32,
    /// Available pods of the stable ReplicaSet; `None` when ReplicaSets could not be listed
    /// (then the rollout's own `availableReplicas` is used, see [`assess`]).
    pub stable_available: Option<i32>,
    /// `status.availableReplicas` of the rollout.
    pub available: i32,
}

impl RollbackReading {
    /// The reading of `rollout` with its detail (ReplicaSets listed when allowed).
    pub fn of(rollout: &Rollout, detail: &RolloutDetail) -> RollbackReading {
        let view = &detail.view;
        let stable = |rs: &&ReplicaSetInfo| Some(&rs.hash) == view.stable_hash.as_ref();
        let stable_available = if detail.replica_sets.is_empty() {
            None
        } else {
            Some(
                detail
                    .replica_sets
                    .iter()
                    .find(stable)
                    .map_or(0, |rs| rs.available),
            )
        };
        RollbackReading {
            desired: rollout.spec.replicas.unwrap_or(1),
            stable_available,
            ..RollbackReading::of_view(view)
        }
    }

    /// The reading of a rollout's view alone, as the window's fleet watch delivers it (no
    /// ReplicaSets: the rollout's available pods stand for stable's, see [`assess`]).
    pub fn of_view(view: &RolloutView) -> RollbackReading {
        let canary_in_progress =
            view.current_hash.is_some() && view.current_hash != view.stable_hash;
        RollbackReading {
            rollout: view.reference.clone(),
            strategy: view.strategy,
            stable_hash: view.stable_hash.clone(),
            canary_weight: if canary_in_progress {
                view.actual_weight
            } else {
                0
            },
            active_hash: view.active_hash.clone(),
            desired: view.desired_replicas,
            stable_available: None,
            available: view.available_replicas,
        }
    }

    /// Stable's available pods: its ReplicaSet's when known, else the rollout's (which, with
    /// the canary's pods unavailable or gone, are stable's).
    pub fn stable_available(&self) -> i32 {
        self.stable_available.unwrap_or(self.available)
    }
}

/// Where a rollback stands after one reading.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// All traffic is on stable and stable has every pod it should, available.
    Complete,
    /// Not yet; in words, what is still missing ("stable 2/5 available").
    Waiting(String),
}

/// Decides from one reading. Complete when no traffic goes to the new version (canary weight
/// 0; blue-green: the active service selects stable) and the stable ReplicaSet has
/// `spec.replicas` pods available. The rollout's own `availableReplicas == replicas` is not
/// asked for: with traffic routing Argo keeps an aborted canary's pods for
/// `abortScaleDownDelaySeconds` (30 s by default), and those are often the crashing ones.
pub fn assess(reading: &RollbackReading) -> Progress {
    let Some(stable) = reading.stable_hash.as_deref() else {
        return Progress::Waiting(
            "the rollout has no stable ReplicaSet (status.stableRS) to go back to".into(),
        );
    };
    let mut missing = Vec::new();
    match reading.strategy {
        StrategyKind::BlueGreen => {
            if reading.active_hash.as_deref() != Some(stable) {
                missing.push(format!(
                    "the active service still selects {} (stable is {stable})",
                    reading.active_hash.as_deref().unwrap_or("nothing")
                ));
            }
        }
        _ => {
            if reading.canary_weight > 0 {
                missing.push(format!(
                    "{}% of traffic still on the canary",
                    reading.canary_weight
                ));
            }
        }
    }
    let available = reading.stable_available();
    if available < reading.desired {
        missing.push(format!("stable {available}/{} available", reading.desired));
    }
    if missing.is_empty() {
        Progress::Complete
    } else {
        Progress::Waiting(missing.join(", "))
    }
}

/// How a tracked rollback ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutcome {
    pub rollout: RolloutRef,
    /// All traffic on stable and stable fully available, within the time given.
    pub complete: bool,
    /// From the abort to completion (or to giving up).
    pub elapsed_secs: f64,
    pub stable_available: i32,
    pub desired: i32,
    /// Canary traffic left at the end (0 for blue-green).
    pub canary_weight: i32,
    /// "rollback complete in 12 s" or "stuck: stable 2/5 available after 60 s".
    pub message: String,
}

/// The outcome once there is one: complete, or stuck when `timed_out`; `None` while
/// waiting is still worth it. `elapsed` counts from the abort.
pub fn outcome(
    reading: &RollbackReading,
    elapsed: Duration,
    timed_out: bool,
) -> Option<RollbackOutcome> {
    let secs = elapsed.as_secs_f64();
    let message = match assess(reading) {
        Progress::Complete => format!("rollback complete in {}", seconds(secs)),
        Progress::Waiting(_) if !timed_out => return None,
        Progress::Waiting(missing) => format!("stuck: {missing} after {}", seconds(secs)),
    };
    Some(RollbackOutcome {
        rollout: reading.rollout.clone(),
        complete: message.starts_with("rollback complete"),
        elapsed_secs: secs,
        stable_available: reading.stable_available(),
        desired: reading.desired,
        canary_weight: reading.canary_weight,
        message,
    })
}

/// "0.8 s" under ten seconds, else whole seconds ("12 s", "125 s"): what a person compares
/// against a 30 s target.
pub fn seconds(secs: f64) -> String {
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else {
        format!("{secs:.0} s")
    }
}

/// Reads `target` (and its ReplicaSets, when the user may list them) every `every` until the
/// rollback is complete or `timeout` has passed since `aborted_at`; the outcome says which.
/// While the API server does not answer it keeps trying; if it never answers again, the
/// outcome is stuck with the last error. Other errors (deleted, forbidden) end the tracking.
pub async fn track(
    client: &kube::Client,
    target: &RolloutRef,
    aborted_at: tokio::time::Instant,
    timeout: Duration,
    every: Duration,
) -> Result<RollbackOutcome, ClusterError> {
    let mut last: Option<RollbackReading> = None;
    loop {
        let timed_out = aborted_at.elapsed() >= timeout;
        match read(client, target).await {
            Ok(reading) => {
                if let Some(done) = outcome(&reading, aborted_at.elapsed(), timed_out) {
                    return Ok(done);
                }
                last = Some(reading);
            }
            Err(ClusterError::Unreachable { .. }) if !timed_out => {}
            Err(e @ ClusterError::Unreachable { .. }) => {
                let elapsed = aborted_at.elapsed();
                return Ok(RollbackOutcome {
                    rollout: target.clone(),
                    complete: false,
                    elapsed_secs: elapsed.as_secs_f64(),
                    stable_available: last.as_ref().map_or(0, |r| r.stable_available()),
                    desired: last.as_ref().map_or(0, |r| r.desired),
                    canary_weight: last.as_ref().map_or(0, |r| r.canary_weight),
                    message: format!(
                        "stuck: could not read {target} after {}: {e}",
                        seconds(elapsed.as_secs_f64())
                    ),
                });
            }
            Err(e) => return Err(e),
        }
        let left = timeout.saturating_sub(aborted_at.elapsed());
        tokio::time::sleep(every.min(left).max(Duration::from_millis(10))).await;
    }
}

/// One reading: the rollout, and its ReplicaSets when listing them is allowed; for a
/// weighted release, its route and stable Deployment ([`read_weighted`]).
async fn read(client: &kube::Client, target: &RolloutRef) -> Result<RollbackReading, ClusterError> {
    if target.provider == Provider::Gateway {
        return read_weighted(client, target).await;
    }
    let rollout = cluster::fetch_rollout(client, target).await?;
    let sets = match rollout_replica_sets(client, target, &rollout).await {
        Ok(sets) => Some(sets),
        Err(ClusterError::Forbidden { .. }) => None,
        Err(e) => return Err(e),
    };
    let detail = detail_of(&target.context, &rollout, sets.as_deref());
    Ok(RollbackReading::of(&rollout, &detail))
}

/// A weighted release's reading: the canary's share of the route as its weights split it
/// (a gateway moves traffic as soon as the route changes), and the stable Deployment's
/// newest version, desired and available pods.
async fn read_weighted(
    client: &kube::Client,
    target: &RolloutRef,
) -> Result<RollbackReading, ClusterError> {
    let route = match super::gateway::read_release(client, target).await {
        Ok(route) => route,
        Err(super::OrchestratorError::Cluster(e)) => return Err(e),
        Err(_) => {
            return Err(ClusterError::RolloutNotFound {
                context: target.context.clone(),
                namespace: target.namespace.clone(),
                name: target.name.clone(),
            });
        }
    };
    let stable = cluster::release_deployment(client, target, &route.stable.service).await?;
    let (desired, available, stable_hash) = match &stable {
        Some((deployment, replica_sets)) => (
            deployment.spec.replicas.unwrap_or(1),
            deployment
                .status
                .as_ref()
                .and_then(|s| s.available_replicas)
                .unwrap_or(0),
            replica_sets
                .iter()
                .max_by_key(|rs| cluster::deployment_revision(rs))
                .and_then(|rs| rs.metadata.labels.as_ref())
                .and_then(|l| l.get(cluster::DEPLOYMENT_HASH_LABEL))
                .cloned(),
        ),
        None => (1, 0, None),
    };
    Ok(RollbackReading {
        rollout: target.clone(),
        strategy: StrategyKind::Weighted,
        stable_hash,
        canary_weight: route.canary_percent(),
        active_hash: None,
        desired,
        stable_available: Some(available),
        available,
    })
}

/// Appends the rollback's outcome to the journal as a second outcome line of the abort
/// (`id`): result `done`, the outcome in words ("rollback complete in 12 s").
pub fn record(journal: &Journal, id: &str, done: &RollbackOutcome) -> Result<(), JournalError> {
    journal.append(&Entry::Outcome(Completion {
        id: id.to_string(),
        time: jiff::Timestamp::now(),
        result: CommandResult::Done,
        step: None,
        resource_version: None,
        message: done.message.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(weight: i32, stable_available: Option<i32>, available: i32) -> RollbackReading {
        RollbackReading {
            rollout: RolloutRef::new("lab-admin", "demo", "checkout"),
            strategy: StrategyKind::Canary,
            stable_hash: Some("5f4e".into()),
            canary_weight: weight,
            active_hash: None,
            desired: 5,
            stable_available,
            available,
        }
    }

    #[test]
    fn complete_needs_no_canary_traffic_and_every_stable_pod_available() {
        assert_eq!(assess(&canary(0, Some(5), 5)), Progress::Complete);
        assert_eq!(
            assess(&canary(20, Some(5), 6)),
            Progress::Waiting("20% of traffic still on the canary".into())
        );
        assert_eq!(
            assess(&canary(0, Some(2), 2)),
            Progress::Waiting("stable 2/5 available".into())
        );
        assert_eq!(
            assess(&canary(20, Some(2), 3)),
            Progress::Waiting("20% of traffic still on the canary, stable 2/5 available".into())
        );
        // ReplicaSets not listable: the rollout's available pods stand for stable's.
        assert_eq!(assess(&canary(0, None, 5)), Progress::Complete);
        assert_eq!(
            assess(&canary(0, None, 4)),
            Progress::Waiting("stable 4/5 available".into())
        );
    }

    #[test]
    fn blue_green_is_back_when_active_selects_stable() {
        let mut r = canary(0, Some(5), 5);
        r.strategy = StrategyKind::BlueGreen;
        r.active_hash = Some("9a8b".into());
        assert_eq!(
            assess(&r),
            Progress::Waiting("the active service still selects 9a8b (stable is 5f4e)".into())
        );
        r.active_hash = Some("5f4e".into());
        assert_eq!(assess(&r), Progress::Complete);
    }

    #[test]
    fn without_a_stable_replica_set_there_is_nothing_to_go_back_to() {
        let mut r = canary(0, Some(5), 5);
        r.stable_hash = None;
        assert!(matches!(assess(&r), Progress::Waiting(w) if w.contains("no stable ReplicaSet")));
    }

    #[test]
    fn outcome_is_complete_at_once_stuck_only_when_time_is_up() {
        let done = outcome(&canary(0, Some(5), 5), Duration::from_secs(12), false);
        let done = done.expect("complete");
        assert!(done.complete);
        assert_eq!(done.message, "rollback complete in 12 s");
        assert_eq!(
            outcome(&canary(0, Some(2), 2), Duration::from_secs(30), false),
            None,
            "still waiting"
        );
        let stuck = outcome(&canary(0, Some(2), 2), Duration::from_secs(60), true);
        let stuck = stuck.expect("stuck");
        assert!(!stuck.complete);
        assert_eq!(stuck.message, "stuck: stable 2/5 available after 60 s");
        assert_eq!((stuck.stable_available, stuck.desired), (2, 5));
        let quick = outcome(&canary(0, Some(5), 5), Duration::from_millis(800), true);
        assert_eq!(
            quick.map(|o| o.message).as_deref(),
            Some("rollback complete in 0.8 s"),
            "complete wins over a timeout reached at the same reading"
        );
    }
}
