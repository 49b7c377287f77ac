//! Applying events from the backend and handling the window's own commands, in one place.
//! The keys are in `keys.rs`, the inbox in `inbox.rs`, notifications in `notify.rs`.

use super::{AppState, CockpitApp, ContextStatus, MetricsState, SessionAction, UiCommand};
use crate::model::{RolloutRef, RolloutView};
use crate::orchestrator::rollback::RollbackOutcome;
use crate::ui::dialogs::Dialog;
use crate::ui::events::{AppEvent, BackendRequest, ContextState};
use crate::ui::export;
use crate::ui::fleet;
use crate::ui::rollback::RollbackTracker;
use crate::ui::rollout::{actions, flagger_actions};
use crate::ui::theme::now_secs;
use crate::ui::timeline;
use crate::ui::toasts::ToastKind;

/// How often a running analysis is re-read for the panel, in seconds.
pub const ANALYSIS_REFRESH_SECS: f64 = 15.0;

/// Metrics history the backend keeps for the plots.
pub(super) const METRICS_WINDOW_SECS: u64 = 3600;

impl CockpitApp {
    /// Apply every event that arrived since the last frame.
    pub(super) fn drain_events(&mut self, ctx: &egui::Context) {
        let mut any = false;
        while let Ok(event) = self.events.try_recv() {
            any = true;
            let requests = self.state.apply_event(event);
            for r in requests {
                self.backend.send(r);
            }
        }
        if any {
            self.state.refresh_inbox();
        }
        for r in self.state.tick_rollbacks(now_secs()) {
            self.backend.send(r);
        }
        for r in self.state.notify_tick(now_secs()) {
            self.backend.send(r);
        }
        if let Some(request) = self.state.refresh_analysis(now_secs()) {
            self.backend.send(request);
        }
        let theme = self.state.settings.theme_preference();
        if self.applied_theme != Some(theme) {
            ctx.set_theme(theme);
            self.applied_theme = Some(theme);
        }
    }

    /// Handle what the frame asked for: local changes and requests to the backend.
    pub(super) fn handle_commands(&mut self) {
        let commands = std::mem::take(&mut self.pending);
        if commands.is_empty() {
            return;
        }
        for command in commands {
            for request in self.state.handle(command) {
                self.backend.send(request);
            }
        }
        self.state.refresh_inbox();
    }

    /// Idle, repaint only on the refresh tick (ages, countdowns); events wake us earlier.
    pub(super) fn schedule_repaint(&self, ctx: &egui::Context) {
        let secs = self.state.settings.refresh_secs.max(1);
        ctx.request_repaint_after(std::time::Duration::from_secs(u64::from(secs)));
    }
}

impl AppState {
    pub fn gate_input<'a>(&'a self, view: &'a RolloutView) -> actions::GateInput<'a> {
        actions::GateInput {
            view,
            access: self.access_for(&view.reference),
            read_only: self.read_only,
            user: self
                .contexts
                .get(&view.reference.context)
                .and_then(|c| c.identity.as_ref())
                .map(|i| i.user.as_str()),
            load_testers: flagger_actions::load_testers(view, |namespace| {
                self.access
                    .get(&(view.reference.context.clone(), namespace.to_string()))
                    .copied()
            }),
        }
    }

    /// The markers of a rollout: changes this window saw, its audit trail and the controller's
    /// Events, oldest first.
    pub fn markers_for(&self, r: &RolloutRef) -> Vec<timeline::Marker> {
        let mut markers: Vec<timeline::Marker> = self.markers.get(r).cloned().unwrap_or_default();
        if let Some(entries) = self.activity.get(r) {
            markers.extend(timeline::activity_markers(entries));
        }
        markers.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
        markers
    }

    /// The rows of the fleet table as shown now.
    pub fn visible_rows(&self) -> Vec<&RolloutView> {
        fleet::visible_rows(
            &self.fleet,
            |c| self.contexts.get(c).is_none_or(|s| s.watched),
            &self.filter,
            &self.verdicts,
            now_secs(),
        )
    }

    /// The contexts whose API server does not answer now, with since when: their fleet
    /// rows are as last seen.
    pub fn stale_contexts(&self) -> std::collections::HashMap<String, f64> {
        self.contexts
            .iter()
            .filter_map(|(name, status)| match &status.state {
                ContextState::Reconnecting { since_secs, .. } => Some((name.clone(), *since_secs)),
                _ => None,
            })
            .collect()
    }

