//! The Argo Rollouts `Rollout` object (argoproj.io/v1alpha1) as the controller writes it.
//! Only the fields the cockpit reads are typed; everything else is ignored on read, and the
//! orchestrator never round-trips these structs back to the cluster (it sends patches).

use kube::CustomResource;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `spec` of an Argo Rollout.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "Rollout",
    plural = "rollouts",
    namespaced,
    status = "RolloutStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase", default)]
pub struct RolloutSpec {
    pub replicas: Option<i32>,
    pub paused: bool,
    pub restart_at: Option<String>,
    /// The pod template, kept as raw JSON: the cockpit reads images from it and `undo`
    /// replaces it wholesale.
    pub template: Option<Value>,
    pub workload_ref: Option<Value>,
    pub strategy: Strategy,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Strategy {
    pub canary: Option<CanaryStrategy>,
    pub blue_green: Option<BlueGreenStrategy>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStrategy {
    pub steps: Vec<CanaryStep>,
    pub canary_service: Option<String>,
    pub stable_service: Option<String>,
    pub traffic_routing: Option<Value>,
    pub analysis: Option<Value>,
}

/// One entry of `spec.strategy.canary.steps`; exactly one field is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStep {
    pub set_weight: Option<i32>,
    pub pause: Option<PauseStep>,
    pub analysis: Option<Value>,
    pub experiment: Option<Value>,
    pub set_canary_scale: Option<Value>,
    pub set_header_route: Option<Value>,
    pub set_mirror_route: Option<Value>,
    pub plugin: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PauseStep {
    /// `10s`, `5m`, `1h` or a bare number of seconds; absent means "until promoted".
    pub duration: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct BlueGreenStrategy {
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
    pub auto_promotion_enabled: Option<bool>,
    pub auto_promotion_seconds: Option<i32>,
    pub scale_down_delay_seconds: Option<i32>,
}

/// `status` of an Argo Rollout, as the controller writes it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RolloutStatus {
    pub abort: bool,
    pub aborted_at: Option<String>,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub promote_full: bool,
    pub current_pod_hash: Option<String>,
    pub current_step_hash: Option<String>,
    pub current_step_index: Option<i32>,
    #[serde(rename = "stableRS")]
    pub stable_rs: Option<String>,
    /// Argo writes this as a string ("429"); older objects have a number.
    #[serde(deserialize_with = "string_or_number")]
    pub observed_generation: Option<String>,
    pub phase: Option<String>,
    pub message: Option<String>,
    pub conditions: Vec<Condition>,
    pub canary: CanaryStatus,
    pub blue_green: BlueGreenStatus,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub restarted_at: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PauseCondition {
    pub reason: String,
    pub start_time: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<String>,
    pub last_update_time: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStatus {
    pub weights: Option<TrafficWeights>,
    pub current_step_analysis_run_status: Option<Value>,
    pub current_background_analysis_run_status: Option<Value>,
}

/// `status.canary.weights`: what the traffic router was last told.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficWeights {
    pub canary: WeightDestination,
    pub stable: WeightDestination,
    pub additional: Vec<WeightDestination>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct WeightDestination {
    pub weight: i32,
    pub service_name: Option<String>,
    pub pod_template_hash: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct BlueGreenStatus {
    pub active_selector: Option<String>,
    pub preview_selector: Option<String>,
    pub scale_up_preview_check_point: bool,
    /// `{name, status, message}` of the blue-green analyses, as Argo writes them.
    pub pre_promotion_analysis_run_status: Option<Value>,
    pub post_promotion_analysis_run_status: Option<Value>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}
