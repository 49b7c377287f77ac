//! The lab's simulated Argo Rollouts controller: a pure function from a Rollout object (and
//! the time) to the `status` the real controller would write, plus the ReplicaSets that should
//! exist. lab-api's loop calls [`reconcile`] every 100 ms and writes what comes back.

mod hash;
mod state;
mod sync;
#[cfg(test)]
mod tests;

pub use hash::{POD_TEMPLATE_HASH_LABEL, pod_template_hash, step_hash};
pub use sync::{BLUE_GREEN_PAUSE, CANARY_PAUSE_STEP};

use crate::model::argo::{CanaryStep, RolloutSpec};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use state::State;

/// Annotation with the rollout's revision number, on the Rollout and on each ReplicaSet.
pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
const DESIRED_REPLICAS_ANNOTATION: &str = "rollout.argoproj.io/desired-replicas";
/// Syncs per call at most; one sync makes one step of progress, the loop stops at rest.
const MAX_SYNCS: usize = 64;

/// What changed for one rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconciled {
    /// The complete new `status` (write it to the status subresource as is).
    pub status: Value,
    /// The ReplicaSet for the current pod template (`<rollout>-<hash>`, label
    /// `rollouts-pod-template-hash`, annotation `rollout.argoproj.io/revision`, ownerReference
    /// to the rollout). Create it when missing; older revisions' ReplicaSets were returned
    /// when they were current (or come with the scenario seed).
    pub replica_sets: Vec<Value>,
    /// For lab-api: annotations to merge into the Rollout's `metadata.annotations` (today only
    /// `rollout.argoproj.io/revision`, bumped on a new revision). A metadata change: it moves
    /// `resourceVersion` but not `generation`. `None` when the annotations are already right.
    pub metadata_annotations: Option<Map<String, Value>>,
}

/// Run the controller on one Rollout. `now` is the wall clock; pause durations and
/// auto-promotion delays are measured from timestamps in the object's status and divided by
/// `speed`. Returns `None` when nothing would change, so an idle lab writes nothing.
pub fn reconcile(rollout: &Value, now: Timestamp, speed: f64) -> Option<Reconciled> {
    let subject = Subject::read(rollout)?;
    let old_status = match rollout.get("status") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    let clock = Clock {
        now,
        now_text: whole_seconds(now),
        speed: if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        },
    };
    let mut st = State::read(&old_status);
    let mut revision = subject.revision.unwrap_or(1);
    for _ in 0..MAX_SYNCS {
        let prev = st.clone();
        sync::sync(&subject, &mut st, &clock, &mut revision);
        sync::update_conditions(&subject, &prev, &mut st, revision, &clock);
        if st == prev {
            break;
        }
    }
    let status = subject.write_status(&st, old_status.clone());
    let metadata_annotations = (subject.revision != Some(revision)
        && !matches!(subject.plan, Plan::Invalid(_)))
    .then(|| {
        let mut m = Map::new();
        m.insert(REVISION_ANNOTATION.into(), json!(revision.to_string()));
        m
    });
    if status == old_status && metadata_annotations.is_none() {
        return None;
    }
    let replica_sets = match subject.plan {
        Plan::Invalid(_) => Vec::new(),
        _ => vec![subject.replica_set(&st, revision)],
    };
    Some(Reconciled {
        status,
        replica_sets,
        metadata_annotations,
    })
}

/// `now` as Kubernetes writes times: RFC 3339, whole seconds, UTC.
fn whole_seconds(now: Timestamp) -> String {
    Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

pub(crate) struct Clock {
    pub now: Timestamp,
    pub now_text: String,
    pub speed: f64,
}

impl Clock {
    /// Has `lab_seconds` of lab time (wall time × speed) passed since `start`?
    /// An unreadable start time counts as passed, so a rollout never hangs on it.
    pub fn waited(&self, start: &str, lab_seconds: f64) -> bool {
        let Ok(start) = start.parse::<Timestamp>() else {
            return true;
        };
        let elapsed = self.now.duration_since(start).as_secs_f64();
        elapsed * self.speed >= lab_seconds
    }
}

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
}

