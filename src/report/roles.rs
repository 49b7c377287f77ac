//! Roles over time for a report read after the fact (the CLI has no window that watched the
//! release): from each ReplicaSet's revision, the rollout's status now, the controller's
//! `RolloutCompleted` Event (when the new version became stable) and, without that Event, the
//! traffic each version took (it took over when its share last rose past half). Weighted
//! releases and Flagger canaries have two Deployments and their own promotion records.

use crate::model::{
    Point, RoleChange, RolloutView, Signal, StrategyKind, Version, VersionRole, VersionRoles,
    VersionSeries,
};

/// Share under which a version takes no traffic (rounding in rates).
const NO_TRAFFIC: f64 = 0.01;

/// A version to follow: its hash and revision (from its ReplicaSet, when listed).
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub hash: String,
    pub revision: Option<i64>,
}

/// The versions to ask the metrics source for: the rollout's versions now, then every other
/// ReplicaSet's, labelled "previous stable" when its revision is older than stable's (it was
/// stable before) and "previous canary" when newer (replaced or rolled back).
pub fn versions_to_follow(view: &RolloutView, seen: &[Seen]) -> Vec<Version> {
    let mut out = view.versions();
    let stable_revision = stable_hash(view)
        .and_then(|h| seen.iter().find(|s| s.hash == h))
        .and_then(|s| s.revision);
    for s in seen {
        if out.iter().any(|v| v.hash == s.hash) {
            continue;
        }
        let role = match (s.revision, stable_revision) {
            (Some(r), Some(stable)) if r > stable => VersionRole::PreviousCanary,
            _ => VersionRole::PreviousStable,
        };
        out.push(Version::new(role, &s.hash));
    }
    out
}

/// The versions to follow for a release of two Deployments (a weighted release, a Flagger
/// canary): the view's versions, then the stable Deployment's older ReplicaSets as "previous
/// stable" and the canary Deployment's as "previous canary" (revisions count per Deployment).
pub fn versions_of_two_deployments(
    view: &RolloutView,
    revisions: &crate::cluster::ReleaseRevisions,
) -> Vec<Version> {
    let mut out = view.versions();
    let sides = [
        (&revisions.stable, VersionRole::PreviousStable),
        (&revisions.canary, VersionRole::PreviousCanary),
    ];
    for (side, role) in sides {
        for r in side.iter() {
            if !out.iter().any(|v| v.hash == r.hash) {
                out.push(Version::new(role, &r.hash));
            }
        }
    }
    out
}

fn stable_hash(view: &RolloutView) -> Option<&str> {
    match view.strategy {
        StrategyKind::BlueGreen => view.active_hash.as_deref(),
        _ => view.stable_hash.as_deref(),
    }
}

/// When the current stable (active) took over: the newest `RolloutCompleted` Event that names
/// its hash (Argo: "Rollout completed update to revision 4 (7d864bd76): …").
pub fn promoted_at(view: &RolloutView, events: &[super::ReportEvent]) -> Option<f64> {
    let hash = stable_hash(view)?;
    events
        .iter()
        .filter(|e| e.reason == "RolloutCompleted" && e.message.contains(hash))
        .map(|e| e.time_secs)
        .max_by(f64::total_cmp)
}

/// When a Flagger canary's current primary took over: Flagger's newest "Promotion completed!"
/// Event (it names the canary, not a hash; the primary's newest ReplicaSet is what it made).
pub fn flagger_promoted_at(events: &[super::ReportEvent]) -> Option<f64> {
    events
        .iter()
        .filter(|e| e.message.contains("Promotion completed!"))
        .map(|e| e.time_secs)
        .max_by(f64::total_cmp)
}

/// When a weighted release was promoted fully, from its route's last-action annotation (the
/// route keeps only the last action: a later one hides when the promotion happened).
pub fn weighted_promoted_at(view: &RolloutView) -> Option<f64> {
    let action: crate::orchestrator::LastAction =
        serde_json::from_str(view.last_action.as_deref()?).ok()?;
    let last_step = i32::try_from(view.steps.len()).ok()?;
    let promoted = match action.verb {
        crate::model::Verb::PromoteFull => true,
        crate::model::Verb::Promote => action.to_step.is_some_and(|s| s >= last_step),
        _ => false,
    };
    promoted.then(|| action.time.as_millisecond() as f64 / 1000.0)
}

