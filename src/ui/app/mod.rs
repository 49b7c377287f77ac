//! The window's state and its eframe entry: `CockpitApp` owns the state, the event receiver
//! and the backend. `logic.rs` applies events and window commands, `ui.rs` draws.

mod inbox;
mod keys;
mod logic;
mod notify;
mod ui;
mod verdict_history;

use super::backend::Backend;
use super::dialogs::Dialog;
use super::events::{
    Access, ActivityEntry, AppEvent, BackendRequest, ContextState, Identity, KubeconfigInfo,
    VerdictView,
};
use super::fleet::FleetFilter;
use super::settings::Settings;
use super::timeline::Marker;
use super::toasts::{ToastKind, Toasts};
use crate::model::{Command, MetricsSnapshot, RolloutRef, RolloutView};
use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::Receiver;

/// Key under which eframe persists the settings.
pub const SETTINGS_KEY: &str = "release-cockpit.settings";

/// What the window does in response to a click or a key; drawing code only pushes these,
/// `logic.rs` handles them in one place after the frame is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    Select(RolloutRef),
    /// Back to the inbox: nothing selected.
    OpenInbox,
    /// Move the inbox's cursor by this many rows (Up = -1, Down = +1).
    MoveInboxCursor(i32),
    /// Move the selection by this many rows in the fleet table (`j` = +1, `k` = -1).
    MoveSelection(i32),
    OpenDialog(Dialog),
    CloseDialogs,
    /// Send a command to the orchestration API.
    Execute(Command),
    Request(BackendRequest),
    SetContextWatched {
        context: String,
        watched: bool,
    },
    FocusSearch,
    ToggleHelp,
    OpenSettings,
    /// Settings were edited: persist and tell the backend.
    SettingsChanged,
    ExportCsv,
    ExportMarkdown,
    /// The user moved the weight slider of the selected rollout (None: back to live).
    DraftWeight(Option<i32>),
    /// The namespace filter changed: watch only that namespace (or all).
    NamespaceChanged,
    Toast(ToastKind, String),
}

/// One context as the window knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextStatus {
    pub state: ContextState,
    /// Unix seconds when `state` arrived (to count "retrying in N s" down).
    pub since_secs: f64,
    pub identity: Option<Identity>,
    /// Shown in the fleet (the user can watch several contexts at once).
    pub watched: bool,
}

/// Metrics for the selected rollout, as a small async state machine. A new snapshot replaces
/// the last one only when it arrives, so the charts never blank between refreshes; a failing
/// source arrives as a snapshot that keeps its points and says since when it is stale.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum MetricsState {
    #[default]
    NotRequested,
    Pending {
        rollout: RolloutRef,
    },
    Received(MetricsSnapshot),
}

impl MetricsState {
    pub fn snapshot(&self) -> Option<&MetricsSnapshot> {
        match self {
            MetricsState::Received(s) => Some(s),
            _ => None,
        }
    }
}

/// Time range of the plots.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotView {
    pub window_minutes: u32,
    /// The x axis follows "now" until the user drags or zooms it.
    pub follow_live: bool,
}

/// A line in the session's own record of a rollout (outcomes and errors), for the export.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionAction {
    pub t_secs: f64,
    pub text: String,
}

/// Everything the window shows; plain data, no I/O handles.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    /// Read-only from the flag or the setting.
    pub read_only: bool,
    /// `--read-only` was given: the setting cannot switch it off.
    pub read_only_flag: bool,
    /// `--context`: watch this one first (else the kubeconfig's current context).
    pub wanted_context: Option<String>,
    /// None until the backend read the kubeconfig files.
    pub kubeconfig: Option<KubeconfigInfo>,
    pub contexts: BTreeMap<String, ContextStatus>,
    pub access: HashMap<(String, String), Access>,
    pub fleet: BTreeMap<String, Vec<RolloutView>>,
    pub filter: FleetFilter,
    pub selected: Option<RolloutRef>,
    pub metrics: MetricsState,
    /// Changes this window saw happen (step, pause, promotion, abort); the audit trail's
    /// markers are added on the fly by `markers_for`.
    pub markers: HashMap<RolloutRef, Vec<Marker>>,
    pub activity: HashMap<RolloutRef, Vec<ActivityEntry>>,
    pub verdicts: HashMap<RolloutRef, VerdictView>,
    /// Each rollout's verdicts as they changed while this window watched (time, verdict),
    /// oldest first and bounded: the review's verdicts over time.
    pub verdict_history: HashMap<RolloutRef, Vec<(f64, VerdictView)>>,
    /// The controller's AnalysisRuns per rollout, as last read.
    pub analysis_runs: HashMap<RolloutRef, Vec<crate::model::AnalysisRunSummary>>,
    /// When the selected rollout's AnalysisRuns were last read (seconds, `now_secs`).
    pub analysis_read_at: f64,
    pub session_actions: HashMap<RolloutRef, Vec<SessionAction>>,
    /// Rollbacks under way or done, per aborted rollout (gone once it is retried).
    pub rollbacks: HashMap<RolloutRef, crate::ui::rollback::RollbackTracker>,
    /// The rollback outcomes this window reached, kept in the activity when it is re-sent.
    pub rollback_notes: HashMap<RolloutRef, Vec<ActivityEntry>>,
    pub weight_draft: Option<(RolloutRef, i32)>,
    pub dialog: Option<Dialog>,
    pub help_open: bool,
    pub settings_open: bool,
    pub toasts: Toasts,
    pub plot_view: PlotView,
    pub focus_search: bool,
    /// Who needs a person, most urgent first (`attention::inbox` over the watched fleet),
    /// computed again whenever an event or a command arrives.
    pub inbox: Vec<crate::attention::InboxRow>,
    /// Since when each rollout's metrics have been stale (the fleet verdicts' feed).
    pub metrics_stale: HashMap<RolloutRef, f64>,
    /// The inbox row that Up/Down moved to; Enter, `a` and `r` act on it.
    pub inbox_cursor: usize,
    /// The cursor moved since the last frame: the pane scrolls it into view.
    pub inbox_scroll: bool,
    /// What was seen of each rollout, to notify on transitions only, each once.
    pub transitions: crate::attention::Transitions,
    /// Unsafe connections by origin (`kubeconfig`, `metrics/<context>`): the status bar warns.
    pub security: BTreeMap<String, Vec<crate::model::SecurityWarning>>,
}

