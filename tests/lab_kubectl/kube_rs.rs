//! kube-rs against the lab: typed list/get/watch of Rollouts, patch semantics (status
//! subresource, 409, 415, 422), Forbidden for the viewer, event recording.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use release_cockpit::model::Rollout;
use serde_json::{Value, json};

use crate::{Kind, TestLab, generation};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_lists_gets_and_watches_rollouts() {
    let t = TestLab::start().await;
    let client = t.client("lab-admin").await;
    let all: Api<Rollout> = Api::all(client.clone());
    let names: Vec<String> = all
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r.metadata.name.clone().unwrap())
        .collect();
    assert!(names.contains(&"checkout".to_string()), "{names:?}");
    let demo: Api<Rollout> = Api::namespaced(client, "demo");
    let checkout = demo.get("checkout").await.unwrap();
    assert_eq!(checkout.metadata.namespace.as_deref(), Some("demo"));

    let mut events = watcher(demo.clone(), watcher::Config::default()).boxed();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => panic!("watcher did not finish its initial list: {other:?}"),
        }
    }
    let label = json!({"metadata": {"labels": {"seen-by": "kube-rs"}}});
    demo.patch("checkout", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.try_next().await.unwrap() {
            if let watcher::Event::Apply(ro) = event {
                let labels = ro.metadata.labels.unwrap_or_default();
                if labels.get("seen-by").map(String::as_str) == Some("kube-rs") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "the watcher did not see the patch");

    // The streaming-list variant (sendInitialEvents + the initial-events-end bookmark).
    let streaming = watcher::Config::default().streaming_lists();
    let mut events = watcher(demo.clone(), streaming).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await {
            Ok(Ok(Some(watcher::Event::InitApply(ro)))) => initial.push(ro.metadata.name.unwrap()),
            Ok(Ok(Some(watcher::Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => panic!("streaming list did not finish: {other:?}"),
        }
    }
    assert!(initial.contains(&"checkout".to_string()), "{initial:?}");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_failed_test_op_is_422_and_stale_resource_version_is_409() {
    let t = TestLab::start().await;
    let demo: Api<Rollout> = Api::namespaced(t.client("lab-admin").await, "demo");
    let pin: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/name", "value": "not-checkout"},
        {"op": "replace", "path": "/spec/paused", "value": true},
    ]))
    .unwrap();
    let err = demo
        .patch_status("checkout", &PatchParams::default(), &Patch::Json::<()>(pin))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => assert!(s.code == 422 && s.is_invalid(), "{s:?}"),
        other => panic!("expected a 422 Status, got {other:?}"),
    }
    assert_ne!(
        t.rollout("checkout")["spec"]["paused"],
        json!(true),
        "a failed test op applies nothing"
    );

    let stale = json!({"metadata": {"resourceVersion": "1"}, "spec": {"paused": true}});
    let err = demo
        .patch("checkout", &PatchParams::default(), &Patch::Merge(&stale))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.is_conflict()),
        "{err:?}"
    );

    let mut current = demo.get("checkout").await.unwrap();
    current.metadata.resource_version = Some("1".into());
    let err = demo
        .replace("checkout", &PostParams::default(), &current)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409),
        "{err:?}"
    );

    let strategic = Patch::Strategic(json!({"spec": {"paused": true}}));
    let err = demo
        .patch("checkout", &PatchParams::default(), &strategic)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 415),
        "{err:?}"
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_status_subresource_semantics() {
    let t = TestLab::start().await;
    let demo: Api<Rollout> = Api::namespaced(t.client("lab-admin").await, "demo");
    let before = t.rollout("search");
    let rv = |o: &Value| {
        o["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    // Assertions read the objects the server answered with: the simulated controller may
    // rewrite status right after a write.
    let answered = |ro: Rollout| serde_json::to_value(ro).unwrap();

    let status_only = json!({"status": {"message": "set by the test"}, "spec": {"replicas": 42}});
    let params = PatchParams::default();
    let after_status = answered(
        demo.patch_status("search", &params, &Patch::Merge(&status_only))
            .await
            .unwrap(),
    );
    assert_eq!(after_status["status"]["message"], "set by the test");
    assert_eq!(
        after_status["spec"]["replicas"], before["spec"]["replicas"],
        "spec sent to /status is dropped"
    );
    assert_eq!(
        generation(&after_status),
        generation(&before),
        "a status write keeps the generation"
    );
    assert!(rv(&after_status) > rv(&before));

    let spec_only = json!({"spec": {"paused": true}, "status": {"phase": "Bogus"}});
    let after_spec = answered(
        demo.patch("search", &params, &Patch::Merge(&spec_only))
            .await
            .unwrap(),
    );
    assert_eq!(after_spec["spec"]["paused"], true);
    assert_ne!(
        after_spec["status"]["phase"], "Bogus",
        "status sent to the main resource is dropped"
    );
    assert_eq!(generation(&after_spec), generation(&before) + 1);
    assert!(rv(&after_spec) > rv(&after_status));

    let labels_only = json!({"metadata": {"labels": {"team": "search"}}});
    let after_labels = answered(
        demo.patch("search", &params, &Patch::Merge(&labels_only))
            .await
            .unwrap(),
    );
    assert_eq!(
        generation(&after_labels),
        generation(&after_spec),
        "metadata changes keep the generation"
    );
    assert!(rv(&after_labels) > rv(&after_spec));
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_records_events_in_both_event_apis() {
    use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};

    let t = TestLab::start().await;
    let client = t.client("lab-admin").await;
    let reporter = Reporter {
        controller: "release-cockpit".into(),
        instance: None,
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let checkout = t.rollout("checkout");
    let reference = ObjectReference {
        api_version: Some("argoproj.io/v1alpha1".into()),
        kind: Some("Rollout".into()),
        name: Some("checkout".into()),
        namespace: Some("demo".into()),
        uid: checkout["metadata"]["uid"].as_str().map(String::from),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Normal,
        reason: "Promoted".into(),
        note: Some("promoted by the lab test".into()),
        action: "Promote".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.unwrap();
    // The same event again becomes a series: kube-rs patches the stored one.
    recorder.publish(&event, &reference).await.unwrap();
    let (events, _) = t.lab.store().list(Kind::EventV1, Some("demo"));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "Promoted");
    assert_eq!(events[0]["series"]["count"], 2);

    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "demo");
    let body: CoreEvent = serde_json::from_value(json!({
        "metadata": {"generateName": "checkout."},
        "involvedObject": {"kind": "Rollout", "name": "checkout", "namespace": "demo"},
        "reason": "Aborted", "message": "aborted by the lab test", "type": "Warning",
    }))
    .unwrap();
    let created = core.create(&PostParams::default(), &body).await.unwrap();
    assert!(created.metadata.name.unwrap().starts_with("checkout."));
    let all: Api<CoreEvent> = Api::all(client);
    let listed = all.list(&ListParams::default()).await.unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Aborted"))
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_is_forbidden_and_strangers_are_unauthorized() {
    let t = TestLab::start().await;
    let viewer: Api<Rollout> = Api::namespaced(t.client("lab-viewer").await, "demo");
    assert!(viewer.get("checkout").await.is_ok());
    let err = viewer
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert!(s.is_forbidden());
            assert_eq!(
                s.message,
                "rollouts.argoproj.io \"checkout\" is forbidden: User \"lab-viewer\" cannot patch \
                 resource \"rollouts\" in API group \"argoproj.io\" in the namespace \"demo\""
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    let http = t.http();
    let url = format!("{}/apis/argoproj.io/v1alpha1/rollouts", t.lab.api_url);
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Unauthorized");
    let response = http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.status(), 401);
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_access_reviews_answer_per_user_verb_and_subresource() {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };

    let t = TestLab::start().await;
    let ask = |verb: &str, subresource: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some("argoproj.io".into()),
                resource: Some("rollouts".into()),
                subresource: Some(subresource.into()).filter(|s: &String| !s.is_empty()),
                verb: Some(verb.into()),
                namespace: Some("demo".into()),
                name: Some("checkout".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    for (context, may_write) in [("lab-admin", true), ("lab-viewer", false)] {
        let client = t.client(context).await;
        let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
        for (verb, subresource, expected) in [
            ("get", "", true),
            ("watch", "", true),
            ("patch", "", may_write),
            ("patch", "status", may_write),
            ("delete", "", may_write),
        ] {
            let answer = reviews
                .create(&PostParams::default(), &ask(verb, subresource))
                .await
                .unwrap();
            let allowed = answer.status.map(|s| s.allowed);
            assert_eq!(
                allowed,
                Some(expected),
                "{context} {verb} rollouts/{subresource}"
            );
        }
        let whoami: Api<SelfSubjectReview> = Api::all(client);
        let me = whoami
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .unwrap();
        let user = me.status.and_then(|s| s.user_info).and_then(|u| u.username);
        assert_eq!(user.as_deref(), Some(context));
    }
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_finds_a_revisions_replica_set_by_label() {
    use k8s_openapi::api::apps::v1::ReplicaSet;

    let t = TestLab::start().await;
    let client = t.client("lab-viewer").await;
    let stable = t.rollout("checkout")["status"]["stableRS"]
        .as_str()
        .unwrap()
        .to_string();
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client, "demo");
    let by_hash = ListParams::default().labels(&format!("rollouts-pod-template-hash={stable}"));
    let found = replica_sets.list(&by_hash).await.unwrap().items;
    assert_eq!(found.len(), 1, "exactly the stable revision's ReplicaSet");
    let labels = found[0].metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("rollouts-pod-template-hash"), Some(&stable));
    let by_app = replica_sets
        .list(&ListParams::default().labels("app=checkout"))
        .await
        .unwrap()
        .items;
    assert!(
        by_app.len() >= 2,
        "stable and canary ReplicaSets of checkout"
    );
    assert!(by_app.iter().all(|rs| {
        rs.metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("checkout-")
    }));
    let name = found[0].metadata.name.clone().unwrap();
    assert_eq!(
        replica_sets.get(&name).await.unwrap().metadata.name,
        Some(name)
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_pinned_promotes_let_exactly_one_through() {
    let t = TestLab::start().await;
    let demo: Api<Rollout> = Api::namespaced(t.client("lab-admin").await, "demo");
    // Pin the step checkout waits at for approval (the controller may still be moving it
    // there right after the lab starts).
    let mut waited = 0;
    while t.rollout("checkout")["status"]["pauseConditions"].is_null() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let step = t.rollout("checkout")["status"]["currentStepIndex"].clone();
    let pinned = || -> json_patch::Patch {
        serde_json::from_value(json!([
            {"op": "test", "path": "/status/currentStepIndex", "value": step},
            {"op": "replace", "path": "/status/currentStepIndex", "value": step.as_i64().unwrap() + 1},
        ]))
        .unwrap()
    };
    let params = PatchParams::default();
    let (one, other) = (Patch::Json::<()>(pinned()), Patch::Json::<()>(pinned()));
    let (first, second) = tokio::join!(
        demo.patch_status("checkout", &params, &one),
        demo.patch_status("checkout", &params, &other),
    );
    let refused: Vec<_> = [&first, &second]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "exactly one promote is refused: {first:?} {second:?}"
    );
    assert!(matches!(refused[0], kube::Error::Api(s) if s.code == 422));
    t.lab.shutdown().await;
}

/// `lab-dev` may do everything in namespace demo and nothing elsewhere: listing rollouts
/// across all namespaces is a 403 worded as kube-apiserver words it, and the access reviews
/// (what `cluster::may_list_all_rollouts` asks before the window watches) say the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_lists_rollouts_in_demo_only_and_the_reviews_agree() {
    use k8s_openapi::api::authorization::v1::ResourceAttributes;
    use release_cockpit::cluster::{
        FleetUpdate, may_list_all_rollouts, self_access_review, watch_rollouts,
    };

    let t = TestLab::start().await;
    t.rollout_elsewhere("team-b", "ledger");
    let dev = t.client("lab-dev").await;

    // Listing across all namespaces: 403, exactly as kube-apiserver says it.
    let url = format!("{}/apis/argoproj.io/v1alpha1/rollouts", t.lab.api_url);
    let response = t
        .http()
        .get(&url)
        .bearer_auth(t.lab.dev_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Forbidden");
    let cluster_scope = "rollouts.argoproj.io is forbidden: User \"lab-dev\" cannot list resource \
                         \"rollouts\" in API group \"argoproj.io\" at the cluster scope";
    assert_eq!(body["message"], cluster_scope);
    match Api::<Rollout>::all(dev.clone())
        .list(&ListParams::default())
        .await
        .unwrap_err()
    {
        kube::Error::Api(s) => assert!(s.is_forbidden() && s.message == cluster_scope, "{s:?}"),
        other => panic!("expected 403, got {other:?}"),
    }

    // In demo: 200, the same rollouts the admin sees there, and writes go through.
    let demo_url = format!(
        "{}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts",
        t.lab.api_url
    );
    let response = t
        .http()
        .get(&demo_url)
        .bearer_auth(t.lab.dev_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let names = |list: Vec<Rollout>| -> Vec<String> {
        let mut n: Vec<String> = list.into_iter().filter_map(|r| r.metadata.name).collect();
        n.sort();
        n
    };
    let lp = ListParams::default();
    let in_demo = names(
        Api::<Rollout>::namespaced(dev.clone(), "demo")
            .list(&lp)
            .await
            .unwrap()
            .items,
    );
    let admin = t.client("lab-admin").await;
    let admin_demo = Api::<Rollout>::namespaced(admin.clone(), "demo");
    assert_eq!(in_demo, names(admin_demo.list(&lp).await.unwrap().items));
    assert!(in_demo.contains(&"checkout".to_string()), "{in_demo:?}");
    Api::<Rollout>::namespaced(dev.clone(), "demo")
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"team": "dev"}}})),
        )
        .await
        .unwrap();
    // Elsewhere: 403 naming the namespace, while the admin sees the rollout there.
    match Api::<Rollout>::namespaced(dev.clone(), "team-b")
        .get("ledger")
        .await
        .unwrap_err()
    {
        kube::Error::Api(s) => assert_eq!(
            s.message,
            "rollouts.argoproj.io \"ledger\" is forbidden: User \"lab-dev\" cannot get resource \
             \"rollouts\" in API group \"argoproj.io\" in the namespace \"team-b\""
        ),
        other => panic!("expected 403, got {other:?}"),
    }
    let everywhere = names(
        Api::<Rollout>::all(admin.clone())
            .list(&lp)
            .await
            .unwrap()
            .items,
    );
    assert!(everywhere.contains(&"ledger".to_string()), "{everywhere:?}");

    // The access reviews follow the same rule.
    let list_rollouts = |namespace: Option<&str>| ResourceAttributes {
        namespace: namespace.map(str::to_string),
        verb: Some("list".into()),
        group: Some("argoproj.io".into()),
        resource: Some("rollouts".into()),
        ..ResourceAttributes::default()
    };
    for (namespace, expected) in [(None, false), (Some("demo"), true), (Some("team-b"), false)] {
        let answer = self_access_review(&dev, list_rollouts(namespace))
            .await
            .unwrap()
            .map(|s| s.allowed);
        assert_eq!(
            answer,
            Some(expected),
            "lab-dev list rollouts in {namespace:?}"
        );
    }
    assert_eq!(may_list_all_rollouts(&dev).await, Some(false));
    assert_eq!(may_list_all_rollouts(&admin).await, Some(true));
    assert_eq!(
        may_list_all_rollouts(&t.client("lab-viewer").await).await,
        Some(true)
    );

    // The cockpit's watch: all namespaces fails with the 403, demo holds demo's rollouts.
    let first = |namespace: Option<&str>| {
        let updates = watch_rollouts(dev.clone(), "lab-dev".into(), namespace.map(Into::into));
        async move {
            let mut updates = std::pin::pin!(updates);
            tokio::time::timeout(Duration::from_secs(10), updates.next())
                .await
                .expect("an update within 10 s")
                .expect("the watch goes on")
        }
    };
    match first(None).await {
        FleetUpdate::Error(reason) => assert!(reason.contains(cluster_scope), "{reason}"),
        other => panic!("expected the 403, got {other:?}"),
    }
    match first(Some("demo")).await {
        FleetUpdate::Snapshot(views) => {
            let seen: Vec<String> = views.into_iter().map(|v| v.reference.name).collect();
            assert_eq!(seen, in_demo);
        }
        other => panic!("expected demo's rollouts, got {other:?}"),
    }
    t.lab.shutdown().await;
}
