//! The real kubectl against the lab, through the kubeconfig the lab writes: get, patch
//! (spec and `--subresource=status`), watch, apply/delete, auth can-i/whoami, Forbidden.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{Kind, TestLab, generation, need_kubectl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_rollouts_in_all_namespaces_and_as_yaml() {
    need_kubectl().await;
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
    // The demo's background analysis of inventory runs from the first tick.
    let (ok, out, err) = t.run(&["get", "analysisruns", "-n", "demo"]).await;
    assert!(
        ok && out
            .lines()
            .any(|l| l.starts_with("inventory-") && l.contains("Running")),
        "{out} {err}"
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
    need_kubectl().await;
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
    need_kubectl().await;
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
    need_kubectl().await;
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
    need_kubectl().await;
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
async fn kubectl_creates_applies_and_deletes_a_rollout() {
    need_kubectl().await;
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
    let (ok, _, err) = t.run(&["delete", "-f", path, "--dry-run=server"]).await;
    assert!(
        !ok && err.contains("dry run"),
        "a server dry run must not write: {err}"
    );
    assert!(t.lab.store().get(Kind::Rollout, "demo", "extra").is_some());
    let (ok, out, err) = t.run(&["delete", "-f", path]).await;
    assert!(ok && out.contains("deleted"), "{out} {err}");
    assert!(t.lab.store().get(Kind::Rollout, "demo", "extra").is_none());
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_describe_shows_the_controllers_events() {
    need_kubectl().await;
    let t = TestLab::start().await;
    // The controller's first tick records checkout's update and pause.
    let mut out = String::new();
    for _ in 0..50 {
        let (ok, text, err) = t
            .run(&["describe", "rollout", "checkout", "-n", "demo"])
            .await;
        assert!(ok, "kubectl describe failed: {err}");
        out = text;
        if out.contains("RolloutPaused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = &out[out.find("Events:").expect("an Events section")..];
    for wanted in [
        "rollouts-controller",
        "RolloutUpdated",
        "Rollout step 1/8 completed (setWeight: 20)",
        "Rollout is paused (CanaryPauseStep)",
    ] {
        assert!(events.contains(wanted), "{wanted} in {events}");
    }
    assert!(
        !events.contains("payments"),
        "only checkout's events: {events}"
    );
    t.lab.shutdown().await;
}

/// `lab-dev` through the real kubectl and the cockpit's CLI: its own namespace works, all
/// namespaces are refused with kube-apiserver's words, and `auth can-i` agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_and_the_cli_see_the_dev_in_demo_only() {
    let t = TestLab::start().await;
    let cluster_scope = "rollouts.argoproj.io is forbidden: User \"lab-dev\" cannot list resource \
                         \"rollouts\" in API group \"argoproj.io\" at the cluster scope";
    let cli = |args: &'static [&'static str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"));
        cmd.arg("--kubeconfig")
            .arg(t.kubeconfig())
            .args(["--context", "lab-dev"])
            .args(args)
            .env("RELEASE_COCKPIT_DATA_DIR", t.dir.path().join("data"))
            .kill_on_drop(true);
        async move {
            let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
                .await
                .expect("the CLI finished within 60 s")
                .unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
            (out.status.code(), text(&out.stdout), text(&out.stderr))
        }
    };
    // Plain `list` uses the context's namespace (demo); `-A` is what the user asked for, so
    // it fails, naming the refusal.
    let (code, out, err) = cli(&["list"]).await;
    assert_eq!(code, Some(0), "{out} {err}");
    assert!(out.contains("checkout"), "{out}");
    let (code, out, err) = cli(&["list", "-A"]).await;
    assert_eq!(code, Some(1), "{out} {err}");
    assert!(
        err.contains("context lab-dev")
            && err.contains(cluster_scope)
            && err.contains("without -A, list shows namespace demo")
            && err.contains("ClusterRoleBinding"),
        "{err}"
    );

    need_kubectl().await;
    let (ok, out, err) = t.run(&["--context", "lab-dev", "get", "rollouts"]).await;
    assert!(ok && out.contains("checkout"), "dev reads demo: {err}");
    let (ok, _, err) = t
        .run(&["--context", "lab-dev", "get", "rollouts", "-A"])
        .await;
    assert!(
        !ok && err.contains("(Forbidden)") && err.contains(cluster_scope),
        "{err}"
    );
    let can_i = |scope: &'static [&'static str]| {
        let args = [
            &[
                "--context",
                "lab-dev",
                "auth",
                "can-i",
                "list",
                "rollouts.argoproj.io",
            ][..],
            scope,
        ]
        .concat();
        let t = &t;
        async move { t.run(&args).await }
    };
    let (ok, out, err) = can_i(&["-A"]).await;
    assert!(!ok && out.trim() == "no", "dev can-i list -A: {out} {err}");
    let (ok, out, err) = can_i(&["-n", "demo"]).await;
    assert!(
        ok && out.trim() == "yes",
        "dev can-i list -n demo: {out} {err}"
    );
    let (ok, out, err) = t
        .run(&[
            "--context",
            "lab-dev",
            "auth",
            "can-i",
            "patch",
            "rollouts",
            "--subresource=status",
            "-n",
            "demo",
        ])
        .await;
    assert!(
        ok && out.trim() == "yes",
        "dev can-i patch status: {out} {err}"
    );
    let (ok, out, err) = t
        .run(&["auth", "whoami", "--context", "lab-dev", "-o", "json"])
        .await;
    assert!(ok, "whoami dev: {err}");
    let review: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "lab-dev");
    t.lab.shutdown().await;
}
