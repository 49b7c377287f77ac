//! Random draws for the traffic simulation, O(1) each whatever the counts: Poisson arrivals,
//! binomial splits (exact for small n, Poisson/normal approximations for large n), and a
//! log-normal latency fitted to a median and a p95, sampled per histogram bucket.

use rand::Rng;

/// z of the 95th percentile of the standard normal.
const Z95: f64 = 1.644_853_626_951_472_2;

fn standard_normal(rng: &mut impl Rng) -> f64 {
    // Box–Muller; 1 - u keeps the logarithm finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub fn poisson(rng: &mut impl Rng, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        // Knuth: multiply uniforms until the product drops below e^-λ.
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut product: f64 = rng.random::<f64>();
        while product > limit {
            k += 1;
            product *= rng.random::<f64>();
        }
        return k;
    }
    (lambda + lambda.sqrt() * standard_normal(rng))
        .round()
        .max(0.0) as u64
}

pub fn binomial(rng: &mut impl Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n < 30 {
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
    }
    let n_f = n as f64;
    if n_f * p < 10.0 {
        return poisson(rng, n_f * p).min(n);
    }
    if n_f * (1.0 - p) < 10.0 {
        return n - poisson(rng, n_f * (1.0 - p)).min(n);
    }
    let sd = (n_f * p * (1.0 - p)).sqrt();
    (n_f * p + sd * standard_normal(rng))
        .round()
        .clamp(0.0, n_f) as u64
}

/// The standard normal CDF (Abramowitz & Stegun 7.1.26 erf, error < 1.5e-7).
fn phi(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + if z >= 0.0 { erf } else { -erf })
}

/// A log-normal latency distribution in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct LogNormal {
    mu: f64,
    sigma: f64,
}

impl LogNormal {
    /// Fitted so that its median and 95th percentile are the given ones.
    pub fn from_median_p95(median_ms: f64, p95_ms: f64) -> LogNormal {
        let median = median_ms.max(0.001);
        let p95 = p95_ms.max(median * 1.001);
        LogNormal {
            mu: median.ln(),
            sigma: (p95 / median).ln() / Z95,
        }
    }

    fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if x.is_infinite() {
            return 1.0;
        }
        phi((x.ln() - self.mu) / self.sigma)
    }

    /// E[X; X ≤ x], the partial expectation, for conditional bucket means.
    fn partial_mean(&self, x: f64) -> f64 {
        let mean = (self.mu + self.sigma * self.sigma / 2.0).exp();
        if x <= 0.0 {
            return 0.0;
        }
        if x.is_infinite() {
            return mean;
        }
        mean * phi((x.ln() - self.mu - self.sigma * self.sigma) / self.sigma)
    }

    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        (self.mu + self.sigma * standard_normal(rng)).exp()
    }

    /// Draw `n` latencies into `counts` (one slot per upper bound in `bounds`, the last
    /// bound being +Inf) and return their sum. Small `n` are drawn one by one; larger ones
    /// per bucket, with the sum from each bucket's conditional mean.
    pub fn fill(&self, rng: &mut impl Rng, n: u64, bounds: &[f64], counts: &mut [u64]) -> f64 {
        if n <= 32 {
            let mut sum = 0.0;
            for _ in 0..n {
                let x = self.sample(rng);
                sum += x;
                let slot = bounds
                    .iter()
                    .position(|b| x <= *b)
                    .unwrap_or(bounds.len() - 1);
                counts[slot] += 1;
            }
            return sum;
        }
        let mut remaining = n;
        let mut mass_left = 1.0;
        let mut lower = 0.0;
        let mut sum = 0.0;
        for (slot, upper) in bounds.iter().enumerate() {
            let p = (self.cdf(*upper) - self.cdf(lower)).max(0.0);
            let k = if slot + 1 == bounds.len() || mass_left <= p {
                remaining
            } else {
                binomial(rng, remaining, (p / mass_left).min(1.0))
            };
            if k > 0 && p > 0.0 {
                let mean_in_bucket = (self.partial_mean(*upper) - self.partial_mean(lower)) / p;
                sum += k as f64 * mean_in_bucket;
            } else if k > 0 {
                sum += k as f64 * if upper.is_finite() { *upper } else { lower };
            }
            counts[slot] += k;
            remaining -= k;
            mass_left -= p;
            lower = *upper;
            if remaining == 0 {
                break;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn binomial_and_poisson_have_the_right_means() {
        let mut rng = StdRng::seed_from_u64(7);
        for (n, p) in [
            (10u64, 0.3),
            (1000, 0.002),
            (1000, 0.5),
            (100_000, 0.06),
            (500, 0.999),
        ] {
            let draws = 2000;
            let total: u64 = (0..draws).map(|_| binomial(&mut rng, n, p)).sum();
            let mean = total as f64 / draws as f64;
            let expected = n as f64 * p;
            let tolerance = 4.0 * (n as f64 * p * (1.0 - p) / draws as f64).sqrt() + 0.02;
            assert!(
                (mean - expected).abs() < tolerance,
                "n={n} p={p}: {mean} vs {expected}"
            );
        }
        let total: u64 = (0..5000).map(|_| poisson(&mut rng, 5.0)).sum();
        assert!((total as f64 / 5000.0 - 5.0).abs() < 0.15);
    }

    #[test]
    fn log_normal_fit_has_the_asked_median_and_p95() {
        let d = LogNormal::from_median_p95(40.0, 120.0);
        assert!((d.cdf(40.0) - 0.5).abs() < 1e-6);
        assert!((d.cdf(120.0) - 0.95).abs() < 1e-6);
        assert!((phi(0.0) - 0.5).abs() < 1e-6 && phi(-8.0) < 1e-6);
    }
}
