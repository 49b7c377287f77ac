//! The Prometheus HTTP API envelope (`/api/v1/query`, `/api/v1/query_range`) parsed into
//! plain Rust: success or error, warnings, and vector/matrix/scalar/string results with
//! the special values `NaN`, `+Inf` and `-Inf`.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Labels of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// One instant sample of a vector result.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t_secs: f64,
    pub value: f64,
}

/// One series of a matrix (range) result: `(unix seconds, value)` pairs in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeSeries {
    pub labels: Labels,
    pub points: Vec<(f64, f64)>,
}

/// The `data` of a successful answer.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryData {
    Vector(Vec<Sample>),
    Matrix(Vec<RangeSeries>),
    Scalar { t_secs: f64, value: f64 },
    String { t_secs: f64, value: String },
}

/// A successful answer with the warnings the server attached to it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResponse {
    pub data: QueryData,
    pub warnings: Vec<String>,
}

/// Why a body is not a usable answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ResponseError {
    /// `{"status":"error","errorType":...,"error":...}`: the server's own words.
    #[error("{error_type}: {error}")]
    Api { error_type: String, error: String },
    /// Not JSON, or JSON that is not the API's envelope (a UI page, a proxy login, ...).
    #[error("not the Prometheus API's JSON: {0}")]
    NotApi(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<RawData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RawData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RawSeries>),
    Scalar((f64, String)),
    String((f64, String)),
}

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: Labels,
    /// Absent for native-histogram samples, which the cockpit does not read.
    #[serde(default)]
    value: Option<(f64, String)>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Parses a sample value as Prometheus writes it: a float, `NaN`, `+Inf` or `-Inf`.
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse::<f64>().ok(),
    }
}

fn value_of(raw: &(f64, String)) -> Result<f64, ResponseError> {
    parse_value(&raw.1)
        .ok_or_else(|| ResponseError::NotApi(format!("sample value {:?} is not a number", raw.1)))
}

