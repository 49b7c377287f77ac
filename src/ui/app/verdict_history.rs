//! The verdicts each rollout went through while the window watched: a new entry when the
//! verdict or its reasons change (not every refresh), bounded, for the review's "verdicts
//! over time" (Export).

use super::AppState;
use crate::model::RolloutRef;
use crate::ui::events::VerdictView;

/// The most verdict changes kept per rollout (the oldest go first).
pub const VERDICT_HISTORY: usize = 500;

impl AppState {
    /// Records `verdict` at `now` when it says something else than the last one recorded.
    pub(super) fn remember_verdict(
        &mut self,
        rollout: &RolloutRef,
        verdict: &VerdictView,
        now: f64,
    ) {
        let history = self.verdict_history.entry(rollout.clone()).or_default();
        let same = history.last().is_some_and(|(_, last)| {
            last.verdict == verdict.verdict && last.reasons == verdict.reasons
        });
        if same {
            return;
        }
        if history.len() >= VERDICT_HISTORY {
            history.remove(0);
        }
        history.push((now, verdict.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(word: &str, reason: &str) -> VerdictView {
        VerdictView {
            verdict: word.into(),
            score: 50.0,
            reasons: vec![reason.into()],
            metrics: Vec::new(),
            metric_status: Vec::new(),
        }
    }

    #[test]
    fn only_changes_are_kept_and_the_history_is_bounded() {
        let mut state = AppState::new(crate::ui::settings::Settings::default(), false);
        let r = RolloutRef::new("lab-admin", "demo", "checkout");
        state.remember_verdict(&r, &verdict("pass", "fine"), 1.0);
        state.remember_verdict(&r, &verdict("pass", "fine"), 2.0);
        state.remember_verdict(&r, &verdict("fail", "errors"), 3.0);
        state.remember_verdict(&r, &verdict("fail", "errors"), 4.0);
        let times: Vec<f64> = state.verdict_history[&r].iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [1.0, 3.0]);
        for i in 0..VERDICT_HISTORY + 10 {
            state.remember_verdict(&r, &verdict("pass", &i.to_string()), 10.0 + i as f64);
        }
        let kept = &state.verdict_history[&r];
        assert_eq!(kept.len(), VERDICT_HISTORY);
        assert_eq!(
            kept.last().map(|(t, _)| *t),
            Some(10.0 + (VERDICT_HISTORY + 9) as f64)
        );
    }
}
