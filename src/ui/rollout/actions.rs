//! What each action of the action bar would do now, or why it cannot: read-only first, then
//! a missing permission, then the rollout's phase. The bar itself is drawn by `action_bar.rs`;
//! the keyboard shortcuts ask the same gates.

use super::flagger_actions;
use crate::model::{Action, Command, Pin, RolloutView, StrategyKind, Tool, Verb};
use crate::ui::events::Access;

/// Whether a button can act now: what it will do, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    Enabled(String),
    Disabled(String),
}

impl Gate {
    pub fn is_enabled(&self) -> bool {
        matches!(self, Gate::Enabled(_))
    }

    pub fn text(&self) -> &str {
        match self {
            Gate::Enabled(s) | Gate::Disabled(s) => s,
        }
    }
}

/// Everything the window needs to decide about one action.
pub struct GateInput<'a> {
    pub view: &'a RolloutView,
    /// None: the cluster has not answered the permission check yet.
    pub access: Option<Access>,
    pub read_only: bool,
    /// The user's name in the rollout's context, when known.
    pub user: Option<&'a str>,
    /// A Flagger canary's load tester namespaces outside its own, with the permissions known
    /// there (see [`flagger_actions::with_load_tester`]).
    pub load_testers: Vec<(String, Option<Access>)>,
}

impl GateInput<'_> {
    /// Read-only first, then permissions, then what the rollout's phase allows.
    pub fn gate(&self, verb: Verb, by_phase: Result<String, String>) -> Gate {
        if self.read_only {
            return Gate::Disabled("read-only mode: every change is refused".into());
        }
        let r = &self.view.reference;
        match self.access {
            None => {
                return Gate::Disabled(format!(
                    "checking your permissions in namespace {} of {}…",
                    r.namespace, r.context
                ));
            }
            Some(access) => {
                let (access, proxy_namespace) = match flagger_actions::with_load_tester(
                    self.view,
                    verb,
                    access,
                    &self.load_testers,
                ) {
                    Ok(judged) => judged,
                    Err(namespace) => {
                        return Gate::Disabled(format!(
                            "checking your permissions in namespace {namespace} (the load \
                             tester's) of {}…",
                            r.context
                        ));
                    }
                };
                if let Some(missing) = access.missing_for(r.provider, verb) {
                    let who = self.user.unwrap_or("you");
                    let namespace = match &proxy_namespace {
                        Some(ns) if missing == "create services/proxy" => ns,
                        _ => &r.namespace,
                    };
                    return Gate::Disabled(format!(
                        "{who} may not {verb}: missing permission \"{missing}\" in namespace \
                         {namespace} of {}",
                        r.context
                    ));
                }
            }
        }
        match by_phase {
            Ok(what) => Gate::Enabled(what),
            Err(why) => Gate::Disabled(why),
        }
    }
}

/// The weight a rollout has at `step`: the last `setWeight` at or before it; 100 past the end.
pub fn weight_at(view: &RolloutView, step: i32) -> i32 {
    crate::model::view::weight_at_step(&view.steps, step)
}

/// What is on screen, which approvals, promote full and weight changes are pinned to: the
/// step and pod hash of a canary, the preview of a blue-green rollout.
pub fn pin(view: &RolloutView) -> Pin {
    Pin::of_view(view)
}

/// What undo is pinned to: the revision running on screen (a step moving on does not matter).
pub fn undo_pin(view: &RolloutView) -> Pin {
    Pin {
        pod_hash: view.current_hash.clone(),
        ..Pin::default()
    }
}

fn short(hash: Option<&String>) -> &str {
    hash.map(String::as_str).unwrap_or("?")
}

/// Approve (promote one step): "promote step 1 → 2: weight 20% → 40%".
pub fn approve(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::approve(view, f);
    }
    if view.aborted {
        return Err("aborted: Retry first, then approve".into());
    }
    match view.strategy {
        StrategyKind::BlueGreen => {
            if let (Some(newest), Some(preview)) = (&view.current_hash, &view.preview_hash)
                && newest != preview
            {
                Err(format!(
                    "a new revision {newest} is starting; the preview still shows {preview}: \
                     wait until it is the preview"
                ))
            } else if view.paused || !view.pause_reasons.is_empty() {
                Ok(format!(
                    "promote preview {} to active",
                    short(view.preview_hash.as_ref())
                ))
            } else {
                Err("nothing to approve: the blue-green rollout is not paused".into())
            }
        }
        _ => {
            let Some(step) = view.current_step else {
                return Err("this rollout has no steps to approve".into());
            };
            let n = view.steps.len() as i32;
            if step >= n {
                return Err(format!("all {n} steps are done: nothing left to approve"));
            }
            let next = step + 1;
            Ok(format!(
                "promote step {step} → {next}: weight {}% → {}%",
                view.set_weight,
                weight_at(view, next)
            ))
        }
    }
}

