//! The ownership bookkeeping of one write (structured-merge-diff's Updater): which managers
//! lose fields a write changes, and, for apply, the merge, the pruning of fields the applier
//! stopped applying, and conflicts.

use serde_json::Value;

use super::managed::VersionedSet;
use super::path::Path;
use super::set::Set;
use super::typed::{
    Comparison, WalkErrors, compare, ensure_named_fields_are_members, merge, remove_items,
    to_field_set,
};
use super::types::Type;
use std::collections::BTreeMap;

pub type Managers = BTreeMap<String, VersionedSet>;

/// Fields another manager owns that a write would change: (manager identity, path).
pub type Conflicts = Vec<(String, Path)>;

/// Why an apply failed.
#[derive(Debug)]
pub enum ApplyError {
    Conflicts(Conflicts),
    /// The configuration or live object does not fit the schema.
    Invalid(WalkErrors),
}

/// Takes the fields `live` → `new` changes away from every manager but `workflow` (an error
/// instead when they differ in value and `force` is off) and drops emptied managers.
pub fn take_changed_fields(
    ty: &Type,
    live: &Value,
    new: &Value,
    managers: &mut Managers,
    workflow: &str,
    force: bool,
    ignored: &Set,
) -> Result<Comparison, Conflicts> {
    let mut cmp = compare(ty, live, new);
    cmp.exclude(ignored);
    let changed = cmp.modified.union(&cmp.added);
    let mut conflicts: Vec<(String, Set)> = Vec::new();
    for (id, vs) in managers.iter() {
        if id == workflow {
            continue;
        }
        let c = vs.set.intersection(&changed);
        if !c.is_empty() {
            conflicts.push((id.clone(), c));
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflicts
            .into_iter()
            .flat_map(|(id, s)| s.paths().into_iter().map(move |p| (id.clone(), p)))
            .collect());
    }
    for (id, c) in &conflicts {
        if let Some(vs) = managers.get_mut(id) {
            vs.set = vs.set.difference(c);
        }
    }
    if !cmp.removed.is_empty() {
        for (id, vs) in managers.iter_mut() {
            if id != workflow {
                vs.set = vs.set.difference(&cmp.removed);
            }
        }
    }
    managers.retain(|_, vs| !vs.set.is_empty());
    Ok(cmp)
}

/// A non-apply write by `manager`: it owns what it changed, keeps what it owned and still
/// exists, and others lose what it changed.
pub fn update(
    ty: &Type,
    live: &Value,
    new: &Value,
    version: &str,
    managers: &mut Managers,
    manager: &str,
    ignored: &Set,
) {
    let Ok(cmp) = take_changed_fields(ty, live, new, managers, manager, true, ignored) else {
        return;
    };
    let prev = managers
        .get(manager)
        .map(|vs| vs.set.clone())
        .unwrap_or_default();
    let set = prev
        .difference(&cmp.removed)
        .union(&cmp.modified)
        .union(&cmp.added)
        .recursive_difference(ignored);
    if set.is_empty() {
        managers.remove(manager);
    } else {
        managers.insert(
            manager.to_string(),
            VersionedSet {
                set,
                api_version: version.to_string(),
                applied: false,
            },
        );
    }
}

/// Server-side apply of `config` by `manager`; returns the new object.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    ty: &Type,
    live: &Value,
    config: &Value,
    version: &str,
    managers: &mut Managers,
    manager: &str,
    force: bool,
    ignored: &Set,
) -> Result<Value, ApplyError> {
    let set = to_field_set(ty, config, true).map_err(ApplyError::Invalid)?;
    let merged = merge(ty, live, config).map_err(ApplyError::Invalid)?;
    let last = managers
        .get(manager)
        .map(|vs| vs.set.recursive_difference(ignored));
    let mut trial = managers.clone();
    trial.insert(
        manager.to_string(),
        VersionedSet {
            set: set.recursive_difference(ignored),
            api_version: version.to_string(),
            applied: true,
        },
    );
    let new = prune(ty, merged, &trial, last.as_ref());
    take_changed_fields(ty, live, &new, &mut trial, manager, force, ignored)
        .map_err(ApplyError::Conflicts)?;
    *managers = trial;
    Ok(new)
}

/// Removes from `merged` the fields the applier applied last time (`last`) and no longer
/// applies, unless some manager (the applier included) still owns them.
fn prune(ty: &Type, merged: Value, managers: &Managers, last: Option<&Set>) -> Value {
    let Some(last) = last.filter(|l| !l.is_empty()) else {
        return merged;
    };
    let ensure = |s: &Set| ensure_named_fields_are_members(s, ty);
    let field_set = |v: &Value| to_field_set(ty, v, false).unwrap_or_default();
    let pruned = remove_items(ty, &merged, &ensure(last));
    // Add back what anyone owns.
    let owned = managers
        .values()
        .fold(Set::new(), |acc, vs| acc.union(&vs.set));
    let merged_set = ensure(&field_set(&merged));
    let pruned_set = ensure(&field_set(&pruned));
    let unowned_removed = merged_set.difference(&pruned_set.union(&ensure(&owned)));
    let pruned = remove_items(ty, &merged, &unowned_removed);
    // Add back what the removal took that the applier never owned.
    let pruned_set = ensure(&field_set(&pruned));
    let dangling = merged_set
        .difference(&pruned_set)
        .intersection(&ensure(last));
    remove_items(ty, &merged, &dangling)
}
