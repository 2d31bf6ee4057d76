//! Custom resources against their CRD's structural schema (`openAPIV3Schema`), as the
//! apiextensions API server treats them: unknown fields are pruned, defaults are applied,
//! and values are validated with kube-openapi's messages
//! (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type
//! integer: "string"`).

use serde_json::{Map, Value};

use crate::status::Cause;

/// Removes fields the schema does not declare (unless it preserves unknown fields) and
/// returns their paths (`spec.foo`), for `fieldValidation` to report. `apiVersion`,
/// `kind` and `metadata` at the root (and in embedded resources) are always kept;
/// metadata is pruned to ObjectMeta's fields elsewhere.
pub fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut pruned = Vec::new();
    prune_value(obj, schema, "", true, &mut pruned);
    pruned.sort();
    pruned
}

fn preserves_unknown(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn prune_value(value: &mut Value, schema: &Value, path: &str, root: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let embedded = root
                || schema
                    .get("x-kubernetes-embedded-resource")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keep_unknown = preserves_unknown(schema);
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child_path = join(path, &key);
                let child_schema = props
                    .and_then(|p| p.get(&key))
                    .or_else(|| additional.filter(|a| a.is_object()));
                match child_schema {
                    Some(s) => {
                        if let Some(v) = map.get_mut(&key) {
                            prune_value(v, s, &child_path, false, out);
                        }
                    }
                    None if keep_unknown || additional == Some(&Value::Bool(true)) => {}
                    None => {
                        map.remove(&key);
                        out.push(child_path);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item, item_schema, &format!("{path}[{i}]"), false, out);
                }
            }
        }
        _ => {}
    }
}

