//! Colours with a meaning: one per version role (the Okabe–Ito palette, readable by people
//! with the common colour-vision deficiencies) and one per rollout phase, plus time formatting.

use crate::model::{Phase, VersionRole};
use egui::Color32;

/// The colour of a version in every plot and legend: stable blue, canary orange,
/// active green, preview purple; a version that plays no part any more in a muted grey of
/// what it was.
pub fn role_color(role: VersionRole) -> Color32 {
    match role {
        VersionRole::Stable => Color32::from_rgb(0x00, 0x72, 0xB2),
        VersionRole::Canary => Color32::from_rgb(0xE6, 0x9F, 0x00),
        VersionRole::Active => Color32::from_rgb(0x00, 0x9E, 0x73),
        VersionRole::Preview => Color32::from_rgb(0xCC, 0x79, 0xA7),
        VersionRole::PreviousStable => Color32::from_rgb(0x6E, 0x8A, 0xA0),
        VersionRole::PreviousCanary => Color32::from_rgb(0xA0, 0x8E, 0x6E),
    }
}

/// Badge colour of a phase.
pub fn phase_color(phase: Phase) -> Color32 {
    match phase {
        Phase::Healthy => Color32::from_rgb(0x1B, 0x9E, 0x4B),
        Phase::Progressing => Color32::from_rgb(0x00, 0x72, 0xB2),
        Phase::Paused => Color32::from_rgb(0xD5, 0x8A, 0x00),
        Phase::Degraded => Color32::from_rgb(0xC8, 0x37, 0x37),
    }
}

/// Colour for warnings (stale data, unreachable clusters).
pub const WARN: Color32 = Color32::from_rgb(0xD5, 0x8A, 0x00);
/// Colour for errors and refusals.
pub const ERROR: Color32 = Color32::from_rgb(0xC8, 0x37, 0x37);
/// Colour for success.
pub const OK: Color32 = Color32::from_rgb(0x1B, 0x9E, 0x4B);
/// Colour of what the cockpit did or says — our audit entries, a pipeline's `auto` status —
/// beside the controller's: Okabe–Ito sky blue.
pub const COCKPIT: Color32 = Color32::from_rgb(0x56, 0xB4, 0xE9);

/// A coloured pill with white text, e.g. a phase badge.
pub fn badge(ui: &mut egui::Ui, text: &str, fill: Color32) -> egui::Response {
    egui::Frame::new()
        .fill(fill)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(egui::RichText::new(text).color(Color32::WHITE).strong())
        })
        .inner
}

/// egui's fonts with Hack after Ubuntu in the proportional family, so arrows and shapes the
/// window uses (→ ▶ ◆ ○ ▴ ▾ ●) draw everywhere instead of as empty boxes.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !family.iter().any(|f| f == "Hack")
    {
        let at = family
            .iter()
            .position(|f| f == "Ubuntu-Light")
            .map_or(0, |i| i + 1);
        family.insert(at, "Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

/// `14:02:11` in the local time zone.
pub fn clock(t_secs: f64) -> String {
    format_local(t_secs, "%H:%M:%S")
}

/// `2026-11-22 14:02:11` in the local time zone.
pub fn date_time(t_secs: f64) -> String {
    format_local(t_secs, "%Y-%m-%d %H:%M:%S")
}

fn format_local(t_secs: f64, format: &str) -> String {
    match jiff::Timestamp::from_second(t_secs.floor() as i64) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime(format)
            .to_string(),
        Err(_) => String::from("?"),
    }
}

/// Unix seconds of an RFC 3339 time as Kubernetes writes it.
pub fn parse_time(rfc3339: &str) -> Option<f64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond() as f64 / 1000.0)
}

/// `3d4h`, `2h05m`, `4m10s`, `12s`: the way kubectl prints ages.
pub fn age(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Unix seconds now.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(12.0), "12s");
        assert_eq!(age(250.0), "4m10s");
        assert_eq!(age(7500.0), "2h05m");
        assert_eq!(age(3.0 * 86400.0 + 4.0 * 3600.0), "3d4h");
        assert_eq!(age(-5.0), "0s");
    }

    #[test]
    fn parses_kubernetes_times() {
        assert_eq!(parse_time("2019-10-25T06:07:18Z"), Some(1_571_983_638.0));
        assert_eq!(parse_time("not a time"), None);
    }
}