/// Each version's roles over `series` (the versions as [`versions_to_follow`] labels them);
/// `promoted_at` is when the current stable took over, if known (see [`promoted_at`]).
pub fn infer(
    view: &RolloutView,
    series: &[VersionSeries],
    promoted_at: Option<f64>,
) -> Vec<VersionRoles> {
    let blue_green = view.strategy == StrategyKind::BlueGreen;
    let (old_role, new_role) = if blue_green {
        (VersionRole::Active, VersionRole::Preview)
    } else {
        (VersionRole::Stable, VersionRole::Canary)
    };
    let share = |hash: &str| -> Vec<Point> {
        series
            .iter()
            .find(|s| s.signal == Signal::TrafficShare && s.version.hash == hash)
            .map(|s| s.points.clone())
            .unwrap_or_default()
    };
    let first_seen = |hash: &str| -> Option<f64> {
        series
            .iter()
            .filter(|s| s.version.hash == hash)
            .filter_map(|s| {
                s.points
                    .iter()
                    .find(|p| p.value.is_some())
                    .map(|p| p.t_secs)
            })
            .min_by(f64::total_cmp)
    };
    let mut versions: Vec<Version> = Vec::new();
    for s in series {
        if !versions.iter().any(|v| v.hash == s.version.hash) {
            versions.push(s.version.clone());
        }
    }
    let previous_stable_seen = versions
        .iter()
        .any(|v| v.role == VersionRole::PreviousStable);
    versions
        .iter()
        .filter_map(|v| {
            let since = first_seen(&v.hash)?;
            let points = share(&v.hash);
            let change = |t: f64, role: Option<VersionRole>| RoleChange {
                since_secs: t,
                role,
            };
            let changes = match v.role {
                // Stable now: it came in as the new version when an older one was stable in
                // the span, and took over when its share reached all traffic.
                VersionRole::Stable | VersionRole::Active if previous_stable_seen => {
                    match promoted_at.or_else(|| rose_past_half(&points)) {
                        Some(t) if t > since => {
                            vec![change(since, Some(new_role)), change(t, Some(v.role))]
                        }
                        _ => vec![change(since, Some(v.role))],
                    }
                }
                VersionRole::PreviousStable => {
                    let gone = promoted_at
                        .or_else(|| left_for_good(&points))
                        .or_else(|| last_value(&points))
                        .unwrap_or(since)
                        .max(since);
                    vec![change(since, Some(old_role)), change(gone, None)]
                }
                VersionRole::PreviousCanary => {
                    let gone = left_for_good(&points)
                        .or_else(|| last_value(&points))
                        .unwrap_or(since)
                        .max(since);
                    vec![change(since, Some(new_role)), change(gone, None)]
                }
                role => vec![change(since, Some(role))],
            };
            Some(VersionRoles {
                hash: v.hash.clone(),
                changes,
            })
        })
        .collect()
}

/// The last time the share rose from under half to half or more (rates smooth a switch over
/// their window; half way is when the new version took the most traffic).
fn rose_past_half(points: &[Point]) -> Option<f64> {
    let values: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.t_secs, p.value?)))
        .collect();
    values
        .windows(2)
        .rev()
        .find(|w| w[0].1 < 0.5 && w[1].1 >= 0.5)
        .map(|w| w[1].0)
}

/// The time after the last point with traffic, when no later point has any.
fn left_for_good(points: &[Point]) -> Option<f64> {
    let last = points
        .iter()
        .rposition(|p| p.value.is_some_and(|v| v > NO_TRAFFIC))?;
    points.get(last + 1).map(|p| p.t_secs)
}

/// The time of the newest value.
fn last_value(points: &[Point]) -> Option<f64> {
    points
        .iter()
        .rev()
        .find(|p| p.value.is_some())
        .map(|p| p.t_secs)
}

/// The role `roles` says a version played at `t_secs`, if any.
pub fn role_at(roles: &VersionRoles, t_secs: f64) -> Option<VersionRole> {
    roles
        .changes
        .iter()
        .rev()
        .find(|c| c.since_secs <= t_secs)
        .and_then(|c| c.role)
}
