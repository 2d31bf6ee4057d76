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
    prune_at(obj, schema, true)
}

/// [`prune`] for a value that is a resource root (`resource_root`: its apiVersion,
/// kind and metadata are kept) or not (a default value inside a schema).
pub fn prune_at(obj: &mut Value, schema: &Value, resource_root: bool) -> Vec<String> {
    let mut pruned = Vec::new();
    prune_value(obj, schema, "", resource_root, &mut pruned);
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
                    // An embedded resource's metadata is ObjectMeta (the root's is pruned
                    // by the API server with the rest of the object's metadata).
                    if !root
                        && key == "metadata"
                        && let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut)
                    {
                        prune_object_meta(meta, &join(path, "metadata"), out);
                    }
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

/// ObjectMeta's fields: anything else in an embedded resource's metadata is unknown.
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Drops what ObjectMeta does not have from `meta` (found at `path`), recording the paths.
pub fn prune_object_meta(meta: &mut Map<String, Value>, path: &str, out: &mut Vec<String>) {
    let unknown: Vec<String> = meta
        .keys()
        .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in unknown {
        meta.remove(&k);
        out.push(join(path, &k));
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
                // Nulls the schema does not allow and no default replaces are dropped
                // (upstream's PruneNonNullableNullsWithoutDefaults).
                map.retain(|name, v| {
                    !(v.is_null()
                        && props.get(name).is_some_and(|p| {
                            p.get("nullable").and_then(Value::as_bool) != Some(true)
                                && p.get("default").is_none()
                        }))
                });
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

/// Validates a custom resource (its content below the root's apiVersion/kind/metadata)
/// as upstream's custom resource strategy does, in its order: the OpenAPI schema
/// (kube-openapi's messages), embedded resources' type and object metadata, list
/// sets and maps, then the `x-kubernetes-validations` rules (`old` is the stored object
/// on updates, for transition rules). Rules are not run when an earlier error makes
/// the object unfit for them, as upstream.
pub fn validate(obj: &Value, old: Option<&Value>, schema: &Value) -> Vec<Cause> {
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
    let content = Value::Object(content);
    validate_value(&content, &root_schema, "", &mut causes);
    validate_embedded(&content, &root_schema, "", &mut causes);
    validate_lists(&content, &root_schema, "", &mut causes);
    if super::cel::has_rules(schema) {
        if causes.iter().any(|c| BLOCKING.contains(&c.reason)) {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                field: String::new(),
                message: "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation".into(),
            });
        } else {
            super::cel::validate(obj, old, schema, "", &mut causes);
        }
    }
    causes
}

/// Error kinds after which upstream does not evaluate CEL rules (the values the rules
/// would see are not what the schema promises).
const BLOCKING: &[&str] = &[
    "FieldValueNotSupported",
    "FieldValueRequired",
    "FieldValueTooLong",
    "FieldValueTooMany",
    "FieldValueTypeInvalid",
];

/// Validates a value against a schema node (no rules, no list invariants), naming
/// fields relative to the value (`""` is the value itself). Used for CRD defaults.
pub fn validate_schema_only(v: &Value, schema: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    validate_value(v, schema, "", &mut causes);
    validate_embedded(v, schema, "", &mut causes);
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
        message: format!("Invalid value: {}: {}", shown(value), detail.trim_start()),
    }
}

/// A wrong type (`field.TypeInvalid`).
fn type_invalid(path: &str, value: &Value, detail: String) -> Cause {
    Cause {
        reason: "FieldValueTypeInvalid",
        ..invalid_with(path, value, detail)
    }
}

