//! Drawing the window: menu and filters on top, the status bar at the bottom, the fleet table
//! under the filters, the selected rollout in the middle (or, with none selected, the inbox);
//! dialogs, help, settings and toasts float above. Drawing only pushes `UiCommand`s.

use super::{AppState, UiCommand};
use crate::ui::dialogs;
use crate::ui::events::{BackendRequest, ContextState};
use crate::ui::fleet;
use crate::ui::inbox;
use crate::ui::rollout;
use crate::ui::settings;
use crate::ui::theme::{self, now_secs};

/// The fleet panel's height besides its rows: margins, the header and its separator.
const FLEET_CHROME: f32 = 56.0;

/// The fleet panel's height: every row, up to half the window over the inbox or a third over
/// a selected rollout; at least 120 px.
fn fleet_height(rows: usize, row_pitch: f32, window_height: f32, selected: bool) -> f32 {
    let share = if selected { 0.33 } else { 0.5 };
    (FLEET_CHROME + rows as f32 * row_pitch)
        .min(window_height * share)
        .max(120.0)
}

pub(super) fn draw(state: &mut AppState, ui: &mut egui::Ui, out: &mut Vec<UiCommand>) {
    let now = now_secs();
    let ctx = ui.ctx().clone();
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, state, out));
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, state, now));
    let no_kubeconfig = state
        .kubeconfig
        .as_ref()
        .is_some_and(|k| k.contexts.is_empty());
    if no_kubeconfig {
        egui::CentralPanel::default().show(ui, |ui| welcome_ui(ui, state, out));
    } else {
        let row_count = state.visible_rows().len();
        // Every row shows, up to half the window over the inbox (a third over a selected
        // rollout, whose charts need the room); past that the table scrolls, and the panel
        // can be dragged taller.
        let fit = fleet_height(
            row_count,
            fleet::ROW_HEIGHT + ui.spacing().item_spacing.y,
            ctx.content_rect().height(),
            state.selected.is_some(),
        );
        egui::Panel::top("fleet")
            .resizable(true)
            .default_size(fit)
            .min_size(fit)
            .show(ui, |ui| {
                // Fill the panel: a resizable panel keeps the size of its contents, and an
                // empty fleet at start would otherwise shrink it for good.
                ui.set_min_height(ui.available_height());
                let rows = state.visible_rows();
                let mut filter = state.filter.clone();
                let stale = state.stale_contexts();
                let table = fleet::FleetTable {
                    rows: &rows,
                    verdicts: &state.verdicts,
                    selected: state.selected.as_ref(),
                    stale: &stale,
                    now_secs: now,
                };
                fleet::fleet_table_ui(ui, &table, &mut filter, out);
                state.filter = filter;
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if state.selected.is_some() {
                rollout::rollout_ui(ui, state, now, out);
            } else {
                let stale = state.stale_contexts();
                let pane = inbox::InboxPane {
                    rows: &state.inbox,
                    cursor: state.inbox_cursor,
                    scroll_to_cursor: std::mem::take(&mut state.inbox_scroll),
                    stale: &stale,
                    now_secs: now,
                };
                inbox::inbox_ui(ui, &pane, out);
            }
        });
    }
    if let Some(dialog) = state.dialog.as_mut() {
        dialogs::dialog_ui(&ctx, dialog, state.settings.require_approval_comment, out);
    }
    if state.help_open {
        dialogs::help_ui(&ctx, &mut state.help_open);
    }
    if state.settings_open {
        let contexts: Vec<String> = state.contexts.keys().cloned().collect();
        settings::settings_ui(
            &ctx,
            &mut state.settings_open,
            &mut state.settings,
            &contexts,
            out,
        );
    }
    state.toasts.ui(&ctx);
}

