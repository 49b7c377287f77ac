//! The controller's own evidence: an Argo AnalysisRun as the release manager reads it — its
//! phase and message, and per metric the latest measurements, the conditions and limits it
//! is judged by, and how many measurements passed, failed, were inconclusive or errored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many of a metric's latest measurements a summary keeps.
pub const LATEST_MEASUREMENTS: usize = 5;

/// One AnalysisRun of a rollout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunSummary {
    pub name: String,
    /// What the run is for: `background`, `step 2`, `pre-promotion`, `post-promotion`, or
    /// empty when the rollout's status no longer names it and it carries no label.
    pub role: String,
    /// `Pending`, `Running`, `Successful`, `Failed`, `Error` or `Inconclusive`.
    pub phase: String,
    pub message: Option<String>,
    pub started_at: Option<String>,
    pub metrics: Vec<MetricSummary>,
}

/// One metric of a run: its rules and its results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSummary {
    pub name: String,
    pub phase: String,
    pub message: Option<String>,
    pub success_condition: Option<String>,
    pub failure_condition: Option<String>,
    pub interval: Option<String>,
    /// Measurements the metric takes in all (`count`); `None`: until the run ends.
    pub count: Option<i64>,
    pub failure_limit: Option<i64>,
    pub inconclusive_limit: Option<i64>,
    pub consecutive_error_limit: Option<i64>,
    /// Measurements taken so far and how they came out.
    pub measured: i64,
    pub successful: i64,
    pub failed: i64,
    pub inconclusive: i64,
    pub error: i64,
    /// The latest measurements, oldest first.
    pub measurements: Vec<Measurement>,
}

/// One measurement as Argo records it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub value: Option<String>,
    pub phase: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub message: Option<String>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(String::from)
}

fn number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

impl AnalysisRunSummary {
    /// Reads an `argoproj.io/v1alpha1` AnalysisRun object; `None` when it has no name.
    pub fn from_object(run: &Value) -> Option<AnalysisRunSummary> {
        let name = text(&run["metadata"]["name"])?;
        let status = &run["status"];
        let results = status["metricResults"].as_array();
        let specs = run["spec"]["metrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut metrics: Vec<MetricSummary> = specs
            .iter()
            .map(|spec| {
                let name = spec["name"].as_str().unwrap_or_default();
                let result = results
                    .and_then(|r| r.iter().find(|r| r["name"] == name))
                    .cloned()
                    .unwrap_or(Value::Null);
                MetricSummary::read(spec, &result)
            })
            .collect();
        // Results for metrics the spec does not list (a dry-run, a renamed metric) still count.
        for result in results.into_iter().flatten() {
            if !metrics.iter().any(|m| result["name"] == m.name.as_str()) {
                metrics.push(MetricSummary::read(&Value::Null, result));
            }
        }
        let role = match run["metadata"]["labels"]["rollout-type"].as_str() {
            Some("Background") => "background".to_string(),
            Some("Step") => match run["metadata"]["labels"]["step-index"].as_str() {
                // Argo's index, from 0, as the cockpit's step ladder numbers steps.
                Some(i) => format!("step {i}"),
                None => "step".into(),
            },
            Some("PrePromotion") => "pre-promotion".into(),
            Some("PostPromotion") => "post-promotion".into(),
            _ => String::new(),
        };
        Some(AnalysisRunSummary {
            name,
            role,
            phase: text(&status["phase"]).unwrap_or_else(|| "Pending".into()),
            message: text(&status["message"]),
            started_at: text(&status["startedAt"])
                .or_else(|| text(&run["metadata"]["creationTimestamp"])),
            metrics,
        })
    }

    /// The run has failed (Failed or Error): the update stops.
    pub fn failed(&self) -> bool {
        matches!(self.phase.as_str(), "Failed" | "Error")
    }

    pub fn inconclusive(&self) -> bool {
        self.phase == "Inconclusive"
    }

    /// The metric that decided a failed or inconclusive run, else the first one failing.
    pub fn deciding_metric(&self) -> Option<&MetricSummary> {
        self.metrics
            .iter()
            .find(|m| m.phase == self.phase && self.phase != "Successful")
            .or_else(|| self.metrics.iter().find(|m| m.failed > 0))
    }
}

impl MetricSummary {
    fn read(spec: &Value, result: &Value) -> MetricSummary {
        let mut measurements: Vec<Measurement> = result["measurements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Measurement {
                value: text(&m["value"]),
                phase: text(&m["phase"]).unwrap_or_default(),
                started_at: text(&m["startedAt"]),
                finished_at: text(&m["finishedAt"]),
                message: text(&m["message"]),
            })
            .collect();
        if measurements.len() > LATEST_MEASUREMENTS {
            measurements.drain(..measurements.len() - LATEST_MEASUREMENTS);
        }
        let count = |key: &str| number(&result[key]).unwrap_or(0);
        MetricSummary {
            name: text(&spec["name"])
                .or_else(|| text(&result["name"]))
                .unwrap_or_default(),
            phase: text(&result["phase"]).unwrap_or_else(|| "Pending".into()),
            message: text(&result["message"]),
            success_condition: text(&spec["successCondition"]),
            failure_condition: text(&spec["failureCondition"]),
            interval: text(&spec["interval"]),
            count: number(&spec["count"]),
            failure_limit: number(&spec["failureLimit"]),
            inconclusive_limit: number(&spec["inconclusiveLimit"]),
            consecutive_error_limit: number(&spec["consecutiveErrorLimit"]),
            measured: count("count"),
            successful: count("successful"),
            failed: count("failed"),
            inconclusive: count("inconclusive"),
            error: count("error"),
            measurements,
        }
    }

