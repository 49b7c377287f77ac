//! The bounded series store: one ring buffer per (rollout, version, signal), the last hour
//! at the refresh step by default, so a day of running takes no more memory than an hour.
//! Series are keyed by version (pod-template hash), never by role: roles are labels over time
//! (a role timeline per version), so a promotion keeps the version it replaced on the charts.
//! Gaps stay gaps: a missing step is stored as a `None` point, never bridged.

use crate::model::{
    BucketPoint, BucketSeries, MetricsSnapshot, NamedSeries, Point, RoleChange, RolloutRef, Signal,
    Version, VersionRoles, VersionSeries,
};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Where the source stands: when it last answered, and its error while it is failing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceHealth {
    pub last_good_secs: Option<f64>,
    /// Set while the source fails; cleared by the next good answer.
    pub error: Option<String>,
}

/// (rollout, version hash, signal).
type Key = (RolloutRef, String, Signal);

/// What a named series is: one of the policy's custom metrics, or an extra latency quantile
/// of the template's (`p99`), drawn on the latency chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamedKind {
    Custom,
    Quantile,
}

/// (rollout, version hash, kind, name).
type NamedKey = (RolloutRef, String, NamedKind, String);

/// The most points one series keeps: a day at one point per second.
pub const MAX_POINTS: usize = 86_400;
/// Points allocated up front per series; the ring grows past it as points arrive.
const PREALLOCATED_POINTS: usize = 1024;

/// Ring buffers keyed by (rollout, version hash, signal), and each version's roles over time.
#[derive(Clone, Debug)]
pub struct SeriesStore {
    capacity: usize,
    step_secs: f64,
    rings: HashMap<Key, VecDeque<Point>>,
    /// Per rollout, its versions in the order first seen, each with its role timeline.
    roles: HashMap<RolloutRef, Vec<VersionRoles>>,
    /// Latency histogram intervals per (rollout, version hash), bounded like the rings; only
    /// the judge reads them.
    buckets: HashMap<(RolloutRef, String), VecDeque<BucketPoint>>,
    /// Custom metrics' and extra quantiles' rings per (rollout, version hash, kind, name),
    /// bounded and gapped like the signals'.
    named: HashMap<NamedKey, VecDeque<Point>>,
}

