//! Toasts, top-right: every command's outcome and every error, in full words. They fade
//! after a while (errors stay longer and can be closed).

use super::theme;

const OK_SECS: f64 = 6.0;
const ERROR_SECS: f64 = 20.0;
const FADE_SECS: f64 = 1.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Info,
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub kind: ToastKind,
    pub text: String,
    /// `egui` input time when shown; set on the first frame it is drawn.
    shown_at: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Toasts {
    items: Vec<Toast>,
}

impl Toasts {
    pub fn push(&mut self, kind: ToastKind, text: impl Into<String>) {
        self.items.push(Toast {
            kind,
            // Errors are redacted where they are built; this is the last line of defence.
            text: crate::redact::redact(&text.into()),
            shown_at: None,
        });
        // A flood of errors should not cover the window.
        if self.items.len() > 6 {
            self.items.remove(0);
        }
    }

    pub fn items(&self) -> &[Toast] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Draw the toasts and drop the ones that faded out.
    pub fn ui(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        self.items.retain(|t| match t.shown_at {
            Some(at) => now - at < lifetime(t.kind),
            None => true,
        });
        if self.items.is_empty() {
            return;
        }
        let mut close = None;
        egui::Area::new(egui::Id::unique("release-cockpit-toasts"))
            .anchor(egui::Align2::RIGHT_TOP, egui::vec2(-12.0, 40.0))
            .order(egui::Order::Foreground)
            .interactable(true)
            .show(ctx, |ui| {
                ui.set_max_width(420.0);
                for (i, toast) in self.items.iter_mut().enumerate() {
                    let at = *toast.shown_at.get_or_insert(now);
                    let left = lifetime(toast.kind) - (now - at);
                    let alpha = (left / FADE_SECS).clamp(0.0, 1.0) as f32;
                    if toast_ui(ui, toast, alpha) {
                        close = Some(i);
                    }
                    ui.add_space(6.0);
                }
            });
        if let Some(i) = close {
            self.items.remove(i);
        }
        // Keep animating the fade; idle otherwise.
        ctx.request_repaint_after(std::time::Duration::from_millis(250));
    }
}

fn lifetime(kind: ToastKind) -> f64 {
    match kind {
        ToastKind::Error => ERROR_SECS,
        _ => OK_SECS,
    }
}

/// One toast; true when its close button was clicked.
fn toast_ui(ui: &mut egui::Ui, toast: &Toast, alpha: f32) -> bool {
    let accent = match toast.kind {
        ToastKind::Success => theme::OK,
        ToastKind::Info => ui.visuals().text_color(),
        ToastKind::Error => theme::ERROR,
    };
    let mut closed = false;
    ui.scope(|ui| {
        ui.multiply_opacity(alpha);
        egui::Frame::popup(ui.style())
            .stroke(egui::Stroke::new(1.5, accent))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let icon = match toast.kind {
                        ToastKind::Success => "●",
                        ToastKind::Info => "•",
                        ToastKind::Error => "▲",
                    };
                    ui.colored_label(accent, icon);
                    ui.add(egui::Label::new(toast.text.as_str()).wrap());
                    if toast.kind == ToastKind::Error && ui.small_button("Close").clicked() {
                        closed = true;
                    }
                });
            });
    });
    closed
}
