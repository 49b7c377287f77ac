//! `watch` follows the other providers by the real binary: the weighted release `cart` prints
//! its new weight after a `set-weight cart 33` made meanwhile (a watch on its route), and the
//! Flagger canary podinfo is followed to its promotion gate (`--until paused`).

use super::*;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Reads `watch`'s lines until one contains `text`; every line read, in order.
async fn lines_until(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    text: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("watch's stdout") {
            let found = line.contains(text);
            seen.push(line);
            if found {
                return true;
            }
        }
        false
    };
    let found = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or(false);
    assert!(found, "no line with {text:?} within 60 s: {seen:?}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_cart_prints_the_weight_set_meanwhile() {
    let t = TestLab::start().await;
    let mut watch = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
        .arg("--kubeconfig")
        .arg(t.kubeconfig_path())
        .args(["watch", "cart", "-n", "demo", "--timeout", "90s"])
        .env("RELEASE_COCKPIT_DATA_DIR", t.data.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("watch starts");
    let mut lines = BufReader::new(watch.stdout.take().expect("piped")).lines();
    let first = lines_until(&mut lines, "weight").await;
    assert!(!first[0].contains("weight 33%"), "{first:?}");

    let (code, _, err) = t.cli(&["set-weight", "cart", "33", "-n", "demo"]).await;
    assert_eq!(code, 0, "{err}");
    let after = lines_until(&mut lines, "weight 33%").await;
    assert!(
        after.last().is_some_and(|l| l.contains("actual 33%")),
        "{after:?}"
    );
    watch.kill().await.expect("watch stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_podinfo_follows_the_canary_to_its_promotion_gate() {
    let t = TestLab::start_at_speed(60.0).await;
    let (code, out, err) = t
        .cli(&[
            "watch",
            "podinfo",
            "-n",
            "test",
            "--until",
            "paused",
            "--timeout",
            "50s",
        ])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.contains("Paused"), "{out}");
    assert!(last.contains("WaitingPromotion"), "{out}");
}
