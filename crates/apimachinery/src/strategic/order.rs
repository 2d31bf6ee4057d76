//! Element order of merged lists and the `$setElementOrder/<list>` directive.
//!
//! Upstream's rule: elements named by the patch (or by `$setElementOrder`) keep the
//! patch's order, elements only on the server keep the server's order, and the two runs
//! are interleaved using the server's positions where both elements have one.

use serde_json::{Map, Value};

use super::Error;
use super::format::{self, bad_arg_type, no_merge_key};
use super::merge::{self, PATCH, SET_ELEMENT_ORDER};
use super::meta::Node;

/// The Go type of list elements, which must agree across the lists merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Nil,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Nil,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_i64() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::List,
        Value::Object(_) => Kind::Map,
    }
}

/// The one element kind of `lists`.
pub(crate) fn element_kind(lists: &[&[Value]]) -> Result<Kind, Error> {
    let mut kind = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let k = kind_of(v);
        match kind {
            None if k == Kind::List => {
                return Err(Error::Unprocessable(
                    "lists of lists are not supported".into(),
                ));
            }
            None => kind = Some(k),
            Some(prev) if prev != k => {
                let all: Vec<String> = lists.iter().map(|l| format::go_list(l)).collect();
                return Err(Error::Failed(format!(
                    "list element types are not identical: [{}]",
                    all.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    kind.ok_or_else(|| Error::Failed("no elements in any of the given slices".into()))
}

/// What identifies an element: its merge key's value, or the element itself.
fn ident<'v>(v: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(k) => v.as_object().and_then(|m| m.get(k)),
        None => Some(v),
    }
}

fn position(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let id = ident(item, key);
    list.iter().position(|v| ident(v, key) == id)
}

fn require_key<'v>(v: &'v Value, key: &str) -> Result<&'v Value, Error> {
    let Value::Object(m) = v else {
        return Err(bad_arg_type(format::MAP, v));
    };
    m.get(key).ok_or_else(|| no_merge_key(m, key))
}

/// Splits `merged` into the elements present in `by` and the others.
pub(crate) fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut present = Vec::new();
    let mut others = Vec::new();
    for v in merged {
        let found = match key {
            None => by.contains(&v),
            Some(k) => {
                let id = require_key(&v, k)?;
                let mut found = false;
                for (i, b) in by.iter().enumerate() {
                    let Value::Object(bm) = b else {
                        return Err(Error::Failed(format!("value for key {i} is not a map.")));
                    };
                    if bm.get(k) == Some(id) {
                        found = true;
                        break;
                    }
                }
                found
            }
        };
        if found {
            present.push(v);
        } else {
            others.push(v);
        }
    }
    Ok((present, others))
}

/// Orders `items` by their position in `order`; elements marked `$patch: delete` go last.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
    kind: Kind,
) -> Result<Vec<Value>, Error> {
    let (mut keep, deleted): (Vec<Value>, Vec<Value>) = if kind == Kind::Map {
        let k = key.unwrap_or_default();
        for v in items.iter().chain(order.iter()) {
            require_key(v, k)?;
        }
        items
            .into_iter()
            .partition(|v| v.get(PATCH).and_then(Value::as_str) != Some("delete"))
    } else {
        (items, Vec::new())
    };
    keep.sort_by_key(|v| position(order, v, key).unwrap_or(usize::MAX));
    keep.extend(deleted);
    Ok(keep)
}

/// The final list: patch elements in `patch_order`, server-only elements in
/// `server_order`, interleaved by their server positions.
pub(crate) fn normalize(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
    kind: Kind,
) -> Result<Vec<Value>, Error> {
    let key = if kind == Kind::Map { key } else { None };
    let right = sort_by_order(patch_items, patch_order, key, kind)?;
    let left = sort_by_order(server_only, server_order, key, kind)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (position(server_order, l, key), position(server_order, r, key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

/// The patch elements must appear in `$setElementOrder` in the same relative order
/// (elements being deleted aside).
fn validate_order(patch: &[Value], order: &[Value], key: Option<&str>) -> Result<(), Error> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut candidates = Vec::with_capacity(patch.len());
    for v in patch {
        if key.is_some() {
            let Value::Object(m) = v else {
                return Err(bad_arg_type(format::MAP, v));
            };
            if m.get(PATCH).and_then(Value::as_str) == Some("delete") {
                continue;
            }
        }
        candidates.push(v);
    }
    let (mut pi, mut oi) = (0, 0);
    while let (Some(p), Some(o)) = (candidates.get(pi), order.get(oi)) {
        if p.get(PATCH).is_some() {
            pi += 1;
            continue;
        }
        let equal = match key {
            None => p == &o,
            Some(k) => require_key(p, k)? == require_key(o, k)?,
        };
        if equal {
            pi += 1;
        }
        oi += 1;
    }
    if pi < candidates.len() {
        return Err(Error::Failed(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            format::go_list(patch),
            format::go_list(order)
        )));
    }
    Ok(())
}

/// Processes every `$setElementOrder/<list>` of `patch`: merges that list now and puts
/// the result in the requested order, removing both keys from `patch`.
pub(crate) fn merge_ordered_lists(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    node: Node,
) -> Result<(), Error> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let Some(order) = patch.remove(&directive) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type(format::LIST, &order));
        };
        let field = merge::extract_key(&directive, SET_ELEMENT_ORDER)?;
        let current = match original.get(&field) {
            None => None,
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type(format::LIST, other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type(format::LIST, other)),
        };
        let meta = node.field(&field)?;
        validate_order(
            patch_list.as_deref().unwrap_or_default(),
            &order,
            meta.merge_key,
        )?;
        let merged = match (&current, &patch_list) {
            (Some(cur), None) => cur.clone(),
            (None, Some(p)) => merge::fresh_list(p.clone(), &meta)?,
            (Some(cur), Some(p)) => merge::merge_list_field(cur.clone(), p.clone(), &meta, false)?,
            (None, None) => continue,
        };
        let current = current.unwrap_or_default();
        let kind = element_kind(&[&current, patch_list.as_deref().unwrap_or_default()])?;
        let key = if kind == Kind::Map {
            meta.merge_key
        } else {
            None
        };
        let (in_order, server_only) = partition(merged, &order, key)?;
        let list = normalize(in_order, server_only, &order, &current, key, kind)?;
        original.insert(field.clone(), Value::Array(list));
        patch.remove(&field);
    }
    Ok(())
}