impl AppState {
    pub fn new(settings: Settings, read_only: bool) -> AppState {
        let window_minutes = settings.window_minutes;
        AppState {
            read_only: read_only || settings.read_only,
            read_only_flag: read_only,
            wanted_context: None,
            settings,
            kubeconfig: None,
            contexts: BTreeMap::new(),
            access: HashMap::new(),
            fleet: BTreeMap::new(),
            filter: FleetFilter::default(),
            selected: None,
            metrics: MetricsState::NotRequested,
            markers: HashMap::new(),
            activity: HashMap::new(),
            verdicts: HashMap::new(),
            verdict_history: HashMap::new(),
            analysis_runs: HashMap::new(),
            analysis_read_at: 0.0,
            session_actions: HashMap::new(),
            rollbacks: HashMap::new(),
            rollback_notes: HashMap::new(),
            weight_draft: None,
            dialog: None,
            help_open: false,
            settings_open: false,
            toasts: Toasts::default(),
            plot_view: PlotView {
                window_minutes,
                follow_live: true,
            },
            focus_search: false,
            inbox: Vec::new(),
            metrics_stale: HashMap::new(),
            inbox_cursor: 0,
            inbox_scroll: false,
            transitions: crate::attention::Transitions::default(),
            security: BTreeMap::new(),
        }
    }

    /// The selected rollout's current view, if the fleet still has it.
    pub fn selected_view(&self) -> Option<&RolloutView> {
        self.view_of(self.selected.as_ref()?)
    }

    /// A rollout's current view, if the fleet has it.
    pub fn view_of(&self, r: &RolloutRef) -> Option<&RolloutView> {
        self.fleet
            .get(&r.context)?
            .iter()
            .find(|v| &v.reference == r)
    }

    /// What the keys act on: the selected rollout, or on the inbox the row under its cursor.
    pub fn keyed_view(&self) -> Option<&RolloutView> {
        match &self.selected {
            Some(_) => self.selected_view(),
            None => self.view_of(&self.inbox.get(self.inbox_cursor)?.rollout),
        }
    }

    /// Permissions known for a rollout's namespace (None: not answered yet).
    pub fn access_for(&self, r: &RolloutRef) -> Option<Access> {
        self.access
            .get(&(r.context.clone(), r.namespace.clone()))
            .copied()
    }
}

/// The cockpit window: state, the receiving end of the backend's events, and the backend.
pub struct CockpitApp {
    pub state: AppState,
    events: Receiver<AppEvent>,
    backend: Box<dyn Backend>,
    pending: Vec<UiCommand>,
    /// The theme last handed to egui, so it is set only when the setting changes.
    applied_theme: Option<egui::ThemePreference>,
    /// The window title last sent ("Release Cockpit — 3 need you"), sent again on change.
    title: String,
}

impl CockpitApp {
    /// A window with these settings, receiving `events`, sending requests to `backend`.
    /// Asks the backend to read the kubeconfig files right away.
    pub fn new(
        settings: Settings,
        read_only: bool,
        events: Receiver<AppEvent>,
        backend: Box<dyn Backend>,
    ) -> CockpitApp {
        let extra_files = settings.extra_kubeconfigs.clone();
        let app = CockpitApp {
            state: AppState::new(settings, read_only),
            events,
            backend,
            pending: Vec::new(),
            applied_theme: None,
            title: String::new(),
        };
        app.backend
            .send(BackendRequest::LoadKubeconfig { extra_files });
        app.backend.send(BackendRequest::Configure(Box::new(
            app.state.settings.clone(),
        )));
        app
    }

    /// Apply the command line: which context to watch first, which namespace, the lab (the
    /// window then opens on the inbox, where the lab's waiting and failing rollouts show).
    pub fn start(&mut self, context: Option<String>, namespace: Option<String>, lab: bool) {
        // With the lab, its admin context is the one to watch, not the user's current one.
        self.state.wanted_context =
            context.or_else(|| lab.then(|| crate::lab::kubeconfig::ADMIN_CONTEXT.to_string()));
        self.state.filter.namespace = namespace;
        if lab {
            self.backend.send(BackendRequest::StartLab);
        }
    }

    /// Draw one frame: apply waiting events, draw, then handle what the frame asked for.
    /// The eframe `App::ui` and the tests call exactly this.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        self.drain_events(ui.ctx());
        self.keyboard(ui.ctx());
        ui::draw(&mut self.state, ui, &mut self.pending);
        self.handle_commands();
        self.set_title(ui.ctx());
        self.schedule_repaint(ui.ctx());
    }
}

impl eframe::App for CockpitApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.state.settings);
    }
}
