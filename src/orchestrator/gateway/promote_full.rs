//! promote --full for a weighted release, in four stages: the canary's pod template to the
//! stable Deployment, wait until stable is available with it, all traffic to stable, the
//! canary scaled to zero. Pure: the next stage not yet done, seen from the cluster as read.

use crate::cluster::DEPLOYMENT_HASH_LABEL;
use crate::model::gateway::{STEP_ANNOTATION, WeightedRoute};
use crate::model::{RolloutRef, Verb};
use crate::orchestrator::OrchestratorError;
use crate::orchestrator::journal::Stage;
use crate::orchestrator::plan::{PatchBody, Plan, PlannedPatch, PlannedStage, Subresource};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::json;

/// How many stages promote --full has.
pub const STAGES: u32 = 4;

/// The stable Deployment's template once promoted: the canary's, with the labels the stable
/// Deployment's selector needs (its pods must stay stable's, and its Service's) and without
/// the ReplicaSet's hash label.
pub fn promoted_template(stable: &Deployment, canary: &Deployment) -> PodTemplateSpec {
    let mut template = canary.spec.template.clone();
    let labels = template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    labels.remove(DEPLOYMENT_HASH_LABEL);
    let selector = stable
        .spec
        .selector
        .match_labels
        .clone()
        .unwrap_or_default();
    labels.extend(selector);
    template
}

fn name_of(deployment: &Deployment) -> String {
    deployment.metadata.name.clone().unwrap_or_default()
}

fn desired_replicas(deployment: &Deployment) -> i32 {
    deployment.spec.replicas.unwrap_or(1)
}

/// True when `deployment` has rolled out its current template, as `kubectl rollout status`
/// judges it: the controller saw its latest spec, every desired pod is updated and
/// available, and no old pod is left (while old pods serve, `availableReplicas` counts them).
pub fn rolled_out(deployment: &Deployment) -> bool {
    let want = desired_replicas(deployment);
    let Some(status) = &deployment.status else {
        return false;
    };
    status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0)
        && status.updated_replicas.unwrap_or(0) == want
        && status.replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
}

/// "2/3 updated, 1/3 available", for a wait that timed out.
pub fn rollout_words(deployment: &Deployment) -> String {
    let want = desired_replicas(deployment);
    let status = deployment.status.clone().unwrap_or_default();
    format!(
        "{}/{want} updated, {}/{want} available",
        status.updated_replicas.unwrap_or(0),
        status.available_replicas.unwrap_or(0)
    )
}

fn images(deployment: &Deployment) -> String {
    let images: Vec<String> = deployment
        .spec
        .template
        .spec
        .iter()
        .flat_map(|p| p.containers.iter())
        .filter_map(|c| c.image.clone())
        .collect();
    if images.is_empty() {
        "no image".into()
    } else {
        images.join(", ")
    }
}

fn stage(number: u32, what: String) -> Stage {
    Stage {
        number,
        of: STAGES,
        what,
    }
}

/// The four stages, in words, for the dialog and the journal.
pub fn stage_words(stable: &str, canary: &str) -> [String; 4] {
    [
        format!("copy the canary's pod template to Deployment {stable}"),
        format!("wait until Deployment {stable} is available with it"),
        "all traffic to stable at the last step, weights 100/0".into(),
        format!("scale Deployment {canary} to zero"),
    ]
}

