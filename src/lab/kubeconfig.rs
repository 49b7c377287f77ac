//! The files a lab leaves for its clients: `DIR/kubeconfig` (contexts `lab-admin`,
//! `lab-viewer` and `lab-dev`, each with a `release-cockpit` extension naming the metrics
//! endpoints) and `DIR/lab.json` with the lab's addresses.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::LabError;

/// The context kubectl and the cockpit use by default.
pub const ADMIN_CONTEXT: &str = "lab-admin";
/// The read-only context.
pub const VIEWER_CONTEXT: &str = "lab-viewer";
/// The namespace-scoped context: everything in [`NAMESPACE`], nothing elsewhere.
pub const DEV_CONTEXT: &str = "lab-dev";
/// The namespace every context defaults to.
pub const NAMESPACE: &str = "demo";

/// What the files say about a running lab.
pub struct LabFiles<'a> {
    pub api_url: &'a str,
    pub metrics_url: &'a str,
    pub prometheus_url: Option<&'a str>,
    /// PEM of the CA the API's certificate is signed by (written to `DIR/ca.crt`).
    pub ca_pem: &'a str,
    pub admin_token: &'a str,
    pub viewer_token: &'a str,
    pub dev_token: &'a str,
}

/// The `rate()` window the lab's kubeconfig gives its own Prometheus (scraped every second).
pub const LAB_RATE_WINDOW: &str = "10s";

/// The kubeconfig, as a JSON value (written as YAML), self-contained: the CA is inline.
pub fn kubeconfig(files: &LabFiles<'_>) -> Value {
    use base64::Engine;
    let ca_data = base64::engine::general_purpose::STANDARD.encode(files.ca_pem);
    let mut extension = json!({"metricsUrl": files.metrics_url, "template": "istio"});
    if let Some(url) = files.prometheus_url {
        extension["prometheusUrl"] = json!(url);
        // The lab's Prometheus scrapes every second: 10 s rates hold ten scrapes, and the
        // judge gets one independent sample per 10 s instead of one a minute.
        extension["window"] = json!(LAB_RATE_WINDOW);
    }
    let context = |name: &str| {
        json!({
            "name": name,
            "context": {
                "cluster": "lab",
                "user": name,
                "namespace": NAMESPACE,
                "extensions": [{"name": "release-cockpit", "extension": extension}],
            },
        })
    };
    let user = |name: &str, token: &str| json!({"name": name, "user": {"token": token}});
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": "lab", "cluster": {
            "server": files.api_url,
            "certificate-authority-data": ca_data,
        }}],
        "contexts": [context(ADMIN_CONTEXT), context(VIEWER_CONTEXT), context(DEV_CONTEXT)],
        "users": [
            user(ADMIN_CONTEXT, files.admin_token),
            user(VIEWER_CONTEXT, files.viewer_token),
            user(DEV_CONTEXT, files.dev_token),
        ],
        "current-context": ADMIN_CONTEXT,
    })
}

/// `lab.json`: where the lab's API, metrics and Prometheus answer.
pub fn lab_json(files: &LabFiles<'_>) -> Value {
    json!({
        "api_url": files.api_url,
        "metrics_url": files.metrics_url,
        "prometheus_url": files.prometheus_url,
    })
}

/// Writes `dir/kubeconfig` (mode 0600: it holds tokens), `dir/ca.crt` (for curl and other
/// clients) and `dir/lab.json`, never through a symbolic link; returns the kubeconfig's path.
pub fn write(dir: &Path, files: &LabFiles<'_>) -> Result<PathBuf, LabError> {
    super::files::write(dir, "ca.crt", files.ca_pem.as_bytes(), false)?;
    let yaml = serde_saphyr::to_string(&kubeconfig(files)).map_err(|e| LabError::Write {
        path: dir.join("kubeconfig"),
        source: std::io::Error::other(e.to_string()),
    })?;
    let kubeconfig_path = super::files::write(dir, "kubeconfig", yaml.as_bytes(), true)?;
    let text = format!("{:#}\n", lab_json(files));
    super::files::write(dir, "lab.json", text.as_bytes(), false)?;
    Ok(kubeconfig_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_has_every_context_with_the_cockpit_extension() {
        let files = LabFiles {
            api_url: "http://127.0.0.1:1234",
            metrics_url: "http://127.0.0.1:1234/metrics",
            prometheus_url: None,
            ca_pem: "-----BEGIN CERTIFICATE-----",
            admin_token: "a",
            viewer_token: "v",
            dev_token: "d",
        };
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &files).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(parsed, kubeconfig(&files));
        assert_eq!(
            parsed["clusters"][0]["cluster"]["certificate-authority-data"],
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"
        );
        let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
        assert_eq!(ca, files.ca_pem);
        assert_eq!(parsed["current-context"], "lab-admin");
        let names: Vec<&str> = parsed["contexts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["lab-admin", "lab-viewer", "lab-dev"]);
        assert_eq!(parsed["contexts"][2]["context"]["namespace"], "demo");
        assert_eq!(parsed["users"][2]["user"]["token"], "d");
        let ext = &parsed["contexts"][1]["context"]["extensions"][0];
        assert_eq!(ext["name"], "release-cockpit");
        assert_eq!(
            ext["extension"]["metricsUrl"],
            "http://127.0.0.1:1234/metrics"
        );
        assert!(ext["extension"].get("prometheusUrl").is_none());
        let lab: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("lab.json")).unwrap())
                .unwrap();
        assert_eq!(lab["prometheus_url"], Value::Null);
        assert_eq!(lab["api_url"], "http://127.0.0.1:1234");
    }
}
