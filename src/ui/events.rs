//! The window's message interface: `AppEvent` is plain data flowing in from the backend
//! (fleet, contexts, identity, permissions, metrics, outcomes); `BackendRequest` is what the
//! window asks the backend to do (execute a command, watch metrics, open files, start the lab).

use super::settings::Settings;
use crate::model::{Command, MetricsSnapshot, Outcome, Provider, RolloutRef, RolloutView, Verb};
use crate::orchestrator::Permission;
use std::path::PathBuf;

/// Everything that can change the window's state. Built by the backend on tokio tasks and
/// drained by the window at the start of each frame.
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    /// The kubeconfig files were read: which contexts exist and which one is current.
    /// An empty `contexts` with no file found means "no kubeconfig at all".
    Kubeconfig(KubeconfigInfo),
    /// How the connection to one context is doing.
    ContextState {
        context: String,
        state: ContextState,
    },
    /// Who the user is in one context.
    Identity { context: String, identity: Identity },
    /// What the user may change in one namespace of one context.
    Access {
        context: String,
        namespace: String,
        access: Access,
    },
    /// The complete list of rollouts the watch currently sees in one context.
    Fleet {
        context: String,
        rollouts: Vec<RolloutView>,
    },
    /// Series for the rollout whose metrics were requested.
    Metrics(MetricsSnapshot),
    /// A command finished; the outcome says what it did.
    CommandDone(Outcome),
    /// A command was refused or failed; `error` says what, by whom, and what to do.
    CommandFailed { command: Command, error: String },
    /// The audit trail of one rollout (annotation, Events, journal), any order.
    Activity {
        rollout: RolloutRef,
        entries: Vec<ActivityEntry>,
    },
    /// The controller's AnalysisRuns of one rollout, newest first (read with its detail).
    AnalysisRuns {
        rollout: RolloutRef,
        runs: Vec<crate::model::AnalysisRunSummary>,
    },
    /// The revisions Undo can go back to, read when its dialog opened.
    Revisions {
        rollout: RolloutRef,
        result: Result<Revisions, String>,
    },
    /// The canary judge's latest verdict on one rollout.
    Verdict {
        rollout: RolloutRef,
        verdict: VerdictView,
    },
    /// Read-only mode switched on or off (flag or setting): every action is disabled.
    ReadOnly(bool),
    /// Since when (unix seconds) one rollout's metrics have been stale, or `None`: fresh.
    MetricsStale {
        rollout: RolloutRef,
        since_secs: Option<f64>,
    },
    /// A desktop notification about this rollout was clicked: open it.
    OpenRollout(RolloutRef),
    /// The user picked a kubeconfig file in the file dialog.
    KubeconfigPicked(PathBuf),
    /// An export was written.
    Exported { path: PathBuf },
    /// Something in the background went wrong that no command asked for; in full words.
    Problem(String),
    /// A neutral message for the toast area ("lab started on 127.0.0.1:…").
    Notice(String),
    /// The unsafe connections one origin found (`kubeconfig`, or `metrics/<context>`); an
    /// empty list clears that origin's. The status bar shows them by context.
    Security {
        origin: String,
        warnings: Vec<crate::model::SecurityWarning>,
    },
}

/// The kubeconfig files read and the contexts they define.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubeconfigInfo {
    /// Files that were read, in merge order.
    pub files: Vec<PathBuf>,
    /// Files looked for (KUBECONFIG, ~/.kube/config, extra files) — shown when none exists.
    pub searched: Vec<PathBuf>,
    pub contexts: Vec<String>,
    pub current: Option<String>,
}

/// Connection state of one context.
#[derive(Clone, Debug, PartialEq)]
pub enum ContextState {
    Connecting,
    Connected,
    /// Connected, but watching only `namespace` (the context's own): the user asked for all
    /// namespaces and the cluster said they may not list rollouts across them.
    ConnectedIn {
        namespace: String,
    },
    /// The API server does not answer (down, restarting): the watch tries again every few
    /// seconds by itself. `since_secs` (unix seconds) is when it stopped answering;
    /// `reason` the error in full, for a hover.
    Reconnecting {
        since_secs: f64,
        reason: String,
        retry_in_secs: u64,
    },
    /// The context cannot be used (refused, forbidden, bad entry); the backend retries by
    /// itself.
    Unreachable {
        reason: String,
        retry_in_secs: u64,
    },
}

/// The user as one cluster knows them.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    pub user: String,
    /// True when the API server confirmed it (SelfSubjectReview); false when it is only the
    /// kubeconfig's user name.
    pub verified: bool,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = if self.verified {
            "verified"
        } else {
            "unverified"
        };
        write!(f, "{} ({how})", self.user)
    }
}

/// Answers of SelfSubjectAccessReview for one (context, namespace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// `patch rollouts.argoproj.io` (spec: pause, resume, restart, undo).
    pub patch_rollouts: bool,
    /// `patch rollouts.argoproj.io/status` (promote, abort, retry, set-weight).
    pub patch_rollouts_status: bool,
    /// `patch httproutes.gateway.networking.k8s.io`: every verb of a weighted release.
    pub patch_httproutes: bool,
    /// `patch deployments.apps`: a weighted release's promote full and undo.
    pub patch_deployments: bool,
    /// `patch canaries.flagger.app` (a Flagger canary's spec, pins and audit annotation).
    pub patch_canaries: bool,
    /// `create services/proxy` (opening a Flagger load tester gate).
    pub create_service_proxy: bool,
}

impl Access {
    pub const ALL: Access = Access {
        patch_rollouts: true,
        patch_rollouts_status: true,
        patch_httproutes: true,
        patch_deployments: true,
        patch_canaries: true,
        create_service_proxy: true,
    };

