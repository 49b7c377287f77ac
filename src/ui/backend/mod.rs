//! The only place the window does I/O: `BackendRequest`s are handled on tokio tasks and
//! answered with `AppEvent`s over a channel, followed by `request_repaint`. The UI thread
//! never awaits: a context per task (`fleet`), commands through `orchestrator::execute`
//! (`commands`), the kubeconfig files (`kubeconfig`), who the user is (`trust`), the
//! selected rollout's metrics (`metrics`) and activity (`trust`), the embedded lab (`lab`),
//! desktop notifications (`notify`), every rollout's verdict per context (`verdicts`).

mod analysis;
mod commands;
mod fleet;
mod kubeconfig;
mod lab;
mod metrics;
mod notify;
mod revisions;
mod trust;
mod verdicts;

pub use fleet::retry_estimate_secs;
pub use kubeconfig::{MergedKubeconfig, kubeconfig_paths, read_kubeconfigs};

use super::events::{AppEvent, BackendRequest};
use super::settings::Settings;
use crate::model::RolloutRef;
use crate::orchestrator::{ExecuteOptions, Journal};
use fleet::{Current, FleetViews, Watches};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};

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
    shared: Arc<Shared>,
}

/// What the tasks share: the sink, the kubeconfig in use, the running watches.
struct Shared {
    runtime: tokio::runtime::Handle,
    sink: EventSink,
    /// `--kubeconfig`: read this file instead of `KUBECONFIG` / `~/.kube/config`.
    explicit_kubeconfig: Option<PathBuf>,
    /// The lab's kubeconfig once the lab runs: read first, so its current context wins.
    lab_kubeconfig: Mutex<Option<PathBuf>>,
    /// Extra kubeconfig files from the settings, as last asked for.
    extra_files: Mutex<Vec<PathBuf>>,
    /// Bumped on every kubeconfig load; a slower, older load never replaces a newer one.
    generation: AtomicU64,
    current: Mutex<Option<Current>>,
    watches: Mutex<Watches>,
    fleet: FleetViews,
    /// The window's settings as last configured (cluster metrics settings, refresh tick).
    settings: Mutex<Settings>,
    /// The selected rollout's metrics task; aborted when the selection changes.
    metrics_task: Mutex<Option<MetricsStream>>,
    /// The rollout whose metrics task judges it; the fleet's verdict tasks leave it alone so
    /// that one verdict (the selected feed's) is shown for it, not two alternating.
    selected: verdicts::Selected,
    /// This window's aborts by rollout, for journaling their rollback's outcome.
    aborts: commands::SentAborts,
    /// The selected rollout's activity watch; aborted when the selection changes.
    activity_task: Mutex<Option<tokio::task::AbortHandle>>,
    /// The lab this window started (`--lab`, "Start the lab").
    lab: Mutex<Option<lab::LabState>>,
    /// Identity and permission answers per context.
    trust: Arc<trust::Trust>,
    /// Desktop notifications (connected on first use).
    notifier: notify::Notifier,
    /// The fleet verdict task of each watched context (`verdicts`), with the kubeconfig
    /// generation it runs with.
    verdict_tasks: Mutex<std::collections::HashMap<String, (u64, tokio::task::AbortHandle)>>,
    options: BackendOptions,
}

/// How the backend runs commands, beyond the settings.
#[derive(Clone, Debug, Default)]
pub struct BackendOptions {
    /// `--read-only`: the orchestrator refuses every change, whatever the settings say.
    pub read_only: bool,
    /// Where commands are journaled; `None` is the user's journal (tests give their own).
    pub journal: Option<Journal>,
}

/// The running metrics task and what it streams.
struct MetricsStream {
    rollout: RolloutRef,
    window_secs: u64,
    task: tokio::task::AbortHandle,
}

