//! Exports for the post-deployment review: the selected rollout's series as CSV, and a
//! Markdown summary (versions, steps, actions, verdict, timings). Pure functions; the backend
//! asks where to save and writes the file.

use super::app::SessionAction;
use super::events::{ActivityEntry, VerdictView};
use super::timeline::Marker;
use crate::model::{MetricsSnapshot, RolloutView};
use std::fmt::Write;

/// One row per point: `time,t_secs,role,hash,signal,value`; a gap has an empty value.
/// Times are UTC RFC 3339 so the file means the same everywhere.
pub fn series_csv(snapshot: &MetricsSnapshot) -> String {
    let mut out = String::from("time,t_secs,role,hash,signal,value\n");
    let mut series: Vec<_> = snapshot.series.iter().collect();
    series.sort_by(|a, b| (&a.version, a.signal).cmp(&(&b.version, b.signal)));
    for s in series {
        for p in &s.points {
            let value = p.value.map(|v| v.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                utc(p.t_secs),
                p.t_secs,
                s.version.role,
                csv_field(&s.version.hash),
                s.signal.as_str(),
                value
            );
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn utc(t_secs: f64) -> String {
    jiff::Timestamp::from_millisecond((t_secs * 1000.0).round() as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// What the Markdown summary is made of.
pub struct Review<'a> {
    pub view: &'a RolloutView,
    pub activity: &'a [ActivityEntry],
    pub session: &'a [SessionAction],
    pub markers: &'a [Marker],
    pub verdict: Option<&'a VerdictView>,
    pub now_secs: f64,
}

/// A Markdown summary of one rollout for the post-deployment review.
pub fn markdown_summary(review: &Review<'_>) -> String {
    let v = review.view;
    let r = &v.reference;
    let mut md = String::new();
    let _ = writeln!(md, "# Rollout review: {r} ({})\n", r.context);
    let _ = writeln!(md, "Exported {}.\n", utc(review.now_secs));
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| Phase | {} {} |", v.phase, escape(&v.message));
    let _ = writeln!(md, "| Strategy | {} |", v.strategy.as_str());
    let _ = writeln!(
        md,
        "| Revision | {} |",
        v.revision.as_deref().unwrap_or("?")
    );
    for version in v.versions() {
        let _ = writeln!(md, "| {} | `{}` |", version.role, version.hash);
    }
    let _ = writeln!(md, "| Image | {} |", escape(&v.images.join(", ")));
    let _ = writeln!(
        md,
        "| Weight | {}% declared, {}% actual |",
        v.set_weight, v.actual_weight
    );
    if let Some(step) = v.current_step {
        let _ = writeln!(md, "| Step | {step}/{} |", v.steps.len());
    }

    if !v.steps.is_empty() {
        let _ = writeln!(md, "\n## Steps\n\n| # | Step | State |\n|---|---|---|");
        let current = v.current_step.unwrap_or(0);
        for (i, step) in v.steps.iter().enumerate() {
            let i = i as i32;
            let state = match i.cmp(&current) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "",
            };
            let _ = writeln!(md, "| {i} | {step} | {state} |");
        }
    }

    let _ = writeln!(md, "\n## Actions\n");
    if review.activity.is_empty() && review.session.is_empty() {
        let _ = writeln!(md, "None recorded.");
    } else {
        let _ = writeln!(
            md,
            "| Time (UTC) | Who | What | Comment |\n|---|---|---|---|"
        );
        let mut entries: Vec<&ActivityEntry> = review.activity.iter().collect();
        entries.sort_by(|a, b| a.time_secs.total_cmp(&b.time_secs));
        for e in entries {
            let what = if e.detail.is_empty() {
                e.verb.clone()
            } else {
                format!("{} — {}", e.verb, e.detail)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                utc(e.time_secs),
                escape(e.who()),
                escape(&what),
                escape(e.comment.as_deref().unwrap_or(""))
            );
        }
        for a in review.session {
            let _ = writeln!(
                md,
                "| {} | this window | {} | |",
                utc(a.t_secs),
                escape(&a.text)
            );
        }
    }

    let _ = writeln!(md, "\n## Verdict\n");
    match review.verdict {
        Some(verdict) => {
            let _ = writeln!(
                md,
                "**{}** (score {:.0}/100)\n",
                verdict.verdict, verdict.score
            );
            for reason in &verdict.reasons {
                let _ = writeln!(md, "- {reason}");
            }
        }
        None => {
            let _ = writeln!(md, "No verdict.");
        }
    }

    let _ = writeln!(md, "\n## Timings\n");
    if review.markers.is_empty() {
        let _ = writeln!(md, "No step changes observed by this window.");
    } else {
        let mut markers: Vec<&Marker> = review.markers.iter().collect();
        markers.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
        let _ = writeln!(md, "| Time (UTC) | Event | Held for |\n|---|---|---|");
        for (i, m) in markers.iter().enumerate() {
            let until = markers
                .get(i + 1)
                .map(|n| n.t_secs)
                .unwrap_or(review.now_secs);
            let _ = writeln!(
                md,
                "| {} | {}: {} | {} |",
                utc(m.t_secs),
                m.kind.as_str(),
                escape(&m.label),
                super::theme::age(until - m.t_secs)
            );
        }
    }
    md
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Point, RolloutRef, Signal, Version, VersionRole, VersionSeries};
    use crate::ui::fixtures;
    use crate::ui::timeline::MarkerKind;

    #[test]
    fn csv_has_a_row_per_point_and_empty_gaps() {
        let snapshot = MetricsSnapshot {
            rollout: RolloutRef::new("lab-admin", "shop", "checkout"),
            source: "scrape".into(),
            series: vec![VersionSeries {
                version: Version::new(VersionRole::Canary, "7f9c5d8b4"),
                signal: Signal::ErrorRate,
                points: vec![
                    Point {
                        t_secs: 1_763_776_800.0,
                        value: Some(0.25),
                    },
                    Point {
                        t_secs: 1_763_776_801.0,
                        value: None,
                    },
                ],
            }],
            stale_since_secs: None,
            error: None,
            latency_buckets: Vec::new(),
        };
        assert_eq!(
            series_csv(&snapshot),
            "time,t_secs,role,hash,signal,value\n\
             2025-11-22T02:00:00Z,1763776800,canary,7f9c5d8b4,error_rate,0.25\n\
             2025-11-22T02:00:01Z,1763776801,canary,7f9c5d8b4,error_rate,\n"
        );
    }

    #[test]
    fn markdown_names_steps_actions_verdict_and_timings() {
        let view = fixtures::checkout();
        let activity = [ActivityEntry {
            time_secs: 1_763_776_800.0,
            user: "lab-admin".into(),
            verb: "promote".into(),
            comment: Some("error rate flat | ok".into()),
            detail: "step 0 → 1".into(),
            source: "release-cockpit".into(),
            ours: true,
            warning: false,
        }];
        let markers = [
            Marker {
                t_secs: 1_763_776_800.0,
                kind: MarkerKind::Step,
                origin: crate::ui::timeline::MarkerOrigin::Observed,
                label: "step 1 (weight 20%)".into(),
            },
            Marker {
                t_secs: 1_763_776_860.0,
                kind: MarkerKind::Pause,
                origin: crate::ui::timeline::MarkerOrigin::Observed,
                label: "paused: CanaryPauseStep".into(),
            },
        ];
        let verdict = VerdictView {
            verdict: "pass".into(),
            score: 93.0,
            reasons: vec!["error rate within 0.5% of stable".into()],
            metrics: vec![],
            metric_status: vec![],
        };
        let md = markdown_summary(&Review {
            view: &view,
            activity: &activity,
            session: &[],
            markers: &markers,
            verdict: Some(&verdict),
            now_secs: 1_763_776_900.0,
        });
        assert!(
            md.starts_with("# Rollout review: shop/checkout (lab-admin)"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | pause (until promoted) | current |"),
            "{md}"
        );
        assert!(md.contains("| 0 | setWeight 20% | done |"), "{md}");
        assert!(md.contains(
            "| 2025-11-22T02:00:00Z | lab-admin | promote — step 0 → 1 | error rate flat \\| ok |"
        ));
        assert!(md.contains("**pass** (score 93/100)"));
        assert!(md.contains("- error rate within 0.5% of stable"));
        assert!(md.contains("| step: step 1 (weight 20%) | 1m00s |"), "{md}");
        assert!(
            md.contains("| pause: paused: CanaryPauseStep | 40s |"),
            "{md}"
        );
        assert!(md.contains("| canary | `7f9c5d8b4` |"));
    }
}
