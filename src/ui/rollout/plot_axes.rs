//! The plots' axes: value grid steps of 1, 2 and 5 (so every range keeps labelled ticks), y
//! labels with the decimals their step needs, clock-time x labels that leave out a label the
//! right edge would cut, and the hover text.

use crate::ui::theme;

/// Value grid steps of 1, 2 and 5 times a power of ten, the finest at least `base` (the value
/// egui_plot's minimum line spacing stands for), so some step is always labelled.
pub fn value_steps(base: f64) -> [f64; 3] {
    if !(base.is_finite() && base > 0.0) {
        return [1.0, 2.0, 5.0];
    }
    let mut magnitude = 10f64.powf(base.log10().floor());
    let mut out = Vec::with_capacity(3);
    'outer: loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * magnitude;
            if step >= base * (1.0 - 1e-9) {
                out.push(step);
                if out.len() == 3 {
                    break 'outer;
                }
            }
        }
        magnitude *= 10.0;
    }
    [out[0], out[1], out[2]]
}

/// A y label with as many decimals as its step needs (0.5 → "0.5", 2 → "2").
pub fn y_label(value: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step < 1.0 {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    } else {
        0
    };
    format!("{value:.decimals$}")
}

/// A time label, or nothing for a mark so close to the right edge that its label would be cut.
pub fn time_label(t_secs: f64, range: &std::ops::RangeInclusive<f64>) -> String {
    let span = range.end() - range.start();
    if *range.end() - t_secs < 0.05 * span {
        return String::new();
    }
    theme::clock(t_secs)
}

/// Grid steps that fall on round clock times: seconds, minutes, quarters, hours.
pub fn time_steps(input: egui_plot::GridInput) -> [f64; 3] {
    const STEPS: [f64; 12] = [
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    let i = STEPS
        .iter()
        .position(|s| *s >= input.base_step_size)
        .unwrap_or(STEPS.len() - 3)
        .min(STEPS.len() - 3);
    [STEPS[i], STEPS[i + 1], STEPS[i + 2]]
}

pub fn hover_label(pos: &egui_plot::HoverPosition<'_>) -> Option<String> {
    match pos {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } if !plot_name.is_empty() => Some(format!(
            "{plot_name}\n{} · {:.2}",
            theme::clock(position.x),
            position.y
        )),
        egui_plot::HoverPosition::NearDataPoint { position, .. }
        | egui_plot::HoverPosition::Elsewhere { position } => Some(theme::clock(position.x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_range_gets_labelled_steps() {
        // 0–5 % on a short plot: egui_plot asks for ~0.3 per minimum line spacing.
        let close = |got: [f64; 3], want: [f64; 3]| {
            assert!(
                got.iter().zip(want).all(|(g, w)| (g - w).abs() <= w * 1e-9),
                "{got:?} vs {want:?}"
            )
        };
        close(value_steps(0.3), [0.5, 1.0, 2.0]);
        close(value_steps(1.0), [1.0, 2.0, 5.0]);
        close(value_steps(7.0), [10.0, 20.0, 50.0]);
        close(value_steps(0.002), [0.002, 0.005, 0.01]);
        close(value_steps(f64::NAN), [1.0, 2.0, 5.0]);
        assert_eq!(y_label(0.5, 0.5), "0.5");
        assert_eq!(y_label(1.0, 0.5), "1.0");
        assert_eq!(y_label(0.01, 0.005), "0.010");
        assert_eq!(y_label(200.0, 50.0), "200");
    }

    #[test]
    fn time_labels_at_the_right_edge_are_left_out() {
        let range = 0.0..=600.0;
        assert_eq!(time_label(590.0, &range), "");
        assert!(!time_label(540.0, &range).is_empty());
    }
}
