//! Four plots on one linked time axis (and one linked cursor): traffic share, error rate,
//! p95 (with the template's extra quantiles, p99 dashed) and requests per second per
//! version, coloured by role; a version that plays no part
//! any more (the previous stable) stays, dimmed. Gaps in the data are drawn as breaks; markers show
//! step changes, pauses, promotions, aborts and manual actions (the cockpit's own: solid ◆;
//! the controller's Events: dotted ○, Warnings in the error colour); stale data says so.
//! Under them, one small chart per custom metric of the policy (its name as the title of a
//! collapsing header), per version in the same colours.

use super::plot_axes::{hover_label, time_label, time_steps, value_steps, y_label};
use super::plot_markers::markers_legend_ui;
pub use super::plot_markers::{MarkerLine, MarkerStyle, marker_style};
pub use super::plot_series::{
    PlotSeries, custom_names, custom_series, display_scale, earliest_time, latest_time,
    legend_label, live_start, plot_series, quantile_names, quantile_series, signal_title,
};
use crate::model::{MetricsSnapshot, Signal, Version};
use crate::ui::app::PlotView;
use crate::ui::theme;
use crate::ui::timeline::Marker;

/// How the latency chart draws its n-th extra quantile, and says so in its key: p95 is
/// solid, the others dashed then dotted.
fn quantile_style(index: usize) -> (egui_plot::LineStyle, &'static str) {
    if index == 0 {
        (egui_plot::LineStyle::dashed_loose(), "dashed")
    } else {
        (egui_plot::LineStyle::dotted_loose(), "dotted")
    }
}

/// "stale since 14:02:11 — Prometheus unreachable: …" when the source stopped answering.
pub fn stale_text(snapshot: &MetricsSnapshot) -> Option<String> {
    let since = snapshot.stale_since_secs?;
    let why = snapshot
        .error
        .as_deref()
        .unwrap_or("the metrics source stopped answering");
    Some(format!(
        "stale since {} — {} unreachable: {why}",
        theme::clock(since),
        source_name(&snapshot.source)
    ))
}

fn source_name(source: &str) -> &str {
    match source {
        "prometheus" => "Prometheus",
        "scrape" => "the scrape target",
        other => other,
    }
}

/// The four plots. `now_secs` anchors the live window.
pub fn plots_ui(
    ui: &mut egui::Ui,
    snapshot: Option<&MetricsSnapshot>,
    markers: &[Marker],
    view: &mut PlotView,
    now_secs: f64,
) {
    ui.horizontal(|ui| {
        ui.label("Window");
        for minutes in [5, 15, 30, 60] {
            if ui
                .selectable_label(view.window_minutes == minutes, format!("{minutes} min"))
                .clicked()
            {
                view.window_minutes = minutes;
                view.follow_live = true;
            }
        }
        let live = ui.add_enabled(!view.follow_live, egui::Button::new("Follow live"));
        if live.clicked() {
            view.follow_live = true;
        }
        if !view.follow_live {
            ui.weak("drag or scroll the plots to look back; double-click resets");
        }
    });
    let Some(snapshot) = snapshot else {
        ui.weak("Waiting for metrics…");
        return;
    };
    // A stale note or an error may carry a whole query: one line, the rest on hover.
    if let Some(text) = stale_text(snapshot).or_else(|| snapshot.error.clone()) {
        elided_ui(ui, &text, theme::WARN);
    }
    let stale = snapshot.stale_since_secs.is_some();
    let link = egui::Id::unique(("release-cockpit-plots", &snapshot.rollout));
    let end = if view.follow_live {
        now_secs.max(latest_time(snapshot).unwrap_or(now_secs))
    } else {
        now_secs
    };
    let start = live_start(
        end,
        f64::from(view.window_minutes) * 60.0,
        earliest_time(snapshot),
    );
    // Each plot has a title line above it, and the marker list follows the four.
    legend_ui(ui, snapshot);
    let plots = Signal::PLOTTED.len() as f32;
    let chrome = plots * 30.0 + if markers.is_empty() { 0.0 } else { 36.0 };
    let height = ((ui.available_height() - chrome) / plots).clamp(80.0, 260.0);
    let mut user_moved = false;
    let quantiles = quantile_names(snapshot);
    for signal in Signal::PLOTTED {
        let series = plot_series(snapshot, signal);
        let extra = if signal == Signal::P95Ms {
            quantiles.as_slice()
        } else {
            &[]
        };
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(signal_title(signal)).strong());
            if !extra.is_empty() {
                let key: Vec<String> = extra
                    .iter()
                    .enumerate()
                    .map(|(i, name)| format!("{name} {}", quantile_style(i).1))
                    .collect();
                ui.weak(format!("p95 solid, {}", key.join(", ")));
            }
        });
        let response = time_plot(("plot", signal.as_str()), height, link)
            // Shares are read against the whole: 0–100 % always. A flat 0 % error rate
            // still gets a 0–1 % scale instead of one centred on zero (negative rates).
            .include_y(match signal {
                Signal::TrafficShare => 100.0,
                Signal::ErrorRate => 1.0,
                Signal::P95Ms | Signal::RequestRate => 0.0,
            })
            .show(ui, |plot_ui| {
                if view.follow_live {
                    plot_ui.set_plot_bounds_x(start..=end);
                }
                let lines = Lines {
                    follow_live: view.follow_live,
                    start,
                    stale,
                };
                lines.draw(
                    plot_ui,
                    &series,
                    signal.as_str(),
                    egui_plot::LineStyle::Solid,
                );
                for (i, name) in extra.iter().enumerate() {
                    let series = quantile_series(snapshot, name);
                    lines.draw(plot_ui, &series, name, quantile_style(i).0);
                }
                for m in markers {
                    let style = marker_style(m);
                    plot_ui.vline(
                        egui_plot::VLine::new("", m.t_secs)
                            .color(style.color)
                            .width(style.width)
                            .style(match style.line {
                                MarkerLine::Solid => egui_plot::LineStyle::Solid,
                                MarkerLine::Dashed => egui_plot::LineStyle::dashed_dense(),
                                MarkerLine::Dotted => egui_plot::LineStyle::dotted_dense(),
                            }),
                    );
                }
            });
        if response.response.dragged() || response.response.hovered() && scrolled(ui) {
            user_moved = true;
        }
    }
    // The policy's custom metrics: one small chart each, collapsible, on the same time axis.
    for name in custom_names(snapshot) {
        let series = custom_series(snapshot, name);
        egui::CollapsingHeader::new(egui::RichText::new(name).strong())
            .id_salt(("custom-metric", name))
            .default_open(true)
            .show(ui, |ui| {
                // From 0 to the highest value seen (a flat 0 reads on a 0–1 scale, never a
                // range around zero with negative labels).
                let highest = series
                    .iter()
                    .flat_map(|s| s.segments.iter().flatten())
                    .map(|p| p[1])
                    .fold(0.0, f64::max);
                let ceiling = if highest > 0.0 { highest } else { 1.0 };
                let plot = time_plot(("custom-plot", name), 90.0, link).include_y(ceiling);
                let response = plot.show(ui, |plot_ui| {
                    if view.follow_live {
                        plot_ui.set_plot_bounds_x(start..=end);
                    }
                    let lines = Lines {
                        follow_live: view.follow_live,
                        start,
                        stale,
                    };
                    lines.draw(plot_ui, &series, name, egui_plot::LineStyle::Solid);
                });
                if response.response.dragged() || response.response.hovered() && scrolled(ui) {
                    user_moved = true;
                }
            });
    }
    if user_moved {
        view.follow_live = false;
    }
    markers_legend_ui(ui, markers);
}