    /// The selected rollout's AnalysisRuns change without the rollout changing (a Running
    /// run measures; an update starts a new run): while it has a running run or an update
    /// in progress, re-read them every [`ANALYSIS_REFRESH_SECS`].
    pub fn refresh_analysis(&mut self, now: f64) -> Option<BackendRequest> {
        let selected = self.selected.clone()?;
        let running = self
            .analysis_runs
            .get(&selected)
            .is_some_and(|runs| runs.iter().any(|r| r.phase == "Running"));
        let in_progress = self.selected_view().is_some_and(|v| v.in_progress());
        if !(running || in_progress) || now - self.analysis_read_at < ANALYSIS_REFRESH_SECS {
            return None;
        }
        self.analysis_read_at = now;
        Some(BackendRequest::LoadAnalysis(selected))
    }

    /// Apply one event; returns requests the backend should get in answer.
    pub fn apply_event(&mut self, event: AppEvent) -> Vec<BackendRequest> {
        let now = now_secs();
        match event {
            AppEvent::Kubeconfig(info) => {
                let wanted = self
                    .wanted_context
                    .clone()
                    .or_else(|| info.current.clone())
                    .or_else(|| info.contexts.first().cloned());
                for name in &info.contexts {
                    self.contexts
                        .entry(name.clone())
                        .or_insert_with(|| ContextStatus {
                            state: ContextState::Connecting,
                            since_secs: now,
                            identity: None,
                            watched: wanted.as_deref() == Some(name.as_str()),
                        });
                }
                self.kubeconfig = Some(info);
                return vec![self.watch_request()];
            }
            AppEvent::ContextState { context, state } => {
                let entry = self.context_entry(&context, now);
                entry.state = state;
                entry.since_secs = now;
            }
            AppEvent::Identity { context, identity } => {
                self.context_entry(&context, now).identity = Some(identity);
            }
            AppEvent::Access {
                context,
                namespace,
                access,
            } => {
                self.access.insert((context, namespace), access);
            }
            AppEvent::Fleet { context, rollouts } => {
                // The activity watch sees what others (another window, the CLI, `auto`, the
                // controller) record, whether or not the rollout moved.
                let mut requests = self.apply_fleet(context.clone(), rollouts, now);
                requests.extend(self.notify_fleet(&context, now));
                return requests;
            }
            AppEvent::Metrics(snapshot) => {
                if self.selected.as_ref() == Some(&snapshot.rollout) {
                    self.metrics = MetricsState::Received(snapshot);
                }
            }
            AppEvent::CommandDone(outcome) => {
                let kind = if outcome.changed {
                    ToastKind::Success
                } else {
                    ToastKind::Info
                };
                let text = format!("{}: {}", outcome.rollout, outcome.summary);
                self.record(&outcome.rollout, text.clone(), now);
                self.toasts.push(kind, text);
            }
            AppEvent::CommandFailed { command, error } => {
                self.record(
                    &command.target,
                    format!("{} refused: {error}", command.action.verb()),
                    now,
                );
                self.toasts.push(ToastKind::Error, error);
            }
            AppEvent::Activity {
                rollout,
                mut entries,
            } => {
                if let Some(notes) = self.rollback_notes.get(&rollout) {
                    entries.extend(notes.iter().cloned());
                }
                self.activity.insert(rollout, entries);
            }
            AppEvent::AnalysisRuns { rollout, runs } => {
                if self.selected.as_ref() == Some(&rollout) {
                    self.analysis_read_at = now;
                }
                self.analysis_runs.insert(rollout, runs);
            }
            AppEvent::Revisions { rollout, result } => {
                if let Some(Dialog::Undo(undo)) = self.dialog.as_mut()
                    && undo.command.target == rollout
                {
                    undo.revisions_read(result);
                }
            }
            AppEvent::Verdict { rollout, verdict } => {
                self.remember_verdict(&rollout, &verdict, now);
                self.verdicts.insert(rollout.clone(), verdict);
                return self.notify_verdict(&rollout, now);
            }
            AppEvent::OpenRollout(rollout) => return self.select(rollout),
            AppEvent::MetricsStale {
                rollout,
                since_secs,
            } => match since_secs {
                Some(since) => {
                    self.metrics_stale.insert(rollout, since);
                }
                None => {
                    self.metrics_stale.remove(&rollout);
                }
            },
            AppEvent::ReadOnly(on) => self.read_only = on || self.settings.read_only,
            AppEvent::KubeconfigPicked(path) => {
                if !self.settings.extra_kubeconfigs.contains(&path) {
                    self.settings.extra_kubeconfigs.push(path);
                }
                return vec![BackendRequest::LoadKubeconfig {
                    extra_files: self.settings.extra_kubeconfigs.clone(),
                }];
            }
            AppEvent::Exported { path } => self.toasts.push(
                ToastKind::Success,
                format!("exported to {}", path.display()),
            ),
            AppEvent::Problem(text) => self.toasts.push(ToastKind::Error, text),
            AppEvent::Notice(text) => self.toasts.push(ToastKind::Info, text),
            AppEvent::Security { origin, warnings } => {
                if warnings.is_empty() {
                    self.security.remove(&origin);
                } else {
                    self.security.insert(origin, warnings);
                }
            }
        }
        Vec::new()
    }

