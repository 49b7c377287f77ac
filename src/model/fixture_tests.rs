//! The model over every real Argo object in the shared fixtures: each Rollout parses and
//! yields the phase, step and weights that `kubectl argo rollouts get` shows for it.

use super::testdata::{all_objects, object};
use super::view::{Phase, RolloutView, StepKind, StrategyKind};
use super::{Rollout, Version, VersionRole};

struct Expected {
    file: &'static str,
    phase: Phase,
    message: &'static str,
    step: &'static str,
    set_weight: i32,
    actual_weight: i32,
}

/// What `kubectl argo rollouts get rollout` prints for each fixture (Argo's info_test.go,
/// get_test.go and rolloututil.go give the same answers).
const EXPECTED: &[Expected] = &[
    Expected {
        file: "canary/canary-rollout.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 0,
    },
    Expected {
        file: "canary/canary-rollout2.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 0,
    },
    Expected {
        file: "canary/canary-rollout3.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 0,
    },
    Expected {
        file: "canary/canary-rollout4.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 0,
    },
    // Traffic routing with `status.canary.weights`: the router's canary weight.
    Expected {
        file: "canary/canary-rollout5.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 20,
    },
    // Traffic routing without weights in status: falls back to the set weight.
    Expected {
        file: "canary/canary-rollout6.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing.",
        step: "0/8",
        set_weight: 20,
        actual_weight: 20,
    },
    Expected {
        file: "blue-green/bluegreen-rollout.yaml",
        phase: Phase::Paused,
        message: "BlueGreenPause",
        step: "",
        set_weight: 100,
        actual_weight: 100,
    },
    Expected {
        file: "rollout-aborted/rollout.yaml",
        phase: Phase::Degraded,
        message: "RolloutAborted: metric \"web\" assessed Failed due to failed (1) > failureLimit (0)",
        step: "0/2",
        set_weight: 0,
        actual_weight: 0,
    },
    Expected {
        file: "rollout-invalid/rollout-invalid.yaml",
        phase: Phase::Degraded,
        message: "InvalidSpec: The Rollout \"rollout-invalid\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"doesnt-match\"}: `selector` does not match template `labels`",
        step: "",
        set_weight: 100,
        actual_weight: 100,
    },
    Expected {
        file: "experiment-analysis/rollout-experiment-analysis.yaml",
        phase: Phase::Degraded,
        message: "ProgressDeadlineExceeded: ReplicaSet \"rollout-experiment-analysis-6f646bf7b7\" has timed out progressing.",
        step: "1/2",
        set_weight: 25,
        actual_weight: 25,
    },
    Expected {
        file: "experiment-step/canary-demo.yaml",
        phase: Phase::Progressing,
        message: "more replicas need to be updated",
        step: "0/1",
        set_weight: 0,
        actual_weight: 0,
    },
];

fn view_of(file: &str) -> RolloutView {
    let ro: Rollout = object(file);
    RolloutView::from_rollout("lab", &ro)
}

#[test]
fn every_rollout_fixture_parses_and_has_an_expectation() {
    let mut rollouts = Vec::new();
    for file in all_objects() {
        let raw: serde_json::Value = object(&file);
        if raw["kind"] == "Rollout" {
            let ro: Rollout = object(&file);
            assert!(
                !ro.metadata.name.clone().unwrap_or_default().is_empty(),
                "{file}"
            );
            rollouts.push(file);
        }
    }
    let expected: Vec<&str> = EXPECTED.iter().map(|e| e.file).collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(
        rollouts, sorted,
        "every Rollout fixture has a row in EXPECTED"
    );
}

#[test]
fn every_fixture_shows_what_kubectl_argo_rollouts_shows() {
    for e in EXPECTED {
        let v = view_of(e.file);
        assert_eq!(v.phase, e.phase, "phase of {}", e.file);
        assert_eq!(v.message, e.message, "message of {}", e.file);
        assert_eq!(v.step_label(), e.step, "step of {}", e.file);
        assert_eq!(v.set_weight, e.set_weight, "set weight of {}", e.file);
        assert_eq!(
            v.actual_weight, e.actual_weight,
            "actual weight of {}",
            e.file
        );
    }
}

#[test]
fn canary_fixture_reads_steps_hashes_images_and_revision() {
    let v = view_of("canary/canary-rollout.yaml");
    assert_eq!(v.reference.namespace, "jesse-test");
    assert_eq!(v.reference.name, "canary-demo");
    assert_eq!(v.reference.context, "lab");
    assert_eq!(v.strategy, StrategyKind::Canary);
    assert_eq!(v.steps.len(), 8);
    assert_eq!(v.steps[0], StepKind::SetWeight { weight: 20 });
    assert_eq!(v.steps[1], StepKind::Pause { duration: None });
    assert_eq!(
        v.steps[3],
        StepKind::Pause {
            duration: Some("10s".into())
        }
    );
    assert_eq!(
        v.declared_weights(),
        vec![(0, 20), (2, 40), (4, 60), (6, 80)]
    );
    assert_eq!(v.stable_hash.as_deref(), Some("877894d5b"));
    assert_eq!(v.current_hash.as_deref(), Some("65fb5ffc84"));
    assert_eq!(
        v.versions(),
        vec![
            Version::new(VersionRole::Stable, "877894d5b"),
            Version::new(VersionRole::Canary, "65fb5ffc84")
        ]
    );
    assert_eq!(v.images, vec!["argoproj/rollouts-demo:does-not-exist"]);
    assert_eq!(v.revision.as_deref(), Some("31"));
    assert_eq!(v.resource_version.as_deref(), Some("28253567"));
    assert_eq!(
        (v.replicas, v.ready_replicas, v.updated_replicas),
        (6, 5, 1)
    );
    assert!(v.in_progress());
    assert!(!v.aborted);
}

