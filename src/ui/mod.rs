//! The cockpit window (egui): draws state and emits commands; never touches the network.
//! Events come in as [`AppEvent`]s over a channel drained at the start of each frame; what the
//! window wants done goes out as [`BackendRequest`]s to a [`Backend`] that runs it on tokio.

pub mod app;
pub mod backend;
pub mod dialogs;
pub mod events;
pub mod export;
pub mod fleet;
pub mod inbox;
pub mod keyboard;
pub mod rollback;
pub mod rollout;
pub mod settings;
pub mod theme;
pub mod timeline;
pub mod toasts;

#[cfg(test)]
pub(crate) mod fixtures;

pub use app::{AppState, CockpitApp, UiCommand};
pub use backend::{Backend, BackendOptions, EventSink, TokioBackend};
pub use events::{
    Access, ActivityEntry, AppEvent, BackendRequest, ContextState, Identity, KubeconfigInfo,
    VerdictView,
};
pub use settings::Settings;

use std::path::PathBuf;

/// How the window starts (from the command line).
#[derive(Clone, Debug)]
pub struct WindowOptions {
    /// `--kubeconfig`: read this file instead of `KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: watch this context first (else the kubeconfig's current one).
    pub context: Option<String>,
    /// `-n`: show only this namespace.
    pub namespace: Option<String>,
    /// `--lab`: start the embedded lab and connect to it.
    pub lab: bool,
    /// `--read-only`: refuse every change.
    pub read_only: bool,
    /// The runtime `main` built; every I/O task runs on it.
    pub runtime: tokio::runtime::Handle,
}

/// Open the window and run until it is closed.
pub fn run_window(options: WindowOptions) -> anyhow::Result<()> {
    eframe::run_native(
        "Release Cockpit",
        native_options(),
        Box::new(move |cc| {
            theme::install_fonts(&cc.egui_ctx);
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, app::SETTINGS_KEY))
                .unwrap_or_default();
            Ok(Box::new(build_app(options, settings, cc.egui_ctx.clone())))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the window could not open: {e}"))
}

/// The app's icon (a gauge: stable green, canary orange), also installed beside
/// `assets/release-cockpit.desktop` for the desktop's launcher.
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");

/// The window's native options: title, icon, size, the OpenGL (glow) renderer.
pub fn native_options() -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Release Cockpit")
        .with_app_id("release-cockpit")
        .with_inner_size([1400.0, 900.0])
        .with_min_inner_size([800.0, 500.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(std::sync::Arc::new(icon)),
        // A window without its icon still works; say why once.
        Err(e) => tracing::warn!("the window icon (assets/icon.png) could not be read: {e}"),
    }
    eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    }
}

/// The app wired to a `TokioBackend` on `options.runtime`.
pub fn build_app(options: WindowOptions, settings: Settings, ctx: egui::Context) -> CockpitApp {
    let (tx, rx) = std::sync::mpsc::channel();
    let backend = TokioBackend::with_options(
        options.runtime.clone(),
        EventSink::new(tx, ctx),
        options.kubeconfig.clone(),
        backend::BackendOptions {
            read_only: options.read_only,
            journal: None,
        },
    );
    backend.report_unfinished_commands();
    let mut app = CockpitApp::new(settings, options.read_only, rx, Box::new(backend));
    app.start(options.context, options.namespace, options.lab);
    app
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_icon_decodes_and_the_desktop_entry_names_it() {
        let icon = eframe::icon_data::from_png_bytes(super::ICON_PNG).expect("assets/icon.png");
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        let entry = include_str!("../../assets/release-cockpit.desktop");
        for line in [
            "Exec=release-cockpit",
            "Icon=release-cockpit",
            "StartupWMClass=release-cockpit",
        ] {
            assert!(entry.lines().any(|l| l == line), "{line} in {entry}");
        }
    }
}
