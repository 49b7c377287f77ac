//! `release-cockpit inbox` and `watch --notify-webhook-env` against the lab: the list a chat
//! bot reads (exit 3 while someone is needed), and each transition posted once to a local
//! webhook (an axum server in the test).

use super::*;
use crate::webhook::{Received, webhook};
use tokio::io::AsyncBufReadExt;

/// `inbox -A -o json` as a script reads it: (exit code, JSON).
async fn inbox_json(t: &TestLab, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--context", ADMIN, "inbox", "-o", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = t.cli(&args).await;
    let json = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("inbox -o json is JSON ({e}): {out} stderr {err}"));
    (code, json)
}

fn row<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["rollouts"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["name"] == name))
        .unwrap_or_else(|| panic!("{name} in the inbox: {json}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_lists_who_waits_most_urgent_first_and_exits_3() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    t.wait_for("payments", "waiting for promotion", |ro| {
        !ro["status"]["pauseConditions"].is_null()
    })
    .await;
    let (code, json) = inbox_json(&t, &["-A"]).await;
    assert_eq!(code, 3, "someone is needed: {json}");
    let checkout = row(&json, "checkout");
    assert_eq!(checkout["kind"], "waiting-for-approval", "{json}");
    assert_eq!(checkout["context"], ADMIN);
    assert_eq!(checkout["namespace"], "demo");
    assert_eq!(checkout["text"], "waiting for approval at step 1/8 (20%)");
    assert!(checkout["waitingSecs"].as_f64().is_some(), "{json}");
    let payments = row(&json, "payments");
    assert!(
        payments["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("waiting for promotion: preview ")),
        "{json}"
    );
    assert_eq!(
        json["count"],
        json["rollouts"].as_array().map_or(0, Vec::len)
    );

    // Aborted by a person: first in the inbox, saying by whom.
    let (code, out, err) = t.cli(&["--context", ADMIN, "abort", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    t.wait_for("checkout", "degraded", |ro| {
        ro["status"]["phase"] == "Degraded"
    })
    .await;
    let (code, json) = inbox_json(&t, &["-A"]).await;
    assert_eq!(code, 3);
    let first = &json["rollouts"][0];
    assert_eq!(first["name"], "checkout", "{json}");
    assert_eq!(first["kind"], "aborted", "{json}");
    assert!(
        first["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("aborted by lab-admin (cli)")),
        "{json}"
    );

    // Text for people; nobody needed in an empty namespace: exit 0.
    let (code, out, _) = t.cli(&["--context", ADMIN, "inbox", "-A"]).await;
    assert_eq!(code, 3);
    assert!(out.starts_with("REASON"), "{out}");
    assert!(out.contains("ABORTED"), "{out}");
    let (code, out, err) = t.cli(&["--context", ADMIN, "inbox", "-n", "nowhere"]).await;
    assert_eq!((code, out.trim()), (0, "Nobody needs you."), "stderr {err}");
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_posts_each_transition_once_to_the_webhook_and_never_prints_its_url() {
    let t = TestLab::start().await;
    t.checkout_at_approval().await;
    let received = Received::default();
    let url = webhook(received.clone()).await;
    // The URL comes from a file the variable names.
    let file = t.data.path().join("hook-url");
    std::fs::write(&file, format!("{url}\n")).expect("write");
    let mut watch = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
        .arg("--kubeconfig")
        .arg(t.kubeconfig_path())
        .args([
            "--context",
            ADMIN,
            "watch",
            "checkout",
            "--until",
            "degraded",
        ])
        .args(["--timeout", "60s", "--notify-webhook-env", "TEST_HOOK"])
        .env("TEST_HOOK", &file)
        .env("RELEASE_COCKPIT_DATA_DIR", t.data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("watch starts");
    // Its first line: it has seen checkout waiting (already so: not news).
    let stdout = watch.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("watch prints within 30 s")
        .expect("reads");
    assert!(
        first.is_some_and(|l| l.contains("Paused")),
        "watch sees the gate"
    );
    let (code, out, err) = t.cli(&["--context", ADMIN, "abort", "checkout"]).await;
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    let done = tokio::time::timeout(Duration::from_secs(60), watch.wait_with_output())
        .await
        .expect("watch ends at degraded")
        .expect("watch ran");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{rest:?} {stderr}");
    assert!(!stderr.contains(&url) && !rest.iter().any(|l| l.contains(&url)));
    let bodies = received.bodies();
    let aborted: Vec<&Value> = bodies.iter().filter(|b| b["kind"] == "aborted").collect();
    assert_eq!(aborted.len(), 1, "the abort, once: {bodies:?}");
    let text = aborted[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(
            "checkout was aborted: lab-admin demo/checkout: aborted by lab-admin (cli)"
        ),
        "{text}"
    );
    assert_eq!(aborted[0]["name"], "checkout");
    assert!(
        !bodies.iter().any(|b| b["kind"] == "waiting-for-approval"),
        "already waiting when the watch began: {bodies:?}"
    );
    let mut kinds: Vec<&str> = bodies.iter().filter_map(|b| b["kind"].as_str()).collect();
    let all = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), all, "no transition twice: {bodies:?}");
    t.lab.shutdown().await;
}
