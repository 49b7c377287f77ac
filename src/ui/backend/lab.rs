//! "Start the lab" and `--lab`: the embedded lab started on the window's runtime, its
//! kubeconfig read first (so `lab-admin` is the current context), stopped with the window.

use super::{Shared, lock};
use crate::lab::{Lab, LabOptions, PrometheusMode};
use crate::ui::events::AppEvent;
use std::path::PathBuf;
use std::sync::Arc;

/// The lab this window started.
pub enum LabState {
    Starting,
    Running(Box<Lab>),
}

/// Start the lab (once) and connect the window to it.
pub fn start(shared: &Arc<Shared>) {
    {
        let mut lab = lock(&shared.lab);
        if let Some(state) = lab.as_ref() {
            let text = match state {
                LabState::Starting => "the lab is starting…".to_string(),
                LabState::Running(lab) => format!("the lab already runs at {}", lab.api_url),
            };
            shared.sink.emit(AppEvent::Notice(text));
            return;
        }
        *lab = Some(LabState::Starting);
    }
    let shared = Arc::clone(shared);
    shared.runtime.clone().spawn(async move {
        let dir = lab_dir();
        remove_orphaned_lab_dirs(&dir);
        let options = LabOptions {
            dir: Some(dir.clone()),
            // A real Prometheus when one is installed, the lab's own /metrics otherwise.
            prometheus: PrometheusMode::Auto,
            ..LabOptions::default()
        };
        match Lab::start(options).await {
            Ok(lab) => {
                let Some(kubeconfig) = lab.kubeconfig_path.clone() else {
                    *lock(&shared.lab) = None;
                    shared.sink.emit(AppEvent::Problem(format!(
                        "the lab started but wrote no kubeconfig into {}",
                        dir.display()
                    )));
                    lab.shutdown().await;
                    return;
                };
                let metrics = lab
                    .prometheus_url
                    .clone()
                    .map_or_else(|| lab.metrics_url.clone(), |p| format!("Prometheus {p}"));
                shared.sink.emit(AppEvent::Notice(format!(
                    "lab started: API {}, metrics from {metrics}, kubeconfig {}",
                    lab.api_url,
                    kubeconfig.display()
                )));
                *lock(&shared.lab_kubeconfig) = Some(kubeconfig);
                *lock(&shared.lab) = Some(LabState::Running(Box::new(lab)));
                Shared::reload(&shared);
            }
            Err(e) => {
                *lock(&shared.lab) = None;
                shared
                    .sink
                    .emit(AppEvent::Problem(format!("the lab did not start: {e}")));
            }
        }
    });
}

/// Stop the lab with the window: waits for it when called outside the runtime (the window
/// closing on the main thread), else hands the shutdown to the runtime.
pub fn stop(shared: &Shared) {
    let Some(LabState::Running(lab)) = lock(&shared.lab).take() else {
        return;
    };
    let dir = lab
        .kubeconfig_path
        .as_ref()
        .and_then(|p| p.parent())
        .map(PathBuf::from);
    let shutdown = async move {
        lab.shutdown().await;
        if let Some(dir) = dir {
            // Only the files the lab wrote live here (kubeconfig, ca.crt, lab.json).
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        shared.runtime.spawn(shutdown);
    } else {
        shared.runtime.block_on(shutdown);
    }
}

/// Windows killed without closing leave their `lab-PID` directory behind; remove those
/// whose process is gone (Linux: no `/proc/PID`). Best effort: a failure only leaves files.
fn remove_orphaned_lab_dirs(own: &std::path::Path) {
    let Some(parent) = own.parent() else { return };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("lab-")) else {
            continue;
        };
        let gone = pid.parse::<u32>().is_ok()
            && std::path::Path::new("/proc/self").exists()
            && !std::path::Path::new("/proc").join(pid).exists();
        if gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A directory of this process's own: two windows with `--lab` never share a kubeconfig.
fn lab_dir() -> PathBuf {
    let base = directories::ProjectDirs::from("io", "release-cockpit", "release-cockpit")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("lab-{}", std::process::id()))
}
