//! A weighted release on the Gateway API, as the cockpit declares and reads it: an HTTPRoute
//! annotated `release-cockpit.io/release: NAME` whose first rule's first backendRef is the
//! stable Service and second the canary Service. The cockpit is its controller, and all its
//! state lives in annotations on the route, so every cockpit and pipeline reads the same:
//!
//! - `release-cockpit.io/steps`: the declared steps, comma-separated, in Argo's step words:
//!   `setWeight 10` or just `10` (a weight), `pause` (until a person approves) or `pause 2m`
//!   (timed); e.g. `10,25,50,100` or `10,pause,50,pause 5m,100`.
//! - `release-cockpit.io/step`: the index of the current step (0 when absent).
//! - `release-cockpit.io/paused`, `release-cockpit.io/aborted`: `"true"` when so.
//! - `release-cockpit.io/last-action`: who did what last (as on an Argo rollout).

use super::view::{Phase, StepKind, StrategyKind};
use super::{Provider, RolloutRef, RolloutView};
use serde_json::Value;

pub const RELEASE_ANNOTATION: &str = "release-cockpit.io/release";
pub const STEPS_ANNOTATION: &str = "release-cockpit.io/steps";
pub const STEP_ANNOTATION: &str = "release-cockpit.io/step";
pub const PAUSED_ANNOTATION: &str = "release-cockpit.io/paused";
/// The pause reason of a weighted release resting at a step until someone promotes it.
pub const WAITING_FOR_PROMOTE: &str = "WaitingForPromote";
pub const ABORTED_ANNOTATION: &str = "release-cockpit.io/aborted";

/// One backendRef of the route: its Service, weight and where the weight lives (a JSON
/// Pointer, for pinned patches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    pub service: String,
    pub weight: i32,
    pub pointer: String,
}

/// What the cockpit reads of a weighted release's HTTPRoute.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightedRoute {
    /// The HTTPRoute's own name (the release's name is in its annotation).
    pub route: String,
    pub release: String,
    pub steps: Vec<StepKind>,
    pub step: i32,
    pub paused: bool,
    pub aborted: bool,
    pub stable: Backend,
    pub canary: Backend,
    pub last_action: Option<String>,
    /// What a pipeline's `auto` waits for (`release-cockpit.io/auto-status`).
    pub auto_status: Option<String>,
    pub resource_version: Option<String>,
}

impl WeightedRoute {
    /// The release `route` declares, or why it is not one the cockpit can drive.
    pub fn from_route(route: &Value) -> Result<WeightedRoute, String> {
        let meta = &route["metadata"];
        let annotations = &meta["annotations"];
        let text = |key: &str| annotations[key].as_str().map(str::trim);
        let name = meta["name"].as_str().unwrap_or_default().to_string();
        let release = text(RELEASE_ANNOTATION)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("HTTPRoute {name} has no {RELEASE_ANNOTATION} annotation"))?
            .to_string();
        let steps = match text(STEPS_ANNOTATION) {
            Some(steps) => parse_steps(steps)
                .map_err(|e| format!("HTTPRoute {name}: annotation {STEPS_ANNOTATION}: {e}"))?,
            None => Vec::new(),
        };
        let step = match text(STEP_ANNOTATION) {
            None => 0,
            Some(s) => s.parse::<i32>().ok().filter(|s| *s >= 0).ok_or_else(|| {
                format!("HTTPRoute {name}: annotation {STEP_ANNOTATION} is {s:?}, not a step index")
            })?,
        };
        let backend = |i: usize| -> Result<Backend, String> {
            let b = &route["spec"]["rules"][0]["backendRefs"][i];
            let service = b["name"].as_str().ok_or_else(|| {
                format!(
                    "HTTPRoute {name} needs two backendRefs in its first rule (stable, then canary)"
                )
            })?;
            Ok(Backend {
                service: service.to_string(),
                weight: b["weight"]
                    .as_i64()
                    .and_then(|w| i32::try_from(w).ok())
                    .unwrap_or(1),
                pointer: format!("/spec/rules/0/backendRefs/{i}/weight"),
            })
        };
        Ok(WeightedRoute {
            route: name.clone(),
            release,
            steps,
            step,
            paused: text(PAUSED_ANNOTATION) == Some("true"),
            aborted: text(ABORTED_ANNOTATION) == Some("true"),
            stable: backend(0)?,
            canary: backend(1)?,
            last_action: text(super::view::LAST_ACTION_ANNOTATION).map(String::from),
            auto_status: text(super::view::AUTO_STATUS_ANNOTATION)
                .filter(|s| !s.is_empty())
                .map(String::from),
            resource_version: meta["resourceVersion"].as_str().map(String::from),
        })
    }

    /// The canary's share of traffic in percent (its weight over both), as a gateway splits.
    pub fn canary_percent(&self) -> i32 {
        let total = self.stable.weight.max(0) + self.canary.weight.max(0);
        if total == 0 {
            return 0;
        }
        ((f64::from(self.canary.weight.max(0)) * 100.0 / f64::from(total)).round()) as i32
    }

    /// The weight step `index` sets: the last `setWeight` at or before it (0 before any);
    /// 100 past the last step.
    pub fn weight_at(&self, index: i32) -> i32 {
        super::view::weight_at_step(&self.steps, index)
    }
}