    fn context_entry(&mut self, context: &str, now: f64) -> &mut ContextStatus {
        self.contexts
            .entry(context.to_string())
            .or_insert_with(|| ContextStatus {
                state: ContextState::Connecting,
                since_secs: now,
                identity: None,
                watched: true,
            })
    }

    /// Rollbacks in time: stuck once their minute is over, though no new view came.
    pub fn tick_rollbacks(&mut self, now: f64) -> Vec<BackendRequest> {
        let reached: Vec<_> = self
            .rollbacks
            .iter_mut()
            .filter_map(|(r, t)| t.tick(now).map(|done| (r.clone(), done)))
            .collect();
        reached
            .into_iter()
            .map(|(r, done)| self.note_rollback(&r, done, now))
            .collect()
    }

    /// Follow the rollback of every aborted rollout in `rollouts`; a retried one is dropped.
    fn track_rollbacks(&mut self, rollouts: &[RolloutView], now: f64) -> Vec<BackendRequest> {
        let mut requests = Vec::new();
        for view in rollouts {
            let r = &view.reference;
            if !view.aborted {
                self.rollbacks.remove(r);
                continue;
            }
            // Seen before this abort: the fleet watch delivered every change since.
            let watched = self
                .fleet
                .get(&r.context)
                .and_then(|old| old.iter().find(|o| &o.reference == r))
                .is_some_and(|o| !o.aborted || o.aborted_at != view.aborted_at);
            let tracker = self
                .rollbacks
                .entry(r.clone())
                .and_modify(|t| {
                    if t.aborted_at != view.aborted_at && view.aborted_at.is_some() {
                        // Retried and aborted again between two views: a new rollback.
                        *t = RollbackTracker::start(view, now, true);
                    }
                })
                .or_insert_with(|| RollbackTracker::start(view, now, watched));
            if let Some(done) = tracker.update(view, now) {
                requests.push(self.note_rollback(r, done, now));
            }
        }
        requests
    }

    /// An outcome the window reached goes into the rollout's activity, and into the journal
    /// beside the abort when this window sent it.
    fn note_rollback(&mut self, r: &RolloutRef, done: RollbackOutcome, now: f64) -> BackendRequest {
        let entry = crate::ui::rollback::activity_entry(&done, now);
        self.rollback_notes
            .entry(r.clone())
            .or_default()
            .push(entry.clone());
        self.activity.entry(r.clone()).or_default().push(entry);
        BackendRequest::RecordRollback(done)
    }

    /// Replace one context's rollouts, leaving markers where a rollout changed.
    fn apply_fleet(
        &mut self,
        context: String,
        rollouts: Vec<RolloutView>,
        now: f64,
    ) -> Vec<BackendRequest> {
        let requests = self.track_rollbacks(&rollouts, now);
        if let Some(old) = self.fleet.get(&context) {
            for new in &rollouts {
                if let Some(before) = old.iter().find(|o| o.reference == new.reference) {
                    let marks = timeline::transition_markers(before, new, now);
                    if !marks.is_empty() {
                        self.markers
                            .entry(new.reference.clone())
                            .or_default()
                            .extend(marks);
                    }
                }
            }
        }
        self.fleet.insert(context, rollouts);
        requests
    }

    fn record(&mut self, rollout: &RolloutRef, text: String, now: f64) {
        self.session_actions
            .entry(rollout.clone())
            .or_default()
            .push(SessionAction { t_secs: now, text });
    }

    fn watch_request(&self) -> BackendRequest {
        BackendRequest::Watch {
            contexts: self
                .contexts
                .iter()
                .filter(|(_, s)| s.watched)
                .map(|(name, _)| name.clone())
                .collect(),
            namespace: self.filter.namespace.clone(),
        }
    }

