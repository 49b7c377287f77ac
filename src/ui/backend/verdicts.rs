//! Verdicts for the whole fleet: one task per watched context judges every rollout with a
//! canary or preview, from one grouped refresh of the judge's feed (the same four queries
//! whatever the number of rollouts), with the same judge and policy as `analyze`, `auto` and
//! the selected rollout's verdict; each verdict goes up as `AppEvent::Verdict`, with whether
//! its metrics are stale (`AppEvent::MetricsStale`, for the inbox).

use super::EventSink;
use super::fleet::{Current, FleetViews};
use super::metrics::config_for;
use crate::analysis;
use crate::attention::fleet_verdicts::{self, judge_round};
use crate::metrics::source::now_secs;
use crate::metrics::{self, Refresher, Target};
use crate::model::RolloutRef;
use crate::ui::events::{AppEvent, VerdictView};
use crate::ui::settings::Settings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The rollout the selected feed judges (`metrics.rs`); the fleet's tasks skip it.
pub type Selected = Arc<Mutex<Option<RolloutRef>>>;

/// Everything one context's task needs.
pub struct VerdictsJob {
    pub sink: EventSink,
    pub current: Current,
    pub fleet: FleetViews,
    pub settings: Settings,
    pub context: String,
    pub selected: Selected,
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
        selected,
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
    // Each rollout's policy (and, when the file is broken, why the built-in one judges it,
    // said first in its verdict as the selected rollout's feed says it).
    let mut policies: HashMap<RolloutRef, analysis::Policy> = HashMap::new();
    let mut policy_errors: HashMap<RolloutRef, String> = HashMap::new();
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
                    let read = tokio::task::spawn_blocking(move || {
                        analysis::Policy::resolve(None, &rollout)
                    })
                    .await;
                    let policy = match read {
                        Ok(Ok(policy)) => policy,
                        Ok(Err(e)) => {
                            let why = format!("{e}; judging with the built-in policy");
                            policy_errors.insert(t.rollout.clone(), why);
                            analysis::Policy::default()
                        }
                        Err(e) => {
                            let why = format!("reading the policy failed: {e}");
                            policy_errors.insert(t.rollout.clone(), why);
                            analysis::Policy::default()
                        }
                    };
                    policies.insert(t.rollout.clone(), policy);
                }
            }
            let judged = judge_round(&mut refresher, &targets, &policies, now_secs()).await;
            let selected = super::lock(&selected).clone();
            for (rollout, mut verdict, stale_since_secs) in judged {
                if selected.as_ref() == Some(&rollout) {
                    continue;
                }
                if let Some(why) = policy_errors.get(&rollout) {
                    verdict.reasons.insert(0, why.clone());
                }
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

/// The context's rollouts that have a new version to judge (a canary or a preview).
fn judged_targets(fleet: &FleetViews, context: &str) -> Vec<Target> {
    let views = super::lock(fleet);
    views
        .get(context)
        .map(|views| fleet_verdicts::judged_targets(views.iter()))
        .unwrap_or_default()
}
