//! The ReplicaSets around a rollout (current one following the canary weight, old ones
//! scaled down as Argo does) and the Events the controller records, driven like the lab loop.

use super::*;

/// A rollout with its ReplicaSets, advanced the way the lab loop does it.
struct Cluster {
    ro: Value,
    replica_sets: Vec<Value>,
    events: Vec<RolloutEvent>,
}

impl Cluster {
    fn new(ro: Value) -> Cluster {
        Cluster {
            ro,
            replica_sets: Vec::new(),
            events: Vec::new(),
        }
    }

    fn put(&mut self, rs: Value) {
        let name = rs["metadata"]["name"].clone();
        match self
            .replica_sets
            .iter_mut()
            .find(|r| r["metadata"]["name"] == name)
        {
            Some(slot) => *slot = rs,
            None => self.replica_sets.push(rs),
        }
    }

    /// One loop tick; returns whether anything was written.
    fn tick(&mut self, now: Timestamp) -> bool {
        let all = self.replica_sets.clone();
        let owned = owned_replica_sets(&self.ro, &all);
        let mut wrote = false;
        if let Some(out) = reconcile_with(&self.ro, &owned, now, 1.0) {
            self.ro["status"] = out.status;
            for (k, v) in out.metadata_annotations.unwrap_or_default() {
                self.ro["metadata"]["annotations"][k] = v;
            }
            for rs in out.replica_sets {
                self.put(rs);
            }
            self.events.extend(out.events);
            wrote = true;
        }
        for rs in scale_old_replica_sets(&self.ro, &owned, now, 1.0) {
            self.put(rs);
            wrote = true;
        }
        wrote
    }

    /// Ticks at `now` until nothing changes.
    fn settle(&mut self, now: Timestamp) {
        for _ in 0..10 {
            if !self.tick(now) {
                return;
            }
        }
        panic!("no rest after 10 ticks: {}", self.ro["status"]);
    }

    fn replicas(&self, hash: &str) -> i64 {
        let rs = self
            .replica_sets
            .iter()
            .find(|r| r["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL] == hash)
            .unwrap_or_else(|| panic!("no ReplicaSet for {hash}"));
        assert_eq!(rs["spec"]["replicas"], rs["status"]["replicas"]);
        rs["spec"]["replicas"].as_i64().unwrap()
    }

    fn reasons(&mut self) -> Vec<String> {
        self.events
            .drain(..)
            .map(|e| format!("{}: {}", e.reason, e.message))
            .collect()
    }
}

#[test]
fn the_canary_follows_the_weight_and_the_old_stable_goes_to_zero_when_done() {
    let mut c = Cluster::new(canary_rollout("registry.example/checkout:1.4.1"));
    c.settle(t0());
    let v1 = s(&c.ro, "currentPodHash").as_str().unwrap().to_string();
    assert_eq!(c.replicas(&v1), 5);
    assert!(
        c.reasons().is_empty(),
        "a first revision records no step events"
    );

    let v2 = deploy_v2(&mut c.ro);
    c.settle(at(1));
    // Traffic routing: the stable keeps all its pods, the canary gets ceil(20% of 5) = 1.
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (5, 1));
    assert_eq!(
        (s(&c.ro, "replicas"), s(&c.ro, "updatedReplicas")),
        (&json!(6), &json!(1))
    );
    assert_eq!(
        c.reasons(),
        [
            "RolloutUpdated: Rollout updated to revision 2",
            &format!("NewReplicaSetCreated: Created ReplicaSet checkout-{v2} (revision 2)"),
            "RolloutStepCompleted: Rollout step 1/8 completed (setWeight: 20)",
            "TrafficWeightUpdated: Traffic weight updated from 0 to 20",
            "RolloutPaused: Rollout is paused (CanaryPauseStep)",
        ]
    );
    assert_eq!(c.ro["metadata"]["annotations"][REVISION_ANNOTATION], "2");

    patch_status(&mut c.ro, json!({"pauseConditions": null}));
    c.settle(at(2));
    // 40% of 5 is 2, and the 30 s pause holds it there.
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (5, 2));
    let reasons = c.reasons();
    assert!(reasons.contains(&"RolloutResumed: Rollout is resumed".into()));
    assert!(reasons.contains(&"RolloutStepCompleted: Rollout step 2/8 completed (pause)".into()));

