//! Tests of `source.rs`.

use super::*;
use crate::model::VersionRole;

/// A source that answers from a script: `Some(value)` or an error.
struct Scripted {
    answers: Vec<Option<f64>>,
}

impl MetricsSource for Scripted {
    fn kind(&self) -> &'static str {
        "prometheus"
    }
    fn endpoint(&self) -> &str {
        "scripted"
    }
    fn fetch<'a>(
        &'a mut self,
        req: &'a FetchRequest,
    ) -> BoxFuture<'a, Result<Fetched, SourceError>> {
        Box::pin(async move {
            let answer = if self.answers.is_empty() {
                Some(0.5)
            } else {
                self.answers.remove(0)
            };
            match answer {
                None => Err(SourceError("down".into())),
                Some(v) => Ok(Fetched {
                    points: req
                        .targets
                        .iter()
                        .flat_map(|t| {
                            t.versions.iter().map(move |ver| SignalPoint {
                                rollout: t.rollout.clone(),
                                version: ver.clone(),
                                signal: Signal::ErrorRate,
                                point: Point {
                                    t_secs: req.end_secs,
                                    value: Some(v),
                                },
                            })
                        })
                        .collect(),
                    queries: 1,
                    ..Fetched::default()
                }),
            }
        })
    }
}

#[tokio::test]
async fn loop_sends_snapshots_until_targets_go() {
    let refresher = Refresher::new(
        Box::new(Scripted { answers: vec![] }),
        Duration::from_secs(60),
        Duration::from_millis(10),
    );
    let target = Target {
        rollout: RolloutRef::new("c", "demo", "checkout"),
        versions: vec![Version::new(VersionRole::Canary, "bbb")],
    };
    let (targets_tx, targets_rx) = tokio::sync::watch::channel(vec![target.clone()]);
    let (snap_tx, mut snap_rx) = tokio::sync::mpsc::channel(1);
    let task = tokio::spawn(refresh_loop(refresher, targets_rx, snap_tx));
    let first = snap_rx.recv().await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].rollout, target.rollout);
    let second = snap_rx.recv().await.unwrap();
    assert!(second[0].series[1].points.len() >= first[0].series[1].points.len());
    drop(targets_tx);
    drop(snap_rx);
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("the loop ends once its targets and listener are gone")
        .unwrap();
}

#[test]
fn backoff_doubles_to_the_cap_and_resets() {
    let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
    assert_eq!(b.delay(), Duration::from_secs(5));
    b.failed();
    assert_eq!(b.delay(), Duration::from_secs(10));
    for _ in 0..40 {
        b.failed();
    }
    assert_eq!(b.delay(), Duration::from_secs(60));
    b.succeeded();
    assert_eq!(b.delay(), Duration::from_secs(5));
}

#[tokio::test]
async fn failure_keeps_data_marks_stale_and_recovers() {
    let source = Scripted {
        answers: vec![Some(0.1), None, None, Some(0.2)],
    };
    let mut r = Refresher::new(
        Box::new(source),
        Duration::from_secs(600),
        Duration::from_secs(10),
    );
    let target = Target {
        rollout: RolloutRef::new("c", "demo", "checkout"),
        versions: vec![Version::new(VersionRole::Stable, "aaa")],
    };
    let targets = [target.clone()];
    assert!(r.refresh(&targets, 1000.0).await.ok);
    assert!(!r.refresh(&targets, 1010.0).await.ok);
    let snap = r.snapshot(&target);
    assert_eq!(snap.stale_since_secs, Some(1000.0));
    assert_eq!(snap.error.as_deref(), Some("down"));
    assert_eq!(snap.series[1].points.len(), 1, "last data kept");
    assert!(!r.refresh(&targets, 1020.0).await.ok);
    assert_eq!(r.next_delay(), Duration::from_secs(40));
    assert!(r.refresh(&targets, 1040.0).await.ok);
    let snap = r.snapshot(&target);
    assert_eq!(snap.stale_since_secs, None);
    assert_eq!(r.next_delay(), Duration::from_secs(10));
    // The first refresh asked for the history; later ones only since the last sample.
    assert_eq!(
        r.store().series(&target.rollout, &target.versions)[1]
            .points
            .iter()
            .map(|p| p.value)
            .collect::<Vec<_>>(),
        vec![Some(0.1), None, Some(0.2)]
    );
}
