//! Metrics end to end over real HTTP with exactly known numbers: an axum server serving an
//! Istio exposition whose counters advance with time (stable 80% / canary 20%, canary 5%
//! errors, fixed latency buckets), a real Prometheus (Debian package) scraping it every
//! second, the real client, every template, the direct-scrape source and `collect`. The same
//! against the lab, Prometheus stopped mid-run, and the refresh-cost benchmark: metrics_lab.rs.
//! Promotions against the lab, the charts keeping every version and the release report:
//! metrics_prometheus/versions.rs. The weighted release `cart` after set-weight 33:
//! metrics_prometheus/weighted.rs. The report of cart and of the Flagger canary podinfo:
//! metrics_prometheus/releases.rs.

#[path = "metrics_prometheus/custom.rs"]
mod custom;
mod metrics_support;
#[path = "metrics_prometheus/releases.rs"]
mod releases;
#[path = "metrics_prometheus/versions.rs"]
mod versions;
#[path = "metrics_prometheus/weighted.rs"]
mod weighted;

use metrics_support::*;
use release_cockpit::analysis::histogram;
use release_cockpit::metrics::prometheus::{
    Auth, PrometheusClient, PrometheusConfig, PrometheusError,
};
use release_cockpit::metrics::source::{Refresher, Target, now_secs};
use release_cockpit::metrics::{PrometheusSource, ScrapeLayout, ScrapeSource, Template};
use release_cockpit::model::{MetricsSnapshot, Signal};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The demo lab (speed 10, in `dir/lab`) with a Prometheus of the test's own scraping its
/// `/metrics`, holding data: the fixture the lab-backed tests of this binary share.
async fn lab_with_prometheus(dir: &std::path::Path) -> (release_cockpit::lab::Lab, Prometheus) {
    use release_cockpit::lab::{Lab, LabOptions, PrometheusMode};
    if Prometheus::binary().is_none() {
        panic!(
            "no `prometheus` binary on PATH: install the Debian package `prometheus` (scripts/test does)"
        );
    }
    let lab = Lab::start(LabOptions {
        dir: Some(dir.join("lab")),
        speed: 10.0,
        prometheus: PrometheusMode::Off,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let metrics_addr = lab
        .metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let prom_dir = dir.join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    let prom = Prometheus::start(&prom_dir, free_port(), &metrics_addr);
    prom.wait_for_data(4).await;
    (lab, prom)
}

fn check_signals(snap: &MetricsSnapshot, svc: &Service, what: &str) {
    for (role, hash) in [("stable", &svc.stable_hash), ("canary", &svc.canary_hash)] {
        eprintln!(
            "{what}: {} {role}: share {:?} error rate {:?} p95 {:?} ms",
            svc.name,
            now_value(snap, hash, Signal::TrafficShare),
            now_value(snap, hash, Signal::ErrorRate),
            now_value(snap, hash, Signal::P95Ms)
        );
    }
    let share = now_value(snap, &svc.canary_hash, Signal::TrafficShare)
        .unwrap_or_else(|| panic!("{what}: no canary share in {snap:?}"));
    assert!(
        (share - svc.canary_share).abs() <= 0.03,
        "{what}: canary share {share}"
    );
    let stable_share = now_value(snap, &svc.stable_hash, Signal::TrafficShare).unwrap();
    assert!(
        (stable_share + share - 1.0).abs() <= 0.01,
        "{what}: shares {stable_share} + {share}"
    );
    let canary_err = now_value(snap, &svc.canary_hash, Signal::ErrorRate).unwrap();
    assert!(
        (0.04..=0.06).contains(&canary_err),
        "{what}: canary error rate {canary_err}"
    );
    let stable_err = now_value(snap, &svc.stable_hash, Signal::ErrorRate).unwrap();
    assert!(stable_err <= 0.01, "{what}: stable error rate {stable_err}");
    let p95 = now_value(snap, &svc.canary_hash, Signal::P95Ms).unwrap();
    assert!(
        (p95 - CANARY_P95).abs() <= bucket_width(CANARY_P95),
        "{what}: canary p95 {p95} vs {CANARY_P95}"
    );
    // Request rates split as the shares do (their level is low while the series is younger
    // than Prometheus's rate window: `rate` divides by the whole range).
    let rate = |hash: &String| {
        now_value(snap, hash, Signal::RequestRate)
            .unwrap_or_else(|| panic!("{what}: no request rate for {hash} in {snap:?}"))
    };
    let (canary_rate, stable_rate) = (rate(&svc.canary_hash), rate(&svc.stable_hash));
    assert!(
        canary_rate > 0.0
            && (canary_rate / (canary_rate + stable_rate) - svc.canary_share).abs() <= 0.03,
        "{what}: canary {canary_rate} req/s, stable {stable_rate} req/s"
    );
    let p95 = now_value(snap, &svc.stable_hash, Signal::P95Ms).unwrap();
    assert!(
        (p95 - STABLE_P95).abs() <= bucket_width(STABLE_P95),
        "{what}: stable p95 {p95} vs {STABLE_P95}"
    );
    // The template's p99, drawn beside p95 on the latency chart.
    for (hash, want) in [
        (&svc.stable_hash, STABLE_P99),
        (&svc.canary_hash, CANARY_P99),
    ] {
        let p99 = now_quantile(snap, hash, "p99")
            .unwrap_or_else(|| panic!("{what}: no p99 for {hash} in {:?}", snap.quantiles));
        assert!(
            (p99 - want).abs() <= bucket_width(want),
            "{what}: {hash} p99 {p99} vs {want}"
        );
    }
}

/// The judge's latency buckets: per version, intervals whose pooled p95 is the version's p95
/// (within the bucket it falls in), and the canary's requests a fifth or a tenth of all.
fn check_buckets(snap: &MetricsSnapshot, svc: &Service, what: &str) {
    let pooled = |hash: &str| {
        let series = snap
            .latency_buckets
            .iter()
            .find(|s| s.version.hash == hash)
            .unwrap_or_else(|| panic!("{what}: no latency buckets for {hash} in {snap:?}"));
        let bounds = histogram::bounds_of([&series.points[..]]);
        assert!(bounds.len() > 3, "{what}: bounds {bounds:?}");
        histogram::BucketTable::new(&series.points, &bounds)
            .pooled(f64::NEG_INFINITY, f64::INFINITY)
            .0
    };
    let (stable, canary) = (pooled(&svc.stable_hash), pooled(&svc.canary_hash));
    for (p, want) in [(&stable, STABLE_P95), (&canary, CANARY_P95)] {
        let p95 = p.quantile(0.95).expect("requests");
        assert!(
            (p95 - want).abs() <= bucket_width(want),
            "{what} {}: pooled p95 {p95} vs {want}",
            svc.name
        );
    }
    let share = canary.requests / (canary.requests + stable.requests);
    assert!(
        (share - svc.canary_share).abs() <= 0.03,
        "{what} {}: canary's share of bucketed requests {share}",
        svc.name
    );
}

fn prometheus_refresher(url: &str, step: Duration) -> Refresher {
    let mut config = PrometheusConfig::new(url);
    config.timeout = Duration::from_secs(3);
    let client = PrometheusClient::new(config).unwrap();
    let source = PrometheusSource::new(client, Template::builtin("istio").unwrap(), None, "1m");
    Refresher::new(Box::new(source), Duration::from_secs(120), step)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_signals_templates_and_scrape_parity() {
    if Prometheus::binary().is_none() {
        panic!(
            "no `prometheus` binary on PATH: install the Debian package `prometheus` (scripts/test does)"
        );
    }
    let services = vec![
        Service::new("checkout", 0.2),
        Service::new("inventory", 0.1),
        argo_fixture_service(),
    ];
    let (lab_url, _lab) = serve(services.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let target_addr = lab_url.trim_start_matches("http://").to_string();
    let prom = Prometheus::start(dir.path(), free_port(), &target_addr);
    prom.wait_for_data(6).await;
    // Counters are whole numbers: a few seconds of samples keep the ±1 rounding inside the
    // tolerances (e.g. 6±1 canary errors of ~120 requests stays within 0.04..=0.06).
    tokio::time::sleep(Duration::from_secs(4)).await;

    let targets: Vec<Target> = services.iter().map(Service::target).collect();
    let mut refresher = prometheus_refresher(&prom.url(), Duration::from_secs(1));
    let report = refresher.refresh(&targets, now_secs()).await;
    assert!(report.ok, "{:?}", refresher.health());
    assert_eq!(
        report.queries, 6,
        "one query per signal, one for the latency buckets and one for p99, for 3 rollouts in 2 namespaces"
    );
    for (svc, target) in services.iter().zip(&targets) {
        check_signals(&refresher.snapshot(target), svc, "prometheus");
        check_buckets(&refresher.snapshot(target), svc, "prometheus");
    }

    // Prometheus's own error text for a broken query.
    let client = PrometheusClient::new(PrometheusConfig::new(&prom.url())).unwrap();
    match client.query("sum(rate(x[1m]", None).await {
        Err(PrometheusError::Rejected {
            status: 400,
            error_type,
            error,
            url,
            ..
        }) => {
            assert_eq!(error_type, "bad_data");
            assert!(error.contains("parse error"), "{error}");
            assert_eq!(url, prom.url());
        }
        other => panic!("expected a bad_data rejection, got {other:?}"),
    }
    // A long query goes as a POST form and still answers.
    let long = format!(
        "sum(istio_requests_total{{destination_canonical_service=~\"{}checkout\"}})",
        "x|".repeat(600)
    );
    assert!(long.len() > release_cockpit::metrics::prometheus::POST_THRESHOLD_CHARS);
    assert!(client.query(&long, None).await.is_ok());

    // The generic template reads the app-style export of the same traffic: same numbers.
    let client = PrometheusClient::new(PrometheusConfig::new(&prom.url())).unwrap();
    let generic = PrometheusSource::new(client, Template::builtin("generic").unwrap(), None, "1m");
    let mut generic = Refresher::new(
        Box::new(generic),
        Duration::from_secs(120),
        Duration::from_secs(1),
    );
    assert!(
        generic.refresh(&targets, now_secs()).await.ok,
        "{:?}",
        generic.health()
    );
    check_signals(
        &generic.snapshot(&targets[0]),
        &services[0],
        "generic template",
    );
    // Every built-in template is PromQL that Prometheus accepts (Linkerd and NGINX series
    // are absent here, so their answers are empty, not errors).
    let client = PrometheusClient::new(PrometheusConfig::new(&prom.url())).unwrap();
    for template in release_cockpit::metrics::templates::builtins() {
        let source = PrometheusSource::new(
            PrometheusClient::new(PrometheusConfig::new(&prom.url())).unwrap(),
            template.clone(),
            None,
            "1m",
        );
        for (signal, promql) in source.plan(&targets) {
            if let Err(e) = client.query(&promql, None).await {
                panic!("{} {signal:?}: {e}", template.name);
            }
        }
        for (name, promql) in source.quantile_plan(&targets) {
            if let Err(e) = client.query(&promql, None).await {
                panic!("{} {name}: {e}", template.name);
            }
        }
    }

    let prom_snap = refresher.snapshot(&targets[0]);

    // The direct-scrape source against the same server gives the same numbers.
    let scrape = ScrapeSource::new(
        &format!("{lab_url}/metrics"),
        ScrapeLayout::istio("rollouts_pod_template_hash"),
        Duration::from_secs(3),
    )
    .unwrap();
    let mut scraper = Refresher::new(
        Box::new(scrape),
        Duration::from_secs(120),
        Duration::from_secs(2),
    );
    assert!(scraper.refresh(&targets, now_secs()).await.ok);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(scraper.refresh(&targets, now_secs()).await.ok);
    for (svc, target) in services.iter().zip(&targets) {
        check_signals(&scraper.snapshot(target), svc, "scrape");
        check_buckets(&scraper.snapshot(target), svc, "scrape");
    }
    let scrape_snap = scraper.snapshot(&targets[0]);
    assert_eq!(scrape_snap.source, "scrape");
    for hash in [&services[0].stable_hash, &services[0].canary_hash] {
        for (signal, tol) in [
            (Signal::TrafficShare, 0.03),
            (Signal::ErrorRate, 0.01),
            (Signal::P95Ms, 150.0),
        ] {
            let a = now_value(&prom_snap, hash, signal).unwrap();
            let b = now_value(&scrape_snap, hash, signal).unwrap();
            assert!(
                (a - b).abs() <= tol,
                "{hash} {signal:?}: prometheus {a} vs scrape {b}"
            );
        }
    }

    cli_metrics_against_a_fake_api_server(&prom.url(), &lab_url, &services[2]).await;
}

#[derive(clap::Parser)]
struct MetricsCli {
    #[command(flatten)]
    args: release_cockpit::cli::metrics_cmd::MetricsArgs,
}

/// `release-cockpit metrics` as CI runs it: flags parsed by clap, the rollout read with kube,
/// numbers from Prometheus (flag) and from a scrape (kubeconfig extension), JSON as documented.
async fn cli_metrics_against_a_fake_api_server(prom_url: &str, lab_url: &str, svc: &Service) {
    use clap::Parser;
    use release_cockpit::cli::metrics_cmd::{Collected, collect, to_json};
    let client = fake_kube_api().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("metrics.toml");
    let settings = settings.to_str().unwrap();
    let parse = |extra: &[&str]| {
        let mut argv = vec!["metrics", "canary-demo", "--metrics-settings", settings];
        argv.extend_from_slice(extra);
        MetricsCli::try_parse_from(argv).unwrap().args
    };
    let check = |json: &serde_json::Value, source: &str| {
        eprintln!("cli ({source}): {json}");
        assert_eq!(json["rollout"], "jesse-test/canary-demo");
        assert_eq!(json["source"], source);
        let v = json["versions"].as_array().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0]["role"].as_str(), v[0]["hash"].as_str()),
            (Some("stable"), Some("877894d5b"))
        );
        assert_eq!(
            (v[1]["role"].as_str(), v[1]["hash"].as_str()),
            (Some("canary"), Some("65fb5ffc84"))
        );
        let canary_share = v[1]["share"].as_f64().unwrap();
        assert!(
            (canary_share - svc.canary_share).abs() <= 0.03,
            "{canary_share}"
        );
        assert!((0.04..=0.06).contains(&v[1]["error_rate"].as_f64().unwrap()));
        assert!(v[0]["error_rate"].as_f64().unwrap() <= 0.01);
        let p95 = v[1]["p95_ms"].as_f64().unwrap();
        assert!(
            (p95 - CANARY_P95).abs() <= bucket_width(CANARY_P95),
            "{p95}"
        );
    };

    let args = parse(&["--prometheus", prom_url, "--since", "2m"]);
    // The series sits on a 10 s grid: right after this Prometheus started, the newest grid
    // point can predate its first two samples. Wait (bounded) for a grid point with data.
    let mut json = serde_json::Value::Null;
    for _ in 0..15 {
        let Collected::Ok(snap) = collect(client.clone(), "lab", "jesse-test", &args, None)
            .await
            .unwrap()
        else {
            panic!("prometheus: no data")
        };
        json = to_json(&snap, true);
        if json["versions"][1]["share"].is_f64() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    check(&json, "prometheus");
    let points = json["versions"][1]["series"]["share"].as_array().unwrap();
    assert!(
        points.len() >= 11,
        "--since 2m at 10 s gives the series: {points:?}"
    );
    // The window reaches back before this Prometheus had any data: those steps are gaps
    // (null), not zeros and not a line drawn from the first value.
    assert!(points[0][1].is_null(), "{points:?}");
    assert!(points.last().unwrap()[1].is_f64(), "{points:?}");

    // No flag: the kubeconfig context's release-cockpit extension names the scrape endpoint.
    let ext = serde_json::json!({"metricsUrl": format!("{lab_url}/metrics")});
    let args = parse(&["--scrape-secs", "3"]);
    let Collected::Ok(snap) = collect(client.clone(), "lab", "jesse-test", &args, Some(&ext))
        .await
        .unwrap()
    else {
        panic!("scrape: no data")
    };
    let json = to_json(&snap, false);
    check(&json, "scrape");
    assert!(json["versions"][0].get("series").is_none());

    // Nothing configured: says where to configure it.
    let outcome = collect(client.clone(), "lab", "jesse-test", &parse(&[]), None)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, Collected::NoSource(why) if why.contains("--prometheus")),
        "{outcome:?}"
    );
    // A rollout that does not exist: the error names it and the context.
    let mut missing = parse(&[]);
    missing.name = "nope".into();
    let err = collect(client, "lab", "jesse-test", &missing, None)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("jesse-test/nope in context lab"),
        "{err:#}"
    );
}