/// kube-openapi's `<name> in body` (the name is empty at the validated value's root).
fn in_body(path: &str) -> String {
    format!("{path} in body")
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
            causes.push(type_invalid(
                path,
                &Value::String("null".into()),
                format!("{} must be of type {ty}: \"null\"", in_body(path)),
            ));
        }
        return;
    }
    if int_or_string {
        if !(v.is_string() || matches_type(v, "integer")) {
            causes.push(type_invalid(
                path,
                &Value::String(type_name(v).into()),
                format!(
                    "{} must be of type integer-or-string: \"{}\"",
                    in_body(path),
                    type_name(v)
                ),
            ));
            return;
        }
    } else if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !matches_type(v, ty)
    {
        causes.push(type_invalid(
            path,
            &Value::String(type_name(v).into()),
            format!(
                "{} must be of type {ty}: \"{}\"",
                in_body(path),
                type_name(v)
            ),
        ));
        return;
    }
    // kube-openapi's validator order: type, string, format, number, array, enum, object.
    match v {
        Value::String(s) => validate_string(v, s, schema, path, causes),
        Value::Number(n) => validate_number(v, n.as_f64().unwrap_or(0.0), schema, path, causes),
        Value::Array(items) => validate_array(items, schema, path, causes),
        _ => {}
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
    if let Value::Object(map) = v {
        validate_object(map, schema, path, causes);
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
            format!("{} should be at least {min} chars long", in_body(path)),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match compiled(pattern) {
            Some(re) if !re.is_match(s) => causes.push(invalid_with(
                path,
                v,
                format!("{} should match '{pattern}'", in_body(path)),
            )),
            _ => {}
        }
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && !super::formats::valid(format, s)
    {
        causes.push(type_invalid(
            path,
            v,
            format!("{} must be of type {format}: {}", in_body(path), shown(v)),
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

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn validate_number(v: &Value, n: f64, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let p = in_body(path);
    let exclusive_min = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
    let exclusive_max = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
    if let Some(m) = schema.get("multipleOf").and_then(Value::as_f64)
        && m != 0.0
        && (n / m).fract() != 0.0
    {
        causes.push(invalid_with(
            path,
            v,
            format!("{p} should be a multiple of {}", number_text(m)),
        ));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if exclusive_max && n >= max {
            causes.push(invalid_with(
                path,
                v,
                format!("{p} should be less than {}", number_text(max)),
            ));
        } else if n > max {
            causes.push(invalid_with(
                path,
                v,
                format!("{p} should be less than or equal to {}", number_text(max)),
            ));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if exclusive_min && n <= min {
            causes.push(invalid_with(
                path,
                v,
                format!("{p} should be greater than {}", number_text(min)),
            ));
        } else if n < min {
            causes.push(invalid_with(
                path,
                v,
                format!(
                    "{p} should be greater than or equal to {}",
                    number_text(min)
                ),
            ));
        }
    }
}

fn validate_array(items: &[Value], schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    // Items first, then the array's own bounds (kube-openapi's slice validator).
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            validate_value(item, item_schema, &format!("{path}[{i}]"), causes);
        }
    }
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (items.len() as u64) < min
    {
        causes.push(invalid_with(
            path,
            &Value::Array(items.to_vec()),
            format!("{} should have at least {min} items", in_body(path)),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && items.len() as u64 > max
    {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_string(),
            message: format!("Too many: {}: must have at most {max} items", items.len()),
        });
    }
}

/// `x-kubernetes-list-type` set and map invariants (upstream checks them after the
/// schema, as their own pass).
fn validate_lists(v: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    match v {
        Value::Array(items) => {
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
                    validate_lists(item, item_schema, &format!("{path}[{i}]"), causes);
                }
            }
        }
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, value) in map {
                if let Some(child) = props.and_then(|p| p.get(key)).or(additional) {
                    validate_lists(value, child, &join(path, key), causes);
                }
            }
        }
        _ => {}
    }
}

fn validate_object(map: &Map<String, Value>, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let p = in_body(path);
    // Property counts end the object's checks when they fail (kube-openapi).
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && (map.len() as u64) < min
    {
        causes.push(invalid_with(
            path,
            &Value::Number(map.len().into()),
            format!("{p} should have at least {min} properties"),
        ));
        return;
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_string(),
            message: format!("Too many: {}: must have at most {max} items", map.len()),
        });
        return;
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    if let Some(additional) = additional {
        for (key, value) in map {
            if props.is_none_or(|p| !p.contains_key(key)) {
                validate_value(value, additional, &join(path, key), causes);
            }
        }
    }
    if let Some(props) = props {
        for (key, child) in props {
            if let Some(value) = map.get(key) {
                validate_value(value, child, &join(path, key), causes);
            }
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                causes.push(Cause::required(join(path, r)));
            }
        }
    }
}

