//! Test data for the window's unit tests: the lab-like `checkout` rollout from
//! `tests/fixtures/checkout-rollout.yaml`, moved to any step the test needs.

use crate::model::{Rollout, RolloutView};

const CHECKOUT_YAML: &str = include_str!("../../tests/fixtures/checkout-rollout.yaml");

/// `checkout` in context `lab-admin`, paused for a person at step 1 of 8 (weight 20%).
pub fn checkout() -> RolloutView {
    let rollout: Rollout = serde_saphyr::from_str(CHECKOUT_YAML).expect("fixture parses");
    RolloutView::from_rollout("lab-admin", &rollout)
}

/// `checkout` paused for a person at `step` (an index into its eight steps).
pub fn checkout_paused_at(step: i32) -> RolloutView {
    let mut rollout: Rollout = serde_saphyr::from_str(CHECKOUT_YAML).expect("fixture parses");
    if let Some(status) = rollout.status.as_mut() {
        status.current_step_index = Some(step);
    }
    let mut view = RolloutView::from_rollout("lab-admin", &rollout);
    view.actual_weight = view.set_weight;
    view
}

/// One activity entry at `t` (unix seconds): ours (lab-admin, via release-cockpit) or the
/// controller's, a Warning or not.
pub fn activity_entry(
    t: f64,
    ours: bool,
    verb: &str,
    warning: bool,
) -> crate::ui::events::ActivityEntry {
    crate::ui::events::ActivityEntry {
        time_secs: t,
        user: if ours {
            "lab-admin".into()
        } else {
            String::new()
        },
        verb: verb.into(),
        comment: None,
        detail: String::new(),
        source: if ours {
            "release-cockpit"
        } else {
            "rollouts-controller"
        }
        .into(),
        ours,
        warning,
    }
}
