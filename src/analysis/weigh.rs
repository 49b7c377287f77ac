//! The traffic behind each sample: pairs a metric's samples with its version's requests per
//! second, so the judge counts errors out of requests and leaves out p95 samples taken over
//! too few requests to mean anything.

use super::proportions::Counts;
use super::rules::step_secs;
use crate::model::Point;

/// Requests behind each of `points` (aligned with them): the request rate at the same
/// timestamp times the sample step; `None` where no rate was taken at that moment.
pub fn requests_per_sample(points: &[Point], rates: &[Point]) -> Vec<Option<f64>> {
    let step = [step_secs(points), step_secs(rates)]
        .into_iter()
        .find(|s| *s > 0.0)
        .unwrap_or(1.0);
    points
        .iter()
        .map(|p| {
            let i = rates.partition_point(|r| r.t_secs < p.t_secs - 1e-6);
            rates
                .get(i)
                .filter(|r| (r.t_secs - p.t_secs).abs() <= 1e-6)
                .and_then(|r| r.value)
                .filter(|r| r.is_finite() && *r >= 0.0)
                .map(|r| r * step)
        })
        .collect()
}

/// Errors out of requests over the samples after `after_secs` that have both an error rate
/// and a request count, and how many of those samples had any request.
pub fn counts(points: &[Point], requests: &[Option<f64>], after_secs: f64) -> (Counts, usize) {
    let mut total = Counts::default();
    let mut samples = 0;
    for (p, n) in points.iter().zip(requests) {
        let (Some(rate), Some(n)) = (p.value, n) else {
            continue;
        };
        if p.t_secs <= after_secs || *n <= 0.0 {
            continue;
        }
        total.requests += n;
        total.errors += rate.clamp(0.0, 1.0) * n;
        samples += 1;
    }
    (total, samples)
}

/// `points` with every sample known to stand for fewer than `min_requests` requests turned
/// into a gap; samples of unknown traffic are kept. Also returns how many were left out.
pub fn without_thin(
    points: &[Point],
    requests: &[Option<f64>],
    min_requests: f64,
) -> (Vec<Point>, usize) {
    let mut dropped = 0;
    let kept = points
        .iter()
        .zip(requests.iter().chain(std::iter::repeat(&None)))
        .map(|(p, n)| match n {
            Some(n) if p.value.is_some() && *n < min_requests => {
                dropped += 1;
                Point {
                    t_secs: p.t_secs,
                    value: None,
                }
            }
            _ => *p,
        })
        .collect();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[(f64, Option<f64>)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(t_secs, value)| Point { t_secs, value })
            .collect()
    }

    #[test]
    fn requests_are_rate_times_step_matched_by_time() {
        let errors = pts(&[(5.0, Some(0.5)), (10.0, Some(0.0)), (15.0, Some(0.1))]);
        let rates = pts(&[(5.0, Some(0.4)), (15.0, Some(20.0)), (20.0, Some(3.0))]);
        let n = requests_per_sample(&errors, &rates);
        assert_eq!(n, vec![Some(2.0), None, Some(100.0)]);
        // 0.5 × 2 + 0.1 × 100 errors out of 102 requests; the sample at 10 s has no count.
        let (c, samples) = counts(&errors, &n, 0.0);
        assert_eq!(samples, 2);
        assert!((c.requests - 102.0).abs() < 1e-9 && (c.errors - 11.0).abs() < 1e-9);
        let (recent, samples) = counts(&errors, &n, 5.0);
        assert_eq!((recent.requests, samples), (100.0, 1));
    }

    #[test]
    fn thin_samples_become_gaps() {
        let p95 = pts(&[(1.0, Some(80.0)), (2.0, Some(300.0)), (3.0, Some(90.0))]);
        let (kept, dropped) = without_thin(&p95, &[Some(40.0), Some(1.0), None], 10.0);
        assert_eq!(dropped, 1);
        assert_eq!(kept[1].value, None);
        assert_eq!(kept[2].value, Some(90.0));
    }
}
