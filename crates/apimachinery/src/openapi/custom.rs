//! Custom resources in the OpenAPI documents, as apiextensions-apiserver publishes them:
//! each served version's structural schema under `<reversed group>.<version>.<Kind>`
//! (`com.example.v1.Widget`) with `apiVersion`, `kind` and `metadata` added, its List,
//! and the resource's paths.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::definitions::{self, V2_PREFIX, V3_PREFIX};
use super::kinds::META;
use super::{DEFINITIONS, info, paths};
use crate::crd::ServedVersion;
use crate::registry::ResourceInfo;

/// A served custom version and its registry entry.
pub struct CustomKind<'a> {
    pub info: &'static ResourceInfo,
    pub served: &'a ServedVersion,
}

/// `com.example.v1.Widget` for group `example.com`.
pub fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// Keywords OpenAPI v2 (and gnostic's v2 messages) do not have.
const V3_ONLY: &[&str] = &[
    "nullable",
    "anyOf",
    "oneOf",
    "not",
    "x-kubernetes-validations",
];

fn strip_for_v2(schema: &mut Value) {
    definitions::walk(schema, &mut |obj| {
        for k in V3_ONLY {
            obj.remove(*k);
        }
        if obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            obj.remove("type");
            obj.remove("format");
        }
    });
}

/// The TypeMeta property descriptions, as on every built-in kind.
fn type_meta_property(name: &str) -> Value {
    DEFINITIONS
        .schemas
        .get("io.k8s.api.core.v1.Pod")
        .and_then(|pod| pod.pointer(&format!("/properties/{name}")))
        .cloned()
        .unwrap_or_else(|| json!({"type": "string"}))
}

fn gvk(served: &ServedVersion, kind: &str) -> Value {
    json!([{"group": served.group, "kind": kind, "version": served.version}])
}

/// The kind's schema and its List's, in v2 (`#/definitions/`) or v3 form.
fn schemas(served: &ServedVersion, v3: bool) -> [(String, Value); 2] {
    let prefix = if v3 { V3_PREFIX } else { V2_PREFIX };
    let name = definition_name(&served.group, &served.version, &served.kind);
    let mut schema = served
        .schema
        .clone()
        .unwrap_or_else(|| json!({"type": "object"}));
    if !v3 {
        strip_for_v2(&mut schema);
    }
    if let Some(obj) = schema.as_object_mut() {
        let props = obj.entry("properties").or_insert_with(|| json!({}));
        if let Some(props) = props.as_object_mut() {
            props.insert("apiVersion".into(), type_meta_property("apiVersion"));
            props.insert("kind".into(), type_meta_property("kind"));
            let meta_ref = format!("{prefix}{META}.ObjectMeta");
            let description = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
            props.insert(
                "metadata".into(),
                if v3 {
                    json!({"allOf": [{"$ref": meta_ref}], "description": description})
                } else {
                    json!({"$ref": meta_ref, "description": description})
                },
            );
        }
        obj.insert("type".into(), json!("object"));
        obj.insert(
            "x-kubernetes-group-version-kind".into(),
            gvk(served, &served.kind),
        );
    }
    let list_meta = format!("{prefix}{META}.ListMeta");
    let list = json!({
        "description": format!("{} is a list of {}", served.list_kind, served.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": type_meta_property("apiVersion"),
            "kind": type_meta_property("kind"),
            "metadata": if v3 { json!({"allOf": [{"$ref": list_meta}]}) } else { json!({"$ref": list_meta}) },
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", served.plural),
                "type": "array",
                "items": {"$ref": format!("{prefix}{name}")},
            },
        },
        "x-kubernetes-group-version-kind": gvk(served, &served.list_kind),
    });
    [(name.clone(), schema), (format!("{name}List"), list)]
}

fn resources(
    custom: &[CustomKind],
    group: &str,
    version: &str,
) -> Vec<(&'static ResourceInfo, String)> {
    custom
        .iter()
        .filter(|c| c.info.group == group && c.info.version == version)
        .map(|c| {
            (
                c.info,
                definition_name(&c.served.group, &c.served.version, &c.served.kind),
            )
        })
        .collect()
}

fn group_versions(custom: &[CustomKind]) -> BTreeSet<(&'static str, &'static str)> {
    custom
        .iter()
        .map(|c| (c.info.group, c.info.version))
        .collect()
}

/// The Swagger 2.0 document with the custom resources added.
pub fn swagger_with(custom: &[CustomKind]) -> Value {
    let mut doc = super::swagger().clone();
    for c in custom {
        for (name, schema) in schemas(c.served, false) {
            if let Some(defs) = doc.get_mut("definitions").and_then(Value::as_object_mut) {
                defs.insert(name, schema);
            }
        }
    }
    for (group, version) in group_versions(custom) {
        let paths = paths::v2_of(group, version, &resources(custom, group, version));
        if let Some(p) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            p.extend(paths);
        }
    }
    doc
}

/// One OpenAPI v3 document per custom group-version (`apis/example.com/v1`).
pub fn v3_documents(custom: &[CustomKind]) -> BTreeMap<String, Value> {
    let builtin: BTreeMap<String, Value> = DEFINITIONS
        .schemas
        .iter()
        .map(|(name, s)| (name.clone(), definitions::to_v3(name, s)))
        .collect();
    let mut out = BTreeMap::new();
    for (group, version) in group_versions(custom) {
        let mut components: Map<String, Value> = Map::new();
        for c in custom
            .iter()
            .filter(|c| c.info.group == group && c.info.version == version)
        {
            for (name, schema) in schemas(c.served, true) {
                components.insert(name, schema);
            }
        }
        let paths = paths::v3_of(group, version, &resources(custom, group, version));
        let mut seeds = BTreeSet::new();
        for item in paths.values() {
            definitions::refs_of(item, V3_PREFIX, &mut seeds);
        }
        for s in components.values() {
            definitions::refs_of(s, V3_PREFIX, &mut seeds);
        }
        for kind in [
            "DeleteOptions",
            "Status",
            "WatchEvent",
            "ObjectMeta",
            "ListMeta",
        ] {
            seeds.insert(format!("{META}.{kind}"));
        }
        for name in definitions::closure(&builtin, seeds, V3_PREFIX) {
            if let Some(s) = builtin.get(&name) {
                components.entry(name).or_insert_with(|| s.clone());
            }
        }
        let doc = json!({
            "openapi": "3.0.0",
            "info": info(),
            "paths": paths,
            "components": {"schemas": components},
        });
        out.insert(format!("apis/{group}/{version}"), doc);
    }
    out
}
