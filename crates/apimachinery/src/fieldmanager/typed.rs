//! Walks of objects along their schema: the field set of an object, the comparison of two
//! objects, the merge of an applied configuration into an object, and the removal of a
//! field set from an object — structured-merge-diff's membership and merge rules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::path::{Path, PathElement, path_to_string, values_equal};
use super::set::Set;
use super::types::{ListKind, Shape, Type};

/// Errors of a walk, each `path: message`.
pub type WalkErrors = Vec<String>;

fn err_at(path: &[PathElement], msg: impl std::fmt::Display) -> String {
    format!("{}: {msg}", path_to_string(path))
}

/// The path element identifying item `item` of a list of kind `kind`.
pub fn list_item_pe(elem: &Type, kind: &ListKind, item: &Value) -> Result<PathElement, String> {
    match kind {
        ListKind::Map(keys) => {
            let obj = match item {
                Value::Null => {
                    return Err("associative list with keys may not have a null element".into());
                }
                Value::Object(o) => o,
                _ => return Err("associative list with keys may not have non-map elements".into()),
            };
            let mut fields = Vec::new();
            for k in keys {
                if let Some(v) = obj.get(k) {
                    fields.push((k.clone(), v.clone()));
                } else if let Some(d) = key_default(elem, k) {
                    fields.push((k.clone(), d));
                }
            }
            if fields.is_empty() {
                return Err(format!(
                    "associative list with keys has an element that omits all key fields {} (and doesn't have default values for any key fields)",
                    serde_json::to_string(keys).unwrap_or_default()
                ));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
        ListKind::Set => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => {
                Err("associative list without keys has an element that's a list type".into())
            }
            v => Ok(PathElement::Value(v.clone())),
        },
        ListKind::Atomic => Err("invalid indexing of non-associative list".into()),
    }
}

/// The OpenAPI default of a key field: only `protocol` (TCP) of the built-in port lists has
/// one.
fn key_default(elem: &Type, key: &str) -> Option<Value> {
    (key == "protocol" && matches!(elem, Type::Definition { .. })).then(|| "TCP".into())
}

/// The field set of `v`. With `strict`, bad list keys and duplicate items are errors (an
/// applied configuration); otherwise they are tolerated as upstream tolerates them in
/// stored objects.
pub fn to_field_set(ty: &Type, v: &Value, strict: bool) -> Result<Set, WalkErrors> {
    let mut set = Set::new();
    let mut errs = Vec::new();
    fs_walk(ty, v, &mut Vec::new(), &mut set, &mut errs, strict);
    if errs.is_empty() { Ok(set) } else { Err(errs) }
}

fn fs_walk(
    ty: &Type,
    v: &Value,
    path: &mut Path,
    set: &mut Set,
    errs: &mut WalkErrors,
    strict: bool,
) {
    match ty.shape(v) {
        Shape::Scalar => set.insert(path),
        Shape::List => {
            let (elem, kind) = ty.list();
            if kind == ListKind::Atomic || !matches!(ty, Type::List(_)) {
                set.insert(path);
                return;
            }
            let Value::Array(items) = v else { return };
            let mut pes = Vec::with_capacity(items.len());
            let mut seen = BTreeSet::new();
            let mut dups = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                match list_item_pe(&elem, &kind, item) {
                    Ok(pe) => {
                        if !seen.insert(pe.clone()) {
                            if strict {
                                errs.push(err_at(path, format!("duplicate entries for key {pe}")));
                            }
                            dups.insert(pe.clone());
                        }
                        pes.push(Some(pe));
                    }
                    Err(e) => {
                        if strict {
                            errs.push(err_at(path, format!("element {i}: {e}")));
                        }
                        pes.push(None);
                    }
                }
            }
            for pe in &dups {
                path.push(pe.clone());
                set.insert(path);
                path.pop();
            }
            for (item, pe) in items.iter().zip(pes) {
                let Some(pe) = pe else { continue };
                if dups.contains(&pe) {
                    continue;
                }
                path.push(pe);
                fs_walk(&elem, item, path, set, errs, strict);
                set.insert(path);
                path.pop();
            }
        }
        Shape::Map => {
            if ty.is_atomic() {
                set.insert(path);
                return;
            }
            let Value::Object(m) = v else { return };
            for (k, val) in m {
                let (ft, declared) = ty.field(k);
                path.push(PathElement::Field(k.clone()));
                fs_walk(&ft, val, path, set, errs, strict);
                let empty_map = matches!(val, Value::Object(o) if o.is_empty());
                if val.is_null() || empty_map || !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
    }
}

/// What changed between two objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    /// Drops the given fields and everything below them from the comparison.
    pub fn exclude(&mut self, fields: &Set) {
        if fields.is_empty() {
            return;
        }
        self.added = self.added.recursive_difference(fields);
        self.modified = self.modified.recursive_difference(fields);
        self.removed = self.removed.recursive_difference(fields);
    }
}

/// The fields added, modified and removed from `lhs` to `rhs`.
pub fn compare(ty: &Type, lhs: &Value, rhs: &Value) -> Comparison {
    let mut c = Comparison::default();
    cmp_walk(ty, &mut Vec::new(), Some(lhs), Some(rhs), &mut c);
    c
}

fn cmp_leaf(path: &Path, lhs: Option<&Value>, rhs: Option<&Value>, c: &mut Comparison) {
    match (lhs, rhs) {
        (None, _) => c.added.insert(path),
        (_, None) => c.removed.insert(path),
        (Some(l), Some(r)) => {
            if !values_equal(l, r) {
                c.modified.insert(path)
            }
        }
    }
}

/// The common shape of two sides, `None` when they differ (compared as a leaf).
fn common_shape(ty: &Type, lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Shape> {
    match (lhs.map(|v| ty.shape(v)), rhs.map(|v| ty.shape(v))) {
        (Some(a), Some(b)) if a != b => None,
        (Some(a), _) | (None, Some(a)) => Some(a),
        (None, None) => None,
    }
}

fn cmp_walk(
    ty: &Type,
    path: &mut Path,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    c: &mut Comparison,
) {
    let mut leaf = false;
    match common_shape(ty, lhs, rhs) {
        None | Some(Shape::Scalar) => leaf = true,
        Some(Shape::Map) => {
            let lm = lhs.and_then(Value::as_object);
            let rm = rhs.and_then(Value::as_object);
            let both_empty = lm.is_none_or(Map::is_empty) && rm.is_none_or(Map::is_empty);
            if ty.is_atomic() || both_empty {
                leaf = true;
            } else {
                for (k, lv) in lm.into_iter().flatten() {
                    let (ft, _) = ty.field(k);
                    path.push(PathElement::Field(k.clone()));
                    cmp_walk(&ft, path, Some(lv), rm.and_then(|r| r.get(k)), c);
                    path.pop();
                }
                for (k, rv) in rm.into_iter().flatten() {
                    if lm.is_some_and(|l| l.contains_key(k)) {
                        continue;
                    }
                    let (ft, _) = ty.field(k);
                    path.push(PathElement::Field(k.clone()));
                    cmp_walk(&ft, path, None, Some(rv), c);
                    path.pop();
                }
            }
        }
        Some(Shape::List) => {
            let ll = lhs.and_then(Value::as_array);
            let rl = rhs.and_then(Value::as_array);
            let both_empty = ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty);
            if ty.list_is_atomic() || both_empty {
                leaf = true;
            } else {
                cmp_list(ty, path, ll, rl, c);
            }
        }
    }
    if leaf {
        cmp_leaf(path, lhs, rhs, c);
    } else if lhs.is_none() {
        c.added.insert(path);
    } else if rhs.is_none() {
        c.removed.insert(path);
    }
}

fn group_items<'a>(
    elem: &Type,
    kind: &ListKind,
    items: Option<&'a Vec<Value>>,
    order: &mut Vec<PathElement>,
    known: &BTreeMap<PathElement, Vec<&Value>>,
) -> BTreeMap<PathElement, Vec<&'a Value>> {
    let mut out: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in items.into_iter().flatten() {
        let Ok(pe) = list_item_pe(elem, kind, item) else {
            continue;
        };
        if !out.contains_key(&pe) && !known.contains_key(&pe) {
            order.push(pe.clone());
        }
        out.entry(pe).or_default().push(item);
    }
    out
}

