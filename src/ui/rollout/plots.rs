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
use crate::model::{MetricsSnapshot, Point, Signal, Version};
use crate::ui::app::PlotView;
use crate::ui::theme;
use crate::ui::timeline::Marker;

/// The lines of one signal for one version: a legend label, a colour, and the runs of
/// consecutive points between gaps.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSeries {
    pub version: Version,
    /// `canary 7f9c5d8b4`: the legend entry, shared by all segments.
    pub label: String,
    pub segments: Vec<Vec<[f64; 2]>>,
}

/// Values are scaled for display: shares and error rates in percent, p95 in milliseconds.
pub fn display_scale(signal: Signal) -> f64 {
    match signal {
        Signal::TrafficShare | Signal::ErrorRate => 100.0,
        Signal::P95Ms | Signal::RequestRate => 1.0,
    }
}

pub fn signal_title(signal: Signal) -> &'static str {
    match signal {
        Signal::TrafficShare => "Traffic share (%)",
        Signal::ErrorRate => "Error rate (%)",
        Signal::P95Ms => "p95 latency (ms)",
        Signal::RequestRate => "Requests per second",
    }
}

/// The series of `signal` in `snapshot`, split at gaps, in a stable order (by role, hash).
pub fn plot_series(snapshot: &MetricsSnapshot, signal: Signal) -> Vec<PlotSeries> {
    let scale = display_scale(signal);
    let mut out: Vec<PlotSeries> = snapshot
        .series
        .iter()
        .filter(|s| s.signal == signal)
        .map(|s| PlotSeries {
            version: s.version.clone(),
            label: legend_label(&s.version),
            segments: segments(&s.points, scale),
        })
        .collect();
    out.sort_by(|a, b| a.version.cmp(&b.version));
    out
}

/// The runs of consecutive finite points between gaps, values times `scale`.
fn segments(points: &[Point], scale: f64) -> Vec<Vec<[f64; 2]>> {
    let mut segments = Vec::new();
    let mut run: Vec<[f64; 2]> = Vec::new();
    for p in points {
        match p.value {
            Some(v) if v.is_finite() => run.push([p.t_secs, v * scale]),
            _ => {
                if !run.is_empty() {
                    segments.push(std::mem::take(&mut run));
                }
            }
        }
    }
    if !run.is_empty() {
        segments.push(run);
    }
    segments
}

/// The names of the custom metrics in `snapshot`, each once, sorted.
pub fn custom_names(snapshot: &MetricsSnapshot) -> Vec<&str> {
    let mut names: Vec<&str> = snapshot.custom.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The series of custom metric `name` per version, as [`plot_series`] gives a signal's
/// (values as the query answers them).
pub fn custom_series(snapshot: &MetricsSnapshot, name: &str) -> Vec<PlotSeries> {
    let mut out: Vec<PlotSeries> = snapshot
        .custom
        .iter()
        .filter(|s| s.name == name)
        .map(|s| PlotSeries {
            version: s.version.clone(),
            label: legend_label(&s.version),
            segments: segments(&s.points, 1.0),
        })
        .collect();
    out.sort_by(|a, b| a.version.cmp(&b.version));
    out
}

/// The template's extra latency quantiles in `snapshot` (`p50`, `p99`), each once, lowest
/// first.
pub fn quantile_names(snapshot: &MetricsSnapshot) -> Vec<&str> {
    let mut names: Vec<&str> = snapshot.quantiles.iter().map(|s| s.name.as_str()).collect();
    let value = |name: &str| {
        name.trim_start_matches('p')
            .parse::<f64>()
            .unwrap_or(f64::MAX)
    };
    names.sort_by(|a, b| value(a).total_cmp(&value(b)).then(a.cmp(b)));
    names.dedup();
    names
}

/// The series of extra quantile `name` (ms) per version, labelled `canary 7f9c5d8b4 p99`.
pub fn quantile_series(snapshot: &MetricsSnapshot, name: &str) -> Vec<PlotSeries> {
    let mut out: Vec<PlotSeries> = snapshot
        .quantiles
        .iter()
        .filter(|s| s.name == name)
        .map(|s| PlotSeries {
            version: s.version.clone(),
            label: format!("{} {name}", legend_label(&s.version)),
            segments: segments(&s.points, 1.0),
        })
        .collect();
    out.sort_by(|a, b| a.version.cmp(&b.version));
    out
}

/// How the latency chart draws its n-th extra quantile, and says so in its key: p95 is
/// solid, the others dashed then dotted.
fn quantile_style(index: usize) -> (egui_plot::LineStyle, &'static str) {
    if index == 0 {
        (egui_plot::LineStyle::dashed_loose(), "dashed")
    } else {
        (egui_plot::LineStyle::dotted_loose(), "dotted")
    }
}

/// The oldest time with a value in the snapshot, if any (leading gaps do not count).
pub fn earliest_time(snapshot: &MetricsSnapshot) -> Option<f64> {
    snapshot
        .series
        .iter()
        .filter_map(|s| {
            s.points
                .iter()
                .find(|p| p.value.is_some())
                .map(|p| p.t_secs)
        })
        .min_by(f64::total_cmp)
}

/// Where the live x axis starts: the window before `end`, but no earlier than ten seconds
/// before the first point (at least a minute shown), so that a young series fills the plot
/// instead of hugging its right edge.
pub fn live_start(end: f64, window_secs: f64, earliest: Option<f64>) -> f64 {
    let full = end - window_secs;
    match earliest {
        Some(first) => full.max((first - 10.0).min(end - 60.0)),
        None => full,
    }
}

/// The newest time in the snapshot, if any.
pub fn latest_time(snapshot: &MetricsSnapshot) -> Option<f64> {
    snapshot
        .series
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.t_secs))
        .max_by(f64::total_cmp)
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

