//! Verdicts for the whole fleet: one task per watched context judges every rollout with a
//! canary or preview, from one grouped refresh of the judge's feed (the same four queries
//! whatever the number of rollouts), with the same judge and policy as `analyze`, `auto` and
//! the selected rollout's verdict; each verdict goes up as `AppEvent::Verdict`, with whether
//! its metrics are stale (`AppEvent::MetricsStale`, for the inbox).

use super::EventSink;
use super::fleet::{Current, FleetViews};
use super::metrics::config_for;
use crate::analysis;
use crate::metrics::source::now_secs;
use crate::metrics::{self, Refresher, Target};
use crate::model::{RolloutRef, VersionRole};
use crate::ui::events::{AppEvent, VerdictView};
use crate::ui::settings::Settings;
use std::collections::HashMap;
use std::time::Duration;

/// Everything one context's task needs.
pub struct VerdictsJob {
    pub sink: EventSink,
    pub current: Current,
    pub fleet: FleetViews,
    pub settings: Settings,
    pub context: String,
}

/// Judge the context's rollouts until aborted. A context without metrics judges nothing
/// (the selected rollout's view says why).
pub async fn judge_fleet(job: VerdictsJob) {
    let VerdictsJob {
        sink,
        current,
        fleet,
        settings,
        context,
    } = job;
    let step = Duration::from_secs(u64::from(settings.refresh_secs.max(1)));
    let Ok(config) = config_for(&current, &settings, &context).await else {
        return;
    };
    let (judged, _) = metrics::judge_feed(&config, Some(step), None);
    let Ok(Some(source)) = metrics::build_source(&judged) else {
        return;
    };
    let default_policy = analysis::Policy::default();
    let mut policies: HashMap<RolloutRef, analysis::Policy> = HashMap::new();
    let mut refresher = Refresher::new(
        source,
        Duration::from_secs_f64(default_policy.window_secs.max(1.0)) + step * 2,
        step,
    );
    loop {
        let targets = judged_targets(&fleet, &context);
        if !targets.is_empty() {
            for t in &targets {
                if !policies.contains_key(&t.rollout) {
                    let rollout = t.rollout.clone();
                    let policy = tokio::task::spawn_blocking(move || {
                        analysis::Policy::resolve(None, &rollout)
                    })
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                    policies.insert(t.rollout.clone(), policy);
                }
            }
            let judged = judge_round(&mut refresher, &targets, &policies, now_secs()).await;
            for (rollout, verdict, stale_since_secs) in judged {
                sink.emit(AppEvent::MetricsStale {
                    rollout: rollout.clone(),
                    since_secs: stale_since_secs,
                });
                sink.emit(AppEvent::Verdict {
                    rollout,
                    verdict: VerdictView::from(&verdict),
                });
            }
        }
        tokio::time::sleep(refresher.next_delay()).await;
    }
}

/// One round: one refresh of the judge's feed for every target together (the source groups
/// them: as many queries for 500 rollouts as for one), then the judge on each, with its
/// policy (the built-in one when it has none), and since when its metrics are stale.
pub async fn judge_round(
    refresher: &mut Refresher,
    targets: &[Target],
    policies: &HashMap<RolloutRef, analysis::Policy>,
    now_secs: f64,
) -> Vec<(RolloutRef, analysis::Verdict, Option<f64>)> {
    refresher.refresh(targets, now_secs).await;
    let default_policy = analysis::Policy::default();
    targets
        .iter()
        .map(|t| {
            let policy = policies.get(&t.rollout).unwrap_or(&default_policy);
            let snapshot = refresher.snapshot(t);
            let verdict = analysis::judge_snapshot(&snapshot, &[], policy);
            (t.rollout.clone(), verdict, snapshot.stale_since_secs)
        })
        .collect()
}

/// The context's rollouts that have a new version to judge (a canary or a preview).
fn judged_targets(fleet: &FleetViews, context: &str) -> Vec<Target> {
    let views = super::lock(fleet);
    views
        .get(context)
        .map(|views| {
            views
                .iter()
                .filter(|v| !v.aborted)
                .map(Target::from_view)
                .filter(|t| {
                    t.versions
                        .iter()
                        .any(|v| matches!(v.role, VersionRole::Canary | VersionRole::Preview))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::source::{FetchRequest, Fetched, MetricsSource, SourceError};
    use crate::model::Version;
    use futures::future::BoxFuture;
    use std::sync::{Arc, Mutex};

    /// A source that answers nothing and counts what it was asked.
    struct Counting(Arc<Mutex<Vec<usize>>>);

    impl MetricsSource for Counting {
        fn kind(&self) -> &'static str {
            "prometheus"
        }
        fn endpoint(&self) -> &str {
            "http://counting"
        }
        fn fetch<'a>(
            &'a mut self,
            request: &'a FetchRequest,
        ) -> BoxFuture<'a, Result<Fetched, SourceError>> {
            self.0.lock().expect("lock").push(request.targets.len());
            Box::pin(async { Ok(Fetched::default()) })
        }
    }

    fn targets(n: usize) -> Vec<Target> {
        (0..n)
            .map(|i| Target {
                rollout: RolloutRef::new("lab-admin", "demo", &format!("service-{i:03}")),
                versions: vec![
                    Version::new(VersionRole::Stable, "aaa"),
                    Version::new(VersionRole::Canary, &format!("c{i:03}")),
                ],
            })
            .collect()
    }

    #[tokio::test]
    async fn one_fetch_per_round_whether_1_or_500_rollouts_and_a_verdict_for_each() {
        for n in [1, 500] {
            let asked = Arc::new(Mutex::new(Vec::new()));
            let mut refresher = Refresher::new(
                Box::new(Counting(asked.clone())),
                Duration::from_secs(300),
                Duration::from_secs(5),
            );
            let judged = judge_round(&mut refresher, &targets(n), &HashMap::new(), 1e9).await;
            assert_eq!(
                *asked.lock().expect("lock"),
                [n],
                "one grouped fetch for {n}"
            );
            assert_eq!(judged.len(), n);
            assert!(
                judged
                    .iter()
                    .all(|(_, v, stale)| v.kind == analysis::VerdictKind::NoData
                        && stale.is_none()),
                "no samples: no data, never a guess"
            );
        }
    }
}
