//! The type definitions: generated from k8s-openapi's `JsonSchema` impls, then shaped like
//! upstream's published documents — special types (`IntOrString`, `Quantity`, `JSON`, ...)
//! as upstream spells them, `x-kubernetes-*` extensions from [`crate::schema`], the
//! group-version-kind list on every kind, list kinds written from the registry, and only
//! Swagger 2.0 keywords (v2) or OpenAPI 3.0 shapes (v3).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::kinds::{self, CORE_META_KINDS, KindDef, META, PER_GROUP_META_KINDS};
use crate::registry;
use crate::schema;

pub(crate) const V2_PREFIX: &str = "#/definitions/";
pub(crate) const V3_PREFIX: &str = "#/components/schemas/";

const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/// Definitions upstream publishes with a description only (any JSON value).
const ANY_VALUE: &[&str] = &[
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
];

/// Keywords a Swagger 2.0 schema object may carry (besides `x-` extensions).
const V2_KEYWORDS: &[&str] = &[
    "$ref",
    "format",
    "title",
    "description",
    "default",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "additionalProperties",
    "type",
    "items",
    "allOf",
    "properties",
    "discriminator",
    "readOnly",
    "xml",
    "externalDocs",
    "example",
];

/// All definitions with Swagger 2.0 references (`#/definitions/...`), and the kinds.
pub(crate) struct Definitions {
    pub schemas: BTreeMap<String, Value>,
    pub kinds: Vec<KindDef>,
}

/// Generates and shapes every definition (v2 form).
pub(crate) fn build() -> Definitions {
    let mut generator = SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
            s.transforms = Vec::new();
            s.inline_subschemas = false;
        })
        .into_generator();
    let kinds = kinds::register(&mut generator);
    let mut schemas: BTreeMap<String, Value> =
        generator.take_definitions(false).into_iter().collect();

    add_lists(&mut schemas, &kinds);
    for (name, schema) in schemas.iter_mut() {
        special_type_v2(name, schema);
        metadata_not_required(schema);
        add_extensions(name, schema);
        walk(schema, &mut |s| {
            s.retain(|k, _| k.starts_with("x-") || V2_KEYWORDS.contains(&k.as_str()))
        });
    }
    add_group_version_kinds(&mut schemas, &kinds);
    Definitions { schemas, kinds }
}

/// `<Kind>List` for every listable served resource, as upstream's list types look.
fn add_lists(schemas: &mut BTreeMap<String, Value>, kinds: &[KindDef]) {
    for r in registry::RESOURCES.iter().filter(|r| !r.create_only) {
        let Some(item) = kinds
            .iter()
            .find(|k| k.group == r.group && k.version == r.version && k.kind == r.kind)
        else {
            continue;
        };
        let list_name = format!("{}List", item.definition);
        let (api_version, kind) = match schemas.get(&item.definition) {
            Some(s) => (
                s["properties"]["apiVersion"].clone(),
                s["properties"]["kind"].clone(),
            ),
            None => continue,
        };
        schemas.insert(
            list_name,
            json!({
                "description": format!("{}List is a list of {}.", r.kind, r.kind),
                "type": "object",
                "properties": {
                    "apiVersion": api_version,
                    "items": {
                        "description": format!("List of {}.", r.plural),
                        "type": "array",
                        "items": {"$ref": format!("{V2_PREFIX}{}", item.definition)},
                    },
                    "kind": kind,
                    "metadata": {
                        "$ref": format!("{V2_PREFIX}{META}.ListMeta"),
                        "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                    },
                },
                "required": ["items"],
            }),
        );
    }
}

/// k8s-openapi lists `metadata` as required (its Rust field is not optional); upstream
/// does not, and `kubectl explain` would show `-required-` on it.
fn metadata_not_required(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(required)) = obj.get_mut("required") {
        required.retain(|r| r != "metadata");
        if required.is_empty() {
            obj.remove("required");
        }
    }
}

/// Upstream's v2 spelling of the types with custom JSON forms.
fn special_type_v2(name: &str, schema: &mut Value) {
    let description = schema.get("description").cloned().unwrap_or(Value::Null);
    let replacement = match name {
        INT_OR_STRING => {
            json!({"description": description, "type": "string", "format": "int-or-string"})
        }
        QUANTITY => json!({"description": description, "type": "string"}),
        _ if ANY_VALUE.contains(&name) => json!({"description": description}),
        _ => return,
    };
    *schema = replacement;
}

