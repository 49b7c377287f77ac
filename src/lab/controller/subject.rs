//! What the controller reads of a Rollout object: name, generation, revision, the pod
//! template and its hash, and the strategy as a [`Plan`]; plus the replica counts a state
//! implies (pods are instant in the lab).

use super::hash::{pod_template_hash, step_hash};
use super::state::State;
use crate::model::argo::{CanaryStep, RolloutSpec};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The strategy as the controller needs it.
pub(crate) enum Plan {
    Canary(CanaryPlan),
    BlueGreen {
        preview_service: Option<String>,
        auto_promotion_enabled: bool,
        auto_promotion_seconds: i64,
    },
    /// Argo's InvalidSpec, with its message.
    Invalid(String),
}

pub(crate) struct CanaryPlan {
    pub steps: Vec<CanaryStep>,
    pub step_hash: String,
    pub canary_service: Option<String>,
    pub stable_service: Option<String>,
    pub traffic_routed: bool,
}

/// The parts of a Rollout object the controller reads.
pub(crate) struct Subject {
    pub name: String,
    pub namespace: String,
    pub uid: Option<String>,
    pub generation: i64,
    pub revision: Option<u64>,
    pub paused: bool,
    pub restart_at: Option<String>,
    pub replicas: i64,
    pub template: Value,
    pub match_labels: Map<String, Value>,
    pub selector_text: String,
    pub pod_hash: String,
    pub plan: Plan,
    /// Pod-template hash and replicas of each ReplicaSet the rollout owns, as stored; the
    /// ones neither current nor stable/active are still scaling down and count in the status.
    pub owned: Vec<(String, i64)>,
}