/// A poisoned lock only means another task panicked mid-update; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TokioBackend {
    pub fn new(
        runtime: tokio::runtime::Handle,
        sink: EventSink,
        explicit_kubeconfig: Option<PathBuf>,
    ) -> TokioBackend {
        TokioBackend::with_options(
            runtime,
            sink,
            explicit_kubeconfig,
            BackendOptions::default(),
        )
    }

    pub fn with_options(
        runtime: tokio::runtime::Handle,
        sink: EventSink,
        explicit_kubeconfig: Option<PathBuf>,
        options: BackendOptions,
    ) -> TokioBackend {
        let fleet = FleetViews::default();
        let trust = Arc::<trust::Trust>::default();
        let watches = Watches::new(runtime.clone(), sink.clone(), fleet.clone(), trust.clone());
        TokioBackend {
            shared: Arc::new(Shared {
                runtime,
                sink,
                explicit_kubeconfig,
                lab_kubeconfig: Mutex::new(None),
                extra_files: Mutex::new(Vec::new()),
                generation: AtomicU64::new(0),
                current: Mutex::new(None),
                watches: Mutex::new(watches),
                fleet,
                settings: Mutex::new(Settings::default()),
                metrics_task: Mutex::new(None),
                selected: verdicts::Selected::default(),
                activity_task: Mutex::new(None),
                aborts: commands::SentAborts::default(),
                lab: Mutex::new(None),
                trust,
                notifier: notify::Notifier::default(),
                verdict_tasks: Mutex::default(),
                options,
            }),
        }
    }

    /// Commands that an earlier run sent but never saw the answer to (the process stopped
    /// between the journal's intent and its outcome): reported once, then closed.
    pub fn report_unfinished_commands(&self) {
        let sink = self.shared.sink.clone();
        let journal = self.shared.options.journal.clone();
        self.shared.runtime.spawn_blocking(move || {
            for text in commands::unfinished_from_earlier_runs(journal) {
                sink.emit(AppEvent::Problem(text));
            }
        });
    }

    fn execute(&self, command: crate::model::Command) {
        let shared = &self.shared;
        let settings = lock(&shared.settings).clone();
        let job = commands::CommandJob {
            sink: shared.sink.clone(),
            current: lock(&shared.current).clone(),
            trust: shared.trust.clone(),
            options: ExecuteOptions {
                read_only: shared.options.read_only || settings.read_only,
                require_comment: settings.require_approval_comment,
                journal: shared.options.journal.clone(),
                ..ExecuteOptions::default()
            },
            command,
            aborts: shared.aborts.clone(),
        };
        shared.runtime.spawn(commands::execute(job));
    }

    /// One read for `rollout` on the runtime, with a client of its context: `read` sends its
    /// answer; `no_client` says why there was no client.
    fn read_for<F, Fut>(
        &self,
        rollout: RolloutRef,
        read: F,
        no_client: impl FnOnce(RolloutRef, String) -> AppEvent + Send + 'static,
    ) where
        F: FnOnce(EventSink, kube::Client, RolloutRef) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let Some(current) = lock(&self.shared.current).clone() else {
            return;
        };
        let sink = self.shared.sink.clone();
        self.shared.runtime.spawn(async move {
            match current.kubeconfig.client(&rollout.context).await {
                Ok(client) => read(sink, client, rollout).await,
                Err(e) => sink.emit(no_client(rollout, e.to_string())),
            }
        });
    }

    /// Read `rollout`'s AnalysisRuns once more (a running one measures on its own).
    fn load_analysis(&self, rollout: RolloutRef) {
        self.read_for(
            rollout,
            |sink, client, rollout| async move {
                analysis::load_analysis_runs(&sink, &client, rollout).await
            },
            |_, error| AppEvent::Problem(error),
        );
    }

    /// Read the revisions Undo can go back to (its dialog just opened).
    fn load_revisions(&self, rollout: RolloutRef) {
        self.read_for(
            rollout,
            |sink, client, rollout| async move {
                revisions::load_revisions(&sink, &client, rollout).await
            },
            |rollout, error| AppEvent::Revisions {
                rollout,
                result: Err(error),
            },
        );
    }

    /// Watch the activity of `rollout` (none: stop); the previous watch stops first.
    fn watch_activity(&self, rollout: Option<RolloutRef>) {
        let mut task = lock(&self.shared.activity_task);
        if let Some(previous) = task.take() {
            previous.abort();
        }
        let (Some(rollout), Some(current)) = (rollout, lock(&self.shared.current).clone()) else {
            return;
        };
        let sink = self.shared.sink.clone();
        let watch = self.shared.runtime.spawn(async move {
            match current.kubeconfig.client(&rollout.context).await {
                Ok(client) => {
                    analysis::load_analysis_runs(&sink, &client, rollout.clone()).await;
                    trust::watch_activity(&sink, client, rollout).await
                }
                Err(e) => sink.emit(AppEvent::Problem(e.to_string())),
            }
        });
        *task = Some(watch.abort_handle());
    }

    fn load_kubeconfig(&self, extra_files: Vec<PathBuf>) {
        *lock(&self.shared.extra_files) = extra_files;
        Shared::reload(&self.shared);
    }

    fn watch(&self, contexts: Vec<String>, namespace: Option<String>) {
        let shared = &self.shared;
        let Some(current) = lock(&shared.current).clone() else {
            // Nothing loaded yet: the window asks again once the kubeconfig event arrives.
            return;
        };
        lock(&shared.watches).set(&current, &contexts, namespace);
        self.judge_fleet(&current, &contexts, false);
    }

    /// One fleet verdict task per context in `contexts` (`restart`: the settings changed).
    fn judge_fleet(&self, current: &Current, contexts: &[String], restart: bool) {
        let shared = &self.shared;
        let mut tasks = lock(&shared.verdict_tasks);
        tasks.retain(|context, (generation, task)| {
            let keep = !restart && contexts.contains(context) && *generation == current.generation;
            if !keep {
                task.abort();
            }
            keep
        });
        for context in contexts {
            if tasks.contains_key(context) {
                continue;
            }
            let job = verdicts::VerdictsJob {
                sink: shared.sink.clone(),
                current: current.clone(),
                fleet: shared.fleet.clone(),
                settings: lock(&shared.settings).clone(),
                context: context.clone(),
                selected: shared.selected.clone(),
            };
            let task = shared.runtime.spawn(verdicts::judge_fleet(job));
            tasks.insert(context.clone(), (current.generation, task.abort_handle()));
        }
    }

    /// Stream the metrics of `rollout` (none: stop); the previous stream stops first.
    fn watch_metrics(&self, rollout: Option<RolloutRef>, window_secs: u64) {
        let shared = &self.shared;
        let mut task = lock(&shared.metrics_task);
        if let Some(previous) = task.take() {
            previous.task.abort();
        }
        *lock(&shared.selected) = rollout.clone().filter(|_| lock(&shared.current).is_some());
        let (Some(rollout), Some(current)) = (rollout, lock(&shared.current).clone()) else {
            return;
        };
        let job = metrics::MetricsJob {
            sink: shared.sink.clone(),
            current,
            fleet: shared.fleet.clone(),
            settings: lock(&shared.settings).clone(),
            rollout: rollout.clone(),
            window_secs,
        };
        *task = Some(MetricsStream {
            rollout,
            window_secs,
            task: shared
                .runtime
                .spawn(metrics::stream_metrics(job))
                .abort_handle(),
        });
    }

    /// New settings: kept for the next metrics stream; a running one restarts with them.
    fn configure(&self, settings: Settings) {
        let changed = {
            let mut kept = lock(&self.shared.settings);
            let changed =
                kept.clusters != settings.clusters || kept.refresh_secs != settings.refresh_secs;
            *kept = settings;
            changed
        };
        if changed && let Some(current) = lock(&self.shared.current).clone() {
            let contexts: Vec<String> = lock(&self.shared.verdict_tasks).keys().cloned().collect();
            self.judge_fleet(&current, &contexts, true);
        }
        let running = lock(&self.shared.metrics_task)
            .as_ref()
            .map(|m| (m.rollout.clone(), m.window_secs));
        if let (true, Some((rollout, window_secs))) = (changed, running) {
            self.watch_metrics(Some(rollout), window_secs);
        }
    }

    fn pick_kubeconfig(&self) {
        let sink = self.shared.sink.clone();
        self.shared.runtime.spawn(async move {
            let picked = rfd::AsyncFileDialog::new()
                .set_title("Open kubeconfig")
                .pick_file()
                .await;
            if let Some(file) = picked {
                sink.emit(AppEvent::KubeconfigPicked(file.path().to_path_buf()));
            }
        });
    }

    fn export(&self, suggested_name: String, contents: String, attachments: Vec<(String, String)>) {
        let sink = self.shared.sink.clone();
        self.shared.runtime.spawn(async move {
            let Some(file) = rfd::AsyncFileDialog::new()
                .set_title("Export")
                .set_file_name(&suggested_name)
                .save_file()
                .await
            else {
                return;
            };
            let path = file.path().to_path_buf();
            let dir = path
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            let mut written = tokio::fs::write(&path, contents)
                .await
                .map_err(|e| (path.clone(), e));
            for (name, text) in attachments {
                if written.is_err() {
                    break;
                }
                let beside = dir.join(name);
                written = tokio::fs::write(&beside, text)
                    .await
                    .map_err(|e| (beside, e));
            }
            match written {
                Ok(()) => sink.emit(AppEvent::Exported { path }),
                Err((failed, e)) => sink.emit(AppEvent::Problem(format!(
                    "could not write the export to {}: {e}; choose another folder",
                    failed.display()
                ))),
            }
        });
    }
}

