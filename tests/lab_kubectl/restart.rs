//! The lab restarted under its clients, as an upgraded kube-apiserver is: same address,
//! certificate and tokens, objects kept, watch cache lost (410 Expired to kube-rs, kubectl
//! and raw HTTP); the fleet watch and the `watch` CLI current again within seconds; and the
//! lab's directory handled as a place holding tokens.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, WatchEvent, WatchParams};
use release_cockpit::cluster::{FleetUpdate, watch_rollouts};
use release_cockpit::lab::{Lab, LabOptions, PrometheusMode};
use release_cockpit::model::Rollout;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{Kind, TestLab, need_kubectl};

/// A copy of `checkout` named `name` in namespace demo (no status: the controller starts it).
fn copy_of_checkout(t: &TestLab, name: &str) {
    let mut copy = t.rollout("checkout");
    copy["metadata"] = serde_json::json!({"name": name, "namespace": "demo"});
    copy.as_object_mut().unwrap().remove("status");
    t.lab.store().create(Kind::Rollout, copy).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_lab_answers_a_stale_watch_with_410_expired() {
    let mut t = TestLab::start().await;
    let client = t.client("lab-admin").await;
    let api: Api<Rollout> = Api::namespaced(client.clone(), "demo");
    let before = api.list(&Default::default()).await.unwrap();
    let old_rv = before.metadata.resource_version.unwrap();
    let addr = t.lab.addr();
    let ca = t.lab.ca_pem().to_string();

    t.lab.stop_api().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "a stopped lab refuses connections"
    );
    t.lab.start_api().await.unwrap();
    assert_eq!(t.lab.addr(), addr, "same address");
    assert_eq!(t.lab.ca_pem(), ca, "same CA");

    // The objects are kept: a list works with the same kubeconfig (same CA and token).
    let after = api.list(&Default::default()).await.unwrap();
    assert_eq!(after.items.len(), before.items.len());

    // kube-rs: the watch from the old resourceVersion gets an ERROR event with the Status.
    let stream = api.watch(&WatchParams::default(), &old_rv).await.unwrap();
    let mut stream = std::pin::pin!(stream);
    match stream.next().await {
        Some(Ok(WatchEvent::Error(status))) => {
            assert_eq!(status.code, 410, "{status:?}");
            assert_eq!(status.reason, "Expired", "{status:?}");
            assert!(
                status.message.contains("too old resource version"),
                "{status:?}"
            );
        }
        other => panic!("expected 410 Expired, got {other:?}"),
    }

    // Raw HTTP, as kube-apiserver answers: 200 and one ERROR event holding a Status.
    let url = format!(
        "{}/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts?watch=true&resourceVersion={old_rv}",
        t.lab.api_url
    );
    let response = t
        .http()
        .get(url)
        .bearer_auth(t.lab.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(event["type"], "ERROR", "{text}");
    let status = &event["object"];
    assert_eq!(
        (&status["kind"], &status["apiVersion"], &status["status"]),
        (&"Status".into(), &"v1".into(), &"Failure".into()),
        "{text}"
    );
    assert_eq!(
        (&status["code"], &status["reason"]),
        (&410.into(), &"Expired".into())
    );

    // A watch from the resourceVersion after the restart is served as usual.
    let now_rv = after.metadata.resource_version.unwrap();
    assert!(now_rv.parse::<u64>().unwrap() > old_rv.parse::<u64>().unwrap());
    let stream = api
        .watch(&WatchParams::default().timeout(1), &now_rv)
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, Ok(WatchEvent::Error(_)))),
        "{events:?}"
    );

    // kubectl, the peer (its `get -w` has no --resource-version flag any more; `--raw` sends
    // the watch with kubectl's own client, TLS and token): the same ERROR event.
    need_kubectl().await;
    let path = format!(
        "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts?watch=true&resourceVersion={old_rv}"
    );
    let (ok, out, err) = t
        .run(&["get", "--raw", &path, "--request-timeout=10s"])
        .await;
    assert!(ok, "{err}");
    let event: Value = serde_json::from_str(out.lines().next().unwrap_or("")).unwrap();
    assert_eq!(event["type"], "ERROR", "{out}");
    assert_eq!(event["object"]["kind"], "Status", "{out}");
    assert_eq!(
        (&event["object"]["code"], &event["object"]["reason"]),
        (&410.into(), &"Expired".into()),
        "{out}"
    );
    t.lab.shutdown().await;
}

/// The fleet watch under a lab that goes down for 4 s and comes back: it says the server
/// does not answer, then holds a rollout created after the restart within seconds. The watch
/// runs in a task of its own, polled all along as the window's is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_watch_is_current_within_seconds_of_a_restart() {
    let mut t = TestLab::start().await;
    let client = t.client("lab-admin").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch = tokio::spawn(async move {
        let updates = watch_rollouts(client, "lab-admin".into(), Some("demo".into()));
        let mut updates = std::pin::pin!(updates);
        while let Some(update) = updates.next().await {
            if tx.send((Instant::now(), update)).is_err() {
                return;
            }
        }
    });
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("an update within 30 s")
            .expect("the watch goes on")
    };
    assert!(matches!(next().await.1, FleetUpdate::Snapshot(_)));

    t.lab.stop_api().await;
    loop {
        match next().await.1 {
            FleetUpdate::Reconnecting { message, retry_in } => {
                assert!(message.contains("lab-admin"), "{message}");
                assert!(retry_in <= Duration::from_secs(3), "{retry_in:?}");
                break;
            }
            FleetUpdate::Snapshot(_) => {}
            FleetUpdate::Error(e) => panic!("expected reconnecting, got {e}"),
        }
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    t.lab.start_api().await.unwrap();
    let back = Instant::now();
    copy_of_checkout(&t, "after-restart");
    let took = loop {
        if let (at, FleetUpdate::Snapshot(views)) = next().await
            && views.iter().any(|v| v.reference.name == "after-restart")
        {
            break at.saturating_duration_since(back);
        }
    };
    eprintln!("fleet watch current {took:?} after the lab answered again");
    assert!(took < Duration::from_secs(10), "{took:?}");
    watch.abort();
    t.lab.shutdown().await;
}

