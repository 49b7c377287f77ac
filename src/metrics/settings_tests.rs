//! Tests of `settings.rs`.

use super::*;

const FILE: &str = r#"
[contexts.prod]
prometheus_url = "https://mimir.example/prometheus"
bearer_token_env = "PROM_TOKEN"
headers = { "X-Scope-OrgID" = "team-a" }
template = "mine"
refresh_secs = 5

[contexts.lab]
template = "linkerd"

[templates.mine]
service_label = "app"
default_version_label = "version"
share = 'sum by (app, {version_label}) (rate(reqs{namespace=~"{namespaces}", app=~"{services}"}[{window}]))'
error_rate = 'sum by (app, {version_label}) (rate(errs{namespace=~"{namespaces}"}[{window}]))'
p95_ms = 'histogram_quantile(0.95, sum by (le, app, {version_label}) (rate(lat_bucket[{window}])))'
"#;

#[test]
fn file_overrides_the_kubeconfig_extension() {
    let s = Settings::parse(FILE, Path::new("metrics.toml")).unwrap();
    let ext = serde_json::json!({"prometheusUrl": "http://127.0.0.1:9999", "template": "nginx"});
    let prod = resolve_source_config(Some(&ext), &s, "prod").unwrap();
    let SourceKind::Prometheus(p) = &prod.kind else {
        panic!("not prometheus")
    };
    assert_eq!(p.url, "https://mimir.example/prometheus");
    assert_eq!(p.auth, Auth::BearerEnv("PROM_TOKEN".into()));
    assert_eq!(p.headers["X-Scope-OrgID"], "team-a");
    assert_eq!(prod.template.name, "mine");
    assert_eq!(prod.version_label, "version");
    assert_eq!(prod.refresh, Duration::from_secs(5));
    // The lab context names only a template: the URL comes from the extension.
    let lab = resolve_source_config(Some(&ext), &s, "lab").unwrap();
    assert_eq!(lab.template.name, "linkerd");
    assert!(matches!(&lab.kind, SourceKind::Prometheus(p) if p.url == "http://127.0.0.1:9999"));
    // Unknown context, scrape-only extension.
    let scrape = serde_json::json!({"metricsUrl": "http://127.0.0.1:8080/metrics"});
    let other = resolve_source_config(Some(&scrape), &s, "other").unwrap();
    assert_eq!(
        other.kind,
        SourceKind::Scrape {
            url: "http://127.0.0.1:8080/metrics".into()
        }
    );
    assert_eq!(other.template.name, "istio");
    assert_eq!(
        resolve_source_config(None, &s, "other").unwrap().kind,
        SourceKind::None
    );
    // The rate window from the extension (the lab's: its Prometheus scrapes every second);
    // a bad one names where it came from.
    assert_eq!(other.window, "1m");
    let windowed = serde_json::json!({"prometheusUrl": "http://127.0.0.1:9999", "window": "10s"});
    assert_eq!(
        resolve_source_config(Some(&windowed), &s, "other")
            .unwrap()
            .window,
        "10s"
    );
    let bad = serde_json::json!({"prometheusUrl": "http://127.0.0.1:9999", "window": "soon"});
    let err = resolve_source_config(Some(&bad), &s, "other")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("release-cockpit extension of context other")
            && err.contains("window \"soon\""),
        "{err}"
    );
}

#[test]
fn the_help_example_is_a_valid_file() {
    let toml = &SETTINGS_HELP[SETTINGS_HELP.find("[contexts.prod]").unwrap()..];
    let s = Settings::parse(toml, Path::new("help")).unwrap();
    assert_eq!(s.contexts.len(), 2);
    assert_eq!(
        s.template("staging", "my-mesh").unwrap().service_label,
        "app"
    );
}

#[test]
fn unknown_placeholder_is_rejected_at_load() {
    let bad = FILE.replace("{window}]))'\np95", "{windw}]))'\np95");
    let err = Settings::parse(&bad, Path::new("metrics.toml")).unwrap_err();
    assert!(err.to_string().contains("{windw}"), "{err}");
}

