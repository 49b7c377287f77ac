//! The one lab fixture of the integration tests: a lab on port 0 in a directory of its own
//! (kubeconfig, tokens, state), without Prometheus unless asked, and a second directory for
//! the cockpit's own files (the command journal) — never the user's. Each test binary wraps
//! it with the helpers it needs.
#![allow(dead_code)]

use release_cockpit::lab::{Lab, LabOptions, PrometheusMode};
use release_cockpit::orchestrator::{ExecuteOptions, Journal};
use std::path::PathBuf;

/// A started lab with its directory and the cockpit's data directory.
pub struct LabDirs {
    pub lab: Lab,
    /// The lab's files: `kubeconfig`, tokens, state.
    pub dir: tempfile::TempDir,
    /// The cockpit's data dir: the journal.
    pub data: tempfile::TempDir,
}

/// What a test lab runs: the `demo` scenario at real speed without Prometheus, unless said.
pub fn options() -> LabOptions {
    LabOptions {
        prometheus: PrometheusMode::Off,
        ..LabOptions::default()
    }
}

impl LabDirs {
    /// Starts a lab with `options` in a fresh directory (any `dir` in them is replaced).
    pub async fn start(options: LabOptions) -> LabDirs {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = tempfile::tempdir().expect("tempdir");
        let lab = Lab::start(LabOptions {
            dir: Some(dir.path().to_path_buf()),
            ..options
        })
        .await
        .expect("the lab starts");
        LabDirs { lab, dir, data }
    }

    /// The kubeconfig the lab wrote (contexts lab-admin, lab-dev, lab-viewer).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// A client of `context`, from the lab's kubeconfig file as a user would load it.
    pub async fn client(&self, context: &str) -> kube::Client {
        release_cockpit::cluster::LoadedKubeconfig::load(Some(&self.kubeconfig()))
            .expect("kubeconfig")
            .client(context)
            .await
            .expect("client")
    }

    /// The test's own command journal.
    pub fn journal(&self) -> Journal {
        Journal::at(self.data.path().join("journal.jsonl"), 10 << 20)
    }

    /// Orchestrator options that journal into [`LabDirs::journal`].
    pub fn execute_options(&self) -> ExecuteOptions {
        ExecuteOptions {
            journal: Some(self.journal()),
            ..ExecuteOptions::default()
        }
    }
}
