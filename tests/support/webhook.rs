//! A local webhook receiver for the CLI's `--notify-webhook-env` tests: an axum server on a
//! free port that records each POSTed JSON body and answers 200. Shared by the test binaries
//! that run `watch` and `auto` against the lab.

use serde_json::Value;
use std::sync::{Arc, Mutex};

/// What the webhook received: each POST's JSON body.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    pub fn bodies(&self) -> Vec<Value> {
        self.0.lock().expect("lock").clone()
    }
}

/// Starts the receiver on the current runtime; POST /hook records the body. Returns its URL.
pub async fn webhook(received: Received) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let received = received.clone();
            async move {
                received.0.lock().expect("lock").push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
