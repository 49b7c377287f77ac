//! The Analysis rows beside the verdict: the controller's own judgement (Argo AnalysisRuns),
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
const SHOWN_RUNS: usize = 2;

/// The panel as rows of the header's state grid, right under the verdict's: a row per run
/// (phase badge, what it is for), the deciding metric in words when it failed or was
/// inconclusive, and a row per metric with its latest value and phase.
pub fn analysis_rows(ui: &mut egui::Ui, runs: &[AnalysisRunSummary]) {
    for (i, run) in runs.iter().take(SHOWN_RUNS).enumerate() {
        if i == 0 {
            ui.weak("Analysis").on_hover_text(
                "The controller's own judgement: Argo AnalysisRuns of this rollout, newest first",
            );
        } else {
            ui.label("");
        }
        ui.horizontal(|ui| {
            theme::badge(ui, run.phase.as_str(), phase_color(&run.phase));
            let role = if run.role.is_empty() {
                "analysis".to_string()
            } else {
                format!("{} analysis", run.role)
            };
            ui.label(role);
            ui.weak(run.name.as_str());
        });
        ui.end_row();
        if run.failed() || run.inconclusive() {
            let words = match run.deciding_metric() {
                Some(metric) => metric.explain(),
                None => run.message.clone().unwrap_or_default(),
            };
            ui.label("");
            // One line at the window's edge; the words and Argo's message whole on hover.
            let hover = match &run.message {
                Some(message) if *message != words => format!("{words}\n{message}"),
                _ => words.clone(),
            };
            ui.add(
                egui::Label::new(egui::RichText::new(words).color(phase_color(&run.phase)))
                    .truncate(),
            )
            .on_hover_text(hover);
            ui.end_row();
        }
        for metric in &run.metrics {
            let latest = metric.latest();
            let value = latest
                .and_then(|m| m.value.clone())
                .unwrap_or_else(|| "—".into());
            let phase = latest
                .map(|m| m.phase.as_str())
                .unwrap_or("not measured yet");
            let when = latest
                .and_then(|m| m.finished_at.as_deref())
                .and_then(|t| t.get(11..19))
                .unwrap_or_default();
            ui.label("");
            ui.horizontal(|ui| {
                ui.label(format!("{}: {value}", metric.name));
                ui.colored_label(phase_color(phase), phase);
                let measured = match metric.count {
                    Some(count) => format!("{} of {count} measured", metric.measured),
                    None => format!("{} measured", metric.measured),
                };
                ui.weak(format!("{when} · {measured}"));
            })
            .response
            .on_hover_text(metric_hover(metric));
            ui.end_row();
        }
    }
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
