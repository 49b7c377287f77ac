//! Deterministic hashes the controller writes: the pod-template hash (`currentPodHash`, the
//! `rollouts-pod-template-hash` label) and the steps hash (`currentStepHash`). Like Argo: FNV-32a
//! of the object's JSON, rendered in Kubernetes' "safe encoding" alphabet (no vowels, no 0/1/3).

use serde_json::Value;

/// The label Argo puts on ReplicaSets and pods; never part of the hashed template.
pub const POD_TEMPLATE_HASH_LABEL: &str = "rollouts-pod-template-hash";

/// Hash of a pod template (`spec.template`), e.g. `"6cbccd9f99"`. The template is rendered as
/// canonical JSON (object keys sorted) so the same template always gives the same hash,
/// whatever order a client sent its fields in.
pub fn pod_template_hash(template: &Value) -> String {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    safe_encode(&fnv32a(canonical_json(&template).as_bytes()).to_string())
}

/// Hash of `spec.strategy.canary.steps`; a change restarts the steps like a new revision.
pub fn step_hash(steps: &Value) -> String {
    safe_encode(&fnv32a(canonical_json(steps).as_bytes()).to_string())
}

fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// `k8s.io/apimachinery/pkg/util/rand.SafeEncodeString`.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn hash_ignores_key_order_and_the_hash_label_but_not_content() {
        let a = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "x:1", "name": "x"}]}, "metadata": {"labels": {"app": "x", POD_TEMPLATE_HASH_LABEL: "zzz"}}});
        let c = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x", "image": "x:2"}]}});
        assert_eq!(pod_template_hash(&a), pod_template_hash(&b));
        assert_ne!(pod_template_hash(&a), pod_template_hash(&c));
        let h = pod_template_hash(&a);
        assert!((8..=10).contains(&h.len()), "{h}");
        assert!(
            h.bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)),
            "{h}"
        );
    }
}
