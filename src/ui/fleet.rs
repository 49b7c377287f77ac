//! The fleet: every rollout of the watched contexts in one table — filtered by namespace and
//! search, sorted by any column, with the judge's verdict on each canary or preview, a marker
//! on those that wait for a person and what a pipeline's `auto` waits for on those it drives.
//! Rows are virtualised so a fleet of hundreds stays cheap to draw.

use super::app::UiCommand;
use super::events::VerdictView;
use super::theme;
use crate::model::{RolloutRef, RolloutView};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// Shown in the last column of rollouts paused for a person.
pub const WAITING_MARK: &str = "◆ waiting";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    Name,
    Namespace,
    Context,
    Controller,
    Strategy,
    Phase,
    Step,
    Weight,
    Age,
    InPhase,
    Verdict,
    Waiting,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FleetFilter {
    /// None: all namespaces.
    pub namespace: Option<String>,
    pub search: String,
    pub sort: SortKey,
    pub descending: bool,
}

/// Columns: title, sort key, width in points.
const COLUMNS: [(&str, SortKey, f32); 12] = [
    ("Name", SortKey::Name, 190.0),
    ("Namespace", SortKey::Namespace, 100.0),
    ("Context", SortKey::Context, 100.0),
    // Who moves the traffic: Argo, Flagger, or the cockpit itself (Gateway).
    ("Controller", SortKey::Controller, 76.0),
    ("Strategy", SortKey::Strategy, 76.0),
    ("Phase", SortKey::Phase, 100.0),
    ("Step", SortKey::Step, 46.0),
    ("Weight", SortKey::Weight, 56.0),
    // The object's age, as kubectl prints it; then how long it has been as it is now.
    ("Age", SortKey::Age, 62.0),
    ("In phase", SortKey::InPhase, 70.0),
    // The judge's verdict on the canary or preview, with its score.
    ("Verdict", SortKey::Verdict, 100.0),
    // The mark, then what a pipeline's `auto` waits for when one drives the rollout.
    ("Waiting", SortKey::Waiting, 300.0),
];
pub const ROW_HEIGHT: f32 = 22.0;

/// The rows to show, in order: the watched contexts' rollouts that pass the filter.
/// `verdicts` are the judge's latest, for the Verdict column's order.
pub fn visible_rows<'a>(
    fleet: &'a BTreeMap<String, Vec<RolloutView>>,
    watched: impl Fn(&str) -> bool,
    filter: &FleetFilter,
    verdicts: &HashMap<RolloutRef, VerdictView>,
    now_secs: f64,
) -> Vec<&'a RolloutView> {
    let needle = filter.search.trim().to_lowercase();
    let mut rows: Vec<&RolloutView> = fleet
        .iter()
        .filter(|(context, _)| watched(context))
        .flat_map(|(_, views)| views.iter())
        .filter(|v| {
            filter
                .namespace
                .as_ref()
                .is_none_or(|ns| &v.reference.namespace == ns)
        })
        .filter(|v| needle.is_empty() || matches_search(v, &needle))
        .collect();
    rows.sort_by(|a, b| {
        let primary = match filter.sort {
            SortKey::Verdict => verdict_rank(verdicts.get(&a.reference))
                .total_cmp(&verdict_rank(verdicts.get(&b.reference))),
            key => compare(a, b, key, now_secs),
        };
        let primary = if filter.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.reference.cmp(&b.reference))
    });
    rows
}

fn matches_search(v: &RolloutView, needle: &str) -> bool {
    let r = &v.reference;
    [&r.name, &r.namespace, &r.context]
        .iter()
        .any(|s| s.to_lowercase().contains(needle))
        || v.images.iter().any(|i| i.to_lowercase().contains(needle))
}

