//! Desktop notifications for the window, off the UI thread: the first `Notify` connects to
//! the session's notification service and starts listening for clicks (each click becomes
//! `AppEvent::OpenRollout`); a desktop without one is said once, then notices are dropped.

use super::EventSink;
use crate::attention::Notice;
use crate::attention::desktop::Desktop;
use crate::ui::events::AppEvent;
use std::sync::Arc;

/// The connection, made on first use.
#[derive(Clone, Default)]
pub struct Notifier {
    desktop: Arc<tokio::sync::Mutex<Connection>>,
}

#[derive(Default)]
enum Connection {
    #[default]
    NotYet,
    Up(Desktop),
    /// The service could not be reached; said once, not tried again this run.
    Down,
}

impl Notifier {
    pub fn send(&self, runtime: &tokio::runtime::Handle, sink: EventSink, notice: Notice) {
        let desktop = self.desktop.clone();
        runtime.spawn(async move {
            let mut connection = desktop.lock().await;
            if matches!(*connection, Connection::NotYet) {
                *connection = match Desktop::session().await {
                    Ok(d) => {
                        let clicks = d.clone();
                        let opener = sink.clone();
                        tokio::spawn(async move {
                            let open = |r| opener.emit(AppEvent::OpenRollout(r));
                            if let Err(e) = clicks.on_click(open).await {
                                tracing::warn!("{e}");
                            }
                        });
                        Connection::Up(d)
                    }
                    Err(e) => {
                        sink.emit(AppEvent::Problem(e.to_string()));
                        Connection::Down
                    }
                };
            }
            if let Connection::Up(d) = &*connection
                && let Err(e) = d.send(&notice).await
            {
                sink.emit(AppEvent::Problem(e.to_string()));
            }
        });
    }
}
