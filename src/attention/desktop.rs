//! Desktop notifications through the freedesktop Notifications service on the D-Bus session
//! bus (what GNOME, KDE, dunst and mako all serve), with zbus — already in the tree for the
//! window's accessibility. Each notification carries a "default" action: clicking it yields
//! the rollout, so the window can open it. Async only; the window's backend runs it on tokio.

use super::transitions::Notice;
use crate::model::RolloutRef;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The name notifications are sent under (and the icon the desktop entry installs).
pub const APP_NAME: &str = "Release Cockpit";
const APP_ICON: &str = "release-cockpit";

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications"
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, zbus::zvariant::Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error(
        "desktop notifications: no D-Bus session bus ({0}); they need a desktop session \
         (DBUS_SESSION_BUS_ADDRESS) with a notification service"
    )]
    NoBus(String),
    #[error(
        "desktop notifications: the notification service did not take it ({0}); is a \
         notification daemon running (GNOME Shell, KDE Plasma, dunst, mako)?"
    )]
    Refused(String),
}

/// A connection to the session's notification service, and which rollout each sent
/// notification is about (for clicks).
#[derive(Clone)]
pub struct Desktop {
    proxy: NotificationsProxy<'static>,
    sent: Arc<Mutex<HashMap<u32, RolloutRef>>>,
}

impl Desktop {
    /// On the user's session bus.
    pub async fn session() -> Result<Desktop, DesktopError> {
        let connection = zbus::Connection::session()
            .await
            .map_err(|e| DesktopError::NoBus(e.to_string()))?;
        Desktop::on(connection).await
    }

    /// On the bus at `address` (a test's private bus).
    pub async fn at(address: &str) -> Result<Desktop, DesktopError> {
        let connection = zbus::connection::Builder::address(address)
            .map(|b| b.build())
            .map_err(|e| DesktopError::NoBus(e.to_string()))?
            .await
            .map_err(|e| DesktopError::NoBus(e.to_string()))?;
        Desktop::on(connection).await
    }

    async fn on(connection: zbus::Connection) -> Result<Desktop, DesktopError> {
        let proxy = NotificationsProxy::new(&connection)
            .await
            .map_err(|e| DesktopError::NoBus(e.to_string()))?;
        Ok(Desktop {
            proxy,
            sent: Arc::default(),
        })
    }

