//! A [`Report`] as Markdown (with the names of its SVG charts, written beside it), as one CSV
//! table (a `kind` column says what each row is) and as JSON.

use super::{Report, svg, utc};
use crate::model::Signal;
use std::fmt::Write;

/// One chart to write beside the Markdown: its file name (relative) and its SVG.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub file_name: String,
    pub svg: String,
}

/// The charts of a report, one per signal that has values (the latency chart with the
/// extra quantiles), named `NAMESPACE-NAME-SIGNAL.svg`, then one per custom metric, named
/// `NAMESPACE-NAME-metric-METRIC.svg`.
pub fn charts(report: &Report) -> Vec<Chart> {
    let from = report.from_secs.unwrap_or(report.to_secs - 60.0);
    let to = report.to_secs;
    let prefix = format!("{}-{}", report.rollout.namespace, report.rollout.name);
    let signals = Signal::ALL.iter().filter_map(|signal| {
        Some(Chart {
            file_name: format!("{prefix}-{}.svg", signal.as_str()),
            svg: svg::chart(&report.series, &report.quantiles, *signal, from, to)?,
        })
    });
    let mut names: Vec<&str> = report.custom.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let custom = names.into_iter().filter_map(|name| {
        Some(Chart {
            file_name: format!("{prefix}-metric-{}.svg", file_safe(name)),
            svg: svg::named_chart(name, &report.custom, from, to)?,
        })
    });
    signals.chain(custom).collect()
}

/// A metric's name as a file name part: letters, digits, `_` and `-` kept, the rest `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The review in Markdown; `charts` are referenced by their relative file names.
pub fn markdown(report: &Report, charts: &[Chart]) -> String {
    let r = &report.rollout;
    let mut md = String::new();
    let _ = writeln!(md, "# Release report: {r} ({})\n", r.context);
    let span = match report.from_secs {
        Some(from) => format!("{} to {}", utc(from), utc(report.to_secs)),
        None => format!("until {}", utc(report.to_secs)),
    };
    let _ = writeln!(md, "Made {}; covers {span}.\n", report.generated_at);
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| Phase | {} {} |",
        report.phase,
        escape(&report.message)
    );
    let _ = writeln!(md, "| Strategy | {} |", report.strategy);
    let _ = writeln!(
        md,
        "| Revision | {} |",
        report.revision.as_deref().unwrap_or("?")
    );
    let _ = writeln!(md, "| Image | {} |", escape(&report.images.join(", ")));
    let _ = writeln!(
        md,
        "| Weight | {}% declared, {}% actual |",
        report.set_weight, report.actual_weight
    );
    if let Some(rollback) = &report.rollback {
        let _ = writeln!(md, "| Rollback | {} |", escape(rollback));
    }

    let _ = writeln!(md, "\n## Versions\n");
    let _ = writeln!(md, "| Version | Now | Roles over time |\n|---|---|---|");
    for v in &report.versions {
        let times: Vec<String> = v
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{} from {}",
                    c.role.map_or("no part", |role| role.as_str()),
                    utc(c.since_secs)
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} |",
            v.hash,
            v.role,
            if times.is_empty() {
                escape(&v.history)
            } else {
                escape(&times.join("; "))
            }
        );
    }

    if !report.steps.is_empty() {
        let _ = writeln!(md, "\n## Steps\n\n| # | Step | State |\n|---|---|---|");
        for s in &report.steps {
            let _ = writeln!(md, "| {} | {} | {} |", s.index, escape(&s.step), s.state);
        }
    }

    let _ = writeln!(md, "\n## Actions\n");
    if report.actions.is_empty() {
        let _ = writeln!(md, "None recorded.");
    } else {
        let _ = writeln!(
            md,
            "| Time (UTC) | Who | Tool | What | Comment |\n|---|---|---|---|---|"
        );
        for a in &report.actions {
            let what = if a.detail.is_empty() {
                a.verb.clone()
            } else {
                format!("{} — {}", a.verb, a.detail)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                utc(a.time_secs),
                escape(&a.who),
                escape(&a.tool),
                escape(&what),
                escape(a.comment.as_deref().unwrap_or(""))
            );
        }
    }

    let _ = writeln!(md, "\n## Verdicts\n");
    if report.verdicts.is_empty() {
        let _ = writeln!(md, "No verdict.");
    } else {
        let _ = writeln!(
            md,
            "| Time (UTC) | Verdict | Score | Reasons |\n|---|---|---|---|"
        );
        for v in &report.verdicts {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {} |",
                utc(v.time_secs),
                v.verdict,
                v.score,
                escape(&v.reasons.join("; "))
            );
        }
    }

    let _ = writeln!(md, "\n## The controller's events\n");
    match &report.controller_events {
        None => {
            let _ = writeln!(md, "Not read.");
        }
        Some(events) if events.is_empty() => {
            let _ = writeln!(md, "None.");
        }
        Some(events) => {
            let _ = writeln!(
                md,
                "| Time (UTC) | Source | Reason | Message |\n|---|---|---|---|"
            );
            for e in events {
                let reason = if e.warning {
                    format!("**{}** (warning)", e.reason)
                } else {
                    e.reason.clone()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    utc(e.time_secs),
                    escape(&e.source),
                    escape(&reason),
                    escape(&e.message)
                );
            }
        }
    }

    let _ = writeln!(md, "\n## Charts\n");
    if charts.is_empty() {
        let _ = writeln!(md, "No series (metrics source: {}).", report.metrics_source);
    } else {
        let _ = writeln!(md, "From {}, per version.\n", report.metrics_source);
        for c in charts {
            let _ = writeln!(md, "![{}]({})\n", c.file_name, c.file_name);
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(md, "\n## Notes\n");
        for n in &report.notes {
            let _ = writeln!(md, "- {}", escape(n));
        }
    }
    md
}

