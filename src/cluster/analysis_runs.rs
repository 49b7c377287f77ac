//! The read path for the controller's evidence: the AnalysisRuns Argo runs for a rollout,
//! found by owner reference and by the names in the rollout's status (background analysis,
//! step analysis, blue-green pre/postPromotionAnalysis), as plain [`AnalysisRunSummary`]s.

use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use super::error::{Attempt, ClusterError};
use crate::model::{AnalysisRunSummary, Rollout, RolloutRef};

/// Runs kept per rollout, newest first: the current update's and a few before it.
pub const KEPT_RUNS: usize = 6;

fn analysis_run_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "AnalysisRun");
    ApiResource::from_gvk_with_plural(&gvk, "analysisruns")
}

/// The AnalysisRuns of `rollout` (read with `list analysisruns` in its namespace), newest
/// first. A viewer may read them; a 404 (Argo's AnalysisRun CRD missing) is no runs.
pub async fn rollout_analysis_runs(
    client: &kube::Client,
    target: &RolloutRef,
    rollout: &Rollout,
) -> Result<Vec<AnalysisRunSummary>, ClusterError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &analysis_run_resource());
    let list = match api.list(&ListParams::default()).await {
        Ok(list) => list,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(Vec::new()),
        Err(e) => {
            return Err(Attempt {
                context: &target.context,
                namespace: Some(&target.namespace),
                name: None,
                action: "list analysisruns",
            }
            .error(e));
        }
    };
    let runs: Vec<Value> = list
        .items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    Ok(runs_of(rollout, &runs))
}

/// The runs among `runs` that belong to `rollout`: owned by it (uid), or named by its
/// status. Newest first, at most [`KEPT_RUNS`]; the role comes from the status when the
/// run carries no `rollout-type` label.
pub fn runs_of(rollout: &Rollout, runs: &[Value]) -> Vec<AnalysisRunSummary> {
    let uid = rollout.meta().uid.clone().unwrap_or_default();
    let status = serde_json::to_value(&rollout.status).unwrap_or_default();
    let named: Vec<(&str, String)> = [
        (
            "background",
            "/canary/currentBackgroundAnalysisRunStatus/name",
        ),
        ("step", "/canary/currentStepAnalysisRunStatus/name"),
        (
            "pre-promotion",
            "/blueGreen/prePromotionAnalysisRunStatus/name",
        ),
        (
            "post-promotion",
            "/blueGreen/postPromotionAnalysisRunStatus/name",
        ),
    ]
    .into_iter()
    .filter_map(|(role, path)| Some((role, status.pointer(path)?.as_str()?.to_string())))
    .collect();
    let mut mine: Vec<(&Value, AnalysisRunSummary)> = runs
        .iter()
        .filter(|run| {
            let owned = run["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["kind"] == "Rollout" && !uid.is_empty() && o["uid"] == uid.as_str());
            let name = run["metadata"]["name"].as_str().unwrap_or_default();
            owned || named.iter().any(|(_, n)| n == name)
        })
        .filter_map(|run| Some((run, AnalysisRunSummary::from_object(run)?)))
        .collect();
    for (_, summary) in &mut mine {
        if summary.role.is_empty()
            && let Some((role, _)) = named.iter().find(|(_, n)| *n == summary.name)
        {
            summary.role = (*role).to_string();
        }
    }
    let created = |run: &Value| {
        run["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    mine.sort_by(|(a, sa), (b, sb)| {
        created(b)
            .cmp(&created(a))
            .then_with(|| sb.name.cmp(&sa.name))
    });
    mine.into_iter()
        .take(KEPT_RUNS)
        .map(|(_, summary)| summary)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_are_found_by_owner_and_by_status_name() {
        let mut rollout: Rollout = crate::model::testdata::object("canary/canary-rollout.yaml");
        rollout.meta_mut().uid = Some("ro-uid".into());
        let mut status = rollout.status.clone().unwrap_or_default();
        status.canary.current_step_analysis_run_status =
            Some(json!({"name": "named-run", "status": "Inconclusive"}));
        rollout.status = Some(status);
        let runs = vec![
            json!({"metadata": {"name": "owned-run", "creationTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [{"kind": "Rollout", "uid": "ro-uid", "name": "x"}],
                "labels": {"rollout-type": "Background"}}, "status": {"phase": "Running"}}),
            json!({"metadata": {"name": "named-run", "creationTimestamp": "2026-01-02T00:00:00Z"},
                "status": {"phase": "Inconclusive"}}),
            json!({"metadata": {"name": "other", "ownerReferences": [{"kind": "Rollout", "uid": "else"}]}}),
        ];
        let found = runs_of(&rollout, &runs);
        let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["named-run", "owned-run"]);
        assert_eq!(found[0].role, "step");
        assert_eq!(found[1].role, "background");
    }

    #[test]
    fn blue_green_pre_promotion_runs_are_found_by_the_status_name() {
        let mut rollout: Rollout =
            crate::model::testdata::object("blue-green/bluegreen-rollout.yaml");
        let mut status = rollout.status.clone().unwrap_or_default();
        status.blue_green.pre_promotion_analysis_run_status =
            Some(json!({"name": "bg-pre", "status": "Running"}));
        rollout.status = Some(status);
        let runs = vec![json!({"metadata": {"name": "bg-pre"}, "status": {"phase": "Running"}})];
        let found = runs_of(&rollout, &runs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].role, "pre-promotion");
    }
}