/// The first stage of promote --full not yet done, read from the route and the stable and
/// canary Deployments; a plan with no stage and no patches when all four are done.
pub fn plan_promote_full(
    target: &RolloutRef,
    route: &WeightedRoute,
    stable: &Deployment,
    canary: &Deployment,
) -> Result<Plan, OrchestratorError> {
    let verb = Verb::PromoteFull;
    if route.aborted {
        return Err(OrchestratorError::NotApplicable {
            target: target.clone(),
            verb,
            reason: "it is aborted; set a weight to start it again, then promote --full".into(),
        });
    }
    let (stable_name, canary_name) = (name_of(stable), name_of(canary));
    let words = stage_words(&stable_name, &canary_name);
    let last = route.steps.len() as i32;
    let mut plan = Plan::nothing(target, verb, String::new());
    plan.home = Subresource::Route(route.route.clone());
    plan.from_step = Some(route.step);
    plan.to_step = (last > 0).then_some(last);
    plan.weight = Some(0);
    let pinned_to = |deployment: &Deployment| {
        json!({"op": "test", "path": "/metadata/resourceVersion",
            "value": deployment.metadata.resource_version.clone().unwrap_or_default()})
    };
    let template = promoted_template(stable, canary);
    if stable.spec.template != template {
        let value = serde_json::to_value(&template).map_err(|e| OrchestratorError::Invalid {
            target: target.clone(),
            verb,
            message: format!("the canary's pod template cannot be copied: {e}"),
        })?;
        plan.patches.push(PlannedPatch {
            subresource: Subresource::Deployment(stable_name.clone()),
            body: PatchBody::Json(vec![
                pinned_to(stable),
                json!({"op": "replace", "path": "/spec/template", "value": value}),
            ]),
        });
        plan.stage = Some(PlannedStage {
            stage: stage(1, words[0].clone()),
            wait_for: None,
        });
        plan.summary = format!(
            "Deployment {stable_name} got the canary's pod template ({})",
            images(canary)
        );
        return Ok(plan);
    }
    if !rolled_out(stable) {
        plan.stage = Some(PlannedStage {
            stage: stage(2, words[1].clone()),
            wait_for: Some(stable_name.clone()),
        });
        plan.summary = format!("Deployment {stable_name} is available with it");
        return Ok(plan);
    }
    let at_last_step = last == 0 || route.step == last;
    if (route.stable.weight, route.canary.weight) != (100, 0) || !at_last_step {
        let mut ops = super::verbs::weight_ops(route, 100, 0);
        if last > 0 {
            ops.push(
                json!({"op": "add", "path": super::verbs::annotation_path(STEP_ANNOTATION),
                "value": last.to_string()}),
            );
        }
        plan.seen_weights = Some((route.stable.weight, route.canary.weight));
        plan.patches.push(PlannedPatch {
            subresource: Subresource::Route(route.route.clone()),
            body: PatchBody::Json(ops),
        });
        plan.stage = Some(PlannedStage {
            stage: stage(3, words[2].clone()),
            wait_for: None,
        });
        plan.summary = if last > 0 {
            format!("all traffic on stable (stable 100 / canary 0), step {last} of {last}")
        } else {
            "all traffic on stable (stable 100 / canary 0)".into()
        };
        return Ok(plan);
    }
    if desired_replicas(canary) != 0 {
        plan.patches.push(PlannedPatch {
            subresource: Subresource::Deployment(canary_name.clone()),
            body: PatchBody::Json(vec![
                pinned_to(canary),
                json!({"op": "replace", "path": "/spec/replicas", "value": 0}),
            ]),
        });
        plan.stage = Some(PlannedStage {
            stage: stage(4, words[3].clone()),
            wait_for: None,
        });
        plan.summary = format!("Deployment {canary_name} scaled to zero");
        return Ok(plan);
    }
    plan.summary = format!(
        "nothing to do: Deployment {stable_name} runs the canary's pod template ({}), all \
         traffic is on stable and {canary_name} is scaled to zero",
        images(canary)
    );
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{cart, target};
    use super::*;

    fn deployment(name: &str, track: &str, image: &str, replicas: i32, rv: &str) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": name, "resourceVersion": rv, "generation": 2},
            "spec": {"replicas": replicas,
                "selector": {"matchLabels": {"app": "cart", "track": track}},
                "template": {"metadata": {"labels": {"app": "cart", "track": track}},
                    "spec": {"containers": [{"name": "cart", "image": image}]}}},
            "status": {"observedGeneration": 2, "replicas": replicas,
                "updatedReplicas": replicas, "availableReplicas": replicas}
        }))
        .unwrap()
    }

    fn stage_of(plan: &Plan) -> Option<u32> {
        plan.stage.as_ref().map(|s| s.stage.number)
    }

    #[test]
    fn each_stage_is_planned_from_what_the_cluster_shows_done() {
        let canary = deployment("cart-canary", "canary", "cart:2.4.0", 1, "7");
        let stable = deployment("cart-stable", "stable", "cart:2.3.0", 3, "5");
        let first = plan_promote_full(&target(), &cart(90, 10, "0"), &stable, &canary).unwrap();
        assert_eq!(stage_of(&first), Some(1));
        let PatchBody::Json(ops) = &first.patches[0].body else {
            panic!("a JSON Patch")
        };
        assert_eq!(
            ops[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "5"})
        );
        assert_eq!(
            ops[1]["value"]["metadata"]["labels"]["track"], "stable",
            "stable's pods keep the labels its selector and Service pick"
        );
        assert_eq!(
            ops[1]["value"]["spec"]["containers"][0]["image"],
            "cart:2.4.0"
        );

        // The new pods are not available yet; the old ones still serve.
        let mut copied = deployment("cart-stable", "stable", "cart:2.4.0", 3, "6");
        copied.status.as_mut().unwrap().replicas = Some(6);
        let waiting = plan_promote_full(&target(), &cart(90, 10, "0"), &copied, &canary).unwrap();
        assert_eq!(stage_of(&waiting), Some(2));
        assert!(waiting.patches.is_empty());
        assert_eq!(
            waiting.stage.unwrap().wait_for.as_deref(),
            Some("cart-stable")
        );

        let available = deployment("cart-stable", "stable", "cart:2.4.0", 3, "8");
        let traffic =
            plan_promote_full(&target(), &cart(90, 10, "0"), &available, &canary).unwrap();
        assert_eq!(stage_of(&traffic), Some(3));
        let PatchBody::Json(ops) = &traffic.patches[0].body else {
            panic!("a JSON Patch")
        };
        assert_eq!(ops[0]["op"], "test");
        assert_eq!(ops[0]["value"], 90);
        assert_eq!(ops[2]["value"], 100);
        assert_eq!(ops[3]["value"], 0);
        assert_eq!(ops[4]["value"], "4");

        let scale = plan_promote_full(&target(), &cart(100, 0, "4"), &available, &canary).unwrap();
        assert_eq!(stage_of(&scale), Some(4));
        assert_eq!(
            scale.patches[0].subresource,
            Subresource::Deployment("cart-canary".into())
        );

        let idle = deployment("cart-canary", "canary", "cart:2.4.0", 0, "9");
        let done = plan_promote_full(&target(), &cart(100, 0, "4"), &available, &idle).unwrap();
        assert_eq!(stage_of(&done), None);
        assert!(done.patches.is_empty());
        assert!(
            done.summary.starts_with("nothing to do"),
            "{}",
            done.summary
        );
    }
}