fn compare(a: &RolloutView, b: &RolloutView, key: SortKey, now_secs: f64) -> Ordering {
    match key {
        SortKey::Name => a.reference.name.cmp(&b.reference.name),
        SortKey::Namespace => a.reference.namespace.cmp(&b.reference.namespace),
        SortKey::Context => a.reference.context.cmp(&b.reference.context),
        SortKey::Controller => a.reference.provider.cmp(&b.reference.provider),
        SortKey::Strategy => a.strategy.as_str().cmp(b.strategy.as_str()),
        SortKey::Phase => a.phase.cmp(&b.phase),
        SortKey::Step => a.current_step.cmp(&b.current_step),
        SortKey::Weight => a.actual_weight.cmp(&b.actual_weight),
        SortKey::Age => age_secs(b, now_secs).total_cmp(&age_secs(a, now_secs)),
        SortKey::InPhase => in_phase_secs(b, now_secs).total_cmp(&in_phase_secs(a, now_secs)),
        SortKey::Verdict => Ordering::Equal,
        // Waiting first.
        SortKey::Waiting => b.waiting_for_human().cmp(&a.waiting_for_human()),
    }
}

/// Worst first: fail, marginal, pass, no data, then not judged; within one, the lower score.
fn verdict_rank(v: Option<&VerdictView>) -> f64 {
    let Some(v) = v else { return 1000.0 };
    let kind = match v.verdict.as_str() {
        "fail" => 0.0,
        "marginal" => 1.0,
        "pass" => 2.0,
        _ => 3.0,
    };
    kind * 200.0 + v.score
}

/// The verdict's colour: as the rollout's header shows it.
fn verdict_color(verdict: &str) -> egui::Color32 {
    match verdict {
        "pass" => theme::OK,
        "marginal" => theme::WARN,
        "fail" => theme::ERROR,
        _ => theme::COCKPIT,
    }
}

/// Seconds since the rollout object was created: kubectl's AGE.
pub fn age_secs(v: &RolloutView, now_secs: f64) -> f64 {
    secs_since(v.created_at.as_deref(), now_secs)
}

/// Seconds since the rollout's current state began (its pause started, or its creation).
pub fn in_phase_secs(v: &RolloutView, now_secs: f64) -> f64 {
    secs_since(v.since.as_deref(), now_secs)
}

fn secs_since(time: Option<&str>, now_secs: f64) -> f64 {
    time.and_then(theme::parse_time)
        .map(|t| now_secs - t)
        .unwrap_or(0.0)
}

/// What the table draws: `rows` from [`visible_rows`], and the contexts whose API server
/// does not answer now (name → since when, unix seconds): their rows are as last seen.
pub struct FleetTable<'a> {
    pub rows: &'a [&'a RolloutView],
    pub verdicts: &'a HashMap<RolloutRef, VerdictView>,
    pub selected: Option<&'a RolloutRef>,
    pub stale: &'a HashMap<String, f64>,
    pub now_secs: f64,
}

/// The table.
pub fn fleet_table_ui(
    ui: &mut egui::Ui,
    table: &FleetTable<'_>,
    filter: &mut FleetFilter,
    out: &mut Vec<UiCommand>,
) {
    header_ui(ui, filter);
    ui.separator();
    if table.rows.is_empty() {
        ui.weak("No rollouts match.");
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("fleet-rows")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, table.rows.len(), |ui, range| {
            for view in &table.rows[range] {
                let is_selected = table.selected == Some(&view.reference);
                let stale = table.stale.get(&view.reference.context).copied();
                let verdict = table.verdicts.get(&view.reference);
                row_ui(ui, view, is_selected, stale, verdict, table.now_secs, out);
            }
        });
}

fn header_ui(ui: &mut egui::Ui, filter: &mut FleetFilter) {
    ui.horizontal(|ui| {
        for (title, key, width) in COLUMNS {
            let arrow = match (filter.sort == key, filter.descending) {
                (true, false) => " ▴",
                (true, true) => " ▾",
                _ => "",
            };
            cell(ui, width, |ui| {
                let text = egui::RichText::new(format!("{title}{arrow}")).strong();
                let response = ui
                    .add(egui::Button::new(text).frame(false))
                    .on_hover_text(format!("sort by {}", title.to_lowercase()));
                if response.clicked() {
                    if filter.sort == key {
                        filter.descending = !filter.descending;
                    } else {
                        filter.sort = key;
                        filter.descending = false;
                    }
                }
            });
        }
    });
}

