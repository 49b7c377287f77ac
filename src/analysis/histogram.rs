//! Latency judged on counts: a histogram's buckets pooled over a stretch of intervals (every
//! request counts, however thin its interval), its quantiles, and how many requests were
//! slower than a threshold, so "slower than stable's p95" is a share tested like errors are.
//! Works on any bucket series: the built-in latency histogram or a custom histogram metric.

use crate::model::BucketPoint;

/// Bucket series of two sides on one shared set of bounds, with running sums over time, so
/// pooling any stretch of intervals costs one subtraction per bucket.
#[derive(Clone, Debug)]
pub struct BucketTable {
    /// Finite upper bounds, ascending; the `+Inf` bucket is the requests column.
    bounds: Vec<f64>,
    times: Vec<f64>,
    /// `prefix[i]`: the cumulative counts per bound then the requests, summed over the first
    /// `i` intervals (`prefix[0]` is all zero).
    prefix: Vec<Vec<f64>>,
    /// How many of the first `i` intervals had any request.
    with_traffic: Vec<usize>,
}

/// A pooled histogram: requests at most each bound, and all requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled {
    /// (upper bound, requests at most that slow), finite bounds ascending, non-decreasing.
    pub le: Vec<(f64, f64)>,
    pub requests: f64,
}

impl BucketTable {
    /// The table of `points` (sorted by time) on `bounds` (every finite bound either side
    /// uses: see [`bounds_of`]). A point's missing bound takes the count of the bound below
    /// it, which is what a cumulative histogram means.
    pub fn new(points: &[BucketPoint], bounds: &[f64]) -> BucketTable {
        let width = bounds.len() + 1;
        let mut prefix = Vec::with_capacity(points.len() + 1);
        let mut with_traffic = Vec::with_capacity(points.len() + 1);
        let mut running = vec![0.0; width];
        prefix.push(running.clone());
        with_traffic.push(0);
        for p in points {
            let mut below = 0.0;
            let mut k = 0;
            for (slot, bound) in bounds.iter().enumerate() {
                while k < p.le.len() && p.le[k].0 <= *bound {
                    below = p.le[k].1.max(below);
                    k += 1;
                }
                running[slot] += below.min(p.requests).max(0.0);
            }
            running[width - 1] += p.requests.max(0.0);
            prefix.push(running.clone());
            let had = usize::from(p.requests > 0.0);
            with_traffic.push(with_traffic.last().copied().unwrap_or(0) + had);
        }
        BucketTable {
            bounds: bounds.to_vec(),
            times: points.iter().map(|p| p.t_secs).collect(),
            prefix,
            with_traffic,
        }
    }

    /// The intervals in `(from_secs, to_secs]` pooled, and how many of them had traffic.
    pub fn pooled(&self, from_secs: f64, to_secs: f64) -> (Pooled, usize) {
        let from = self.times.partition_point(|t| *t <= from_secs);
        let to = self.times.partition_point(|t| *t <= to_secs).max(from);
        let (a, b) = (&self.prefix[from], &self.prefix[to]);
        let width = self.bounds.len();
        let mut le = Vec::with_capacity(width);
        let mut floor = 0.0_f64;
        for (slot, bound) in self.bounds.iter().enumerate() {
            floor = floor.max(b[slot] - a[slot]);
            le.push((*bound, floor));
        }
        let requests = (b[width] - a[width]).max(floor);
        (
            Pooled { le, requests },
            self.with_traffic[to] - self.with_traffic[from],
        )
    }

    /// Timestamps of the intervals, ascending.
    pub fn times(&self) -> &[f64] {
        &self.times
    }
}

/// Every finite bound used by any of the series, ascending, once.
pub fn bounds_of<'a>(series: impl IntoIterator<Item = &'a [BucketPoint]>) -> Vec<f64> {
    let mut bounds: Vec<f64> = series
        .into_iter()
        .flatten()
        .flat_map(|p| p.le.iter().map(|(b, _)| *b))
        .filter(|b| b.is_finite())
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
}