    patch_status(&mut c.ro, json!({"promoteFull": true}));
    c.settle(at(3));
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (0, 5));
    assert_eq!(s(&c.ro, "replicas"), 5);
    assert_eq!(s(&c.ro, "phase"), "Healthy");
    assert_eq!(condition(&c.ro, "Healthy")["status"], "True");
    assert!(
        c.reasons().contains(&format!(
            "RolloutCompleted: Rollout completed update to revision 2 ({v2}): Completed all 8 canary steps"
        )),
    );
    assert!(!c.tick(at(600)), "at rest, nothing is written");
}

#[test]
fn abort_scales_the_canary_to_zero_and_records_a_warning() {
    let mut c = Cluster::new(canary_rollout("registry.example/checkout:1.4.1"));
    c.settle(t0());
    let v1 = s(&c.ro, "currentPodHash").as_str().unwrap().to_string();
    let v2 = deploy_v2(&mut c.ro);
    c.settle(at(1));
    c.reasons();
    patch_status(&mut c.ro, json!({"abort": true}));
    c.settle(at(2));
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (5, 0));
    let aborted: Vec<_> = c.events.iter().filter(|e| e.type_ == "Warning").collect();
    assert_eq!(aborted.len(), 1, "{:?}", c.events);
    assert_eq!(aborted[0].reason, "RolloutAborted");
    assert_eq!(aborted[0].message, "Rollout aborted update to revision 2");
}

#[test]
fn blue_green_keeps_the_old_active_for_the_scale_down_delay() {
    let mut ro = blue_green_rollout(
        "registry.example/payments:2.0.0",
        json!({"autoPromotionEnabled": false, "scaleDownDelaySeconds": 30}),
    );
    ro["metadata"]["uid"] = json!("u-2");
    let mut c = Cluster::new(ro);
    c.settle(t0());
    let v1 = s(&c.ro, "currentPodHash").as_str().unwrap().to_string();
    set_spec(
        &mut c.ro,
        "/spec/template",
        template("registry.example/payments:2.1.0"),
    );
    let v2 = pod_template_hash(&c.ro["spec"]["template"]);
    c.settle(at(1));
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (3, 3));
    assert_eq!(s(&c.ro, "replicas"), 6);

    patch_status(&mut c.ro, json!({"pauseConditions": null}));
    c.settle(at(2));
    assert_eq!(c.ro["status"]["blueGreen"]["activeSelector"], v2.as_str());
    // Switched: the old active still runs (and counts) until its deadline.
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (3, 3));
    assert_eq!(s(&c.ro, "replicas"), 6);
    assert_eq!(s(&c.ro, "availableReplicas"), 3);
    let old = c
        .replica_sets
        .iter()
        .find(|r| r["metadata"]["name"] == format!("payments-{v1}"))
        .unwrap();
    assert_eq!(
        old["metadata"]["annotations"][SCALE_DOWN_DEADLINE_ANNOTATION],
        "2026-11-22T10:00:32Z"
    );
    c.settle(at(20));
    assert_eq!(c.replicas(&v1), 3, "before the deadline");
    c.settle(at(33));
    assert_eq!((c.replicas(&v1), c.replicas(&v2)), (0, 3));
    assert_eq!(s(&c.ro, "replicas"), 3);
    assert_eq!(s(&c.ro, "phase"), "Healthy");
    let old = c
        .replica_sets
        .iter()
        .find(|r| r["metadata"]["name"] == format!("payments-{v1}"))
        .unwrap();
    assert!(old["metadata"]["annotations"][SCALE_DOWN_DEADLINE_ANNOTATION].is_null());
}