/// Upstream's v3 spelling of the same types.
fn special_type_v3(name: &str, schema: &mut Value) {
    let description = schema.get("description").cloned().unwrap_or(Value::Null);
    *schema = match name {
        INT_OR_STRING => json!({
            "description": description,
            "format": "int-or-string",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        }),
        QUANTITY => json!({
            "description": description,
            "oneOf": [{"type": "string"}, {"type": "number"}],
        }),
        _ => return,
    };
}

/// List types, map types, patch strategies and merge keys of the definition and its
/// properties.
fn add_extensions(name: &str, schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(ext) = schema::definition(name) {
        for (k, v) in ext.to_openapi() {
            obj.insert(k.to_string(), v);
        }
    }
    let Some(Value::Object(props)) = obj.get_mut("properties") else {
        return;
    };
    for (prop, prop_schema) in props.iter_mut() {
        let (Some(ext), Some(target)) = (schema::property(name, prop), prop_schema.as_object_mut())
        else {
            continue;
        };
        for (k, v) in ext.to_openapi() {
            target.insert(k.to_string(), v);
        }
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn add_group_version_kinds(schemas: &mut BTreeMap<String, Value>, kinds: &[KindDef]) {
    let mut tags: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for k in kinds {
        tags.entry(k.definition.clone())
            .or_default()
            .push(gvk(k.group, k.version, k.kind));
        let list = format!("{}List", k.definition);
        if schemas.contains_key(&list) {
            tags.entry(list)
                .or_default()
                .push(gvk(k.group, k.version, &format!("{}List", k.kind)));
        }
    }
    for kind in CORE_META_KINDS {
        tags.entry(format!("{META}.{kind}"))
            .or_default()
            .push(gvk("", "v1", kind));
    }
    let mut group_versions: Vec<(&str, &str)> = super::builtin_groups()
        .into_iter()
        .flat_map(|(g, vs)| vs.into_iter().map(move |v| (g, v)))
        .collect();
    group_versions.sort();
    for kind in PER_GROUP_META_KINDS {
        let entry = tags.entry(format!("{META}.{kind}")).or_default();
        for (g, v) in &group_versions {
            entry.push(gvk(g, v, kind));
        }
    }
    for (name, list) in tags {
        if let Some(Value::Object(obj)) = schemas.get_mut(&name) {
            obj.insert("x-kubernetes-group-version-kind".into(), Value::Array(list));
        }
    }
}

/// Calls `f` on every schema object in `schema`, outermost first.
pub(crate) fn walk(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(obj) = schema else {
        return;
    };
    f(obj);
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for p in props.values_mut() {
            walk(p, f);
        }
    }
    if let Some(items) = obj.get_mut("items") {
        match items {
            Value::Array(list) => list.iter_mut().for_each(|s| walk(s, f)),
            other => walk(other, f),
        }
    }
    if let Some(additional) = obj.get_mut("additionalProperties") {
        walk(additional, f);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(list)) = obj.get_mut(key) {
            list.iter_mut().for_each(|s| walk(s, f));
        }
    }
    if let Some(not) = obj.get_mut("not") {
        walk(not, f);
    }
}

/// Definition names `schema` refers to directly.
pub(crate) fn refs_of(schema: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(obj) => {
            for (k, v) in obj {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(prefix) {
                            out.insert(name.to_string());
                        }
                    }
                    _ => refs_of(v, prefix, out),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| refs_of(v, prefix, out)),
        _ => {}
    }
}

/// `seeds` and every definition reachable from them.
pub(crate) fn closure(
    schemas: &BTreeMap<String, Value>,
    seeds: BTreeSet<String>,
    prefix: &str,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = seeds.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get(&name) {
            let mut refs = BTreeSet::new();
            refs_of(schema, prefix, &mut refs);
            todo.extend(refs.into_iter().filter(|r| !seen.contains(r)));
        }
    }
    seen
}

/// One definition in its OpenAPI v3 form: references under `#/components/schemas/`, and a
/// reference with siblings (a property's description) wrapped in `allOf`, as upstream does.
pub(crate) fn to_v3(name: &str, schema: &Value) -> Value {
    let mut out = schema.clone();
    special_type_v3(name, &mut out);
    walk(&mut out, &mut |obj| {
        let Some(Value::String(r)) = obj.get("$ref") else {
            return;
        };
        let target = match r.strip_prefix(V2_PREFIX) {
            Some(n) => format!("{V3_PREFIX}{n}"),
            None => r.clone(),
        };
        if obj.len() == 1 {
            obj.insert("$ref".into(), Value::String(target));
        } else {
            obj.remove("$ref");
            obj.insert("allOf".into(), json!([{"$ref": target}]));
        }
    });
    out
}