/// `release-cockpit watch` as a subprocess under a restarting lab: it says it reconnects,
/// then sees a deletion made after the restart within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_cli_is_current_within_seconds_of_a_restart() {
    let mut t = TestLab::start().await;
    copy_of_checkout(&t, "probe");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
        .arg("--kubeconfig")
        .arg(t.kubeconfig())
        .args(["--context", "lab-admin", "-n", "demo", "watch", "probe"])
        .env("RELEASE_COCKPIT_DATA_DIR", t.dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await
        .expect("a first line within 30 s")
        .unwrap();
    assert!(line.is_some(), "the watch prints the rollout");
    // Let the watch itself start (the first line comes from a GET).
    tokio::time::sleep(Duration::from_secs(1)).await;

    t.lab.stop_api().await;
    let said = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match err.next_line().await.unwrap() {
                Some(l) if l.contains("reconnecting to context lab-admin") => return l,
                Some(_) => {}
                None => panic!("the watch ended"),
            }
        }
    })
    .await
    .expect("the watch says it reconnects within 15 s");
    assert!(said.contains("does not answer"), "{said}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    t.lab.start_api().await.unwrap();
    let back = Instant::now();
    t.lab
        .store()
        .delete(Kind::Rollout, "demo", "probe")
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the watch ends on the deletion")
        .unwrap();
    let took = back.elapsed();
    let mut rest = Vec::new();
    while let Ok(Some(l)) = err.next_line().await {
        rest.push(l);
    }
    let rest = rest.join("\n");
    eprintln!("watch CLI current {took:?} after the lab answered again");
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(rest.contains("reconnected to context lab-admin"), "{rest}");
    assert!(rest.contains("'probe' was deleted"), "{rest}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    t.lab.shutdown().await;
}

/// Started again on its directory, the lab is the same server: address, CA, tokens and
/// objects; a watch from before gets 410.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_started_again_on_its_dir_is_the_same_server() {
    let t = TestLab::start().await;
    let client = t.client("lab-viewer").await;
    let api: Api<Rollout> = Api::namespaced(client, "demo");
    let old_rv = api
        .list(&Default::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    copy_of_checkout(&t, "kept");
    let (addr, ca, token) = (
        t.lab.addr(),
        t.lab.ca_pem().to_string(),
        t.lab.admin_token().to_string(),
    );
    let kubeconfig = std::fs::read_to_string(t.kubeconfig()).unwrap();
    let TestLab { lab, dir } = t;
    lab.shutdown().await;

    let lab = Lab::start(LabOptions {
        dir: Some(dir.path().to_path_buf()),
        prometheus: PrometheusMode::Off,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    assert_eq!(
        (lab.addr(), lab.ca_pem(), lab.admin_token()),
        (addr, ca.as_str(), token.as_str())
    );
    let t = TestLab { lab, dir };
    assert_eq!(std::fs::read_to_string(t.kubeconfig()).unwrap(), kubeconfig);
    // The old client (its pooled connection is gone) works again with the same kubeconfig.
    // Its first request may meet the closed connection; a second one must not.
    if api.get("kept").await.is_err() {
        api.get("kept").await.expect("objects are kept");
    }
    let stream = api.watch(&WatchParams::default(), &old_rv).await.unwrap();
    let mut stream = std::pin::pin!(stream);
    assert!(
        matches!(stream.next().await, Some(Ok(WatchEvent::Error(s))) if s.code == 410),
        "the watch cache is gone"
    );
    t.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_dir_is_private_and_never_written_through_a_symlink() {
    let t = TestLab::start().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&t.kubeconfig()), 0o600, "the kubeconfig holds tokens");
    assert_eq!(mode(&t.dir.path().join("lab-state.json")), 0o600);
    let base = t.dir.path().to_path_buf();
    t.lab.shutdown().await;

    let start = |dir: std::path::PathBuf| {
        Lab::start(LabOptions {
            dir: Some(dir),
            prometheus: PrometheusMode::Off,
            ..LabOptions::default()
        })
    };
    // A directory the lab creates is 0700.
    let fresh = base.join("fresh/lab");
    start(fresh.clone()).await.unwrap().shutdown().await;
    assert_eq!(mode(&fresh), 0o700);

    // A group-writable directory is refused, naming it and what to do.
    let shared = base.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o775)).unwrap();
    let err = start(shared.clone())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains(&shared.display().to_string())
            && err.contains("writable by its group")
            && err.contains("chmod 700"),
        "{err}"
    );
    assert!(!shared.join("kubeconfig").exists());

    // A symlink in place of the kubeconfig is refused and its target left alone.
    let planted = base.join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = base.join("victim");
    std::fs::write(&victim, "mine").unwrap();
    std::os::unix::fs::symlink(&victim, planted.join("kubeconfig")).unwrap();
    let err = start(planted.clone())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("symbolic link") && err.contains("kubeconfig"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
}
