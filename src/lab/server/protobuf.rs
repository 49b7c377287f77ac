//! Just enough of Kubernetes' protobuf encoding to read a SelfSubjectAccessReview: kubectl
//! sends built-in review objects as `application/vnd.kubernetes.protobuf` (magic `k8s\0` +
//! `runtime.Unknown` wrapping the object). Answers still go out as JSON, which it accepts.

use serde_json::{Map, Value, json};

/// The content type kubectl uses for built-in kinds.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// A protobuf-encoded SelfSubjectAccessReview as the JSON object it stands for.
pub fn access_review(body: &[u8]) -> Result<Value, String> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or("the protobuf body does not start with the Kubernetes magic number")?;
    let raw = fields(unknown)?
        .into_iter()
        .find(|(n, _)| *n == 2)
        .map(|(_, bytes)| bytes)
        .ok_or("the protobuf body has no object")?;
    let mut spec = Map::new();
    for (field, bytes) in fields(raw)? {
        if field != 2 {
            continue;
        }
        for (attr_field, attrs) in fields(bytes)? {
            let (key, names): (&str, &[&str]) = match attr_field {
                1 => (
                    "resourceAttributes",
                    &[
                        "namespace",
                        "verb",
                        "group",
                        "version",
                        "resource",
                        "subresource",
                        "name",
                    ],
                ),
                2 => ("nonResourceAttributes", &["path", "verb"]),
                _ => continue,
            };
            let mut out = Map::new();
            for (n, value) in fields(attrs)? {
                if let Some(name) = usize::try_from(n)
                    .ok()
                    .and_then(|n| names.get(n.wrapping_sub(1)))
                {
                    let text = String::from_utf8(value.to_vec())
                        .map_err(|e| format!("{name} is not UTF-8: {e}"))?;
                    out.insert(name.to_string(), json!(text));
                }
            }
            spec.insert(key.to_string(), Value::Object(out));
        }
    }
    Ok(json!({"spec": spec}))
}

/// The length-delimited fields of one message (other wire types are skipped).
fn fields(mut bytes: &[u8]) -> Result<Vec<(u64, &[u8])>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let (field, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => {
                varint(&mut bytes)?;
            }
            1 => bytes = bytes.get(8..).ok_or("truncated protobuf")?,
            5 => bytes = bytes.get(4..).ok_or("truncated protobuf")?,
            2 => {
                let len = usize::try_from(varint(&mut bytes)?)
                    .map_err(|_| "protobuf length too large")?;
                let value = bytes.get(..len).ok_or("truncated protobuf")?;
                bytes = &bytes[len..];
                out.push((field, value));
            }
            other => return Err(format!("unsupported protobuf wire type {other}")),
        }
    }
    Ok(out)
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("truncated protobuf varint")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("protobuf varint too long".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3) | 2, u8::try_from(bytes.len()).unwrap()];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_what_kubectl_auth_can_i_sends() {
        let attrs = [
            field(1, b"demo"),
            field(2, b"patch"),
            field(3, b"argoproj.io"),
            field(5, b"rollouts"),
        ]
        .concat();
        let spec = field(1, &attrs);
        let object = [field(1, b""), field(2, &spec)].concat();
        let type_meta = [
            field(1, b"authorization.k8s.io/v1"),
            field(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &object)].concat();
        let review = access_review(&body).unwrap();
        assert_eq!(
            review["spec"]["resourceAttributes"],
            json!({"namespace": "demo", "verb": "patch", "group": "argoproj.io", "resource": "rollouts"})
        );
        assert!(access_review(b"{}").is_err());
        assert!(access_review(&body[..body.len() - 3]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = access_review(&[MAGIC, &tail].concat());
        }
    }
}
