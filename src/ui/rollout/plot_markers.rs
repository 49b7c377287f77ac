//! How the plots' markers look — who put them there in the line and the mark, what they mark
//! in the colour — and the list of them in words under the plots.

use crate::ui::theme;
use crate::ui::timeline::{Marker, MarkerKind, MarkerOrigin};

/// How a marker's line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerLine {
    /// The cockpit's own audit entries.
    Solid,
    /// Changes this window saw between two snapshots.
    Dashed,
    /// The controller's Events.
    Dotted,
}

/// A marker's look: who put it there shows in the line and the mark before its label, what
/// it marks in the colour (aborts and Warning Events in the error colour).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarkerStyle {
    pub color: egui::Color32,
    pub line: MarkerLine,
    pub width: f32,
    /// Before the label under the plots: the activity panel's ◆ (ours) or ○ (theirs).
    pub mark: &'static str,
}

pub fn marker_style(m: &Marker) -> MarkerStyle {
    use super::activity::{OURS_MARK, THEIRS_MARK};
    let color = match m.kind {
        MarkerKind::Abort | MarkerKind::Warning => theme::ERROR,
        MarkerKind::Promotion => theme::OK,
        MarkerKind::Pause => theme::WARN,
        MarkerKind::Manual => theme::COCKPIT,
        MarkerKind::Step | MarkerKind::Event => egui::Color32::GRAY,
    };
    let (line, width, mark) = match m.origin {
        MarkerOrigin::Cockpit => (MarkerLine::Solid, 2.0, OURS_MARK),
        MarkerOrigin::Controller => (MarkerLine::Dotted, 1.5, THEIRS_MARK),
        MarkerOrigin::Observed => (MarkerLine::Dashed, 1.0, ""),
    };
    MarkerStyle {
        color,
        line,
        width,
        mark,
    }
}

/// The markers in words, newest first, under the plots.
pub fn markers_legend_ui(ui: &mut egui::Ui, markers: &[Marker]) {
    if markers.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak("Markers:");
        for m in markers.iter().rev().take(6) {
            let style = marker_style(m);
            ui.colored_label(
                style.color,
                format!(
                    "{}{} {}",
                    if style.mark.is_empty() {
                        String::new()
                    } else {
                        format!("{} ", style.mark)
                    },
                    theme::clock(m.t_secs),
                    m.label
                ),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cockpits_markers_look_apart_from_the_controllers_and_warnings_are_errors() {
        use crate::ui::fixtures::activity_entry as entry;
        use crate::ui::timeline::activity_markers;
        let markers = activity_markers(&[
            entry(10.0, true, "abort", false),
            entry(11.0, false, "RolloutAborted", true),
            entry(12.0, false, "ScalingReplicaSet", false),
            entry(13.0, true, "pause", false),
        ]);
        let styles: Vec<MarkerStyle> = markers.iter().map(marker_style).collect();
        let ours_abort = styles[0];
        let controller_abort = styles[1];
        assert_eq!((ours_abort.line, ours_abort.mark), (MarkerLine::Solid, "◆"));
        assert_eq!(
            (controller_abort.line, controller_abort.mark),
            (MarkerLine::Dotted, "○")
        );
        assert_eq!(
            controller_abort.color,
            theme::ERROR,
            "RolloutAborted is a Warning"
        );
        assert_eq!(ours_abort.color, theme::ERROR);
        assert_ne!(
            styles[2].color,
            theme::ERROR,
            "a Normal Event is not an error"
        );
        assert_eq!(
            styles[3].color,
            theme::COCKPIT,
            "a person's action: the cockpit's colour"
        );
    }
}
