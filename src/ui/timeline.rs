//! Markers on the time axis: step changes, pauses, promotions, aborts and manual actions,
//! derived from successive fleet snapshots of a rollout and from its audit trail.

use super::events::ActivityEntry;
use crate::model::{Phase, RolloutView};

/// What happened at a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Step,
    Pause,
    Promotion,
    Abort,
    /// Something a person (or `auto`) did, from the audit trail.
    Manual,
}

impl MarkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Step => "step",
            MarkerKind::Pause => "pause",
            MarkerKind::Promotion => "promotion",
            MarkerKind::Abort => "abort",
            MarkerKind::Manual => "action",
        }
    }
}

/// One vertical line on the plots.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub t_secs: f64,
    pub kind: MarkerKind,
    pub label: String,
}

/// The markers the change from `old` to `new` (seen at `now_secs`) deserves.
pub fn transition_markers(old: &RolloutView, new: &RolloutView, now_secs: f64) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut mark = |kind, label: String| {
        out.push(Marker {
            t_secs: now_secs,
            kind,
            label,
        })
    };
    if new.aborted && !old.aborted {
        mark(MarkerKind::Abort, "aborted".into());
    }
    if old.in_progress() && !new.in_progress() && !new.aborted {
        mark(MarkerKind::Promotion, "promoted: new stable".into());
    }
    if new.current_step != old.current_step
        && let Some(step) = new.current_step
    {
        mark(
            MarkerKind::Step,
            format!("step {} (weight {}%)", step, new.set_weight),
        );
    }
    let was_paused = old.phase == Phase::Paused;
    if new.phase == Phase::Paused && !was_paused {
        let why = new.pause_reasons.join(", ");
        mark(
            MarkerKind::Pause,
            if why.is_empty() {
                "paused".into()
            } else {
                format!("paused: {why}")
            },
        );
    }
    out
}

/// Markers for the audit trail's entries (ours: the controller's steps and aborts already
/// leave transition markers).
pub fn activity_markers(entries: &[ActivityEntry]) -> Vec<Marker> {
    entries
        .iter()
        .filter(|e| e.ours)
        .map(|e| Marker {
            t_secs: e.time_secs,
            kind: match e.verb.as_str() {
                "abort" => MarkerKind::Abort,
                "promote" | "promote-full" => MarkerKind::Promotion,
                _ => MarkerKind::Manual,
            },
            label: format!("{} by {}", e.verb, e.user),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixtures;

    #[test]
    fn a_step_change_and_an_abort_each_leave_a_marker() {
        let before = fixtures::checkout_paused_at(1);
        let moved = fixtures::checkout_paused_at(3);
        let marks = transition_markers(&before, &moved, 100.0);
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0].kind, MarkerKind::Step);
        assert_eq!(marks[0].label, "step 3 (weight 40%)");

        let mut aborted = before.clone();
        aborted.aborted = true;
        aborted.phase = Phase::Degraded;
        let marks = transition_markers(&before, &aborted, 200.0);
        assert_eq!(
            marks.iter().map(|m| m.kind).collect::<Vec<_>>(),
            [MarkerKind::Abort]
        );
        assert_eq!(marks[0].t_secs, 200.0);
    }

    #[test]
    fn nothing_changed_means_no_marker() {
        let view = fixtures::checkout_paused_at(1);
        assert!(transition_markers(&view, &view, 1.0).is_empty());
    }
}
