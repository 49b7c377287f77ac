//! Samples the statistics may count as independent. A Prometheus feed samples every step a
//! rate taken over a longer window (`rate(x[1m])` every 5 s): neighbouring samples share most
//! of their requests, and a test that counts them all as observations is twelve times too
//! sure. The judge's sample-based test (Mann–Whitney: custom metrics, p95 without buckets)
//! takes one sample per rate window; counted comparisons need no cut (rates times the step
//! still add up to the requests).

use crate::model::Point;

/// One sample per `span_secs` of `canary` and `baseline` (those at whole multiples of the span
/// back from the newest time of either, so both keep the same timestamps), and the spacing
/// when it cut; the samples as they are when the span is not longer than their step.
pub fn independent(
    canary: &[Point],
    baseline: &[Point],
    span_secs: Option<f64>,
) -> (Vec<Point>, Vec<Point>, Option<f64>) {
    let step = [canary, baseline]
        .into_iter()
        .map(super::rules::step_secs)
        .find(|s| *s > 0.0)
        .unwrap_or(0.0);
    let end = canary
        .iter()
        .chain(baseline)
        .map(|p| p.t_secs)
        .fold(f64::NEG_INFINITY, f64::max);
    let every = match span_secs {
        Some(span) if step > 0.0 && span.is_finite() && end.is_finite() => {
            (span / step).round().max(1.0) as i64
        }
        _ => 1,
    };
    if every <= 1 {
        return (canary.to_vec(), baseline.to_vec(), None);
    }
    let keep = |points: &[Point]| -> Vec<Point> {
        points
            .iter()
            .filter(|p| ((end - p.t_secs) / step).round() as i64 % every == 0)
            .copied()
            .collect()
    };
    (keep(canary), keep(baseline), Some(every as f64 * step))
}

/// What a "too few samples" reason adds when the samples were cut to one per rate window.
pub fn too_few_note(spacing_secs: f64) -> String {
    format!(
        " — samples are rates over {spacing_secs:.0} s windows, so one per {spacing_secs:.0} s \
         counts: lengthen window_secs or shorten the metrics rate window"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NamedSeries, Version, VersionRole};

    fn points(from: f64, to: f64, step: f64) -> Vec<Point> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to + 1e-9 {
            out.push(Point {
                t_secs: t,
                value: Some(t),
            });
            t += step;
        }
        out
    }

    #[test]
    fn one_sample_per_rate_window_counted_back_from_the_newest() {
        let (canary, stable, spacing) = independent(
            &points(0.0, 300.0, 5.0),
            &points(100.0, 295.0, 5.0),
            Some(60.0),
        );
        let times = |p: &[Point]| p.iter().map(|p| p.t_secs).collect::<Vec<_>>();
        assert_eq!(times(&canary), [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]);
        // The same grid for both, whichever ends first.
        assert_eq!(times(&stable), [120.0, 180.0, 240.0]);
        assert_eq!(spacing, Some(60.0));
        // A rate window no longer than the step, or unknown, keeps every sample.
        for span in [Some(5.0), Some(3.0), None, Some(f64::NAN)] {
            let (c, _, spacing) = independent(&points(0.0, 300.0, 5.0), &[], span);
            assert_eq!((c.len(), spacing), (61, None), "{span:?}");
        }
    }

    /// Two versions alike, a custom metric sampled every 5 s as a 1-minute rolling mean (what
    /// `rate(x[1m])` sampled at the refresh gives): counted sample by sample the judge calls
    /// many of 200 seeds significantly worse; one sample per rate window, it keeps to the
    /// confidence level (two-sided 98 %: about 1 % fail by chance).
    #[test]
    fn overlapping_samples_no_longer_fail_a_healthy_canary() {
        use crate::analysis::{VerdictKind, judge_snapshot};
        use crate::model::{MetricsSnapshot, RolloutRef};
        use rand::{Rng, SeedableRng};
        let rollout = RolloutRef::new("lab-admin", "demo", "checkout");
        let policy = crate::analysis::Policy::from_toml(
            "window_secs = 900\nrecent_secs = 0\ntolerance = 0\n\
             [metrics.ratio]\ngroup = 'errors'\nquery = 'x'\ncritical = true\n",
            std::path::Path::new("policy.toml"),
            &rollout,
        )
        .unwrap();
        let snapshot = |custom: Vec<NamedSeries>, window: Option<f64>| MetricsSnapshot {
            rollout: rollout.clone(),
            source: "prometheus".into(),
            series: Vec::new(),
            stale_since_secs: None,
            error: None,
            roles: Vec::new(),
            latency_buckets: Vec::new(),
            custom,
            quantiles: Vec::new(),
            sample_window_secs: window,
        };
        let rolling = |rng: &mut rand::rngs::StdRng| -> Vec<Point> {
            let raw: Vec<f64> = (0..192).map(|_| rng.random::<f64>()).collect();
            (11..192)
                .map(|i| Point {
                    t_secs: i as f64 * 5.0,
                    value: Some(raw[i - 11..=i].iter().sum::<f64>() / 12.0),
                })
                .collect()
        };
        let mut fails = [0, 0];
        for seed in 0..200 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let custom = vec![
                NamedSeries {
                    name: "ratio".into(),
                    version: Version::new(VersionRole::Canary, "new"),
                    points: rolling(&mut rng),
                },
                NamedSeries {
                    name: "ratio".into(),
                    version: Version::new(VersionRole::Stable, "old"),
                    points: rolling(&mut rng),
                },
            ];
            for (i, window) in [None, Some(60.0)].into_iter().enumerate() {
                let verdict = judge_snapshot(&snapshot(custom.clone(), window), &[], &policy);
                let ratio = verdict.metrics.iter().find(|m| m.name == "ratio").unwrap();
                if ratio.status == crate::analysis::verdict::MetricStatus::Fail {
                    fails[i] += 1;
                    assert_eq!(verdict.kind, VerdictKind::Fail);
                }
            }
        }
        assert!(
            fails[0] >= 30,
            "overlapping samples counted as independent: {fails:?}"
        );
        assert!(fails[1] <= 8, "one sample per rate window: {fails:?}");

        // Five minutes of 1-minute rates are five samples: too few, and the reason says why
        // and what to change.
        let short = crate::analysis::Policy::from_toml(
            "[metrics.ratio]\ngroup = 'errors'\nquery = 'x'\n",
            std::path::Path::new("policy.toml"),
            &rollout,
        )
        .unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let custom = ["new", "old"]
            .into_iter()
            .zip([VersionRole::Canary, VersionRole::Stable])
            .map(|(hash, role)| NamedSeries {
                name: "ratio".into(),
                version: Version::new(role, hash),
                points: rolling(&mut rng),
            })
            .collect();
        let verdict = judge_snapshot(&snapshot(custom, Some(60.0)), &[], &short);
        let ratio = verdict.metrics.iter().find(|m| m.name == "ratio").unwrap();
        assert!(
            ratio
                .summary
                .contains("too few samples (canary 5, stable 5; need 10 each)")
                && ratio
                    .summary
                    .contains("one per 60 s counts: lengthen window_secs"),
            "{}",
            ratio.summary
        );
        assert!(
            verdict.reasons.contains(&ratio.summary),
            "{:?}",
            verdict.reasons
        );
    }
}