/// Parses a response body (any HTTP status: Prometheus sends the error envelope with 4xx/5xx).
pub fn parse_response(body: &[u8]) -> Result<QueryResponse, ResponseError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        ResponseError::NotApi(format!("{e} (body starts with {start:?})"))
    })?;
    match envelope.status.as_str() {
        "success" => {}
        "error" => {
            return Err(ResponseError::Api {
                error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
                error: envelope.error.unwrap_or_default(),
            });
        }
        other => {
            return Err(ResponseError::NotApi(format!("status {other:?}")));
        }
    }
    let data = match envelope.data {
        None => return Err(ResponseError::NotApi("success without data".into())),
        Some(RawData::Vector(samples)) => {
            let mut out = Vec::with_capacity(samples.len());
            for s in samples {
                if let Some(raw) = &s.value {
                    out.push(Sample {
                        t_secs: raw.0,
                        value: value_of(raw)?,
                        labels: s.metric,
                    });
                }
            }
            QueryData::Vector(out)
        }
        Some(RawData::Matrix(series)) => {
            let mut out = Vec::with_capacity(series.len());
            for s in series {
                let points = s
                    .values
                    .iter()
                    .map(|raw| Ok((raw.0, value_of(raw)?)))
                    .collect::<Result<Vec<_>, ResponseError>>()?;
                out.push(RangeSeries {
                    labels: s.metric,
                    points,
                });
            }
            QueryData::Matrix(out)
        }
        Some(RawData::Scalar(raw)) => QueryData::Scalar {
            t_secs: raw.0,
            value: value_of(&raw)?,
        },
        Some(RawData::String((t_secs, value))) => QueryData::String { t_secs, value },
    };
    Ok(QueryResponse {
        data,
        warnings: envelope.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bodies below are copied from Prometheus 2.x answers (docs and a live server).
    const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"value":[1435781451.781,"1"]},{"metric":{"__name__":"up","job":"node","instance":"localhost:9100"},"value":[1435781451.781,"0"]}]}}"#;
    const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},"values":[[1435781430.781,"1"],[1435781445.781,"1"],[1435781460.781,"1"]]},{"metric":{"__name__":"up","job":"node","instance":"localhost:9091"},"values":[[1435781430.781,"0"],[1435781445.781,"0"],[1435781460.781,"1"]]}]}}"#;
    const SCALAR: &str =
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.123,"42"]}}"#;
    const STRING: &str =
        r#"{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}"#;
    const BAD_DATA: &str = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected \"}\""}"#;
    const WARNINGS: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\""]}"#;
    const SPECIAL: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"le":"a"},"value":[1700000000,"NaN"]},{"metric":{"le":"b"},"value":[1700000000,"+Inf"]},{"metric":{"le":"c"},"value":[1700000000,"-Inf"]}]}}"#;
    const EMPTY: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

    #[test]
    fn vector_keeps_labels_times_and_values() {
        let r = parse_response(VECTOR.as_bytes()).unwrap();
        let QueryData::Vector(v) = r.data else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].labels["job"], "prometheus");
        assert_eq!(v[0].t_secs, 1435781451.781);
        assert_eq!(v[0].value, 1.0);
        assert_eq!(v[1].value, 0.0);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn matrix_keeps_point_order() {
        let QueryData::Matrix(m) = parse_response(MATRIX.as_bytes()).unwrap().data else {
            panic!("not a matrix")
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].labels["instance"], "localhost:9091");
        assert_eq!(
            m[1].points,
            vec![
                (1435781430.781, 0.0),
                (1435781445.781, 0.0),
                (1435781460.781, 1.0)
            ]
        );
    }

    #[test]
    fn scalar_and_string() {
        assert_eq!(
            parse_response(SCALAR.as_bytes()).unwrap().data,
            QueryData::Scalar {
                t_secs: 1700000000.123,
                value: 42.0
            }
        );
        assert_eq!(
            parse_response(STRING.as_bytes()).unwrap().data,
            QueryData::String {
                t_secs: 1700000000.0,
                value: "hello".into()
            }
        );
    }

    #[test]
    fn error_envelope_carries_prometheus_words() {
        let err = parse_response(BAD_DATA.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            ResponseError::Api {
                error_type: "bad_data".into(),
                error: "invalid parameter \"query\": 1:5: parse error: unexpected \"}\"".into()
            }
        );
    }

    #[test]
    fn warnings_are_kept() {
        let r = parse_response(WARNINGS.as_bytes()).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("PromQL info"));
        assert_eq!(r.data, QueryData::Vector(vec![]));
    }

    #[test]
    fn nan_and_infinities() {
        let QueryData::Vector(v) = parse_response(SPECIAL.as_bytes()).unwrap().data else {
            panic!("not a vector")
        };
        assert!(v[0].value.is_nan());
        assert_eq!(v[1].value, f64::INFINITY);
        assert_eq!(v[2].value, f64::NEG_INFINITY);
    }

    #[test]
    fn empty_result_is_success() {
        assert_eq!(
            parse_response(EMPTY.as_bytes()).unwrap().data,
            QueryData::Matrix(vec![])
        );
    }

    #[test]
    fn html_and_foreign_json_are_not_the_api() {
        let html = b"<!doctype html><html><title>Prometheus Time Series Collection</title>";
        assert!(matches!(
            parse_response(html),
            Err(ResponseError::NotApi(_))
        ));
        assert!(matches!(
            parse_response(br#"{"message":"login required"}"#),
            Err(ResponseError::NotApi(_))
        ));
        assert!(matches!(
            parse_response(br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#),
            Err(ResponseError::NotApi(_))
        ));
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                prop_oneof![
                    Just("NaN".to_string()),
                    Just("+Inf".to_string()),
                    Just("success".to_string()),
                    Just("error".to_string()),
                    Just("vector".to_string()),
                    Just("matrix".to_string()),
                    ".{0,8}"
                ]
                .prop_map(serde_json::Value::from),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("status".to_string()),
                            Just("data".to_string()),
                            Just("resultType".to_string()),
                            Just("result".to_string()),
                            Just("metric".to_string()),
                            Just("value".to_string()),
                            Just("values".to_string()),
                            Just("warnings".to_string()),
                            Just("error".to_string()),
                            "[a-z]{1,4}"
                        ],
                        inner,
                        0..5
                    )
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                ]
            })
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
            fn never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse_response(&body);
            }

            #[test]
            fn never_panics_on_json_shapes(v in json_value()) {
                let _ = parse_response(v.to_string().as_bytes());
            }

            #[test]
            fn vector_round_trips(values in prop::collection::vec(any::<f64>(), 0..8)) {
                let result: Vec<_> = values.iter().enumerate().map(|(i, v)| serde_json::json!({
                    "metric": {"i": i.to_string()},
                    "value": [1.5, if v.is_nan() { "NaN".to_string() } else if v.is_infinite() { if *v > 0.0 { "+Inf".into() } else { "-Inf".into() } } else { format!("{v:e}") }]
                })).collect();
                let body = serde_json::json!({"status":"success","data":{"resultType":"vector","result":result}});
                let QueryData::Vector(parsed) = parse_response(body.to_string().as_bytes()).unwrap().data else { panic!("not a vector") };
                prop_assert_eq!(parsed.len(), values.len());
                for (p, v) in parsed.iter().zip(&values) {
                    prop_assert!(p.value == *v || (p.value.is_nan() && v.is_nan()));
                }
            }
        }
    }
}
