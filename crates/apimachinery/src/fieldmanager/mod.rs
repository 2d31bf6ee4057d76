//! Server-side apply and `metadata.managedFields`: field ownership as kube-apiserver tracks it
//! (structured-merge-diff semantics plus the apiserver's field-manager decorators).
//!
//! The API server calls [`update`] on every non-apply write (create, update, merge / JSON /
//! strategic patch) and [`apply`] for `application/apply-patch+yaml` patches, with the
//! kind's [`Schema`] ([`Schema::for_kind`] for built-ins, [`Schema::from_crd`] for custom
//! resources).

mod conflict;
pub mod fieldsv1;
mod lastapplied;
mod managed;
pub mod path;
pub mod set;
mod typed;
mod types;
mod updater;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::status::ApiError;

pub use lastapplied::LAST_APPLIED;
pub use managed::MAX_UPDATE_MANAGERS;
pub use path::{Path, PathElement};
pub use set::Set;
pub use types::Schema;

use managed::{Managed, manager_id};
use path::PathElement as PE;
use types::Type;
use updater::ApplyError;

/// Upstream's longest field manager name.
const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// The manager identity SMD's Update runs under, merged into the real manager afterwards
/// so the entry's time only moves when the write changed something it now owns.
const CURRENT_OPERATION: &str = "current-operation";

/// Who writes, and how.
#[derive(Debug, Clone, Default)]
pub struct WriteContext {
    /// The field manager (`?fieldManager=`, or [`manager_from_user_agent`]).
    pub manager: String,
    /// The request's group/version, e.g. `apps/v1` or `v1`.
    pub api_version: String,
    /// The kind an applied configuration must declare.
    pub kind: String,
    /// `status`, `scale`, ... for writes to a subresource.
    pub subresource: Option<String>,
    /// The write's time, RFC 3339 (`2024-05-01T10:00:00Z`).
    pub time: String,
    /// Fields this write neither tracks nor owns (upstream's reset fields): `status` for writes
    /// to the main resource of a kind with a status subresource; for `/status` writes, every
    /// top-level field but `status` (e.g. `spec`, `metadata.labels`). Dotted paths allowed.
    pub ignored_top_level: Vec<String>,
}

impl WriteContext {
    fn ignored(&self) -> Set {
        let mut s = Set::new();
        for f in &self.ignored_top_level {
            let p: Path = f
                .split('.')
                .filter(|x| !x.is_empty())
                .map(|x| PE::Field(x.to_string()))
                .collect();
            s.insert(&p);
        }
        s
    }

    fn subresource(&self) -> &str {
        self.subresource.as_deref().unwrap_or("")
    }
}

/// The default field manager of a request without `fieldManager`: the User-Agent up to the
/// first `/`, printable characters only, at most 128 bytes (`kubectl-edit/v1.33.0 (...)` →
/// `kubectl-edit`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// Fields never owned: identity and server-set metadata.
fn strip_set() -> Set {
    let paths: [&[&str]; 12] = [
        &["apiVersion"],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ];
    let mut s = Set::new();
    for p in paths {
        let p: Path = p.iter().map(|x| PE::Field(x.to_string())).collect();
        s.insert(&p);
    }
    s
}

fn strip_meta(managed: &mut Managed, id: &str) {
    let Some(vs) = managed.fields.get_mut(id) else {
        return;
    };
    vs.set = vs.set.difference(&strip_set());
    if vs.set.is_empty() {
        managed.fields.remove(id);
    }
}

fn take_managed_fields(obj: &mut Value) -> Option<Value> {
    obj.get_mut("metadata")?
        .as_object_mut()?
        .remove("managedFields")
}

fn set_managed_fields(obj: &mut Value, managed: &Managed) {
    let Some(meta) = obj.as_object_mut().map(|o| {
        o.entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()))
    }) else {
        return;
    };
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    match managed::encode(managed) {
        Some(list) => {
            meta.insert("managedFields".into(), list);
        }
        None => {
            meta.remove("managedFields");
        }
    }
}

/// Go's zero value of a built-in kind as the apiserver compares a create against: value
/// (non-pointer) structs serialize even when empty, so they are not "added" by a create and
/// carry no `.` marker, and PodSpec's `containers` is an explicit null. Approximated by the
/// fields that are value structs in every built-in kind.
fn create_baseline(ty: &Type, new: &Value) -> Value {
    const VALUE_STRUCTS: [&str; 6] = [
        "metadata",
        "spec",
        "status",
        "template",
        "strategy",
        "updateStrategy",
    ];
    let mut out = serde_json::Map::new();
    let Value::Object(m) = new else {
        return Value::Object(out);
    };
    if let Type::Definition { name, .. } = ty
        && name.ends_with(".PodSpec")
        && m.contains_key("containers")
    {
        out.insert("containers".into(), Value::Null);
    }
    for (k, v) in m {
        if !VALUE_STRUCTS.contains(&k.as_str()) {
            continue;
        }
        let (ft, _) = ty.field(k);
        if matches!(ft, Type::Definition { .. }) && v.as_object().is_some_and(|o| !o.is_empty()) {
            out.insert(k.clone(), create_baseline(&ft, v));
        }
    }
    Value::Object(out)
}