impl SeriesStore {
    /// Keeps `history` worth of points at `step` (at least 2 and at most [`MAX_POINTS`]
    /// points per series: a long history at a short step is cut, never a huge allocation).
    pub fn new(history: Duration, step: Duration) -> SeriesStore {
        let step_secs = step.as_secs_f64().max(0.001);
        let wanted = (history.as_secs_f64() / step_secs).ceil();
        let capacity = if wanted.is_finite() && wanted < MAX_POINTS as f64 {
            (wanted as usize).max(2)
        } else {
            MAX_POINTS
        };
        SeriesStore {
            capacity,
            step_secs,
            rings: HashMap::new(),
            roles: HashMap::new(),
            buckets: HashMap::new(),
            named: HashMap::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn step_secs(&self) -> f64 {
        self.step_secs
    }

    /// Total points held, for checking the bound.
    pub fn len_points(&self) -> usize {
        self.rings.values().map(VecDeque::len).sum::<usize>()
            + self.named.values().map(VecDeque::len).sum::<usize>()
    }

    /// Appends a point. Points at or before the series' last time are ignored (a refresh
    /// overlapping the previous one adds nothing); a jump of more than 1.5 steps since the
    /// last point inserts a gap first so the window draws a break.
    pub fn push(&mut self, rollout: &RolloutRef, version: &Version, signal: Signal, point: Point) {
        let key = (rollout.clone(), version.hash.clone(), signal);
        let capacity = self.capacity;
        let ring = self
            .rings
            .entry(key)
            .or_insert_with(|| VecDeque::with_capacity(capacity.min(PREALLOCATED_POINTS)));
        Self::push_point(ring, capacity, self.step_secs, point);
    }

    /// Appends a point of a custom metric or an extra quantile, as [`SeriesStore::push`] does
    /// a signal's.
    pub fn push_named(
        &mut self,
        rollout: &RolloutRef,
        version: &Version,
        kind: NamedKind,
        name: &str,
        point: Point,
    ) {
        let key = (
            rollout.clone(),
            version.hash.clone(),
            kind,
            name.to_string(),
        );
        let capacity = self.capacity;
        let ring = self
            .named
            .entry(key)
            .or_insert_with(|| VecDeque::with_capacity(capacity.min(PREALLOCATED_POINTS)));
        Self::push_point(ring, capacity, self.step_secs, point);
    }

    fn push_point(ring: &mut VecDeque<Point>, capacity: usize, step_secs: f64, point: Point) {
        if let Some(last) = ring.back() {
            if point.t_secs <= last.t_secs {
                return;
            }
            if last.value.is_some()
                && point.value.is_some()
                && point.t_secs - last.t_secs > 1.5 * step_secs
            {
                let gap = Point {
                    t_secs: last.t_secs + step_secs,
                    value: None,
                };
                Self::push_bounded(ring, capacity, gap);
            }
        }
        Self::push_bounded(ring, capacity, point);
    }

    /// Appends one interval's latency buckets; intervals at or before the last one held are
    /// ignored, as points are.
    pub fn push_buckets(&mut self, rollout: &RolloutRef, version: &Version, point: BucketPoint) {
        let ring = self
            .buckets
            .entry((rollout.clone(), version.hash.clone()))
            .or_default();
        if ring.back().is_some_and(|last| point.t_secs <= last.t_secs) {
            return;
        }
        while ring.len() >= self.capacity {
            ring.pop_front();
        }
        ring.push_back(point);
    }

    fn push_bounded(ring: &mut VecDeque<Point>, capacity: usize, point: Point) {
        while ring.len() >= capacity {
            ring.pop_front();
        }
        ring.push_back(point);
    }

    /// Where the next refresh starts: the oldest of the rollouts' newest points, so nothing
    /// is skipped for any of them (points already held are ignored by `push`). `None` when a
    /// rollout has no point yet: a newly shown rollout gets its full history.
    pub fn last_t_secs(&self, rollouts: &[RolloutRef]) -> Option<f64> {
        let mut newest: Option<f64> = None;
        let mut all_known = true;
        for r in rollouts {
            let last = self
                .rings
                .iter()
                .filter(|((ro, _, _), _)| ro == r)
                .filter_map(|(_, ring)| ring.back().map(|p| p.t_secs))
                .fold(None, |acc: Option<f64>, t| {
                    Some(acc.map_or(t, |a| a.max(t)))
                });
            match last {
                Some(t) => newest = Some(newest.map_or(t, |n| n.min(t))),
                None => all_known = false,
            }
        }
        if all_known { newest } else { None }
    }

    /// Records the roles `versions` play at `t_secs` (a change only when one differs) and
    /// that every other version seen of `rollout` plays none any more.
    pub fn observe_roles(&mut self, rollout: &RolloutRef, versions: &[Version], t_secs: f64) {
        let known = self.roles.entry(rollout.clone()).or_default();
        for v in versions {
            match known.iter_mut().find(|k| k.hash == v.hash) {
                Some(k) => change_role(k, Some(v.role), t_secs),
                None => known.push(VersionRoles {
                    hash: v.hash.clone(),
                    changes: vec![RoleChange {
                        since_secs: t_secs,
                        role: Some(v.role),
                    }],
                }),
            }
        }
        for k in known.iter_mut() {
            if !versions.iter().any(|v| v.hash == k.hash) {
                change_role(k, None, t_secs);
            }
        }
    }

    /// The versions of `rollout` that play no part now but are still held, labelled
    /// "previous stable" or "previous canary", in the order first seen.
    pub fn previous_versions(&self, rollout: &RolloutRef) -> Vec<Version> {
        self.roles
            .get(rollout)
            .into_iter()
            .flatten()
            .filter(|k| k.changes.last().is_some_and(|c| c.role.is_none()))
            .filter_map(|k| Some(Version::new(k.label()?, &k.hash)))
            .collect()
    }

    /// The roles over time of every version of `rollout` held.
    pub fn role_timelines(&self, rollout: &RolloutRef) -> Vec<VersionRoles> {
        self.roles.get(rollout).cloned().unwrap_or_default()
    }

    /// Drops every rollout not in `keep`, and the previous versions of the kept ones whose
    /// newest point is older than `oldest_secs` (out of the window), so keys do not pile up
    /// while every version that had a role within the window stays.
    pub fn retain(&mut self, keep: &[RolloutRef], oldest_secs: f64) {
        self.roles.retain(|r, _| keep.contains(r));
        let rings = &self.rings;
        let newest = |r: &RolloutRef, hash: &str| {
            Signal::ALL
                .iter()
                .filter_map(|s| rings.get(&(r.clone(), hash.to_string(), *s))?.back())
                .map(|p| p.t_secs)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        for (r, versions) in self.roles.iter_mut() {
            versions.retain(|k| match k.changes.last() {
                Some(RoleChange {
                    role: None,
                    since_secs,
                }) => since_secs.max(newest(r, &k.hash)) >= oldest_secs,
                _ => true,
            });
        }
        let roles = &self.roles;
        self.rings.retain(|(r, hash, _), _| {
            roles
                .get(r)
                .is_some_and(|versions| versions.iter().any(|k| &k.hash == hash))
        });
        self.buckets.retain(|(r, hash), _| {
            roles
                .get(r)
                .is_some_and(|versions| versions.iter().any(|k| &k.hash == hash))
        });
        self.named.retain(|(r, hash, _, _), _| {
            roles
                .get(r)
                .is_some_and(|versions| versions.iter().any(|k| &k.hash == hash))
        });
    }

    /// The custom metrics' (or extra quantiles') series of one rollout: per version in the
    /// given order, by name.
    pub fn named_series(
        &self,
        rollout: &RolloutRef,
        versions: &[Version],
        kind: NamedKind,
    ) -> Vec<NamedSeries> {
        let mut out = Vec::new();
        for v in versions {
            let mut held: Vec<(&String, &VecDeque<Point>)> = self
                .named
                .iter()
                .filter(|((r, hash, k, _), _)| r == rollout && hash == &v.hash && *k == kind)
                .map(|((_, _, _, name), ring)| (name, ring))
                .collect();
            held.sort_by(|a, b| a.0.cmp(b.0));
            out.extend(held.into_iter().map(|(name, ring)| NamedSeries {
                name: name.clone(),
                version: v.clone(),
                points: ring.iter().copied().collect(),
            }));
        }
        out
    }

    /// The series of one rollout, per version and signal (versions in the given order; each
    /// version's series are found by its hash whatever role it carries).
    pub fn series(&self, rollout: &RolloutRef, versions: &[Version]) -> Vec<VersionSeries> {
        let mut out = Vec::new();
        for v in versions {
            for signal in Signal::ALL {
                let key = (rollout.clone(), v.hash.clone(), signal);
                let points = self
                    .rings
                    .get(&key)
                    .map(|r| r.iter().copied().collect())
                    .unwrap_or_default();
                out.push(VersionSeries {
                    version: v.clone(),
                    signal,
                    points,
                });
            }
        }
        out
    }

    /// Everything the window plots for one rollout, with the source's staleness: `versions`
    /// (the roles they play now) and then every previous version still held, with the role
    /// timelines of all of them.
    pub fn snapshot(
        &self,
        rollout: &RolloutRef,
        versions: &[Version],
        source: &str,
        health: &SourceHealth,
    ) -> MetricsSnapshot {
        let failing = health.error.is_some();
        let mut shown = versions.to_vec();
        shown.extend(
            self.previous_versions(rollout)
                .into_iter()
                .filter(|p| !versions.iter().any(|v| v.hash == p.hash)),
        );
        let timelines = self.role_timelines(rollout);
        MetricsSnapshot {
            rollout: rollout.clone(),
            source: source.to_string(),
            custom: self.named_series(rollout, &shown, NamedKind::Custom),
            quantiles: self.named_series(rollout, &shown, NamedKind::Quantile),
            sample_window_secs: None,
            series: self.series(rollout, &shown),
            stale_since_secs: if failing { health.last_good_secs } else { None },
            error: health.error.clone(),
            roles: shown
                .iter()
                .filter_map(|v| timelines.iter().find(|k| k.hash == v.hash).cloned())
                .collect(),
            latency_buckets: versions
                .iter()
                .filter_map(|v| {
                    let ring = self.buckets.get(&(rollout.clone(), v.hash.clone()))?;
                    Some(BucketSeries {
                        version: v.clone(),
                        points: ring.iter().cloned().collect(),
                    })
                })
                .collect(),
        }
    }
}

fn change_role(k: &mut VersionRoles, role: Option<crate::model::VersionRole>, t_secs: f64) {
    if k.changes.last().map(|c| c.role) != Some(role) {
        k.changes.push(RoleChange {
            since_secs: t_secs,
            role,
        });
    }
}

/// The newest non-gap value of a series, if any: "now" for the CLI.
pub fn latest_value(series: &VersionSeries) -> Option<f64> {
    series.points.iter().rev().find_map(|p| p.value)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
