//! The only place the window does I/O: `BackendRequest`s are handled on tokio tasks and
//! answered with `AppEvent`s over a channel, followed by `request_repaint`. The UI thread
//! never awaits. Requests that need the cluster, metrics or orchestrator layers are answered
//! honestly as "not wired in this build" until those layers are connected here.

use super::events::{AppEvent, BackendRequest, KubeconfigInfo};
use crate::model::Command;
use std::path::PathBuf;
use std::sync::mpsc::Sender;

/// Where the window sends what it wants done. `TokioBackend` is the real one; tests may
/// record requests instead.
pub trait Backend {
    fn send(&self, request: BackendRequest);
}

/// Delivers events to the window and wakes it up. Cheap to clone into tasks.
#[derive(Clone)]
pub struct EventSink {
    events: Sender<AppEvent>,
    repaint: egui::Context,
}

impl EventSink {
    pub fn new(events: Sender<AppEvent>, repaint: egui::Context) -> EventSink {
        EventSink { events, repaint }
    }

    /// Send one event and ask for a frame. A closed window is not an error: the event is
    /// simply dropped.
    pub fn emit(&self, event: AppEvent) {
        if self.events.send(event).is_ok() {
            self.repaint.request_repaint();
        }
    }
}

/// The backend that runs requests on a tokio runtime.
pub struct TokioBackend {
    runtime: tokio::runtime::Handle,
    sink: EventSink,
    /// `--kubeconfig`: read this file instead of `KUBECONFIG` / `~/.kube/config`.
    explicit_kubeconfig: Option<PathBuf>,
}

impl TokioBackend {
    pub fn new(
        runtime: tokio::runtime::Handle,
        sink: EventSink,
        explicit_kubeconfig: Option<PathBuf>,
    ) -> TokioBackend {
        TokioBackend {
            runtime,
            sink,
            explicit_kubeconfig,
        }
    }

    fn execute(&self, command: Command) {
        // Phase 2: `orchestrator::execute(&client, &command)` on a task, answered with
        // `CommandDone(outcome)` or `CommandFailed { command, error }`.
        let error = format!(
            "{} {} was not sent: this build of the window is not connected to the \
             orchestration API yet; use `release-cockpit {}` from a terminal",
            command.action.verb(),
            command.target,
            command.action.verb()
        );
        self.sink.emit(AppEvent::CommandFailed { command, error });
    }

    fn load_kubeconfig(&self, extra_files: Vec<PathBuf>) {
        let sink = self.sink.clone();
        let explicit = self.explicit_kubeconfig.clone();
        self.runtime.spawn_blocking(move || {
            sink.emit(AppEvent::Kubeconfig(read_kubeconfigs(
                explicit.as_ref(),
                &extra_files,
            )));
        });
    }

    fn pick_kubeconfig(&self) {
        let sink = self.sink.clone();
        self.runtime.spawn(async move {
            let picked = rfd::AsyncFileDialog::new()
                .set_title("Open kubeconfig")
                .pick_file()
                .await;
            if let Some(file) = picked {
                sink.emit(AppEvent::KubeconfigPicked(file.path().to_path_buf()));
            }
        });
    }

    fn export(&self, suggested_name: String, contents: String) {
        let sink = self.sink.clone();
        self.runtime.spawn(async move {
            let Some(file) = rfd::AsyncFileDialog::new()
                .set_title("Export")
                .set_file_name(&suggested_name)
                .save_file()
                .await
            else {
                return;
            };
            let path = file.path().to_path_buf();
            match tokio::fs::write(&path, contents).await {
                Ok(()) => sink.emit(AppEvent::Exported { path }),
                Err(e) => sink.emit(AppEvent::Problem(format!(
                    "could not write the export to {}: {e}; choose another folder",
                    path.display()
                ))),
            }
        });
    }
}

impl Backend for TokioBackend {
    fn send(&self, request: BackendRequest) {
        match request {
            BackendRequest::Execute(command) => self.execute(command),
            BackendRequest::LoadKubeconfig { extra_files } => self.load_kubeconfig(extra_files),
            BackendRequest::PickKubeconfig => self.pick_kubeconfig(),
            BackendRequest::Export {
                suggested_name,
                contents,
            } => self.export(suggested_name, contents),
            BackendRequest::StartLab => self.sink.emit(AppEvent::Problem(
                "the lab is not connected to this build of the window yet; run \
                 `release-cockpit lab` in a terminal and open the kubeconfig it writes"
                    .into(),
            )),
            // Phase 2: cluster watches, metrics streams, the audit trail and settings are
            // handed to their layers here.
            BackendRequest::Watch { .. }
            | BackendRequest::WatchMetrics { .. }
            | BackendRequest::LoadActivity(_)
            | BackendRequest::Configure(_) => {
                tracing::debug!(?request, "not wired to a layer in this build");
            }
        }
    }
}

/// The kubeconfig files kubectl would read: `explicit`, else `KUBECONFIG` (colon-separated),
/// else `~/.kube/config`; then the extra files from the settings.
pub fn kubeconfig_paths(explicit: Option<&PathBuf>, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.clone()],
        None => match std::env::var_os("KUBECONFIG") {
            Some(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
            _ => directories::BaseDirs::new()
                .map(|d| vec![d.home_dir().join(".kube").join("config")])
                .unwrap_or_default(),
        },
    };
    for p in extra {
        if !paths.contains(p) {
            paths.push(p.clone());
        }
    }
    paths
}

/// Read and merge the kubeconfig files; missing files are skipped (kubectl does the same),
/// unreadable ones are reported as a problem but do not hide the others.
pub fn read_kubeconfigs(explicit: Option<&PathBuf>, extra: &[PathBuf]) -> KubeconfigInfo {
    let searched = kubeconfig_paths(explicit, extra);
    let mut info = KubeconfigInfo {
        searched: searched.clone(),
        ..KubeconfigInfo::default()
    };
    for path in searched.iter().filter(|p| p.exists()) {
        match kube::config::Kubeconfig::read_from(path) {
            Ok(config) => {
                info.files.push(path.clone());
                if info.current.is_none() {
                    info.current = config.current_context.clone();
                }
                for ctx in config.contexts {
                    if !info.contexts.contains(&ctx.name) {
                        info.contexts.push(ctx.name);
                    }
                }
            }
            Err(e) => tracing::warn!("kubeconfig {} unreadable: {e}", path.display()),
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_merges_kubeconfig_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(
            &a,
            "apiVersion: v1\nkind: Config\ncurrent-context: lab-admin\nclusters: []\nusers: []\n\
             contexts:\n- name: lab-admin\n  context: {cluster: lab, user: admin}\n\
             - name: lab-viewer\n  context: {cluster: lab, user: viewer}\n",
        )
        .expect("write a");
        std::fs::write(
            &b,
            "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n\
             contexts:\n- name: prod\n  context: {cluster: prod, user: me}\n",
        )
        .expect("write b");
        let missing = dir.path().join("missing.yaml");
        let info = read_kubeconfigs(Some(&a), &[b.clone(), missing.clone()]);
        assert_eq!(info.contexts, ["lab-admin", "lab-viewer", "prod"]);
        assert_eq!(info.current.as_deref(), Some("lab-admin"));
        assert_eq!(info.files, [a.clone(), b]);
        assert_eq!(info.searched.len(), 3);

        let none = read_kubeconfigs(Some(&missing), &[]);
        assert!(none.files.is_empty() && none.contexts.is_empty());
        assert_eq!(none.searched, [missing]);
    }
}