/// One table: `kind,time,t_secs,hash,role,signal,value,who,text`. Kinds: `version` (one row
/// per role change), `action`, `event`, `verdict`, `point` (a signal's or an extra
/// quantile's, e.g. `p99_ms`; a gap has an empty value), `metric` (a custom metric's, its
/// name in `signal`).
pub fn csv(report: &Report) -> String {
    let mut out = String::from("kind,time,t_secs,hash,role,signal,value,who,text\n");
    let mut row = |kind: &str,
                   t: Option<f64>,
                   hash: &str,
                   role: &str,
                   signal: &str,
                   value: String,
                   who: &str,
                   text: &str| {
        let _ = writeln!(
            out,
            "{kind},{},{},{},{},{signal},{value},{},{}",
            t.map(utc).unwrap_or_default(),
            t.map(|t| t.to_string()).unwrap_or_default(),
            field(hash),
            field(role),
            field(who),
            field(text)
        );
    };
    for v in &report.versions {
        if v.changes.is_empty() {
            row(
                "version",
                None,
                &v.hash,
                v.role.as_str(),
                "",
                String::new(),
                "",
                &v.history,
            );
        }
        for c in &v.changes {
            row(
                "version",
                Some(c.since_secs),
                &v.hash,
                c.role.map_or("", |r| r.as_str()),
                "",
                String::new(),
                "",
                &v.history,
            );
        }
    }
    for a in &report.actions {
        let text = match &a.comment {
            Some(c) => format!("{} {} via {}: {c}", a.verb, a.detail, a.tool),
            None => format!("{} {} via {}", a.verb, a.detail, a.tool),
        };
        row(
            "action",
            Some(a.time_secs),
            "",
            "",
            "",
            String::new(),
            &a.who,
            &text,
        );
    }
    for e in report.controller_events.iter().flatten() {
        let text = format!("{}: {}", e.reason, e.message);
        row(
            "event",
            Some(e.time_secs),
            "",
            "",
            "",
            String::new(),
            &e.source,
            &text,
        );
    }
    for v in &report.verdicts {
        let text = format!("{}: {}", v.verdict, v.reasons.join("; "));
        row(
            "verdict",
            Some(v.time_secs),
            "",
            "",
            "",
            format!("{:.1}", v.score),
            "",
            &text,
        );
    }
    for s in &report.series {
        for p in &s.points {
            row(
                "point",
                Some(p.t_secs),
                &s.version.hash,
                s.version.role.as_str(),
                s.signal.as_str(),
                p.value.map(|v| v.to_string()).unwrap_or_default(),
                "",
                "",
            );
        }
    }
    let named = [
        ("point", "_ms", &report.quantiles),
        ("metric", "", &report.custom),
    ];
    for (kind, unit, series) in named {
        for s in series {
            let signal = format!("{}{unit}", s.name);
            for p in &s.points {
                row(
                    kind,
                    Some(p.t_secs),
                    &s.version.hash,
                    s.version.role.as_str(),
                    &signal,
                    p.value.map(|v| v.to_string()).unwrap_or_default(),
                    "",
                    "",
                );
            }
        }
    }
    out
}

/// The report as one JSON document.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report)
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
