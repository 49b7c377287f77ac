//! One signal per version as an SVG line chart, written by hand (a few dozen elements: a
//! plotting crate would add a font stack and minutes of build for that). Gaps are breaks,
//! a version that plays no part any more is drawn dashed, the axes are labelled in UTC.

use crate::model::{Signal, VersionRole, VersionSeries};
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

/// The chart of `signal` over `from_secs..=to_secs`, one line per version in `series`
/// (those of other signals are ignored); `None` when no version has a value for it.
pub fn chart(
    series: &[VersionSeries],
    signal: Signal,
    from_secs: f64,
    to_secs: f64,
) -> Option<String> {
    let (title, scale) = title_and_scale(signal);
    let lines: Vec<&VersionSeries> = series.iter().filter(|s| s.signal == signal).collect();
    let values = lines
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.value))
        .filter(|v| v.is_finite())
        .map(|v| v * scale);
    let max = values.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?;
    let top = match signal {
        Signal::TrafficShare => 100.0,
        _ => nice_ceiling(max.max(match signal {
            Signal::ErrorRate => 1.0,
            _ => 1e-9,
        })),
    };
    let span = (to_secs - from_secs).max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + (t - from_secs) / span * plot_w;
    let y = |v: f64| TOP + plot_h - (v / top).clamp(0.0, 1.05) * plot_h;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
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
        let dash = if s.version.role.is_current() {
            ""
        } else {
            r#" stroke-dasharray="6 4" stroke-opacity="0.7""#
        };
        for run in runs(s, scale) {
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
        // The legend under the axis, one entry per version.
        let lx = LEFT + (i % 3) as f64 * 230.0;
        let ly = HEIGHT - 24.0 + (i / 3) as f64 * 14.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="3"{dash}/><text x="{:.1}" y="{ly:.1}">{} {}</text>"#,
            ly - 4.0,
            lx + 18.0,
            ly - 4.0,
            lx + 24.0,
            s.version.role,
            escape(&s.version.hash)
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// The runs of consecutive values between gaps, scaled.
fn runs(s: &VersionSeries, scale: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for p in &s.points {
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
