//! Duplicate keys in a JSON document, found with a streaming parse (a parsed
//! `serde_json::Value` has already collapsed them). Paths are printed as
//! sigs.k8s.io/json prints them in its strict errors: `spec.replicas`,
//! `spec.template.spec.containers[0].name`, each path once, in document order.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Paths of the keys that occur more than once in the same JSON object of `body`.
/// A body that is not valid JSON has no duplicates to report (decoding reports it).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    // Deeply nested input is bounded by serde_json's recursion limit (128).
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found.paths
}

#[derive(Default)]
struct Found {
    paths: Vec<String>,
    seen: HashSet<String>,
}

impl Found {
    fn add(&mut self, path: String) {
        if self.seen.insert(path.clone()) {
            self.paths.push(path);
        }
    }
}

/// Visits one JSON value at `path` (empty at the root).
struct Walk<'a> {
    path: String,
    found: &'a mut Found,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let child = Walk {
                path: format!("{}[{index}]", self.path),
                found: &mut *self.found,
            };
            if seq.next_element_seed(child)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !keys.insert(key) {
                self.found.add(path.clone());
            }
            map.next_value_seed(Walk {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_duplicates() {
        assert!(duplicate_fields(br#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}"#).is_empty());
    }

    #[test]
    fn top_level_and_nested_duplicates_as_upstream_prints_them() {
        // The same cases as sigs.k8s.io/json's "duplicate untyped map" test.
        let body = br#"{"a":"","b":"","a":"","b":"","c":{"c":"","c":""},"d":{"e":{"f":1,"f":1}},"e":[{"g":1,"g":1}]}"#;
        assert_eq!(
            duplicate_fields(body),
            vec!["a", "b", "c.c", "d.e.f", "e[0].g"]
        );
    }

    #[test]
    fn a_key_repeated_three_times_is_reported_once() {
        assert_eq!(duplicate_fields(br#"{"a":1,"a":2,"a":3}"#), vec!["a"]);
    }

    #[test]
    fn deployment_paths() {
        let body = br#"{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":1,"replicas":2,
            "template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y","image":"z"}]}}}}"#;
        assert_eq!(
            duplicate_fields(body),
            vec!["spec.replicas", "spec.template.spec.containers[1].image"]
        );
    }

    #[test]
    fn invalid_json_reports_what_was_seen_without_panicking() {
        assert_eq!(duplicate_fields(br#"{"a":1,"a":"#), vec!["a"]);
        assert!(duplicate_fields(b"not json").is_empty());
    }
}
