//! The `pod-template-hash`: FNV-32a over the pod template (and the collision count), printed in
//! decimal and "safe-encoded" with the alphabet upstream uses for generated names, so ReplicaSet
//! names look like upstream's (`demo-5c8d4b7f9d`).

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// Characters upstream uses in generated names: no vowels, no confusable digits.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bit.
pub fn fnv32a(chunks: &[&[u8]]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for chunk in chunks {
        for byte in *chunk {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

/// Maps every byte of `s` into the safe alphabet (as upstream's `rand.SafeEncodeString`).
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

/// The hash of a Deployment's pod template. The template is serialized canonically (k8s-openapi
/// serializes fields in a fixed order and maps sorted), so equal templates give equal hashes.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let hash = match collision_count {
        Some(count) => fnv32a(&[&bytes, &(count as u32).to_le_bytes()]),
        None => fnv32a(&[&bytes]),
    };
    safe_encode(&hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "demo".to_string())].into()),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "demo".into(),
                    image: Some(image.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn fnv32a_known_vectors() {
        assert_eq!(fnv32a(&[b""]), 0x811c_9dc5);
        assert_eq!(fnv32a(&[b"a"]), 0xe40c_292c);
        assert_eq!(fnv32a(&[b"foobar"]), 0xbf9c_f968);
        assert_eq!(fnv32a(&[b"foo", b"bar"]), fnv32a(&[b"foobar"]));
    }

    #[test]
    fn safe_encode_maps_decimal_digits() {
        // '0' is byte 48, 48 % 27 = 21 -> '4'; '6' is 54 % 27 = 0 -> 'b'.
        assert_eq!(safe_encode("1234567890"), "56789bcdf4");
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        let a = pod_template_hash(&template("demo:1"), None);
        assert_eq!(a, pod_template_hash(&template("demo:1"), None));
        assert_ne!(a, pod_template_hash(&template("demo:2"), None));
        assert_ne!(a, pod_template_hash(&template("demo:1"), Some(1)));
        assert!(!a.is_empty() && a.len() <= 10);
        assert!(a.chars().all(|c| SAFE_ALPHABET.contains(&(c as u8))));
    }
}
