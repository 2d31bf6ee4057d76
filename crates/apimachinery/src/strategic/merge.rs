//! Merging a patch map into an object map, and a patch list into a list, following each
//! field's patch strategy.

use serde_json::{Map, Value};

use super::Error;
use super::format::{self, bad_patch_type, no_merge_key};
use super::meta::{FieldMeta, Node, Strategy};
use super::order::{self, Kind};

pub(crate) const PATCH: &str = "$patch";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const SET_ELEMENT_ORDER: &str = "$setElementOrder";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Merges `patch` into `original`, an object at `node`.
pub(crate) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    node: Node,
) -> Result<Map<String, Value>, Error> {
    // A `$patch` directive applies to the whole map and nothing else in it is merged.
    if let Some(directive) = patch.get(PATCH) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(PATCH);
                // Merging into nothing keeps the patch but drops nested directives.
                merge_map(Map::new(), patch, node)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    order::merge_ordered_lists(&mut original, &mut patch, node)?;

    for (key, value) in patch {
        let (field, deletion_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(_) => (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?, true),
            None => (key, false),
        };
        if value.is_null() {
            original.remove(&field);
            continue;
        }
        let meta = node.field(&field)?;
        let Some(current) = original.remove(&field) else {
            // Nothing to delete from. (Upstream would store the deletion list itself.)
            if !deletion_list {
                original.insert(field, fresh(value, &meta)?);
            }
            continue;
        };
        let merged = match (current, value) {
            (Value::Object(cur), Value::Object(p)) => Value::Object(match meta.strategy {
                Strategy::Replace => merge_map(Map::new(), p, meta.node)?,
                _ => merge_map(cur, p, meta.node)?,
            }),
            (Value::Array(cur), Value::Array(p)) => {
                Value::Array(merge_list_field(cur, p, &meta, deletion_list)?)
            }
            (_, p) => fresh(p, &meta)?,
        };
        original.insert(field, merged);
    }
    Ok(original)
}

/// The field name of a `<prefix>/<field>` directive key.
pub(crate) fn extract_key(key: &str, prefix: &str) -> Result<String, Error> {
    match key.split_once('/') {
        Some((p, field)) if p == prefix => Ok(field.to_string()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => Err(format::bad_primitive_list()),
        _ => Err(format::bad_set_element_order()),
    }
}

/// `$retainKeys`: every key of `original` not listed is cleared; the patch may only set
/// listed keys.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), Error> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(format::bad_retain_keys());
    };
    let listed = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !listed(k) {
            return Err(format::bad_retain_keys());
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// Merges the patch list of a field into its current list.
pub(crate) fn merge_list_field(
    current: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta,
    deletion_list: bool,
) -> Result<Vec<Value>, Error> {
    match meta.strategy {
        Strategy::Merge => merge_list(current, patch, meta, deletion_list),
        // A deletion list only makes sense for merging lists; for any other list it still
        // deletes rather than replacing the list with what was to be deleted.
        _ if deletion_list => Ok(delete_values(current, &patch)),
        _ => fresh_list(patch, meta),
    }
}

/// A list with `patchStrategy: merge`.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta,
    deletion_list: bool,
) -> Result<Vec<Value>, Error> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = order::element_kind(&[&original, &patch])?;
    if kind != Kind::Map {
        if deletion_list {
            return Ok(delete_values(original, &patch));
        }
        // Union, first occurrence kept; the final order is decided below.
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.iter().chain(patch.iter()) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        let (in_patch, server_only) = order::partition(merged, &patch, None)?;
        return order::normalize(in_patch, server_only, &patch, &original, None, kind);
    }

    let Some(key) = meta.merge_key else {
        let what = match meta.node {
            Node::Definition(_) => "struct",
            _ => "interface",
        };
        return Err(Error::Failed(format!(
            "cannot merge lists without merge key for type {what}"
        )));
    };
    let (original, patch) = apply_list_directives(original, patch, key, meta.node)?;
    let merged = merge_by_key(original.clone(), &patch, key, meta.node)?;
    let (in_patch, server_only) = order::partition(merged, &patch, Some(key))?;
    order::normalize(in_patch, server_only, &patch, &original, Some(key), kind)
}

/// Elements carrying `$patch`: `delete` removes every element with that merge key,
/// `replace` makes the other patch elements the whole list. Returns the list to merge
/// into and the patch without those elements.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    node: Node,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(m) = &item else {
            plain.push(item);
            continue;
        };
        let Some(directive) = m.get(PATCH) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(id) = m.get(key) else {
                    return Err(no_merge_key(m, key));
                };
                for (i, v) in original.iter().enumerate() {
                    if !v.is_object() {
                        return Err(Error::Failed(format!("value for key {i} is not a map.")));
                    }
                }
                original.retain(|v| v.get(key) != Some(id));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(Error::Failed(
                    "merging lists cannot yet be specified in the patch".into(),
                ));
            }
            _ => return Err(bad_patch_type(directive, m)),
        }
    }
    if replace {
        let cleaned = plain
            .into_iter()
            .map(|v| clean_element(v, node))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((cleaned, Vec::new()));
    }
    Ok((original, plain))
}

/// Merges each patch element into the element with the same merge key, or appends it.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    node: Node,
) -> Result<Vec<Value>, Error> {
    for item in patch {
        let Value::Object(p) = item else {
            return Err(format::bad_arg_type(format::MAP, item));
        };
        let Some(id) = p.get(key) else {
            return Err(no_merge_key(p, key));
        };
        let mut found = None;
        for (i, v) in original.iter().enumerate() {
            let Value::Object(m) = v else {
                return Err(Error::Failed(format!("value for key {i} is not a map.")));
            };
            if m.get(key) == Some(id) {
                found = Some(i);
                break;
            }
        }
        match found.and_then(|i| original.get_mut(i)) {
            Some(slot) => {
                let current = match std::mem::take(slot) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                *slot = Value::Object(merge_map(current, p.clone(), node)?);
            }
            None => original.push(Value::Object(merge_map(Map::new(), p.clone(), node)?)),
        }
    }
    Ok(original)
}

/// `$deleteFromPrimitiveList`: drops every value listed.
fn delete_values(current: Vec<Value>, remove: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !remove.contains(v))
        .collect()
}

/// A patch value stored where the object had nothing (or something of another type):
/// merged into nothing, so nulls and directives do not reach the stored object.
pub(crate) fn fresh(value: Value, meta: &FieldMeta) -> Result<Value, Error> {
    match value {
        Value::Object(m) => Ok(Value::Object(merge_map(Map::new(), m, meta.node)?)),
        Value::Array(items) => Ok(Value::Array(fresh_list(items, meta)?)),
        other => Ok(other),
    }
}

/// A patch list stored as it is, less directive elements of merging lists.
pub(crate) fn fresh_list(items: Vec<Value>, meta: &FieldMeta) -> Result<Vec<Value>, Error> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if meta.strategy == Strategy::Merge && item.get(PATCH).is_some() {
            continue;
        }
        out.push(clean_element(item, meta.node)?);
    }
    Ok(out)
}

fn clean_element(item: Value, node: Node) -> Result<Value, Error> {
    match item {
        Value::Object(m) => Ok(Value::Object(merge_map(Map::new(), m, node)?)),
        other => Ok(other),
    }
}
