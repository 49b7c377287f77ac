//! The judge's policy: thresholds, statistics settings, metric groups and weights, with the
//! defaults from issue 7, loaded from a TOML file with per-cluster and per-rollout overrides.
//! The file format is documented on [`Policy`].

use crate::model::RolloutRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the built-in error-rate metric (share of requests failing with 5xx, 0–1).
pub const ERROR_RATE: &str = "error_rate";
/// Name of the built-in p95 latency metric, in milliseconds.
pub const P95_MS: &str = "p95_ms";

/// The longest window, smoothing or hold a policy may name: a day. The judge keeps every
/// sample of its window in memory, so a window of years would be a huge allocation.
pub const MAX_SECS: f64 = 86_400.0;
/// The most samples per side a policy may require (more would never be reached).
pub const MAX_MIN_SAMPLES: usize = 100_000;

/// Which way a metric gets worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsWorse,
    LowerIsWorse,
}

/// How a metric's values read to a person, and how a stretch of samples is summed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share 0–1, shown as a percentage; limits "by" are percentage points / 100.
    Ratio,
    /// Milliseconds.
    Ms,
    /// A plain number.
    Number,
}

/// How a stretch of samples is summed up (for rules and for the value shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Mean: right for rates, where a burst must not be hidden by quiet seconds.
    Mean,
    /// Median: right for latency percentiles, where one slow second is noise.
    Median,
}

/// What the judge does with one metric: its group, whether it is critical, which way is
/// worse, and its threshold rules. Every rule limit can be `"off"` in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub group: String,
    #[serde(default)]
    pub critical: bool,
    #[serde(default = "default_direction")]
    pub direction: Direction,
    #[serde(default = "default_unit")]
    pub unit: Unit,
    #[serde(default = "default_aggregate")]
    pub aggregate: Aggregate,
    /// Rules read the metric summed up over this trailing stretch, not single samples.
    #[serde(default = "default_smooth_secs")]
    pub smooth_secs: f64,
    /// Fail when the canary is worse than stable by more than this, in the metric's unit
    /// (ratio: 0.005 = 0.5 percentage points).
    #[serde(default, with = "limit")]
    pub worse_than_stable_by: Option<f64>,
    /// Fail when the canary is worse than stable by more than this many percent of stable.
    #[serde(default, with = "limit")]
    pub worse_than_stable_pct: Option<f64>,
    /// How long (on sample timestamps) the two rules above must hold before they fail.
    #[serde(default)]
    pub for_secs: f64,
    /// Absolute ceiling (higher-is-worse) or floor (lower-is-worse) for the canary.
    #[serde(default, with = "limit")]
    pub limit: Option<f64>,
    /// How long the absolute limit must be broken before it fails (0: once is enough).
    #[serde(default)]
    pub limit_for_secs: f64,
    /// The smallest shift worth a verdict, in the metric's unit: the statistical comparison
    /// passes a significant shift smaller than this (at 1,000 req/s a 0.1 pp rise in errors
    /// is real, and still no reason to roll back). 0: only the relative tolerance applies.
    #[serde(default)]
    pub min_effect: f64,
    /// For a metric that comes with histogram buckets (the built-in p95 does when the source
    /// gives latency buckets): a request slower than this, in the metric's unit, counts as
    /// slow, and the canary's share of slow requests is tested against stable's. Unset:
    /// slower than stable's pooled p95 over the window (5 % of stable's requests).
    #[serde(default, with = "limit")]
    pub slow_above: Option<f64>,
    /// A custom metric's PromQL, with the templates' placeholders (`{namespaces}`,
    /// `{services}`, `{version_label}`, `{window}`); it must answer one series per
    /// (namespace, service, version), labelled like the built-in signals' results. Only for
    /// metrics other than `error_rate` and `p95_ms` (those come from the mesh template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

fn default_direction() -> Direction {
    Direction::HigherIsWorse
}
fn default_unit() -> Unit {
    Unit::Number
}
fn default_aggregate() -> Aggregate {
    Aggregate::Median
}
fn default_smooth_secs() -> f64 {
    60.0
}

impl MetricSpec {
    /// The spec for a metric that arrives without one in the policy: statistics only, in a
    /// group of its own, not critical.
    pub fn unlisted(name: &str) -> MetricSpec {
        MetricSpec {
            group: name.to_string(),
            critical: false,
            direction: Direction::HigherIsWorse,
            unit: Unit::Number,
            aggregate: Aggregate::Median,
            smooth_secs: default_smooth_secs(),
            worse_than_stable_by: None,
            worse_than_stable_pct: None,
            for_secs: 0.0,
            limit: None,
            limit_for_secs: 0.0,
            min_effect: 0.0,
            slow_above: None,
            query: None,
        }
    }
}