    /// Show `notice`; returns the service's id for it.
    pub async fn send(&self, notice: &Notice) -> Result<u32, DesktopError> {
        let urgency: u8 = match notice.kind {
            super::NoticeKind::VerdictFail
            | super::NoticeKind::Aborted
            | super::NoticeKind::RollbackStuck => 2,
            _ => 1,
        };
        let hints = HashMap::from([
            ("urgency", zbus::zvariant::Value::from(urgency)),
            (
                "desktop-entry",
                zbus::zvariant::Value::from("release-cockpit"),
            ),
        ]);
        let id = self
            .proxy
            .notify(
                APP_NAME,
                0,
                APP_ICON,
                &notice.title,
                &notice.body,
                &["default", "Open"],
                hints,
                -1,
            )
            .await
            .map_err(|e| DesktopError::Refused(e.to_string()))?;
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, notice.rollout.clone());
        Ok(id)
    }

    /// Calls `open` with the rollout of every notification of ours that is clicked (its
    /// "default" action), until the bus goes away.
    pub async fn on_click(&self, mut open: impl FnMut(RolloutRef)) -> Result<(), DesktopError> {
        let mut clicks = self
            .proxy
            .receive_action_invoked()
            .await
            .map_err(|e| DesktopError::NoBus(e.to_string()))?;
        while let Some(signal) = clicks.next().await {
            let Ok(args) = signal.args() else { continue };
            if args.action_key != "default" {
                continue;
            }
            let rollout = self
                .sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&args.id)
                .cloned();
            if let Some(r) = rollout {
                open(r);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::NoticeKind;
    use std::io::BufRead;

    /// A private session bus for one test: `dbus-daemon --session --nofork`, stopped on drop.
    struct PrivateBus {
        child: std::process::Child,
        address: String,
    }

    impl PrivateBus {
        fn start() -> PrivateBus {
            let mut child = std::process::Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "this test needs dbus-daemon (a private session bus): {e}; install it \
                         with `apt install dbus` (scripts/test does)"
                    )
                });
            let stdout = child.stdout.take().expect("piped stdout");
            let mut address = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut address)
                .expect("dbus-daemon prints its address");
            PrivateBus {
                child,
                address: address.trim().to_string(),
            }
        }
    }

    impl Drop for PrivateBus {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// One notification the fake service was asked to show.
    #[derive(Clone, Debug)]
    struct ShownNotification {
        app_name: String,
        summary: String,
        body: String,
        actions: Vec<String>,
    }

    /// What the fake notification service was asked to show.
    #[derive(Clone, Default)]
    struct Shown(Arc<Mutex<Vec<ShownNotification>>>);

    /// A notification service as a desktop runs one, answering ids 1, 2, …
    struct FakeService {
        shown: Shown,
    }

    #[zbus::interface(name = "org.freedesktop.Notifications")]
    impl FakeService {
        #[allow(clippy::too_many_arguments)]
        fn notify(
            &self,
            app_name: String,
            _replaces_id: u32,
            _app_icon: String,
            summary: String,
            body: String,
            actions: Vec<String>,
            _hints: HashMap<String, zbus::zvariant::OwnedValue>,
            _expire_timeout: i32,
        ) -> u32 {
            let mut shown = self.shown.0.lock().expect("lock");
            shown.push(ShownNotification {
                app_name,
                summary,
                body,
                actions,
            });
            shown.len() as u32
        }

        #[zbus(signal)]
        async fn action_invoked(
            emitter: &zbus::object_server::SignalEmitter<'_>,
            id: u32,
            action_key: &str,
        ) -> zbus::Result<()>;
    }

    fn notice(name: &str) -> Notice {
        Notice {
            kind: NoticeKind::WaitingForApproval,
            rollout: RolloutRef::new("lab-admin", "demo", name),
            title: format!("{name} waits for approval"),
            body: format!("lab-admin demo/{name}: waiting for approval at step 1/8 (20%)"),
            key: format!("lab-admin/demo/{name}/wait"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn notifications_reach_the_service_and_a_click_opens_the_rollout() {
        let bus = PrivateBus::start();
        let shown = Shown::default();
        let service = zbus::connection::Builder::address(bus.address.as_str())
            .expect("address")
            .name("org.freedesktop.Notifications")
            .expect("name")
            .serve_at(
                "/org/freedesktop/Notifications",
                FakeService {
                    shown: shown.clone(),
                },
            )
            .expect("serve")
            .build()
            .await
            .expect("the fake service connects");

        let desktop = Desktop::at(&bus.address).await.expect("connects");
        let (clicked_tx, mut clicked) = tokio::sync::mpsc::unbounded_channel();
        let listener = desktop.clone();
        tokio::spawn(async move {
            listener
                .on_click(move |r| {
                    let _ = clicked_tx.send(r);
                })
                .await
        });
        assert_eq!(desktop.send(&notice("checkout")).await.expect("sent"), 1);
        assert_eq!(desktop.send(&notice("payments")).await.expect("sent"), 2);
        let seen = shown.0.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].app_name, APP_NAME);
        assert_eq!(seen[0].summary, "checkout waits for approval");
        assert_eq!(
            seen[0].body,
            "lab-admin demo/checkout: waiting for approval at step 1/8 (20%)"
        );
        assert_eq!(seen[0].actions, ["default", "Open"]);

        // The person clicks the second one: the window is told to open payments. Another
        // action or an id not ours opens nothing.
        let emitter = service
            .object_server()
            .interface::<_, FakeService>("/org/freedesktop/Notifications")
            .await
            .expect("served");
        // Give the listener time to subscribe before the signals go out.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        for (id, key) in [(9, "default"), (2, "dismiss"), (2, "default")] {
            FakeService::action_invoked(emitter.signal_emitter(), id, key)
                .await
                .expect("signal");
        }
        let opened = tokio::time::timeout(std::time::Duration::from_secs(5), clicked.recv())
            .await
            .expect("a click within 5 s")
            .expect("open");
        assert_eq!(opened, RolloutRef::new("lab-admin", "demo", "payments"));
        assert!(clicked.try_recv().is_err(), "one click, one rollout");
    }

    #[tokio::test]
    async fn without_a_bus_it_says_what_is_missing() {
        let err = Desktop::at("unix:path=/nonexistent/bus")
            .await
            .err()
            .expect("no bus there")
            .to_string();
        assert!(err.contains("no D-Bus session bus"), "{err}");
    }
}
