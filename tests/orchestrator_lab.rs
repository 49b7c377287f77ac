//! The orchestration API and the CLI verbs end to end against the lab over real HTTPS: the
//! verbs move the `checkout` rollout as Argo would, the audit trail lands in all three places,
//! the viewer and read-only mode send nothing, racing promotes advance one step, and a command
//! cut off between intent and outcome is reported; `inbox` lists who waits and `watch`
//! posts transitions to a webhook. Each test starts its own lab (port 0, its
//! own directory, no Prometheus) on the test's runtime, and its own journal directory.

#[path = "support/lab.rs"]
mod support;

#[path = "orchestrator_lab/audit.rs"]
mod audit;
#[path = "orchestrator_lab/flagger.rs"]
mod flagger;
#[path = "orchestrator_lab/gateway.rs"]
mod gateway;
#[path = "orchestrator_lab/inbox.rs"]
mod inbox;
#[path = "orchestrator_lab/pins.rs"]
mod pins;
#[path = "orchestrator_lab/promote_full.rs"]
mod promote_full;
#[path = "orchestrator_lab/races.rs"]
mod races;
#[path = "orchestrator_lab/verbs.rs"]
mod verbs;
#[path = "orchestrator_lab/watch.rs"]
mod watch;
#[path = "support/webhook.rs"]
mod webhook;

use release_cockpit::cluster::LoadedKubeconfig;
use release_cockpit::lab::{Kind, Lab, LabOptions};
use release_cockpit::model::{Action, Command, Pin, RolloutRef, Tool};
use release_cockpit::orchestrator::journal::{CommandResult, Entry};
use release_cockpit::orchestrator::{ExecuteOptions, Journal};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const ADMIN: &str = "lab-admin";
const VIEWER: &str = "lab-viewer";

struct TestLab {
    lab: Lab,
    /// The lab's files (kubeconfig).
    dir: tempfile::TempDir,
    /// The cockpit's data dir: the journal.
    data: tempfile::TempDir,
    kubeconfig: LoadedKubeconfig,
}

impl TestLab {
    async fn start() -> TestLab {
        TestLab::start_at_speed(1.0).await
    }

    /// A lab whose simulated time runs `speed` times faster (Flagger's 30 s intervals).
    async fn start_at_speed(speed: f64) -> TestLab {
        let support::LabDirs { lab, dir, data } = support::LabDirs::start(LabOptions {
            speed,
            ..support::options()
        })
        .await;
        let kubeconfig =
            LoadedKubeconfig::load(Some(&dir.path().join("kubeconfig"))).expect("kubeconfig");
        TestLab {
            lab,
            dir,
            data,
            kubeconfig,
        }
    }

