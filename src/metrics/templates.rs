//! PromQL templates per mesh (Istio, Linkerd, NGINX ingress, generic): one query per signal
//! that answers every shown rollout at once (namespaces and services as `=~` alternations),
//! grouped by namespace, service and version,
//! and the rules that tie a result's labels back to a rollout's stable/canary versions.

use crate::model::{Signal, Version, VersionRole};
use serde::{Deserialize, Serialize};

/// The placeholders a template may use; anything else in `{braces}` made of `[a-z_]` is an
/// error when the template is loaded.
pub const PLACEHOLDERS: [&str; 4] = ["namespaces", "services", "version_label", "window"];

/// The placeholder only `latency_quantile` may use: the quantile asked for, e.g. `0.99`.
pub const QUANTILE_PLACEHOLDER: &str = "quantile";

/// How a result's version label value names a version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionMatch {
    /// The label holds the pod-template hash (`status.stableRS`, `status.currentPodHash`).
    #[default]
    Hash,
    /// NGINX ingress: the label is empty for the stable upstream and names the canary service
    /// for canary traffic.
    CanaryLabel,
}

/// A mesh's three queries. In their results, `namespace_label` holds the namespace and
/// `service_label` the rollout name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub namespace_label: String,
    pub service_label: String,
    pub default_version_label: String,
    #[serde(default)]
    pub version_match: VersionMatch,
    pub share: String,
    pub error_rate: String,
    pub p95_ms: String,
    /// Requests per second per version; empty: not queried (the judge then weighs every
    /// sample alike).
    #[serde(default)]
    pub requests_per_second: String,
    /// The latency histogram's bucket increases per version over the window, grouped by `le`
    /// as well: the judge pools them (latency on counts). Empty: not queried, and p95 is
    /// judged on its samples.
    #[serde(default)]
    pub latency_buckets: String,
    /// Milliseconds per unit of the buckets' `le` (1000 for a histogram in seconds).
    #[serde(default = "one_ms")]
    pub latency_bucket_ms: f64,
    /// Any latency quantile per version in milliseconds, drawn on the latency chart beside
    /// p95: the query with `{quantile}` where the quantile goes, asked once per entry of
    /// `quantiles`. Empty: no extra quantiles.
    #[serde(default)]
    pub latency_quantile: String,
    /// The quantiles `latency_quantile` is asked for, each strictly between 0 and 1
    /// (`[0.5, 0.99]`: the median and p99).
    #[serde(default = "default_quantiles")]
    pub quantiles: Vec<f64>,
}

fn one_ms() -> f64 {
    1.0
}

fn default_quantiles() -> Vec<f64> {
    vec![0.99]
}

/// A quantile's name as people say it: 0.99 is `p99`, 0.999 `p99.9`, 0.5 `p50`.
pub fn quantile_name(q: f64) -> String {
    let percent = format!("{:.3}", q * 100.0);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("p{percent}")
}

/// A template names a placeholder the cockpit does not know.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    #[error(
        "template {template:?}, {signal} query: unknown placeholder {{{placeholder}}}; the known ones are {{namespaces}}, {{services}}, {{version_label}}, {{window}}{}",
        if *signal == "latency_quantile" { " and {quantile}" } else { "" }
    )]
    UnknownPlaceholder {
        template: String,
        signal: &'static str,
        placeholder: String,
    },
    #[error(
        "template {template:?}: quantile {value} is not strictly between 0 and 1; write p99 as 0.99 in quantiles"
    )]
    Quantile { template: String, value: f64 },
    #[error(
        "template {template:?}: latency_quantile has no {{quantile}} placeholder, so every entry of quantiles would ask the same query; put {{quantile}} where histogram_quantile takes its first argument"
    )]
    NoQuantilePlaceholder { template: String },
}

/// The values a template is drawn with.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderContext<'a> {
    /// Namespaces of the shown rollouts; they become one `=~` alternation.
    pub namespaces: &'a [String],
    /// Rollout names; they become one `=~` alternation.
    pub services: &'a [String],
    pub version_label: &'a str,
    /// PromQL range for `rate()`, e.g. `1m`.
    pub window: &'a str,
}

fn placeholders_in(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('{').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find('}')?;
        let inner = &rest[..end];
        (!inner.is_empty() && inner.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then_some(inner)
    })
}

/// The first `{placeholder}` in `text` the cockpit does not know, if any.
pub fn unknown_placeholder(text: &str) -> Option<&str> {
    placeholders_in(text).find(|p| !PLACEHOLDERS.contains(p))
}