/// One side of a weighted release as read from its Deployment: the pod-template hash of its
/// newest ReplicaSet (the version), its images and pods.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Side {
    pub hash: Option<String>,
    pub images: Vec<String>,
    pub replicas: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
}

impl WeightedRoute {
    /// The release as the fleet, `list` and `get` show it: strategy "weighted (Gateway API)",
    /// step i/n, the canary's share as its weight, stable and canary versions.
    pub fn view(
        &self,
        context: &str,
        namespace: &str,
        created_at: Option<String>,
        stable: &Side,
        canary: &Side,
    ) -> RolloutView {
        let weight = self.canary_percent();
        // Between steps nothing moves a weighted release but a person (or `auto`): it waits.
        let not_started = weight == 0 && self.step == 0;
        let done =
            weight >= 100 || (!self.steps.is_empty() && self.step >= self.steps.len() as i32);
        let waiting = !(self.aborted || self.paused || not_started || done);
        let (phase, message) = if self.aborted {
            (
                Phase::Degraded,
                "aborted: all traffic on stable".to_string(),
            )
        } else if self.paused {
            (Phase::Paused, "paused".to_string())
        } else if weight == 0 && self.step == 0 {
            (Phase::Healthy, String::new())
        } else if weight == 0 && !self.steps.is_empty() && self.step >= self.steps.len() as i32 {
            // Past the last step with no canary weight: promoted fully (stable runs it).
            (
                Phase::Healthy,
                "promoted fully: all traffic on stable".to_string(),
            )
        } else if weight >= 100 || (!self.steps.is_empty() && self.step >= self.steps.len() as i32)
        {
            (Phase::Healthy, "all traffic on the canary".to_string())
        } else {
            (
                Phase::Paused,
                format!("at weight {weight}%: waiting for promote or set-weight"),
            )
        };
        RolloutView {
            reference: RolloutRef {
                context: context.to_string(),
                namespace: namespace.to_string(),
                name: self.release.clone(),
                provider: Provider::Gateway,
            },
            strategy: StrategyKind::Weighted,
            steps: self.steps.clone(),
            current_step: (!self.steps.is_empty()).then_some(self.step),
            set_weight: weight,
            actual_weight: weight,
            phase,
            message,
            stable_hash: stable.hash.clone(),
            current_hash: canary.hash.clone().or_else(|| stable.hash.clone()),
            active_hash: None,
            preview_hash: None,
            images: canary.images.clone(),
            paused: self.paused,
            pause_reasons: if waiting {
                vec![WAITING_FOR_PROMOTE.to_string()]
            } else {
                Vec::new()
            },
            controller_pause: false,
            aborted: self.aborted,
            aborted_at: None,
            revision: None,
            resource_version: self.resource_version.clone(),
            generation: None,
            created_at: created_at.clone(),
            since: created_at,
            replicas: stable.replicas + canary.replicas,
            desired_replicas: stable.replicas,
            ready_replicas: stable.ready + canary.ready,
            updated_replicas: canary.updated,
            available_replicas: stable.available + canary.available,
            last_action: self.last_action.clone(),
            auto_status: self.auto_status.clone(),
            flagger: None,
        }
    }
}

