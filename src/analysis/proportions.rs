//! The error-rate comparison on counts: canary errors out of canary requests against stable's,
//! with a pooled two-proportion z-test and Newcombe's hybrid score interval for the difference
//! (continuity-corrected: errors are rare and counts small, where the plain score interval is
//! too sure of itself), so one failed request weighs what it is worth.

use super::stats::{Shift, normal_quantile, normal_sf};
use serde::{Deserialize, Serialize};

/// Requests and the errors among them over a stretch of samples. Counts rebuilt from rates
/// (rate × seconds) need not be whole numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: f64,
    pub errors: f64,
}

impl Counts {
    /// The error share, `None` without requests.
    pub fn rate(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| (self.errors / self.requests).clamp(0.0, 1.0))
    }
}

/// The outcome of comparing two error shares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProportionTest {
    pub z: f64,
    /// Two-sided p-value of the pooled z-test (1 when neither side had an error).
    pub p_value: f64,
    /// Canary − stable error share, with Newcombe's hybrid score interval.
    pub shift: Shift,
}

/// Wilson's score interval with continuity correction for `errors` out of `requests` at
/// normal quantile `z` (Newcombe 1998, method 4).
pub fn wilson(errors: f64, requests: f64, z: f64) -> (f64, f64) {
    if requests <= 0.0 {
        return (0.0, 1.0);
    }
    let n = requests;
    let p = (errors / n).clamp(0.0, 1.0);
    let z2 = z * z;
    let denominator = 2.0 * (n + z2);
    let lower = if p <= 0.0 {
        0.0
    } else {
        let root = (z2 - 2.0 - 1.0 / n + 4.0 * p * (n * (1.0 - p) + 1.0)).max(0.0);
        ((2.0 * n * p + z2 - 1.0 - z * root.sqrt()) / denominator).max(0.0)
    };
    let upper = if p >= 1.0 {
        1.0
    } else {
        let root = (z2 + 2.0 - 1.0 / n + 4.0 * p * (n * (1.0 - p) - 1.0)).max(0.0);
        ((2.0 * n * p + z2 + 1.0 + z * root.sqrt()) / denominator).min(1.0)
    };
    (lower.min(p), upper.max(p))
}

/// Compares the canary's error share with stable's at a two-sided `confidence` (e.g. 0.98).
/// `None` when either side has no requests.
pub fn two_proportions(
    canary: Counts,
    baseline: Counts,
    confidence: f64,
) -> Option<ProportionTest> {
    let (p1, p2) = (canary.rate()?, baseline.rate()?);
    let (n1, n2) = (canary.requests, baseline.requests);
    let z_level = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let (l1, u1) = wilson(canary.errors, n1, z_level);
    let (l2, u2) = wilson(baseline.errors, n2, z_level);
    let d = p1 - p2;
    let lower = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let upper = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    let pooled = (canary.errors + baseline.errors) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let (z, p_value) = if se > 0.0 {
        let z = d / se;
        (z, (2.0 * normal_sf(z.abs())).min(1.0))
    } else {
        (0.0, 1.0)
    };
    Some(ProportionTest {
        z,
        p_value,
        shift: Shift {
            estimate: d,
            lower,
            upper,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Newcombe (1998), "Interval estimation for the difference between independent
    /// proportions", example (a): 56/70 − 48/80 = 0.2000; method 11 (score, continuity
    /// corrected) gives 0.0428 to 0.3422.
    #[test]
    fn newcombe_hybrid_score_interval_matches_the_paper() {
        let t = two_proportions(
            Counts {
                requests: 70.0,
                errors: 56.0,
            },
            Counts {
                requests: 80.0,
                errors: 48.0,
            },
            0.95,
        )
        .unwrap();
        assert!(close(t.shift.estimate, 0.2, 1e-12));
        assert!(close(t.shift.lower, 0.0428, 5e-4), "{t:?}");
        assert!(close(t.shift.upper, 0.3422, 5e-4), "{t:?}");
        // Pooled z by hand: p = 104/150, se = sqrt(p(1−p)(1/70 + 1/80)) = 0.075467.
        assert!(close(t.z, 2.6502, 1e-3), "{t:?}");
        assert!(close(t.p_value, 0.00804, 2e-4), "{t:?}");
    }

    /// Newcombe (1998a), "Two-sided confidence intervals for the single proportion", method 4
    /// on 0/10: 0 to 0.3445; on 81/263: 0.2535 to 0.3682.
    #[test]
    fn wilson_interval_with_continuity_correction() {
        let z = 1.959_964;
        let (lo, hi) = wilson(0.0, 10.0, z);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 0.3445, 1e-4), "{hi}");
        let (lo, hi) = wilson(81.0, 263.0, z);
        assert!(
            close(lo, 0.2535, 1e-4) && close(hi, 0.3682, 1e-4),
            "{lo} {hi}"
        );
    }

    #[test]
    fn no_errors_anywhere_is_no_finding_and_no_requests_is_none() {
        let none = Counts {
            requests: 500.0,
            errors: 0.0,
        };
        let t = two_proportions(none, none, 0.98).unwrap();
        assert_eq!(t.p_value, 1.0);
        assert!(t.shift.lower < 0.0 && t.shift.upper > 0.0);
        assert!(two_proportions(Counts::default(), none, 0.98).is_none());
    }

    /// One error in 50 requests against 0.2 % of 2,000 is not evidence of a 0.25 pp rise;
    /// 40 errors in 500 is.
    #[test]
    fn a_handful_of_requests_is_not_evidence() {
        let stable = Counts {
            requests: 2000.0,
            errors: 4.0,
        };
        let few = two_proportions(
            Counts {
                requests: 50.0,
                errors: 1.0,
            },
            stable,
            0.98,
        )
        .unwrap();
        assert!(few.shift.lower < 0.0025, "{few:?}");
        let many = two_proportions(
            Counts {
                requests: 500.0,
                errors: 40.0,
            },
            stable,
            0.98,
        )
        .unwrap();
        assert!(many.shift.lower > 0.04, "{many:?}");
        assert!(many.p_value < 1e-6, "{many:?}");
    }
}
