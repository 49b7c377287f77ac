//! The controller's evidence for the window: reads the selected rollout's AnalysisRuns
//! (with the rollout itself, to find them by owner and status) and sends them up as
//! `AppEvent::AnalysisRuns`. Not being allowed to list them is no runs, not an error.

use super::EventSink;
use crate::cluster::{ClusterError, fetch_rollout, rollout_analysis_runs};
use crate::model::{Provider, RolloutRef};
use crate::ui::events::AppEvent;

pub async fn load_analysis_runs(sink: &EventSink, client: &kube::Client, rollout: RolloutRef) {
    // AnalysisRuns are Argo's; a weighted (Gateway API) release has none to read.
    if rollout.provider != Provider::Argo {
        sink.emit(AppEvent::AnalysisRuns {
            rollout,
            runs: Vec::new(),
        });
        return;
    }
    let runs = match fetch_rollout(client, &rollout).await {
        Ok(object) => rollout_analysis_runs(client, &rollout, &object).await,
        Err(e) => Err(e),
    };
    match runs {
        Ok(runs) => sink.emit(AppEvent::AnalysisRuns { rollout, runs }),
        Err(ClusterError::Forbidden { .. }) => sink.emit(AppEvent::AnalysisRuns {
            rollout,
            runs: Vec::new(),
        }),
        Err(e) => sink.emit(AppEvent::Problem(format!(
            "could not read the AnalysisRuns of {rollout}: {e}"
        ))),
    }
}
