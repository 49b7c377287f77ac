//! The Analysis panel beside the verdict: the controller's own judgement (Argo AnalysisRuns),
//! each run's phase in colour and, per metric, its latest value and phase; a failed or
//! inconclusive run names the deciding metric in words.

use crate::model::AnalysisRunSummary;
use crate::ui::theme;

/// The colour of an analysis phase.
pub fn phase_color(phase: &str) -> egui::Color32 {
    match phase {
        "Successful" => theme::OK,
        "Failed" | "Error" => theme::ERROR,
        "Inconclusive" => theme::WARN,
        _ => theme::COCKPIT,
    }
}

/// How many runs the panel shows (newest first); the CLI's `get` lists them all.
const SHOWN_RUNS: usize = 3;

pub fn analysis_ui(ui: &mut egui::Ui, runs: &[AnalysisRunSummary]) {
    ui.vertical(|ui| {
        ui.weak("Analysis (controller)");
        if runs.is_empty() {
            ui.weak("no AnalysisRuns for this rollout");
            return;
        }
        for run in runs.iter().take(SHOWN_RUNS) {
            ui.horizontal(|ui| {
                theme::badge(ui, run.phase.as_str(), phase_color(&run.phase));
                let role = if run.role.is_empty() {
                    "analysis".to_string()
                } else {
                    run.role.clone()
                };
                ui.label(role)
                    .on_hover_text(format!("AnalysisRun {}", run.name));
            });
            if run.failed() || run.inconclusive() {
                let words = match run.deciding_metric() {
                    Some(metric) => metric.explain(),
                    None => run.message.clone().unwrap_or_default(),
                };
                ui.colored_label(phase_color(&run.phase), words)
                    .on_hover_text(run.message.clone().unwrap_or_default());
            }
            for metric in &run.metrics {
                let latest = metric.latest();
                let value = latest
                    .and_then(|m| m.value.clone())
                    .unwrap_or_else(|| "—".into());
                let phase = latest
                    .map(|m| m.phase.as_str())
                    .unwrap_or("not measured yet");
                ui.horizontal(|ui| {
                    ui.add_space(8.0);
                    ui.label(format!("{}: {value}", metric.name));
                    ui.colored_label(phase_color(phase), phase);
                })
                .response
                .on_hover_text(metric_hover(metric));
            }
        }
    });
}

/// The metric's rules and counts, for the hover.
fn metric_hover(metric: &crate::model::MetricSummary) -> String {
    let mut lines = vec![metric.explain()];
    if let Some(c) = &metric.success_condition {
        lines.push(format!("success: {c}"));
    }
    if let Some(c) = &metric.failure_condition {
        lines.push(format!("failure: {c}"));
    }
    lines.push(format!(
        "{} measured: {} successful, {} failed, {} inconclusive, {} errors",
        metric.measured, metric.successful, metric.failed, metric.inconclusive, metric.error
    ));
    let limit = |v: Option<i64>| v.map_or("default".to_string(), |n| n.to_string());
    lines.push(format!(
        "count {}, failure limit {}, inconclusive limit {}, consecutive error limit {}",
        metric
            .count
            .map_or("until the run ends".to_string(), |n| n.to_string()),
        limit(metric.failure_limit),
        limit(metric.inconclusive_limit),
        limit(metric.consecutive_error_limit)
    ));
    for m in &metric.measurements {
        lines.push(format!(
            "{} {} {}",
            m.finished_at
                .as_deref()
                .or(m.started_at.as_deref())
                .unwrap_or("?"),
            m.value.as_deref().unwrap_or("—"),
            m.phase
        ));
    }
    lines.join("\n")
}
