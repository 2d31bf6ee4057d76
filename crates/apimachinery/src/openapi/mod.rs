//! OpenAPI documents of the built-in API, as kube-apiserver 1.33 serves them:
//!
//! * `/openapi/v2`: one Swagger 2.0 document ([`swagger`]), also served as gnostic's
//!   protobuf ([`swagger_protobuf`], messages in [`proto`]);
//! * `/openapi/v3/<group-version>`: one OpenAPI 3.0 document per group-version
//!   ([`v3_documents`]) with the schemas reachable from its paths and kinds.
//!
//! Type schemas (descriptions, types, formats, `required`) come from k8s-openapi's
//! `JsonSchema` impls; the `x-kubernetes-*` extensions from [`crate::schema`]. kubectl uses
//! the documents for `explain`, to detect server-side field validation, for client-side
//! validation and for the patch strategies of client-side `apply`.

pub mod custom;
mod definitions;
mod kinds;
mod paths;
pub mod proto;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use definitions::{Definitions, V3_PREFIX};
use kinds::META;

/// The version reported in the documents' `info`.
const VERSION: &str = "v1.33.0";

static DEFINITIONS: LazyLock<Definitions> = LazyLock::new(definitions::build);
static SWAGGER: LazyLock<Value> = LazyLock::new(build_swagger);

/// The Swagger 2.0 document (`GET /openapi/v2`), built once.
pub fn swagger() -> &'static Value {
    &SWAGGER
}

/// [`swagger`] encoded as gnostic's `openapi.v2.Document` protobuf.
pub fn swagger_protobuf() -> Vec<u8> {
    protobuf_of(swagger())
}

/// A Swagger 2.0 document encoded as gnostic's `openapi.v2.Document` protobuf.
pub fn protobuf_of(doc: &Value) -> Vec<u8> {
    prost::Message::encode_to_vec(&proto::document(doc))
}

/// The OpenAPI v3 documents, keyed by group-version path (`api/v1`, `apis/apps/v1`).
pub fn v3_documents() -> BTreeMap<String, Value> {
    let defs = &*DEFINITIONS;
    let v3_schemas: BTreeMap<String, Value> = defs
        .schemas
        .iter()
        .map(|(name, s)| (name.clone(), definitions::to_v3(name, s)))
        .collect();
    let mut out = BTreeMap::new();
    for (group, versions) in builtin_groups() {
        for version in versions {
            let paths = paths::v3(group, version);
            let mut seeds = BTreeSet::new();
            for item in paths.values() {
                definitions::refs_of(item, V3_PREFIX, &mut seeds);
            }
            for k in defs
                .kinds
                .iter()
                .filter(|k| k.group == group && k.version == version)
            {
                seeds.insert(k.definition.clone());
                seeds.insert(format!("{}List", k.definition));
            }
            for kind in ["DeleteOptions", "Status", "WatchEvent"] {
                seeds.insert(format!("{META}.{kind}"));
            }
            let schemas: Map<String, Value> = definitions::closure(&v3_schemas, seeds, V3_PREFIX)
                .into_iter()
                .filter_map(|name| v3_schemas.get(&name).map(|s| (name, s.clone())))
                .collect();
            let mut components = Map::new();
            components.insert("schemas".into(), Value::Object(schemas));
            components.insert("securitySchemes".into(), bearer_token());
            let mut doc = Map::new();
            doc.insert("openapi".into(), "3.0.0".into());
            doc.insert("info".into(), info());
            doc.insert("paths".into(), Value::Object(paths));
            doc.insert("components".into(), Value::Object(components));
            doc.insert("security".into(), json!([{"BearerToken": []}]));
            out.insert(
                paths::gv_path(group, version)
                    .trim_start_matches('/')
                    .to_string(),
                Value::Object(doc),
            );
        }
    }
    out
}

/// The built-in groups with their versions, in discovery order. Custom resources are not
/// described here: their schemas come from their CustomResourceDefinitions.
pub(crate) fn builtin_groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in crate::registry::RESOURCES {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

fn build_swagger() -> Value {
    let defs = &*DEFINITIONS;
    let mut paths = Map::new();
    for (group, versions) in builtin_groups() {
        for version in versions {
            paths.extend(paths::v2(group, version));
        }
    }
    let definitions: Map<String, Value> = defs
        .schemas
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Assembled by hand: `json!` would deep-copy the large maps (it serializes its
    // arguments).
    let mut doc = Map::new();
    doc.insert("swagger".into(), "2.0".into());
    doc.insert("info".into(), info());
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("definitions".into(), Value::Object(definitions));
    doc.insert("securityDefinitions".into(), bearer_token());
    doc.insert("security".into(), json!([{"BearerToken": []}]));
    Value::Object(doc)
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": VERSION})
}

fn bearer_token() -> Value {
    json!({
        "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"},
    })
}

#[cfg(test)]
mod tests;