/// Escapes a literal for use inside a PromQL double-quoted regex string.
fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push_str("\\\\");
        } else if c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Template {
    pub fn query(&self, signal: Signal) -> &str {
        match signal {
            Signal::TrafficShare => &self.share,
            Signal::ErrorRate => &self.error_rate,
            Signal::P95Ms => &self.p95_ms,
            Signal::RequestRate => &self.requests_per_second,
        }
    }

    /// Rejects unknown placeholders; called when settings are loaded.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let queries = Signal::ALL
            .iter()
            .map(|s| (s.as_str(), self.query(*s)))
            .chain([
                ("latency_buckets", self.latency_buckets.as_str()),
                ("latency_quantile", self.latency_quantile.as_str()),
            ]);
        for (name, query) in queries {
            let allowed = |p: &str| {
                PLACEHOLDERS.contains(&p)
                    || (name == "latency_quantile" && p == QUANTILE_PLACEHOLDER)
            };
            if let Some(p) = placeholders_in(query).find(|p| !allowed(p)) {
                return Err(TemplateError::UnknownPlaceholder {
                    template: self.name.clone(),
                    signal: name,
                    placeholder: p.to_string(),
                });
            }
        }
        if let Some(&value) = self
            .quantiles
            .iter()
            .find(|q| !(q.is_finite() && **q > 0.0 && **q < 1.0))
        {
            return Err(TemplateError::Quantile {
                template: self.name.clone(),
                value,
            });
        }
        if !self.latency_quantile.trim().is_empty()
            && !self.quantiles.is_empty()
            && !placeholders_in(&self.latency_quantile).any(|p| p == QUANTILE_PLACEHOLDER)
        {
            return Err(TemplateError::NoQuantilePlaceholder {
                template: self.name.clone(),
            });
        }
        Ok(())
    }

    /// The extra quantiles' queries over every service in `ctx`, by the quantile's name
    /// (`p99`); none when the template has no `latency_quantile`.
    pub fn render_quantiles(&self, ctx: &RenderContext<'_>) -> Vec<(String, String)> {
        if self.latency_quantile.trim().is_empty() {
            return Vec::new();
        }
        self.quantiles
            .iter()
            .map(|&q| {
                let text = self
                    .latency_quantile
                    .replace(&format!("{{{QUANTILE_PLACEHOLDER}}}"), &q.to_string());
                (quantile_name(q), self.render_text(&text, ctx))
            })
            .collect()
    }

    /// The PromQL for one signal over every service in `ctx`.
    pub fn render(&self, signal: Signal, ctx: &RenderContext<'_>) -> String {
        self.render_text(self.query(signal), ctx)
    }

    /// The latency bucket query over every service in `ctx`; `None` when the template has
    /// none.
    pub fn render_buckets(&self, ctx: &RenderContext<'_>) -> Option<String> {
        (!self.latency_buckets.trim().is_empty())
            .then(|| self.render_text(&self.latency_buckets, ctx))
    }

    /// Any query text (a custom metric's) drawn with the same values as the template's own.
    pub fn render_text(&self, query: &str, ctx: &RenderContext<'_>) -> String {
        let alternation = |names: &[String]| {
            names
                .iter()
                .map(|s| regex_literal(s))
                .collect::<Vec<_>>()
                .join("|")
        };
        query
            .replace("{namespaces}", &alternation(ctx.namespaces))
            .replace("{services}", &alternation(ctx.services))
            .replace("{version_label}", ctx.version_label)
            .replace("{window}", ctx.window)
    }

    /// Which of `versions` a result's version label value stands for.
    pub fn version_for<'v>(
        &self,
        label_value: &str,
        versions: &'v [Version],
    ) -> Option<&'v Version> {
        match self.version_match {
            VersionMatch::Hash => versions.iter().find(|v| v.hash == label_value),
            VersionMatch::CanaryLabel => {
                let canary = !label_value.is_empty();
                versions.iter().find(|v| {
                    matches!(v.role, VersionRole::Canary | VersionRole::Preview) == canary
                })
            }
        }
    }

    /// A built-in template by name: `istio`, `linkerd`, `nginx`, `generic`.
    pub fn builtin(name: &str) -> Option<Template> {
        builtins().into_iter().find(|t| t.name == name)
    }
}