fn cmp_list(
    ty: &Type,
    path: &mut Path,
    ll: Option<&Vec<Value>>,
    rl: Option<&Vec<Value>>,
    c: &mut Comparison,
) {
    let (elem, kind) = ty.list();
    let mut order = Vec::new();
    let lvals = group_items(&elem, &kind, ll, &mut order, &BTreeMap::new());
    let rvals = group_items(&elem, &kind, rl, &mut order, &lvals);
    for pe in order {
        let l = lvals.get(&pe).map(Vec::as_slice).unwrap_or_default();
        let r = rvals.get(&pe).map(Vec::as_slice).unwrap_or_default();
        path.push(pe);
        match (l.len(), r.len()) {
            (0..=1, 0..=1) => cmp_walk(&elem, path, l.first().copied(), r.first().copied(), c),
            (2.., 2..) => {
                let same = l.len() == r.len() && l.iter().zip(r).all(|(a, b)| values_equal(a, b));
                if !same {
                    c.modified.insert(path);
                }
            }
            (2.., _) => {
                if let Some(rv) = r.first() {
                    cmp_walk(&elem, path, None, Some(rv), c);
                }
                c.removed.insert(path);
            }
            (_, _) => {
                if let Some(lv) = l.first() {
                    cmp_walk(&elem, path, Some(lv), None, c);
                }
                c.added.insert(path);
            }
        }
        path.pop();
    }
}