/// Applies `default`s of absent (or null, where not nullable) properties, recursively.
pub fn apply_defaults(obj: &mut Value, schema: &Value) {
    match obj {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    let Some(default) = prop.get("default") else {
                        continue;
                    };
                    let nullable = prop.get("nullable").and_then(Value::as_bool) == Some(true);
                    match map.get(name) {
                        None => {
                            map.insert(name.clone(), default.clone());
                        }
                        Some(Value::Null) if !nullable => {
                            map.insert(name.clone(), default.clone());
                        }
                        _ => {}
                    }
                }
                for (name, prop) in props {
                    if let Some(v) = map.get_mut(name) {
                        apply_defaults(v, prop);
                    }
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for v in map.values_mut() {
                    apply_defaults(v, additional);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// Validates a custom resource (its content below the root's apiVersion/kind/metadata).
pub fn validate(obj: &Value, schema: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let Some(map) = obj.as_object() else {
        return causes;
    };
    let mut content = map.clone();
    for k in ["apiVersion", "kind", "metadata"] {
        content.remove(k);
    }
    // The root is validated as an object without the type metadata.
    let mut root_schema = schema.clone();
    if let Some(props) = root_schema
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    {
        for k in ["apiVersion", "kind", "metadata"] {
            props.remove(k);
        }
    }
    if let Some(req) = root_schema
        .get_mut("required")
        .and_then(Value::as_array_mut)
    {
        req.retain(|r| !matches!(r.as_str(), Some("apiVersion" | "kind" | "metadata")));
    }
    validate_value(&Value::Object(content), &root_schema, "", &mut causes);
    causes
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn matches_type(v: &Value, ty: &str) -> bool {
    match (ty, v) {
        ("object", Value::Object(_)) => true,
        ("array", Value::Array(_)) => true,
        ("string", Value::String(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        ("number", Value::Number(_)) => true,
        _ => false,
    }
}

/// A value as kube-openapi prints it in messages: strings quoted, others as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn invalid_with(path: &str, value: &Value, detail: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: path.to_string(),
        message: format!("Invalid value: {}: {detail}", shown(value)),
    }
}

fn body_path(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

fn validate_value(v: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    if v.is_null() {
        if nullable {
            return;
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str) {
            causes.push(invalid_with(
                path,
                &Value::String("null".into()),
                format!("{} in body must be of type {ty}: \"null\"", body_path(path)),
            ));
        }
        return;
    }
    if int_or_string {
        if !(v.is_string() || matches_type(v, "integer")) {
            causes.push(invalid_with(
                path,
                &Value::String(type_name(v).into()),
                format!(
                    "{} in body must be of type integer-or-string: \"{}\"",
                    body_path(path),
                    type_name(v)
                ),
            ));
            return;
        }
    } else if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !matches_type(v, ty)
    {
        causes.push(invalid_with(
            path,
            &Value::String(type_name(v).into()),
            format!(
                "{} in body must be of type {ty}: \"{}\"",
                body_path(path),
                type_name(v)
            ),
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(shown).collect();
        causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: path.to_string(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                shown(v),
                list.join(", ")
            ),
        });
    }
    match v {
        Value::String(s) => validate_string(v, s, schema, path, causes),
        Value::Number(n) => validate_number(v, n.as_f64().unwrap_or(0.0), schema, path, causes),
        Value::Array(items) => validate_array(items, schema, path, causes),
        Value::Object(map) => validate_object(map, schema, path, causes),
        _ => {}
    }
}

fn validate_string(v: &Value, s: &str, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && s.len() as u64 > max
    {
        causes.push(Cause {
            reason: "FieldValueTooLong",
            field: path.to_string(),
            message: format!("Too long: may not be more than {max} bytes"),
        });
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        causes.push(invalid_with(
            path,
            v,
            format!(
                "{} in body should be at least {min} chars long",
                body_path(path)
            ),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match compiled(pattern) {
            Some(re) if !re.is_match(s) => causes.push(invalid_with(
                path,
                v,
                format!("{} in body should match '{pattern}'", body_path(path)),
            )),
            _ => {}
        }
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && !format_ok(format, s)
    {
        causes.push(invalid_with(
            path,
            v,
            format!(
                "{} in body must be of type {format}: {}",
                body_path(path),
                shown(v)
            ),
        ));
    }
}

/// A schema pattern, compiled once per process (schemas are validated on every write).
fn compiled(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static CACHE: LazyLock<Mutex<HashMap<String, Option<regex::Regex>>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() > 4096 {
        cache.clear();
    }
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

/// The string formats kube-openapi checks that custom resources commonly use; others
/// pass.
fn format_ok(format: &str, s: &str) -> bool {
    match format {
        "date-time" => s.parse::<k8s_openapi::jiff::Timestamp>().is_ok(),
        "date" => {
            s.len() == 10
                && s.chars().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                })
        }
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "email" => {
            let mut parts = s.splitn(2, '@');
            matches!((parts.next(), parts.next()), (Some(a), Some(b)) if !a.is_empty() && b.contains('.'))
        }
        _ => true,
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn validate_number(v: &Value, n: f64, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let p = body_path(path);
    let exclusive_min = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
    let exclusive_max = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if exclusive_min && n <= min {
            causes.push(invalid_with(
                path,
                v,
                format!("{p} in body should be greater than {}", number_text(min)),
            ));
        } else if n < min {
            causes.push(invalid_with(
                path,
                v,
                format!(
                    "{p} in body should be greater than or equal to {}",
                    number_text(min)
                ),
            ));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if exclusive_max && n >= max {
            causes.push(invalid_with(
                path,
                v,
                format!("{p} in body should be less than {}", number_text(max)),
            ));
        } else if n > max {
            causes.push(invalid_with(
                path,
                v,
                format!(
                    "{p} in body should be less than or equal to {}",
                    number_text(max)
                ),
            ));
        }
    }
    if let Some(m) = schema.get("multipleOf").and_then(Value::as_f64)
        && m != 0.0
        && (n / m).fract() != 0.0
    {
        causes.push(invalid_with(
            path,
            v,
            format!("{p} in body should be a multiple of {}", number_text(m)),
        ));
    }
}

fn validate_array(items: &[Value], schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let p = body_path(path);
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && items.len() as u64 > max
    {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_string(),
            message: format!("Too many: {}: must have at most {max} items", items.len()),
        });
    }
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (items.len() as u64) < min
    {
        causes.push(invalid_with(
            path,
            &Value::Array(items.to_vec()),
            format!("{p} in body should have at least {min} items"),
        ));
    }
    let list_type = schema.get("x-kubernetes-list-type").and_then(Value::as_str);
    let unique = schema.get("uniqueItems").and_then(Value::as_bool) == Some(true);
    if list_type == Some("set") || unique {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                causes.push(Cause {
                    reason: "FieldValueDuplicate",
                    field: format!("{path}[{i}]"),
                    message: format!("Duplicate value: {}", shown(item)),
                });
            }
        }
    }
    if list_type == Some("map")
        && let Some(keys) = schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
    {
        let key_of = |item: &Value| -> Vec<Value> {
            keys.iter()
                .map(|k| {
                    k.as_str()
                        .and_then(|k| item.get(k))
                        .cloned()
                        .unwrap_or(Value::Null)
                })
                .collect()
        };
        for (i, item) in items.iter().enumerate() {
            let key = key_of(item);
            if items[..i].iter().any(|other| key_of(other) == key) {
                let shown_key: Map<String, Value> = keys
                    .iter()
                    .filter_map(Value::as_str)
                    .zip(key.iter())
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                causes.push(Cause {
                    reason: "FieldValueDuplicate",
                    field: format!("{path}[{i}]"),
                    message: format!("Duplicate value: {}", Value::Object(shown_key)),
                });
            }
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            validate_value(item, item_schema, &format!("{path}[{i}]"), causes);
        }
    }
}

fn validate_object(map: &Map<String, Value>, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                causes.push(Cause::required(join(path, r)));
            }
        }
    }
    let p = body_path(path);
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_string(),
            message: format!("Too many: {}: must have at most {max} items", map.len()),
        });
    }
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && (map.len() as u64) < min
    {
        causes.push(invalid_with(
            path,
            &Value::Number(map.len().into()),
            format!("{p} in body should have at least {min} properties"),
        ));
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (key, value) in map {
        let child = props.and_then(|p| p.get(key)).or(additional);
        if let Some(child) = child {
            validate_value(value, child, &join(path, key), causes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "pattern": "^[a-z:.0-9/-]+$"},
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                        "color": {"type": "string", "enum": ["red", "green"]},
                        "name": {"type": "string", "maxLength": 5, "minLength": 2},
                        "port": {"x-kubernetes-int-or-string": true},
                        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "maxItems": 3},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "nested": {"type": "object", "properties": {"on": {"type": "boolean", "default": false}}, "default": {}}
                    }
                },
                "status": {"type": "object", "properties": {"ready": {"type": "integer"}}}
            }
        })
    }

    fn messages(obj: Value) -> Vec<String> {
        validate(&obj, &schema())
            .iter()
            .map(Cause::to_message)
            .collect()
    }

    #[test]
    fn prunes_unknown_fields_and_reports_them() {
        let mut obj = json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a"},
            "spec": {"image": "x", "bogus": 1, "free": {"any": {"thing": 1}},
                     "labels": {"a": "b"}}, "extra": true});
        let pruned = prune(&mut obj, &schema());
        assert_eq!(pruned, vec!["extra".to_string(), "spec.bogus".to_string()]);
        assert_eq!(obj["spec"]["free"]["any"]["thing"], 1);
        assert_eq!(obj["spec"]["labels"]["a"], "b");
        assert_eq!(obj["metadata"]["name"], "a");
    }

    #[test]
    fn defaults_absent_fields_recursively() {
        let mut obj = json!({"spec": {"image": "x"}});
        apply_defaults(&mut obj, &schema());
        assert_eq!(obj["spec"]["replicas"], 1);
        assert_eq!(obj["spec"]["nested"]["on"], false);
        let mut set = json!({"spec": {"image": "x", "replicas": 4}});
        apply_defaults(&mut set, &schema());
        assert_eq!(set["spec"]["replicas"], 4);
    }

    #[test]
    fn upstream_messages_for_each_rule() {
        assert_eq!(
            messages(json!({"spec": {"image": "x", "replicas": "three"}})),
            vec![
                "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
            ]
        );
        assert_eq!(
            messages(json!({"spec": {}})),
            vec!["spec.image: Required value"]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "replicas": 0}})),
            vec![
                "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "replicas": 11}})),
            vec![
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "color": "blue"}})),
            vec!["spec.color: Unsupported value: \"blue\": supported values: \"red\", \"green\""]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "X"}})),
            vec![
                "spec.image: Invalid value: \"X\": spec.image in body should match '^[a-z:.0-9/-]+$'"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "name": "toolong"}})),
            vec!["spec.name: Too long: may not be more than 5 bytes"]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "name": "a"}})),
            vec![
                "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "tags": ["a", "a"]}})),
            vec!["spec.tags[1]: Duplicate value: \"a\""]
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "tags": ["a", "b", "c", "d"]}})),
            vec!["spec.tags: Too many: 4: must have at most 3 items"]
        );
        assert!(messages(json!({"spec": {"image": "x", "port": 80}})).is_empty());
        assert!(messages(json!({"spec": {"image": "x", "port": "http"}})).is_empty());
        assert_eq!(
            messages(json!({"spec": {"image": "x", "port": true}})).len(),
            1
        );
        assert_eq!(
            messages(json!({"spec": {"image": "x", "labels": {"a": 1}}})),
            vec![
                "spec.labels.a: Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\""
            ]
        );
    }
}
