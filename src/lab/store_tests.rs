use super::*;

fn seeded() -> Store {
    let store = Store::new();
    store
        .create(Kind::Namespace, json!({"metadata": {"name": "demo"}}))
        .unwrap();
    store
        .create(
            Kind::Rollout,
            json!({"metadata": {"name": "checkout", "namespace": "demo"},
                   "spec": {"replicas": 5, "paused": false},
                   "status": {"phase": "Healthy"}}),
        )
        .unwrap();
    store
}

fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn create_sets_identity_and_refuses_duplicates_and_missing_namespaces() {
    let store = seeded();
    let ro = store.get(Kind::Rollout, "demo", "checkout").unwrap();
    assert_eq!(ro["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(ro["kind"], "Rollout");
    assert_eq!(ro["metadata"]["generation"], 1);
    assert_eq!(ro["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert_eq!(rv(&ro), 2);
    let again = store.create(Kind::Rollout, ro.clone());
    assert!(matches!(again, Err(StoreError::AlreadyExists { .. })));
    let elsewhere = store.create(
        Kind::Rollout,
        json!({"metadata": {"name": "x", "namespace": "nowhere"}}),
    );
    assert_eq!(
        elsewhere.unwrap_err().to_string(),
        "namespaces \"nowhere\" not found"
    );
}

#[test]
fn main_writes_drop_status_and_bump_generation_on_spec_only() {
    let store = seeded();
    let out = store
        .update(Kind::Rollout, "demo", "checkout", Part::Main, |cur| {
            let mut next = cur.clone();
            next["spec"]["paused"] = json!(true);
            next["status"]["phase"] = json!("Paused");
            next["metadata"]["labels"] = json!({"team": "shop"});
            Ok::<_, ()>(next)
        })
        .unwrap();
    assert_eq!(out["spec"]["paused"], true);
    assert_eq!(out["status"]["phase"], "Healthy");
    assert_eq!(out["metadata"]["labels"]["team"], "shop");
    assert_eq!(out["metadata"]["generation"], 2);
    assert_eq!(rv(&out), 3);

    let out = store
        .update(Kind::Rollout, "demo", "checkout", Part::Status, |cur| {
            let mut next = cur.clone();
            next["spec"]["replicas"] = json!(1);
            next["status"]["phase"] = json!("Paused");
            Ok::<_, ()>(next)
        })
        .unwrap();
    assert_eq!(out["spec"]["replicas"], 5);
    assert_eq!(out["status"]["phase"], "Paused");
    assert_eq!(out["metadata"]["generation"], 2);
    assert_eq!(rv(&out), 4);
}

#[test]
fn unchanged_writes_are_not_rewritten_and_stale_versions_conflict() {
    let store = seeded();
    let before = store.resource_version();
    let out = store
        .update(Kind::Rollout, "demo", "checkout", Part::Status, |cur| {
            Ok::<_, ()>(cur.clone())
        })
        .unwrap();
    assert_eq!(store.resource_version(), before);
    assert_eq!(rv(&out), before);

    let stale = store.update(Kind::Rollout, "demo", "checkout", Part::Main, |cur| {
        let mut next = cur.clone();
        next["metadata"]["resourceVersion"] = json!("1");
        next["spec"]["paused"] = json!(true);
        Ok::<_, ()>(next)
    });
    assert!(matches!(
        stale,
        Err(UpdateError::Store(StoreError::Conflict { .. }))
    ));
}

#[test]
fn watch_replays_after_a_version_and_sees_live_changes() {
    let store = seeded();
    let mut sub = store.subscribe(Some(1)).unwrap();
    assert_eq!(sub.replay.len(), 1);
    assert_eq!(sub.replay[0].name(), "checkout");
    assert_eq!(sub.replay[0].change, Change::Added);
    store.delete(Kind::Rollout, "demo", "checkout").unwrap();
    let ev = sub.live.try_recv().unwrap();
    assert_eq!(ev.change, Change::Deleted);
    assert_eq!(ev.resource_version, 3);
    assert_eq!(ev.object["metadata"]["resourceVersion"], "3");
    assert!(store.get(Kind::Rollout, "demo", "checkout").is_none());
}

#[test]
fn watch_from_an_evicted_version_is_too_old() {
    let store = seeded();
    for i in 0..REPLAY_EVENTS {
        store
            .update(Kind::Rollout, "demo", "checkout", Part::Status, |cur| {
                let mut next = cur.clone();
                next["status"]["observedGeneration"] = json!(i.to_string());
                Ok::<_, ()>(next)
            })
            .unwrap();
    }
    assert!(store.subscribe(Some(1)).is_err());
    assert!(store.subscribe(Some(store.resource_version() - 5)).is_ok());
}

#[test]
fn a_lagging_watcher_does_not_block_writers() {
    let store = seeded();
    let mut sub = store.subscribe(None).unwrap();
    for i in 0..(WATCH_LAG * 2) {
        store
            .update(Kind::Rollout, "demo", "checkout", Part::Status, |cur| {
                let mut next = cur.clone();
                next["status"]["n"] = json!(i);
                Ok::<_, ()>(next)
            })
            .unwrap();
    }
    assert!(matches!(
        sub.live.try_recv(),
        Err(broadcast::error::TryRecvError::Lagged(_))
    ));
}
