//! The Prometheus text exposition format (version 0.0.4, what `/metrics` serves) parsed into
//! samples, and Prometheus's `histogram_quantile` interpolation, so the direct-scrape source
//! computes exactly what a Prometheus would.

use super::response::{Labels, parse_value};

/// One sample line: metric name, labels and value (the optional timestamp is dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpoSample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// A line of the exposition that is not valid text format.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {reason}")]
pub struct ExpositionError {
    pub line: usize,
    pub reason: String,
}

/// Parses a whole exposition body. Comments (`# HELP`, `# TYPE`, `# EOF`) are skipped.
pub fn parse_exposition(text: &str) -> Result<Vec<ExpoSample>, ExpositionError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_line(line).map_err(|reason| ExpositionError {
            line: i + 1,
            reason,
        })?);
    }
    Ok(out)
}

fn is_name_char(c: char, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (!first && c.is_ascii_digit())
}

fn parse_line(line: &str) -> Result<ExpoSample, String> {
    let name_end = line
        .char_indices()
        .find(|&(i, c)| !is_name_char(c, i == 0))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    if name_end == 0 {
        return Err(format!("no metric name in {line:?}"));
    }
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = Labels::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, remaining) = parse_labels(after)?;
        labels = parsed;
        rest = remaining;
    }
    let mut fields = rest.split_whitespace();
    let value_text = fields
        .next()
        .ok_or_else(|| format!("no value for {name}"))?;
    let value = parse_value(value_text).ok_or_else(|| format!("bad value {value_text:?}"))?;
    if let Some(ts) = fields.next()
        && ts.parse::<i64>().is_err()
    {
        return Err(format!("bad timestamp {ts:?}"));
    }
    if fields.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(ExpoSample {
        name,
        labels,
        value,
    })
}

/// Parses `name="value",...}` and returns the labels and what follows the `}`.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find('=').ok_or("label without '='")?;
        let label = s[..eq].trim();
        if label.is_empty()
            || !label
                .chars()
                .enumerate()
                .all(|(i, c)| is_name_char(c, i == 0))
        {
            return Err(format!("bad label name {label:?}"));
        }
        s = s[eq + 1..].trim_start();
        s = s.strip_prefix('"').ok_or("label value without quotes")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err("unterminated escape".into()),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.insert(label.to_string(), value);
        s = s[end + 1..].trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err("expected ',' or '}' after a label".into());
        }
    }
}

/// Prometheus's `histogram_quantile` over cumulative buckets `(upper bound, count)`, in any
/// order: linear interpolation inside the bucket holding the rank; a rank in the `+Inf`
/// bucket answers the highest finite bound; `None` where Prometheus answers NaN (no `+Inf`
/// bucket, fewer than two buckets, no observations).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if q.is_nan() {
        return None;
    }
    if q < 0.0 {
        return Some(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return Some(f64::INFINITY);
    }
    let mut b: Vec<(f64, f64)> = buckets
        .iter()
        .filter(|(le, _)| !le.is_nan())
        .copied()
        .collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Prometheus merges buckets with the same bound by adding their counts.
    b.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 += later.1;
            true
        } else {
            false
        }
    });
    if b.last().map(|l| l.0) != Some(f64::INFINITY) || b.len() < 2 {
        return None;
    }
    // Counts are cumulative; float noise from rate() can break monotonicity.
    for i in 1..b.len() {
        if b[i].1 < b[i - 1].1 {
            b[i].1 = b[i - 1].1;
        }
    }
    let observations = b[b.len() - 1].1;
    if observations.is_nan() || observations <= 0.0 {
        return None;
    }
    let mut rank = q * observations;
    let idx = b.partition_point(|(_, count)| *count < rank);
    if idx >= b.len() - 1 {
        return Some(b[b.len() - 2].0);
    }
    if idx == 0 && b[0].0 <= 0.0 {
        return Some(b[0].0);
    }
    let (mut start, end, mut count) = (0.0, b[idx].0, b[idx].1);
    if idx > 0 {
        start = b[idx - 1].0;
        count -= b[idx - 1].1;
        rank -= b[idx - 1].1;
    }
    Some(start + (end - start) * (rank / count))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTIO: &str = r#"# HELP istio_requests_total Total requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",destination_workload_namespace="demo",destination_canonical_service="checkout",destination_workload="checkout-6c5b8d7f9",response_code="200",rollouts_pod_template_hash="6c5b8d7f9"} 1520
