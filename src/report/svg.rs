//! One signal (or custom metric) per version as an SVG line chart, written by hand (a few
//! dozen elements: a plotting crate would add a font stack and minutes of build for that).
//! Gaps are breaks, a version that plays no part any more is drawn dashed, an extra latency
//! quantile (p99) dotted, the axes are labelled in UTC.

use crate::model::{NamedSeries, Point, Signal, Version, VersionRole, VersionSeries};
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 62.0;

/// The colour of a role, as the window draws it (Okabe–Ito).
fn role_color(role: VersionRole) -> &'static str {
    match role {
        VersionRole::Stable => "#0072B2",
        VersionRole::Canary => "#E69F00",
        VersionRole::Active => "#009E73",
        VersionRole::Preview => "#CC79A7",
        VersionRole::PreviousStable => "#6E8AA0",
        VersionRole::PreviousCanary => "#A08E6E",
    }
}

/// Title and the factor values are shown at (percent for shares and error rates).
pub fn title_and_scale(signal: Signal) -> (&'static str, f64) {
    match signal {
        Signal::TrafficShare => ("Traffic share (%)", 100.0),
        Signal::ErrorRate => ("Error rate (%)", 100.0),
        Signal::P95Ms => ("p95 latency (ms)", 1.0),
        Signal::RequestRate => ("Requests per second", 1.0),
    }
}

/// One line of a chart: a version's values (already scaled), labelled by its role and hash
/// and, for an extra quantile, its name (`p99`), drawn dotted.
pub struct ChartLine<'a> {
    pub version: &'a Version,
    /// `p99` for an extra quantile's line (dotted); empty for the chart's own.
    pub suffix: &'a str,
    pub points: &'a [Point],
}

/// The chart of `signal` over `from_secs..=to_secs`, one line per version in `series`
/// (those of other signals are ignored), with the extra quantiles' lines on the latency
/// chart; `None` when no version has a value for it.
pub fn chart(
    series: &[VersionSeries],
    quantiles: &[NamedSeries],
    signal: Signal,
    from_secs: f64,
    to_secs: f64,
) -> Option<String> {
    let (title, scale) = title_and_scale(signal);
    let mut lines: Vec<ChartLine<'_>> = series
        .iter()
        .filter(|s| s.signal == signal)
        .map(|s| ChartLine {
            version: &s.version,
            suffix: "",
            points: &s.points,
        })
        .collect();
    if signal == Signal::P95Ms {
        lines.extend(quantiles.iter().map(|q| ChartLine {
            version: &q.version,
            suffix: &q.name,
            points: &q.points,
        }));
    }
    let floor = match signal {
        Signal::TrafficShare => Floor::Whole,
        Signal::ErrorRate => Floor::AtLeast(1.0),
        Signal::P95Ms | Signal::RequestRate => Floor::AtLeast(1e-9),
    };
    line_chart(title, scale, floor, &lines, from_secs, to_secs)
}

/// A custom metric's chart (values as its query answers them, from 0 up), titled by its
/// name; `None` without values.
pub fn named_chart(
    name: &str,
    series: &[NamedSeries],
    from_secs: f64,
    to_secs: f64,
) -> Option<String> {
    let lines: Vec<ChartLine<'_>> = series
        .iter()
        .filter(|s| s.name == name)
        .map(|s| ChartLine {
            version: &s.version,
            suffix: "",
            points: &s.points,
        })
        .collect();
    line_chart(
        &escape(name),
        1.0,
        Floor::AtLeast(1e-9),
        &lines,
        from_secs,
        to_secs,
    )
}

/// Where a chart's y axis ends: 100 (a share, read against the whole), or the 1-2-5 ceiling
/// of the highest value but at least this.
#[derive(Clone, Copy)]
enum Floor {
    Whole,
    AtLeast(f64),
}

fn line_chart(
    title: &str,
    scale: f64,
    floor: Floor,
    lines: &[ChartLine<'_>],
    from_secs: f64,
    to_secs: f64,
) -> Option<String> {
    let values = lines
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.value))
        .filter(|v| v.is_finite())
        .map(|v| v * scale);
    let max = values.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?;
    let top = match floor {
        Floor::Whole => 100.0,
        Floor::AtLeast(least) => nice_ceiling(max.max(least)),
    };
    let span = (to_secs - from_secs).max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + (t - from_secs) / span * plot_w;
    let y = |v: f64| TOP + plot_h - (v / top).clamp(0.0, 1.05) * plot_h;
    // The legend takes a row per three lines under the axis.
    let height = HEIGHT + (lines.len().saturating_sub(1) / 3) as f64 * 14.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{title}</text>"#
    );
    // Y axis: five labelled lines from 0 to the top.
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let yy = y(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            number(v, top / 4.0)
        );
    }
    // X axis: five UTC times, the last one anchored at its end so it is never cut.
    for i in 0..=4 {
        let t = from_secs + span * f64::from(i) / 4.0;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            x(t),
            TOP + plot_h + 16.0,
            clock(t)
        );
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#999"/>"##
    );
    for (i, s) in lines.iter().enumerate() {
        let color = role_color(s.version.role);
        let dash = match (s.suffix.is_empty(), s.version.role.is_current()) {
            (false, _) => r#" stroke-dasharray="2 3""#,
            (true, true) => "",
            (true, false) => r#" stroke-dasharray="6 4" stroke-opacity="0.7""#,
        };
        for run in runs(s.points, scale) {
            let points: Vec<String> = run
                .iter()
                .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash} points="{}"/>"#,
                points.join(" ")
            );
        }
        // The legend under the axis, one entry per line.
        let lx = LEFT + (i % 3) as f64 * 230.0;
        let ly = HEIGHT - 24.0 + (i / 3) as f64 * 14.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="3"{dash}/><text x="{:.1}" y="{ly:.1}">{} {}{}{}</text>"#,
            ly - 4.0,
            lx + 18.0,
            ly - 4.0,
            lx + 24.0,
            s.version.role,
            escape(&s.version.hash),
            if s.suffix.is_empty() { "" } else { " " },
            escape(s.suffix)
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// The runs of consecutive values between gaps, scaled.
fn runs(points: &[Point], scale: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for p in points {
        match p.value {
            Some(v) if v.is_finite() => run.push((p.t_secs, v * scale)),
            _ if !run.is_empty() => out.push(std::mem::take(&mut run)),
            _ => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// The smallest 1, 2 or 5 times a power of ten (or 2.5×, for quarters) at or above `v`.
pub fn nice_ceiling(v: f64) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

fn number(v: f64, step: f64) -> String {
    let decimals = if step < 1.0 {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    } else {
        0
    };
    format!("{v:.decimals$}")
}

fn clock(t_secs: f64) -> String {
    jiff::Timestamp::from_millisecond((t_secs * 1000.0).round() as i64)
        .map(|t| t.strftime("%H:%M:%S").to_string())
        .unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