/// Records a non-apply write in `new`'s `metadata.managedFields`. `old` is the live object
/// (`None` for a create). Managed fields sent with the request replace the live ones (`[{}]`
/// clears them); absent, empty or undecodable ones keep the live ones. As upstream, an
/// object that has no managed fields does not start tracking on update, and a failure to
/// track leaves the object without managed fields rather than failing the write.
pub fn update(
    schema: &Schema,
    old: Option<&Value>,
    new: &mut Value,
    ctx: &WriteContext,
) -> Result<(), ApiError> {
    let incoming = take_managed_fields(new);
    let mut live = match old {
        Some(o) => o.clone(),
        None if schema.is_builtin() => create_baseline(&schema.root, new),
        None => Value::Object(Default::default()),
    };
    let live_fields = take_managed_fields(&mut live);
    let mut managed = if incoming.as_ref().is_some_and(managed::is_reset) {
        Managed::default()
    } else {
        match incoming.as_ref().map(|i| managed::decode(Some(i))) {
            Some(Ok(m)) if !m.fields.is_empty() => m,
            _ => match managed::decode(live_fields.as_ref()) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "failed to decode managed fields; dropping them");
                    return Ok(());
                }
            },
        }
    };
    if managed.fields.is_empty() && old.is_some() {
        return Ok(());
    }
    let manager = if ctx.manager.is_empty() {
        "unknown"
    } else {
        &ctx.manager
    };
    let id = manager_id(manager, "Update", &ctx.api_version, ctx.subresource());
    updater::update(
        &schema.root,
        &live,
        new,
        &ctx.api_version,
        &mut managed.fields,
        CURRENT_OPERATION,
        &ctx.ignored(),
    );
    strip_meta(&mut managed, CURRENT_OPERATION);
    if let Some(mut cur) = managed.fields.remove(CURRENT_OPERATION) {
        if let Some(prev) = managed.fields.get(&id) {
            cur.set = cur.set.union(&prev.set);
        }
        managed.fields.insert(id.clone(), cur);
        managed.times.insert(id, ctx.time.clone());
    }
    managed::cap_update_managers(&mut managed, MAX_UPDATE_MANAGERS);
    set_managed_fields(new, &managed);
    Ok(())
}

fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{version}, Kind={kind}")
}

/// Server-side applies the configuration `config` for `ctx.manager` to `live` (`None`:
/// create) and returns the new object with its managed fields. Conflicts with fields other
/// managers own fail with 409 unless `force`. Run defaulting on the result afterwards, as
/// upstream does: fields nobody owns under a struct the applier stopped applying are removed
/// with it and defaults must come back.
pub fn apply(
    schema: &Schema,
    live: Option<&Value>,
    config: &Value,
    ctx: &WriteContext,
    force: bool,
) -> Result<Value, ApiError> {
    let str_of = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or("");
    if str_of("apiVersion") != ctx.api_version || str_of("kind") != ctx.kind {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {}",
            gvk_string(str_of("apiVersion"), str_of("kind"))
        )));
    }
    let mut live_obj = live
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let live_fields = take_managed_fields(&mut live_obj);
    let mut managed = managed::decode(live_fields.as_ref())
        .map_err(|e| ApiError::internal(format!("failed to decode managed fields: {e}")))?;
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(Value::is_array)
    {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let id = manager_id(&ctx.manager, "Apply", "", ctx.subresource());
    let ignored = ctx.ignored();
    let run = |managed: &mut Managed, force: bool| {
        updater::apply(
            &schema.root,
            &live_obj,
            config,
            &ctx.api_version,
            &mut managed.fields,
            &id,
            force,
            &ignored,
        )
    };
    let result = match run(&mut managed, force) {
        Err(ApplyError::Conflicts(conflicts)) if ctx.manager == lastapplied::KUBECTL => {
            let allowed = lastapplied::allowed_conflicts(&schema.root, &live_obj, &ctx.api_version);
            match allowed {
                Some(allowed) => {
                    let rest: updater::Conflicts = conflicts
                        .into_iter()
                        .filter(|(_, p)| !allowed.has(p))
                        .collect();
                    if rest.is_empty() {
                        run(&mut managed, true)
                    } else {
                        Err(ApplyError::Conflicts(rest))
                    }
                }
                None => Err(ApplyError::Conflicts(conflicts)),
            }
        }
        other => other,
    };
    let mut new = match result {
        Ok(v) => v,
        Err(ApplyError::Conflicts(c)) => return Err(conflict::conflict_error(&c)),
        Err(ApplyError::Invalid(errs)) => {
            return Err(ApiError::bad_request(format!(
                "failed to create typed patch object ({}): {}",
                gvk_string(&ctx.api_version, &ctx.kind),
                errs.join("\n")
            )));
        }
    };
    strip_meta(&mut managed, &id);
    if !path::values_equal(&new, &live_obj) || live.is_none() {
        managed.times.insert(id, ctx.time.clone());
    }
    if ctx.manager == lastapplied::KUBECTL {
        lastapplied::sync_annotation(&mut new, config);
    }
    set_managed_fields(&mut new, &managed);
    Ok(new)
}
