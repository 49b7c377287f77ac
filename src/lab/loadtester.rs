//! The lab's `flagger-loadtester`: the gate and rollback routes of Flagger's load tester
//! (`../shared/fixtures/flagger/loadtester-server.go`), reached through the API server's
//! service proxy, with the in-memory gate storage the simulated Flagger consults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The label value (`app`) of the load tester's pods: a Service selecting it reaches the
/// lab's load tester.
pub const LOAD_TESTER_APP: &str = "flagger-loadtester";

/// The gates of one load tester (keyed as it keys them: `NAME.NAMESPACE` for a canary's
/// gate, `rollback.NAME.NAMESPACE` for its rollback gate; closed unless opened), and a log
/// of what it was asked, in its own words.
#[derive(Clone, Debug, Default)]
pub struct LoadTester {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    gates: HashMap<String, bool>,
    log: Vec<String>,
}

/// The answer of one route: HTTP status and body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    fn new(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_string(),
        }
    }
}

/// Flagger's webhook payload, of which the gates read only the canary's name and namespace.
#[derive(serde::Deserialize)]
struct Payload {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

impl LoadTester {
    /// Whether the canary's gate (`rollback` false) or rollback gate is open.
    pub fn is_open(&self, name: &str, namespace: &str, rollback: bool) -> bool {
        let key = gate_key(name, namespace, rollback);
        self.lock()
            .map(|inner| inner.gates.get(&key).copied().unwrap_or(false))
            .unwrap_or(false)
    }

    /// What the load tester logged, oldest first ("podinfo.test gate opened").
    pub fn log(&self) -> Vec<String> {
        self.lock().map(|i| i.log.clone()).unwrap_or_default()
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock().ok()
    }

    /// Serves `path` with request `body` as the load tester's mux does (any method).
    pub fn serve(&self, path: &str, body: &[u8]) -> Answer {
        let gate = match path {
            "/healthz" => return Answer::new(200, "OK"),
            "/gate/approve" => return Answer::new(200, "OK"),
            "/gate/halt" => return Answer::new(403, "Forbidden"),
            "/gate/check" | "/gate/open" | "/gate/close" => false,
            "/rollback/check" | "/rollback/open" | "/rollback/close" => true,
            _ => {
                return Answer::new(
                    400,
                    "the lab's load tester runs no commands: it serves /gate/* and /rollback/*",
                );
            }
        };
        let Ok(payload) = serde_json::from_slice::<Payload>(body) else {
            return Answer::new(400, "");
        };
        let key = gate_key(&payload.name, &payload.namespace, gate);
        let Some(mut inner) = self.lock() else {
            return Answer::new(500, "the lab's gate storage is unavailable");
        };
        let what = if gate { "rollback" } else { "gate" };
        if path.ends_with("/check") {
            let approved = inner.gates.get(&key).copied().unwrap_or(false);
            inner
                .log
                .push(format!("{key} {what} check: approved {approved}"));
            return if approved {
                Answer::new(200, "Approved")
            } else {
                Answer::new(403, "Forbidden")
            };
        }
        let open = path.ends_with("/open");
        inner.gates.insert(key.clone(), open);
        let done = if open { "opened" } else { "closed" };
        inner.log.push(format!("{key} {what} {done}"));
        Answer::new(202, "")
    }
}

fn gate_key(name: &str, namespace: &str, rollback: bool) -> String {
    if rollback {
        format!("rollback.{name}.{namespace}")
    } else {
        format!("{name}.{namespace}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PODINFO: &[u8] = br#"{"name":"podinfo","namespace":"test"}"#;

    #[test]
    fn gates_are_closed_until_opened_and_close_again() {
        let tester = LoadTester::default();
        assert_eq!(tester.serve("/gate/check", PODINFO).status, 403);
        assert_eq!(tester.serve("/gate/open", PODINFO).status, 202);
        assert!(tester.is_open("podinfo", "test", false));
        assert!(!tester.is_open("podinfo", "test", true), "rollback apart");
        assert_eq!(
            tester.serve("/gate/check", PODINFO),
            Answer::new(200, "Approved")
        );
        tester.serve("/gate/close", PODINFO);
        assert!(!tester.is_open("podinfo", "test", false));
        tester.serve("/rollback/open", PODINFO);
        assert!(tester.is_open("podinfo", "test", true));
        assert_eq!(
            tester.log(),
            [
                "podinfo.test gate check: approved false",
                "podinfo.test gate opened",
                "podinfo.test gate check: approved true",
                "podinfo.test gate closed",
                "rollback.podinfo.test rollback opened",
            ]
        );
    }

    #[test]
    fn fixed_routes_and_bad_payloads_answer_as_the_load_tester_does() {
        let tester = LoadTester::default();
        assert_eq!(tester.serve("/gate/approve", b"").status, 200);
        assert_eq!(tester.serve("/gate/halt", b"").status, 403);
        assert_eq!(tester.serve("/gate/open", b"not json").status, 400);
        assert!(tester.log().is_empty());
    }
}
