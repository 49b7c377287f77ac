//! Settings the user keeps between runs (persisted by eframe): Prometheus per cluster, the
//! refresh interval, the theme, extra kubeconfig files; and the settings window that edits them.
//! Secrets are never stored: only where to find them (an env var or a file path).

use super::app::UiCommand;
use super::events::BackendRequest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the Prometheus credentials are, never the credentials themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthRef {
    #[default]
    None,
    /// Bearer token in this environment variable.
    EnvVar(String),
    /// Bearer token in this file (e.g. a mounted service-account token).
    File(PathBuf),
}

/// Which PromQL templates produce the three signals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeshTemplate {
    #[default]
    Istio,
    Linkerd,
    NginxIngress,
    /// `http_requests_total` with a version label.
    Generic,
}

impl MeshTemplate {
    pub const ALL: [MeshTemplate; 4] = [
        MeshTemplate::Istio,
        MeshTemplate::Linkerd,
        MeshTemplate::NginxIngress,
        MeshTemplate::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeshTemplate::Istio => "Istio",
            MeshTemplate::Linkerd => "Linkerd",
            MeshTemplate::NginxIngress => "NGINX ingress",
            MeshTemplate::Generic => "generic (http_requests_total)",
        }
    }
}

/// Metrics settings of one cluster (kubeconfig context).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// Saved without credentials: a `user:password@` or `?token=` typed here is redacted
    /// when the settings are persisted (the settings window says so).
    #[serde(serialize_with = "serialize_redacted_url")]
    pub prometheus_url: String,
    pub auth: AuthRef,
    pub mesh: MeshTemplate,
    /// Label that carries the pod-template hash; empty: match by `rollouts-pod-template-hash`.
    pub version_label: String,
}

/// Persists a URL through [`crate::redact::redact_url`]: credentials never reach the file.
fn serialize_redacted_url<S: serde::Serializer>(
    url: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::redact::redact_url(url))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    FollowSystem,
    Dark,
    Light,
}

/// Everything persisted between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Per kubeconfig context.
    pub clusters: BTreeMap<String, ClusterSettings>,
    pub refresh_secs: u32,
    pub theme: ThemeChoice,
    pub extra_kubeconfigs: Vec<PathBuf>,
    /// Approvals must carry a comment.
    pub require_approval_comment: bool,
    /// Refuse every change (same as `--read-only`).
    pub read_only: bool,
    /// How many minutes the plots show by default.
    pub window_minutes: u32,
    /// Desktop notifications: which events, which contexts, quiet hours.
    pub notify: crate::attention::NotifySettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            clusters: BTreeMap::new(),
            refresh_secs: 5,
            theme: ThemeChoice::FollowSystem,
            extra_kubeconfigs: Vec::new(),
            require_approval_comment: false,
            read_only: false,
            window_minutes: 15,
            notify: crate::attention::NotifySettings::default(),
        }
    }
}

impl Settings {
    pub fn theme_preference(&self) -> egui::ThemePreference {
        match self.theme {
            ThemeChoice::FollowSystem => egui::ThemePreference::System,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
            ThemeChoice::Light => egui::ThemePreference::Light,
        }
    }
}

/// The settings window. Edits apply at once; `SettingsChanged` persists them and tells the
/// backend.
pub fn settings_ui(
    ctx: &egui::Context,
    open: &mut bool,
    settings: &mut Settings,
    contexts: &[String],
    out: &mut Vec<UiCommand>,
) {
    let before = settings.clone();
    egui::Window::new("Settings")
        .open(open)
        .default_width(520.0)
        .vscroll(true)
        .show(ctx, |ui| {
            general_ui(ui, settings, out);
            ui.separator();
            notify_ui(ui, &mut settings.notify, contexts);
            ui.separator();
            ui.heading("Clusters");
            if contexts.is_empty() {
                ui.label("No contexts yet: open a kubeconfig or start the lab.");
            }
            for context in contexts {
                let cluster = settings.clusters.entry(context.clone()).or_default();
                egui::CollapsingHeader::new(context.as_str())
                    .id_salt(("cluster-settings", context))
                    .default_open(true)
                    .show(ui, |ui| cluster_ui(ui, context, cluster));
            }
        });
    if *settings != before {
        out.push(UiCommand::SettingsChanged);
    }
}

