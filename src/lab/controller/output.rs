//! What the controller writes: the full `status` (every field Argo owns, in Argo's shape,
//! other fields kept), its phase and message (`CalculateRolloutPhase`), and the ReplicaSet
//! of the current pod template.

use super::hash::POD_TEMPLATE_HASH_LABEL;
use super::state::State;
use super::subject::{Counts, Plan, Subject};
use super::{DESIRED_REPLICAS_ANNOTATION, REVISION_ANNOTATION};
use serde_json::{Map, Value, json};

impl Subject {
    /// The new status: the old one (so fields the lab does not manage survive) with every
    /// field the controller owns rewritten.
    pub fn write_status(&self, st: &State, old: Value) -> Value {
        let mut status = match old {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut canary = Map::new();
        // The analysis runs' statuses are the analysis runner's: kept while they are about
        // the current pod template, dropped when a new revision starts (as Argo resets them).
        let current_hash = st.current_pod_hash.clone().unwrap_or_default();
        if let Some(Value::Object(old_canary)) = status.get("canary") {
            for key in [
                "currentBackgroundAnalysisRunStatus",
                "currentStepAnalysisRunStatus",
            ] {
                let Some(run) = old_canary.get(key) else {
                    continue;
                };
                let about_current = run["name"]
                    .as_str()
                    .is_some_and(|n| !current_hash.is_empty() && n.contains(&current_hash));
                if about_current && matches!(self.plan, Plan::Canary(_)) {
                    canary.insert(key.into(), run.clone());
                }
            }
        }
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
        // Blue-green scales on the active ReplicaSet only (the fixture: 3 of 6 replicas).
        let hpa_replicas = match self.plan {
            Plan::BlueGreen { .. } => counts.available,
            _ => counts.replicas,
        };
        put("HPAReplicas", count(hpa_replicas));
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
    pub fn replica_set(&self, st: &State, revision: u64) -> Value {
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
