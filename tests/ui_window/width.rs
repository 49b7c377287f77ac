//! The window at any width: at 1280×800 and at 1920×1080, with a long verdict reason, a stale
//! note carrying a whole query and a version that was stable before the promotion, every line
//! stays inside the window (long ones elided, whole on hover), the four charts are there and
//! the former stable is in the legend as "previous stable"; the latency chart keys its p99.

use super::*;
use release_cockpit::model::{RoleChange, VersionRoles};
use release_cockpit::ui::events::VerdictView;

const LONG_QUERY: &str = "sum by (destination_service_namespace, destination_canonical_service, destination_canonical_revision) (rate(istio_requests_total{reporter=\"destination\", destination_service_namespace=~\"shop|demo|payments|search|inventory\", destination_canonical_service=~\"checkout|payments|search|inventory|catalog\"}[1m]))";

fn long_snapshot(r: &RolloutRef) -> MetricsSnapshot {
    let now = release_cockpit::ui::theme::now_secs();
    let series = |role, hash: &str, signal, value: f64| VersionSeries {
        version: Version::new(role, hash),
        signal,
        points: (0..120)
            .map(|i| Point {
                t_secs: now - 120.0 + f64::from(i),
                value: Some(value),
            })
            .collect(),
    };
    let mut all = Vec::new();
    for signal in Signal::PLOTTED {
        // An error rate of 0–5 %: the range that used to lose its y labels.
        let (stable, canary, previous) = match signal {
            Signal::TrafficShare => (0.8, 0.2, 0.0),
            Signal::ErrorRate => (0.01, 0.045, 0.002),
            Signal::P95Ms => (120.0, 180.0, 110.0),
            Signal::RequestRate => (40.0, 10.0, 0.0),
        };
        all.push(series(VersionRole::Stable, "6d4b9c7f8", signal, stable));
        all.push(series(VersionRole::Canary, "7f9c5d8b4", signal, canary));
        all.push(series(
            VersionRole::PreviousStable,
            "5c3a8e6d1",
            signal,
            previous,
        ));
    }
    let p99 = |role, hash: &str, value: f64| {
        let s = series(role, hash, Signal::P95Ms, value);
        release_cockpit::model::NamedSeries {
            name: "p99".into(),
            version: s.version,
            points: s.points,
        }
    };
    MetricsSnapshot {
        quantiles: vec![
            p99(VersionRole::Stable, "6d4b9c7f8", 210.0),
            p99(VersionRole::Canary, "7f9c5d8b4", 340.0),
        ],
        sample_window_secs: None,
        rollout: r.clone(),
        source: "prometheus".into(),
        series: all,
        stale_since_secs: Some(now - 30.0),
        error: Some(format!(
            "Prometheus at http://127.0.0.1:9090 answered 503 to {LONG_QUERY}: try again later"
        )),
        latency_buckets: Vec::new(),
        custom: Vec::new(),
        roles: vec![VersionRoles {
            hash: "5c3a8e6d1".into(),
            changes: vec![
                RoleChange {
                    since_secs: now - 900.0,
                    role: Some(VersionRole::Stable),
                },
                RoleChange {
                    since_secs: now - 300.0,
                    role: None,
                },
            ],
        }],
    }
}

fn check_at(width: f32, height: f32) {
    let mut w = Window::connected_admin_in(Window::sized(
        Settings::default(),
        false,
        egui::vec2(width, height),
    ));
    w.select_checkout();
    let r = RolloutRef::new("lab-admin", "shop", "checkout");
    w.send(AppEvent::Metrics(long_snapshot(&r)));
    let reason = format!(
        "p95 latency 180 ms against stable's 120 ms is 50 % higher, over the 20 % tolerance for 4 of the last 5 minutes; query {LONG_QUERY}"
    );
    w.send(AppEvent::Verdict {
        rollout: r,
        verdict: VerdictView {
            verdict: "fail".into(),
            score: 12.0,
            reasons: vec![reason.clone()],
            metrics: vec![reason],
            metric_status: vec!["fail".into()],
        },
    });
    w.settle();

    assert!(
        w.harness
            .query_by_label("previous stable 5c3a8e6d1")
            .is_some(),
        "{width}×{height}: the former stable is in the legend"
    );
    for title in [
        "Traffic share (%)",
        "Error rate (%)",
        "p95 latency (ms)",
        // The template's p99 is drawn dashed on the latency chart, and its key says so.
        "p95 solid, p99 dashed",
        "Requests per second",
    ] {
        let node = w.harness.get_by_label(title);
        assert!(
            node.rect().max.x <= width,
            "{width}×{height}: {title} at {:?}",
            node.rect()
        );
    }
    // The long lines: the stale note with its query, the verdict line and the per-metric
    // line with the same reason; each ends inside the window, the whole text on hover.
    for text in ["stale since", "fail (score 12/100)", "p95 latency 180 ms"] {
        let node = w.harness.get_by_label_contains(text);
        assert!(
            node.rect().max.x <= width,
            "{width}×{height}: {text:?} cut off at {:?}",
            node.rect()
        );
    }
}

#[test]
fn at_1280_by_800_nothing_is_cut_off() {
    check_at(1280.0, 800.0);
}

#[test]
fn at_1920_by_1080_nothing_is_cut_off() {
    check_at(1920.0, 1080.0);
}
