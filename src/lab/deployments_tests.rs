use super::*;
use crate::lab::seeded_store;
use jiff::SignedDuration;

fn cart_stable_replica_sets(store: &Store) -> Vec<Value> {
    let (all, _) = store.list(Kind::ReplicaSet, Some("demo"));
    all.into_iter()
        .filter(|rs| {
            rs["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("cart-stable-")
        })
        .collect()
}

#[test]
fn a_template_change_rolls_out_a_new_replica_set_once_its_pods_are_available() {
    let store = seeded_store("demo").unwrap();
    let start = Timestamp::now();
    tick(&store, start, 1.0);
    let first = cart_stable_replica_sets(&store);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0]["status"]["availableReplicas"], 3,
        "seeded: running"
    );
    assert_eq!(
        first[0]["metadata"]["annotations"][DEPLOYMENT_REVISION_ANNOTATION],
        "1"
    );
    // The status write lost to the revision annotation's (a conflict): the next tick.
    tick(&store, start, 1.0);
    let at_rest = store.resource_version();
    tick(&store, start, 1.0);
    assert_eq!(
        store.resource_version(),
        at_rest,
        "nothing to write at rest"
    );

    store
        .update(Kind::Deployment, "demo", "cart-stable", Part::Main, |d| {
            let mut d = d.clone();
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("cart:2.4.0");
            Ok::<_, std::convert::Infallible>(d)
        })
        .unwrap();
    tick(&store, start, 1.0);
    let rolling = cart_stable_replica_sets(&store);
    assert_eq!(rolling.len(), 2);
    let new = |sets: &[Value]| {
        sets.iter()
            .find(|rs| rs["metadata"]["annotations"][DEPLOYMENT_REVISION_ANNOTATION] == "2")
            .cloned()
            .unwrap()
    };
    assert_eq!(new(&rolling)["status"]["availableReplicas"], 0);
    let hash = new(&rolling)["metadata"]["labels"][DEPLOYMENT_HASH_LABEL].clone();
    assert_eq!(
        new(&rolling)["spec"]["template"]["metadata"]["labels"][DEPLOYMENT_HASH_LABEL],
        hash
    );
    let deployment = store.get(Kind::Deployment, "demo", "cart-stable").unwrap();
    assert_eq!(
        deployment["status"]["availableReplicas"], 3,
        "the old pods serve"
    );

    let later = start + SignedDuration::from_secs_f64(AVAILABLE_AFTER_SECS + 0.1);
    tick(&store, later, 1.0);
    tick(&store, later, 1.0);
    let done = cart_stable_replica_sets(&store);
    assert_eq!(new(&done)["status"]["availableReplicas"], 3);
    let old = done
        .iter()
        .find(|rs| rs["metadata"]["labels"][DEPLOYMENT_HASH_LABEL] != hash)
        .unwrap();
    assert_eq!(
        old["spec"]["replicas"], 0,
        "the old ReplicaSet is scaled down"
    );
    let deployment = store.get(Kind::Deployment, "demo", "cart-stable").unwrap();
    assert_eq!(deployment["status"]["updatedReplicas"], 3);
    let (events, _) = store.list(Kind::Event, Some("demo"));
    let messages: Vec<&str> = events
        .iter()
        .filter(|e| {
            e["involvedObject"]["kind"] == "Deployment"
                && e["involvedObject"]["name"] == "cart-stable"
                && e["reason"] == "ScalingReplicaSet"
                && e["source"]["component"] == "deployment-controller"
        })
        .filter_map(|e| e["message"].as_str())
        .collect();
    let old_hash = old["metadata"]["labels"][DEPLOYMENT_HASH_LABEL]
        .as_str()
        .unwrap();
    assert_eq!(
        messages,
        [
            format!("Scaled up replica set cart-stable-{old_hash} from 0 to 3"),
            format!(
                "Scaled up replica set cart-stable-{} from 0 to 3",
                hash.as_str().unwrap()
            ),
            format!("Scaled down replica set cart-stable-{old_hash} from 3 to 0"),
        ],
        "as kube-controller-manager records them"
    );
    assert_eq!(
        deployment["metadata"]["annotations"][DEPLOYMENT_REVISION_ANNOTATION],
        "2"
    );
}
