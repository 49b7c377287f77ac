//! How the judge says numbers to a release manager: metric names, values in their units,
//! signed differences and durations ("error rate", "6.1%", "+5.9 pp", "2m10s").

use super::policy::Unit;

/// The metric's name as a release manager says it.
pub fn display_name(metric: &str) -> String {
    match metric {
        super::policy::ERROR_RATE => "error rate".into(),
        super::policy::P95_MS => "p95".into(),
        other => other.replace('_', " "),
    }
}

/// A value in its unit: "6.1%", "0.25%", "0.2%", "412 ms", "3.50".
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ratio if (v * 100.0).abs() >= 1.0 || v == 0.0 => format!("{:.1}%", v * 100.0),
        Unit::Ratio => {
            let pct = format!("{:.2}", v * 100.0);
            format!("{}%", pct.trim_end_matches('0').trim_end_matches('.'))
        }
        Unit::Ms if v.abs() < 10.0 => format!("{v:.1} ms"),
        Unit::Ms => format!("{v:.0} ms"),
        Unit::Number => format!("{v:.2}"),
    }
}

/// A signed difference in its unit: "+5.9 pp", "−12 ms".
pub fn difference(unit: Unit, d: f64) -> String {
    match unit {
        Unit::Ratio => format!("{:+.1} pp", d * 100.0),
        Unit::Ms if d.abs() < 10.0 => format!("{d:+.1} ms"),
        Unit::Ms => format!("{d:+.0} ms"),
        Unit::Number => format!("{d:+.2}"),
    }
}

/// A duration as people read it: "45s", "2m", "2m10s".
pub fn duration(secs: f64) -> String {
    let total = secs.round().max(0.0) as u64;
    match (total / 60, total % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_values_and_durations() {
        assert_eq!(duration(130.0), "2m10s");
        assert_eq!(duration(45.2), "45s");
        assert_eq!(duration(60.0), "1m");
        assert_eq!(value(Unit::Ratio, 0.061), "6.1%");
        assert_eq!(value(Unit::Ratio, 0.0025), "0.25%");
        assert_eq!(value(Unit::Ratio, 0.002), "0.2%");
        assert_eq!(value(Unit::Ms, 412.4), "412 ms");
        assert_eq!(difference(Unit::Ratio, -0.012), "-1.2 pp");
    }
}