    /// The permission `verb` on a release of `provider` needs that the user lacks, named as
    /// `kubectl auth can-i` names it, in the order the orchestrator checks them.
    pub fn missing_for(&self, provider: Provider, verb: Verb) -> Option<&'static str> {
        Permission::for_command(provider, verb)
            .iter()
            .find_map(|needed| match needed {
                Permission::PatchCanaries if !self.patch_canaries => {
                    Some("patch canaries.flagger.app")
                }
                Permission::CreateServiceProxy if !self.create_service_proxy => {
                    Some("create services/proxy")
                }
                Permission::PatchRolloutStatus if !self.patch_rollouts_status => {
                    Some("patch rollouts.argoproj.io/status")
                }
                Permission::PatchRollouts if !self.patch_rollouts => {
                    Some("patch rollouts.argoproj.io")
                }
                Permission::PatchHttpRoutes if !self.patch_httproutes => {
                    Some("patch httproutes.gateway.networking.k8s.io")
                }
                Permission::PatchDeployments if !self.patch_deployments => {
                    Some("patch deployments.apps")
                }
                _ => None,
            })
    }
}

/// One entry of a rollout's activity: who did what, when, and why — a command from the
/// cockpit's audit trail, or an Event the controller recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityEntry {
    /// Unix seconds.
    pub time_secs: f64,
    /// The person (or `auto`'s identity) for our entries; empty for the controller's.
    pub user: String,
    /// The verb in words (`promote`, `abort`, …) or the Event reason.
    pub verb: String,
    pub comment: Option<String>,
    /// Extra words: "step 1 → 2 (weight 40%)", the tool, the Event message.
    pub detail: String,
    /// Who recorded it: `release-cockpit`, `rollouts-controller`, `replicaset-controller`, …
    pub source: String,
    /// Recorded by the cockpit (a person or `auto`), not by the controller.
    pub ours: bool,
    /// A `Warning` Event (e.g. `RolloutAborted`).
    pub warning: bool,
}

impl ActivityEntry {
    /// Who, as the activity and the review say it: the person, else the component.
    pub fn who(&self) -> &str {
        if self.user.is_empty() {
            &self.source
        } else {
            &self.user
        }
    }
}

/// The canary judge's verdict (`analysis::Verdict`) as the window shows it: plain words.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictView {
    /// `pass`, `marginal`, `fail` or `no data`.
    pub verdict: String,
    /// Score 0–100.
    pub score: f64,
    /// Why, most important first.
    pub reasons: Vec<String>,
    /// One line per metric ("p95 101 ms vs stable 99 ms — within tolerance, pass").
    pub metrics: Vec<String>,
    /// Each metric's result (`pass`, `fail`, `no data`), in the order of `metrics`.
    pub metric_status: Vec<String>,
}

impl From<&crate::analysis::Verdict> for VerdictView {
    fn from(v: &crate::analysis::Verdict) -> VerdictView {
        VerdictView {
            verdict: v.kind.as_str().to_string(),
            score: v.score,
            reasons: v.reasons.clone(),
            metrics: v.metrics.iter().map(|m| m.summary.clone()).collect(),
            metric_status: v
                .metrics
                .iter()
                .map(|m| m.status.as_str().to_string())
                .collect(),
        }
    }
}

/// What the window asks the backend to do. The backend answers with `AppEvent`s.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendRequest {
    /// Run a command through the orchestration API (the same function as the CLI verb).
    Execute(Command),
    /// The settings changed (Prometheus per cluster, refresh interval, …): apply them.
    Configure(Box<Settings>),
    /// Read these kubeconfig files (empty: `KUBECONFIG` or `~/.kube/config`) plus extras.
    LoadKubeconfig { extra_files: Vec<PathBuf> },
    /// Watch rollouts in these contexts (all namespaces, or one) — replaces earlier watches.
    Watch {
        contexts: Vec<String>,
        namespace: Option<String>,
    },
    /// Stream metrics for this rollout (none: stop), keeping `window_secs` of history.
    WatchMetrics {
        rollout: Option<RolloutRef>,
        window_secs: u64,
    },
    /// Watch the activity (audit entries and the controller's Events) of this rollout (none:
    /// stop); answered by `AppEvent::Activity` after the first list and after every Event.
    WatchActivity(Option<RolloutRef>),
    /// Read this rollout's AnalysisRuns again; answered by `AppEvent::AnalysisRuns`.
    LoadAnalysis(RolloutRef),
    /// Read the revisions Undo can go back to; answered by `AppEvent::Revisions`.
    LoadRevisions(RolloutRef),
    /// The window saw a rollback's outcome: journal it beside the abort this window sent to
    /// that rollout, if it sent one.
    RecordRollback(crate::orchestrator::rollback::RollbackOutcome),
    /// Show a desktop notification; a click on it comes back as `AppEvent::OpenRollout`.
    Notify(crate::attention::Notice),
    /// Open a file dialog for a kubeconfig; answered by `AppEvent::KubeconfigPicked`.
    PickKubeconfig,
    /// Start the embedded lab and connect to it.
    StartLab,
    /// Ask where to save, then write `contents`, and each attachment (file name, contents)
    /// beside it (the review's SVG charts, referenced by those names); answered by
    /// `AppEvent::Exported`.
    Export {
        suggested_name: String,
        contents: String,
        attachments: Vec<(String, String)>,
    },
}

/// A rollout's revisions (its ReplicaSets, newest first) and the pod hash running now.
#[derive(Clone, Debug, PartialEq)]
pub struct Revisions {
    pub running_hash: Option<String>,
    pub replica_sets: Vec<crate::cluster::ReplicaSetInfo>,
}