    pub fn latest(&self) -> Option<&Measurement> {
        self.measurements.last()
    }

    /// The metric in the release manager's words, e.g. `error-rate: 0.082 > 0.05, 3 of 4
    /// failed; failure limit 2` or `error-rate: 0.002, 4 of 4 successful`.
    pub fn explain(&self) -> String {
        let value = self
            .latest()
            .and_then(|m| m.value.clone())
            .unwrap_or_else(|| "no measurement yet".into());
        let mut line = format!("{}: {value}", self.name);
        let latest_phase = self.latest().map(|m| m.phase.as_str()).unwrap_or_default();
        let rule = match latest_phase {
            "Failed" => self.failure_condition.as_deref().map(condition_tail),
            "Successful" => self.success_condition.as_deref().map(condition_tail),
            "Inconclusive" => Some(format!(
                "neither {} nor {}",
                self.success_condition
                    .as_deref()
                    .map(condition_tail)
                    .unwrap_or_default(),
                self.failure_condition
                    .as_deref()
                    .map(condition_tail)
                    .unwrap_or_default()
            )),
            _ => None,
        };
        if let Some(rule) = rule.filter(|r| !r.trim().is_empty()) {
            line.push(' ');
            line.push_str(&rule);
        }
        let outcome = match self.phase.as_str() {
            "Failed" => format!("{} of {} failed", self.failed, self.measured),
            "Inconclusive" => format!("{} of {} inconclusive", self.inconclusive, self.measured),
            "Error" => format!("{} of {} errors", self.error, self.measured),
            _ if self.failed > 0 => format!("{} of {} failed", self.failed, self.measured),
            _ => format!("{} of {} successful", self.successful, self.measured),
        };
        line.push_str(&format!(", {outcome}"));
        match self.phase.as_str() {
            "Inconclusive" => {
                let limit = self.inconclusive_limit.unwrap_or(0);
                line.push_str(&format!("; inconclusive limit {limit}"));
            }
            "Error" => {
                let limit = self.consecutive_error_limit.unwrap_or(4);
                line.push_str(&format!("; consecutive error limit {limit}"));
            }
            _ => {
                let limit = self.failure_limit.unwrap_or(0);
                line.push_str(&format!("; failure limit {limit}"));
            }
        }
        line
    }
}

/// `result[0] > 0.05` → `> 0.05`; anything else is shown whole.
fn condition_tail(condition: &str) -> String {
    let c = condition.trim();
    c.strip_prefix("result[0]")
        .or_else(|| c.strip_prefix("result"))
        .map(|rest| rest.trim().to_string())
        .unwrap_or_else(|| format!("({c})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed_run() -> Value {
        json!({
            "metadata": {"name": "inventory-6d77d576fb-13",
                "labels": {"rollout-type": "Background", "rollouts-pod-template-hash": "6d77d576fb"}},
            "spec": {"metrics": [{"name": "error-rate", "interval": "1m", "count": 10,
                "successCondition": "result[0] <= 0.05", "failureCondition": "result[0] > 0.05",
                "failureLimit": 2}]},
            "status": {"phase": "Failed", "startedAt": "2026-12-06T00:00:00Z",
                "message": "Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2)",
                "metricResults": [{"name": "error-rate", "phase": "Failed", "count": 3, "failed": 3,
                    "measurements": [
                        {"phase": "Failed", "value": "0.061", "startedAt": "2026-12-06T00:01:00Z", "finishedAt": "2026-12-06T00:01:00Z"},
                        {"phase": "Failed", "value": "0.07", "startedAt": "2026-12-06T00:02:00Z", "finishedAt": "2026-12-06T00:02:00Z"},
                        {"phase": "Failed", "value": "0.082", "startedAt": "2026-12-06T00:03:00Z", "finishedAt": "2026-12-06T00:03:00Z"}]}]}
        })
    }

    #[test]
    fn a_failed_run_names_its_metric_in_words() {
        let run = AnalysisRunSummary::from_object(&failed_run()).unwrap();
        assert_eq!(run.role, "background");
        assert!(run.failed());
        let metric = run.deciding_metric().unwrap();
        assert_eq!(
            metric.explain(),
            "error-rate: 0.082 > 0.05, 3 of 3 failed; failure limit 2"
        );
        assert_eq!(metric.count, Some(10));
        assert_eq!(
            metric.latest().unwrap().finished_at.as_deref(),
            Some("2026-12-06T00:03:00Z")
        );
    }

    #[test]
    fn the_fixture_run_reads() {
        let run: Value = crate::model::testdata::object("experiment-analysis/canary-analysis.yaml");
        let run = AnalysisRunSummary::from_object(&run).unwrap();
        let metric = &run.metrics[0];
        assert_eq!(metric.name, "random-fail");
        assert_eq!((metric.measured, metric.failed, metric.error), (8, 4, 1));
        assert_eq!(metric.failure_limit, Some(5));
        assert_eq!(metric.inconclusive_limit, Some(1));
        assert!(metric.measurements.len() <= LATEST_MEASUREMENTS);
    }
}
