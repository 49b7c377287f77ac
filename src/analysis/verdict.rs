//! The verdict types the judge hands to the CLI, the window and `auto`: the overall result,
//! the score, per-metric results with their numbers and broken rules, and the reasons in words.

use super::policy::{Direction, Unit};
use super::proportions::Counts;
use super::rules::RuleHit;
use super::stats::Shift;
use super::words;
use serde::{Deserialize, Serialize};

/// The judge's answer for the whole canary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Pass,
    Marginal,
    Fail,
    NoData,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Pass => "pass",
            VerdictKind::Marginal => "marginal",
            VerdictKind::Fail => "fail",
            VerdictKind::NoData => "no data",
        }
    }

    /// The exit code of `release-cockpit analyze`: 0 pass, 1 fail, 3 marginal, 4 no data.
    pub fn exit_code(self) -> u8 {
        match self {
            VerdictKind::Pass => 0,
            VerdictKind::Fail => 1,
            VerdictKind::Marginal => 3,
            VerdictKind::NoData => 4,
        }
    }
}

impl std::fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which judge produced a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeKind {
    /// Sustained rules + Mann–Whitney: [`super::judge()`].
    Statistical,
    /// Any single sample over a threshold fails: [`super::judge_naive()`].
    Naive,
}

/// How the canary's samples compare with stable's, statistically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// No difference beyond the tolerance (or not significant).
    Pass,
    /// Canary significantly higher than stable, beyond the tolerance.
    High,
    /// Canary significantly lower than stable, beyond the tolerance.
    Low,
    /// Fewer samples than `min_samples` on a side.
    NoData,
}

/// One metric's standing in the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricStatus {
    Pass,
    Fail,
    NoData,
}

impl MetricStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricStatus::Pass => "pass",
            MetricStatus::Fail => "fail",
            MetricStatus::NoData => "no data",
        }
    }
}

/// The numbers behind a classification.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub canary_samples: usize,
    pub baseline_samples: usize,
    pub u: f64,
    pub z: f64,
    pub p_value: f64,
    /// Hodges–Lehmann shift canary − stable with its interval at the policy's confidence.
    pub shift: Shift,
    /// tolerance × |stable's median|: shifts inside ±this are not a finding.
    pub tolerance_abs: f64,
    /// `None`: over the whole window; `Some(s)`: over its last `s` seconds only.
    pub recent_secs: Option<f64>,
    /// Which test made the comparison.
    #[serde(default)]
    pub test: ComparisonTest,
    /// For the two-proportion tests: the errors (or slow requests) and requests behind each
    /// side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<ErrorCounts>,
    /// For the slow-share test: the latency a request had to exceed to count as slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_above: Option<f64>,
}

/// How a metric was compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonTest {
    /// Per-interval samples: Mann–Whitney U and the Hodges–Lehmann shift (`u` is set).
    #[default]
    MannWhitney,
    /// Error counts: pooled two-proportion z-test and Newcombe's interval (`u` is 0).
    TwoProportions,
    /// Histogram buckets pooled: the share of requests slower than `slow_above`, tested like
    /// error counts (`counts.errors` are the slow requests).
    SlowShare,
}

/// Errors (or slow requests) out of requests for the canary and for stable.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub canary: Counts,
    pub baseline: Counts,
}

/// One metric in the verdict: the values, the classification, the broken rules, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub name: String,
    pub group: String,
    pub critical: bool,
    pub direction: Direction,
    pub unit: Unit,
    /// The canary over the window (mean or median as the metric's policy says).
    pub canary: Option<f64>,
    pub baseline: Option<f64>,
    pub classification: Classification,
    pub comparison: Option<Comparison>,
    pub rule_hits: Vec<RuleHit>,
    pub status: MetricStatus,
    /// One line: "p95 412 ms vs stable 198 ms — fail: …".
    pub summary: String,
}

/// The verdict on one canary over one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// 0–100.
    pub score: f64,
    pub judge: JudgeKind,
    /// The window judged, unix seconds; `None` when there were no samples at all.
    pub window_from_secs: Option<f64>,
    pub window_to_secs: Option<f64>,
    pub metrics: Vec<MetricResult>,
    /// Why, in words, most important first.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// One line for a status bar or a CI log: "fail, score 0: error rate 6.1% vs …".
    pub fn headline(&self) -> String {
        match self.reasons.first() {
            Some(first) => format!("{}, score {:.0}: {first}", self.kind, self.score),
            None => format!("{}, score {:.0}", self.kind, self.score),
        }
    }

    /// The verdict as `analyze -o text` prints it: the result, the reasons, one line per metric.
    /// ```text
    /// verdict: fail (score 0, statistical judge, window 5m)
    ///   - error rate 6.1% vs stable 0.2% (+5.9 pp) for 2m10s — above the 0.5 pp limit
    /// metrics:
    ///   error rate  fail     error rate 6.1% vs stable 0.2% (+5.9 pp) for 2m10s — …
    ///   p95         pass     p95 101 ms vs stable 99 ms — within tolerance, pass
    /// ```
    pub fn to_text(&self) -> String {
        let judge = match self.judge {
            JudgeKind::Statistical => "statistical judge",
            JudgeKind::Naive => "naive judge",
        };
        let window = match (self.window_from_secs, self.window_to_secs) {
            (Some(from), Some(to)) => format!(", window {}", words::duration(to - from)),
            _ => String::new(),
        };
        let mut out = format!(
            "verdict: {} (score {:.0}, {judge}{window})\n",
            self.kind, self.score
        );
        for reason in &self.reasons {
            out.push_str(&format!("  - {reason}\n"));
        }
        if !self.metrics.is_empty() {
            out.push_str("metrics:\n");
        }
        let width = self
            .metrics
            .iter()
            .map(|m| words::display_name(&m.name).chars().count())
            .max()
            .unwrap_or(0);
        for m in &self.metrics {
            let status = m.status.as_str();
            out.push_str(&format!(
                "  {:width$}  {status:8} {}\n",
                words::display_name(&m.name),
                m.summary
            ));
        }
        out
    }
}
