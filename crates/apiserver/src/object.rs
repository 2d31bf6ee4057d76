//! Objects as the API server handles them: JSON values whose `metadata.resourceVersion`
//! is the store's mod revision (never stored, set on every read).

use apimachinery::registry::ResourceInfo;
use apimachinery::status::ApiError;
use bytes::Bytes;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};
use store::{KeyValue, StoreError};

/// Decodes a stored value and stamps its resourceVersion.
pub fn decode(kv: &KeyValue) -> Result<Value, ApiError> {
    let mut obj: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key)))?;
    set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

pub fn set_resource_version(obj: &mut Value, rv: i64) {
    if let Some(meta) = metadata_mut(obj) {
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
    }
}

/// Encodes an object for storage (without its resourceVersion), converted to the storage
/// version of resources served in several versions.
pub fn encode(info: &ResourceInfo, obj: &Value) -> Result<Bytes, ApiError> {
    let mut copy =
        apimachinery::convert::to_storage(info.group, info.version, info.kind, obj.clone());
    // Custom resources: every version is stored as the storage version (conversion None).
    if let Some(storage) = crate::crd::storage_api_version(info)
        && let Some(m) = copy.as_object_mut()
    {
        m.insert("apiVersion".into(), json!(storage));
    }
    if let Some(meta) = metadata_mut(&mut copy) {
        meta.remove("resourceVersion");
    }
    serde_json::to_vec(&copy)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The Table of `objects` of `info` (built-in printers, or a custom resource's columns).
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    include_object: &str,
    list_meta: Value,
) -> Value {
    match crate::crd::table(info, objects, include_object, list_meta.clone()) {
        Some(t) => t,
        None => apimachinery::table::build_table(
            info.kind,
            objects,
            include_object,
            list_meta,
            Timestamp::now(),
        ),
    }
}

/// The kind of a list of `info` (`PodList`, or a custom resource's `listKind`).
pub fn list_kind(info: &ResourceInfo) -> String {
    match crate::crd::version_of(info) {
        Some(v) => v.served.list_kind.clone(),
        None => format!("{}List", info.kind),
    }
}

pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let m = obj.as_object_mut()?;
    if !m.get("metadata").is_some_and(Value::is_object) {
        m.insert("metadata".into(), json!({}));
    }
    m.get_mut("metadata").and_then(Value::as_object_mut)
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub fn name(obj: &Value) -> &str {
    meta_str(obj, "name").unwrap_or_default()
}

/// The RFC 3339 form upstream uses for metadata timestamps (seconds precision).
pub fn now_rfc3339() -> String {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

pub fn rfc3339_after(seconds: i64) -> String {
    let now = Timestamp::now().as_second() + seconds;
    Timestamp::from_second(now)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now_rfc3339())
}

/// A stored object as `info` serves it: converted from the storage version if they differ,
/// with `info`'s apiVersion and kind.
pub fn to_served(obj: &mut Value, info: &ResourceInfo) {
    if apimachinery::convert::storage_version(info.group, info.kind).is_some() {
        let stored = std::mem::take(obj);
        *obj = apimachinery::convert::from_storage(info.group, info.version, info.kind, stored);
    }
    set_type_meta(obj, info);
}

/// Sets `apiVersion` and `kind` from the resource.
pub fn set_type_meta(obj: &mut Value, info: &ResourceInfo) {
    if let Some(m) = obj.as_object_mut() {
        // Keep apiVersion and kind first, as upstream serializes them.
        let rest = std::mem::take(m);
        m.insert("kind".into(), json!(info.kind));
        m.insert("apiVersion".into(), json!(info.api_version()));
        for (k, v) in rest {
            if k != "kind" && k != "apiVersion" {
                m.insert(k, v);
            }
        }
    }
}

/// Maps a store error for one object to the client-facing error.
pub fn store_error(err: StoreError, info: &ResourceInfo, name: &str) -> ApiError {
    match err {
        StoreError::AlreadyExists(_) => ApiError::already_exists(info.group, info.plural, name),
        StoreError::NotFound(_) => ApiError::not_found(info.group, info.plural, name),
        StoreError::Conflict { .. } => ApiError::modified_conflict(info.group, info.plural, name),
        StoreError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StoreError::FutureRevision { requested, current } => ApiError::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        ),
        StoreError::TooLarge { .. } => {
            ApiError::request_entity_too_large("etcdserver: request is too large")
        }
        StoreError::Backend(msg) => ApiError::internal(msg),
    }
}

/// The spec-like part of an object: everything but metadata and status, to tell whether
/// `metadata.generation` must be bumped.
pub fn spec_part(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(m) = copy.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("kind");
        m.remove("apiVersion");
    }
    copy
}

/// Parses a request body as JSON or YAML.
pub fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    // kubectl 1.32+ sends typed objects as protobuf, with no JSON fallback.
    if apimachinery::protobuf::is_protobuf_content_type(content_type) {
        return apimachinery::protobuf::decode_to_json(body)
            .map_err(|e| ApiError::bad_request(e.to_string()));
    }
    if content_type.contains("yaml") {
        return serde_yaml_ng::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}
