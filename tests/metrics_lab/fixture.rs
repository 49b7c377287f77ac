//! The lab under test and the checks: a demo lab at speed 10 with more traffic on
//! checkout and inventory, the refresher the CLI would build for it, and the expected p95
//! from each version's profile annotation and the lab's buckets.

use super::*;

pub struct LabUnderTest {
    pub lab: Lab,
    dir: tempfile::TempDir,
    data: tempfile::TempDir,
    pub client: kube::Client,
    /// When the higher request rate was set (traffic at that rate starts at the next tick).
    pub since: Instant,
}

impl LabUnderTest {
    pub async fn start(prometheus: PrometheusMode) -> LabUnderTest {
        // The lab's files in `dir`, the CLI's config home in `data`.
        let super::support::LabDirs { lab, dir, data } =
            super::support::LabDirs::start(LabOptions {
                scenario: "demo".into(),
                speed: SPEED,
                prometheus,
                ..super::support::options()
            })
            .await;
        let config = lab.kube_config(CONTEXT).await.unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let rollouts = Api::<Rollout>::namespaced(client.clone(), "demo");
        for name in ["checkout", "inventory"] {
            let patch = json!({"metadata": {"annotations": {RATE_ANNOTATION: RATE}}});
            rollouts
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
        }
        LabUnderTest {
            lab,
            dir,
            data,
            client,
            since: Instant::now(),
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Every rollout of `demo` as the window shows them.
    pub async fn targets(&self) -> Vec<Target> {
        let rollouts = Api::<Rollout>::namespaced(self.client.clone(), "demo");
        let list = rollouts.list(&Default::default()).await.unwrap();
        list.items
            .iter()
            .map(|r| Target::from_view(&RolloutView::from_rollout(CONTEXT, r)))
            .collect()
    }

    /// A refresher for the lab context, resolved as the CLI resolves it: the kubeconfig's
    /// `release-cockpit` extension, overridden by `settings` (a metrics.toml).
    pub fn refresher(&self, settings: &str) -> Refresher {
        let kubeconfig = kube::config::Kubeconfig::read_from(self.kubeconfig()).unwrap();
        let ext = kubeconfig_extension(&kubeconfig, CONTEXT);
        let settings = Settings::parse(settings, Path::new("metrics.toml")).unwrap();
        let config = resolve_source_config(ext.as_ref(), &settings, CONTEXT).unwrap();
        let source = build_source(&config).unwrap().unwrap();
        Refresher::new(source, Duration::from_secs(120), config.refresh)
    }

    /// Sleeps until the inventory canary's spike has filled the whole rate window.
    pub async fn wait_for_spike_in_window(&self) {
        let ready = self.since + SPIKE_AFTER + WINDOW + Duration::from_secs(3);
        tokio::time::sleep_until(ready.into()).await;
    }

    /// `release-cockpit --kubeconfig DIR/kubeconfig metrics NAME -o json`, the real binary, with
    /// an empty config dir so no user settings get in the way.
    pub async fn cli_json(&self, name: &str) -> Value {
        let kubeconfig = self.kubeconfig();
        let config_home = self.data.path().join("config-home");
        let rollout = name.to_string();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(["metrics", &rollout, "-o", "json", "--scrape-secs", "3"])
                .env("XDG_CONFIG_HOME", &config_home)
                .env_remove("KUBECONFIG")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "metrics {name}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// The p95 Prometheus's `histogram_quantile` gives for the lab's latency distribution of
    /// version `hash`: its profile annotation (log-normal by median and p95) put into the
    /// lab's buckets, then interpolated.
    pub fn expected_p95(&self, hash: &str) -> f64 {
        let (replica_sets, _) = self.lab.store().list(Kind::ReplicaSet, Some("demo"));
        let rs = replica_sets
            .iter()
            .find(|rs| rs["metadata"]["labels"]["rollouts-pod-template-hash"] == hash)
            .unwrap_or_else(|| panic!("no ReplicaSet for hash {hash}"));
        let template = &rs["spec"]["template"];
        assert!(
            template["metadata"]["annotations"][PROFILE_ANNOTATION].is_string(),
            "{hash} declares its profile"
        );
        let profile = Profile::of_template(template);
        let factor = profile
            .spike
            .as_ref()
            .and_then(|s| s.latency_factor)
            .unwrap_or(1.0);
        let median = profile.latency_ms.median * factor;
        let p95 = profile.latency_ms.p95 * factor;
        let sigma = (p95 / median).ln() / 1.644_853_626_951_472_2;
        let mut buckets: Vec<(f64, f64)> = BUCKETS_MS
            .iter()
            .map(|&b| (b, phi((b.ln() - median.ln()) / sigma)))
            .collect();
        buckets.push((f64::INFINITY, 1.0));
        histogram_quantile(0.95, &buckets).unwrap()
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
pub fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The width of the lab's latency bucket holding `ms`.
pub fn bucket_width(ms: f64) -> f64 {
    let mut lower = 0.0;
    for &b in &BUCKETS_MS {
        if ms <= b {
            return b - lower;
        }
        lower = b;
    }
    f64::INFINITY
}

pub fn hash_of(target: &Target, role: VersionRole) -> String {
    target
        .versions
        .iter()
        .find(|v| v.role == role)
        .unwrap_or_else(|| panic!("{} has no {role:?}", target.rollout))
        .hash
        .clone()
}

pub fn find<'a>(targets: &'a [Target], name: &str) -> &'a Target {
    targets
        .iter()
        .find(|t| t.rollout.name == name)
        .unwrap_or_else(|| panic!("no rollout {name} in {targets:?}"))
}

/// The checks, on snapshots of `checkout` and `inventory` after the spike.
pub fn check_lab_signals(
    lab: &LabUnderTest,
    targets: &[Target],
    snapshot: impl Fn(&Target) -> MetricsSnapshot,
    what: &str,
) {
    for name in ["checkout", "inventory"] {
        let target = find(targets, name);
        let snap = snapshot(target);
        assert_eq!(snap.stale_since_secs, None, "{what}: {:?}", snap.error);
        for role in [VersionRole::Stable, VersionRole::Canary] {
            let hash = hash_of(target, role);
            let share = now_value(&snap, &hash, Signal::TrafficShare);
            let errors = now_value(&snap, &hash, Signal::ErrorRate);
            let p95 = now_value(&snap, &hash, Signal::P95Ms);
            let expected = lab.expected_p95(&hash);
            eprintln!(
                "{what}: {name} {role:?} {hash}: share {share:?} error rate {errors:?} p95 {p95:?} ms (lab distribution: {expected:.1} ms)"
            );
            let p95 = p95.unwrap_or_else(|| panic!("{what}: no p95 for {name} {role:?}"));
            assert!(
                (p95 - expected).abs() <= bucket_width(expected),
                "{what}: {name} {role:?} p95 {p95} vs {expected}"
            );
        }
    }
    let checkout = find(targets, "checkout");
    let snap = snapshot(checkout);
    let canary = now_value(
        &snap,
        &hash_of(checkout, VersionRole::Canary),
        Signal::TrafficShare,
    )
    .unwrap_or_else(|| panic!("{what}: no canary share"));
    let stable = now_value(
        &snap,
        &hash_of(checkout, VersionRole::Stable),
        Signal::TrafficShare,
    )
    .unwrap_or_else(|| panic!("{what}: no stable share"));
    assert!(
        (canary - 0.20).abs() <= 0.03,
        "{what}: checkout canary share {canary}"
    );
    assert!(
        (canary + stable - 1.0).abs() <= 0.01,
        "{what}: shares {stable} + {canary}"
    );
    // Blue-green: all users on active, none on preview; a finished canary: all on stable.
    let payments = find(targets, "payments");
    let snap = snapshot(payments);
    let active = now_value(
        &snap,
        &hash_of(payments, VersionRole::Active),
        Signal::TrafficShare,
    );
    let preview = now_value(
        &snap,
        &hash_of(payments, VersionRole::Preview),
        Signal::TrafficShare,
    );
    assert_eq!(
        (active, preview),
        (Some(1.0), Some(0.0)),
        "{what}: payments"
    );
    let preview = hash_of(payments, VersionRole::Preview);
    for signal in [Signal::ErrorRate, Signal::P95Ms] {
        assert_eq!(
            now_value(&snap, &preview, signal),
            None,
            "{what}: payments preview {signal:?}"
        );
    }
    let search = find(targets, "search");
    let snap = snapshot(search);
    assert_eq!(search.versions.len(), 1, "{search:?}");
    let stable = now_value(
        &snap,
        &hash_of(search, VersionRole::Stable),
        Signal::TrafficShare,
    );
    assert_eq!(stable, Some(1.0), "{what}: search");
    let inventory = find(targets, "inventory");
    let snap = snapshot(inventory);
    let canary = now_value(
        &snap,
        &hash_of(inventory, VersionRole::Canary),
        Signal::ErrorRate,
    )
    .unwrap_or_else(|| panic!("{what}: no inventory canary error rate"));
    let stable = now_value(
        &snap,
        &hash_of(inventory, VersionRole::Stable),
        Signal::ErrorRate,
    )
    .unwrap_or_else(|| panic!("{what}: no inventory stable error rate"));
    assert!(
        canary >= 0.04,
        "{what}: inventory canary error rate {canary}"
    );
    assert!(
        stable <= 0.01,
        "{what}: inventory stable error rate {stable}"
    );
}

/// The CLI's JSON for checkout: the documented shape, roles and hashes from the rollout.
pub fn check_cli_json(json: &Value, source: &str, checkout: &Target) {
    eprintln!("cli ({source}): {json}");
    assert_eq!(json["rollout"], "demo/checkout");
    assert_eq!(json["source"], source);
    let versions = json["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{json}");
    for (v, role) in versions.iter().zip(["stable", "canary"]) {
        assert_eq!(v["role"], role);
        let hash = v["hash"].as_str().unwrap();
        let expected = if role == "stable" {
            VersionRole::Stable
        } else {
            VersionRole::Canary
        };
        assert_eq!(hash, hash_of(checkout, expected));
        for key in ["share", "error_rate", "p95_ms"] {
            assert!(v[key].is_f64(), "{role} {key}: {v}");
        }
        assert!(v.get("series").is_none(), "no --since, no series: {v}");
    }
    let canary_share = versions[1]["share"].as_f64().unwrap();
    assert!((canary_share - 0.20).abs() <= 0.03, "{canary_share}");
    let stable_share = versions[0]["share"].as_f64().unwrap();
    assert!((canary_share + stable_share - 1.0).abs() <= 0.01);
}
