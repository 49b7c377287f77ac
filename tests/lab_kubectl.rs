//! End-to-end tests of the lab's Kubernetes API with independent clients: the real kubectl
//! (driven through the kubeconfig the lab writes), kube-rs, and raw HTTP for bad input.
//! Every test starts its own lab on a free port with its own directory.

#[path = "support/lab.rs"]
mod support;

#[path = "lab_kubectl/analysis.rs"]
mod analysis;
#[path = "lab_kubectl/cockpit.rs"]
mod cockpit;
#[path = "lab_kubectl/flagger.rs"]
mod flagger;
#[path = "lab_kubectl/gateway.rs"]
mod gateway;
#[path = "lab_kubectl/http.rs"]
mod http;
#[path = "lab_kubectl/kube_rs.rs"]
mod kube_rs;
#[path = "lab_kubectl/kubectl.rs"]
mod kubectl;
#[path = "lab_kubectl/restart.rs"]
mod restart;
#[path = "lab_kubectl/slow_watcher.rs"]
mod slow_watcher;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use release_cockpit::lab::{Kind, Lab};
use serde_json::Value;
use tokio::process::Command;

struct TestLab {
    lab: Lab,
    dir: tempfile::TempDir,
}

impl TestLab {
    async fn start() -> TestLab {
        let support::LabDirs { lab, dir, .. } = support::LabDirs::start(support::options()).await;
        TestLab { lab, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.lab.kubeconfig_path.clone().unwrap()
    }

    fn rollout(&self, name: &str) -> Value {
        self.lab.store().get(Kind::Rollout, "demo", name).unwrap()
    }

    /// Namespace `namespace` with a copy of `checkout` named `name` in it: a rollout that
    /// only users with more than namespace `demo` may see.
    fn rollout_elsewhere(&self, namespace: &str, name: &str) {
        let store = self.lab.store();
        store
            .create(
                Kind::Namespace,
                serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace}}),
            )
            .unwrap();
        let mut copy = self.rollout("checkout");
        copy["metadata"] = serde_json::json!({"name": name, "namespace": namespace});
        copy.as_object_mut().unwrap().remove("status");
        store.create(Kind::Rollout, copy).unwrap();
    }

    /// kubectl with this lab's kubeconfig and a private discovery cache.
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_path());
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .args(args)
            .kill_on_drop(true);
        cmd
    }

    /// Runs kubectl to completion: (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::time::timeout(Duration::from_secs(60), self.kubectl(args).output())
            .await
            .expect("kubectl did not finish within 60 s")
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// An HTTP client that trusts this lab's CA (and nothing else).
    fn http(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.lab.ca_pem().as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .unwrap()
    }

    /// A kube-rs client from the kubeconfig file the lab wrote (not from `Lab::kube_config`,
    /// so the file itself is what is tested).
    async fn client(&self, context: &str) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(self.kubeconfig()).unwrap();
        let options = KubeConfigOptions {
            context: Some(context.into()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }
}

fn kubectl_path() -> &'static str {
    "kubectl"
}

/// kubectl is the independent peer of these tests: without it they fail, saying what to
/// install (scripts/test installs it), rather than pass having checked nothing.
async fn need_kubectl() {
    let ok = Command::new(kubectl_path())
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "kubectl is not installed or does not run ({}): install it (Debian: apt-get install \
         kubernetes-client; scripts/test does)",
        kubectl_path()
    );
}

fn generation(object: &Value) -> i64 {
    object["metadata"]["generation"].as_i64().unwrap()
}
