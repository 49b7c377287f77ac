//! The bounded series store: one ring buffer per (rollout, version, signal), the last hour
//! at the refresh step by default, so a day of running takes no more memory than an hour.
//! Gaps stay gaps: a missing step is stored as a `None` point, never bridged.

use crate::model::{
    BucketPoint, BucketSeries, MetricsSnapshot, Point, RolloutRef, Signal, Version, VersionSeries,
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

type Key = (RolloutRef, Version, Signal);

/// Ring buffers keyed by (rollout, version, signal).
/// The most points one series keeps: a day at one point per second.
pub const MAX_POINTS: usize = 86_400;
/// Points allocated up front per series; the ring grows past it as points arrive.
const PREALLOCATED_POINTS: usize = 1024;

#[derive(Clone, Debug)]
pub struct SeriesStore {
    capacity: usize,
    step_secs: f64,
    rings: HashMap<Key, VecDeque<Point>>,
    /// Latency histogram intervals per (rollout, version), bounded like the rings; only the
    /// judge reads them.
    buckets: HashMap<(RolloutRef, Version), VecDeque<BucketPoint>>,
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
            buckets: HashMap::new(),
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
        self.rings.values().map(VecDeque::len).sum()
    }

    /// Appends a point. Points at or before the series' last time are ignored (a refresh
    /// overlapping the previous one adds nothing); a jump of more than 1.5 steps since the
    /// last point inserts a gap first so the window draws a break.
    pub fn push(&mut self, rollout: &RolloutRef, version: &Version, signal: Signal, point: Point) {
        let key = (rollout.clone(), version.clone(), signal);
        let capacity = self.capacity;
        let ring = self
            .rings
            .entry(key)
            .or_insert_with(|| VecDeque::with_capacity(capacity.min(PREALLOCATED_POINTS)));
        if let Some(last) = ring.back() {
            if point.t_secs <= last.t_secs {
                return;
            }
            if last.value.is_some()
                && point.value.is_some()
                && point.t_secs - last.t_secs > 1.5 * self.step_secs
            {
                let gap = Point {
                    t_secs: last.t_secs + self.step_secs,
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
            .entry((rollout.clone(), version.clone()))
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

    /// Drops every series whose rollout is not in `keep` or whose version is no longer one
    /// of that rollout's versions (a finished canary), so keys do not pile up.
    pub fn retain(&mut self, keep: &[(RolloutRef, Vec<Version>)]) {
        self.rings.retain(|(r, v, _), _| {
            keep.iter()
                .any(|(kr, versions)| kr == r && versions.contains(v))
        });
        self.buckets.retain(|(r, v), _| {
            keep.iter()
                .any(|(kr, versions)| kr == r && versions.contains(v))
        });
    }

    /// The series of one rollout, per version and signal (versions in the given order).
    pub fn series(&self, rollout: &RolloutRef, versions: &[Version]) -> Vec<VersionSeries> {
        let mut out = Vec::new();
        for v in versions {
            for signal in Signal::ALL {
                let key = (rollout.clone(), v.clone(), signal);
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

    /// Everything the window plots for one rollout, with the source's staleness.
    pub fn snapshot(
        &self,
        rollout: &RolloutRef,
        versions: &[Version],
        source: &str,
        health: &SourceHealth,
    ) -> MetricsSnapshot {
        let failing = health.error.is_some();
        MetricsSnapshot {
            rollout: rollout.clone(),
            source: source.to_string(),
            series: self.series(rollout, versions),
            stale_since_secs: if failing { health.last_good_secs } else { None },
            error: health.error.clone(),
            latency_buckets: versions
                .iter()
                .filter_map(|v| {
                    let ring = self.buckets.get(&(rollout.clone(), v.clone()))?;
                    Some(BucketSeries {
                        version: v.clone(),
                        points: ring.iter().cloned().collect(),
                    })
                })
                .collect(),
        }
    }
}

/// The newest non-gap value of a series, if any: "now" for the CLI.
pub fn latest_value(series: &VersionSeries) -> Option<f64> {
    series.points.iter().rev().find_map(|p| p.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VersionRole;

    fn p(t: f64, v: Option<f64>) -> Point {
        Point {
            t_secs: t,
            value: v,
        }
    }

    #[test]
    fn bounded_over_a_simulated_day() {
        let mut s = SeriesStore::new(Duration::from_secs(3600), Duration::from_secs(10));
        let r = RolloutRef::new("c", "demo", "checkout");
        let v = Version::new(VersionRole::Stable, "aaa");
        for i in 0..(86_400 / 10) {
            for signal in Signal::ALL {
                s.push(&r, &v, signal, p(i as f64 * 10.0, Some(1.0)));
            }
        }
        assert_eq!(s.capacity(), 360);
        // A year at one second is capped, not allocated.
        let huge = SeriesStore::new(Duration::from_secs(366 * 86_400), Duration::from_secs(1));
        assert_eq!(huge.capacity(), MAX_POINTS);
        assert_eq!(s.len_points(), Signal::ALL.len() * 360);
        let series = s.series(&r, std::slice::from_ref(&v));
        assert_eq!(series[0].points.first().unwrap().t_secs, 86_390.0 - 3590.0);
    }

    #[test]
    fn gaps_stay_gaps_and_overlaps_are_ignored() {
        let mut s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
        let r = RolloutRef::new("c", "demo", "checkout");
        let v = Version::new(VersionRole::Canary, "bbb");
        s.push(&r, &v, Signal::P95Ms, p(10.0, Some(1.0)));
        s.push(&r, &v, Signal::P95Ms, p(10.0, Some(9.0)));
        s.push(&r, &v, Signal::P95Ms, p(60.0, Some(2.0)));
        let pts = &s.series(&r, std::slice::from_ref(&v))[2].points;
        assert_eq!(
            pts,
            &vec![p(10.0, Some(1.0)), p(20.0, None), p(60.0, Some(2.0))]
        );
        assert_eq!(s.last_t_secs(std::slice::from_ref(&r)), Some(60.0));
        assert_eq!(
            s.last_t_secs(&[RolloutRef::new("c", "demo", "other")]),
            None
        );
    }

    #[test]
    fn stale_marker_follows_health() {
        let s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
        let r = RolloutRef::new("c", "demo", "checkout");
        let ok = s.snapshot(&r, &[], "prometheus", &SourceHealth::default());
        assert_eq!(ok.stale_since_secs, None);
        let failing = SourceHealth {
            last_good_secs: Some(100.0),
            error: Some("down".into()),
        };
        let stale = s.snapshot(&r, &[], "prometheus", &failing);
        assert_eq!(stale.stale_since_secs, Some(100.0));
        assert_eq!(stale.error.as_deref(), Some("down"));
    }

    #[test]
    fn retain_drops_finished_versions() {
        let mut s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
        let r = RolloutRef::new("c", "demo", "checkout");
        let old = Version::new(VersionRole::Canary, "old");
        let stable = Version::new(VersionRole::Stable, "aaa");
        s.push(&r, &old, Signal::ErrorRate, p(1.0, Some(0.0)));
        s.push(&r, &stable, Signal::ErrorRate, p(1.0, Some(0.0)));
        s.retain(&[(r.clone(), vec![stable.clone()])]);
        assert_eq!(s.len_points(), 1);
    }
}
