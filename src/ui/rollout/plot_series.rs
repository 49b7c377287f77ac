//! The series the charts draw, from a metrics snapshot: per version and signal (scaled for
//! display), per custom metric and extra latency quantile, split at gaps; the legend's words
//! and the live window's span. Plain data: `plots.rs` draws it.

use crate::model::{MetricsSnapshot, Point, Signal, Version};

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

/// A legend entry: `canary 7f9c5d8b4`, `previous stable 6d4b9c7f8`.
pub fn legend_label(v: &Version) -> String {
    format!("{} {}", v.role, v.hash)
}