/// One rollout. `stale_since`: its context's server stopped answering then; the row is
/// as last seen, and its Context cell says so.
fn row_ui(
    ui: &mut egui::Ui,
    view: &RolloutView,
    is_selected: bool,
    stale_since: Option<f64>,
    verdict: Option<&VerdictView>,
    now_secs: f64,
    out: &mut Vec<UiCommand>,
) {
    ui.horizontal(|ui| {
        ui.set_height(ROW_HEIGHT - 4.0);
        let r = &view.reference;
        cell(ui, COLUMNS[0].2, |ui| {
            let response = ui
                .selectable_label(is_selected, r.name.as_str())
                .on_hover_text(format!("{} in {}", r, r.context));
            if response.clicked() {
                out.push(UiCommand::Select(r.clone()));
            }
        });
        cell(ui, COLUMNS[1].2, |ui| {
            ui.label(r.namespace.as_str());
        });
        cell(ui, COLUMNS[2].2, |ui| match stale_since {
            Some(since) => {
                ui.colored_label(theme::WARN, format!("{} (stale)", r.context))
                    .on_hover_text(stale_hover(&r.context, since));
            }
            None => {
                ui.label(r.context.as_str());
            }
        });
        cell(ui, COLUMNS[3].2, |ui| {
            ui.label(r.provider.as_str());
        });
        cell(ui, COLUMNS[4].2, |ui| {
            ui.label(view.strategy.as_str());
        });
        cell(ui, COLUMNS[5].2, |ui| {
            theme::badge(ui, view.phase.as_str(), theme::phase_color(view.phase))
                .on_hover_text(view.message.as_str());
        });
        cell(ui, COLUMNS[6].2, |ui| {
            ui.label(view.step_label());
        });
        cell(ui, COLUMNS[7].2, |ui| {
            ui.label(format!("{}%", view.actual_weight));
        });
        cell(ui, COLUMNS[8].2, |ui| {
            ui.label(theme::age(age_secs(view, now_secs)));
        });
        cell(ui, COLUMNS[9].2, |ui| {
            ui.label(theme::age(in_phase_secs(view, now_secs)))
                .on_hover_text(format!("{} for this long", view.phase.as_str()));
        });
        cell(ui, COLUMNS[10].2, |ui| {
            if let Some(v) = verdict {
                let color = verdict_color(&v.verdict);
                // "no data" has no score worth showing.
                let text = if v.verdict == "no data" {
                    v.verdict.clone()
                } else {
                    format!("{} {:.0}", v.verdict, v.score)
                };
                let hover = v.reasons.first().cloned().unwrap_or_default();
                ui.colored_label(color, text).on_hover_text(hover);
            }
        });
        cell(ui, COLUMNS[11].2, |ui| {
            if view.waiting_for_human() {
                ui.colored_label(theme::WARN, WAITING_MARK)
                    .on_hover_text(waiting_reason(view));
            }
            if let Some(line) = view.auto_status_line() {
                let hover = format!("{line}\n\n{}", super::rollout::header::AUTO_STATUS_HOVER);
                ui.colored_label(theme::COCKPIT, line).on_hover_text(hover);
            }
        });
    });
}

/// What a stale row means, for its hover.
pub fn stale_hover(context: &str, since_secs: f64) -> String {
    format!(
        "The API server of {context} has not answered since {}: this row is as it was then. \
         The cockpit reconnects by itself and refreshes it.",
        theme::clock(since_secs)
    )
}

/// Why a rollout waits for a person, in words.
pub fn waiting_reason(view: &RolloutView) -> String {
    if view.paused {
        return "paused by hand: Resume to continue".into();
    }
    let reasons = view.pause_reasons.join(", ");
    format!("{reasons}: waits for someone to promote (Approve)")
}

fn cell(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ROW_HEIGHT),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
            // Text wider than its column (a long name, "weighted (Gateway API)") is elided
            // with the whole text on hover, never pushing the next columns out of line.
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            add(ui);
        },
    );
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