    fn kubeconfig_path(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// A fresh client of `context` (not the cached one: "separate clients").
    async fn fresh_client(&self, context: &str) -> kube::Client {
        LoadedKubeconfig::load(Some(&self.kubeconfig_path()))
            .expect("kubeconfig")
            .client(context)
            .await
            .expect("client")
    }

    async fn client(&self, context: &str) -> kube::Client {
        self.kubeconfig.client(context).await.expect("client")
    }

    fn journal(&self) -> Journal {
        Journal::at(self.data.path().join("journal.jsonl"), 10 << 20)
    }

    fn options(&self) -> ExecuteOptions {
        ExecuteOptions {
            journal: Some(self.journal()),
            ..ExecuteOptions::default()
        }
    }

    fn rollout(&self, name: &str) -> Value {
        self.lab
            .store()
            .get(Kind::Rollout, "demo", name)
            .expect("rollout in the lab")
    }

    /// Polls the lab's store until `ready` holds for `name` (10 s at most).
    async fn wait_for(&self, name: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let ro = self.rollout(name);
            if ready(&ro) {
                return ro;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never got {what}: status {}",
                ro["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Until checkout waits for approval at step 1 (the controller starts the update).
    async fn checkout_at_approval(&self) -> Value {
        self.wait_for("checkout", "to step 1 (paused)", |ro| {
            step(ro) == Some(1) && !ro["status"]["pauseConditions"].is_null()
        })
        .await
    }

    /// Someone ships a new version of `name` (its first container's image becomes `image`)
    /// and the controller starts rolling it out: returns the rollout with the new pod hash.
    async fn new_revision(&self, name: &str, image: &str) -> Value {
        let before = self.rollout(name);
        let running = before["status"]["currentPodHash"].clone();
        let container = before["spec"]["template"]["spec"]["containers"][0]["name"].clone();
        let api: kube::Api<release_cockpit::model::Rollout> =
            kube::Api::namespaced(self.client(ADMIN).await, "demo");
        let bump = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": container, "image": image}
        ]}}}});
        api.patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&bump),
        )
        .await
        .expect("new revision");
        self.wait_for(name, "a new revision", |ro| {
            !ro["status"]["currentPodHash"].is_null() && ro["status"]["currentPodHash"] != running
        })
        .await
    }

    /// The Events the lab holds about rollout `name` that release-cockpit wrote.
    fn audit_events(&self, name: &str) -> Vec<Value> {
        let (events, _) = self.lab.store().list(Kind::Event, Some("demo"));
        events
            .into_iter()
            .filter(|e| {
                e["involvedObject"]["name"] == name && e["reportingComponent"] == "release-cockpit"
            })
            .collect()
    }

    /// Runs the real binary with this lab's kubeconfig and journal: (exit code, stdout, stderr).
    async fn cli(&self, args: &[&str]) -> (i32, String, String) {
        self.cli_with_env(&[], args).await
    }

    /// [`TestLab::cli`] with extra environment settings.
    async fn cli_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"))
            .arg("--kubeconfig")
            .arg(self.kubeconfig_path())
            .args(args)
            .env("RELEASE_COCKPIT_DATA_DIR", self.data.path())
            .env_remove("RELEASE_COCKPIT_READ_ONLY")
            .env_remove("RELEASE_COCKPIT_REQUIRE_COMMENT")
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(60), out)
            .await
            .expect("the CLI finished within 60 s")
            .expect("the CLI ran");
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }
}

fn step(ro: &Value) -> Option<i64> {
    ro["status"]["currentStepIndex"].as_i64()
}

fn resource_version(ro: &Value) -> String {
    ro["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn checkout(context: &str) -> RolloutRef {
    RolloutRef::new(context, "demo", "checkout")
}

fn promote_at(context: &str, at: i32, comment: Option<&str>) -> Command {
    Command {
        target: checkout(context),
        action: Action::Promote {
            pin: Some(Pin {
                step: Some(at),
                ..Pin::default()
            }),
        },
        tool: Tool::Auto,
        comment: comment.map(str::to_string),
    }
}

/// The last-action annotation of a rollout (or Event), parsed.
fn last_action(object: &Value) -> Option<Value> {
    object["metadata"]["annotations"]["release-cockpit.io/last-action"]
        .as_str()
        .map(|a| serde_json::from_str(a).expect("last-action is JSON"))
}

/// (intents, outcomes) of the journal.
fn journal_lines(
    journal: &Journal,
) -> (
    Vec<release_cockpit::orchestrator::Intent>,
    Vec<release_cockpit::orchestrator::journal::Completion>,
) {
    let mut intents = Vec::new();
    let mut outcomes = Vec::new();
    for entry in journal.entries().expect("journal") {
        match entry {
            Entry::Intent(i) => intents.push(i),
            Entry::Outcome(o) => outcomes.push(o),
            Entry::Stage(_) => {}
        }
    }
    (intents, outcomes)
}

fn count(
    outcomes: &[release_cockpit::orchestrator::journal::Completion],
    r: CommandResult,
) -> usize {
    outcomes.iter().filter(|o| o.result == r).count()
}
