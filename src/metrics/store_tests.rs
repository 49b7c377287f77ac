//! Tests of `store.rs`.

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
fn a_promotion_relabels_versions_and_keeps_the_former_stable() {
    let mut s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
    let r = RolloutRef::new("c", "demo", "checkout");
    let old = Version::new(VersionRole::Stable, "aaa");
    let new = Version::new(VersionRole::Canary, "bbb");
    s.observe_roles(&r, &[old.clone(), new.clone()], 100.0);
    s.push(&r, &old, Signal::TrafficShare, p(100.0, Some(0.8)));
    s.push(&r, &new, Signal::TrafficShare, p(100.0, Some(0.2)));
    // Promoted: bbb is stable now, aaa plays no part.
    let promoted = Version::new(VersionRole::Stable, "bbb");
    s.observe_roles(&r, std::slice::from_ref(&promoted), 110.0);
    s.push(&r, &promoted, Signal::TrafficShare, p(110.0, Some(1.0)));
    s.retain(std::slice::from_ref(&r), 0.0);
    let snap = s.snapshot(
        &r,
        std::slice::from_ref(&promoted),
        "prometheus",
        &SourceHealth::default(),
    );
    let shares: Vec<(VersionRole, &str, Vec<Point>)> = snap
        .series
        .iter()
        .filter(|v| v.signal == Signal::TrafficShare)
        .map(|v| (v.version.role, v.version.hash.as_str(), v.points.clone()))
        .collect();
    assert_eq!(
        shares,
        vec![
            (
                VersionRole::Stable,
                "bbb",
                vec![p(100.0, Some(0.2)), p(110.0, Some(1.0))]
            ),
            (
                VersionRole::PreviousStable,
                "aaa",
                vec![p(100.0, Some(0.8))]
            ),
        ],
        "one series per version across the promotion; the former stable stays"
    );
    let bbb = &snap.roles[0];
    assert_eq!(bbb.history_text(), "canary → stable");
    assert_eq!(
        bbb.changes.iter().map(|c| c.since_secs).collect::<Vec<_>>(),
        vec![100.0, 110.0]
    );
    assert_eq!(snap.roles[1].history_text(), "stable → previous stable");
}

#[test]
fn a_replaced_canary_is_a_previous_canary_and_leaves_with_the_window() {
    let mut s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
    let r = RolloutRef::new("c", "demo", "checkout");
    let stable = Version::new(VersionRole::Stable, "aaa");
    let first = Version::new(VersionRole::Canary, "bbb");
    let second = Version::new(VersionRole::Canary, "ccc");
    s.observe_roles(&r, &[stable.clone(), first.clone()], 10.0);
    s.push(&r, &first, Signal::ErrorRate, p(10.0, Some(0.5)));
    s.observe_roles(&r, &[stable.clone(), second.clone()], 20.0);
    assert_eq!(
        s.previous_versions(&r),
        vec![Version::new(VersionRole::PreviousCanary, "bbb")]
    );
    // Still within the window: kept; once its last point is older, dropped.
    s.retain(std::slice::from_ref(&r), 5.0);
    assert_eq!(s.len_points(), 1);
    s.retain(std::slice::from_ref(&r), 30.0);
    assert_eq!(s.len_points(), 0);
    assert!(s.previous_versions(&r).is_empty());
    assert_eq!(s.role_timelines(&r).len(), 2, "stable and the new canary");
    // A rollout no longer shown goes entirely.
    s.retain(&[], 0.0);
    assert!(s.role_timelines(&r).is_empty());
}

#[test]
fn a_blue_green_switch_hands_the_active_role_over() {
    let mut s = SeriesStore::new(Duration::from_secs(600), Duration::from_secs(10));
    let r = RolloutRef::new("c", "demo", "payments");
    s.observe_roles(
        &r,
        &[
            Version::new(VersionRole::Active, "aaa"),
            Version::new(VersionRole::Preview, "bbb"),
        ],
        10.0,
    );
    s.observe_roles(&r, &[Version::new(VersionRole::Active, "bbb")], 20.0);
    let timelines = s.role_timelines(&r);
    assert_eq!(timelines[0].history_text(), "active → previous stable");
    assert_eq!(timelines[1].history_text(), "preview → active");
    // Observing the same roles again adds nothing.
    s.observe_roles(&r, &[Version::new(VersionRole::Active, "bbb")], 30.0);
    assert_eq!(s.role_timelines(&r)[1].changes.len(), 2);
}