impl Pooled {
    /// The `q` quantile, interpolated linearly inside its bucket as Prometheus's
    /// `histogram_quantile` does (the first bucket starts at 0 when its bound is positive;
    /// a rank in the `+Inf` bucket answers the highest finite bound). `None` without requests.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.requests <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * self.requests;
        let mut below = (0.0, 0.0);
        for &(bound, count) in &self.le {
            if count >= rank {
                let lower = if below.1 == 0.0 && below.0 == 0.0 && bound <= 0.0 {
                    bound
                } else {
                    below.0
                };
                let inside = count - below.1;
                if inside <= 0.0 {
                    return Some(bound);
                }
                return Some(lower + (bound - lower) * (rank - below.1) / inside);
            }
            below = (bound, count);
        }
        self.le.last().map(|(bound, _)| *bound)
    }

    /// Requests at most `x`, interpolated linearly inside its bucket: the inverse of
    /// [`Pooled::quantile`], so the share above a side's own p95 is 5 %. Past the highest
    /// finite bound, the `+Inf` bucket's requests count as slower.
    pub fn at_most(&self, x: f64) -> f64 {
        let mut below = (0.0, 0.0);
        for &(bound, count) in &self.le {
            if x <= bound {
                if x <= below.0 {
                    return below.1;
                }
                let width = bound - below.0;
                return below.1 + (count - below.1) * (x - below.0) / width;
            }
            below = (bound, count);
        }
        below.1
    }

    /// Requests slower than `x`.
    pub fn slower_than(&self, x: f64) -> f64 {
        (self.requests - self.at_most(x)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t_secs: f64, le: &[(f64, f64)], requests: f64) -> BucketPoint {
        BucketPoint {
            t_secs,
            le: le.to_vec(),
            requests,
        }
    }

    /// Two intervals of 10 and 30 requests on bounds 50 / 100 / 200 ms, pooled by hand:
    /// ≤ 50: 4 + 12 = 16, ≤ 100: 8 + 24 = 32, ≤ 200: 10 + 29 = 39, all: 40.
    /// p95: rank 0.95 × 40 = 38 lies in (100, 200] which holds 39 − 32 = 7 requests, 6 of
    /// them below the rank: 100 + 100 × 6 / 7 = 185.71 ms. Slower than 150 ms: the bucket
    /// holds 7 over 100 ms, half of them ≤ 150 → 32 + 3.5 = 35.5 at most, 4.5 slower.
    #[test]
    fn pooled_buckets_quantiles_and_slow_requests_by_hand() {
        let series = [
            point(1.0, &[(50.0, 4.0), (100.0, 8.0), (200.0, 10.0)], 10.0),
            point(2.0, &[(50.0, 12.0), (100.0, 24.0), (200.0, 29.0)], 30.0),
        ];
        let bounds = bounds_of([&series[..]]);
        assert_eq!(bounds, [50.0, 100.0, 200.0]);
        let table = BucketTable::new(&series, &bounds);
        let (pooled, with_traffic) = table.pooled(f64::NEG_INFINITY, 2.0);
        assert_eq!(with_traffic, 2);
        assert_eq!(
            pooled.le,
            [(50.0, 16.0), (100.0, 32.0), (200.0, 39.0)].to_vec()
        );
        assert_eq!(pooled.requests, 40.0);
        let p95 = pooled.quantile(0.95).unwrap();
        assert!((p95 - 185.714_285).abs() < 1e-3, "{p95}");
        assert!((pooled.slower_than(150.0) - 4.5).abs() < 1e-9);
        // The inverse: exactly 5 % of the pooled requests are slower than the pooled p95.
        assert!((pooled.slower_than(p95) - 2.0).abs() < 1e-9);
        // Past the last finite bound only the +Inf bucket's one request is slower.
        assert_eq!(pooled.slower_than(1000.0), 1.0);
        // Only the second interval.
        let (second, n) = table.pooled(1.0, 2.0);
        assert_eq!((second.requests, n), (30.0, 1));
    }

    /// A side that lacks a bound the other has: the missing cumulative count is the one
    /// below it, so pooling across differently bucketed sources stays cumulative.
    #[test]
    fn a_missing_bound_takes_the_count_below_it() {
        let a = [point(1.0, &[(50.0, 5.0), (200.0, 9.0)], 10.0)];
        let b = [point(1.0, &[(100.0, 7.0)], 8.0)];
        let bounds = bounds_of([&a[..], &b[..]]);
        assert_eq!(bounds, [50.0, 100.0, 200.0]);
        let (pa, _) = BucketTable::new(&a, &bounds).pooled(0.0, 1.0);
        assert_eq!(pa.le, [(50.0, 5.0), (100.0, 5.0), (200.0, 9.0)].to_vec());
        let (pb, _) = BucketTable::new(&b, &bounds).pooled(0.0, 1.0);
        assert_eq!(pb.le, [(50.0, 0.0), (100.0, 7.0), (200.0, 7.0)].to_vec());
    }

    #[test]
    fn no_requests_no_quantile() {
        let empty = Pooled {
            le: vec![(50.0, 0.0)],
            requests: 0.0,
        };
        assert_eq!(empty.quantile(0.95), None);
        assert_eq!(empty.slower_than(10.0), 0.0);
    }
}
