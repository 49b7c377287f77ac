use super::render::{charts, csv, markdown};
use super::roles::{Seen, infer, role_at, versions_to_follow};
use super::verdicts::{NOTHING_TO_COMPARE, over_time};
use super::*;
use crate::model::{NamedSeries, Point, Signal, Version, VersionRole, VersionSeries};

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

fn snapshot_of(
    view: &crate::model::RolloutView,
    s: Vec<VersionSeries>,
    roles: Vec<crate::model::VersionRoles>,
) -> crate::model::MetricsSnapshot {
    crate::model::MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: view.reference.clone(),
        source: "prometheus".into(),
        series: s,
        stale_since_secs: None,
        error: None,
        roles,
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }
}

#[test]
fn verdicts_judge_each_time_by_the_roles_then() {
    let (view, s) = promoted();
    let roles = infer(&view, &s, None);
    let verdicts = over_time(
        &snapshot_of(&view, s, roles),
        &crate::analysis::Policy::default(),
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
    let snapshot = snapshot_of(&view, s, roles);
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

fn named(name: &str, role: VersionRole, hash: &str, values: &[Option<f64>]) -> NamedSeries {
    let s = series(role, hash, Signal::P95Ms, values);
    NamedSeries {
        name: name.into(),
        version: s.version,
        points: s.points,
    }
}

/// The release's custom metrics and extra quantiles reach every format: a chart per custom
/// metric and p99 dotted on the latency chart, their rows in the CSV and fields in the JSON;
/// and the verdicts over time judge the custom metric by the roles then (a canary failing
/// orders fails the verdict by its name, as `analyze` would have said).
#[test]
fn custom_metrics_and_quantiles_are_charted_tabled_and_judged_over_time() {
    let view = crate::ui::fixtures::checkout();
    let flat = |v: f64| vec![Some(v); 30];
    let canary = view.current_hash.clone().unwrap();
    let stable = view.stable_hash.clone().unwrap();
    let mut s = Vec::new();
    for (signal, c, st) in [
        (Signal::TrafficShare, 0.2, 0.8),
        (Signal::ErrorRate, 0.0, 0.0),
        (Signal::P95Ms, 100.0, 100.0),
        (Signal::RequestRate, 20.0, 80.0),
    ] {
        s.push(series(VersionRole::Canary, &canary, signal, &flat(c)));
        s.push(series(VersionRole::Stable, &stable, signal, &flat(st)));
    }
    let roles = infer(&view, &s, None);
    let mut snapshot = snapshot_of(&view, s, roles);
    snapshot.quantiles = vec![
        named("p99", VersionRole::Canary, &canary, &flat(180.0)),
        named("p99", VersionRole::Stable, &stable, &flat(170.0)),
    ];
    snapshot.custom = vec![
        named(
            "order_failure_ratio",
            VersionRole::Canary,
            &canary,
            &flat(0.25),
        ),
        named(
            "order_failure_ratio",
            VersionRole::Stable,
            &stable,
            &flat(0.01),
        ),
    ];
    let policy = crate::analysis::Policy::from_toml(
        include_str!("../analysis/policy.example.toml"),
        std::path::Path::new("policy.example.toml"),
        &view.reference,
    )
    .unwrap();
    let mut report = Report::new(&view, 1290.0).with_metrics(&snapshot);
    report.verdicts = over_time(&snapshot, &policy, 1000.0, 1290.0, 145.0);
    let last = report.verdicts.last().unwrap();
    assert_eq!(last.verdict, "fail", "{:?}", report.verdicts);
    assert!(
        last.reasons
            .iter()
            .any(|r| r.starts_with("order failure ratio 25.0% vs stable 1.0%")),
        "{:?}",
        last.reasons
    );

    let charts = charts(&report);
    let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "shop-checkout-share.svg",
            "shop-checkout-error_rate.svg",
            "shop-checkout-p95_ms.svg",
            "shop-checkout-requests_per_second.svg",
            "shop-checkout-metric-order_failure_ratio.svg"
        ]
    );
    let latency = &charts[2].svg;
    assert_eq!(latency.matches("<polyline").count(), 4, "{latency}");
    assert!(
        latency.contains(&format!("canary {canary} p99")),
        "{latency}"
    );
    assert!(latency.contains(r#"stroke-dasharray="2 3""#), "{latency}");
    assert!(
        charts[4].svg.contains(">order_failure_ratio</text>"),
        "{}",
        charts[4].svg
    );
    let md = markdown(&report, &charts);
    assert!(md.contains("![shop-checkout-metric-order_failure_ratio.svg](shop-checkout-metric-order_failure_ratio.svg)"));

    let table = csv(&report);
    assert!(
        table.contains(&format!(
            "point,1970-01-01T00:16:40Z,1000,{canary},canary,p99_ms,180,,"
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "metric,1970-01-01T00:16:40Z,1000,{stable},stable,order_failure_ratio,0.01,,"
        )),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&render::json(&report).unwrap()).unwrap();
    assert_eq!(json["custom"][0]["name"], "order_failure_ratio");
    assert_eq!(json["quantiles"][1]["points"][0]["value"], 170.0);
}

#[test]
fn y_axis_tops_are_round() {
    assert_eq!(svg::nice_ceiling(3.2), 5.0);
    assert_eq!(svg::nice_ceiling(0.7), 1.0);
    assert_eq!(svg::nice_ceiling(180.0), 200.0);
    assert_eq!(svg::nice_ceiling(21.0), 25.0);
}
