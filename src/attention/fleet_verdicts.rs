//! Verdicts for many rollouts at once, shared by the window's fleet column and `inbox`: one
//! refresh of the judge's feed for every target together (the source groups them: as many
//! queries for 500 rollouts as for one), then the same judge on each with its policy.

use crate::analysis;
use crate::analysis::CustomQuery;
use crate::metrics::{Refresher, Target};
use crate::model::{RolloutRef, RolloutView, VersionRole};
use std::collections::HashMap;

/// One round: one refresh of the judge's feed for every target together (the source groups
/// them: as many queries for 500 rollouts as for one), then the judge on each, with its
/// policy (the built-in one when it has none), and since when its metrics are stale.
pub async fn judge_round(
    refresher: &mut Refresher,
    targets: &[Target],
    policies: &HashMap<RolloutRef, analysis::Policy>,
    now_secs: f64,
) -> Vec<(RolloutRef, analysis::Verdict, Option<f64>)> {
    // The custom metrics every judged rollout's policy names, fetched in the same round (one
    // query each for all targets); a name two policies define differently takes the first.
    let mut custom: Vec<CustomQuery> = Vec::new();
    for t in targets {
        for q in policies
            .get(&t.rollout)
            .map(analysis::Policy::custom_queries)
            .unwrap_or_default()
        {
            if !custom.iter().any(|c| c.name == q.name) {
                custom.push(q);
            }
        }
    }
    refresher.set_custom(custom);
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

/// The rollouts among `views` that have a new version to judge (a canary or a preview), as
/// targets of the judge's feed; aborted ones are left out (their canary takes no traffic).
pub fn judged_targets<'a>(views: impl IntoIterator<Item = &'a RolloutView>) -> Vec<Target> {
    views
        .into_iter()
        .filter(|v| !v.aborted)
        .map(Target::from_view)
        .filter(|t| {
            t.versions
                .iter()
                .any(|v| matches!(v.role, VersionRole::Canary | VersionRole::Preview))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::source::{FetchRequest, Fetched, MetricsSource, SourceError};
    use crate::model::Version;
    use futures::future::BoxFuture;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A source that answers nothing and counts what it was asked (targets per fetch) and
    /// records the custom metrics each fetch carried.
    struct Counting(Arc<Mutex<Vec<usize>>>, Arc<Mutex<Vec<Vec<String>>>>);

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
            let names = request.custom.iter().map(|c| c.name.clone()).collect();
            self.1.lock().expect("lock").push(names);
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
                Box::new(Counting(asked.clone(), Arc::default())),
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

    /// The fleet's round fetches the custom metrics the judged rollouts' policies name (the
    /// window's fleet column once judged them as missing data, overwriting the selected
    /// rollout's verdict).
    #[tokio::test]
    async fn a_round_fetches_the_custom_metrics_the_policies_name() {
        let carried = Arc::new(Mutex::new(Vec::new()));
        let mut refresher = Refresher::new(
            Box::new(Counting(Arc::default(), carried.clone())),
            Duration::from_secs(300),
            Duration::from_secs(5),
        );
        let targets = targets(2);
        let text = "[groups]\nbusiness = 10\n[metrics.orders]\ngroup = 'business'\nquery = 'sum by (destination_canonical_service, {version_label}) (rate(orders_failed_total[{window}]))'\n";
        let policy = analysis::Policy::from_toml(
            text,
            std::path::Path::new("policy.toml"),
            &targets[0].rollout,
        )
        .expect("a policy with a custom metric");
        let policies: HashMap<RolloutRef, analysis::Policy> = targets
            .iter()
            .map(|t| (t.rollout.clone(), policy.clone()))
            .collect();
        judge_round(&mut refresher, &targets, &policies, 1e9).await;
        assert_eq!(*carried.lock().expect("lock"), [vec!["orders".to_string()]]);
    }
}