/// The success-rate floor: the canary's success rate (1 − error rate) must not stay under
/// `min` for `for_secs`. Read from the `error_rate` series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessRate {
    #[serde(default, with = "limit")]
    pub min: Option<f64>,
    #[serde(default)]
    pub for_secs: f64,
}

/// Everything the judge needs to decide. `Policy::default()` is issue 7's defaults.
///
/// # File format (TOML)
/// Every key is optional; what is left out keeps its default. `"off"` turns a rule off.
/// Resolution order for one rollout: built-in defaults, the file's top level,
/// `[cluster.<kube context>]`, then `[rollout."<namespace>/<name>"]`; tables merge key by key.
///
/// The example below is `src/analysis/policy.example.toml`, which the tests load.
#[doc = concat!("```toml\n", include_str!("policy.example.toml"), "```")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub window_secs: f64,
    pub confidence: f64,
    pub tolerance: f64,
    pub min_samples: usize,
    /// When the metrics carry requests per second: a p95 sample counts only when its version
    /// served at least this many requests in it (the p95 of 2 requests says little, and says
    /// it with a bias that depends on the traffic: compared across versions with different
    /// shares it reads as a regression).
    pub min_requests: f64,
    /// The statistics also look at the window's last `recent_secs` (0: off), so a canary that
    /// turns bad late is caught before its bad samples outnumber its healthy start.
    pub recent_secs: f64,
    /// The confidence of that second look: stricter than `confidence`, because it is taken
    /// again every judging interval over a short stretch, and many looks at noise find
    /// something by chance.
    pub recent_confidence: f64,
    pub pass_score: f64,
    pub marginal_score: f64,
    pub groups: BTreeMap<String, f64>,
    pub success_rate: SuccessRate,
    pub metrics: BTreeMap<String, MetricSpec>,
}

impl Default for Policy {
    fn default() -> Policy {
        let error_rate = MetricSpec {
            group: "errors".into(),
            critical: true,
            direction: Direction::HigherIsWorse,
            unit: Unit::Ratio,
            aggregate: Aggregate::Mean,
            smooth_secs: 60.0,
            worse_than_stable_by: Some(0.005),
            worse_than_stable_pct: None,
            for_secs: 120.0,
            limit: None,
            limit_for_secs: 0.0,
            // The rule's own 0.5 pp: the statistics fail sooner than the rule (on counts, within
            // seconds), never on a difference the rule itself would not act on. Half of it
            // failed 1 % of healthy canaries at 50 req/s (4 errors in 285 requests, once).
            min_effect: 0.005,
            slow_above: None,
            query: None,
        };
        let p95 = MetricSpec {
            group: "latency".into(),
            critical: true,
            direction: Direction::HigherIsWorse,
            unit: Unit::Ms,
            aggregate: Aggregate::Median,
            smooth_secs: 60.0,
            worse_than_stable_by: None,
            worse_than_stable_pct: Some(50.0),
            for_secs: 10.0,
            limit: None,
            limit_for_secs: 0.0,
            min_effect: 0.0,
            slow_above: None,
            query: None,
        };
        Policy {
            window_secs: 300.0,
            confidence: 0.98,
            tolerance: 0.25,
            min_samples: 10,
            min_requests: 10.0,
            recent_secs: 30.0,
            recent_confidence: 0.998,
            pass_score: 95.0,
            marginal_score: 75.0,
            groups: BTreeMap::from([("errors".into(), 50.0), ("latency".into(), 50.0)]),
            success_rate: SuccessRate {
                min: Some(0.99),
                for_secs: 180.0,
            },
            metrics: BTreeMap::from([(ERROR_RATE.into(), error_rate), (P95_MS.into(), p95)]),
        }
    }
}

/// A policy file that could not be used; each names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}; check the path given to --policy")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy file {path} is not valid TOML for the judge: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "policy file {path}: {problem}; fix the key in the file (every key is documented in policy.example.toml)"
    )]
    Invalid { path: PathBuf, problem: String },
}