#[test]
fn blue_green_fixture_waits_for_a_person_with_active_and_preview() {
    let v = view_of("blue-green/bluegreen-rollout.yaml");
    assert_eq!(v.strategy, StrategyKind::BlueGreen);
    assert_eq!(v.current_step, None);
    assert_eq!(v.pause_reasons, vec!["BlueGreenPause"]);
    assert!(v.controller_pause);
    assert!(v.waiting_for_human());
    assert_eq!(
        v.versions(),
        vec![
            Version::new(VersionRole::Active, "6cbccd9f99"),
            Version::new(VersionRole::Preview, "74b948fccb")
        ]
    );
}

#[test]
fn aborted_fixture_is_aborted_and_does_not_wait_for_a_person() {
    let v = view_of("rollout-aborted/rollout.yaml");
    assert!(v.aborted);
    assert_eq!(v.aborted_at.as_deref(), Some("2020-09-22T09:10:05Z"));
    assert!(!v.waiting_for_human());
}

/// The canary-rollout fixture with `status` edited through JSON, for the phase rules that no
/// fixture exercises.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> RolloutView {
    let mut raw: serde_json::Value = object("canary/canary-rollout.yaml");
    edit(&mut raw);
    let ro: Rollout = serde_json::from_value(raw).expect("edited rollout");
    RolloutView::from_rollout("lab", &ro)
}

#[test]
fn controller_phase_wins_once_the_generation_is_observed() {
    let v = edited(|r| {
        r["status"]["phase"] = "Paused".into();
        r["status"]["message"] = "CanaryPauseStep".into();
        r["status"]["pauseConditions"] = serde_json::json!([{"reason": "CanaryPauseStep"}]);
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Paused, "CanaryPauseStep")
    );

    let v = edited(|r| {
        r["status"]["phase"] = "Healthy".into();
        r["status"]["observedGeneration"] = "428".into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (
            Phase::Progressing,
            "waiting for rollout spec update to be observed"
        )
    );
}

#[test]
fn cleared_pause_with_controller_pause_is_unpausing() {
    let v = edited(|r| {
        r["status"]["phase"] = "Paused".into();
        r["status"]["controllerPause"] = true.into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Progressing, "waiting for rollout to unpause")
    );
}

#[test]
fn client_side_phase_follows_argo_order() {
    let clear_conditions = |r: &mut serde_json::Value| {
        r["status"]["conditions"] = serde_json::json!([]);
    };
    let v = edited(|r| {
        clear_conditions(r);
        r["spec"]["paused"] = true.into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Paused, "manually paused")
    );

    let v = edited(|r| {
        clear_conditions(r);
        r["spec"]["restartAt"] = "2026-01-01T00:00:00Z".into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Progressing, "rollout is restarting")
    );

    let v = edited(clear_conditions);
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Progressing, "more replicas need to be updated")
    );

    let v = edited(|r| {
        clear_conditions(r);
        r["status"]["updatedReplicas"] = 5.into();
        r["status"]["availableReplicas"] = 5.into();
        r["status"]["replicas"] = 6.into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Progressing, "old replicas are pending termination")
    );

    let v = edited(|r| {
        clear_conditions(r);
        r["status"]["updatedReplicas"] = 5.into();
        r["status"]["replicas"] = 5.into();
    });
    assert_eq!(
        (v.phase, v.message.as_str()),
        (Phase::Progressing, "waiting for all steps to complete")
    );

    let v = edited(|r| {
        clear_conditions(r);
        r["status"]["updatedReplicas"] = 5.into();
        r["status"]["replicas"] = 5.into();
        r["status"]["currentPodHash"] = "877894d5b".into();
        r["status"]["currentStepIndex"] = 8.into();
    });
    assert_eq!((v.phase, v.message.as_str()), (Phase::Healthy, ""));
    assert_eq!((v.set_weight, v.actual_weight), (100, 100));
    assert_eq!(v.step_label(), "8/8");
    assert!(!v.in_progress());
}

#[test]
fn basic_canary_actual_weight_is_exact_with_replica_set_counts() {
    let ro: Rollout = object("experiment-analysis/rollout-experiment-analysis.yaml");
    let exact = RolloutView::from_rollout_with_replica_sets("lab", &ro, Some(2));
    assert_eq!(exact.actual_weight, 50, "2 of 4 available pods are canary");
    let estimated = RolloutView::from_rollout("lab", &ro);
    assert_eq!(estimated.actual_weight, 25);
}

#[test]
fn auto_status_is_read_from_its_annotation_and_said_in_words() {
    let mut ro: Rollout = object("canary/canary-rollout.yaml");
    assert_eq!(
        RolloutView::from_rollout("lab", &ro).auto_status_line(),
        None
    );
    ro.metadata.annotations.get_or_insert_default().insert(
        crate::model::view::AUTO_STATUS_ANNOTATION.into(),
        "waiting for approval: marginal verdict, score 82".into(),
    );
    let view = RolloutView::from_rollout("lab", &ro);
    assert_eq!(
        view.auto_status.as_deref(),
        Some("waiting for approval: marginal verdict, score 82")
    );
    assert_eq!(
        view.auto_status_line().as_deref(),
        Some("auto: waiting for approval — marginal verdict, score 82")
    );
    let finished = RolloutView {
        auto_status: Some("auto finished: done: rollout is aborted".into()),
        ..view
    };
    assert_eq!(
        finished.auto_status_line().as_deref(),
        Some("auto: finished — done: rollout is aborted")
    );
}
