use super::*;

fn checkout() -> RolloutRef {
    RolloutRef::new("prod-eu", "shop", "checkout")
}

#[test]
fn an_empty_file_is_the_defaults() {
    let policy = Policy::from_toml("", Path::new("p.toml"), &checkout()).unwrap();
    assert_eq!(policy, Policy::default());
    assert_eq!(policy.spec(ERROR_RATE).worse_than_stable_by, Some(0.005));
    assert_eq!(policy.spec(ERROR_RATE).for_secs, 120.0);
    assert_eq!(policy.spec(P95_MS).worse_than_stable_pct, Some(50.0));
    assert_eq!(policy.success_rate.min, Some(0.99));
    assert_eq!(policy.success_rate.for_secs, 180.0);
}

#[test]
fn file_then_cluster_then_rollout_overrides() {
    let text = r#"
        min_samples = 12
        pass_score = 90
        [groups]
        saturation = 20
        [metrics.error_rate]
        limit = 0.05
        [metrics.p95_ms]
        worse_than_stable_pct = "off"
        [metrics.queue_depth]
        group = "saturation"
        direction = "higher_is_worse"
        [cluster.prod-eu]
        metrics.error_rate.limit = 0.02
        min_samples = 15
        [cluster.staging]
        min_samples = 99
        [rollout."shop/checkout"]
        min_samples = 20
        [rollout."shop/cart"]
        pass_score = 50
    "#;
    let policy = Policy::from_toml(text, Path::new("p.toml"), &checkout()).unwrap();
    assert_eq!(policy.min_samples, 20);
    assert_eq!(policy.pass_score, 90.0);
    let errors = policy.spec(ERROR_RATE);
    assert_eq!(errors.limit, Some(0.02));
    // Keys not overridden keep the built-in error-rate defaults.
    assert_eq!(errors.worse_than_stable_by, Some(0.005));
    assert!(errors.critical);
    assert_eq!(policy.spec(P95_MS).worse_than_stable_pct, None);
    let queue = policy.spec("queue_depth");
    assert_eq!(queue.group, "saturation");
    assert!(!queue.critical);
    assert_eq!(policy.weight("saturation"), 20.0);

    let elsewhere = RolloutRef::new("lab-admin", "shop", "search");
    let other = Policy::from_toml(text, Path::new("p.toml"), &elsewhere).unwrap();
    assert_eq!(other.min_samples, 12);
    assert_eq!(other.spec(ERROR_RATE).limit, Some(0.05));
}

#[test]
fn mistakes_are_named() {
    let typo = Policy::from_toml(
        "[metrics.p95_ms]\nlimt = 5",
        Path::new("p.toml"),
        &checkout(),
    )
    .unwrap_err();
    assert!(matches!(typo, PolicyError::Parse { .. }));
    assert!(typo.to_string().contains("limt"), "{typo}");
    assert!(typo.to_string().contains("p.toml"), "{typo}");

    let bad_word = Policy::from_toml(
        "[metrics.p95_ms]\nlimit = \"of\"",
        Path::new("p.toml"),
        &checkout(),
    )
    .unwrap_err();
    assert!(bad_word.to_string().contains("\"off\""), "{bad_word}");

    let no_weight = Policy::from_toml(
        "[metrics.queue_depth]\ngroup = \"saturation\"",
        Path::new("p.toml"),
        &checkout(),
    )
    .unwrap_err();
    assert!(matches!(no_weight, PolicyError::Invalid { .. }));
    assert!(
        no_weight
            .to_string()
            .contains("add `saturation = <weight>`"),
        "{no_weight}"
    );

    let confidence =
        Policy::from_toml("confidence = 98", Path::new("p.toml"), &checkout()).unwrap_err();
    assert!(confidence.to_string().contains("e.g. 0.98"), "{confidence}");
}

#[test]
fn load_reads_the_file_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, "tolerance = 0.1\n").unwrap();
    assert_eq!(Policy::load(&path, &checkout()).unwrap().tolerance, 0.1);
    let missing = Policy::load(&dir.path().join("nope.toml"), &checkout()).unwrap_err();
    assert!(missing.to_string().contains("nope.toml"), "{missing}");
    assert!(missing.to_string().contains("--policy"), "{missing}");
}

/// The documented example (shown in the `Policy` docs) loads and means what it says.
#[test]
fn the_documented_example_loads() {
    let text = include_str!("../policy.example.toml");
    let policy = Policy::from_toml(text, Path::new("policy.example.toml"), &checkout()).unwrap();
    assert_eq!(policy.min_samples, 20);
    assert_eq!(policy.spec(ERROR_RATE).limit, Some(0.02));
    assert_eq!(policy.spec(P95_MS).limit, Some(800.0));
    assert_eq!(policy.spec("queue_depth").group, "saturation");
    let custom = policy.custom_queries();
    assert_eq!(
        custom.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["order_failure_ratio", "queue_depth"]
    );
    assert!(custom[0].query.contains("orders_failed_total"));
    let plain = RolloutRef::new("lab-admin", "demo", "inventory");
    let policy = Policy::from_toml(text, Path::new("policy.example.toml"), &plain).unwrap();
    assert_eq!(policy.min_samples, 10);
    assert_eq!(policy.spec(ERROR_RATE).limit, Some(0.05));
}

