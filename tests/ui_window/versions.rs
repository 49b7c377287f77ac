//! Versions, not roles, in the header: once checkout is fully promoted (one version, Healthy),
//! the verdict line says there is nothing to compare instead of the verdict about the canary
//! it judged before; while a canary runs, the verdict shows.

use super::*;
use release_cockpit::ui::events::VerdictView;
use release_cockpit::ui::rollout::header::ONE_VERSION;

#[test]
fn a_promoted_rollout_with_one_version_has_nothing_to_compare() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    let r = RolloutRef::new("lab-admin", "shop", "checkout");
    w.send(AppEvent::Verdict {
        rollout: r.clone(),
        verdict: VerdictView {
            verdict: "pass".into(),
            score: 96.0,
            reasons: vec!["error rate within 0.5% of stable".into()],
            metrics: Vec::new(),
            metric_status: Vec::new(),
        },
    });
    w.settle();
    assert!(w.harness.query_by_label("pass (score 96/100)").is_some());
    assert!(w.harness.query_by_label(ONE_VERSION).is_none());

    // Promoted fully: the canary's hash is stable now, and the rollout Healthy.
    let mut promoted = checkout("lab-admin");
    promoted.stable_hash = promoted.current_hash.clone();
    promoted.phase = release_cockpit::model::Phase::Healthy;
    promoted.current_step = Some(promoted.steps.len() as i32);
    promoted.pause_reasons.clear();
    promoted.paused = false;
    let mut fleet = argo_fixtures("lab-admin");
    fleet.push(promoted);
    w.send(AppEvent::Fleet {
        context: "lab-admin".into(),
        rollouts: fleet,
    });
    w.settle();
    assert!(
        w.harness.query_by_label(ONE_VERSION).is_some(),
        "the verdict line says so"
    );
    assert!(
        w.harness.query_by_label("pass (score 96/100)").is_none(),
        "the canary's old verdict is not shown as if it were about now"
    );
}