istio_requests_total{reporter="destination",destination_workload_namespace="demo",destination_canonical_service="checkout",destination_workload="checkout-6c5b8d7f9",response_code="503",rollouts_pod_template_hash="6c5b8d7f9"} 3 1700000000000
# TYPE istio_request_duration_milliseconds histogram
istio_request_duration_milliseconds_bucket{le="50",rollouts_pod_template_hash="6c5b8d7f9"} 10
istio_request_duration_milliseconds_bucket{le="+Inf",rollouts_pod_template_hash="6c5b8d7f9"} 12
istio_request_duration_milliseconds_sum{rollouts_pod_template_hash="6c5b8d7f9"} 480.5
weird{a="x\"y\\z\nw",} NaN
up 1
"#;

    #[test]
    fn parses_istio_exposition() {
        let s = parse_exposition(ISTIO).unwrap();
        assert_eq!(s.len(), 7);
        assert_eq!(s[0].name, "istio_requests_total");
        assert_eq!(s[0].labels["response_code"], "200");
        assert_eq!(s[0].labels["destination_canonical_service"], "checkout");
        assert_eq!(s[0].value, 1520.0);
        assert_eq!(s[1].value, 3.0);
        assert_eq!(s[3].labels["le"], "+Inf");
        assert_eq!(s[4].value, 480.5);
        assert_eq!(s[5].labels["a"], "x\"y\\z\nw");
        assert!(s[5].value.is_nan());
        assert!(s[6].labels.is_empty());
    }

    #[test]
    fn rejects_broken_lines_with_line_numbers() {
        let err = parse_exposition("ok 1\nbad{a=\"x} 1\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse_exposition("x{a=\"1\"}").is_err());
        assert!(parse_exposition("x one").is_err());
        assert!(parse_exposition("{a=\"1\"} 1").is_err());
    }

    #[test]
    fn quantile_interpolates_like_prometheus() {
        // 100 observations: 50 ≤ 10, 90 ≤ 20, 100 ≤ 40. p95 rank 95 lies in (20, 40]:
        // 20 + 20 * (95-90)/(100-90) = 30.
        let b = [
            (10.0, 50.0),
            (20.0, 90.0),
            (40.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert_eq!(histogram_quantile(0.95, &b), Some(30.0));
        assert_eq!(histogram_quantile(0.5, &b), Some(10.0));
        // First bucket interpolates from 0.
        assert_eq!(histogram_quantile(0.25, &b), Some(5.0));
    }

    #[test]
    fn quantile_edge_cases() {
        // Rank in +Inf bucket → highest finite bound.
        let b = [(10.0, 1.0), (f64::INFINITY, 100.0)];
        assert_eq!(histogram_quantile(0.95, &b), Some(10.0));
        // No +Inf bucket, one bucket, no observations → NaN in Prometheus.
        assert_eq!(histogram_quantile(0.95, &[(10.0, 1.0), (20.0, 2.0)]), None);
        assert_eq!(histogram_quantile(0.95, &[(f64::INFINITY, 5.0)]), None);
        assert_eq!(
            histogram_quantile(0.95, &[(10.0, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(histogram_quantile(1.5, &b), Some(f64::INFINITY));
        // Unsorted input and non-monotonic noise.
        let noisy = [(f64::INFINITY, 100.0), (20.0, 89.9), (10.0, 90.0)];
        assert_eq!(histogram_quantile(0.95, &noisy), Some(20.0));
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn line() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z_]{1,8}(\\{([a-z]{1,3}=\"[^\"\\\\]{0,4}\",?){0,3}\\})? (NaN|\\+Inf|-Inf|[0-9.e+-]{1,8})( [0-9]{1,13})?",
                "# (HELP|TYPE) [a-z_]{1,8} .{0,10}",
                ".{0,40}",
            ]
        }

        /// 4096 cases per property; `PROPTEST_CASES=N` runs N instead (e.g. a longer fuzz).
        fn fuzz_config() -> ProptestConfig {
            let cases = std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(4096);
            ProptestConfig::with_cases(cases)
        }

        proptest! {
            #![proptest_config(fuzz_config())]
            #[test]
            fn never_panics(lines in prop::collection::vec(line(), 0..12)) {
                let _ = parse_exposition(&lines.join("\n"));
            }

            #[test]
            fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                let _ = parse_exposition(&String::from_utf8_lossy(&bytes));
            }

            #[test]
            fn quantile_stays_in_bounds(
                mut counts in prop::collection::vec(0.0f64..1000.0, 2..10),
                q in 0.0f64..=1.0,
            ) {
                counts.sort_by(f64::total_cmp);
                let mut b: Vec<(f64, f64)> = counts.iter().enumerate().map(|(i, c)| ((i + 1) as f64 * 10.0, *c)).collect();
                let last = b.last().map(|x| x.1).unwrap_or(0.0);
                b.push((f64::INFINITY, last));
                if let Some(v) = histogram_quantile(q, &b) {
                    prop_assert!((0.0..=b[b.len() - 2].0).contains(&v));
                }
            }
        }
    }
}