impl Shared {
    /// Read the kubeconfig files again (off the UI thread) and tell the window; the window
    /// answers with the contexts to watch.
    fn reload(shared: &Arc<Shared>) {
        let generation = shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let shared = Arc::clone(shared);
        shared.runtime.clone().spawn_blocking(move || {
            let lab = lock(&shared.lab_kubeconfig).clone();
            let extra = lock(&shared.extra_files).clone();
            let merged =
                read_kubeconfigs(lab.as_ref(), shared.explicit_kubeconfig.as_ref(), &extra);
            let insecure = merged.loaded.security_warnings().to_vec();
            {
                let mut current = lock(&shared.current);
                if current.as_ref().is_some_and(|c| c.generation > generation) {
                    return;
                }
                *current = Some(Current {
                    generation,
                    kubeconfig: Arc::new(merged.loaded),
                });
            }
            for problem in merged.problems {
                shared.sink.emit(AppEvent::Problem(problem));
            }
            shared.sink.emit(AppEvent::Kubeconfig(merged.info));
            shared.sink.emit(AppEvent::Security {
                origin: "kubeconfig".into(),
                warnings: insecure,
            });
        });
    }
}

impl Drop for TokioBackend {
    fn drop(&mut self) {
        lock(&self.shared.watches).stop_all();
        if let Some(metrics) = lock(&self.shared.metrics_task).take() {
            metrics.task.abort();
        }
        if let Some(activity) = lock(&self.shared.activity_task).take() {
            activity.abort();
        }
        for (_, (_, task)) in lock(&self.shared.verdict_tasks).drain() {
            task.abort();
        }
        lab::stop(&self.shared);
    }
}

