//! Exports for the post-deployment review: the selected rollout's series as CSV, and the
//! release report in Markdown with its SVG charts (built by [`crate::report`], as the CLI's
//! `report` builds it, plus this window's step timings). Pure functions; the backend asks
//! where to save and writes the charts beside the report.

use super::app::SessionAction;
use super::events::{ActivityEntry, VerdictView};
use super::timeline::Marker;
use crate::model::{MetricsSnapshot, RolloutView};
use crate::report::{Report, ReportAction, ReportEvent, ReportVerdict, render, utc};
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

/// What the window's review is made of.
pub struct Review<'a> {
    pub view: &'a RolloutView,
    pub activity: &'a [ActivityEntry],
    pub session: &'a [SessionAction],
    pub markers: &'a [Marker],
    /// The verdicts as they changed while the window watched (time, verdict), oldest first;
    /// the last is the current one.
    pub verdicts: &'a [(f64, VerdictView)],
    /// The selected rollout's series and role timelines, when the window has them.
    pub snapshot: Option<&'a MetricsSnapshot>,
    /// The rollback line the header shows, if there was an abort.
    pub rollback: Option<&'a str>,
    pub now_secs: f64,
}

/// The release report of what this window holds, built and rendered by [`crate::report`] as
/// `release-cockpit report` builds it, plus the step timings this window observed.
pub fn report_of(review: &Review<'_>) -> Report {
    let mut report = Report::new(review.view, review.now_secs);
    if let Some(snapshot) = review.snapshot {
        report = report.with_metrics(snapshot);
    }
    let mut actions = Vec::new();
    let mut events = Vec::new();
    for e in review.activity {
        if e.ours {
            actions.push(ReportAction {
                time_secs: e.time_secs,
                who: e.who().to_string(),
                tool: tool_of(&e.detail).to_string(),
                verb: e.verb.clone(),
                detail: e.detail.clone(),
                comment: e.comment.clone(),
            });
        } else {
            events.push(ReportEvent {
                time_secs: e.time_secs,
                source: e.source.clone(),
                reason: e.verb.clone(),
                message: e.detail.clone(),
                warning: e.warning,
            });
        }
    }
    for a in review.session {
        actions.push(ReportAction {
            time_secs: a.t_secs,
            who: "this window".into(),
            tool: "the window".into(),
            verb: a.text.clone(),
            detail: String::new(),
            comment: None,
        });
    }
    report = report.with_activity(actions, events);
    report.verdicts = review
        .verdicts
        .iter()
        .map(|(t, verdict)| ReportVerdict {
            time_secs: *t,
            verdict: verdict.verdict.clone(),
            score: verdict.score,
            reasons: verdict.reasons.clone(),
        })
        .collect();
    report.rollback = review.rollback.map(str::to_string);
    report
}

/// "via auto" at the end of an audit entry's detail names the tool.
fn tool_of(detail: &str) -> &str {
    detail
        .rsplit_once("via ")
        .map_or("", |(_, tool)| tool.trim())
}

/// The review in Markdown — the release report, then the timings this window observed — and
/// its SVG charts as (file name, contents), to be written beside it.
pub fn markdown_review(review: &Review<'_>) -> (String, Vec<(String, String)>) {
    let report = report_of(review);
    let charts = render::charts(&report);
    let mut md = render::markdown(&report, &charts);
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
                m.label.replace('|', "\\|").replace('\n', " "),
                super::theme::age(until - m.t_secs)
            );
        }
    }
    let files = charts.into_iter().map(|c| (c.file_name, c.svg)).collect();
    (md, files)
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
            quantiles: Vec::new(),
            sample_window_secs: None,
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
            roles: Vec::new(),
            latency_buckets: Vec::new(),
            custom: Vec::new(),
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
            detail: "step 0 → 1 via the window".into(),
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
        let (md, charts) = markdown_review(&Review {
            view: &view,
            activity: &activity,
            session: &[],
            markers: &markers,
            verdicts: &[(1_763_776_890.0, verdict)],
            snapshot: None,
            rollback: Some("rollback complete in 12 s"),
            now_secs: 1_763_776_900.0,
        });
        assert!(
            md.starts_with("# Release report: shop/checkout (lab-admin)"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | pause (until promoted) | current |"),
            "{md}"
        );
        assert!(md.contains("| 0 | setWeight 20% | done |"), "{md}");
        assert!(
            md.contains(
                "| 2025-11-22T02:00:00Z | lab-admin | the window | promote — step 0 → 1 via the window | error rate flat \\| ok |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 2025-11-22T02:01:30Z | pass | 93 | error rate within 0.5% of stable |"),
            "{md}"
        );
        assert!(
            md.contains("| Rollback | rollback complete in 12 s |"),
            "{md}"
        );
        assert!(md.contains("| step: step 1 (weight 20%) | 1m00s |"), "{md}");
        assert!(
            md.contains("| pause: paused: CanaryPauseStep | 40s |"),
            "{md}"
        );
        assert!(md.contains("| `7f9c5d8b4` | canary | canary |"), "{md}");
        assert!(charts.is_empty(), "no series, no charts");
    }

    #[test]
    fn the_markdown_review_carries_a_chart_per_signal_with_data() {
        let view = fixtures::checkout();
        let point = |t: f64, v: f64| Point {
            t_secs: t,
            value: Some(v),
        };
        let snapshot = MetricsSnapshot {
            quantiles: Vec::new(),
            sample_window_secs: None,
            rollout: view.reference.clone(),
            source: "prometheus".into(),
            series: vec![
                VersionSeries {
                    version: Version::new(VersionRole::Stable, "6d4b9c7f8"),
                    signal: Signal::TrafficShare,
                    points: vec![point(1000.0, 0.8), point(1010.0, 0.8)],
                },
                VersionSeries {
                    version: Version::new(VersionRole::Canary, "7f9c5d8b4"),
                    signal: Signal::TrafficShare,
                    points: vec![point(1000.0, 0.2), point(1010.0, 0.2)],
                },
            ],
            stale_since_secs: None,
            error: None,
            roles: Vec::new(),
            latency_buckets: Vec::new(),
            custom: Vec::new(),
        };
        let (md, charts) = markdown_review(&Review {
            view: &view,
            activity: &[],
            session: &[],
            markers: &[],
            verdicts: &[],
            snapshot: Some(&snapshot),
            rollback: None,
            now_secs: 1020.0,
        });
        let names: Vec<&str> = charts.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["shop-checkout-share.svg"]);
        assert!(
            md.contains("![shop-checkout-share.svg](shop-checkout-share.svg)"),
            "{md}"
        );
        assert!(charts[0].1.contains("canary 7f9c5d8b4"));
    }
}