pub fn promote_full(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::promote_full(f);
    }
    if view.strategy == StrategyKind::Weighted {
        if view.aborted {
            return Err("aborted: set a weight to start it again, then promote fully".into());
        }
        return Ok(format!(
            "promote fully, in 4 stages: 1. the canary's pod template ({}) goes to the stable \
             Deployment; 2. wait until the stable Deployment is available with it; 3. all \
             traffic to stable, which now runs the new version (canary weight {}% → 0%), at \
             the last step; 4. the canary Deployment is scaled to zero. Each stage is \
             journaled: if it stops midway, Promote full again continues where it stopped",
            if view.images.is_empty() {
                "no image".to_string()
            } else {
                view.images.join(", ")
            },
            view.actual_weight
        ));
    }
    if view.aborted {
        return Err("aborted: Retry first, then promote".into());
    }
    if !view.in_progress() {
        return Err("nothing to promote: the stable version is the current one".into());
    }
    Ok(format!(
        "promote fully: skip the remaining steps, weight {}% → 100%",
        view.actual_weight
    ))
}

pub fn abort(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::abort(view, f);
    }
    if view.aborted {
        return Err("already aborted: Retry starts the update again".into());
    }
    if !view.in_progress() {
        return Err("nothing to roll back: no update is in progress".into());
    }
    let stable = match view.strategy {
        StrategyKind::BlueGreen => view.active_hash.as_ref(),
        _ => view.stable_hash.as_ref(),
    };
    Ok(format!(
        "abort: send all traffic back to stable {} (weight {}% → 0%)",
        short(stable),
        view.actual_weight
    ))
}

pub fn pause(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::pause(f);
    }
    if view.paused {
        return Err("already paused by hand: Resume continues".into());
    }
    Ok("pause: the controller stops advancing steps until Resume".into())
}

pub fn resume(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::resume(f);
    }
    // A weighted release resting at a step (WaitingForPromote) is not paused: Approve moves it.
    if view.strategy == StrategyKind::Weighted && !view.paused {
        return Err("not paused: Approve moves it to the next step".into());
    }
    if !view.paused && view.pause_reasons.is_empty() {
        return Err("not paused: nothing to resume".into());
    }
    Ok(format!(
        "resume: clear the pause and continue from step {}",
        view.step_label()
    ))
}

pub fn retry(view: &RolloutView) -> Result<String, String> {
    if view.flagger.is_some() {
        return flagger_actions::not_flaggers("retry");
    }
    if view.strategy == StrategyKind::Weighted {
        return Err("a weighted release has no retry: set a weight to start it again".into());
    }
    if !view.aborted {
        return Err("only an aborted rollout can be retried".into());
    }
    Ok("retry: start the update again from the first step".into())
}

pub fn undo(view: &RolloutView) -> Result<String, String> {
    if view.flagger.is_some() {
        return flagger_actions::not_flaggers("undo");
    }
    if view.strategy == StrategyKind::Weighted {
        return Err(
            "the window's Undo picks among Argo revisions; undo a weighted release with \
             `release-cockpit undo NAME` (its stable Deployment's previous template)"
                .into(),
        );
    }
    match current_revision(view) {
        Some(rev) if rev > 1 => Ok(format!(
            "undo: roll the pod template back from revision {rev} to one you pick"
        )),
        _ => Err("no earlier revision to go back to".into()),
    }
}

pub fn restart(view: &RolloutView) -> Result<String, String> {
    if view.flagger.is_some() {
        return flagger_actions::not_flaggers("restart");
    }
    if view.strategy == StrategyKind::Weighted {
        return Err(
            "restart is for Argo rollouts: restart a weighted release's Deployments with \
             `kubectl rollout restart deployment/NAME`"
                .into(),
        );
    }
    Ok("restart: recreate every pod of this rollout, one by one".into())
}

pub fn set_weight(view: &RolloutView) -> Result<String, String> {
    if let Some(f) = &view.flagger {
        return flagger_actions::set_weight(f);
    }
    if view.strategy == StrategyKind::Weighted {
        return Ok(
            "any weight 0-100: both backendRef weights of the HTTPRoute in one patch, pinned \
             to the weights on screen"
                .into(),
        );
    }
    if view.strategy == StrategyKind::BlueGreen {
        return Err("blue-green has no weights: Approve switches all traffic".into());
    }
    if view.declared_weights().is_empty() {
        return Err("this rollout declares no setWeight steps".into());
    }
    if view.aborted {
        return Err("aborted: Retry first".into());
    }
    Ok("move the rollout to the step that declares this weight".into())
}

pub fn current_revision(view: &RolloutView) -> Option<i64> {
    view.revision.as_deref()?.parse().ok()
}

/// Where the slider lands for `value`: any whole weight for a weighted (Gateway API) release,
/// whose weights are free; otherwise the declared weight nearest to it.
pub fn slider_weight(view: &RolloutView, value: f64) -> Option<i32> {
    if view.strategy == StrategyKind::Weighted {
        return value
            .is_finite()
            .then(|| value.round().clamp(0.0, 100.0) as i32);
    }
    snap_weight(view, value).map(|(_, weight)| weight)
}

/// The declared weight nearest to `value`, and the step that declares it.
pub fn snap_weight(view: &RolloutView, value: f64) -> Option<(i32, i32)> {
    view.declared_weights().into_iter().min_by(|a, b| {
        (a.1 as f64 - value)
            .abs()
            .total_cmp(&(b.1 as f64 - value).abs())
    })
}

pub fn command(view: &RolloutView, action: Action) -> Command {
    Command {
        target: view.reference.clone(),
        action,
        tool: Tool::Gui,
        comment: None,
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