impl Policy {
    /// Where the policy lives when none is named: `policy.toml` beside `metrics.toml` in the
    /// config directory (`~/.config/release-cockpit/` on Linux). `analyze`, `auto` and the
    /// window all read it, so the pipeline and the person at the window see the same verdict.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("io", "release-cockpit", "release-cockpit")
            .map(|d| d.config_dir().join("policy.toml"))
    }

    /// The policy for one rollout: the named file (which must exist), else the default file
    /// when there is one, else the built-in defaults.
    pub fn resolve(path: Option<&Path>, rollout: &RolloutRef) -> Result<Policy, PolicyError> {
        match path {
            Some(p) => Policy::load(p, rollout),
            None => match Policy::default_path() {
                Some(p) if p.exists() => Policy::load(&p, rollout),
                _ => Ok(Policy::default()),
            },
        }
    }

    /// Reads a policy file and resolves it for one rollout: defaults, then the file's top
    /// level, then `[cluster.<context>]`, then `[rollout."<namespace>/<name>"]`.
    pub fn load(path: &Path, rollout: &RolloutRef) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_toml(&text, path, rollout)
    }

    /// Like [`Policy::load`] from text already read; `path` only names it in errors.
    pub fn from_toml(text: &str, path: &Path, rollout: &RolloutRef) -> Result<Policy, PolicyError> {
        let parse = |message: String| PolicyError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let mut file: toml::Table = toml::from_str(text).map_err(|e| parse(e.to_string()))?;
        let mut clusters = take_table(&mut file, "cluster").map_err(parse)?;
        let mut rollouts = take_table(&mut file, "rollout").map_err(parse)?;

        let mut merged = match toml::Value::try_from(Policy::default()) {
            Ok(toml::Value::Table(table)) => table,
            _ => return Err(parse("the built-in defaults do not serialise".into())),
        };
        merge(&mut merged, file);
        for (overrides, key, what) in [
            (&mut clusters, rollout.context.clone(), "cluster"),
            (&mut rollouts, rollout.to_string(), "rollout"),
        ] {
            match overrides.remove(&key) {
                Some(toml::Value::Table(table)) => merge(&mut merged, table),
                Some(_) => return Err(parse(format!("[{what}.\"{key}\"] must be a table"))),
                None => {}
            }
        }
        let policy: Policy = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| parse(e.to_string()))?;
        policy.validate().map_err(|problem| PolicyError::Invalid {
            path: path.to_path_buf(),
            problem,
        })?;
        Ok(policy)
    }

    /// Checks the numbers make sense: every one finite (TOML accepts `inf` and `nan`), in
    /// range, and no window long enough to make the sample buffers huge. The message names
    /// the key, its value and what to write instead.
    pub fn validate(&self) -> Result<(), String> {
        let secs = |key: &str, v: f64, min_exclusive: bool, example: &str| {
            let low_ok = if min_exclusive { v > 0.0 } else { v >= 0.0 };
            if v.is_finite() && low_ok && v <= MAX_SECS {
                Ok(())
            } else {
                Err(format!(
                    "{key} = {v} must be {} and at most {MAX_SECS} seconds (a day); e.g. {example}",
                    if min_exclusive {
                        "more than 0"
                    } else {
                        "0 or more"
                    }
                ))
            }
        };
        let non_negative = |key: &str, v: f64, example: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "{key} = {v} must be a finite number, 0 or more; e.g. {example}"
                ))
            }
        };
        let finite = |key: &str, v: Option<f64>| match v {
            Some(v) if !v.is_finite() => {
                Err(format!("{key} = {v} must be a finite number or \"off\""))
            }
            _ => Ok(()),
        };
        secs("window_secs", self.window_secs, true, "300")?;
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            return Err(format!(
                "confidence = {} must be between 0.5 and 1 (e.g. 0.98)",
                self.confidence
            ));
        }
        non_negative("tolerance", self.tolerance, "0.25")?;
        if !(3..=MAX_MIN_SAMPLES).contains(&self.min_samples) {
            return Err(format!(
                "min_samples = {} must be at least 3 per side and at most {MAX_MIN_SAMPLES}; e.g. 10",
                self.min_samples
            ));
        }
        non_negative("min_requests", self.min_requests, "10 (0: off)")?;
        if !(self.recent_confidence > 0.5 && self.recent_confidence < 1.0) {
            return Err(format!(
                "recent_confidence = {} must be between 0.5 and 1 (e.g. 0.998)",
                self.recent_confidence
            ));
        }
        secs("recent_secs", self.recent_secs, false, "30 (0: off)")?;
        if !(0.0..=100.0).contains(&self.marginal_score)
            || !(self.marginal_score..=100.0).contains(&self.pass_score)
        {
            return Err(format!(
                "marginal_score = {} and pass_score = {}: need 0 ≤ marginal_score ≤ pass_score ≤ 100 (e.g. 75 and 95)",
                self.marginal_score, self.pass_score
            ));
        }
        for (group, weight) in &self.groups {
            non_negative(&format!("groups.{group}"), *weight, "50")?;
        }
        if let Some(min) = self.success_rate.min
            && !(0.0..=1.0).contains(&min)
        {
            return Err(format!(
                "success_rate.min = {min} must be a share between 0 and 1 (e.g. 0.99) or \"off\""
            ));
        }
        secs(
            "success_rate.for_secs",
            self.success_rate.for_secs,
            false,
            "180",
        )?;
        for (name, spec) in &self.metrics {
            let key = |field: &str| format!("metrics.{name}.{field}");
            if !self.groups.contains_key(&spec.group) {
                return Err(format!(
                    "metric {name} is in group \"{}\", which has no weight; add `{} = <weight>` \
                     under [groups]",
                    spec.group, spec.group
                ));
            }
            secs(&key("smooth_secs"), spec.smooth_secs, false, "60")?;
            secs(&key("for_secs"), spec.for_secs, false, "120")?;
            secs(&key("limit_for_secs"), spec.limit_for_secs, false, "0")?;
            finite(&key("worse_than_stable_by"), spec.worse_than_stable_by)?;
            finite(&key("worse_than_stable_pct"), spec.worse_than_stable_pct)?;
            finite(&key("limit"), spec.limit)?;
            non_negative(&key("min_effect"), spec.min_effect, "0")?;
            finite(&key("slow_above"), spec.slow_above)?;
            if spec.slow_above.is_some_and(|s| s <= 0.0) {
                return Err(format!(
                    "{} must be more than 0 (a latency in the metric's unit), or \"off\" for \
                     stable's pooled p95",
                    key("slow_above")
                ));
            }
            if let Some(query) = &spec.query {
                check_query(name, query)?;
            }
        }
        Ok(())
    }

    /// The custom metrics that carry their own PromQL, by name: what a Prometheus source
    /// queries beside the template's signals.
    pub fn custom_queries(&self) -> Vec<CustomQuery> {
        self.metrics
            .iter()
            .filter_map(|(name, spec)| {
                Some(CustomQuery {
                    name: name.clone(),
                    query: spec.query.clone()?,
                })
            })
            .collect()
    }

    /// The spec for a metric: the policy's, or [`MetricSpec::unlisted`].
    pub fn spec(&self, metric: &str) -> MetricSpec {
        self.metrics
            .get(metric)
            .cloned()
            .unwrap_or_else(|| MetricSpec::unlisted(metric))
    }

    /// The weight of a group; a group the policy does not name weighs 1.
    pub fn weight(&self, group: &str) -> f64 {
        self.groups.get(group).copied().unwrap_or(1.0)
    }
}