impl Subject {
    pub fn read(rollout: &Value) -> Option<Subject> {
        let metadata = rollout.get("metadata")?;
        let name = metadata.get("name")?.as_str()?.to_string();
        let empty = json!({});
        let raw_spec = rollout.get("spec").unwrap_or(&empty);
        let template = raw_spec.get("template").cloned().unwrap_or(Value::Null);
        // Deserialized from a borrow: no copy of the spec on every tick.
        let (spec, plan) = match RolloutSpec::deserialize(raw_spec) {
            Ok(spec) => {
                let plan = plan_of(&spec, raw_spec, &template);
                (spec, plan)
            }
            Err(e) => (
                RolloutSpec::default(),
                Plan::Invalid(format!("The Rollout \"{name}\" is invalid: {e}")),
            ),
        };
        let selector = raw_spec.get("selector").cloned().unwrap_or(Value::Null);
        Some(Subject {
            namespace: text_at(metadata, "namespace").unwrap_or_else(|| "default".into()),
            uid: text_at(metadata, "uid"),
            generation: metadata
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(1),
            revision: metadata
                .pointer("/annotations/rollout.argoproj.io~1revision")
                .and_then(Value::as_str)
                .and_then(|r| r.parse().ok()),
            paused: spec.paused,
            restart_at: spec.restart_at.clone(),
            replicas: i64::from(spec.replicas.unwrap_or(1).max(0)),
            pod_hash: pod_template_hash(&template),
            template,
            match_labels: selector
                .get("matchLabels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            selector_text: format_label_selector(&selector),
            plan,
            name,
            owned: Vec::new(),
        })
    }

    /// Argo's `RolloutHealthy`.
    pub fn is_healthy(&self, st: &State, counts: &Counts) -> bool {
        let current = st.current_pod_hash.as_ref();
        let strategy_done = match &self.plan {
            Plan::Canary(plan) => {
                let steps_done =
                    plan.steps.is_empty() || st.current_step_index == Some(plan.steps.len() as i64);
                steps_done && st.stable_rs.as_ref() == current && counts.replicas == self.replicas
            }
            Plan::BlueGreen {
                preview_service, ..
            } => {
                st.active_selector.as_ref() == current
                    && (preview_service.is_none() || st.preview_selector.as_ref() == current)
            }
            Plan::Invalid(_) => false,
        };
        strategy_done
            && current.is_some()
            && counts.updated == self.replicas
            && counts.available == self.replicas
    }

    /// The canary weight the traffic router gets now (Argo's desired weight).
    pub fn canary_weight(&self, st: &State) -> i64 {
        let Plan::Canary(plan) = &self.plan else {
            return 0;
        };
        if st.abort || st.stable_rs.is_none() || st.stable_rs == st.current_pod_hash {
            return 0;
        }
        let index = usize::try_from(st.current_step_index.unwrap_or(0)).unwrap_or(0);
        if index >= plan.steps.len() {
            return 100;
        }
        plan.steps[..=index]
            .iter()
            .rev()
            .find_map(|s| s.set_weight)
            .map_or(0, |w| i64::from(w.clamp(0, 100)))
    }
}

fn text_at(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

fn plan_of(spec: &RolloutSpec, raw_spec: &Value, template: &Value) -> Plan {
    if !template.is_object() {
        return Plan::Invalid("Rollout has missing field '.spec.template'".into());
    }
    if let Some(canary) = &spec.strategy.canary {
        let raw_steps = raw_spec
            .pointer("/strategy/canary/steps")
            .cloned()
            .unwrap_or(json!([]));
        return Plan::Canary(CanaryPlan {
            steps: canary.steps.clone(),
            step_hash: step_hash(&raw_steps),
            canary_service: canary.canary_service.clone(),
            stable_service: canary.stable_service.clone(),
            traffic_routed: canary.traffic_routing.is_some(),
        });
    }
    if let Some(bg) = &spec.strategy.blue_green {
        return Plan::BlueGreen {
            preview_service: bg.preview_service.clone(),
            auto_promotion_enabled: bg.auto_promotion_enabled.unwrap_or(true),
            auto_promotion_seconds: i64::from(bg.auto_promotion_seconds.unwrap_or(0)),
        };
    }
    Plan::Invalid(
        "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'".into(),
    )
}

/// `metav1.FormatLabelSelector`: `app=checkout,tier in (web,api)`.
fn format_label_selector(selector: &Value) -> String {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|labels| {
            let mut keys: Vec<&String> = labels.keys().collect();
            keys.sort();
            keys.into_iter()
                .map(|k| format!("{k}={}", labels[k].as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expr
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match expr.get("operator").and_then(Value::as_str) {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("DoesNotExist") => format!("!{key}"),
            _ => key.to_string(),
        });
    }
    parts.join(",")
}

/// Replica counts; pods start and become ready instantly in the lab.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Counts {
    pub replicas: i64,
    pub updated: i64,
    pub ready: i64,
    pub available: i64,
}

impl Counts {
    /// The counts of the current and stable (active) ReplicaSets, plus the pods of older
    /// ones not yet scaled down (they run, so they count in `replicas` and `ready`).
    pub fn of(ro: &Subject, st: &State) -> Counts {
        let lingering: i64 = ro
            .owned
            .iter()
            .filter(|(hash, _)| {
                let hash = Some(hash);
                hash != st.current_pod_hash.as_ref()
                    && hash != st.stable_rs.as_ref()
                    && hash != st.active_selector.as_ref()
            })
            .map(|(_, n)| (*n).max(0))
            .sum();
        let mut counts = Counts::of_strategy(ro, st);
        counts.replicas += lingering;
        counts.ready += lingering;
        counts
    }

    fn of_strategy(ro: &Subject, st: &State) -> Counts {
        let r = ro.replicas;
        let all = |n: i64| Counts {
            replicas: n,
            updated: n.min(r),
            ready: n,
            available: n,
        };
        let promoted = st.stable_rs.is_none() || st.stable_rs == st.current_pod_hash;
        match &ro.plan {
            Plan::Invalid(_) => all(0),
            _ if st.current_pod_hash.is_none() => Counts {
                updated: 0,
                ..all(0)
            },
            Plan::Canary(plan) => {
                if promoted {
                    return all(r);
                }
                if st.abort {
                    return Counts {
                        updated: 0,
                        ..all(r)
                    };
                }
                let weight = ro.canary_weight(st);
                let canary = (r * weight + 99) / 100;
                let stable = if plan.traffic_routed {
                    r
                } else {
                    (r - canary).max(0)
                };
                Counts {
                    updated: canary,
                    ..all(stable + canary)
                }
            }
            Plan::BlueGreen { .. } => {
                let switched = st.active_selector == st.current_pod_hash;
                if promoted && switched {
                    return all(r);
                }
                if st.abort {
                    return Counts {
                        updated: 0,
                        ..all(r)
                    };
                }
                Counts {
                    replicas: 2 * r,
                    updated: r,
                    ready: 2 * r,
                    available: r,
                }
            }
        }
    }
}
