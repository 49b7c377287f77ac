//! Tests of `templates.rs`.

use super::*;

fn ctx<'a>(services: &'a [String]) -> RenderContext<'a> {
    static NAMESPACES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| vec!["demo".to_string(), "shop".to_string()]);
    RenderContext {
        namespaces: &NAMESPACES,
        services,
        version_label: "rollouts_pod_template_hash",
        window: "1m",
    }
}

#[test]
fn builtins_are_valid_and_fully_drawn() {
    let services = vec!["checkout".to_string(), "inventory".to_string()];
    for t in builtins() {
        t.validate().unwrap();
        let buckets = t.render_buckets(&ctx(&services));
        let quantiles = t.render_quantiles(&ctx(&services));
        assert_eq!(quantiles.len(), 1, "{}: p99 by default", t.name);
        for q in Signal::ALL
            .iter()
            .map(|s| t.render(*s, &ctx(&services)))
            .chain(buckets)
            .chain(quantiles.into_iter().map(|(_, q)| q))
        {
            assert!(placeholders_in(&q).next().is_none(), "{}: {q}", t.name);
            assert!(q.contains("checkout|inventory"), "{q}");
        }
    }
}

#[test]
fn istio_queries_group_by_namespace_service_and_version() {
    let t = Template::builtin("istio").unwrap();
    let services = vec!["checkout".to_string()];
    let share = t.render(Signal::TrafficShare, &ctx(&services));
    assert_eq!(
        share,
        r#"sum by (destination_workload_namespace, destination_canonical_service, rollouts_pod_template_hash) (rate(istio_requests_total{reporter="destination", destination_workload_namespace=~"demo|shop", destination_canonical_service=~"checkout"}[1m])) / ignoring(rollouts_pod_template_hash) group_left sum by (destination_workload_namespace, destination_canonical_service) (rate(istio_requests_total{reporter="destination", destination_workload_namespace=~"demo|shop", destination_canonical_service=~"checkout"}[1m]))"#
    );
    let p95 = t.render(Signal::P95Ms, &ctx(&services));
    assert!(p95.starts_with("histogram_quantile(0.95, sum by (le, destination_workload_namespace, destination_canonical_service, rollouts_pod_template_hash) (rate(istio_request_duration_milliseconds_bucket{"));
    let err = t.render(Signal::ErrorRate, &ctx(&services));
    assert!(err.contains(r#"response_code=~"5..""#) && err.contains(" or "));
    // The judge's buckets: one query for every version of every shown service, grouped by
    // bound and version, increases over the window (counts, not rates).
    assert_eq!(
        t.render_buckets(&ctx(&services)).as_deref(),
        Some(
            r#"sum by (le, destination_workload_namespace, destination_canonical_service, rollouts_pod_template_hash) (increase(istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace=~"demo|shop", destination_canonical_service=~"checkout"}[1m]))"#
        )
    );
    assert_eq!(t.latency_bucket_ms, 1.0);
    assert_eq!(
        Template::builtin("generic").unwrap().latency_bucket_ms,
        1000.0
    );
}

#[test]
fn unknown_placeholder_is_rejected() {
    let mut t = Template::builtin("generic").unwrap();
    t.error_rate = "sum(rate(x{ns=\"{namespce}\"}[{window}]))".into();
    let err = t.validate().unwrap_err();
    let TemplateError::UnknownPlaceholder {
        placeholder,
        signal,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((placeholder.as_str(), signal), ("namespce", "error_rate"));
    // {quantile} belongs to latency_quantile only.
    let mut t = Template::builtin("generic").unwrap();
    t.p95_ms = t.latency_quantile.clone();
    assert!(t.validate().unwrap_err().to_string().contains("{quantile}"));
}

#[test]
fn quantiles_are_named_and_drawn_one_query_each() {
    assert_eq!(
        [0.5, 0.9, 0.99, 0.999, 0.9999].map(quantile_name),
        ["p50", "p90", "p99", "p99.9", "p99.99"]
    );
    let mut t = Template::builtin("generic").unwrap();
    t.quantiles = vec![0.5, 0.99];
    let services = vec!["checkout".to_string()];
    let drawn = t.render_quantiles(&ctx(&services));
    assert_eq!(drawn.len(), 2);
    assert_eq!(drawn[1].0, "p99");
    assert!(
            drawn[1].1.starts_with("histogram_quantile(0.99, sum by (le, namespace, service, rollouts_pod_template_hash) (rate(http_request_duration_seconds_bucket{"),
            "{}",
            drawn[1].1
        );
    assert!(drawn[1].1.ends_with(")) * 1000"), "{}", drawn[1].1);
    for bad in [0.0, 1.0, f64::INFINITY, f64::NAN, -0.5] {
        t.quantiles = vec![bad];
        assert!(
            matches!(t.validate(), Err(TemplateError::Quantile { .. })),
            "{bad}"
        );
    }
    t.latency_quantile = String::new();
    t.quantiles = vec![0.99];
    assert!(t.render_quantiles(&ctx(&services)).is_empty());
}

#[test]
fn service_names_are_regex_escaped() {
    let t = Template::builtin("generic").unwrap();
    let services = vec!["a.b".to_string()];
    assert!(
        t.render(Signal::TrafficShare, &ctx(&services))
            .contains(r#"=~"a\\.b""#)
    );
}

#[test]
fn versions_match_by_hash_or_canary_label() {
    let versions = vec![
        Version::new(VersionRole::Stable, "aaa"),
        Version::new(VersionRole::Canary, "bbb"),
    ];
    let istio = Template::builtin("istio").unwrap();
    assert_eq!(istio.version_for("bbb", &versions), Some(&versions[1]));
    assert_eq!(istio.version_for("ccc", &versions), None);
    let nginx = Template::builtin("nginx").unwrap();
    assert_eq!(nginx.version_for("", &versions), Some(&versions[0]));
    assert_eq!(
        nginx.version_for("checkout-canary", &versions),
        Some(&versions[1])
    );
}