impl Subject {
    fn read(rollout: &Value) -> Option<Subject> {
        let metadata = rollout.get("metadata")?;
        let name = metadata.get("name")?.as_str()?.to_string();
        let raw_spec = rollout.get("spec").cloned().unwrap_or(json!({}));
        let template = raw_spec.get("template").cloned().unwrap_or(Value::Null);
        let (spec, plan) = match serde_json::from_value::<RolloutSpec>(raw_spec.clone()) {
            Ok(spec) => {
                let plan = plan_of(&spec, &raw_spec, &template);
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
        })
    }

    /// Argo's `RolloutHealthy`.
    fn is_healthy(&self, st: &State, counts: &Counts) -> bool {
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
    fn canary_weight(&self, st: &State) -> i64 {
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

    /// The new status: the old one (so fields the lab does not manage survive) with every
    /// field the controller owns rewritten.
    fn write_status(&self, st: &State, old: Value) -> Value {
        let mut status = match old {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let counts = Counts::of(self, st);
        let (phase, message) = self.phase(st, &counts);
        let mut put = |key: &str, value: Option<Value>| match value {
            Some(v) => {
                status.insert(key.to_string(), v);
            }
            None => {
                status.remove(key);
            }
        };
        // Argo's counts are `omitempty`: a zero is left out.
        let count = |n: i64| (n != 0).then_some(json!(n));
        put("HPAReplicas", count(counts.replicas));
        put("replicas", count(counts.replicas));
        put("updatedReplicas", count(counts.updated));
        put("readyReplicas", count(counts.ready));
        put("availableReplicas", count(counts.available));
        put("abort", st.abort.then_some(json!(true)));
        put("abortedAt", st.aborted_at.clone().map(Value::String));
        put(
            "controllerPause",
            st.controller_pause.then_some(json!(true)),
        );
        put("promoteFull", st.promote_full.then_some(json!(true)));
        put(
            "pauseConditions",
            (!st.pause_conditions.is_empty()).then(|| st.pause_conditions_json()),
        );
        put("conditions", Some(st.conditions_json()));
        put(
            "currentPodHash",
            st.current_pod_hash.clone().map(Value::String),
        );
        put(
            "currentStepHash",
            st.current_step_hash.clone().map(Value::String),
        );
        put("currentStepIndex", st.current_step_index.map(|i| json!(i)));
        put("stableRS", st.stable_rs.clone().map(Value::String));
        put("restartedAt", st.restarted_at.clone().map(Value::String));
        put(
            "observedGeneration",
            Some(json!(self.generation.to_string())),
        );
        put("phase", Some(json!(phase)));
        put("message", (!message.is_empty()).then_some(json!(message)));
        let mut blue_green = Map::new();
        let mut canary = Map::new();
        match &self.plan {
            Plan::Canary(plan) => {
                let weight = self.canary_weight(st);
                let mut canary_dest = json!({"weight": weight});
                let mut stable_dest = json!({"weight": 100 - weight});
                if let Some(h) = &st.current_pod_hash {
                    canary_dest["podTemplateHash"] = json!(h);
                }
                if let Some(h) = st.stable_rs.as_ref().or(st.current_pod_hash.as_ref()) {
                    stable_dest["podTemplateHash"] = json!(h);
                }
                if let Some(s) = &plan.canary_service {
                    canary_dest["serviceName"] = json!(s);
                }
                if let Some(s) = &plan.stable_service {
                    stable_dest["serviceName"] = json!(s);
                }
                canary.insert(
                    "weights".into(),
                    json!({"canary": canary_dest, "stable": stable_dest}),
                );
                put("selector", Some(json!(self.selector_text)));
            }
            Plan::BlueGreen { .. } => {
                if let Some(a) = &st.active_selector {
                    blue_green.insert("activeSelector".into(), json!(a));
                }
                if let Some(p) = &st.preview_selector {
                    blue_green.insert("previewSelector".into(), json!(p));
                }
                let selector = match &st.active_selector {
                    Some(a) if self.selector_text.is_empty() => {
                        format!("{POD_TEMPLATE_HASH_LABEL}={a}")
                    }
                    Some(a) => format!("{},{POD_TEMPLATE_HASH_LABEL}={a}", self.selector_text),
                    None => self.selector_text.clone(),
                };
                put("selector", Some(json!(selector)));
            }
            Plan::Invalid(_) => put("selector", Some(json!(self.selector_text))),
        }
        put("blueGreen", Some(Value::Object(blue_green)));
        put("canary", Some(Value::Object(canary)));
        Value::Object(status)
    }

    /// Argo's `CalculateRolloutPhase`.
    fn phase(&self, st: &State, counts: &Counts) -> (&'static str, String) {
        for c in &st.conditions {
            if c.type_ == "InvalidSpec" {
                return ("Degraded", format!("InvalidSpec: {}", c.message));
            }
            if c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded" {
                return ("Degraded", format!("{}: {}", c.reason, c.message));
            }
        }
        if self.paused {
            return ("Paused", "manually paused".into());
        }
        if let Some(p) = st.pause_conditions.first() {
            return ("Paused", p.reason.clone());
        }
        if self.restart_at.is_some() && self.restart_at != st.restarted_at {
            return ("Progressing", "rollout is restarting".into());
        }
        if counts.updated < self.replicas {
            return ("Progressing", "more replicas need to be updated".into());
        }
        if counts.available < counts.updated {
            let message = "updated replicas are still becoming available";
            return ("Progressing", message.into());
        }
        let promoted = st.stable_rs.is_some() && st.stable_rs == st.current_pod_hash;
        match &self.plan {
            Plan::BlueGreen { .. } => {
                if st.active_selector.is_none() || st.active_selector != st.current_pod_hash {
                    return ("Progressing", "active service cutover pending".into());
                }
                if !promoted {
                    let message = "waiting for post-promotion verification to complete";
                    return ("Progressing", message.into());
                }
            }
            Plan::Canary(plan) => {
                if !plan.traffic_routed && counts.replicas > counts.updated {
                    return ("Progressing", "old replicas are pending termination".into());
                }
                if !promoted {
                    return ("Progressing", "waiting for all steps to complete".into());
                }
            }
            Plan::Invalid(_) => {}
        }
        ("Healthy", String::new())
    }

    /// The ReplicaSet Argo keeps for the current pod template.
    fn replica_set(&self, st: &State, revision: u64) -> Value {
        let hash = &self.pod_hash;
        let replicas = Counts::of(self, st).updated;
        let mut template = self.template.clone();
        if !template.is_object() {
            template = json!({});
        }
        if !template["metadata"].is_object() {
            template["metadata"] = json!({});
        }
        if !template["metadata"]["labels"].is_object() {
            template["metadata"]["labels"] = json!({});
        }
        template["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL] = json!(hash);
        let labels = template["metadata"]["labels"].clone();
        let mut match_labels = self.match_labels.clone();
        match_labels.insert(POD_TEMPLATE_HASH_LABEL.into(), json!(hash));
        let mut owner = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": self.name,
            "controller": true,
            "blockOwnerDeletion": true,
        });
        if let Some(uid) = &self.uid {
            owner["uid"] = json!(uid);
        }
        json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{}-{hash}", self.name),
                "namespace": self.namespace,
                "labels": labels,
                "annotations": {
                    REVISION_ANNOTATION: revision.to_string(),
                    DESIRED_REPLICAS_ANNOTATION: self.replicas.to_string(),
                },
                "ownerReferences": [owner],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": match_labels},
                "template": template,
            },
            "status": {
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "observedGeneration": 1,
            },
        })
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
    pub fn of(ro: &Subject, st: &State) -> Counts {
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