/// A legend entry: `canary 7f9c5d8b4`, `previous stable 6d4b9c7f8`.
pub fn legend_label(v: &Version) -> String {
    format!("{} {}", v.role, v.hash)
}

fn scrolled(ui: &egui::Ui) -> bool {
    ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO || i.zoom_delta() != 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, RolloutRef, VersionRole, VersionSeries};

    fn snapshot() -> MetricsSnapshot {
        let point = |t: f64, v: Option<f64>| Point {
            t_secs: t,
            value: v,
        };
        MetricsSnapshot {
            quantiles: Vec::new(),
            sample_window_secs: None,
            rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
            source: "prometheus".into(),
            series: vec![
                VersionSeries {
                    version: Version::new(VersionRole::Canary, "7f9c5d8b4"),
                    signal: Signal::ErrorRate,
                    points: vec![
                        point(10.0, Some(0.01)),
                        point(11.0, Some(0.02)),
                        point(12.0, None),
                        point(13.0, Some(0.5)),
                    ],
                },
                VersionSeries {
                    version: Version::new(VersionRole::Stable, "6d4b9c7f8"),
                    signal: Signal::ErrorRate,
                    points: vec![point(10.0, Some(0.0)), point(13.0, Some(0.001))],
                },
                VersionSeries {
                    version: Version::new(VersionRole::Stable, "6d4b9c7f8"),
                    signal: Signal::P95Ms,
                    points: vec![point(10.0, Some(120.0))],
                },
            ],
            stale_since_secs: Some(13.0),
            error: Some("connection refused (127.0.0.1:9090)".into()),
            roles: Vec::new(),
            latency_buckets: Vec::new(),
            custom: Vec::new(),
        }
    }

    #[test]
    fn extra_quantiles_are_ordered_by_value_and_labelled_by_version() {
        let mut snap = snapshot();
        let canary = Version::new(VersionRole::Canary, "7f9c5d8b4");
        let named = |name: &str| crate::model::NamedSeries {
            name: name.into(),
            version: canary.clone(),
            points: vec![Point {
                t_secs: 10.0,
                value: Some(120.0),
            }],
        };
        snap.quantiles = vec![named("p99.9"), named("p50"), named("p99")];
        assert_eq!(quantile_names(&snap), ["p50", "p99", "p99.9"]);
        let p99 = quantile_series(&snap, "p99");
        assert_eq!(p99.len(), 1);
        assert_eq!(p99[0].label, "canary 7f9c5d8b4 p99");
        assert_eq!(p99[0].segments, vec![vec![[10.0, 120.0]]]);
    }

    #[test]
    fn gaps_split_lines_and_values_are_scaled() {
        let series = plot_series(&snapshot(), Signal::ErrorRate);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].label, "stable 6d4b9c7f8", "stable sorts first");
        let canary = &series[1];
        assert_eq!(canary.label, "canary 7f9c5d8b4");
        assert_eq!(
            canary.segments,
            vec![vec![[10.0, 1.0], [11.0, 2.0]], vec![[13.0, 50.0]]]
        );
        let p95 = plot_series(&snapshot(), Signal::P95Ms);
        assert_eq!(p95[0].segments, vec![vec![[10.0, 120.0]]]);
        assert!(plot_series(&snapshot(), Signal::TrafficShare).is_empty());
    }

    #[test]
    fn a_previous_version_keeps_its_line_under_its_new_name() {
        let mut snap = snapshot();
        snap.series[1].version.role = VersionRole::PreviousStable;
        let series = plot_series(&snap, Signal::ErrorRate);
        assert_eq!(series[0].label, "canary 7f9c5d8b4");
        assert_eq!(series[1].label, "previous stable 6d4b9c7f8");
        assert_eq!(series[1].segments, vec![vec![[10.0, 0.0], [13.0, 0.1]]]);
    }

    #[test]
    fn only_the_visible_window_is_plotted_when_live() {
        let segment = [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]];
        assert_eq!(visible(&segment, 2.5), &segment[1..]);
        assert_eq!(visible(&segment, 0.0), &segment[..]);
        assert_eq!(visible(&segment, 9.0), &segment[3..]);
    }

    #[test]
    fn a_young_series_fills_the_plot() {
        assert_eq!(live_start(1000.0, 900.0, None), 100.0);
        assert_eq!(live_start(1000.0, 900.0, Some(980.0)), 940.0);
        assert_eq!(live_start(1000.0, 900.0, Some(700.0)), 690.0);
        assert_eq!(live_start(1000.0, 900.0, Some(0.0)), 100.0);
    }

    #[test]
    fn stale_data_says_since_when_and_why() {
        let text = stale_text(&snapshot()).expect("stale");
        assert!(text.starts_with("stale since "), "{text}");
        assert!(
            text.ends_with("Prometheus unreachable: connection refused (127.0.0.1:9090)"),
            "{text}"
        );
        assert_eq!(latest_time(&snapshot()), Some(13.0));
    }
}