fn menu_ui(ui: &mut egui::Ui, state: &mut AppState, out: &mut Vec<UiCommand>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open kubeconfig…").clicked() {
                out.push(UiCommand::Request(BackendRequest::PickKubeconfig));
            }
            if ui.button("Start the lab").clicked() {
                out.push(UiCommand::Request(BackendRequest::StartLab));
            }
            ui.separator();
            let has_selection = state.selected.is_some();
            if ui
                .add_enabled(has_selection, egui::Button::new("Export series as CSV…"))
                .on_disabled_hover_text("select a rollout first")
                .clicked()
            {
                out.push(UiCommand::ExportCsv);
            }
            if ui
                .add_enabled(
                    has_selection,
                    egui::Button::new("Export review as Markdown…"),
                )
                .on_disabled_hover_text("select a rollout first")
                .clicked()
            {
                out.push(UiCommand::ExportMarkdown);
            }
            ui.separator();
            if ui.button("Settings…").clicked() {
                out.push(UiCommand::OpenSettings);
            }
        });
        ui.menu_button("Help", |ui| {
            if ui.button("Keyboard shortcuts (?)").clicked() {
                out.push(UiCommand::ToggleHelp);
            }
        });
        let inbox_label = format!("Inbox ({})", state.inbox.len());
        if ui
            .selectable_label(state.selected.is_none(), inbox_label)
            .on_hover_text("every rollout that needs you, most urgent first (Esc)")
            .clicked()
        {
            out.push(UiCommand::OpenInbox);
        }
        ui.separator();
        contexts_ui(ui, state, out);
        ui.separator();
        namespace_ui(ui, state, out);
        let label = ui.label("Search");
        let search = ui
            .add(
                egui::TextEdit::singleline(&mut state.filter.search)
                    .hint_text("name, namespace, image  ( / )")
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut state.focus_search) {
            search.request_focus();
        }
        if state.read_only {
            theme::badge(ui, "READ-ONLY", theme::WARN)
                .on_hover_text("every change is refused (--read-only or Settings)");
        }
    });
}

fn contexts_ui(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<UiCommand>) {
    ui.label("Contexts");
    for (name, status) in &state.contexts {
        let mut watched = status.watched;
        if ui
            .checkbox(&mut watched, name.as_str())
            .on_hover_text("show this context's rollouts in the fleet")
            .changed()
        {
            out.push(UiCommand::SetContextWatched {
                context: name.clone(),
                watched,
            });
        }
    }
}

fn namespace_ui(ui: &mut egui::Ui, state: &mut AppState, out: &mut Vec<UiCommand>) {
    let mut namespaces: Vec<&str> = state
        .fleet
        .values()
        .flatten()
        .map(|v| v.reference.namespace.as_str())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let before = state.filter.namespace.clone();
    let shown = before.as_deref().unwrap_or("all namespaces").to_string();
    let label = ui.label("Namespace");
    egui::ComboBox::from_id_salt("namespace-filter")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut state.filter.namespace, None, "all namespaces");
            for ns in namespaces {
                ui.selectable_value(&mut state.filter.namespace, Some(ns.to_string()), ns);
            }
        })
        .response
        .labelled_by(label.id);
    if state.filter.namespace != before {
        out.push(UiCommand::NamespaceChanged);
    }
}

fn status_ui(ui: &mut egui::Ui, state: &AppState, now: f64) {
    ui.horizontal_wrapped(|ui| {
        if state.read_only {
            theme::badge(ui, "READ-ONLY", theme::WARN);
        }
        match &state.kubeconfig {
            None => {
                ui.weak("reading kubeconfig…");
            }
            Some(k) if k.files.is_empty() => {
                ui.colored_label(theme::WARN, "no kubeconfig");
            }
            Some(_) => {}
        }
        let needed = crate::attention::inbox::count_by_context(&state.inbox);
        // Every context, watched or not: an unreachable one must say so.
        for (name, status) in &state.contexts {
            ui.separator();
            let mut hover = None;
            let (color, text) = match &status.state {
                ContextState::Connecting if !status.watched => {
                    (ui.visuals().weak_text_color(), "not watched".to_string())
                }
                ContextState::Connecting => (theme::WARN, "connecting…".to_string()),
                ContextState::Connected => (theme::OK, "connected".to_string()),
                ContextState::ConnectedIn { namespace } => {
                    hover = Some(scoped_hover(name, namespace));
                    (
                        theme::WARN,
                        format!(
                            "connected — namespace {namespace} only: you may not list rollouts \
                             in all namespaces"
                        ),
                    )
                }
                ContextState::Reconnecting {
                    since_secs, reason, ..
                } => {
                    hover = Some(format!(
                        "The API server of context {name} does not answer; the cockpit tries \
                         again every few seconds and shows the fleet as soon as it answers.\n\n{reason}"
                    ));
                    (theme::WARN, reconnecting_text(*since_secs))
                }
                ContextState::Unreachable {
                    reason,
                    retry_in_secs,
                } => {
                    let left = (*retry_in_secs as f64 - (now - status.since_secs)).max(0.0);
                    (
                        theme::ERROR,
                        format!("unreachable: {reason} — retrying in {left:.0} s"),
                    )
                }
            };
            ui.strong(name.as_str());
            let label = ui.colored_label(color, text);
            if let Some(hover) = hover {
                label.on_hover_text(hover);
            }
            // Only where the cockpit connects: an unwatched context sends nothing yet.
            if status.watched {
                security_ui(ui, state, name);
            }
            match &status.identity {
                Some(identity) => {
                    ui.label(identity.to_string())
                        .on_hover_text(if identity.verified {
                            "confirmed by the API server (SelfSubjectReview)"
                        } else {
                            "the kubeconfig's user name; the API server did not confirm it"
                        });
                }
                None => {
                    ui.weak("identity unknown");
                }
            }
            if let Some(n) = needed.get(name.as_str()) {
                let verb = if *n == 1 { "needs" } else { "need" };
                ui.colored_label(theme::WARN, format!("{name}: {n} {verb} you"))
                    .on_hover_text("rollouts of this context in the inbox");
            }
        }
    });
}

