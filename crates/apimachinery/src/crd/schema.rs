//! A CRD version's `openAPIV3Schema` checked as upstream checks it when the definition
//! is written: structural-schema invariants, defaults (pruned and valid, rules
//! included), the OpenAPI schema restrictions, and compilation of its
//! `x-kubernetes-validations` rules — with upstream's paths and messages.

use serde_json::{Value, json};

use super::cel;
use super::structural;
use crate::status::Cause;

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

fn child(path: &str, c: &str) -> String {
    format!("{path}.{c}")
}

fn key(path: &str, section: &str, k: &str) -> String {
    format!("{path}.{section}[{k}]")
}

fn str_at<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool) == Some(true)
}

fn forbidden(field: String, detail: &str) -> Cause {
    Cause::forbidden(field, detail)
}

fn required_detail(field: String, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired",
        field,
        message: format!("Required value: {detail}"),
    }
}

fn invalid_raw(field: String, repr: &str, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field,
        message: format!("Invalid value: {repr}: {detail}"),
    }
}

fn sorted_props(schema: &Value) -> Vec<(&String, &Value)> {
    let mut props: Vec<(&String, &Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    props.sort_by(|a, b| a.0.cmp(b.0));
    props
}

/// Checks one version's `openAPIV3Schema` at `path`
/// (`spec.versions[0].schema.openAPIV3Schema`), in upstream's order: nullable root,
/// structural invariants (sorted), defaults, then the OpenAPI schema checks with the
/// rule compilation errors last.
pub fn validate_schema(schema: &Value, path: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    if flag(schema, "nullable") {
        causes.push(forbidden(
            child(path, "nullable"),
            "nullable cannot be true at the root",
        ));
    }
    let mut structural_errs = Vec::new();
    invariants(schema, Level::Root, path, &mut structural_errs);
    structural_errs.sort_by_key(Cause::to_message);
    let mut cel_ok = structural_errs.is_empty();
    causes.extend(structural_errs);
    if cel_ok {
        let before = causes.len();
        defaults(schema, path, true, false, &mut causes);
        cel_ok = causes.len() == before;
    }
    let ctx = SchemaContext {
        root: true,
        ..Default::default()
    };
    let (schema_errs, cel_errs) = openapi(schema, path, &ctx, cel_ok);
    causes.extend(schema_errs);
    causes.extend(cel_errs);
    causes
}

fn is_int_or_string_any_of(any_of: Option<&Value>) -> bool {
    any_of.and_then(Value::as_array).is_some_and(|a| {
        a.len() == 2 && a[0] == json!({"type": "integer"}) && a[1] == json!({"type": "string"})
    })
}

/// Upstream's `validateStructuralInvariants`.
fn invariants(s: &Value, lvl: Level, path: &str, errs: &mut Vec<Cause>) {
    let ty = str_at(s, "type");
    if ty == "array" && s.get("items").is_none() {
        errs.push(required_detail(child(path, "items"), "must be specified"));
    }
    if let Some(items) = s.get("items").filter(|i| i.is_object()) {
        invariants(items, Level::Item, &child(path, "items"), errs);
    }
    for (k, v) in sorted_props(s) {
        invariants(v, Level::Field, &key(path, "properties", k), errs);
    }
    if let Some(additional) = s.get("additionalProperties") {
        if lvl == Level::Root {
            errs.push(forbidden(
                child(path, "additionalProperties"),
                "must not be used at the root",
            ));
        }
        if additional.is_object() {
            invariants(
                additional,
                Level::Field,
                &child(path, "additionalProperties"),
                errs,
            );
        }
    }
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    if int_or_string && preserve {
        errs.push(invalid_raw(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string && embedded {
        errs.push(invalid_raw(
            child(path, "x-kubernetes-embedded-resource"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    value_validation(
        s,
        is_int_or_string_any_of(s.get("anyOf")),
        s.get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .is_some_and(|first| is_int_or_string_any_of(first.get("anyOf"))),
        path,
        errs,
    );
    let check_meta = lvl == Level::Root || embedded;
    if embedded && ty != "object" {
        if ty.is_empty() {
            errs.push(required_detail(
                child(path, "type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(Cause::invalid(
                child(path, "type"),
                ty,
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !int_or_string && !preserve {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(required_detail(child(path, "type"), detail));
    }
    if embedded && s.get("additionalProperties").is_some() {
        errs.push(forbidden(
            child(path, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(Cause::invalid(
            child(path, "type"),
            ty,
            "must be object at the root",
        ));
    }
    let props = s.get("properties").and_then(Value::as_object);
    if check_meta {
        for (field, want) in [
            ("kind", "string"),
            ("apiVersion", "string"),
            ("metadata", "object"),
        ] {
            if let Some(p) = props.and_then(|p| p.get(field)) {
                let got = str_at(p, "type");
                if got != want {
                    errs.push(Cause::invalid(
                        child(&key(path, "properties", field), "type"),
                        got,
                        &format!("must be {want}"),
                    ));
                }
            }
        }
    }
    if lvl == Level::Root
        && let Some(meta) = props
            .and_then(|p| p.get("metadata"))
            .and_then(Value::as_object)
    {
        // Only name and generateName may be restricted; anything else is implied.
        let meta_props = meta.get("properties").and_then(Value::as_object);
        let names_only = meta_props.is_some_and(|p| {
            !p.is_empty() && p.len() <= 2 && p.keys().all(|k| k == "name" || k == "generateName")
        });
        let other = meta.keys().any(|k| match k.as_str() {
            "type" | "default" => false,
            "properties" => !names_only,
            _ => true,
        });
        if other {
            errs.push(forbidden(
                key(path, "properties", "metadata"),
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if embedded && !preserve && props.is_none_or(|p| p.is_empty()) {
        errs.push(required_detail(
            child(path, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// anyOf/allOf/oneOf/not may only restrict values, not declare structure.
fn value_validation(
    s: &Value,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &str,
    errs: &mut Vec<Cause>,
) {
    if !skip_any_of {
        for (i, n) in s
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            nested(n, false, &format!("{path}.anyOf[{i}]"), errs);
        }
    }
    for (i, n) in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        nested(
            n,
            skip_first_all_of_any_of && i == 0,
            &format!("{path}.allOf[{i}]"),
            errs,
        );
    }
    for (i, n) in s
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        nested(n, false, &format!("{path}.oneOf[{i}]"), errs);
    }
    if let Some(not) = s.get("not") {
        nested(not, false, &child(path, "not"), errs);
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
        && let Err(e) = regex::Regex::new(pattern)
    {
        errs.push(Cause::invalid(
            child(path, "pattern"),
            pattern,
            &format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
}

fn nested(n: &Value, skip_any_of: bool, path: &str, errs: &mut Vec<Cause>) {
    value_validation(n, skip_any_of, false, path, errs);
    if let Some(items) = n.get("items") {
        nested(items, false, &child(path, "items"), errs);
    }
    for (k, v) in sorted_props(n) {
        nested(v, false, &key(path, "properties", k), errs);
    }
    let checks: [(&str, bool, &str); 11] = [
        (
            "type",
            !str_at(n, "type").is_empty(),
            "must be empty to be structural",
        ),
        (
            "additionalProperties",
            n.get("additionalProperties").is_some(),
            "must be undefined to be structural",
        ),
        (
            "default",
            n.get("default").is_some(),
            "must be undefined to be structural",
        ),
        (
            "title",
            !str_at(n, "title").is_empty(),
            "must be empty to be structural",
        ),
        (
            "description",
            !str_at(n, "description").is_empty(),
            "must be empty to be structural",
        ),
        (
            "nullable",
            flag(n, "nullable"),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-preserve-unknown-fields",
            flag(n, "x-kubernetes-preserve-unknown-fields"),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-embedded-resource",
            flag(n, "x-kubernetes-embedded-resource"),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-int-or-string",
            flag(n, "x-kubernetes-int-or-string"),
            "must be false to be structural",
        ),
        (
            "x-kubernetes-list-map-keys",
            n.get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .is_some_and(|k| !k.is_empty()),
            "must be empty to be structural",
        ),
        (
            "x-kubernetes-list-type",
            n.get("x-kubernetes-list-type").is_some(),
            "must be undefined to be structural",
        ),
    ];
    for (field, bad, detail) in checks {
        if bad {
            errs.push(forbidden(child(path, field), detail));
        }
    }
    if n.get("properties")
        .and_then(|p| p.get("metadata"))
        .is_some()
    {
        errs.push(forbidden(
            key(path, "properties", "metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// Upstream's `ValidateDefaults`: every default (outside additionalProperties) must be
/// pruned and valid against its schema, rules included.
fn defaults(s: &Value, path: &str, resource_root: bool, inside_meta: bool, errs: &mut Vec<Cause>) {
    let embedded = resource_root || flag(s, "x-kubernetes-embedded-resource");
    let inside_meta = inside_meta && !flag(s, "x-kubernetes-embedded-resource");
    if let Some(default) = s.get("default")
        && !inside_meta
    {
        let default_path = child(path, "default");
        let mut pruned = default.clone();
        if !structural::prune_at(&mut pruned, s, embedded).is_empty() {
            errs.push(invalid_raw(
                default_path.clone(),
                &go_value(default),
                "must not have unknown fields",
            ));
        }
        let schema_errs = structural::validate_schema_only(default, s);
        let ok = schema_errs.is_empty();
        for mut c in schema_errs {
            c.field = join_field(&default_path, &c.field);
            errs.push(c);
        }
        if ok {
            cel::validate(default, Some(default), s, &default_path, errs);
        }
    }
    if let Some(items) = s.get("items").filter(|i| i.is_object()) {
        defaults(items, &child(path, "items"), false, inside_meta, errs);
    }
    for (k, v) in sorted_props(s) {
        let meta = embedded && matches!(k.as_str(), "metadata" | "apiVersion" | "kind");
        defaults(
            v,
            &key(path, "properties", k),
            false,
            inside_meta || meta,
            errs,
        );
    }
}

fn join_field(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_string()
    } else if rel.starts_with('[') {
        format!("{base}{rel}")
    } else {
        format!("{base}.{rel}")
    }
}

/// A JSON value shown as a Go value in messages (strings quoted, others as JSON).
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

#[derive(Clone, Default)]
struct SchemaContext {
    root: bool,
    inside_meta: bool,
    forbid_defaults: Option<String>,
    uncorrelatable: Option<String>,
}

const OPENAPI_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];
const RULE_REASONS: &[&str] = &[
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

/// Upstream's `ValidateCustomResourceDefinitionOpenAPISchema`: schema errors and rule
/// (CEL) errors, kept apart so the rule errors can follow all schema errors.
fn openapi(s: &Value, path: &str, ctx: &SchemaContext, cel_ok: bool) -> (Vec<Cause>, Vec<Cause>) {
    let mut errs = Vec::new();
    let mut cel_errs = Vec::new();
    let ty = str_at(s, "type");
    if !ty.is_empty() && !OPENAPI_TYPES.contains(&ty) {
        errs.push(Cause::not_supported(child(path, "type"), ty, OPENAPI_TYPES));
    }
    if s.get("default").is_some()
        && let Some(reason) = &ctx.forbid_defaults
    {
        errs.push(forbidden(
            child(path, "default"),
            &format!("must not be set {reason}"),
        ));
    }
    for (field, detail) in [
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ] {
        if s.get(field).is_some() {
            errs.push(forbidden(child(path, field), detail));
        }
    }
    if ty == "null" {
        errs.push(forbidden(
            child(path, "type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if s.get("items").is_some_and(Value::is_array) {
        errs.push(forbidden(
            child(path, "items"),
            "items must be a schema object and not an array",
        ));
    }
    if ctx.inside_meta && flag(s, "x-kubernetes-embedded-resource") {
        errs.push(forbidden(
            child(path, "x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
    if flag(s, "uniqueItems") {
        errs.push(forbidden(
            child(path, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let props = sorted_props(s);
    let sub = |c: &SchemaContext| -> SchemaContext {
        SchemaContext {
            root: false,
            ..c.clone()
        }
    };
    let mut add = |(e, c): (Vec<Cause>, Vec<Cause>), errs: &mut Vec<Cause>| {
        errs.extend(e);
        cel_errs.extend(c);
    };
    if let Some(additional) = s.get("additionalProperties") {
        if !props.is_empty() && (additional == &Value::Bool(false) || additional.is_object()) {
            errs.push(forbidden(
                child(path, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if additional.is_object() {
            let mut c = sub(ctx);
            if ctx.inside_meta {
                c.forbid_defaults =
                    Some("inside additionalProperties applying to object metadata".into());
            }
            add(
                openapi(additional, &child(path, "additionalProperties"), &c, cel_ok),
                &mut errs,
            );
        }
    }
    let map_type = s.get("x-kubernetes-map-type").and_then(Value::as_str);
    let correlatable_map = matches!(map_type, None | Some("granular") | Some("atomic"));
    for (k, v) in &props {
        let mut c = sub(ctx);
        if !correlatable_map && c.uncorrelatable.is_none() {
            c.uncorrelatable = Some(path.to_string());
        }
        if (ctx.root || flag(s, "x-kubernetes-embedded-resource"))
            && matches!(k.as_str(), "metadata" | "apiVersion" | "kind")
        {
            c.inside_meta = true;
            if ctx.root {
                c.forbid_defaults = Some(format!("in top-level {k}"));
            }
        }
        add(
            openapi(v, &key(path, "properties", k), &c, cel_ok),
            &mut errs,
        );
    }
    if let Some(not) = s.get("not") {
        add(
            openapi(not, &child(path, "not"), &sub(ctx), false),
            &mut errs,
        );
    }
    for section in ["allOf", "oneOf", "anyOf"] {
        for (i, n) in s
            .get(section)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            add(
                openapi(n, &format!("{path}.{section}[{i}]"), &sub(ctx), false),
                &mut errs,
            );
        }
    }
    let list_type = s.get("x-kubernetes-list-type").and_then(Value::as_str);
    if let Some(items) = s.get("items").filter(|i| i.is_object()) {
        let mut c = sub(ctx);
        if list_type != Some("map") && c.uncorrelatable.is_none() {
            c.uncorrelatable = Some(path.to_string());
        }
        add(openapi(items, &child(path, "items"), &c, cel_ok), &mut errs);
    }
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(invalid_raw(
            child(path, "x-kubernetes-preserve-unknown-fields"),
            "false",
            "must be true or undefined",
        ));
    }
    if let Some(mt) = map_type {
        if ty != "object" {
            let detail = "must be object if x-kubernetes-map-type is specified";
            errs.push(if ty.is_empty() {
                required_detail(child(path, "type"), detail)
            } else {
                Cause::invalid(child(path, "type"), ty, detail)
            });
        }
        if mt != "atomic" && mt != "granular" {
            errs.push(Cause::not_supported(
                child(path, "x-kubernetes-map-type"),
                mt,
                &["atomic", "granular"],
            ));
        }
    }
    let items = s.get("items").filter(|i| i.is_object());
    if let Some(lt) = list_type {
        if ty != "array" {
            let detail = "must be array if x-kubernetes-list-type is specified";
            errs.push(if ty.is_empty() {
                required_detail(child(path, "type"), detail)
            } else {
                Cause::invalid(child(path, "type"), ty, detail)
            });
        } else if lt == "set"
            && let Some(is) = items
        {
            match str_at(is, "type") {
                "array" => {
                    if let Some(ilt) = is.get("x-kubernetes-list-type").and_then(Value::as_str)
                        && ilt != "atomic"
                    {
                        errs.push(Cause::invalid(
                            child(path, "items.x-kubernetes-list-type"),
                            ilt,
                            "must be atomic as item of a list with x-kubernetes-list-type=set",
                        ));
                    }
                }
                "object"
                    if is.get("x-kubernetes-map-type").and_then(Value::as_str)
                        != Some("atomic") =>
                {
                    // Upstream shows the items' (unset) list type as the value.
                    errs.push(invalid_raw(
                        child(path, "items.x-kubernetes-map-type"),
                        "\"null\"",
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
                _ => {}
            }
        }
        if !matches!(lt, "atomic" | "set" | "map") {
            errs.push(Cause::not_supported(
                child(path, "x-kubernetes-list-type"),
                lt,
                &["atomic", "set", "map"],
            ));
        }
    }
    let map_keys: Vec<&str> = s
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let keys_repr = format!(
        "[]string{{{}}}",
        map_keys
            .iter()
            .map(|k| serde_json::to_string(k).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !map_keys.is_empty() {
        match list_type {
            None => errs.push(required_detail(
                child(path, "x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some(lt) if lt != "map" => errs.push(Cause::invalid(
                child(path, "x-kubernetes-list-type"),
                lt,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            _ => {}
        }
    }
    if list_type == Some("map") {
        if map_keys.is_empty() {
            errs.push(required_detail(
                child(path, "x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        match items {
            None => errs.push(required_detail(
                child(path, "items"),
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(is) if str_at(is, "type") != "object" => errs.push(Cause::invalid(
                child(path, "items.type"),
                str_at(is, "type"),
                "must be object if parent array's x-kubernetes-list-type is map",
            )),
            Some(is) => {
                let item_props = is.get("properties").and_then(Value::as_object);
                for (i, k) in map_keys.iter().enumerate() {
                    match item_props.and_then(|p| p.get(*k)) {
                        Some(p) if matches!(str_at(p, "type"), "array" | "object") => {
                            errs.push(Cause::invalid(
                                format!("{path}.items.properties[{k}].type"),
                                "object",
                                "must be a scalar type if parent array's x-kubernetes-list-type is map",
                            ));
                        }
                        Some(_) => {}
                        None => errs.push(invalid_raw(
                            child(path, "x-kubernetes-list-map-keys"),
                            &keys_repr,
                            "entries must all be names of item properties",
                        )),
                    }
                    if map_keys[..i].contains(k) {
                        errs.push(invalid_raw(
                            child(path, "x-kubernetes-list-map-keys"),
                            &keys_repr,
                            "must not contain duplicate entries",
                        ));
                    }
                }
            }
        }
    }
    if let (Some(lt @ ("set" | "map")), Some(is)) = (list_type, items) {
        if flag(is, "nullable") {
            errs.push(forbidden(
                child(path, "items.nullable"),
                &format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
            ));
        }
        if lt == "map" {
            let required: Vec<&str> = is
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for k in &map_keys {
                let Some(p) = is.get("properties").and_then(|p| p.get(*k)) else {
                    continue;
                };
                if !required.contains(k) && p.get("default").is_none() {
                    errs.push(required_detail(
                        format!("{path}.items.properties[{k}].default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                    ));
                }
                if flag(p, "nullable") {
                    errs.push(forbidden(
                        format!("{path}.items.properties[{k}].nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    ));
                }
            }
        }
    }
    let rules = cel::Rule::of(s);
    for (i, rule) in rules.iter().enumerate() {
        let rp = format!("{path}.x-kubernetes-validations[{i}]");
        let trimmed_msg = rule.message.trim();
        let newline = |t: &str| t.contains(['\n', '\r']);
        if rule.rule.trim().is_empty() {
            errs.push(required_detail(child(&rp, "rule"), "rule is not specified"));
        } else if !rule.message.is_empty() && trimmed_msg.is_empty() {
            errs.push(Cause::invalid(
                child(&rp, "message"),
                &rule.message,
                "message must be non-empty if specified",
            ));
        } else if rule.message.len() > 2048 {
            let head: String = rule.message.chars().take(10).collect();
            errs.push(Cause::invalid(
                child(&rp, "message"),
                &format!("{head}..."),
                "message must have a maximum length of 2048 characters",
            ));
        } else if newline(trimmed_msg) {
            errs.push(Cause::invalid(
                child(&rp, "message"),
                &rule.message,
                "message must not contain line breaks",
            ));
        } else if newline(rule.rule.trim()) && trimmed_msg.is_empty() {
            errs.push(required_detail(
                child(&rp, "message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if !rule.message_expression.is_empty() && rule.message_expression.trim().is_empty() {
            errs.push(required_detail(
                child(&rp, "messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = &rule.reason
            && !RULE_REASONS.contains(&reason.as_str())
        {
            errs.push(Cause::not_supported(
                child(&rp, "reason"),
                reason,
                RULE_REASONS,
            ));
        }
        if !rule.field_path.is_empty() && rule.field_path.trim().is_empty() {
            errs.push(Cause::invalid(
                child(&rp, "fieldPath"),
                &rule.field_path,
                "fieldPath must be non-empty if specified",
            ));
        }
        if newline(&rule.field_path) {
            errs.push(Cause::invalid(
                child(&rp, "fieldPath"),
                &rule.field_path,
                "fieldPath must not contain line breaks",
            ));
        }
        if !rule.field_path.trim().is_empty()
            && cel::normalize_field_path(&rule.field_path, s).is_none()
        {
            let detail = if rule.field_path.starts_with(['.', '[']) {
                "does not refer to a valid field".to_string()
            } else {
                let token: String = rule
                    .field_path
                    .chars()
                    .take_while(|c| !matches!(c, '.' | '['))
                    .collect();
                format!("expected [ or . but got: {token}")
            };
            errs.push(Cause::invalid(
                child(&rp, "fieldPath"),
                &rule.field_path,
                &format!("fieldPath must be a valid path: {detail}"),
            ));
        }
    }
    // Rules compile only when the schema here and below is sound (upstream: errors
    // about a broken schema are more useful than errors about rules typed from it).
    if errs.is_empty() && cel_ok {
        for (i, rule) in rules.iter().enumerate() {
            if rule.rule.trim().is_empty() {
                continue;
            }
            let rp = format!("{path}.x-kubernetes-validations[{i}]");
            match cel::check(&rule.rule, s) {
                Err(detail) => {
                    cel_errs.push(invalid_raw(child(&rp, "rule"), &rule.go_repr(), &detail))
                }
                Ok(compiled) => {
                    if compiled.uses_old_self
                        && let Some(within) = &ctx.uncorrelatable
                    {
                        cel_errs.push(Cause::invalid(
                            child(&rp, "rule"),
                            &rule.rule,
                            &format!(
                                "oldSelf cannot be used on the uncorrelatable portion of the schema within {within}"
                            ),
                        ));
                    }
                }
            }
            if !rule.message_expression.trim().is_empty()
                && let Err(detail) = cel::check_message_expression(&rule.message_expression, s)
            {
                cel_errs.push(invalid_raw(
                    child(&rp, "messageExpression"),
                    &rule.go_repr(),
                    &detail,
                ));
            }
        }
    }
    (errs, cel_errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_messages(schema: Value) -> Vec<String> {
        validate_schema(&schema, "spec.versions[0].schema.openAPIV3Schema")
            .iter()
            .map(Cause::to_message)
            .collect()
    }

    fn with_spec(spec: Value) -> Value {
        json!({"type": "object", "properties": {"spec": spec}})
    }

    #[test]
    fn schema_checks_use_upstream_messages() {
        let p = "spec.versions[0].schema.openAPIV3Schema";
        let cases: Vec<(&str, Value, Vec<String>)> = vec![
            (
                "valid",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.a > 0"}],
                "properties": {"a": {"type": "integer", "default": 1}}}),
                ),
                vec![],
            ),
            (
                "missing type",
                with_spec(json!({"properties": {"a": {"type": "string"}}})),
                vec![format!(
                    "{p}.properties[spec].type: Required value: must not be empty for specified object fields"
                )],
            ),
            (
                "missing item type",
                with_spec(json!({"type": "array", "items": {}})),
                vec![format!(
                    "{p}.properties[spec].items.type: Required value: must not be empty for specified array items"
                )],
            ),
            (
                "array without items",
                with_spec(json!({"type": "array"})),
                vec![format!(
                    "{p}.properties[spec].items: Required value: must be specified"
                )],
            ),
            (
                "root type",
                json!({"type": "string"}),
                vec![format!(
                    "{p}.type: Invalid value: \"string\": must be object at the root"
                )],
            ),
            (
                "nullable root",
                json!({"type": "object", "nullable": true}),
                vec![format!(
                    "{p}.nullable: Forbidden: nullable cannot be true at the root"
                )],
            ),
            (
                "additionalProperties with properties",
                with_spec(json!({"type": "object",
                "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}})),
                vec![format!(
                    "{p}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
                )],
            ),
            (
                "uniqueItems",
                with_spec(
                    json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
                ),
                vec![format!(
                    "{p}.properties[spec].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
                )],
            ),
            (
                "ref",
                with_spec(json!({"type": "object", "$ref": "#/definitions/x"})),
                vec![format!(
                    "{p}.properties[spec].$ref: Forbidden: $ref is not supported"
                )],
            ),
            (
                "unsupported type",
                with_spec(json!({"type": "thing"})),
                vec![format!(
                    "{p}.properties[spec].type: Unsupported value: \"thing\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\""
                )],
            ),
            (
                "list map keys",
                with_spec(json!({"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}}}})),
                vec![format!(
                    "{p}.properties[spec].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                )],
            ),
            (
                "list map keys need map type",
                with_spec(
                    json!({"type": "array", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"
                )],
            ),
            (
                "nested structure",
                with_spec(json!({"type": "object", "anyOf": [{"type": "object"}]})),
                vec![format!(
                    "{p}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"
                )],
            ),
            (
                "int-or-string anyOf is structural",
                with_spec(json!({"x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "string"}]})),
                vec![],
            ),
            (
                "embedded without type",
                with_spec(json!({"x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true})),
                vec![format!(
                    "{p}.properties[spec].type: Required value: must be object if x-kubernetes-embedded-resource is true"
                )],
            ),
            (
                "default of wrong type",
                with_spec(json!({"type": "object",
                "properties": {"replicas": {"type": "integer", "default": "two"}}})),
                vec![format!(
                    "{p}.properties[spec].properties[replicas].default: Invalid value: \"string\": in body must be of type integer: \"string\""
                )],
            ),
            (
                "default with unknown fields",
                with_spec(json!({"type": "object", "default": {"a": 1, "b": 2},
                "properties": {"a": {"type": "integer"}}})),
                vec![format!(
                    "{p}.properties[spec].default: Invalid value: {{\"a\":1,\"b\":2}}: must not have unknown fields"
                )],
            ),
            (
                "default failing a rule",
                with_spec(
                    json!({"type": "object", "properties": {"n": {"type": "integer",
                "default": 0, "x-kubernetes-validations": [{"rule": "self >= 1"}]}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].properties[n].default: Invalid value: \"integer\": failed rule: self >= 1"
                )],
            ),
            (
                "default in metadata",
                json!({"type": "object", "properties": {"metadata": {"type": "object", "default": {}}}}),
                vec![format!(
                    "{p}.properties[metadata].default: Forbidden: must not be set in top-level metadata"
                )],
            ),
            (
                "rule syntax error",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.a >"}],
                "properties": {"a": {"type": "integer"}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:\"self.a >\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}}: compilation failed: ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>' expecting {{'[', '{{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}}\n | self.a >\n | ........^"
                )],
            ),
            (
                "undeclared function",
                with_spec(
                    json!({"type": "string", "x-kubernetes-validations": [{"rule": "ip(self).family() == 6"}]}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:\"ip(self).family() == 6\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}}: compilation failed: ERROR: <input>:1:3: undeclared reference to 'ip' (in container '')\n | ip(self).family() == 6\n | ..^\nERROR: <input>:1:16: undeclared reference to 'family' (in container '')\n | ip(self).family() == 6\n | ...............^"
                )],
            ),
            (
                "undefined field",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.b == 1", "message": "m"}],
                "properties": {"a": {"type": "integer"}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:\"self.b == 1\", Message:\"m\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}}: compilation failed: ERROR: <input>:1:5: undefined field 'b'\n | self.b == 1\n | ....^"
                )],
            ),
            (
                "not a bool",
                with_spec(
                    json!({"type": "integer", "x-kubernetes-validations": [{"rule": "self + 1"}]}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:\"self + 1\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}}: cel expression must evaluate to a bool"
                )],
            ),
            (
                "empty rule",
                with_spec(json!({"type": "object", "x-kubernetes-validations": [{"rule": " "}]})),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified"
                )],
            ),
            (
                "bad reason",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "true", "reason": "Nope"}]}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].reason: Unsupported value: \"Nope\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\""
                )],
            ),
            (
                "bad fieldPath",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".nope"}],
                "properties": {"a": {"type": "string"}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].x-kubernetes-validations[0].fieldPath: Invalid value: \".nope\": fieldPath must be a valid path: does not refer to a valid field"
                )],
            ),
            (
                "oldSelf in a list item",
                with_spec(json!({"type": "array", "items": {"type": "string",
                "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}})),
                vec![format!(
                    "{p}.properties[spec].items.x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion of the schema within {p}.properties[spec]"
                )],
            ),
            (
                "rules skipped while the schema is broken",
                with_spec(
                    json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.a >"}],
                "properties": {"a": {}}}),
                ),
                vec![format!(
                    "{p}.properties[spec].properties[a].type: Required value: must not be empty for specified object fields"
                )],
            ),
        ];
        for (name, schema, want) in cases {
            assert_eq!(schema_messages(schema), want, "case {name}");
        }
    }
}
