//! Text output against what `kubectl argo rollouts` prints for the same objects.

use super::*;
use crate::cluster::detail_of;
use crate::model::testdata::object;
use crate::model::{Outcome, Rollout, RolloutRef, Verb};
use k8s_openapi::api::apps::v1::ReplicaSet;

fn text(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    f(&mut buf).expect("write");
    String::from_utf8(buf).expect("utf8")
}

fn rs(file: &str) -> ReplicaSet {
    let mut raw: serde_json::Value = object(file);
    raw["apiVersion"] = "apps/v1".into();
    serde_json::from_value(raw).expect("replica set")
}

#[test]
fn human_durations_match_kubectl() {
    let cases = [
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (330, "5m30s"),
        (3600, "60m"),
        (4 * 3600 + 600, "4h10m"),
        (30 * 3600, "30h"),
        (7 * 86400, "7d"),
        (3 * 86400 + 5 * 3600, "3d5h"),
        (100 * 86400, "100d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (9 * 365 * 86400, "9y"),
    ];
    for (secs, want) in cases {
        assert_eq!(human_duration(secs), want, "{secs}s");
    }
}

#[test]
fn get_block_reads_like_kubectl_argo_rollouts() {
    let ro: Rollout = object("canary/canary-rollout.yaml");
    let sets = [
        rs("canary/canary-rs.yaml"),
        rs("canary/stable-rs.yaml"),
        rs("canary/old-rs.yaml"),
    ];
    let detail = detail_of("lab", &ro, Some(&sets));
    let got = text(|out| write_get(out, &detail));
    let want = "\
Name:            canary-demo
Namespace:       jesse-test
Controller:      Argo
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary)
                 argoproj/rollouts-demo:green (stable)
Replicas:
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5
Revision:        31
";
    assert_eq!(got, want);
}

#[test]
fn list_table_has_kubectl_columns_aligned() {
    let views: Vec<_> = [
        "canary/canary-rollout.yaml",
        "blue-green/bluegreen-rollout.yaml",
    ]
    .iter()
    .map(|f| crate::model::RolloutView::from_rollout("lab", &object::<Rollout>(f)))
    .collect();
    let now: jiff::Timestamp = "2019-11-01T06:07:18Z".parse().expect("time");
    let got = text(|out| write_list(out, &views, now));
    let want = "\
NAME            NAMESPACE   CONTROLLER  STRATEGY   STATUS    STEP  SET-WEIGHT  READY  AGE
canary-demo     jesse-test  Argo        Canary     Degraded  0/8   20          5/6    7d
bluegreen-demo  jesse-test  Argo        BlueGreen  Paused    -     -           6/6    6d2h
";
    assert_eq!(got, want);
    assert_eq!(
        text(|out| write_list(out, &[], now)),
        "No rollouts found.\n"
    );
}

#[test]
fn outcome_line_names_the_rollout() {
    let outcome = Outcome {
        rollout: RolloutRef::new("lab", "demo", "checkout"),
        verb: Verb::Promote,
        summary: "promoted: step 1 → 2 (weight 40%)".into(),
        from_step: Some(1),
        to_step: Some(2),
        weight: Some(40),
        changed: true,
        resource_version: Some("7".into()),
    };
    assert_eq!(
        outcome_line(&outcome),
        "rollout 'checkout' promoted: step 1 → 2 (weight 40%)"
    );
}

#[test]
fn get_shows_what_a_pipelines_auto_waits_for_in_text_and_json() {
    let mut ro: Rollout = object("canary/canary-rollout.yaml");
    ro.metadata.annotations.get_or_insert_default().insert(
        crate::model::view::AUTO_STATUS_ANNOTATION.into(),
        "waiting for approval: marginal verdict, score 82".into(),
    );
    let detail = detail_of("lab", &ro, None);
    let got = text(|out| write_get(out, &detail));
    assert!(
        got.ends_with("Pipeline:        auto: waiting for approval — marginal verdict, score 82\n"),
        "{got}"
    );
    let json = serde_json::to_value(&detail).expect("json");
    assert_eq!(
        json["autoStatus"],
        "waiting for approval: marginal verdict, score 82"
    );
}

/// `get` ends with the controller's AnalysisRuns: the run, Argo's message when it failed, and
/// each metric in words (the run was captured from the lab with kubectl).
#[test]
fn get_lists_the_analysis_runs_with_the_failing_metric_in_words() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory-analysisrun.yaml");
    let text_of_run = std::fs::read_to_string(&path).expect("fixture");
    let run: serde_json::Value = serde_saphyr::from_str(&text_of_run).expect("run parses");
    let ro: Rollout = object("canary/canary-rollout.yaml");
    let mut detail = detail_of("lab", &ro, None);
    detail.analysis_runs = vec![crate::model::AnalysisRunSummary::from_object(&run).expect("run")];
    let got = text(|out| write_get(out, &detail));
    let tail = &got[got.find("AnalysisRuns:").expect("an AnalysisRuns section")..];
    assert_eq!(
        tail,
        "\
AnalysisRuns:
  ✖ inventory-6d77d576fb-13 (background): Failed
      Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2)
    ✖ error-rate: 0.1034 > 0.05, 3 of 5 failed; failure limit 2 (latest: Failed)
"
    );
    let json = serde_json::to_value(&detail).expect("json");
    let metric = &json["analysisRuns"][0]["metrics"][0];
    assert_eq!(metric["failureLimit"], 2);
    assert_eq!(metric["measurements"][4]["value"], "0.1034");
    assert!(metric["measurements"][4]["finishedAt"].is_string());
}
