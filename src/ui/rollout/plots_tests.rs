//! Tests of `plots.rs`.

use super::*;
use crate::model::{Point, RolloutRef, VersionRole, VersionSeries};

fn snapshot() -> MetricsSnapshot {
    let point = |t: f64, v: Option<f64>| Point {
        t_secs: t,
        value: v,
    };
    MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
        source: "prometheus".into(),
        series: vec![
            VersionSeries {
                version: Version::new(VersionRole::Canary, "7f9c5d8b4"),
                signal: Signal::ErrorRate,
                points: vec![
                    point(10.0, Some(0.01)),
                    point(11.0, Some(0.02)),
                    point(12.0, None),
                    point(13.0, Some(0.5)),
                ],
            },
            VersionSeries {
                version: Version::new(VersionRole::Stable, "6d4b9c7f8"),
                signal: Signal::ErrorRate,
                points: vec![point(10.0, Some(0.0)), point(13.0, Some(0.001))],
            },
            VersionSeries {
                version: Version::new(VersionRole::Stable, "6d4b9c7f8"),
                signal: Signal::P95Ms,
                points: vec![point(10.0, Some(120.0))],
            },
        ],
        stale_since_secs: Some(13.0),
        error: Some("connection refused (127.0.0.1:9090)".into()),
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
    }
}

#[test]
fn extra_quantiles_are_ordered_by_value_and_labelled_by_version() {
    let mut snap = snapshot();
    let canary = Version::new(VersionRole::Canary, "7f9c5d8b4");
    let named = |name: &str| crate::model::NamedSeries {
        name: name.into(),
        version: canary.clone(),
        points: vec![Point {
            t_secs: 10.0,
            value: Some(120.0),
        }],
    };
    snap.quantiles = vec![named("p99.9"), named("p50"), named("p99")];
    assert_eq!(quantile_names(&snap), ["p50", "p99", "p99.9"]);
    let p99 = quantile_series(&snap, "p99");
    assert_eq!(p99.len(), 1);
    assert_eq!(p99[0].label, "canary 7f9c5d8b4 p99");
    assert_eq!(p99[0].segments, vec![vec![[10.0, 120.0]]]);
}

#[test]
fn gaps_split_lines_and_values_are_scaled() {
    let series = plot_series(&snapshot(), Signal::ErrorRate);
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].label, "stable 6d4b9c7f8", "stable sorts first");
    let canary = &series[1];
    assert_eq!(canary.label, "canary 7f9c5d8b4");
    assert_eq!(
        canary.segments,
        vec![vec![[10.0, 1.0], [11.0, 2.0]], vec![[13.0, 50.0]]]
    );
    let p95 = plot_series(&snapshot(), Signal::P95Ms);
    assert_eq!(p95[0].segments, vec![vec![[10.0, 120.0]]]);
    assert!(plot_series(&snapshot(), Signal::TrafficShare).is_empty());
}

#[test]
fn a_previous_version_keeps_its_line_under_its_new_name() {
    let mut snap = snapshot();
    snap.series[1].version.role = VersionRole::PreviousStable;
    let series = plot_series(&snap, Signal::ErrorRate);
    assert_eq!(series[0].label, "canary 7f9c5d8b4");
    assert_eq!(series[1].label, "previous stable 6d4b9c7f8");
    assert_eq!(series[1].segments, vec![vec![[10.0, 0.0], [13.0, 0.1]]]);
}

#[test]
fn only_the_visible_window_is_plotted_when_live() {
    let segment = [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]];
    assert_eq!(visible(&segment, 2.5), &segment[1..]);
    assert_eq!(visible(&segment, 0.0), &segment[..]);
    assert_eq!(visible(&segment, 9.0), &segment[3..]);
}

#[test]
fn a_young_series_fills_the_plot() {
    assert_eq!(live_start(1000.0, 900.0, None), 100.0);
    assert_eq!(live_start(1000.0, 900.0, Some(980.0)), 940.0);
    assert_eq!(live_start(1000.0, 900.0, Some(700.0)), 690.0);
    assert_eq!(live_start(1000.0, 900.0, Some(0.0)), 100.0);
}

#[test]
fn stale_data_says_since_when_and_why() {
    let text = stale_text(&snapshot()).expect("stale");
    assert!(text.starts_with("stale since "), "{text}");
    assert!(
        text.ends_with("Prometheus unreachable: connection refused (127.0.0.1:9090)"),
        "{text}"
    );
    assert_eq!(latest_time(&snapshot()), Some(13.0));
}