fn general_ui(ui: &mut egui::Ui, settings: &mut Settings, out: &mut Vec<UiCommand>) {
    egui::Grid::new("general-settings")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Refresh interval");
            ui.add(
                egui::Slider::new(&mut settings.refresh_secs, 1..=60)
                    .suffix(" s")
                    .text("refresh interval"),
            );
            ui.end_row();
            ui.label("Plot window");
            ui.add(
                egui::Slider::new(&mut settings.window_minutes, 1..=60)
                    .suffix(" min")
                    .text("plot window"),
            );
            ui.end_row();
            ui.label("Theme");
            ui.horizontal(|ui| {
                ui.selectable_value(
                    &mut settings.theme,
                    ThemeChoice::FollowSystem,
                    "Follow system",
                );
                ui.selectable_value(&mut settings.theme, ThemeChoice::Dark, "Dark");
                ui.selectable_value(&mut settings.theme, ThemeChoice::Light, "Light");
            });
            ui.end_row();
            ui.label("Approvals");
            ui.checkbox(
                &mut settings.require_approval_comment,
                "require a comment on every approval",
            );
            ui.end_row();
            ui.label("Safety");
            ui.checkbox(&mut settings.read_only, "read-only: refuse every change");
            ui.end_row();
        });
    ui.separator();
    ui.horizontal(|ui| {
        ui.strong("Extra kubeconfig files");
        if ui.button("Add…").clicked() {
            out.push(UiCommand::Request(BackendRequest::PickKubeconfig));
        }
    });
    let mut remove = None;
    for (i, path) in settings.extra_kubeconfigs.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.monospace(path.display().to_string());
            if ui.small_button("Remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        settings.extra_kubeconfigs.remove(i);
    }
}

/// Desktop notifications: on transitions only (see `attention::transitions`).
fn notify_ui(
    ui: &mut egui::Ui,
    notify: &mut crate::attention::NotifySettings,
    contexts: &[String],
) {
    ui.heading("Notifications");
    ui.checkbox(
        &mut notify.desktop,
        "desktop notifications (click one to open its rollout)",
    );
    ui.add_enabled_ui(notify.desktop, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label("When");
            ui.checkbox(
                &mut notify.waiting_for_approval,
                "a rollout starts waiting for approval",
            );
            ui.checkbox(&mut notify.verdict_fail, "its verdict turns to fail");
            ui.checkbox(&mut notify.aborted, "it is aborted");
            ui.checkbox(&mut notify.rollback, "its rollback completes or sticks");
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Contexts")
                .on_hover_text("none ticked: every watched context");
            for context in contexts {
                let mut on = notify.contexts.contains(context);
                if ui.checkbox(&mut on, context.as_str()).changed() {
                    if on {
                        notify.contexts.push(context.clone());
                    } else {
                        notify.contexts.retain(|c| c != context);
                    }
                }
            }
            if notify.contexts.is_empty() {
                ui.weak("(all)");
            }
        });
        ui.horizontal(|ui| {
            let mut quiet = notify.quiet_hours.is_some();
            ui.checkbox(&mut quiet, "quiet hours");
            let (mut from, mut to) = notify.quiet_hours.unwrap_or((22, 7));
            if quiet {
                ui.add(egui::Slider::new(&mut from, 0..=23).text("from (hour)"));
                ui.add(egui::Slider::new(&mut to, 0..=23).text("to (hour)"));
            }
            notify.quiet_hours = quiet.then_some((from, to));
        });
    });
}