/// Merges the applied configuration `rhs` into `lhs`: struct fields and map keys merge one by
/// one, associative lists item by item (keeping lhs's order and placing new items as the
/// configuration orders them), atomic values are replaced.
pub fn merge(ty: &Type, lhs: &Value, rhs: &Value) -> Result<Value, WalkErrors> {
    let mut errs = Vec::new();
    let out = merge_walk(ty, &mut Vec::new(), Some(lhs), Some(rhs), &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(out.unwrap_or_else(|| Value::Object(Map::new())))
}

fn merge_walk(
    ty: &Type,
    path: &mut Path,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    errs: &mut WalkErrors,
) -> Option<Value> {
    let (l, r) = match (lhs, rhs) {
        (_, None) => return lhs.cloned(),
        (None, _) => return rhs.cloned(),
        (Some(l), Some(r)) => (l, r),
    };
    match common_shape(ty, lhs, rhs) {
        None | Some(Shape::Scalar) => Some(r.clone()),
        Some(Shape::Map) => {
            let lm = l.as_object();
            let rm = r.as_object();
            let both_empty = lm.is_none_or(Map::is_empty) && rm.is_none_or(Map::is_empty);
            if ty.is_atomic() || both_empty {
                return Some(r.clone());
            }
            let mut out = Map::new();
            for (k, lv) in lm.into_iter().flatten() {
                let (ft, _) = ty.field(k);
                path.push(PathElement::Field(k.clone()));
                if let Some(v) = merge_walk(&ft, path, Some(lv), rm.and_then(|m| m.get(k)), errs) {
                    out.insert(k.clone(), v);
                }
                path.pop();
            }
            for (k, rv) in rm.into_iter().flatten() {
                if !out.contains_key(k) && !lm.is_some_and(|m| m.contains_key(k)) {
                    out.insert(k.clone(), rv.clone());
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Some(Shape::List) => {
            let ll = l.as_array();
            let rl = r.as_array();
            let both_empty = ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty);
            if ty.list_is_atomic() || both_empty {
                return Some(r.clone());
            }
            merge_list(ty, path, ll, rl, errs)
        }
    }
}

type Indexed<'a> = (
    Vec<PathElement>,
    BTreeMap<PathElement, Value>,
    Vec<&'a Value>,
);

fn index_list<'a>(
    elem: &Type,
    kind: &ListKind,
    path: &Path,
    items: Option<&'a Vec<Value>>,
    allow_dups: bool,
    errs: &mut WalkErrors,
) -> Indexed<'a> {
    let mut pes = Vec::new();
    let mut observed = BTreeMap::new();
    let mut values = Vec::new();
    for (i, item) in items.into_iter().flatten().enumerate() {
        let pe = match list_item_pe(elem, kind, item) {
            Ok(pe) => pe,
            Err(e) => {
                errs.push(err_at(path, format!("element {i}: {e}")));
                continue;
            }
        };
        if observed.contains_key(&pe) {
            if !allow_dups {
                errs.push(err_at(path, format!("duplicate entries for key {pe}")));
                continue;
            }
            observed.insert(pe.clone(), Value::Null);
        } else {
            observed.insert(pe.clone(), item.clone());
        }
        pes.push(pe);
        values.push(item);
    }
    (pes, observed, values)
}

