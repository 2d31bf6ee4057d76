//! `metadata.managedFields`: decoding entries into per-manager field sets keyed by manager
//! identity, encoding them back in upstream's order, and capping the number of Update
//! entries.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::fieldsv1;
use super::set::Set;

/// Entries beyond this many Update managers are merged into "ancient-changes".
pub const MAX_UPDATE_MANAGERS: usize = 10;
const ANCIENT_CHANGES: &str = "ancient-changes";

/// The fields one manager owns, at an API version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedSet {
    pub set: Set,
    pub api_version: String,
    pub applied: bool,
}

/// Field sets and timestamps by manager identity (see `manager_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    pub fields: BTreeMap<String, VersionedSet>,
    pub times: BTreeMap<String, String>,
}

/// The identity of a manager: the JSON of its entry without fields, time and (for appliers)
/// apiVersion, so every write by the same workflow lands in the same entry.
pub fn manager_id(manager: &str, operation: &str, api_version: &str, subresource: &str) -> String {
    let mut m = Map::new();
    if !manager.is_empty() {
        m.insert("manager".into(), manager.into());
    }
    if !operation.is_empty() {
        m.insert("operation".into(), operation.into());
    }
    if operation != "Apply" && !api_version.is_empty() {
        m.insert("apiVersion".into(), api_version.into());
    }
    if !subresource.is_empty() {
        m.insert("subresource".into(), subresource.into());
    }
    Value::Object(m).to_string()
}

/// The parts of a manager identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagerInfo {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: String,
}

pub fn parse_manager_id(id: &str) -> ManagerInfo {
    let v: Value = serde_json::from_str(id).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    ManagerInfo {
        manager: s("manager"),
        operation: s("operation"),
        api_version: s("apiVersion"),
        subresource: s("subresource"),
    }
}

/// Whether the entries are upstream's reset marker: a non-empty list of empty entries.
pub fn is_reset(entries: &Value) -> bool {
    match entries {
        Value::Array(a) => {
            !a.is_empty() && a.iter().all(|e| e.as_object().is_some_and(Map::is_empty))
        }
        _ => false,
    }
}

fn entry_str<'a>(e: &'a Value, k: &str) -> &'a str {
    e.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Decodes `metadata.managedFields` (absent or null: no managers).
pub fn decode(entries: Option<&Value>) -> Result<Managed, String> {
    let mut managed = Managed::default();
    let items = match entries {
        None | Some(Value::Null) => return Ok(managed),
        Some(Value::Array(a)) => a,
        Some(_) => return Err("managedFields must be a list".into()),
    };
    for (i, e) in items.iter().enumerate() {
        let operation = entry_str(e, "operation");
        if operation != "Apply" && operation != "Update" {
            return Err("operation must be `Apply` or `Update`".into());
        }
        let api_version = entry_str(e, "apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match entry_str(e, "fieldsType") {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {other:?} in managed fields entry {i}"
                ));
            }
        }
        let set = match e.get("fieldsV1") {
            None | Some(Value::Null) => Set::new(),
            Some(f) => fieldsv1::decode(f)
                .map_err(|err| format!("error decoding versioned set from {e}: {err}"))?,
        };
        let id = manager_id(
            entry_str(e, "manager"),
            operation,
            api_version,
            entry_str(e, "subresource"),
        );
        if let Some(t) = e.get("time").and_then(Value::as_str) {
            managed.times.insert(id.clone(), t.to_string());
        }
        managed.fields.insert(
            id,
            VersionedSet {
                set,
                api_version: api_version.to_string(),
                applied: operation == "Apply",
            },
        );
    }
    Ok(managed)
}

fn unix_seconds(t: Option<&String>) -> i64 {
    t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

/// The `metadata.managedFields` list, ordered as upstream: Apply before Update, then by
/// time, manager, apiVersion and subresource. `None` when there are no managers.
pub fn encode(managed: &Managed) -> Option<Value> {
    if managed.fields.is_empty() {
        return None;
    }
    let mut entries: Vec<(ManagerInfo, i64, Value)> = managed
        .fields
        .iter()
        .map(|(id, vs)| {
            let mut info = parse_manager_id(id);
            info.api_version = vs.api_version.clone();
            if vs.applied {
                info.operation = "Apply".into();
            }
            let time = managed.times.get(id);
            let mut e = Map::new();
            if !info.manager.is_empty() {
                e.insert("manager".into(), json!(info.manager));
            }
            e.insert("operation".into(), json!(info.operation));
            e.insert("apiVersion".into(), json!(info.api_version));
            if let Some(t) = time {
                e.insert("time".into(), json!(t));
            }
            e.insert("fieldsType".into(), json!("FieldsV1"));
            e.insert("fieldsV1".into(), fieldsv1::encode(&vs.set));
            if !info.subresource.is_empty() {
                e.insert("subresource".into(), json!(info.subresource));
            }
            (info, unix_seconds(time), Value::Object(e))
        })
        .collect();
    entries.sort_by(|(a, at, _), (b, bt, _)| {
        a.operation
            .cmp(&b.operation)
            .then(at.cmp(bt))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    Some(Value::Array(
        entries.into_iter().map(|(_, _, e)| e).collect(),
    ))
}

/// Merges the oldest Update entries into per-version "ancient-changes" entries until at most
/// `max` Update entries remain.
pub fn cap_update_managers(managed: &mut Managed, max: usize) {
    let mut updaters: Vec<String> = managed
        .fields
        .iter()
        .filter(|(_, vs)| !vs.applied)
        .map(|(id, _)| id.clone())
        .collect();
    if updaters.len() <= max {
        return;
    }
    updaters.sort_by(|a, b| {
        unix_seconds(managed.times.get(a))
            .cmp(&unix_seconds(managed.times.get(b)))
            .then_with(|| a.cmp(b))
    });
    let mut first_by_version: BTreeMap<String, String> = BTreeMap::new();
    let mut remaining = updaters.len();
    for id in updaters {
        if remaining <= max {
            break;
        }
        let Some(vs) = managed.fields.get(&id).cloned() else {
            continue;
        };
        let time = managed.times.get(&id).cloned();
        let version = vs.api_version.clone();
        let bucket = manager_id(ANCIENT_CHANGES, "Update", &version, "");
        match first_by_version.get(&version) {
            Some(first) => {
                if !managed.fields.contains_key(&bucket)
                    && let Some(s) = managed.fields.remove(first)
                {
                    managed.times.remove(first);
                    managed.fields.insert(bucket.clone(), s);
                }
                let base = managed
                    .fields
                    .get(&bucket)
                    .map(|b| b.set.clone())
                    .unwrap_or_default();
                managed.fields.insert(
                    bucket.clone(),
                    VersionedSet {
                        set: vs.set.union(&base),
                        api_version: version,
                        applied: false,
                    },
                );
                managed.fields.remove(&id);
                managed.times.remove(&id);
                remaining -= 1;
                match time {
                    Some(t) => managed.times.insert(bucket, t),
                    None => managed.times.remove(&bucket),
                };
            }
            None => {
                first_by_version.insert(version, id);
            }
        }
    }
}