    /// Handle one window command; returns requests for the backend.
    pub fn handle(&mut self, command: UiCommand) -> Vec<BackendRequest> {
        match command {
            UiCommand::Select(r) => return self.select(r),
            UiCommand::OpenInbox => return self.open_inbox(),
            UiCommand::MoveInboxCursor(delta) => self.move_inbox_cursor(delta),
            UiCommand::MoveSelection(delta) => {
                let rows: Vec<RolloutRef> = self
                    .visible_rows()
                    .iter()
                    .map(|v| v.reference.clone())
                    .collect();
                let here = self
                    .selected
                    .as_ref()
                    .and_then(|s| rows.iter().position(|r| r == s));
                let next = match here {
                    Some(i) => (i as i64 + i64::from(delta)).clamp(0, rows.len() as i64 - 1),
                    None if delta >= 0 => 0,
                    None => rows.len() as i64 - 1,
                };
                if let Some(r) = usize::try_from(next).ok().and_then(|i| rows.get(i)) {
                    return self.select(r.clone());
                }
            }
            UiCommand::OpenDialog(d) => {
                let read = match &d {
                    Dialog::Undo(undo) => {
                        vec![BackendRequest::LoadRevisions(undo.command.target.clone())]
                    }
                    Dialog::Confirm(_) => Vec::new(),
                };
                self.dialog = Some(d);
                self.help_open = false;
                return read;
            }
            UiCommand::CloseDialogs => {
                self.dialog = None;
                self.help_open = false;
                self.settings_open = false;
            }
            UiCommand::Execute(command) => {
                if self.read_only {
                    self.toasts.push(
                        ToastKind::Error,
                        format!(
                            "{} {} not sent: read-only mode refuses every change",
                            command.action.verb(),
                            command.target
                        ),
                    );
                    return Vec::new();
                }
                self.toasts.push(
                    ToastKind::Info,
                    format!("{} {}: sent…", command.action.verb(), command.target),
                );
                return vec![BackendRequest::Execute(command)];
            }
            UiCommand::Request(r) => return vec![r],
            UiCommand::SetContextWatched { context, watched } => {
                if let Some(s) = self.contexts.get_mut(&context) {
                    s.watched = watched;
                }
                return vec![self.watch_request()];
            }
            UiCommand::NamespaceChanged => return vec![self.watch_request()],
            UiCommand::FocusSearch => self.focus_search = true,
            UiCommand::ToggleHelp => self.help_open = !self.help_open,
            UiCommand::OpenSettings => self.settings_open = true,
            UiCommand::SettingsChanged => {
                self.read_only = self.read_only_flag || self.settings.read_only;
                return vec![BackendRequest::Configure(Box::new(self.settings.clone()))];
            }
            UiCommand::ExportCsv => return self.export(false),
            UiCommand::ExportMarkdown => return self.export(true),
            UiCommand::DraftWeight(w) => {
                self.weight_draft = match (w, &self.selected) {
                    (Some(w), Some(r)) => Some((r.clone(), w)),
                    _ => None,
                };
            }
            UiCommand::Toast(kind, text) => self.toasts.push(kind, text),
        }
        Vec::new()
    }

    pub(super) fn select(&mut self, r: RolloutRef) -> Vec<BackendRequest> {
        if self.selected.as_ref() == Some(&r) {
            return Vec::new();
        }
        self.selected = Some(r.clone());
        self.weight_draft = None;
        self.metrics = MetricsState::Pending { rollout: r.clone() };
        self.plot_view.follow_live = true;
        vec![
            BackendRequest::WatchMetrics {
                rollout: Some(r.clone()),
                window_secs: METRICS_WINDOW_SECS,
            },
            BackendRequest::WatchActivity(Some(r)),
        ]
    }

    fn export(&mut self, markdown: bool) -> Vec<BackendRequest> {
        let Some(view) = self.selected_view() else {
            self.toasts
                .push(ToastKind::Info, "select a rollout to export first");
            return Vec::new();
        };
        let r = &view.reference;
        // The review's timings hold steps and actions; the controller's Events are listed
        // in its activity already.
        let mut markers = self.markers_for(r);
        markers.retain(|m| m.origin != timeline::MarkerOrigin::Controller);
        let (suggested_name, contents, attachments) = if markdown {
            let rollback = self.rollbacks.get(r).map(|t| t.status(now_secs()).text);
            let review = export::Review {
                view,
                activity: self.activity.get(r).map(Vec::as_slice).unwrap_or(&[]),
                session: self
                    .session_actions
                    .get(r)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
                markers: &markers,
                verdicts: self
                    .verdict_history
                    .get(r)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
                snapshot: self.metrics.snapshot().filter(|s| &s.rollout == r),
                rollback: rollback.as_deref(),
                now_secs: now_secs(),
            };
            let (contents, charts) = export::markdown_review(&review);
            (
                format!("{}-{}-review.md", r.namespace, r.name),
                contents,
                charts,
            )
        } else {
            let Some(snapshot) = self.metrics.snapshot().filter(|s| &s.rollout == r) else {
                self.toasts
                    .push(ToastKind::Info, format!("no metrics for {r} to export yet"));
                return Vec::new();
            };
            (
                format!("{}-{}-series.csv", r.namespace, r.name),
                export::series_csv(snapshot),
                Vec::new(),
            )
        };
        vec![BackendRequest::Export {
            suggested_name,
            contents,
            attachments,
        }]
    }
}