/// The context's unsafe connections (TLS not verified, credentials over http), if any: a
/// warning badge and the short words, the full sentences (what to do) on hover.
fn security_ui(ui: &mut egui::Ui, state: &AppState, context: &str) {
    let warnings: Vec<&crate::model::SecurityWarning> = state
        .security
        .values()
        .flatten()
        .filter(|w| w.context == context)
        .collect();
    if warnings.is_empty() {
        return;
    }
    let shorts: Vec<&str> = warnings.iter().map(|w| w.short.as_str()).collect();
    let hover = warnings
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    theme::badge(ui, "INSECURE", theme::WARN).on_hover_text(&hover);
    ui.colored_label(theme::WARN, shorts.join(", "))
        .on_hover_text(hover);
}

/// The status bar's words for a context whose API server does not answer.
fn reconnecting_text(since_secs: f64) -> String {
    format!(
        "reconnecting — server not answering (since {})",
        theme::clock(since_secs)
    )
}

/// Why a context is watched in one namespace only, and what to ask for to see them all.
fn scoped_hover(context: &str, namespace: &str) -> String {
    format!(
        "You asked for all namespaces, but in context {context} you may not list \
         rollouts.argoproj.io across all namespaces (missing permission \"list \
         rollouts.argoproj.io\" at the cluster scope), so only namespace {namespace} (the \
         context's own) is watched. To see every namespace, ask an administrator for {}.",
        crate::cluster::LIST_ALL_ROLLOUTS_GRANT_HINT
    )
}

fn welcome_ui(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<UiCommand>) {
    ui.vertical_centered(|ui| {
        ui.add_space(80.0);
        ui.heading("No kubeconfig found");
        ui.add_space(8.0);
        ui.label("Release Cockpit acts with your own kubeconfig identity. It looked for:");
        if let Some(k) = &state.kubeconfig {
            for path in &k.searched {
                ui.monospace(path.display().to_string());
            }
        }
        ui.add_space(16.0);
        ui.label("Try it on the embedded lab (no cluster needed), or open a kubeconfig file.");
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            // Centre the two buttons.
            ui.add_space((ui.available_width() - 280.0).max(0.0) / 2.0);
            if ui.button("Start the lab").clicked() {
                out.push(UiCommand::Request(BackendRequest::StartLab));
            }
            if ui.button("Open kubeconfig…").clicked() {
                out.push(UiCommand::Request(BackendRequest::PickKubeconfig));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnecting_says_so_and_since_when_never_an_error_chain() {
        let text = reconnecting_text(0.0);
        assert!(
            text.starts_with("reconnecting — server not answering (since "),
            "{text}"
        );
        assert!(text.ends_with(')') && !text.contains("error"), "{text}");
    }

    /// The lab's eight releases fit whole at 1280×800 (a fixed 200 px showed six, hiding the
    /// Flagger canary podinfo); 500 stop at half the window over the inbox, a third over a
    /// selected rollout; an empty fleet keeps 120 px.
    #[test]
    fn the_fleet_fits_its_rows_up_to_a_share_of_the_window() {
        let pitch = 26.0;
        assert_eq!(fleet_height(8, pitch, 800.0, false), 56.0 + 8.0 * 26.0);
        assert_eq!(fleet_height(8, pitch, 800.0, true), 264.0);
        assert_eq!(fleet_height(500, pitch, 800.0, false), 400.0);
        assert_eq!(fleet_height(500, pitch, 800.0, true), 800.0 * 0.33);
        assert_eq!(fleet_height(0, pitch, 800.0, false), 120.0);
    }
}
