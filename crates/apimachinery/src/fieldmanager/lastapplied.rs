//! The client-side → server-side apply upgrade path: `kubectl apply --server-side` (manager
//! `kubectl`) may take over fields that client-side apply set, and keeps the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation in step when the object
//! has one.

use serde_json::{Map, Value};

use super::set::Set;
use super::typed::{compare, to_field_set};
use super::types::Type;

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The manager name for which upstream does the upgrade.
pub const KUBECTL: &str = "kubectl";
/// The total size limit of an object's annotations.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields the live object's last-applied configuration sets to the values the live
/// object still has: conflicts on them are allowed, since client-side apply owned them.
pub fn allowed_conflicts(ty: &Type, live: &Value, api_version: &str) -> Option<Set> {
    let text = last_applied(live)?;
    let la: Value = serde_json::from_str(text).ok()?;
    if la.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let set = to_field_set(ty, &la, false).ok()?;
    let cmp = compare(ty, &la, live);
    Some(
        set.difference(&cmp.modified)
            .difference(&cmp.added)
            .difference(&cmp.removed),
    )
}

/// Refreshes the annotation on `obj` from the applied configuration when `obj` has one.
pub fn sync_annotation(obj: &mut Value, config: &Value) {
    if last_applied(obj).is_none() {
        return;
    }
    let text = build(config);
    let Some(annotations) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.insert(LAST_APPLIED.into(), Value::String(text));
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > ANNOTATIONS_MAX_BYTES {
        annotations.remove(LAST_APPLIED);
    }
}

/// The annotation's value: the configuration without the annotation itself, encoded as Go
/// encodes unstructured objects (sorted keys, HTML-safe escapes, trailing newline).
fn build(config: &Value) -> String {
    let mut c = config.clone();
    if let Some(a) = c
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
    }
    let text = sorted(&c).to_string();
    let mut out = String::with_capacity(text.len() + 1);
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let out: Map<String, Value> = keys
                .into_iter()
                .filter_map(|k| m.get(k).map(|x| (k.clone(), sorted(x))))
                .collect();
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