impl Backend for TokioBackend {
    fn send(&self, request: BackendRequest) {
        match request {
            BackendRequest::Execute(command) => self.execute(command),
            BackendRequest::LoadKubeconfig { extra_files } => self.load_kubeconfig(extra_files),
            BackendRequest::Watch {
                contexts,
                namespace,
            } => self.watch(contexts, namespace),
            BackendRequest::PickKubeconfig => self.pick_kubeconfig(),
            BackendRequest::Notify(notice) => {
                self.shared
                    .notifier
                    .send(&self.shared.runtime, self.shared.sink.clone(), notice)
            }
            BackendRequest::Export {
                suggested_name,
                contents,
                attachments,
            } => self.export(suggested_name, contents, attachments),
            BackendRequest::StartLab => lab::start(&self.shared),
            BackendRequest::WatchMetrics {
                rollout,
                window_secs,
            } => self.watch_metrics(rollout, window_secs),
            BackendRequest::Configure(settings) => self.configure(*settings),
            BackendRequest::WatchActivity(rollout) => self.watch_activity(rollout),
            BackendRequest::LoadAnalysis(rollout) => self.load_analysis(rollout),
            BackendRequest::LoadRevisions(rollout) => self.load_revisions(rollout),
            BackendRequest::RecordRollback(done) => {
                let journal = self.shared.options.journal.clone();
                let aborts = self.shared.aborts.clone();
                self.shared.runtime.spawn_blocking(move || {
                    commands::record_rollback(journal, &aborts, &done);
                });
            }
        }
    }
}
