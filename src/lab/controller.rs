//! The lab's simulated Argo Rollouts controller: a pure function from a Rollout object (and
//! the time) to the `status` the real controller would write, plus the ReplicaSets that should
//! exist. lab-api's loop calls [`reconcile`] every 100 ms and writes what comes back.

mod events;
mod hash;
mod output;
mod scale;
mod state;
mod subject;
mod sync;
#[cfg(test)]
mod tests;

pub use events::{RolloutEvent, events_between};
pub use hash::{POD_TEMPLATE_HASH_LABEL, pod_template_hash, step_hash};
pub use scale::{SCALE_DOWN_DEADLINE_ANNOTATION, owned_replica_sets, scale_old_replica_sets};
pub use sync::{BLUE_GREEN_PAUSE, CANARY_PAUSE_STEP, INCONCLUSIVE_PAUSE, parse_duration};

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use state::State;
use subject::{Plan, Subject};

/// Annotation with the rollout's revision number, on the Rollout and on each ReplicaSet.
pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
pub(crate) const DESIRED_REPLICAS_ANNOTATION: &str = "rollout.argoproj.io/desired-replicas";
/// Syncs per call at most; one sync makes one step of progress, the loop stops at rest.
const MAX_SYNCS: usize = 64;

/// What changed for one rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconciled {
    /// The complete new `status` (write it to the status subresource as is).
    pub status: Value,
    /// The ReplicaSet for the current pod template (`<rollout>-<hash>`, label
    /// `rollouts-pod-template-hash`, annotation `rollout.argoproj.io/revision`, ownerReference
    /// to the rollout). Create it when missing; older revisions' ReplicaSets were returned
    /// when they were current (or come with the scenario seed).
    pub replica_sets: Vec<Value>,
    /// For lab-api: annotations to merge into the Rollout's `metadata.annotations` (today only
    /// `rollout.argoproj.io/revision`, bumped on a new revision). A metadata change: it moves
    /// `resourceVersion` but not `generation`. `None` when the annotations are already right.
    pub metadata_annotations: Option<Map<String, Value>>,
    /// The Events Argo's controller would record for this change, oldest first.
    pub events: Vec<RolloutEvent>,
}

/// Run the controller on one Rollout. `now` is the wall clock; pause durations and
/// auto-promotion delays are measured from timestamps in the object's status and divided by
/// `speed`. Returns `None` when nothing would change, so an idle lab writes nothing.
pub fn reconcile(rollout: &Value, now: Timestamp, speed: f64) -> Option<Reconciled> {
    reconcile_with(rollout, &[], now, speed)
}

/// [`reconcile`], knowing the ReplicaSets the rollout owns (see [`owned_replica_sets`]): pods
/// of old ReplicaSets not yet scaled down count in the status replica counts, as in Argo.
pub fn reconcile_with(
    rollout: &Value,
    owned: &[&Value],
    now: Timestamp,
    speed: f64,
) -> Option<Reconciled> {
    let mut subject = Subject::read(rollout)?;
    subject.owned = owned
        .iter()
        .filter_map(|rs| {
            let replicas = rs["spec"]["replicas"].as_i64().unwrap_or(0);
            scale::hash_of(rs).map(|h| (h.to_string(), replicas))
        })
        .collect();
    let old_status = match rollout.get("status") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    let clock = Clock {
        now,
        now_text: whole_seconds(now),
        speed: if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        },
    };
    let mut st = State::read(&old_status);
    let mut revision = subject.revision.unwrap_or(1);
    for _ in 0..MAX_SYNCS {
        let prev = st.clone();
        sync::sync(&subject, &mut st, &clock, &mut revision);
        sync::update_conditions(&subject, &prev, &mut st, revision, &clock);
        if st == prev {
            break;
        }
    }
    let status = subject.write_status(&st, old_status.clone());
    let metadata_annotations = (subject.revision != Some(revision)
        && !matches!(subject.plan, Plan::Invalid(_)))
    .then(|| {
        let mut m = Map::new();
        m.insert(REVISION_ANNOTATION.into(), json!(revision.to_string()));
        m
    });
    if status == old_status && metadata_annotations.is_none() {
        return None;
    }
    let replica_sets = match subject.plan {
        Plan::Invalid(_) => Vec::new(),
        _ => vec![subject.replica_set(&st, revision)],
    };
    let events = events_between(rollout, &status, revision);
    Some(Reconciled {
        events,
        status,
        replica_sets,
        metadata_annotations,
    })
}

/// `now` as Kubernetes writes times: RFC 3339, whole seconds, UTC.
fn whole_seconds(now: Timestamp) -> String {
    Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

pub(crate) struct Clock {
    pub now: Timestamp,
    pub now_text: String,
    pub speed: f64,
}

impl Clock {
    /// Has `lab_seconds` of lab time (wall time × speed) passed since `start`?
    /// An unreadable start time counts as passed, so a rollout never hangs on it.
    pub fn waited(&self, start: &str, lab_seconds: f64) -> bool {
        let Ok(start) = start.parse::<Timestamp>() else {
            return true;
        };
        let elapsed = self.now.duration_since(start).as_secs_f64();
        elapsed * self.speed >= lab_seconds
    }
}
