use super::*;
use proptest::prelude::*;

fn store_with_checkout() -> Store {
    let store = Store::new();
    store
        .create(Kind::Namespace, json!({"metadata": {"name": "demo"}}))
        .unwrap();
    let rollout = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "demo"},
        "spec": {"replicas": 5, "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
        "status": {"currentStepIndex": 1, "phase": "Paused"},
    });
    create(
        &store,
        Kind::Rollout,
        Some("demo"),
        rollout.to_string().as_bytes(),
    )
    .unwrap();
    store
}

/// JSON documents shaped enough like objects and patches to reach deep code paths.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..10).prop_map(Value::from),
        "(/spec/replicas|/status/currentStepIndex|/metadata/name|/metadata/resourceVersion|/spec|/status|/-|[a-z/~01]{0,8})"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                "(spec|status|metadata|resourceVersion|op|path|value|from|replicas|[a-z]{1,4})",
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const MEDIA: [&str; 5] = [
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
];

proptest! {
    #[test]
    fn any_patch_is_answered_with_an_object_or_a_client_error(
        body in json_value(),
        raw in proptest::collection::vec(any::<u8>(), 0..16),
        use_raw in any::<bool>(),
        media in 0..MEDIA.len(),
        status in any::<bool>(),
    ) {
        let store = store_with_checkout();
        let before = store.get(Kind::Rollout, "demo", "checkout").unwrap();
        let bytes = if use_raw { raw } else { body.to_string().into_bytes() };
        let part = if status { Part::Status } else { Part::Main };
        match patch(&store, Kind::Rollout, "demo", "checkout", part, MEDIA[media], &bytes) {
            Ok(after) => {
                prop_assert_eq!(&after, &store.get(Kind::Rollout, "demo", "checkout").unwrap());
                prop_assert_eq!(&after["metadata"]["name"], "checkout");
                prop_assert_eq!(&after["metadata"]["uid"], &before["metadata"]["uid"]);
                prop_assert!(serde_json::from_value::<crate::model::Rollout>(after.clone()).is_ok());
                let kept = if status { "spec" } else { "status" };
                prop_assert_eq!(&after[kept], &before[kept]);
            }
            Err(e) => {
                prop_assert!([400, 409, 415, 422].contains(&e.code), "{e:?}");
                prop_assert_eq!(store.get(Kind::Rollout, "demo", "checkout").unwrap(), before);
            }
        }
    }
}

#[test]
fn json_patch_test_failure_is_invalid_and_changes_nothing() {
    let store = store_with_checkout();
    let ops = r#"[{"op":"test","path":"/status/currentStepIndex","value":0},
                  {"op":"replace","path":"/status/currentStepIndex","value":2}]"#;
    let err = patch(
        &store,
        Kind::Rollout,
        "demo",
        "checkout",
        Part::Status,
        "application/json-patch+json",
        ops.as_bytes(),
    )
    .unwrap_err();
    assert_eq!((err.code, err.reason), (422, "Invalid"));
    let ok = ops.replace("\"value\":0", "\"value\":1");
    let after = patch(
        &store,
        Kind::Rollout,
        "demo",
        "checkout",
        Part::Status,
        "application/json-patch+json",
        ok.as_bytes(),
    )
    .unwrap();
    assert_eq!(after["status"]["currentStepIndex"], 2);
}