fn merge_list(
    ty: &Type,
    path: &mut Path,
    ll: Option<&Vec<Value>>,
    rl: Option<&Vec<Value>>,
    errs: &mut WalkErrors,
) -> Option<Value> {
    let (elem, kind) = ty.list();
    let before = errs.len();
    let (rpes, robs, _) = index_list(&elem, &kind, path, rl, false, errs);
    let (lpes, lobs, lvals) = index_list(&elem, &kind, path, ll, true, errs);
    if errs.len() != before {
        return None;
    }
    // Items both sides have, in the configuration's order: lhs items present in the
    // configuration are emitted where the configuration places them.
    let mut shared: VecDeque<&PathElement> =
        rpes.iter().filter(|pe| lobs.contains_key(pe)).collect();
    let mut next_shared = shared.pop_front();
    let mut merged_rhs: BTreeSet<PathElement> = BTreeSet::new();
    let mut out = Vec::new();
    let item = |pe: &PathElement,
                l: Option<&Value>,
                r: Option<&Value>,
                path: &mut Path,
                errs: &mut WalkErrors,
                out: &mut Vec<Value>| {
        path.push(pe.clone());
        if let Some(v) = merge_walk(&elem, path, l, r, errs) {
            out.push(v);
        }
        path.pop();
    };
    let (mut li, mut ri) = (0, 0);
    while li < lpes.len() || ri < rpes.len() {
        if let (Some(lpe), Some(rpe)) = (lpes.get(li), rpes.get(ri)) {
            if lpe == rpe {
                merged_rhs.insert(lpe.clone());
                item(lpe, lobs.get(lpe), robs.get(lpe), path, errs, &mut out);
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if robs.contains_key(lpe) && next_shared.is_some_and(|n| n != lpe) {
                li += 1;
                continue;
            }
        }
        if let Some(lpe) = lpes.get(li) {
            if !robs.contains_key(lpe) {
                item(lpe, lvals.get(li).copied(), None, path, errs, &mut out);
                li += 1;
                continue;
            } else if merged_rhs.contains(lpe) {
                li += 1;
            }
        }
        if let Some(rpe) = rpes.get(ri) {
            merged_rhs.insert(rpe.clone());
            item(rpe, lobs.get(rpe), robs.get(rpe), path, errs, &mut out);
            ri += 1;
            if next_shared.is_some_and(|n| n == rpe) {
                next_shared = shared.pop_front();
            }
        }
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// `v` without the fields in `set` (a member removes the field or item with everything
/// below it). Maps, structs and lists left empty by the removal disappear.
pub fn remove_items(ty: &Type, v: &Value, set: &Set) -> Value {
    remove_walk(ty, v, set).unwrap_or_else(|| Value::Object(Map::new()))
}

fn remove_walk(ty: &Type, v: &Value, set: &Set) -> Option<Value> {
    match ty.shape(v) {
        Shape::Scalar => Some(v.clone()),
        Shape::List => {
            let Value::Array(items) = v else { return None };
            if items.is_empty() || ty.list_is_atomic() {
                return None;
            }
            let (elem, kind) = ty.list();
            let mut out = Vec::new();
            for item in items {
                let Ok(pe) = list_item_pe(&elem, &kind, item) else {
                    out.push(item.clone());
                    continue;
                };
                if set.has(std::slice::from_ref(&pe)) {
                    continue;
                }
                match set.with_prefix(&pe) {
                    Some(sub) => out.extend(remove_walk(&elem, item, sub)),
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        Shape::Map => {
            let Value::Object(m) = v else { return None };
            if m.is_empty() || ty.is_atomic() {
                return None;
            }
            let mut out = Map::new();
            for (k, val) in m {
                let pe = PathElement::Field(k.clone());
                if set.members.contains(&pe) {
                    continue;
                }
                match set.with_prefix(&pe) {
                    Some(sub) => {
                        let (ft, _) = ty.field(k);
                        if let Some(nv) = remove_walk(&ft, val, sub) {
                            out.insert(k.clone(), nv);
                        }
                    }
                    None => {
                        out.insert(k.clone(), val.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
    }
}

/// `set` plus, as members, every declared struct field that has children in it, so removing
/// the set also removes struct fields left behind empty.
pub fn ensure_named_fields_are_members(set: &Set, ty: &Type) -> Set {
    let mut out = Set {
        members: set.members.clone(),
        children: BTreeMap::new(),
    };
    for (pe, child) in &set.children {
        let child_ty = match pe {
            PathElement::Field(name) => {
                let (ft, declared) = ty.field(name);
                if declared {
                    out.members.insert(pe.clone());
                }
                ft
            }
            PathElement::Key(_) => ty.list().0,
            _ => Type::Untyped,
        };
        out.children.insert(
            pe.clone(),
            ensure_named_fields_are_members(child, &child_ty),
        );
    }
    out
}