#[tokio::test]
async fn client_errors_name_the_server_and_what_to_do() {
    let (url, lab) = serve(vec![Service::new("checkout", 0.2)]).await;

    // Nothing listens there.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let client = PrometheusClient::new(PrometheusConfig::new(&dead)).unwrap();
    let err = client.query("up", None).await.unwrap_err();
    assert!(
        matches!(err, PrometheusError::Unreachable { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&dead) && text.contains("`up`") && text.contains("Check the Prometheus URL"),
        "{text}"
    );

    // A scrape endpoint that is down: the refresh fails, says where and what to check.
    let scrape = ScrapeSource::new(
        &format!("{dead}/metrics"),
        ScrapeLayout::istio("rollouts_pod_template_hash"),
        Duration::from_secs(1),
    )
    .unwrap();
    let mut scraper = Refresher::new(
        Box::new(scrape),
        Duration::from_secs(60),
        Duration::from_secs(1),
    );
    let target = Service::new("checkout", 0.2).target();
    assert!(
        !scraper
            .refresh(std::slice::from_ref(&target), now_secs())
            .await
            .ok
    );
    let snap = scraper.snapshot(&target);
    let error = snap.error.unwrap();
    assert!(
        error.contains(&format!("{dead}/metrics")) && error.contains("--metrics-url"),
        "{error}"
    );
    assert_eq!(
        snap.stale_since_secs, None,
        "never answered: nothing to be stale since"
    );

    // Not the API: the exposition server's 404 page.
    let client = PrometheusClient::new(PrometheusConfig::new(&url)).unwrap();
    let err = client.query("up", None).await.unwrap_err();
    assert!(
        matches!(err, PrometheusError::NotApi { status: 404, .. }),
        "{err:?}"
    );

    // Slow server: the per-request timeout fires and says so.
    let mut config = PrometheusConfig::new(&format!("{url}/slow"));
    config.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = PrometheusClient::new(config)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(matches!(err, PrometheusError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Cancellation: dropping the future abandons the request.
    let slow = PrometheusClient::new(PrometheusConfig::new(&format!("{url}/slow"))).unwrap();
    let cancelled = tokio::time::timeout(Duration::from_millis(200), slow.query("up", None)).await;
    assert!(cancelled.is_err());

    // Auth and extra headers reach the server; the token is read from env/file per request.
    let token_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token_file.path(), "file-token\n").unwrap();
    // SAFETY: this test is the only one reading or writing these variables.
    unsafe {
        std::env::set_var("RC_TEST_PROM_TOKEN", "env-token");
        std::env::set_var("RC_TEST_PROM_PASSWORD", "s3cret");
    }
    for (auth, expected) in [
        (
            Auth::BearerEnv("RC_TEST_PROM_TOKEN".into()),
            "Bearer env-token".to_string(),
        ),
        (
            Auth::BearerFile(token_file.path().to_path_buf()),
            "Bearer file-token".to_string(),
        ),
        (
            Auth::Basic {
                username: "ops".into(),
                password_env: "RC_TEST_PROM_PASSWORD".into(),
            },
            "Basic b3BzOnMzY3JldA==".to_string(),
        ),
    ] {
        let mut config = PrometheusConfig::new(&format!("{url}/echo"));
        config.auth = auth;
        config
            .headers
            .insert("X-Scope-OrgID".into(), "team-a".into());
        PrometheusClient::new(config)
            .unwrap()
            .query("up", None)
            .await
            .unwrap();
        let seen = lab.seen_headers.lock().unwrap().pop().unwrap();
        assert_eq!(seen["authorization"], expected.as_str());
        assert_eq!(seen["x-scope-orgid"], "team-a");
    }
    let mut config = PrometheusConfig::new(&format!("{url}/echo"));
    config.auth = Auth::BearerEnv("RC_TEST_UNSET_TOKEN_VAR".into());
    let err = PrometheusClient::new(config)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RC_TEST_UNSET_TOKEN_VAR"), "{err}");
}

/// TLS with a custom CA, and skip-verify only when asked: `openssl s_server` with a
/// certificate signed by a throwaway CA stands in for an HTTPS Prometheus (its HTML status
/// page is not the API, which proves the handshake got through).
#[tokio::test]
async fn tls_custom_ca_and_skip_verify() {
    if Command::new("openssl").arg("version").output().is_err() {
        panic!(
            "no `openssl` binary to make a test CA and serve TLS: install the Debian package \
             `openssl` (scripts/test does)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=cockpit test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
    ]);
    let port = free_port();
    let _server = KillOnDrop(
        Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                "server.pem",
                "-key",
                "server.key",
                "-www",
                "-quiet",
            ])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("https://127.0.0.1:{port}");

    let err = PrometheusClient::new(PrometheusConfig::new(&url))
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::Unreachable { .. }),
        "unknown CA must be refused: {err:?}"
    );

    let mut with_ca = PrometheusConfig::new(&url);
    with_ca.ca_file = Some(d.join("ca.pem"));
    let err = PrometheusClient::new(with_ca)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::NotApi { status: 200, .. }),
        "custom CA: {err:?}"
    );

    let mut skip = PrometheusConfig::new(&url);
    skip.skip_verify = true;
    let err = PrometheusClient::new(skip)
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PrometheusError::NotApi { status: 200, .. }),
        "skip-verify: {err:?}"
    );

    let mut bad_ca = PrometheusConfig::new(&url);
    bad_ca.ca_file = Some(d.join("ext.cnf"));
    let err = PrometheusClient::new(bad_ca).unwrap_err();
    assert!(err.to_string().contains("ext.cnf"), "{err}");
}

/// Kills a helper process when the test ends, even by a failed assertion.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `set-weight` on a weighted release through the orchestration API, as the CLI sends it
/// (journaled in `dir`), with `comment`; panics unless it changed the route.
async fn set_weight(
    client: &kube::Client,
    dir: &std::path::Path,
    release: &release_cockpit::model::RolloutRef,
    weight: i32,
    comment: Option<&str>,
) {
    use release_cockpit::model::{Action, Command, Tool};
    use release_cockpit::orchestrator::{self, ExecuteOptions, Journal};
    let options = ExecuteOptions {
        journal: Some(Journal::at(dir.join("journal.jsonl"), 10 << 20)),
        ..ExecuteOptions::default()
    };
    let command = Command {
        target: release.clone(),
        action: Action::SetWeight { weight, pin: None },
        tool: Tool::Cli,
        comment: comment.map(str::to_string),
    };
    let done = orchestrator::execute_with(client, &command, &options)
        .await
        .unwrap();
    assert!(done.outcome.changed, "{}", done.outcome.summary);
}
