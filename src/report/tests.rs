use super::render::{charts, csv, markdown};
use super::roles::{Seen, infer, role_at, versions_to_follow};
use super::verdicts::{NOTHING_TO_COMPARE, over_time};
use super::*;
use crate::model::{Point, Signal, Version, VersionRole, VersionSeries};

fn series(role: VersionRole, hash: &str, signal: Signal, values: &[Option<f64>]) -> VersionSeries {
    VersionSeries {
        version: Version::new(role, hash),
        signal,
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                t_secs: 1000.0 + 10.0 * i as f64,
                value: *v,
            })
            .collect(),
    }
}

/// checkout after a full promotion: bbb took over from aaa at t = 1030.
fn promoted() -> (crate::model::RolloutView, Vec<VersionSeries>) {
    let mut view = crate::ui::fixtures::checkout();
    view.stable_hash = Some("bbb".into());
    view.current_hash = Some("bbb".into());
    view.phase = crate::model::Phase::Healthy;
    let seen = [
        Seen {
            hash: "bbb".into(),
            revision: Some(2),
        },
        Seen {
            hash: "aaa".into(),
            revision: Some(1),
        },
    ];
    let versions = versions_to_follow(&view, &seen);
    assert_eq!(
        versions,
        vec![
            Version::new(VersionRole::Stable, "bbb"),
            Version::new(VersionRole::PreviousStable, "aaa")
        ]
    );
    let s = vec![
        series(
            VersionRole::Stable,
            "bbb",
            Signal::TrafficShare,
            &[Some(0.2), Some(0.2), Some(0.2), Some(1.0), Some(1.0)],
        ),
        series(
            VersionRole::PreviousStable,
            "aaa",
            Signal::TrafficShare,
            &[Some(0.8), Some(0.8), Some(0.8), Some(0.0), Some(0.0)],
        ),
        series(
            VersionRole::Stable,
            "bbb",
            Signal::ErrorRate,
            &[Some(0.01), Some(0.0), Some(0.01), Some(0.0), Some(0.0)],
        ),
        series(
            VersionRole::PreviousStable,
            "aaa",
            Signal::ErrorRate,
            &[Some(0.0), Some(0.01), Some(0.0), None, None],
        ),
    ];
    (view, s)
}

#[test]
fn roles_over_time_are_read_from_the_traffic_after_the_fact() {
    let (view, s) = promoted();
    let roles = infer(&view, &s, None);
    assert_eq!(roles[0].history_text(), "canary → stable");
    assert_eq!(roles[0].changes[1].since_secs, 1030.0);
    assert_eq!(roles[1].history_text(), "stable → previous stable");
    assert_eq!(roles[1].changes[1].since_secs, 1030.0);
    assert_eq!(role_at(&roles[0], 1010.0), Some(VersionRole::Canary));
    assert_eq!(role_at(&roles[0], 1040.0), Some(VersionRole::Stable));
    assert_eq!(role_at(&roles[1], 1040.0), None);
    // The controller's RolloutCompleted Event says when, better than smoothed rates.
    let completed = ReportEvent {
        time_secs: 1025.0,
        source: "rollouts-controller".into(),
        reason: "RolloutCompleted".into(),
        message: "Rollout completed update to revision 2 (bbb): Completed all 8 canary steps"
            .into(),
        warning: false,
    };
    let at = super::roles::promoted_at(&view, std::slice::from_ref(&completed));
    assert_eq!(at, Some(1025.0));
    let roles = infer(&view, &s, at);
    assert_eq!(roles[0].changes[1].since_secs, 1025.0);
    assert_eq!(roles[1].changes[1].since_secs, 1025.0);
}

#[test]
fn verdicts_judge_each_time_by_the_roles_then() {
    let (view, s) = promoted();
    let roles = infer(&view, &s, None);
    let verdicts = over_time(
        &s,
        &roles,
        &crate::analysis::Policy::default(),
        "prometheus",
        1000.0,
        1060.0,
        15.0,
    );
    let times: Vec<f64> = verdicts.iter().map(|v| v.time_secs).collect();
    // Before the promotion there is a canary to judge (also just before it); after, one
    // version: said once.
    assert_eq!(times, vec![1015.0, 1029.999, 1030.0], "{verdicts:?}");
    assert_ne!(verdicts[0].verdict, NOTHING_TO_COMPARE);
    assert_ne!(verdicts[1].verdict, NOTHING_TO_COMPARE);
    assert_eq!(verdicts[2].verdict, NOTHING_TO_COMPARE);
}

#[test]
fn the_report_keeps_both_versions_in_every_format() {
    let (view, s) = promoted();
    let roles = infer(&view, &s, None);
    let snapshot = crate::model::MetricsSnapshot {
        rollout: view.reference.clone(),
        source: "prometheus".into(),
        series: s,
        stale_since_secs: None,
        error: None,
        roles,
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    };
    let report = Report::new(&view, 1050.0).with_metrics(&snapshot);
    assert_eq!(
        report
            .versions
            .iter()
            .map(|v| (v.hash.as_str(), v.role))
            .collect::<Vec<_>>(),
        vec![
            ("bbb", VersionRole::Stable),
            ("aaa", VersionRole::PreviousStable)
        ]
    );
    let charts = charts(&report);
    assert_eq!(
        charts
            .iter()
            .map(|c| c.file_name.as_str())
            .collect::<Vec<_>>(),
        vec!["shop-checkout-share.svg", "shop-checkout-error_rate.svg"]
    );
    assert!(charts[0].svg.starts_with("<svg"), "{}", charts[0].svg);
    assert!(charts[0].svg.contains("previous stable aaa"));
    let md = markdown(&report, &charts);
    assert!(md.contains("![shop-checkout-share.svg](shop-checkout-share.svg)"));
    assert!(
        md.contains("| `aaa` | previous stable | stable from 1970-01-01T00:16:40Z; no part from 1970-01-01T00:17:10Z |"),
        "{md}"
    );
    let table = csv(&report);
    let header = table.lines().next().unwrap();
    let columns = header.split(',').count();
    assert!(
        table
            .lines()
            .all(|l| l.split(',').count() == columns || l.contains('"')),
        "{table}"
    );
    assert!(
        table.contains("version,1970-01-01T00:17:10Z,1030,aaa,,"),
        "{table}"
    );
    assert!(table.contains("point,1970-01-01T00:16:40Z,1000,aaa,previous stable,share,0.8,,"));
    let json: serde_json::Value = serde_json::from_str(&render::json(&report).unwrap()).unwrap();
    assert_eq!(json["versions"][1]["role"], "previous-stable");
}

#[test]
fn y_axis_tops_are_round() {
    assert_eq!(svg::nice_ceiling(3.2), 5.0);
    assert_eq!(svg::nice_ceiling(0.7), 1.0);
    assert_eq!(svg::nice_ceiling(180.0), 200.0);
    assert_eq!(svg::nice_ceiling(21.0), 25.0);
}