/// A custom metric's PromQL (`metrics.NAME.query`), placeholders not yet drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomQuery {
    pub name: String,
    pub query: String,
}

/// `metrics.NAME.query`: not for a built-in metric, not empty, only known placeholders.
fn check_query(name: &str, query: &str) -> Result<(), String> {
    let key = format!("metrics.{name}.query");
    if name == ERROR_RATE || name == P95_MS {
        return Err(format!(
            "{key}: {name} is a built-in signal, queried by the metrics settings' mesh template; \
             remove the query, or give the metric another name"
        ));
    }
    if query.trim().is_empty() {
        return Err(format!(
            "{key} is empty; write the PromQL that answers one series per namespace, service and \
             version (see policy.example.toml), or remove the key"
        ));
    }
    if let Some(p) = crate::metrics::templates::unknown_placeholder(query) {
        return Err(format!(
            "{key}: unknown placeholder {{{p}}}; the known ones are {{namespaces}}, {{services}}, \
             {{version_label}}, {{window}}"
        ));
    }
    Ok(())
}

fn take_table(file: &mut toml::Table, key: &str) -> Result<toml::Table, String> {
    match file.remove(key) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(table)) => Ok(table),
        Some(_) => Err(format!("`{key}` must be a table of overrides")),
    }
}

/// Deep merge: tables merge key by key, anything else in `over` replaces what was there.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(table)) => {
                merge(existing, table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// A rule limit in the file: a number, or `"off"`.
mod limit {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_f64(*v),
            None => serializer.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Float(f64),
            Int(i64),
            Word(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Float(v) => Ok(Some(v)),
            Raw::Int(v) => Ok(Some(v as f64)),
            Raw::Word(w) if w == "off" => Ok(None),
            Raw::Word(w) => Err(D::Error::custom(format!(
                "expected a number or \"off\", found \"{w}\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
