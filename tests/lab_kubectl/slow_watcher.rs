//! A watcher that stops reading (or vanishes) must not hold up writers or other watchers:
//! the lab closes a watch that falls behind its broadcast rather than buffering for it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::TestLab;

/// Patches of `search`, each making an event of about `PAYLOAD` bytes: enough in all to fill
/// the kernel's socket buffers and the store's broadcast (256 events) many times over.
const PATCHES: usize = 600;
const PAYLOAD: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_vanished_watcher_does_not_hold_up_writers_or_other_watchers() {
    let t = TestLab::start().await;
    let token = t.lab.admin_token().to_string();
    let base = format!(
        "{}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts",
        t.lab.api_url
    );
    let search = format!("{base}/search");
    let merge = |body: Value| {
        t.http()
            .patch(&search)
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
    };
    let big = json!({"metadata": {"annotations": {"lab-test/payload": "x".repeat(PAYLOAD)}}});
    let start: Value = merge(big).send().await.unwrap().json().await.unwrap();
    let start_rv = start["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let watch_url = {
        let base = base.clone();
        move |rv: &str| format!("{base}?watch=1&resourceVersion={rv}")
    };

    // One client per watcher: each gets its own connection.
    let stalled = t
        .http()
        .get(watch_url(&start_rv))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(stalled.status().is_success());
    let vanished = t
        .http()
        .get(watch_url(&start_rv))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    drop(vanished);

    // A watcher that reads everything, resuming from its last resourceVersion when the
    // lab closes its watch (as every Kubernetes client does).
    let live = {
        let http = t.http();
        let token = token.clone();
        let watch_url = watch_url.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut rv = start_rv;
            while seen.last() != Some(&(PATCHES - 1)) {
                let mut response = http
                    .get(watch_url(&rv))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let mut buffer = Vec::new();
                while let Some(chunk) = response.chunk().await.unwrap() {
                    buffer.extend_from_slice(&chunk);
                    while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buffer.drain(..=end).collect();
                        let event: Value = serde_json::from_slice(&line).unwrap();
                        let object = &event["object"];
                        rv = object["metadata"]["resourceVersion"]
                            .as_str()
                            .unwrap()
                            .to_string();
                        if let Some(i) = object["metadata"]["annotations"]["lab-test/i"].as_str() {
                            seen.push(i.parse::<usize>().unwrap());
                        }
                    }
                    if seen.last() == Some(&(PATCHES - 1)) {
                        break;
                    }
                }
            }
            seen
        })
    };

    let writers = tokio::time::timeout(Duration::from_secs(180), async {
        let http = t.http();
        for i in 0..PATCHES {
            let response = http
                .patch(&search)
                .bearer_auth(&token)
                .header("content-type", "application/merge-patch+json")
                .body(
                    json!({"metadata": {"annotations": {"lab-test/i": i.to_string()}}}).to_string(),
                )
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "patch {i}: {}",
                response.status()
            );
        }
    })
    .await;
    assert!(
        writers.is_ok(),
        "writers were held up by the stalled watcher"
    );

    let mut seen = tokio::time::timeout(Duration::from_secs(60), live)
        .await
        .expect("the live watcher saw every patch within 60 s")
        .unwrap();
    // The controller's own status writes on `search` repeat the annotation of the last patch.
    seen.dedup();
    assert_eq!(
        seen,
        (0..PATCHES).collect::<Vec<_>>(),
        "every patch, in order"
    );

    // The stalled watch was closed by the lab once it fell behind: reading it now ends with
    // far fewer events than were written, instead of the lab having buffered them all.
    let body = tokio::time::timeout(Duration::from_secs(60), stalled.text())
        .await
        .expect("the lab closed the stalled watch")
        .unwrap_or_default();
    let got = body.lines().filter(|l| l.contains("lab-test/i")).count();
    eprintln!("the stalled watcher got {got} of {PATCHES} events before the lab closed it");
    assert!(
        got < PATCHES,
        "the stalled watcher got all {got} events: nothing was dropped"
    );
    t.lab.shutdown().await;
}
