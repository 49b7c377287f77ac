//! Object metadata as kube-apiserver fills it in: field access on JSON objects, RFC 3339
//! timestamps with whole seconds, random uids and `generateName` suffixes.

use serde_json::{Value, json};

/// Removes `field` from a JSON object (nothing when it is not an object).
pub fn remove_field(object: &mut Value, field: &str) {
    if let Some(map) = object.as_object_mut() {
        map.remove(field);
    }
}
/// `metadata.FIELD` as a string, empty when absent.
pub fn str_at(object: &Value, field: &str) -> String {
    object["metadata"][field].as_str().unwrap_or("").to_string()
}

/// `metadata`, made an object first when it is missing.
pub fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    match object["metadata"].as_object_mut() {
        Some(meta) => meta,
        None => unreachable!("metadata was just made an object"),
    }
}

/// RFC 3339 UTC with whole seconds, as Kubernetes writes timestamps.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random UUID-shaped uid.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Five characters as kube-apiserver appends to a `generateName`.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}