#[test]
fn the_documented_file_loads_and_its_quantiles_are_checked() {
    // The example `metrics --help` prints is a valid file.
    let doc = &SETTINGS_HELP[SETTINGS_HELP.find("[contexts.prod]").unwrap()..];
    let s = Settings::parse(doc, Path::new("metrics.toml")).unwrap();
    assert_eq!(
        s.template("staging", "my-mesh").unwrap().quantiles,
        [0.5, 0.99]
    );
    let bad = doc.replace("quantiles = [0.5, 0.99]", "quantiles = [0.5, 99]");
    let err = Settings::parse(&bad, Path::new("metrics.toml")).unwrap_err();
    assert!(
        err.to_string()
            .contains("quantile 99 is not strictly between 0 and 1"),
        "{err}"
    );
    let bad = doc.replace("histogram_quantile({quantile},", "histogram_quantile(0.99,");
    let err = Settings::parse(&bad, Path::new("metrics.toml")).unwrap_err();
    assert!(
        err.to_string().contains("no {quantile} placeholder"),
        "{err}"
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
    assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
    assert!(parse_duration("1y").is_err());
    assert!(parse_duration("m").is_err());
    // No overflow, no year-long buffers: the number is refused, not wrapped.
    assert!(parse_duration("99999999999999999d").is_err());
    assert!(parse_duration("400d").is_err());
    assert_eq!(
        parse_duration("366d"),
        Ok(Duration::from_secs(366 * 86_400))
    );
}

#[test]
fn bad_window_and_half_basic_auth_are_rejected_at_load() {
    let err =
        Settings::parse("[contexts.x]\nwindow = \"1 minute\"\n", Path::new("m.toml")).unwrap_err();
    assert!(err.to_string().contains("[contexts.x] window"), "{err}");
    let err = Settings::parse(
        "[contexts.x]\nbasic_username = \"ops\"\n",
        Path::new("m.toml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("basic_password_env"), "{err}");
    let err = Settings::parse(
        "[contexts.x]\nbearer_token = \"abc\"\n",
        Path::new("m.toml"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn skip_verify_and_credentials_over_http_are_warned_about() {
    let file = r#"
[contexts.tls]
prometheus_url = "https://prom.example"
skip_verify = true
[contexts.plain]
prometheus_url = "http://prom.example:9090"
bearer_token_env = "PROM_TOKEN"
[contexts.inline]
prometheus_url = "http://ops:hunter22@prom.example:9090"
[contexts.fine]
prometheus_url = "http://127.0.0.1:9090"
"#;
    let s = Settings::parse(file, Path::new("m.toml")).unwrap();
    let warn = |context: &str| {
        security_warnings(&resolve_source_config(None, &s, context).unwrap(), context)
    };
    let tls = warn("tls");
    assert_eq!(tls.len(), 1);
    assert!(tls[0].text.contains("skip_verify") && tls[0].text.contains("'tls'"));
    let plain = warn("plain");
    assert_eq!(plain.len(), 1);
    assert!(
        plain[0].text.contains("http://prom.example:9090"),
        "{}",
        plain[0]
    );
    let inline = warn("inline");
    assert_eq!(inline.len(), 1);
    assert!(!inline[0].text.contains("hunter22"), "{}", inline[0]);
    assert!(warn("fine").is_empty());
}

#[test]
fn unknown_template_name_is_rejected_at_load() {
    let err =
        Settings::parse("[contexts.x]\ntemplate = \"envoy\"\n", Path::new("m.toml")).unwrap_err();
    assert!(matches!(err, SettingsError::UnknownTemplate { .. }));
}

#[test]
fn reads_the_context_extension_from_a_kubeconfig() {
    let yaml = r#"
apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: admin, user: {token: x}}]
contexts:
- name: lab-admin
  context:
    cluster: lab
    user: admin
    extensions:
    - name: release-cockpit
      extension: {prometheusUrl: "http://127.0.0.1:9090", template: istio}
current-context: lab-admin
"#;
    let kc = kube::config::Kubeconfig::from_yaml(yaml).unwrap();
    let ext = kubeconfig_extension(&kc, "lab-admin").unwrap();
    assert_eq!(ext["prometheusUrl"], "http://127.0.0.1:9090");
    assert!(kubeconfig_extension(&kc, "nope").is_none());
}
