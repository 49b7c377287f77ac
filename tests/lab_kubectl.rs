//! End-to-end tests of the lab's Kubernetes API with independent clients: the real kubectl
//! (driven through the kubeconfig the lab writes), kube-rs, and raw HTTP for bad input.
//! Every test starts its own lab on a free port with its own directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use release_cockpit::lab::{Kind, Lab, LabOptions, PrometheusMode};
use release_cockpit::model::Rollout;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

struct TestLab {
    lab: Lab,
    dir: tempfile::TempDir,
}

impl TestLab {
    async fn start() -> TestLab {
        let dir = tempfile::tempdir().unwrap();
        let opts = LabOptions {
            dir: Some(dir.path().to_path_buf()),
            prometheus: PrometheusMode::Off,
            ..LabOptions::default()
        };
        let lab = Lab::start(opts).await.unwrap();
        TestLab { lab, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.lab.kubeconfig_path.clone().unwrap()
    }

    fn rollout(&self, name: &str) -> Value {
        self.lab.store().get(Kind::Rollout, "demo", name).unwrap()
    }

    /// kubectl with this lab's kubeconfig and a private discovery cache.
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_path());
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .args(args)
            .kill_on_drop(true);
        cmd
    }

    /// Runs kubectl to completion: (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::time::timeout(Duration::from_secs(60), self.kubectl(args).output())
            .await
            .expect("kubectl did not finish within 60 s")
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// An HTTP client that trusts this lab's CA (and nothing else).
    fn http(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.lab.ca_pem().as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .unwrap()
    }

    /// A kube-rs client from the kubeconfig file the lab wrote (not from `Lab::kube_config`,
    /// so the file itself is what is tested).
    async fn client(&self, context: &str) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(self.kubeconfig()).unwrap();
        let options = KubeConfigOptions {
            context: Some(context.into()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }
}

fn kubectl_path() -> &'static str {
    "kubectl"
}

/// Whether kubectl runs here; the kubectl tests say why and pass when it does not.
async fn have_kubectl() -> bool {
    let ok = Command::new(kubectl_path())
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "kubectl is not installed or does not run: skipping this kubectl end-to-end test"
        );
    }
    ok
}

