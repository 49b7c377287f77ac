//! Per-version metric series as the window and the judge read them: plain points, with
//! gaps kept as gaps, and a staleness marker when the source stopped answering.

use super::{RolloutRef, Version, VersionRole};
use serde::{Deserialize, Serialize};

/// The three signals a release manager decides from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Share of the service's requests this version takes, 0–1.
    TrafficShare,
    /// Share of this version's requests that fail with 5xx, 0–1.
    ErrorRate,
    /// 95th percentile latency in milliseconds.
    P95Ms,
    /// Requests per second this version served: the weight the judge gives its error rate and
    /// p95 samples (an error rate of 1 request is not one of 1,000).
    RequestRate,
}

impl Signal {
    pub const ALL: [Signal; 4] = [
        Signal::TrafficShare,
        Signal::ErrorRate,
        Signal::P95Ms,
        Signal::RequestRate,
    ];

    /// The signals the window plots, in order: the request rate is drawn too (how much
    /// traffic each version's error rate and p95 stand on), and weighs the judge's samples.
    pub const PLOTTED: [Signal; 4] = Signal::ALL;

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::TrafficShare => "share",
            Signal::ErrorRate => "error_rate",
            Signal::P95Ms => "p95_ms",
            Signal::RequestRate => "requests_per_second",
        }
    }
}

/// One point: unix time in seconds and a value; `None` is a gap (no data at that time).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub t_secs: f64,
    pub value: Option<f64>,
}

/// The series of one signal for one version of a rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionSeries {
    pub version: Version,
    pub signal: Signal,
    pub points: Vec<Point>,
}

/// From `since_secs` on, a version played `role` (`None`: no part any more).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleChange {
    pub since_secs: f64,
    pub role: Option<VersionRole>,
}

/// One version's roles over time, oldest first: a promotion adds a change, never a new series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRoles {
    pub hash: String,
    pub changes: Vec<RoleChange>,
}

impl VersionRoles {
    /// The part it plays now, or what it is called once it plays none ("previous stable" if it
    /// ever was stable or active, else "previous canary"); `None` before any change.
    pub fn label(&self) -> Option<VersionRole> {
        let last = self.changes.last()?;
        if let Some(role) = last.role {
            return Some(role);
        }
        let was_stable = self.changes.iter().any(|c| {
            matches!(
                c.role,
                Some(VersionRole::Stable | VersionRole::Active | VersionRole::PreviousStable)
            )
        });
        Some(if was_stable {
            VersionRole::PreviousStable
        } else {
            VersionRole::PreviousCanary
        })
    }

    /// The roles it played, in words and in order: "canary → stable → previous stable".
    pub fn history_text(&self) -> String {
        let mut words: Vec<&str> = Vec::new();
        for (i, c) in self.changes.iter().enumerate() {
            let word = match c.role {
                Some(role) => role.as_str(),
                None => VersionRoles {
                    hash: String::new(),
                    changes: self.changes[..=i].to_vec(),
                }
                .label()
                .map_or("gone", VersionRole::as_str),
            };
            if words.last() != Some(&word) {
                words.push(word);
            }
        }
        words.join(" → ")
    }
}

/// The latency histogram of one version over one interval: how many requests took at most
/// each bucket's upper bound (ms, cumulative, as Prometheus's `le` buckets), increased over
/// the interval. The `+Inf` bucket is `requests`, kept apart so the JSON form stays finite.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketPoint {
    pub t_secs: f64,
    /// (upper bound, requests at most that slow), finite bounds ascending.
    pub le: Vec<(f64, f64)>,
    /// Every request of the interval (the `+Inf` bucket).
    pub requests: f64,
}

/// The latency histogram of one version, interval by interval: what the judge pools to
/// compare latency on counts (see `analysis::histogram`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketSeries {
    pub version: Version,
    pub points: Vec<BucketPoint>,
}

/// A named series for one version: a custom metric (the policy's `metrics.NAME.query`, by
/// its name in the policy) or an extra latency quantile (`p99`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedSeries {
    pub name: String,
    pub version: Version,
    pub points: Vec<Point>,
}

/// Everything the window plots for one rollout at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub rollout: RolloutRef,
    /// `prometheus` or `scrape`.
    pub source: String,
    pub series: Vec<VersionSeries>,
    /// Unix seconds of the last good answer when the source is failing now.
    pub stale_since_secs: Option<f64>,
    /// The source's last error, in words, when it is failing.
    pub error: Option<String>,
    /// Every version's roles over time, for every version in `series`.
    #[serde(default)]
    pub roles: Vec<VersionRoles>,
    /// Latency histogram buckets per version per interval, for the judge; empty when the
    /// source gives none (then p95 is judged on its samples).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_buckets: Vec<BucketSeries>,
    /// The policy's custom metrics per version, every version in `series`, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<NamedSeries>,
    /// The template's extra latency quantiles per version in milliseconds, by name (`p99`),
    /// every version in `series`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<NamedSeries>,
    /// The span each sample's rate covers (the source's rate window), in seconds, when the
    /// source says: samples closer than that share requests, and the judge counts one per span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_window_secs: Option<f64>,
}
