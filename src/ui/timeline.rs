//! Markers on the time axis: step changes, pauses, promotions, aborts and manual actions,
//! derived from successive fleet snapshots of a rollout, from its audit trail (the cockpit's
//! own) and from the controller's Events, each marker saying which of the three it came from.

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
    /// A Warning Event of the controller that is not an abort (`AnalysisRunFailed`, …).
    Warning,
    /// Any other Event of the controller (`ScalingReplicaSet`, `AnalysisRunRunning`, …).
    Event,
}

/// Who put a marker on the time axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerOrigin {
    /// The cockpit's audit trail: a person or `auto` through the orchestration API.
    Cockpit,
    /// An Event the controller (or another component) recorded.
    Controller,
    /// A change this window saw between two snapshots of the rollout.
    Observed,
}

impl MarkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Step => "step",
            MarkerKind::Pause => "pause",
            MarkerKind::Promotion => "promotion",
            MarkerKind::Abort => "abort",
            MarkerKind::Manual => "action",
            MarkerKind::Warning => "warning",
            MarkerKind::Event => "event",
        }
    }
}

/// One vertical line on the plots.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub t_secs: f64,
    pub kind: MarkerKind,
    pub label: String,
    pub origin: MarkerOrigin,
}

/// The markers the change from `old` to `new` (seen at `now_secs`) deserves.
pub fn transition_markers(old: &RolloutView, new: &RolloutView, now_secs: f64) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut mark = |kind, label: String| {
        out.push(Marker {
            t_secs: now_secs,
            kind,
            label,
            origin: MarkerOrigin::Observed,
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

/// Markers for the activity: the cockpit's audit entries and the controller's Events.
pub fn activity_markers(entries: &[ActivityEntry]) -> Vec<Marker> {
    entries
        .iter()
        .filter(|e| e.time_secs > 0.0)
        .map(|e| {
            if e.ours {
                Marker {
                    t_secs: e.time_secs,
                    kind: match e.verb.as_str() {
                        "abort" => MarkerKind::Abort,
                        "promote" | "promote-full" => MarkerKind::Promotion,
                        _ if e.warning => MarkerKind::Warning,
                        _ => MarkerKind::Manual,
                    },
                    // The window's own notes (a rollback's outcome) have no person.
                    label: if e.user.is_empty() {
                        e.verb.clone()
                    } else {
                        format!("{} by {}", e.verb, e.user)
                    },
                    origin: MarkerOrigin::Cockpit,
                }
            } else {
                Marker {
                    t_secs: e.time_secs,
                    kind: controller_kind(&e.verb, e.warning),
                    label: format!("{} ({})", e.verb, e.source),
                    origin: MarkerOrigin::Controller,
                }
            }
        })
        .collect()
}

/// What an Event of the controller marks, by its reason (and type).
fn controller_kind(reason: &str, warning: bool) -> MarkerKind {
    match reason {
        r if r.contains("Aborted") => MarkerKind::Abort,
        "RolloutCompleted" | "RolloutPromoted" => MarkerKind::Promotion,
        "RolloutPaused" => MarkerKind::Pause,
        "RolloutStepCompleted" => MarkerKind::Step,
        _ if warning => MarkerKind::Warning,
        _ => MarkerKind::Event,
    }
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

    use crate::ui::fixtures::activity_entry as entry;

    #[test]
    fn the_controllers_events_are_markers_apart_from_the_cockpits() {
        let entries = [
            entry(10.0, true, "promote", false),
            entry(11.0, false, "RolloutStepCompleted", false),
            entry(12.0, false, "ScalingReplicaSet", false),
            entry(13.0, false, "RolloutAborted", true),
            entry(14.0, false, "AnalysisRunFailed", true),
            entry(15.0, true, "abort", false),
        ];
        let marks = activity_markers(&entries);
        let seen: Vec<(MarkerKind, MarkerOrigin, &str)> = marks
            .iter()
            .map(|m| (m.kind, m.origin, m.label.as_str()))
            .collect();
        use MarkerKind::*;
        use MarkerOrigin::*;
        assert_eq!(
            seen,
            [
                (Promotion, Cockpit, "promote by lab-admin"),
                (
                    Step,
                    Controller,
                    "RolloutStepCompleted (rollouts-controller)"
                ),
                (Event, Controller, "ScalingReplicaSet (rollouts-controller)"),
                (Abort, Controller, "RolloutAborted (rollouts-controller)"),
                (
                    Warning,
                    Controller,
                    "AnalysisRunFailed (rollouts-controller)"
                ),
                (Abort, Cockpit, "abort by lab-admin"),
            ]
        );
    }

    #[test]
    fn nothing_changed_means_no_marker() {
        let view = fixtures::checkout_paused_at(1);
        assert!(transition_markers(&view, &view, 1.0).is_empty());
    }
}