/// A chart on the shared time axis: linked to the others, zoomed and dragged in time only,
/// from 0 up, with the same y-label width on all (so their time axes align) and 1-2-5 steps
/// (egui_plot's default is powers of ten, which left 0–5 % with a lone "0").
fn time_plot(id: impl egui::AsIdSalt, height: f32, link: egui::Id) -> egui_plot::Plot<'static> {
    egui_plot::Plot::new(id)
        .height(height)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .allow_zoom([true, false])
        .allow_scroll([true, false])
        .allow_drag([true, false])
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .min_thickness(44.0)
                .label_spacing(12.0..=20.0)
                .formatter(|mark, _| y_label(mark.value, mark.step_size)),
        ])
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|input| {
            value_steps(input.base_step_size)
        }))
        .x_axis_formatter(|mark, range| time_label(mark.value, range))
        .x_grid_spacer(egui_plot::uniform_grid_spacer(time_steps))
        .label_formatter(hover_label)
}

/// How a chart's lines are drawn: each version in its role's colour (dimmed when stale or
/// no longer playing a part), following live only the visible window handed to the plot.
struct Lines {
    follow_live: bool,
    start: f64,
    stale: bool,
}

impl Lines {
    fn draw(
        &self,
        plot_ui: &mut egui_plot::PlotUi,
        series: &[PlotSeries],
        chart: &str,
        style: egui_plot::LineStyle,
    ) {
        for s in series {
            let mut color = theme::role_color(s.version.role);
            if self.stale || !s.version.role.is_current() {
                color = color.gamma_multiply(0.45);
            }
            for (i, segment) in s.segments.iter().enumerate() {
                let points = if self.follow_live {
                    visible(segment, self.start)
                } else {
                    segment.as_slice()
                };
                if points.is_empty() {
                    continue;
                }
                plot_ui.line(
                    egui_plot::Line::new(s.label.as_str(), points.to_vec())
                        .id((&s.label, chart, i))
                        .color(color)
                        .style(style)
                        .width(1.8),
                );
            }
        }
    }
}

/// The points of a time-sorted segment from `start` on (one earlier, so the line enters
/// from the left edge).
pub fn visible(segment: &[[f64; 2]], start: f64) -> &[[f64; 2]] {
    let from = segment.partition_point(|p| p[0] < start);
    &segment[from.saturating_sub(1)..]
}

/// One line, cut at the edge with "…" and the whole text on hover: a long error or a query
/// must not widen the window past its charts.
pub fn elided_ui(ui: &mut egui::Ui, text: &str, color: egui::Color32) {
    ui.add(egui::Label::new(egui::RichText::new(text).color(color)).truncate())
        .on_hover_text(text);
}

/// One legend for the four plots: the colours are the same in each. Each entry says on
/// hover the roles the version played ("canary → stable → previous stable").
fn legend_ui(ui: &mut egui::Ui, snapshot: &MetricsSnapshot) {
    let mut versions: Vec<&Version> = snapshot.series.iter().map(|s| &s.version).collect();
    versions.sort();
    versions.dedup();
    ui.horizontal_wrapped(|ui| {
        for v in versions {
            let mut color = theme::role_color(v.role);
            if !v.role.is_current() {
                color = color.gamma_multiply(0.45);
            }
            ui.label(egui::RichText::new("━━").color(color).strong());
            let entry = ui.label(legend_label(v));
            if let Some(roles) = snapshot.roles.iter().find(|r| r.hash == v.hash) {
                entry.on_hover_text(format!("{}: {}", v.hash, roles.history_text()));
            }
            ui.add_space(12.0);
        }
    });
}

fn scrolled(ui: &egui::Ui) -> bool {
    ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO || i.zoom_delta() != 1.0)
}

#[cfg(test)]
#[path = "plots_tests.rs"]
mod tests;
