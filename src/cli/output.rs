//! Text output that reads like `kubectl argo rollouts`: the list table, the `get` block,
//! one line per outcome and per watched change.

use crate::cluster::RolloutDetail;
use crate::model::{Outcome, Phase, RolloutView};
use std::io::Write;

/// The symbol `kubectl argo rollouts` puts before a status.
pub fn status_icon(phase: Phase) -> &'static str {
    match phase {
        Phase::Healthy => "✔",
        Phase::Paused => "॥",
        Phase::Progressing => "◌",
        Phase::Degraded => "✖",
    }
}

/// kubectl's `HumanDuration`: "45s", "5m30s", "3h", "7d", "2y".
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Age of a creation timestamp (RFC 3339) at `now`.
fn age(created: Option<&str>, now: jiff::Timestamp) -> String {
    created
        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
        .map(|t| human_duration(now.duration_since(t).as_secs()))
        .unwrap_or_else(|| "-".into())
}

/// The list table.
pub fn write_list(
    out: &mut dyn Write,
    views: &[RolloutView],
    now: jiff::Timestamp,
) -> std::io::Result<()> {
    if views.is_empty() {
        return writeln!(out, "No rollouts found.");
    }
    let header = [
        "NAME",
        "NAMESPACE",
        "CONTROLLER",
        "STRATEGY",
        "STATUS",
        "STEP",
        "SET-WEIGHT",
        "READY",
        "AGE",
    ];
    let rows: Vec<[String; 9]> = views
        .iter()
        .map(|v| {
            [
                v.reference.name.clone(),
                v.reference.namespace.clone(),
                v.reference.provider.as_str().to_string(),
                v.strategy.as_str().to_string(),
                v.phase.as_str().to_string(),
                dash_if_empty(v.step_label()),
                match v.strategy {
                    crate::model::StrategyKind::Canary | crate::model::StrategyKind::Weighted => {
                        v.set_weight.to_string()
                    }
                    _ => "-".into(),
                },
                format!("{}/{}", v.ready_replicas, v.replicas),
                age(v.created_at.as_deref(), now),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            s.push_str(cell);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        s
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn dash_if_empty(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

/// The `get` block.
/// Flagger's own words for a canary: its phase, checks, analysis and webhooks.
fn write_flagger(
    out: &mut dyn Write,
    f: &crate::model::flagger::FlaggerDetail,
) -> std::io::Result<()> {
    writeln!(out, "Flagger:")?;
    let field = |out: &mut dyn Write, name: &str, value: &str| {
        writeln!(out, "{:<17}{value}", format!("  {name}:"))
    };
    field(out, "Phase", &f.phase)?;
    field(out, "CanaryWeight", &f.canary_weight.to_string())?;
    field(
        out,
        "FailedChecks",
        &format!("{}/{}", f.failed_checks, f.threshold),
    )?;
    if f.max_iterations > 0 {
        field(
            out,
            "Iterations",
            &format!("{}/{}", f.iterations, f.max_iterations),
        )?;
    }
    field(out, "Interval", &f.interval)?;
    if let Some(t) = &f.last_transition_time {
        field(out, "LastTransition", t)?;
    }
    for condition in &f.conditions {
        field(out, "Condition", condition)?;
    }
    for hook in &f.webhooks {
        field(
            out,
            "Webhook",
            &format!("{} \"{}\" {}", hook.kind, hook.name, hook.url),
        )?;
    }
    if f.suspended {
        field(out, "Suspended", "true")?;
    }
    Ok(())
}

pub fn write_get(out: &mut dyn Write, detail: &RolloutDetail) -> std::io::Result<()> {
    let v = &detail.view;
    let field = |out: &mut dyn Write, name: &str, value: &str| {
        writeln!(out, "{:<17}{value}", format!("{name}:"))
    };
    field(out, "Name", &v.reference.name)?;
    field(out, "Namespace", &v.reference.namespace)?;
    field(out, "Controller", v.reference.provider.as_str())?;
    field(
        out,
        "Status",
        &format!("{} {}", status_icon(v.phase), v.phase),
    )?;
    if !v.message.is_empty() {
        field(out, "Message", &v.message)?;
    }
    field(out, "Strategy", v.strategy.as_str())?;
    if matches!(
        v.strategy,
        crate::model::StrategyKind::Canary | crate::model::StrategyKind::Weighted
    ) {
        if !v.step_label().is_empty() {
            field(out, "  Step", &v.step_label())?;
        }
        field(out, "  SetWeight", &v.set_weight.to_string())?;
        field(out, "  ActualWeight", &v.actual_weight.to_string())?;
    }
    if let Some(flagger) = &v.flagger {
        write_flagger(out, flagger)?;
    }
    let images: Vec<String> = detail
        .tagged_images
        .iter()
        .map(|t| {
            if t.roles.is_empty() {
                t.image.clone()
            } else {
                let roles: Vec<&str> = t.roles.iter().map(|r| r.as_str()).collect();
                format!("{} ({})", t.image, roles.join(", "))
            }
        })
        .collect();
    match images.split_first() {
        Some((first, rest)) => {
            field(out, "Images", first)?;
            for image in rest {
                writeln!(out, "{:<17}{image}", "")?;
            }
        }
        None => field(out, "Images", "-")?,
    }
    writeln!(out, "Replicas:")?;
    field(out, "  Current", &v.replicas.to_string())?;
    field(out, "  Updated", &v.updated_replicas.to_string())?;
    field(out, "  Ready", &v.ready_replicas.to_string())?;
    field(out, "  Available", &v.available_replicas.to_string())?;
    field(out, "Revision", v.revision.as_deref().unwrap_or("-"))?;
    if let Some(action) = &v.last_action {
        field(out, "Last action", action)?;
    }
    if let Some(line) = v.auto_status_line() {
        field(out, "Pipeline", &line)?;
    }
    write_analysis_runs(out, &detail.analysis_runs)
}

/// The controller's AnalysisRuns: each run's phase and role, its message when it ended
/// badly, and each metric's latest value and phase with the rule that judged it.
fn write_analysis_runs(
    out: &mut dyn Write,
    runs: &[crate::model::AnalysisRunSummary],
) -> std::io::Result<()> {
    if runs.is_empty() {
        return Ok(());
    }
    writeln!(out, "AnalysisRuns:")?;
    for run in runs {
        let role = if run.role.is_empty() {
            String::new()
        } else {
            format!(" ({})", run.role)
        };
        writeln!(
            out,
            "  {} {}{role}: {}",
            analysis_icon(&run.phase),
            run.name,
            run.phase
        )?;
        if (run.failed() || run.inconclusive())
            && let Some(message) = &run.message
        {
            writeln!(out, "      {message}")?;
        }
        for metric in &run.metrics {
            let latest = metric
                .latest()
                .map(|m| m.phase.as_str())
                .unwrap_or("no measurement yet");
            writeln!(
                out,
                "    {} {} (latest: {latest})",
                analysis_icon(&metric.phase),
                metric.explain()
            )?;
        }
    }
    Ok(())
}

/// The mark kubectl-argo-rollouts puts before an analysis phase.
fn analysis_icon(phase: &str) -> &'static str {
    match phase {
        "Successful" => "✔",
        "Failed" | "Error" => "✖",
        "Inconclusive" => "⚠",
        "Running" => "◌",
        _ => "…",
    }
}

/// "rollout 'checkout' promoted: step 1 → 2 (weight 40%)".
pub fn outcome_line(outcome: &Outcome) -> String {
    format!("rollout '{}' {}", outcome.rollout.name, outcome.summary)
}

/// One line per watched change: the time and [`watch_state`].
pub fn watch_line(v: &RolloutView, now: jiff::Timestamp) -> String {
    format!("{}  {}", now.strftime("%H:%M:%S"), watch_state(v))
}

/// What a watch shows of a rollout; a new line is printed when this changes.
pub fn watch_state(v: &RolloutView) -> String {
    let mut line = format!("{} {}", status_icon(v.phase), v.phase);
    if !v.step_label().is_empty() {
        line.push_str(&format!("  step {}", v.step_label()));
    }
    if matches!(
        v.strategy,
        crate::model::StrategyKind::Canary | crate::model::StrategyKind::Weighted
    ) {
        line.push_str(&format!(
            "  weight {}% (actual {}%)",
            v.set_weight, v.actual_weight
        ));
    }
    line.push_str(&format!("  ready {}/{}", v.ready_replicas, v.replicas));
    if !v.message.is_empty() {
        line.push_str(&format!("  {}", v.message));
    }
    line
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