fn generation(object: &Value) -> i64 {
    object["metadata"]["generation"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_rollouts_in_all_namespaces_and_as_yaml() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let (ok, out, err) = t.run(&["get", "rollouts", "-A"]).await;
    assert!(ok, "kubectl get rollouts -A failed: {err}");
    let first = out.lines().next().unwrap_or("");
    let header: Vec<&str> = first.split_whitespace().collect();
    let argo_columns = [
        "NAMESPACE",
        "NAME",
        "DESIRED",
        "CURRENT",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ];
    assert_eq!(header, argo_columns, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("demo") && l.contains("checkout")),
        "{out}"
    );

    let (ok, out, err) = t.run(&["get", "ro", "-n", "demo"]).await;
    assert!(ok, "short name ro: {err}");
    assert!(out.contains("checkout"), "{out}");

    let (ok, out, err) = t
        .run(&["get", "rollout", "checkout", "-n", "demo", "-o", "yaml"])
        .await;
    assert!(ok, "kubectl get -o yaml failed: {err}");
    let yaml: Value = serde_saphyr::from_str(&out).unwrap();
    assert_eq!(yaml["kind"], "Rollout");
    assert_eq!(yaml["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(yaml["metadata"]["name"], "checkout");
    assert_eq!(
        yaml["metadata"]["uid"],
        t.rollout("checkout")["metadata"]["uid"]
    );

    let (ok, out, err) = t.run(&["get", "namespaces"]).await;
    assert!(
        ok && out
            .lines()
            .any(|l| l.starts_with("demo") && l.contains("Active")),
        "kubectl get namespaces: {out} {err}"
    );
    let (ok, _, err) = t.run(&["get", "rollout", "nope", "-n", "demo"]).await;
    assert!(
        !ok && err.contains("rollouts.argoproj.io \"nope\" not found"),
        "{err}"
    );
    let (ok, _, err) = t.run(&["get", "pods", "-n", "demo"]).await;
    assert!(
        !ok && err.contains("pods"),
        "kubectl get pods should fail: {err}"
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patches_spec_and_status_subresource_with_merge_patches() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let before = t.rollout("search");
    let patch = r#"{"spec":{"paused":true},"status":{"phase":"Bogus"}}"#;
    let (ok, _, err) = t
        .run(&[
            "patch", "rollout", "search", "-n", "demo", "--type", "merge", "-p", patch,
        ])
        .await;
    assert!(ok, "kubectl patch --type merge failed: {err}");
    let after = t.rollout("search");
    assert_eq!(after["spec"]["paused"], true);
    assert_ne!(
        after["status"]["phase"], "Bogus",
        "a status change sent to the main resource is dropped"
    );
    assert_eq!(generation(&after), generation(&before) + 1);

    let patch = r#"{"status":{"abort":true},"spec":{"replicas":42}}"#;
    let args = [
        "patch",
        "rollout",
        "search",
        "-n",
        "demo",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        patch,
        "-o",
        "json",
    ];
    let (ok, out, err) = t.run(&args).await;
    assert!(ok, "kubectl patch --subresource=status failed: {err}");
    // The object the server answered with: the controller may rewrite status right after.
    let status_patched: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status_patched["status"]["abort"], true);
    assert_ne!(
        status_patched["spec"]["replicas"], 42,
        "a spec change sent to /status is dropped"
    );
    assert_eq!(generation(&status_patched), generation(&after));

    let (ok, _, err) = t
        .run(&[
            "patch",
            "rollout",
            "search",
            "-n",
            "demo",
            "-p",
            r#"{"spec":{"paused":false}}"#,
        ])
        .await;
    assert!(
        !ok,
        "a strategic merge patch must be refused on a custom resource"
    );
    assert!(
        err.contains("UnsupportedMediaType") || err.contains("unknown format"),
        "{err}"
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_sees_a_patch_and_a_delete() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let mut watch = t
        .kubectl(&[
            "get",
            "rollouts",
            "-n",
            "demo",
            "-w",
            "--output-watch-events",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut read_until = async |want: &dyn Fn(&str) -> bool, seen: &mut Vec<String>| {
        let found = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                seen.push(line.clone());
                if want(&line) {
                    return true;
                }
            }
            false
        })
        .await;
        found.unwrap_or(false)
    };
    let initial = read_until(
        &|l: &str| l.contains("ADDED") && l.contains("search"),
        &mut seen,
    )
    .await;
    assert!(initial, "the watch never listed search: {seen:?}");

    let patch = r#"{"spec":{"paused":true}}"#;
    let (ok, _, err) = t
        .run(&[
            "patch", "rollout", "search", "-n", "demo", "--type", "merge", "-p", patch,
        ])
        .await;
    assert!(ok, "{err}");
    let modified = read_until(
        &|l: &str| l.contains("MODIFIED") && l.contains("search"),
        &mut seen,
    )
    .await;
    assert!(modified, "the watch did not see the patch: {seen:?}");

    let (ok, _, err) = t
        .run(&["delete", "rollout", "search", "-n", "demo", "--wait=false"])
        .await;
    assert!(ok, "{err}");
    let deleted = read_until(
        &|l: &str| l.contains("DELETED") && l.contains("search"),
        &mut seen,
    )
    .await;
    assert!(deleted, "the watch did not see the delete: {seen:?}");
    assert!(t.lab.store().get(Kind::Rollout, "demo", "search").is_none());
    watch.kill().await.unwrap();
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_and_whoami_answer_for_both_users() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let can_i = ["auth", "can-i", "patch", "rollouts", "-n", "demo"];
    let (ok, out, err) = t.run(&can_i).await;
    assert!(ok && out.trim() == "yes", "admin can-i patch: {out} {err}");
    let (ok, out, _) = t
        .run(&[&can_i[..], &["--context", "lab-viewer"]].concat())
        .await;
    assert!(!ok && out.trim() == "no", "viewer can-i patch: {out}");
    let viewer_status = [
        "auth",
        "can-i",
        "patch",
        "rollouts",
        "--subresource=status",
        "-n",
        "demo",
        "--context",
        "lab-viewer",
    ];
    let (ok, out, _) = t.run(&viewer_status).await;
    assert!(
        !ok && out.trim() == "no",
        "viewer can-i patch status: {out}"
    );
    let (ok, out, err) = t
        .run(&[
            "auth",
            "can-i",
            "watch",
            "rollouts",
            "-n",
            "demo",
            "--context",
            "lab-viewer",
        ])
        .await;
    assert!(ok && out.trim() == "yes", "viewer can-i watch: {out} {err}");

    let (ok, out, err) = t.run(&["auth", "whoami"]).await;
    assert!(ok && out.contains("lab-admin"), "whoami admin: {out} {err}");
    let (ok, out, err) = t
        .run(&["auth", "whoami", "--context", "lab-viewer", "-o", "json"])
        .await;
    assert!(ok, "whoami viewer: {err}");
    let review: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "lab-viewer");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_viewer_is_forbidden_to_patch() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let before = t.rollout("checkout");
    let args = [
        "--context",
        "lab-viewer",
        "patch",
        "rollout",
        "checkout",
        "-n",
        "demo",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"abort":true}}"#,
    ];
    let (ok, _, err) = t.run(&args).await;
    assert!(!ok);
    let expected = "rollouts.argoproj.io \"checkout\" is forbidden: User \"lab-viewer\" cannot patch \
                    resource \"rollouts/status\" in API group \"argoproj.io\" in the namespace \"demo\"";
    assert!(
        err.contains("(Forbidden)") && err.contains(expected),
        "{err}"
    );
    assert_ne!(t.rollout("checkout")["status"]["abort"], true);
    assert!(t.rollout("checkout")["metadata"]["generation"] == before["metadata"]["generation"]);
    let (ok, out, err) = t.run(&["--context", "lab-viewer", "get", "rollouts"]).await;
    assert!(
        ok && out.contains("checkout"),
        "the viewer still reads: {err}"
    );
    t.lab.shutdown().await;
}

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
async fn bad_input_gets_status_errors() {
    let t = TestLab::start().await;
    let http = t.http();
    let token = t.lab.admin_token().to_string();
    let base = &t.lab.api_url;
    let checkout = format!("{base}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts/checkout");
    let cases = [
        (http.get(format!("{base}/openapi/v2")), 404, "NotFound"),
        (
            http.get(format!(
                "{base}/apis/argoproj.io/v1alpha1/namespaces/demo/widgets"
            )),
            404,
            "NotFound",
        ),
        (http.get(format!("{checkout}-missing")), 404, "NotFound"),
        (
            http.patch(&checkout)
                .header("content-type", "application/merge-patch+json")
                .body("{not json"),
            400,
            "BadRequest",
        ),
        (
            http.patch(&checkout)
                .header("content-type", "text/plain")
                .body("x"),
            415,
            "UnsupportedMediaType",
        ),
        (
            http.patch(&checkout)
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"spec":"x"}"#),
            422,
            "Invalid",
        ),
        (
            http.post(format!(
                "{base}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts"
            ))
            .header("content-type", "application/json")
            .body("[1,2]"),
            400,
            "BadRequest",
        ),
        (
            http.post(format!(
                "{base}/apis/argoproj.io/v1alpha1/namespaces/nowhere/rollouts"
            ))
            .header("content-type", "application/json")
            .body(r#"{"metadata":{"name":"x"},"spec":{}}"#),
            404,
            "NotFound",
        ),
        (
            http.delete(format!("{checkout}/status")),
            405,
            "MethodNotAllowed",
        ),
        (
            http.get(format!(
                "{base}/apis/argoproj.io/v1alpha1/rollouts?labelSelector=a+in+(b)"
            )),
            400,
            "BadRequest",
        ),
    ];
    for (request, code, reason) in cases {
        let response = request.bearer_auth(&token).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (status, body["reason"].as_str()),
            (code, Some(reason)),
            "{body}"
        );
        assert_eq!(body["kind"], "Status");
        assert_eq!(body["status"], "Failure");
        assert_eq!(body["code"], code);
    }
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_watch_replays_times_out_and_reports_expired_versions() {
    let t = TestLab::start().await;
    let http = t.http();
    let token = t.lab.admin_token().to_string();
    let list_url = format!(
        "{}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts",
        t.lab.api_url
    );
    let list: Value = http
        .get(&list_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    t.lab
        .store()
        .update(
            Kind::Rollout,
            "demo",
            "search",
            release_cockpit::lab::store::Part::Main,
            |cur| {
                let mut next = cur.clone();
                next["metadata"]["annotations"] = json!({"lab-test": "replayed"});
                Ok::<_, ()>(next)
            },
        )
        .unwrap();
    let url = format!(
        "{list_url}?watch=true&resourceVersion={list_rv}&timeoutSeconds=1&allowWatchBookmarks=true"
    );
    let started = std::time::Instant::now();
    let body = tokio::time::timeout(Duration::from_secs(10), async {
        http.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    })
    .await
    .expect("timeoutSeconds=1 must end the watch");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["type"] == "MODIFIED"
            && e["object"]["metadata"]["annotations"]["lab-test"] == "replayed"),
        "{body}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["object"]["metadata"]["namespace"] == "demo" || e["type"] == "BOOKMARK")
    );

    for i in 0..1100 {
        t.lab
            .store()
            .update(
                Kind::Rollout,
                "demo",
                "search",
                release_cockpit::lab::store::Part::Main,
                |cur| {
                    let mut next = cur.clone();
                    next["metadata"]["annotations"] = json!({"lab-test": i.to_string()});
                    Ok::<_, ()>(next)
                },
            )
            .unwrap();
    }
    let url = format!("{list_url}?watch=1&resourceVersion={list_rv}");
    let body = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let event: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_lab_does_not_rewrite_unchanged_objects() {
    let dir = tempfile::tempdir().unwrap();
    let opts = LabOptions {
        dir: Some(dir.path().to_path_buf()),
        scenario: "healthy".into(),
        ..LabOptions::default()
    };
    let lab = Lab::start(opts).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = lab.store().resource_version();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        lab.store().resource_version(),
        settled,
        "15 controller ticks rewrote unchanged objects"
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_writes_its_files_and_serves_metrics() {
    let t = TestLab::start().await;
    let lab_json: Value =
        serde_json::from_str(&std::fs::read_to_string(t.dir.path().join("lab.json")).unwrap())
            .unwrap();
    assert_eq!(lab_json["api_url"], t.lab.api_url.as_str());
    assert_eq!(lab_json["metrics_url"], t.lab.metrics_url.as_str());
    assert_eq!(lab_json["prometheus_url"], Value::Null);
    assert_eq!(t.kubeconfig(), Path::new(t.dir.path()).join("kubeconfig"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = reqwest::get(&t.lab.metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("istio_requests_total"), "{metrics}");
    let http = t.http();
    let version: Value = http
        .get(format!("{}/version", t.lab.api_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["major"], "1");
    assert!(t.lab.api_url.starts_with("https://127.0.0.1:"));
    let api_url = t.lab.api_url.clone();
    let metrics_url = t.lab.metrics_url.clone();
    t.lab.shutdown().await;
    let version_after = http.get(format!("{api_url}/version")).send().await;
    assert!(
        version_after.is_err(),
        "the lab API still answers after shutdown"
    );
    assert!(
        reqwest::get(&metrics_url).await.is_err(),
        "the metrics endpoint still answers after shutdown"
    );
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
async fn kubectl_creates_applies_and_deletes_a_rollout() {
    if !have_kubectl().await {
        return;
    }
    let t = TestLab::start().await;
    let manifest = |image: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: extra\n  namespace: demo\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: extra}}}}\n  template:\n    \
             metadata: {{labels: {{app: extra}}}}\n    spec: {{containers: [{{name: app, image: \"{image}\"}}]}}\n  \
             strategy:\n    canary:\n      steps: [{{setWeight: 50}}, {{pause: {{}}}}]\n"
        )
    };
    let file = t.dir.path().join("extra.yaml");
    std::fs::write(&file, manifest("shop/extra:1")).unwrap();
    let path = file.to_str().unwrap();
    let (ok, out, err) = t.run(&["apply", "-f", path]).await;
    assert!(
        ok && out.contains("rollout.argoproj.io/extra created"),
        "{out} {err}"
    );
    assert_eq!(generation(&t.rollout("extra")), 1);
    std::fs::write(&file, manifest("shop/extra:2")).unwrap();
    let (ok, out, err) = t.run(&["apply", "-f", path]).await;
    assert!(ok && out.contains("configured"), "{out} {err}");
    let applied = t.rollout("extra");
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "shop/extra:2"
    );
    assert_eq!(generation(&applied), 2);
    let (ok, out, err) = t.run(&["delete", "-f", path]).await;
    assert!(ok && out.contains("deleted"), "{out} {err}");
    assert!(t.lab.store().get(Kind::Rollout, "demo", "extra").is_none());
    t.lab.shutdown().await;
}