/// `10,pause,setWeight 50,pause 5m,100` → steps; an unknown word or a weight outside 0..100
/// is refused with the item named.
pub fn parse_steps(text: &str) -> Result<Vec<StepKind>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let mut words = item.split_whitespace();
            let first = words.next().unwrap_or_default();
            let rest = words.next();
            let weight = |w: &str| {
                w.parse::<i32>()
                    .ok()
                    .filter(|w| (0..=100).contains(w))
                    .map(|weight| StepKind::SetWeight { weight })
                    .ok_or_else(|| format!("{item:?}: a weight is a whole number from 0 to 100"))
            };
            match (first, rest) {
                ("pause", duration) => Ok(StepKind::Pause {
                    duration: duration.map(String::from),
                }),
                ("setWeight", Some(w)) => weight(w),
                (w, None) => weight(w),
                _ => Err(format!(
                    "{item:?} is not a step; use a weight (10 or setWeight 10), pause, or pause 2m"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_read_in_argos_words_and_bad_ones_are_named() {
        assert_eq!(
            parse_steps("10, pause, setWeight 50,pause 5m,100").unwrap(),
            vec![
                StepKind::SetWeight { weight: 10 },
                StepKind::Pause { duration: None },
                StepKind::SetWeight { weight: 50 },
                StepKind::Pause {
                    duration: Some("5m".into())
                },
                StepKind::SetWeight { weight: 100 },
            ]
        );
        let err = parse_steps("10,140").unwrap_err();
        assert!(err.contains("\"140\"") && err.contains("0 to 100"), "{err}");
        assert!(parse_steps("10,wait").unwrap_err().contains("\"wait\""));
    }

    #[test]
    fn a_route_reads_as_a_release_with_its_state_from_annotations() {
        let route = json!({
            "metadata": {"name": "cart-route", "resourceVersion": "7", "annotations": {
                RELEASE_ANNOTATION: "cart", STEPS_ANNOTATION: "10,25,50,100",
                STEP_ANNOTATION: "1", PAUSED_ANNOTATION: "true"}},
            "spec": {"rules": [{"backendRefs": [
                {"name": "cart-stable", "weight": 75}, {"name": "cart-canary", "weight": 25}]}]}
        });
        let r = WeightedRoute::from_route(&route).unwrap();
        assert_eq!(
            (r.route.as_str(), r.release.as_str()),
            ("cart-route", "cart")
        );
        assert_eq!((r.step, r.paused, r.aborted), (1, true, false));
        assert_eq!(r.canary.pointer, "/spec/rules/0/backendRefs/1/weight");
        assert_eq!((r.stable.weight, r.canary_percent()), (75, 25));
        assert_eq!((r.weight_at(1), r.weight_at(4)), (25, 100));
        let side = |hash: &str, image: &str, pods: i32| Side {
            hash: Some(hash.into()),
            images: vec![image.into()],
            replicas: pods,
            ready: pods,
            available: pods,
            updated: pods,
        };
        let view = r.view(
            "lab",
            "demo",
            None,
            &side("55d47fcc69", "cart:2.3.0", 3),
            &side("7b9f68d6b", "cart:2.4.0", 1),
        );
        assert_eq!(view.strategy.as_str(), "weighted (Gateway API)");
        assert_eq!(view.reference.provider, Provider::Gateway);
        assert_eq!(
            view.reference.name, "cart",
            "the release's name, not the route's"
        );
        assert_eq!((view.set_weight, view.step_label().as_str()), (25, "1/4"));
        assert_eq!(view.phase, Phase::Paused);
        assert!(view.in_progress());
        let roles: Vec<_> = view
            .versions()
            .iter()
            .map(|v| (v.role, v.hash.clone()))
            .collect();
        assert_eq!(
            roles,
            vec![
                (super::super::VersionRole::Stable, "55d47fcc69".to_string()),
                (super::super::VersionRole::Canary, "7b9f68d6b".to_string()),
            ]
        );
        let mut one = route.clone();
        one["spec"]["rules"][0]["backendRefs"] = json!([{"name": "cart-stable"}]);
        assert!(
            WeightedRoute::from_route(&one)
                .unwrap_err()
                .contains("two backendRefs")
        );
    }
}
