//! The FieldsV1 JSON form of a field set, as `metadata.managedFields[].fieldsV1` carries it:
//! one JSON member per path element, `{}` for a member without children, and `".": {}` first
//! inside an element that is a member and has children. Members are written in path-element
//! order (fields, then keys, values, indexes), like upstream's serializer.

use serde_json::{Map, Value};

use super::path::PathElement;
use super::set::Set;

/// The FieldsV1 object of a set.
pub fn encode(set: &Set) -> Value {
    Value::Object(emit(set, false))
}

fn emit(set: &Set, include_self: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if include_self && !set.is_empty() {
        out.insert(".".into(), Value::Object(Map::new()));
    }
    let mut elements: Vec<&PathElement> = set.members.iter().collect();
    elements.extend(set.children.keys().filter(|pe| !set.members.contains(*pe)));
    elements.sort();
    for pe in elements {
        let member = set.members.contains(pe);
        let body = match set.children.get(pe) {
            Some(child) => emit(child, member),
            None => Map::new(),
        };
        out.insert(pe.serialize(), Value::Object(body));
    }
    out
}

/// The set a FieldsV1 object describes.
pub fn decode(v: &Value) -> Result<Set, String> {
    let Value::Object(m) = v else {
        return Err("FieldsV1 must be a JSON object".into());
    };
    read(m)
}

fn read(m: &Map<String, Value>) -> Result<Set, String> {
    let mut set = Set::new();
    for (k, v) in m {
        if k == "." {
            continue;
        }
        let pe = PathElement::parse(k)?;
        let Value::Object(body) = v else {
            return Err(format!("expected an object for {k:?}"));
        };
        let child = read(body)?;
        if body.is_empty() || body.contains_key(".") {
            set.members.insert(pe.clone());
        }
        if !child.is_empty() {
            set.children.insert(pe, child);
        }
    }
    Ok(set)
}
