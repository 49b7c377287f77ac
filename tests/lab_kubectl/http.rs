//! Raw HTTP against the lab: Status errors for bad input, watch replay/timeout/410, an
//! idle lab that writes nothing, the files it leaves and its metrics endpoint.

use std::path::Path;
use std::time::Duration;

use kube::api::Api;
use release_cockpit::lab::{Lab, LabOptions, PrometheusMode};
use release_cockpit::model::Rollout;
use serde_json::{Value, json};

use crate::{Kind, TestLab};

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
    let in_process =
        kube::Client::try_from(t.lab.kube_config("lab-viewer").await.unwrap()).unwrap();
    let demo: Api<Rollout> = Api::namespaced(in_process, "demo");
    assert!(
        demo.get("checkout").await.is_ok(),
        "Lab::kube_config gives a working client"
    );
    assert!(t.lab.kube_config("nope").await.is_err());
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
async fn bad_options_are_refused_with_the_reason() {
    let start = |opts: LabOptions| async { Lab::start(opts).await.err().map(|e| e.to_string()) };
    let scenario = start(LabOptions {
        scenario: "nope".into(),
        ..LabOptions::default()
    })
    .await;
    assert!(
        scenario.is_some_and(|e| e.contains("unknown scenario \"nope\"") && e.contains("healthy"))
    );
    let speed = start(LabOptions {
        speed: 0.0,
        ..LabOptions::default()
    })
    .await;
    assert!(speed.is_some_and(|e| e.contains("speed")));
    let public = start(LabOptions {
        addr: "0.0.0.0:0".parse().unwrap(),
        ..LabOptions::default()
    })
    .await;
    assert!(public.is_some_and(|e| e.contains("loopback")));
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start(LabOptions {
        dir: Some(dir.path().to_path_buf()),
        prometheus: PrometheusMode::Path("/nonexistent/prometheus".into()),
        ..LabOptions::default()
    })
    .await;
    assert!(prometheus.is_some_and(|e| e.contains("Prometheus") && e.contains("--prometheus off")));
    let busy = Lab::start(LabOptions::default()).await.unwrap();
    let taken = start(LabOptions {
        addr: busy.addr(),
        ..LabOptions::default()
    })
    .await;
    assert!(
        taken.is_some_and(|e| e.contains("cannot listen")),
        "a taken port is refused"
    );
    busy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_lab_stops_it() {
    let t = TestLab::start().await;
    let http = t.http();
    let version = format!("{}/version", t.lab.api_url);
    assert!(http.get(&version).send().await.is_ok());
    drop(t);
    let mut stopped = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if http.get(&version).send().await.is_err() {
            stopped = true;
            break;
        }
    }
    assert!(
        stopped,
        "the API still answers 2.5 s after the lab was dropped"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_lab_runs_on_a_current_thread_runtime() {
    let t = TestLab::start().await;
    let client = kube::Client::try_from(t.lab.kube_config("lab-admin").await.unwrap()).unwrap();
    let demo: Api<Rollout> = Api::namespaced(client, "demo");
    assert!(demo.get("checkout").await.is_ok());
    t.lab.shutdown().await;
}

/// `release-cockpit lab` as a process: exactly one line on stdout (`lab ready: <api_url>`,
/// the URL lab.json names), the other addresses on stderr, and SIGTERM stops it with 0.
#[test]
fn the_lab_command_prints_one_ready_line_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
        .args([
            "lab",
            "--addr",
            "127.0.0.1:0",
            "--prometheus",
            "off",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    let lab_json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("lab.json")).unwrap())
            .unwrap();
    assert_eq!(
        ready.trim_end(),
        format!("lab ready: {}", lab_json["api_url"].as_str().unwrap())
    );
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "exit after SIGTERM: {stderr}"
    );
    assert_eq!(rest, "", "nothing on stdout after the ready line");
    assert!(stderr.contains("kubeconfig:"), "{stderr}");
}
