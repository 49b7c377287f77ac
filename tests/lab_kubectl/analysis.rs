//! The controller's AnalysisRuns as clients read them from the lab: the demo's inventory
//! fails its background analysis and is aborted, catalog's step analysis ends Inconclusive;
//! kube-rs (the cockpit's own read, as the viewer) and the real kubectl both see them.

use std::time::Duration;

use release_cockpit::cluster::describe_rollout;
use release_cockpit::lab::{Kind, Lab, LabOptions, PrometheusMode};
use release_cockpit::model::RolloutRef;
use serde_json::{Value, json};

use crate::{TestLab, need_kubectl};

/// A demo lab at 20× speed whose inventory and catalog take 2000 requests a second, so that
/// each minute of analysis measures a large sample; returns once inventory is aborted by its
/// analysis and catalog waits on an Inconclusive run.
async fn analysed_lab() -> TestLab {
    let dir = tempfile::tempdir().unwrap();
    let opts = LabOptions {
        dir: Some(dir.path().to_path_buf()),
        prometheus: PrometheusMode::Off,
        speed: 20.0,
        ..LabOptions::default()
    };
    let lab = Lab::start(opts).await.unwrap();
    let t = TestLab { lab, dir };
    let store = t.lab.store();
    for name in ["inventory", "catalog"] {
        store
            .update(
                Kind::Rollout,
                "demo",
                name,
                release_cockpit::lab::store::Part::Main,
                |current| {
                    let mut next = current.clone();
                    next["metadata"]["annotations"]["lab.release-cockpit.io/requests-per-second"] =
                        json!("2000");
                    Ok::<_, std::convert::Infallible>(next)
                },
            )
            .unwrap();
    }
    for _ in 0..600 {
        let inventory = t.rollout("inventory");
        let catalog = t.rollout("catalog");
        if inventory["status"]["abortedAt"].is_string()
            && catalog["status"]["canary"]["currentStepAnalysisRunStatus"]["status"]
                == "Inconclusive"
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "inventory was not aborted by its analysis or catalog's run is not Inconclusive within 60 s:\n{:#}\n{:#}",
        t.rollout("inventory")["status"],
        t.rollout("catalog")["status"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_reads_the_failed_and_the_inconclusive_analysis_with_kube_rs_and_kubectl() {
    let t = analysed_lab().await;
    let inventory = t.rollout("inventory");
    assert!(
        inventory["status"]["message"]
            .as_str()
            .unwrap()
            .starts_with("RolloutAborted: Rollout aborted update to revision 13: Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2)"),
        "{:#}",
        inventory["status"]
    );

    // kube-rs, as the read-only viewer: the cockpit's detail carries the runs.
    let client = t.client("lab-viewer").await;
    let detail = describe_rollout(&client, &RolloutRef::new("lab-viewer", "demo", "inventory"))
        .await
        .unwrap();
    let run = &detail.analysis_runs[0];
    assert_eq!(
        (run.phase.as_str(), run.role.as_str()),
        ("Failed", "background")
    );
    let metric = run.deciding_metric().unwrap();
    assert_eq!(metric.name, "error-rate");
    assert_eq!((metric.failed, metric.failure_limit), (3, Some(2)));
    let latest = metric.latest().unwrap();
    assert_eq!(latest.phase, "Failed");
    assert!(latest.started_at.is_some() && latest.finished_at.is_some());
    let words = metric.explain();
    assert!(
        words.starts_with("error-rate: 0.")
            && words.contains(" > 0.05, 3 of ")
            && words.ends_with("failed; failure limit 2"),
        "{words}"
    );
    let catalog = describe_rollout(&client, &RolloutRef::new("lab-viewer", "demo", "catalog"))
        .await
        .unwrap();
    assert!(
        catalog.analysis_runs[0].inconclusive(),
        "{:?}",
        catalog.analysis_runs
    );
    assert_eq!(catalog.analysis_runs[0].role, "step 1");
    assert_eq!(catalog.view.message, "InconclusiveAnalysisRun");

    // The controller's Events: on the run and on the rollout.
    let (events, _) = t.lab.store().list(Kind::Event, Some("demo"));
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["reason"] == "AnalysisRunFailed")
        .collect();
    assert!(
        failed
            .iter()
            .any(|e| e["involvedObject"]["kind"] == "AnalysisRun")
    );
    assert!(
        failed
            .iter()
            .any(|e| e["involvedObject"]["name"] == "inventory")
    );

    need_kubectl().await;
    let name = run.name.as_str();
    let args = |rest: &[&'static str]| -> Vec<&'static str> {
        ["--context", "lab-viewer", "-n", "demo"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect()
    };
    let (ok, out, err) = t.run(&args(&["get", "analysisruns"])).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(name) && l.contains("Failed")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("catalog-") && l.contains("Inconclusive")),
        "{out}"
    );
    let (ok, out, err) = t
        .run(&[
            "--context",
            "lab-viewer",
            "-n",
            "demo",
            "get",
            "analysisrun",
            name,
            "-o",
            "json",
        ])
        .await;
    assert!(ok, "{err}");
    let object: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(object["status"]["phase"], "Failed");
    assert_eq!(
        object["metadata"]["ownerReferences"][0]["name"],
        "inventory"
    );
    let (ok, out, err) = t
        .run(&[
            "--context",
            "lab-viewer",
            "-n",
            "demo",
            "get",
            "ar",
            name,
            "-o",
            "yaml",
        ])
        .await;
    assert!(
        ok && out.contains("metricResults:") && out.contains("failureLimit: 2"),
        "{out}{err}"
    );
    let (ok, out, err) = t.run(&args(&["get", "analysistemplates"])).await;
    assert!(
        ok && out.contains("error-rate") && out.contains("smoke-error-rate"),
        "{out}{err}"
    );
    let (ok, out, _) = t
        .run(&args(&[
            "auth",
            "can-i",
            "list",
            "analysisruns.argoproj.io",
        ]))
        .await;
    assert!(ok && out.trim() == "yes", "{out}");
    let (_, out, _) = t
        .run(&args(&[
            "auth",
            "can-i",
            "delete",
            "analysisruns.argoproj.io",
        ]))
        .await;
    assert_eq!(out.trim(), "no");
    t.lab.shutdown().await;
}
