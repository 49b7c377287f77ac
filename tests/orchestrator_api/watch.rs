//! The fleet watch over the mock API server: a snapshot after the initial list and after each
//! change, an error while the server is gone, and a fresh snapshot once it is back.

use super::*;
use cluster::FleetUpdate;
use futures::StreamExt;

const LIST: &str = "/apis/argoproj.io/v1alpha1/namespaces/demo/rollouts";

async fn next_update(
    updates: &mut (impl futures::Stream<Item = FleetUpdate> + Unpin),
) -> FleetUpdate {
    tokio::time::timeout(Duration::from_secs(10), updates.next())
        .await
        .expect("an update within 10 s")
        .expect("the stream goes on")
}

fn steps(update: &FleetUpdate) -> Vec<Option<i32>> {
    match update {
        FleetUpdate::Snapshot(views) => views.iter().map(|v| v.current_step).collect(),
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

fn watch_events(objects: &[Value]) -> Vec<u8> {
    let mut body = Vec::new();
    for o in objects {
        body.extend(serde_json::to_vec(&json!({"type": "MODIFIED", "object": o})).expect("json"));
        body.push(b'\n');
    }
    body
}

/// Plays the API server: answers lists with `list` and watches with `events`, or fails the
/// connection when `down`.
async fn serve(handle: &mut Handle, list: &Value, events: &[Value], down: bool) -> bool {
    let (request, reply) = tokio::time::timeout(Duration::from_secs(10), handle.next_request())
        .await
        .expect("a request within 10 s")
        .expect("client alive");
    assert_eq!(request.method().as_str(), "GET");
    assert_eq!(request.uri().path(), LIST);
    let query = request.uri().query().unwrap_or_default().to_string();
    let is_watch = query.contains("watch=true");
    if is_watch {
        assert!(
            query.contains("timeoutSeconds=20"),
            "watches end server-side: {query}"
        );
    }
    if down {
        reply.send_error(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ));
        return is_watch;
    }
    let body = if is_watch {
        watch_events(events)
    } else {
        serde_json::to_vec(&json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "RolloutList",
            "metadata": {"resourceVersion": list["metadata"]["resourceVersion"]},
            "items": [list]
        }))
        .expect("json")
    };
    let response = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("response");
    reply.send_response(response);
    is_watch
}

#[tokio::test]
async fn fleet_watch_snapshots_changes_and_survives_the_server_going_away() {
    let (service, mut server) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    let mut updates = Box::pin(cluster::watch_rollouts(
        client,
        "lab".into(),
        Some("demo".into()),
    ));

    // Initial list: one snapshot once the whole list is in.
    let server_task = tokio::spawn(async move {
        assert!(!serve(&mut server, &rollout(1, "100"), &[], false).await);
        // The watch from there sends one change, then the server ends the request.
        assert!(serve(&mut server, &rollout(1, "100"), &[rollout(2, "101")], false).await);
        // The server goes away.
        serve(&mut server, &rollout(2, "101"), &[], true).await;
        // It comes back (the watcher re-watches or re-lists, either is fine) at step 3.
        serve(&mut server, &rollout(3, "102"), &[rollout(3, "102")], false).await;
        server
    });

    assert_eq!(steps(&next_update(&mut updates).await), vec![Some(1)]);
    assert_eq!(steps(&next_update(&mut updates).await), vec![Some(2)]);
    match next_update(&mut updates).await {
        FleetUpdate::Reconnecting { message, retry_in } => {
            assert!(message.contains("context 'lab'"), "{message}");
            assert!(retry_in <= cluster::RETRY_MAX, "{retry_in:?}");
        }
        other => panic!("expected the outage to be reported, got {other:?}"),
    }
    assert_eq!(steps(&next_update(&mut updates).await), vec![Some(3)]);
    let _server = server_task.await.expect("server script ran");
}
