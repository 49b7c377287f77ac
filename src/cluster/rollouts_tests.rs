//! ReplicaSet-aware detail over the real fixtures, against what `kubectl argo rollouts get`
//! prints for them (Argo's get_test.go / info_test.go).

use super::*;
use crate::model::testdata::object;
use crate::model::view::Phase;

/// A ReplicaSet fixture; the older ones were recorded as extensions/v1beta1, which has the
/// same shape as apps/v1.
fn replica_set(file: &str) -> ReplicaSet {
    let mut raw: serde_json::Value = object(file);
    raw["apiVersion"] = "apps/v1".into();
    serde_json::from_value(raw).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn detail(rollout: &str, replica_sets: &[&str]) -> RolloutDetail {
    let ro: Rollout = object(rollout);
    let rs: Vec<ReplicaSet> = replica_sets.iter().map(|f| replica_set(f)).collect();
    detail_of("lab", &ro, Some(&rs))
}

fn images(d: &RolloutDetail) -> Vec<(String, Vec<VersionRole>)> {
    d.tagged_images
        .iter()
        .map(|t| (t.image.clone(), t.roles.clone()))
        .collect()
}

#[test]
fn canary_detail_tags_images_and_lists_revisions() {
    let d = detail(
        "canary/canary-rollout.yaml",
        &[
            "canary/old-rs.yaml",
            "canary/canary-rs.yaml",
            "canary/stable-rs.yaml",
        ],
    );
    assert_eq!(
        images(&d),
        vec![
            (
                "argoproj/rollouts-demo:does-not-exist".into(),
                vec![VersionRole::Canary]
            ),
            (
                "argoproj/rollouts-demo:green".into(),
                vec![VersionRole::Stable]
            ),
        ]
    );
    let revisions: Vec<Option<i64>> = d.replica_sets.iter().map(|r| r.revision).collect();
    assert_eq!(revisions, vec![Some(31), Some(30), Some(29)]);
    assert_eq!(d.replica_sets[0].hash, "65fb5ffc84");
    assert_eq!(d.view.phase, Phase::Degraded);
    assert_eq!((d.view.set_weight, d.view.actual_weight), (20, 0));
}

#[test]
fn blue_green_detail_tags_active_and_preview() {
    let d = detail(
        "blue-green/bluegreen-rollout.yaml",
        &[
            "blue-green/active-rs.yaml",
            "blue-green/preview-rs.yaml",
            "blue-green/old-rs.yaml",
        ],
    );
    assert_eq!(
        images(&d),
        vec![
            (
                "argoproj/rollouts-demo:blue".into(),
                vec![VersionRole::Stable, VersionRole::Active]
            ),
            (
                "argoproj/rollouts-demo:green".into(),
                vec![VersionRole::Preview]
            ),
        ]
    );
    assert_eq!(d.replica_sets.len(), 3);
}

#[test]
fn basic_canary_actual_weight_comes_from_available_canary_pods() {
    let d = detail(
        "experiment-analysis/rollout-experiment-analysis.yaml",
        &[
            "experiment-analysis/stable-rs.yaml",
            "experiment-analysis/canary-rs.yaml",
            // Experiment ReplicaSets are owned by the Experiment, not the rollout.
            "experiment-analysis/experiment-rs1.yaml",
        ],
    );
    assert_eq!((d.view.set_weight, d.view.actual_weight), (25, 25));
    assert_eq!(d.replica_sets.len(), 2);
    assert_eq!(
        images(&d),
        vec![
            (
                "argoproj/rollouts-demo:blue".into(),
                vec![VersionRole::Stable]
            ),
            (
                "argoproj/rollouts-demo:yellow".into(),
                vec![VersionRole::Canary]
            ),
        ]
    );
}

#[test]
fn aborted_canary_with_scaled_down_canary_shows_only_stable() {
    let d = detail(
        "rollout-aborted/rollout.yaml",
        &["rollout-aborted/rs1.yaml", "rollout-aborted/rs2.yaml"],
    );
    assert_eq!(
        images(&d),
        vec![(
            "argoproj/rollouts-demo:blue".into(),
            vec![VersionRole::Stable]
        )]
    );
    assert_eq!(d.view.actual_weight, 0);
    let template = d.replica_sets[1].template.as_ref().expect("template");
    assert_eq!(
        template.pointer("/metadata/labels/rollouts-pod-template-hash"),
        Some(&serde_json::json!("7d84d44bb8"))
    );
}

#[test]
fn without_replica_sets_the_template_images_are_shown_untagged() {
    let ro: Rollout = object("canary/canary-rollout.yaml");
    let d = detail_of("lab", &ro, None);
    assert_eq!(
        images(&d),
        vec![("argoproj/rollouts-demo:does-not-exist".into(), vec![])]
    );
    assert!(d.replica_sets.is_empty());
}