/// Share: a version's rate over the service's rate. Error rate: 5xx over all, with `or … * 0`
/// so a version without errors answers 0 instead of nothing. p95: Prometheus's
/// `histogram_quantile` over the summed bucket rates. Latency buckets: the same buckets'
/// increases, summed by bound and version, for the judge to pool.
struct Mesh<'a> {
    name: &'a str,
    ns: &'a str,
    svc: &'a str,
    version_label: &'a str,
    version_match: VersionMatch,
    /// The request counter's selector, without its closing brace.
    requests: &'a str,
    errors_matcher: &'a str,
    /// The latency histogram's bucket selector, without its closing brace.
    bucket: &'a str,
    /// Appended to the p95 query to turn the histogram's unit into milliseconds.
    to_ms: &'a str,
    /// Milliseconds per unit of the histogram's `le`.
    le_ms: f64,
}

fn three(m: Mesh<'_>) -> Template {
    let Mesh {
        name,
        ns,
        svc,
        version_label,
        version_match,
        requests,
        errors_matcher,
        bucket,
        to_ms,
        le_ms,
    } = m;
    let by = format!("{ns}, {svc}, {{version_label}}");
    let all = format!("sum by ({by}) (rate({requests}}}[{{window}}]))");
    let bad = format!("sum by ({by}) (rate({requests}, {errors_matcher}}}[{{window}}]))");
    Template {
        name: name.into(),
        namespace_label: ns.into(),
        service_label: svc.into(),
        default_version_label: version_label.into(),
        version_match,
        share: format!(
            "{all} / ignoring({{version_label}}) group_left sum by ({ns}, {svc}) (rate({requests}}}[{{window}}]))"
        ),
        error_rate: format!("({bad} or {all} * 0) / {all}"),
        requests_per_second: all.clone(),
        p95_ms: format!(
            "histogram_quantile(0.95, sum by (le, {by}) (rate({bucket}}}[{{window}}]))){to_ms}"
        ),
        latency_buckets: format!("sum by (le, {by}) (increase({bucket}}}[{{window}}]))"),
        latency_bucket_ms: le_ms,
        latency_quantile: format!(
            "histogram_quantile({{quantile}}, sum by (le, {by}) (rate({bucket}}}[{{window}}]))){to_ms}"
        ),
        quantiles: default_quantiles(),
    }
}

/// The built-in templates, in the order the settings documentation lists them.
pub fn builtins() -> Vec<Template> {
    vec![
        three(Mesh {
            name: "istio",
            ns: "destination_workload_namespace",
            svc: "destination_canonical_service",
            version_label: "rollouts_pod_template_hash",
            version_match: VersionMatch::Hash,
            requests: r#"istio_requests_total{reporter="destination", destination_workload_namespace=~"{namespaces}", destination_canonical_service=~"{services}""#,
            errors_matcher: r#"response_code=~"5..""#,
            bucket: r#"istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace=~"{namespaces}", destination_canonical_service=~"{services}""#,
            to_ms: "",
            le_ms: 1.0,
        }),
        three(Mesh {
            name: "linkerd",
            ns: "namespace",
            svc: "deployment",
            version_label: "pod_template_hash",
            version_match: VersionMatch::Hash,
            requests: r#"response_total{direction="inbound", namespace=~"{namespaces}", deployment=~"{services}""#,
            errors_matcher: r#"classification="failure""#,
            bucket: r#"response_latency_ms_bucket{direction="inbound", namespace=~"{namespaces}", deployment=~"{services}""#,
            to_ms: "",
            le_ms: 1.0,
        }),
        three(Mesh {
            name: "nginx",
            ns: "namespace",
            svc: "ingress",
            version_label: "canary",
            version_match: VersionMatch::CanaryLabel,
            requests: r#"nginx_ingress_controller_requests{namespace=~"{namespaces}", ingress=~"{services}""#,
            errors_matcher: r#"status=~"5..""#,
            bucket: r#"nginx_ingress_controller_request_duration_seconds_bucket{namespace=~"{namespaces}", ingress=~"{services}""#,
            to_ms: " * 1000",
            le_ms: 1000.0,
        }),
        three(Mesh {
            name: "generic",
            ns: "namespace",
            svc: "service",
            version_label: "rollouts_pod_template_hash",
            version_match: VersionMatch::Hash,
            requests: r#"http_requests_total{namespace=~"{namespaces}", service=~"{services}""#,
            errors_matcher: r#"code=~"5..""#,
            bucket: r#"http_request_duration_seconds_bucket{namespace=~"{namespaces}", service=~"{services}""#,
            to_ms: " * 1000",
            le_ms: 1000.0,
        }),
    ]
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