fn is_embedded(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Embedded resources (`x-kubernetes-embedded-resource`): apiVersion and kind are
/// required and well formed, metadata follows ObjectMeta's rules.
fn validate_embedded(v: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    match v {
        Value::Object(map) => {
            if is_embedded(schema) {
                embedded_resource(map, path, causes);
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, value) in map {
                if is_embedded(schema) && matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
                {
                    continue;
                }
                if let Some(child) = props.and_then(|p| p.get(key)).or(additional) {
                    validate_embedded(value, child, &join(path, key), causes);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate_embedded(item, item_schema, &format!("{path}[{i}]"), causes);
                }
            }
        }
        _ => {}
    }
}

fn embedded_resource(map: &Map<String, Value>, path: &str, causes: &mut Vec<Cause>) {
    for k in ["apiVersion", "kind"] {
        if !map.contains_key(k) {
            causes.push(Cause {
                reason: "FieldValueRequired",
                field: join(path, k),
                message: "Required value: must not be empty".into(),
            });
        }
    }
    if let Some(v) = map.get("apiVersion") {
        let field = join(path, "apiVersion");
        match v.as_str() {
            None => causes.push(invalid_with(&field, v, "must be a string".into())),
            Some("") => causes.push(invalid_with(&field, v, "must not be empty".into())),
            Some(s) if s.matches('/').count() > 1 => causes.push(invalid_with(
                &field,
                v,
                format!("unexpected GroupVersion string: {s}"),
            )),
            Some(_) => {}
        }
    }
    if let Some(v) = map.get("kind") {
        let field = join(path, "kind");
        match v.as_str() {
            None => causes.push(invalid_with(&field, v, "must be a string".into())),
            Some("") => causes.push(invalid_with(&field, v, "must not be empty".into())),
            Some(s) => {
                if let Err(msgs) = crate::validation::dns1035_label(&s.to_lowercase()) {
                    causes.push(invalid_with(
                        &field,
                        v,
                        format!(
                            "may have mixed case, but should otherwise match: {}",
                            msgs.join(",")
                        ),
                    ));
                }
            }
        }
    }
    if let Some(meta) = map.get("metadata") {
        let base = join(path, "metadata");
        let Some(m) = meta.as_object() else {
            causes.push(invalid_with(&base, meta, "must be an object".into()));
            return;
        };
        for k in ["name", "generateName"] {
            let Some(name) = m.get(k).and_then(Value::as_str).filter(|n| !n.is_empty()) else {
                continue;
            };
            let rule = crate::validate::meta::NameRule::Subdomain;
            if let Err(msgs) = crate::validate::meta::check_name(rule, name, k == "generateName") {
                for msg in msgs {
                    causes.push(Cause::invalid(join(&base, k), name, &msg));
                }
            }
        }
        crate::validate::util::labels(
            m.get("labels").and_then(Value::as_object),
            &join(&base, "labels"),
            causes,
        );
        crate::validate::meta::annotations(
            m.get("annotations").and_then(Value::as_object),
            &join(&base, "annotations"),
            causes,
        );
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
        validate(&obj, None, &schema())
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

    fn rules_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "x-kubernetes-validations": [
                        {"rule": "self.minReplicas <= self.replicas", "message": "replicas must be at least minReplicas"},
                        {"rule": "!has(self.mode) || self.mode != 'off' || self.replicas == 0", "messageExpression": "'mode off needs 0 replicas, got ' + string(self.replicas)"},
                        {"rule": "self.name.startsWith('x')", "reason": "FieldValueForbidden", "fieldPath": ".name"},
                        {"rule": "self.replicas < 100", "reason": "FieldValueRequired", "message": "too big"},
                        {"rule": "self.replicas != 42", "reason": "FieldValueDuplicate"},
                        {"rule": "self.replicas / self.minReplicas >= 1"}
                    ],
                    "properties": {
                        "replicas": {"type": "integer"},
                        "minReplicas": {"type": "integer"},
                        "mode": {"type": "string"},
                        "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self.matches('^[a-z]+$')"}]},
                        "immutable": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "Value is immutable"}]},
                        "ratio": {"type": "number", "x-kubernetes-validations": [{"rule": "self == 1.0"}]},
                        "tags": {"type": "array", "items": {"type": "string"},
                                 "x-kubernetes-validations": [{"rule": "self.all(t, size(t) <= 3)", "message": "tags are short"}, {"rule": "self.isSorted()"}]},
                        "labels": {"type": "object", "additionalProperties": {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'bad'"}]}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
                        "count": {"type": "integer", "maximum": 5}
                    }
                }
            }
        })
    }

    fn rule_messages(obj: Value, old: Option<Value>) -> Vec<String> {
        validate(&obj, old.as_ref(), &rules_schema())
            .iter()
            .map(Cause::to_message)
            .collect()
    }

    #[test]
    fn cel_rules_report_upstream_messages() {
        let base = json!({"replicas": 3, "minReplicas": 1, "name": "xab"});
        let with = |patch: Value| {
            let mut spec = base.clone();
            if let (Some(m), Some(p)) = (spec.as_object_mut(), patch.as_object()) {
                for (k, v) in p {
                    m.insert(k.clone(), v.clone());
                }
            }
            json!({"apiVersion": "x.io/v1", "kind": "W", "metadata": {"name": "a"}, "spec": spec})
        };
        let cases: Vec<(&str, Value, Option<Value>, Vec<&str>)> = vec![
            ("valid", with(json!({})), None, vec![]),
            (
                "message",
                with(json!({"minReplicas": 5, "replicas": 5, "name": "xab"})),
                None,
                vec![],
            ),
            (
                "message used",
                with(json!({"minReplicas": 4})),
                None,
                vec![
                    "spec: Invalid value: \"object\": replicas must be at least minReplicas",
                    "spec: Invalid value: \"object\": failed rule: self.replicas / self.minReplicas >= 1",
                ],
            ),
            (
                "messageExpression",
                with(json!({"mode": "off"})),
                None,
                vec!["spec: Invalid value: \"object\": mode off needs 0 replicas, got 3"],
            ),
            (
                "forbidden reason and fieldPath",
                with(json!({"name": "abc"})),
                None,
                vec!["spec.name: Forbidden: failed rule: self.name.startsWith('x')"],
            ),
            (
                "required reason",
                with(json!({"replicas": 150})),
                None,
                vec!["spec: Required value: too big"],
            ),
            (
                "duplicate reason",
                with(json!({"replicas": 42})),
                None,
                vec!["spec: Duplicate value: \"object\""],
            ),
            (
                "runtime error",
                with(json!({"minReplicas": 0, "replicas": 0})),
                None,
                vec![
                    "spec: Invalid value: \"object\": division by zero evaluating rule: self.replicas / self.minReplicas >= 1",
                ],
            ),
            (
                "no such key",
                json!({"spec": {"minReplicas": 1, "name": "xa"}}),
                None,
                vec![
                    "spec: Invalid value: \"object\": no such key: replicas evaluating rule: replicas must be at least minReplicas",
                    "spec: Invalid value: \"object\": no such key: replicas evaluating rule: too big",
                    "spec: Invalid value: \"object\": no such key: replicas evaluating rule: self.replicas != 42",
                    "spec: Invalid value: \"object\": no such key: replicas evaluating rule: self.replicas / self.minReplicas >= 1",
                ],
            ),
            (
                "nested rule without message",
                with(json!({"name": "x1"})),
                None,
                vec!["spec.name: Invalid value: \"string\": failed rule: self.matches('^[a-z]+$')"],
            ),
            (
                "number is a double",
                with(json!({"ratio": 1})),
                None,
                vec![],
            ),
            (
                "list macros",
                with(json!({"tags": ["a", "long"]})),
                None,
                vec!["spec.tags: Invalid value: \"array\": tags are short"],
            ),
            (
                "kubernetes list library",
                with(json!({"tags": ["b", "a"]})),
                None,
                vec!["spec.tags: Invalid value: \"array\": failed rule: self.isSorted()"],
            ),
            (
                "map values",
                with(json!({"labels": {"k": "bad"}})),
                None,
                vec!["spec.labels[k]: Invalid value: \"string\": failed rule: self != 'bad'"],
            ),
            (
                "transition rule skipped on create",
                with(json!({"immutable": "a"})),
                None,
                vec![],
            ),
            (
                "transition rule on update",
                with(json!({"immutable": "b"})),
                Some(with(json!({"immutable": "a"}))),
                vec!["spec.immutable: Invalid value: \"string\": Value is immutable"],
            ),
            (
                "transition rule without old value",
                with(json!({"immutable": "b"})),
                Some(with(json!({}))),
                vec![],
            ),
            (
                "blocking schema error skips rules",
                with(json!({"count": 7, "replicas": "x"})),
                None,
                vec![
                    "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
                    "spec.count: Invalid value: 7: spec.count in body should be less than or equal to 5",
                    ": Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
                ],
            ),
            (
                "embedded resource needs apiVersion and kind",
                with(json!({"template": {"metadata": {"name": "Bad_Name"}}})),
                None,
                vec![
                    "spec.template.apiVersion: Required value: must not be empty",
                    "spec.template.kind: Required value: must not be empty",
                    "spec.template.metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                    ": Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
                ],
            ),
            (
                "embedded resource kind",
                with(json!({"template": {"apiVersion": "a/b/c", "kind": "my_kind"}})),
                None,
                vec![
                    "spec.template.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c",
                    "spec.template.kind: Invalid value: \"my_kind\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                ],
            ),
        ];
        for (name, obj, old, want) in cases {
            assert_eq!(rule_messages(obj, old), want, "case {name}");
        }
    }

    #[test]
    fn schema_errors_in_kube_openapi_order() {
        // Per value: type, string, format, number, array, enum, then object
        // (properties in declaration order, then required).
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["a", "b"],
            "properties": {
                "n": {"type": "integer", "multipleOf": 2, "maximum": 3},
                "s": {"type": "string", "maxLength": 2, "pattern": "^a", "enum": ["a"]},
                "l": {"type": "array", "minItems": 3, "items": {"type": "integer"}}}}}});
        let got: Vec<String> = validate(
            &json!({"spec": {"n": 5, "s": "bcd", "l": ["x"]}}),
            None,
            &schema,
        )
        .iter()
        .map(Cause::to_message)
        .collect();
        assert_eq!(
            got,
            vec![
                "spec.n: Invalid value: 5: spec.n in body should be a multiple of 2",
                "spec.n: Invalid value: 5: spec.n in body should be less than or equal to 3",
                "spec.s: Too long: may not be more than 2 bytes",
                "spec.s: Invalid value: \"bcd\": spec.s in body should match '^a'",
                "spec.s: Unsupported value: \"bcd\": supported values: \"a\"",
                "spec.l[0]: Invalid value: \"string\": spec.l[0] in body must be of type integer: \"string\"",
                "spec.l: Invalid value: [\"x\"]: spec.l in body should have at least 3 items",
                "spec.a: Required value",
                "spec.b: Required value",
            ]
        );
    }

    #[test]
    fn formats_are_validated_with_type_invalid() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "mail": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date-time"},
            "free": {"type": "string", "format": "my-own-format"}}}}});
        let causes = validate(
            &json!({"spec": {"mail": "nope", "when": "2024-01-01T00:00:00Z", "free": "x"}}),
            None,
            &schema,
        );
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].reason, "FieldValueTypeInvalid");
        assert_eq!(
            causes[0].to_message(),
            "spec.mail: Invalid value: \"nope\": spec.mail in body must be of type email: \"nope\""
        );
    }

    #[test]
    fn nulls_without_default_are_dropped_and_defaults_fill_nulls() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "nullable": true},
            "c": {"type": "string", "default": "d"}}}}});
        let mut obj = json!({"spec": {"a": null, "b": null, "c": null}});
        apply_defaults(&mut obj, &schema);
        assert_eq!(obj, json!({"spec": {"b": null, "c": "d"}}));
    }

    #[test]
    fn embedded_metadata_is_pruned_to_object_meta() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                         "properties": {"spec": {"type": "object"}}}}}}});
        let mut obj = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "bogus": 1}, "spec": {}, "extra": 1}}});
        let pruned = prune(&mut obj, &schema);
        assert_eq!(
            pruned,
            vec!["spec.template.extra", "spec.template.metadata.bogus"]
        );
        assert_eq!(obj["spec"]["template"]["metadata"], json!({"name": "p"}));
        assert_eq!(obj["spec"]["template"]["kind"], "Pod");
    }
}