fn cluster_ui(ui: &mut egui::Ui, context: &str, cluster: &mut ClusterSettings) {
    egui::Grid::new(("cluster-grid", context))
        .num_columns(2)
        .show(ui, |ui| {
            let label = ui.label("Prometheus URL");
            ui.add(
                egui::TextEdit::singleline(&mut cluster.prometheus_url)
                    .hint_text("http://127.0.0.1:9090"),
            )
            .labelled_by(label.id);
            ui.end_row();
            if crate::redact::url_has_credentials(&cluster.prometheus_url) {
                ui.label("");
                ui.colored_label(
                    super::theme::WARN,
                    "credentials in the URL are not saved: use a token env var or file below",
                );
                ui.end_row();
            }

            ui.label("Auth");
            ui.horizontal(|ui| {
                let mut kind = match cluster.auth {
                    AuthRef::None => 0,
                    AuthRef::EnvVar(_) => 1,
                    AuthRef::File(_) => 2,
                };
                ui.selectable_value(&mut kind, 0, "none");
                ui.selectable_value(&mut kind, 1, "token in env var");
                ui.selectable_value(&mut kind, 2, "token in file");
                cluster.auth = match (kind, std::mem::take(&mut cluster.auth)) {
                    (1, AuthRef::EnvVar(v)) => AuthRef::EnvVar(v),
                    (1, _) => AuthRef::EnvVar(String::new()),
                    (2, AuthRef::File(p)) => AuthRef::File(p),
                    (2, _) => AuthRef::File(PathBuf::new()),
                    _ => AuthRef::None,
                };
            });
            ui.end_row();
            match &mut cluster.auth {
                AuthRef::None => {}
                AuthRef::EnvVar(var) => {
                    let label = ui.label("Env var name");
                    ui.add(egui::TextEdit::singleline(var).hint_text("PROM_TOKEN"))
                        .labelled_by(label.id);
                    ui.end_row();
                }
                AuthRef::File(path) => {
                    let label = ui.label("Token file");
                    let mut text = path.display().to_string();
                    if ui
                        .add(egui::TextEdit::singleline(&mut text))
                        .labelled_by(label.id)
                        .changed()
                    {
                        *path = PathBuf::from(text);
                    }
                    ui.end_row();
                }
            }

            ui.label("Mesh template");
            egui::ComboBox::from_id_salt(("mesh", context))
                .selected_text(cluster.mesh.as_str())
                .show_ui(ui, |ui| {
                    for mesh in MeshTemplate::ALL {
                        ui.selectable_value(&mut cluster.mesh, mesh, mesh.as_str());
                    }
                });
            ui.end_row();

            let label = ui.label("Version label");
            ui.add(
                egui::TextEdit::singleline(&mut cluster.version_label)
                    .hint_text("rollouts-pod-template-hash"),
            )
            .labelled_by(label.id);
            ui.end_row();
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json_without_secrets() {
        let mut s = Settings::default();
        s.clusters.insert(
            "lab-admin".into(),
            ClusterSettings {
                prometheus_url: "http://127.0.0.1:9090".into(),
                auth: AuthRef::EnvVar("PROM_TOKEN".into()),
                mesh: MeshTemplate::Linkerd,
                version_label: "version".into(),
            },
        );
        let json = serde_json::to_string(&s).expect("serializes");
        assert!(json.contains("PROM_TOKEN"));
        let back: Settings = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, s);
        // Credentials typed into the URL never reach the persisted settings.
        let mut leaky = s.clone();
        if let Some(c) = leaky.clusters.get_mut("lab-admin") {
            c.prometheus_url = "https://ops:hunter22@prom.example/?token=t0ps3cret".into();
        }
        let json = serde_json::to_string(&leaky).expect("serializes");
        assert!(
            !json.contains("hunter22") && !json.contains("t0ps3cret"),
            "{json}"
        );
        assert!(json.contains("prom.example"), "{json}");
        // Older files with missing fields still load, with defaults.
        let partial: Settings = serde_json::from_str(r#"{"refresh_secs":9}"#).expect("loads");
        assert_eq!(partial.refresh_secs, 9);
        assert_eq!(partial.window_minutes, 15);
    }
}
