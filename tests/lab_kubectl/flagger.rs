//! Flagger in the lab as kubectl sees it: canaries listed across namespaces with the CRD's
//! printer columns, patched like any custom resource (a `test` op on the status refused when
//! the weight moved), and the load tester's gates reached through the service proxy with
//! the caller's own RBAC (`services/proxy`): the viewer may read, not open a gate; and
//! podinfo's traffic exported per version under the hashes the cockpit's view names.

use super::*;

const PROXY: &str = "/api/v1/namespaces/test/services/flagger-loadtester:80/proxy";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_canaries_across_namespaces_and_patches_them_pinned_to_the_weight() {
    need_kubectl().await;
    let t = TestLab::start().await;
    let (ok, out, err) = t.run(&["get", "canaries", "-A"]).await;
    assert!(ok, "{err}");
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "STATUS",
            "WEIGHT",
            "LASTTRANSITIONTIME"
        ],
        "{out}"
    );
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>())
    };
    assert_eq!(
        row("podinfo"),
        Some(vec!["test", "podinfo", "Progressing", "30"]),
        "{out}"
    );
    assert_eq!(row("frontend").map(|r| r[0]), Some("test"), "{out}");

    // Pinned to a weight the canary is no longer at: 422, nothing changes.
    let stale = r#"[{"op":"test","path":"/status/canaryWeight","value":10},
                    {"op":"replace","path":"/spec/suspend","value":true}]"#;
    let args = [
        "patch", "canary", "podinfo", "-n", "test", "--type", "json", "-p",
    ];
    let (ok, _, err) = t.run(&[&args[..], &[stale]].concat()).await;
    assert!(!ok && err.contains("is invalid"), "{err}");
    let pinned = r#"[{"op":"test","path":"/status/canaryWeight","value":30},
                     {"op":"add","path":"/spec/suspend","value":true}]"#;
    let (ok, _, err) = t.run(&[&args[..], &[pinned]].concat()).await;
    assert!(ok, "{err}");
    let canary = t.lab.store().get(Kind::Canary, "test", "podinfo").unwrap();
    assert_eq!(canary["spec"]["suspend"], true);
    assert_eq!(canary["status"]["phase"], "Progressing", "status kept");

    let (ok, _, err) = t
        .run(&[
            "--context",
            "lab-viewer",
            "patch",
            "canary",
            "podinfo",
            "-n",
            "test",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"suspend":false}}"#,
        ])
        .await;
    assert!(
        !ok && err.contains("cannot patch resource \"canaries\" in API group \"flagger.app\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_testers_gate_opens_through_the_service_proxy_for_the_admin_only() {
    need_kubectl().await;
    let t = TestLab::start().await;
    let (ok, out, err) = t.run(&["get", "--raw", &format!("{PROXY}/healthz")]).await;
    assert!(ok && out.trim() == "OK", "{out}{err}");

    let body = t.dir.path().join("podinfo.json");
    std::fs::write(&body, r#"{"name":"podinfo","namespace":"test"}"#).unwrap();
    let body = body.to_str().unwrap();
    let open = format!("{PROXY}/gate/open");
    let (ok, _, err) = t
        .run(&[
            "--context",
            "lab-viewer",
            "create",
            "--raw",
            &open,
            "-f",
            body,
        ])
        .await;
    assert!(
        !ok && err.contains(
            "User \"lab-viewer\" cannot create resource \"services/proxy\" in API group \"\" in the namespace \"test\""
        ),
        "{err}"
    );
    assert!(
        !t.lab
            .load_tester()
            .log()
            .iter()
            .any(|l| l.contains("opened")),
        "the refused request never reached the load tester: {:?}",
        t.lab.load_tester().log()
    );
    assert!(!t.lab.load_tester().is_open("podinfo", "test", false));

    let (ok, _, err) = t.run(&["create", "--raw", &open, "-f", body]).await;
    assert!(ok, "{err}");
    assert!(t.lab.load_tester().is_open("podinfo", "test", false));
    assert!(
        t.lab
            .load_tester()
            .log()
            .contains(&"podinfo.test gate opened".to_string()),
        "{:?}",
        t.lab.load_tester().log()
    );

    // A Service with no load tester behind it answers as kube-apiserver does.
    let (ok, _, err) = t
        .run(&[
            "get",
            "--raw",
            "/api/v1/namespaces/test/services/podinfo:9898/proxy/",
        ])
        .await;
    assert!(!ok && err.contains("no endpoints available"), "{err}");
}

/// Traffic per version follows the canary's weight: the lab's exposition carries podinfo's
/// requests under both versions' pod-template hashes, the very hashes the cockpit's view
/// names stable (podinfo-primary) and canary (podinfo), so the Istio templates' grouped
/// queries chart and judge a Flagger canary unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podinfos_traffic_is_exported_per_version_under_the_views_hashes() {
    let t = TestLab::start().await;
    let client = t.client("lab-viewer").await;
    let views = release_cockpit::cluster::list_canaries(&client, "lab-viewer", Some("test"))
        .await
        .unwrap();
    let podinfo = views
        .iter()
        .find(|v| v.reference.name == "podinfo")
        .expect("podinfo listed");
    let hashes: Vec<String> = podinfo.versions().into_iter().map(|v| v.hash).collect();
    assert_eq!(hashes.len(), 2, "{:?}", podinfo.versions());
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = http
            .get(&t.lab.metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let served = |hash: &str| {
            text.lines().any(|l| {
                l.starts_with("istio_requests_total{")
                    && l.contains("destination_canonical_service=\"podinfo\"")
                    && l.contains(&format!("rollouts_pod_template_hash=\"{hash}\""))
            })
        };
        if hashes.iter().all(|h| served(h)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no requests of podinfo for both {hashes:?} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A canary created with kubectl for a Deployment of one's own: the CRD's required fields
/// are enforced (422), and the simulated Flagger initializes it as Flagger does — the
/// primary Deployment, the three Services and the route — and scales the target to zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_canary_is_validated_then_initialized_with_its_primary_services_and_route() {
    need_kubectl().await;
    let t = TestLab::start().await;
    // kubectl sends built-in kinds as protobuf, which the lab does not read: the Deployment
    // goes in directly, the Canary (a custom resource, JSON) through kubectl.
    t.lab
        .store()
        .create(
            Kind::Deployment,
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "test"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}),
        )
        .unwrap();
    let no_target = t.dir.path().join("bad.json");
    std::fs::write(
        &no_target,
        r#"{"apiVersion":"flagger.app/v1beta1","kind":"Canary",
            "metadata":{"name":"web","namespace":"test"},"spec":{"analysis":{"interval":"1m"}}}"#,
    )
    .unwrap();
    let (ok, _, err) = t.run(&["create", "-f", no_target.to_str().unwrap()]).await;
    assert!(
        !ok && err.contains("spec.targetRef: Required value"),
        "{err}"
    );
    let canary = t.dir.path().join("web.json");
    std::fs::write(
        &canary,
        r#"{"apiVersion":"flagger.app/v1beta1","kind":"Canary",
            "metadata":{"name":"web","namespace":"test"},
            "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
                    "service":{"port":8080},
                    "analysis":{"interval":"1m","threshold":2,"maxWeight":50,"stepWeight":25}}}"#,
    )
    .unwrap();
    let (ok, _, err) = t.run(&["create", "-f", canary.to_str().unwrap()]).await;
    assert!(ok, "{err}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let phase =
            t.lab.store().get(Kind::Canary, "test", "web").unwrap()["status"]["phase"].clone();
        if phase == "Initialized" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "web not initialized: {phase}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (ok, out, err) = t
        .run(&[
            "get",
            "deployments,services,httproutes",
            "-n",
            "test",
            "-o",
            "name",
        ])
        .await;
    assert!(ok, "{err}");
    for made in [
        "deployment.apps/web-primary",
        "service/web",
        "service/web-primary",
        "service/web-canary",
        "httproute.gateway.networking.k8s.io/web",
    ] {
        assert!(out.lines().any(|l| l == made), "{made} missing in:\n{out}");
    }
    let target = t.lab.store().get(Kind::Deployment, "test", "web").unwrap();
    assert_eq!(target["spec"]["replicas"], 0, "the target waits at zero");
}
