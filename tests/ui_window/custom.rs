//! The policy's custom metrics on the charts: a snapshot carrying a custom series shows a
//! collapsible chart titled with the metric's name under the built-in charts, one line per
//! version.

use super::*;
use release_cockpit::model::NamedSeries;
use release_cockpit::ui::rollout::plots::custom_series;

#[test]
fn a_custom_metric_gets_a_chart_titled_with_its_name() {
    let mut w = Window::connected_admin();
    w.select_checkout();
    let r = RolloutRef::new("lab-admin", "shop", "checkout");
    let now = release_cockpit::ui::theme::now_secs();
    let points = |value: f64| -> Vec<Point> {
        (0..60)
            .map(|i| Point {
                t_secs: now - 60.0 + f64::from(i),
                value: Some(value),
            })
            .collect()
    };
    let orders = |role, hash: &str, value| NamedSeries {
        name: "order_failure_ratio".into(),
        version: Version::new(role, hash),
        points: points(value),
    };
    w.send(AppEvent::Metrics(MetricsSnapshot {
        quantiles: Vec::new(),
        sample_window_secs: None,
        rollout: r.clone(),
        source: "prometheus".into(),
        series: vec![VersionSeries {
            version: Version::new(VersionRole::Canary, "7f9c5d8b4"),
            signal: Signal::TrafficShare,
            points: points(0.2),
        }],
        stale_since_secs: None,
        error: None,
        roles: Vec::new(),
        latency_buckets: Vec::new(),
        custom: vec![
            orders(VersionRole::Stable, "6d4b9c7f8", 0.01),
            orders(VersionRole::Canary, "7f9c5d8b4", 0.2),
        ],
    }));
    w.settle();
    assert!(
        w.harness.query_by_label("order_failure_ratio").is_some(),
        "a chart titled with the custom metric's name"
    );
    let MetricsState::Received(snapshot) = &w.harness.state().state.metrics else {
        panic!("metrics not applied");
    };
    let lines = custom_series(snapshot, "order_failure_ratio");
    assert_eq!(lines.len(), 2, "one line per version");
    assert_eq!(lines[0].version.role, VersionRole::Stable);
}