/// A named file must exist; the default file sits beside metrics.toml.
#[test]
fn resolve_reads_the_named_file_or_the_default_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("team.toml");
    std::fs::write(&path, "min_requests = 25\n").unwrap();
    let policy = Policy::resolve(Some(&path), &checkout()).unwrap();
    assert_eq!(policy.min_requests, 25.0);
    let missing = Policy::resolve(Some(&dir.path().join("nope.toml")), &checkout()).unwrap_err();
    assert!(missing.to_string().contains("nope.toml"), "{missing}");
    if let Some(default) = Policy::default_path() {
        assert!(
            default.ends_with("release-cockpit/policy.toml"),
            "{default:?}"
        );
    }
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "min_requests = -1\n").unwrap();
    let invalid = Policy::resolve(Some(&bad), &checkout()).unwrap_err();
    assert!(invalid.to_string().contains("min_requests"), "{invalid}");
}

#[test]
fn senseless_numbers_are_refused_naming_the_key() {
    // TOML has inf and nan literals; a year-long window would make the sample buffers huge.
    let cases = [
        ("window_secs = inf", "window_secs = inf"),
        ("window_secs = nan", "window_secs = NaN"),
        ("window_secs = 31536000", "window_secs = 31536000"),
        ("window_secs = -5", "window_secs = -5"),
        ("tolerance = inf", "tolerance = inf"),
        ("min_requests = -1", "min_requests = -1"),
        ("min_samples = 999999999999", "min_samples = 999999999999"),
        ("recent_secs = nan", "recent_secs = NaN"),
        ("pass_score = nan", "pass_score = NaN"),
        ("[groups]\nerrors = inf", "groups.errors = inf"),
        ("[success_rate]\nmin = nan", "success_rate.min = NaN"),
        (
            "[success_rate]\nfor_secs = -inf",
            "success_rate.for_secs = -inf",
        ),
        (
            "[metrics.p95_ms]\nsmooth_secs = nan",
            "metrics.p95_ms.smooth_secs = NaN",
        ),
        (
            "[metrics.p95_ms]\nlimit = inf",
            "metrics.p95_ms.limit = inf",
        ),
        (
            "[metrics.error_rate]\nworse_than_stable_by = nan",
            "metrics.error_rate.worse_than_stable_by = NaN",
        ),
        (
            "[metrics.error_rate]\nmin_effect = -0.1",
            "metrics.error_rate.min_effect = -0.1",
        ),
        (
            "[rollout.\"shop/checkout\"]\nwindow_secs = 1e12",
            "window_secs = 1000000000000",
        ),
    ];
    for (text, key) in cases {
        let err = Policy::from_toml(text, Path::new("p.toml"), &checkout())
            .expect_err(text)
            .to_string();
        assert!(err.contains(key), "{text}: {err}");
        assert!(err.contains("p.toml"), "{text}: {err}");
    }
    // The limits themselves are fine.
    Policy::from_toml(
        "window_secs = 86400\n[metrics.p95_ms]\nlimit = \"off\"",
        Path::new("p.toml"),
        &checkout(),
    )
    .expect("a day is allowed");
}

/// `metrics.NAME.query`: empty, an unknown placeholder or a query on a built-in signal are
/// refused naming the key; a good one is kept as written.
#[test]
fn custom_queries_are_checked_naming_the_metric() {
    let policy = |query: &str| {
        Policy::from_toml(
            &format!(
                "[groups]\nbusiness = 10\n[metrics.orders]\ngroup = \"business\"\nquery = '{query}'"
            ),
            Path::new("p.toml"),
            &checkout(),
        )
    };
    let ok = policy(
        "sum by (ns, svc, {version_label}) (rate(orders_total{ns=~\"{namespaces}\"}[{window}]))",
    )
    .unwrap();
    assert_eq!(ok.custom_queries().len(), 1);
    assert_eq!(ok.custom_queries()[0].name, "orders");
    assert!(Policy::default().custom_queries().is_empty());

    let empty = policy("  ").unwrap_err();
    assert!(matches!(empty, PolicyError::Invalid { .. }));
    assert!(
        empty.to_string().contains("metrics.orders.query is empty"),
        "{empty}"
    );

    let typo = policy("rate(orders_total{ns=~\"{namespace}\"}[{window}])").unwrap_err();
    let text = typo.to_string();
    assert!(text.contains("metrics.orders.query"), "{text}");
    assert!(text.contains("unknown placeholder {namespace}"), "{text}");
    assert!(text.contains("{namespaces}"), "{text}");

    let built_in = Policy::from_toml(
        "[metrics.error_rate]\nquery = 'x'",
        Path::new("p.toml"),
        &checkout(),
    )
    .unwrap_err();
    assert!(
        built_in.to_string().contains("metrics.error_rate.query"),
        "{built_in}"
    );
}
