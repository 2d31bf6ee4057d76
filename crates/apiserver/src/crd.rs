//! Serving CustomResourceDefinitions, as apiextensions-apiserver does inside
//! kube-apiserver: a task follows the definitions (from the watch cache), decides which
//! names each one may use (NamesAccepted), serves the accepted ones (Established) through
//! the same REST handlers as built-in resources, and, when a definition is deleted,
//! deletes its custom resources before letting it go (its cleanup finalizer).
//!
//! Custom resources are plain JSON checked against the version's structural schema
//! (`apimachinery::crd::structural`): unknown fields are pruned, defaults applied, values
//! validated. All versions share the storage version's storage; conversion is `None`
//! (only `apiVersion` changes).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use apimachinery::crd::definition::{self, CLEANUP_FINALIZER, ServedVersion};
use apimachinery::crd::{columns, structural};
use apimachinery::registry::{self, ResourceInfo, custom};
use apimachinery::status::{ApiError, Cause};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::ApiServer;
use crate::object::now_rfc3339;
use crate::rest::{self, DeleteOptions};

/// One served version of a custom resource, as the handlers need it.
#[derive(Debug, PartialEq)]
pub struct CustomVersion {
    pub served: ServedVersion,
    /// The definition is being deleted: no new objects.
    pub terminating: bool,
}

/// Each server's served custom versions, by registry entry (entries are interned, so the
/// address names one group/version/resource with one shape).
type Served = HashMap<usize, (&'static ResourceInfo, Arc<CustomVersion>)>;
static VERSIONS: LazyLock<RwLock<BTreeMap<u64, Served>>> = LazyLock::new(Default::default);

/// Bumped whenever what is served changes (the OpenAPI documents follow it).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current generation of served custom resources (0: none were ever served).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// Every served custom version (of every server in the process).
pub fn served() -> Vec<(&'static ResourceInfo, Arc<CustomVersion>)> {
    let all = VERSIONS.read().unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<(&'static ResourceInfo, Arc<CustomVersion>)> = Vec::new();
    for (info, v) in all.values().flat_map(|m| m.values()) {
        if !out.iter().any(|(i, _)| std::ptr::eq(*i, *info)) {
            out.push((info, v.clone()));
        }
    }
    out
}

/// Sets what server `owner` serves; whether that changed.
fn set_served(owner: u64, served: Served) -> bool {
    let mut all = VERSIONS.write().unwrap_or_else(|e| e.into_inner());
    let changed = all.get(&owner).unwrap_or(&HashMap::new()) != &served;
    if changed {
        GENERATION.fetch_add(1, Ordering::SeqCst);
    }
    if served.is_empty() {
        all.remove(&owner);
    } else {
        all.insert(owner, served);
    }
    changed
}

/// Definitions (by uid) whose objects a cleanup task is deleting.
static CLEANING: LazyLock<std::sync::Mutex<HashSet<String>>> = LazyLock::new(Default::default);

fn key(info: &ResourceInfo) -> usize {
    info as *const ResourceInfo as usize
}

/// The custom version `info` serves, if it is a custom resource.
pub fn version_of(info: &ResourceInfo) -> Option<Arc<CustomVersion>> {
    if !info.custom {
        return None;
    }
    let all = VERSIONS.read().unwrap_or_else(|e| e.into_inner());
    all.values()
        .find_map(|m| m.get(&key(info)))
        .map(|(_, v)| v.clone())
}

fn crd_info() -> &'static ResourceInfo {
    registry::lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .expect("the CRD resource is built in")
}

// ---- what the REST handlers call for custom resources ----

/// Drops fields the schema does not declare; returns their paths (for fieldValidation).
pub fn prune(info: &ResourceInfo, obj: &mut Value) -> Vec<String> {
    let Some(v) = version_of(info) else {
        return Vec::new();
    };
    let mut pruned = match &v.served.schema {
        Some(schema) => structural::prune(obj, schema),
        None => Vec::new(),
    };
    // metadata is ObjectMeta: anything else in it is unknown.
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        structural::prune_object_meta(meta, "metadata", &mut pruned);
    }
    pruned
}

/// Create: refuses while the definition terminates; status is the status
/// subresource's to write; defaults apply.
pub fn prepare_for_create(info: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    let Some(v) = version_of(info) else {
        return Ok(());
    };
    if v.terminating {
        return Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "create not allowed while custom resource definition is terminating",
        ));
    }
    if v.served.status
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    apply_defaults(info, obj);
    Ok(())
}

pub fn apply_defaults(info: &ResourceInfo, obj: &mut Value) {
    if let Some(schema) = version_of(info).and_then(|v| v.served.schema.clone()) {
        structural::apply_defaults(obj, &schema);
    }
}

/// Metadata rules (names are DNS subdomains, as upstream's custom resource strategy
/// has it), then the schema and its `x-kubernetes-validations` rules; `old` is the
/// stored object on updates (transition rules compare with it).
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = Vec::new();
    // "" is no built-in kind: the generic name rule and no scope table entry.
    apimachinery::validate::meta::object_meta("", obj, &mut causes);
    if let Some(schema) = version_of(info).and_then(|v| v.served.schema.clone()) {
        causes.extend(structural::validate(obj, old, &schema));
    }
    causes
}

/// A Table of custom resources with the version's printer columns.
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    include_object: &str,
    list_meta: Value,
) -> Option<Value> {
    let v = version_of(info)?;
    Some(columns::build_table(
        &v.served.columns,
        objects,
        include_object,
        list_meta,
        k8s_openapi::jiff::Timestamp::now(),
    ))
}

/// The storage version's apiVersion for a custom resource (conversion `None`).
pub fn storage_api_version(info: &ResourceInfo) -> Option<String> {
    let v = version_of(info)?;
    Some(format!("{}/{}", v.served.group, v.served.storage_version))
}

/// JSON pointers of the scale subresource: spec replicas, status replicas, selector.
pub fn scale_pointers(info: &ResourceInfo) -> Option<(String, String, Option<String>)> {
    let v = version_of(info)?;
    let scale = v.served.scale.as_ref()?;
    let pointer = |path: &str| path.replace('.', "/");
    Some((
        pointer(&scale.spec_replicas),
        pointer(&scale.status_replicas),
        scale.label_selector.as_deref().map(pointer),
    ))
}

// ---- following the definitions ----

/// Follows the definitions until shutdown.
pub async fn run(api: Arc<ApiServer>, owner: u64, shutdown: CancellationToken) {
    let prefix = crd_info().key_prefix();
    loop {
        let cache = api.cache();
        if !cache.ensure_started(api.store()) || !cache.wait_fresh(api.store()).await {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
            }
        }
        let Some(mut sub) = cache.subscribe(&prefix, None, true) else {
            continue;
        };
        let mut crds: BTreeMap<String, Value> = sub
            .initial
            .iter()
            .map(|o| (o.key.clone(), o.typed(crd_info())))
            .collect();
        sync(&api, owner, &crds).await;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    custom::publish(owner, Vec::new());
                    set_served(owner, HashMap::new());
                    return;
                }
                ev = sub.live.recv() => match ev {
                    Ok(ev) if ev.object.key.starts_with(&prefix) => {
                        match ev.kind {
                            store::EventKind::Put => {
                                crds.insert(ev.object.key.clone(), ev.object.typed(crd_info()));
                            }
                            store::EventKind::Delete => {
                                crds.remove(&ev.object.key);
                            }
                        }
                        sync(&api, owner, &crds).await;
                    }
                    Ok(_) => {}
                    // Fell behind or the cache reloaded: start over from its state.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                },
                // Definitions being deleted wait for their objects to go.
                _ = tick.tick(), if crds.values().any(is_terminating) => {
                    sync(&api, owner, &crds).await;
                }
            }
        }
    }
}

fn is_terminating(crd: &Value) -> bool {
    crd.pointer("/metadata/deletionTimestamp").is_some()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The names a group's definitions hold (their `status.acceptedNames`): resource names
/// (plural, singular, short names) and kinds (kind, listKind).
#[derive(Default)]
struct UsedNames {
    resources: HashSet<String>,
    kinds: HashSet<String>,
}

impl UsedNames {
    fn of_group<'a>(accepted: impl Iterator<Item = &'a Value>) -> UsedNames {
        let mut used = UsedNames::default();
        for names in accepted {
            for k in ["plural", "singular"] {
                used.resources
                    .insert(str_at(names, &format!("/{k}")).to_string());
            }
            for short in strings(names.get("shortNames")) {
                used.resources.insert(short);
            }
            for k in ["kind", "listKind"] {
                used.kinds
                    .insert(str_at(names, &format!("/{k}")).to_string());
            }
        }
        used
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A requested name is fine if the definition already holds it or nobody does.
fn fresh_or_ours(requested: &str, accepted: &str, used: &HashSet<String>) -> Result<(), String> {
    if requested == accepted || !used.contains(requested) {
        Ok(())
    } else {
        Err(format!("{requested:?} is already in use"))
    }
}

/// The names a definition may use and its NamesAccepted condition, as upstream's naming
/// controller decides them: each requested name that is its own already or unused is
/// accepted; the condition reports the last conflict found (plural, singular, short names,
/// kind, listKind, in that order).
fn accept_names(crd: &Value, used: &UsedNames) -> (Value, Option<(&'static str, String)>) {
    let requested = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let accepted = crd
        .pointer("/status/acceptedNames")
        .cloned()
        .unwrap_or(json!({}));
    let req = |k: &str| str_at(&requested, &format!("/{k}")).to_string();
    let acc = |k: &str| str_at(&accepted, &format!("/{k}")).to_string();
    let mut names = serde_json::Map::new();
    let mut conflict = None;
    // One name: the requested value if accepted, else the held one and a conflict.
    let take = |field: &str, reason: &'static str, set: &HashSet<String>| match fresh_or_ours(
        &req(field),
        &acc(field),
        set,
    ) {
        Ok(()) => (json!(req(field)), None),
        Err(message) => (json!(acc(field)), Some((reason, message))),
    };
    for (field, reason) in [
        ("plural", "PluralConflict"),
        ("singular", "SingularConflict"),
    ] {
        let (value, c) = take(field, reason, &used.resources);
        names.insert(field.into(), value);
        conflict = c.or(conflict);
    }
    let requested_short = strings(requested.get("shortNames"));
    let accepted_short = strings(accepted.get("shortNames"));
    let mut short_conflicts = Vec::new();
    if requested_short != accepted_short {
        for short in &requested_short {
            // Ours already, or our own plural/singular (which `used` includes).
            if accepted_short.contains(short)
                || *short == acc("plural")
                || *short == acc("singular")
            {
                continue;
            }
            if let Err(e) = fresh_or_ours(short, "", &used.resources) {
                short_conflicts.push(e);
            }
        }
    }
    let short_names = if short_conflicts.is_empty() {
        requested_short
    } else {
        let message = if short_conflicts.len() == 1 {
            short_conflicts.remove(0)
        } else {
            format!("[{}]", short_conflicts.join(", "))
        };
        conflict = Some(("ShortNamesConflict", message));
        accepted_short
    };
    for (field, reason) in [("kind", "KindConflict"), ("listKind", "ListKindConflict")] {
        let (value, c) = take(field, reason, &used.kinds);
        names.insert(field.into(), value);
        conflict = c.or(conflict);
    }
    // Upstream's omitempty fields are left out when empty.
    for k in ["singular", "listKind"] {
        if names.get(k).and_then(Value::as_str) == Some("") {
            names.remove(k);
        }
    }
    if !short_names.is_empty() {
        names.insert("shortNames".into(), json!(short_names));
    }
    let categories = strings(requested.get("categories"));
    if !categories.is_empty() {
        names.insert("categories".into(), json!(categories));
    }
    (Value::Object(names), conflict)
}

fn condition(ty: &str, ok: bool, reason: &str, message: &str) -> Value {
    json!({
        "type": ty,
        "status": if ok { "True" } else { "False" },
        "reason": reason,
        "message": message,
    })
}

fn is_established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Established")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The status a definition should have: its accepted names and NamesAccepted condition;
/// Established once its names were all accepted (and from then on, as upstream);
/// Terminating while it is deleted. Transition times of unchanged conditions are kept.
fn desired_status(
    crd: &Value,
    accepted: &Value,
    conflict: Option<&(&'static str, String)>,
) -> Value {
    let current = crd.get("status").cloned().unwrap_or(json!({}));
    let mut conditions = Vec::new();
    conditions.push(match conflict {
        None => condition("NamesAccepted", true, "NoConflicts", "no conflicts found"),
        Some((reason, message)) => condition("NamesAccepted", false, reason, message),
    });
    conditions.push(if conflict.is_none() || is_established(crd) {
        condition(
            "Established",
            true,
            "InitialNamesAccepted",
            "the initial names have been accepted",
        )
    } else {
        condition(
            "Established",
            false,
            "NotAccepted",
            "not all names are accepted",
        )
    });
    if is_terminating(crd) {
        conditions.push(condition(
            "Terminating",
            true,
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        ));
    }
    let old_conditions = current
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = now_rfc3339();
    for c in &mut conditions {
        let old = old_conditions
            .iter()
            .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"));
        c["lastTransitionTime"] = old
            .and_then(|o| o.get("lastTransitionTime").cloned())
            .unwrap_or(json!(now));
    }
    let mut stored: Vec<Value> = current
        .get("storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(storage) = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name"))
        && !stored.contains(storage)
    {
        stored.push(storage.clone());
    }
    json!({
        "acceptedNames": accepted,
        "conditions": conditions,
        "storedVersions": stored,
    })
}

/// Recomputes names, conditions and served versions from the definitions; writes the
/// statuses that changed; cleans up after definitions being deleted. Definitions are
/// considered oldest first, and names one accepts in this pass count as held for the next.
async fn sync(api: &Arc<ApiServer>, owner: u64, crds: &BTreeMap<String, Value>) {
    let mut ordered: Vec<&Value> = crds.values().collect();
    ordered.sort_by_key(|c| {
        (
            str_at(c, "/metadata/creationTimestamp").to_string(),
            str_at(c, "/metadata/name").to_string(),
        )
    });
    let mut accepted: BTreeMap<String, (String, Value)> = ordered
        .iter()
        .map(|c| {
            (
                str_at(c, "/metadata/name").to_string(),
                (
                    str_at(c, "/spec/group").to_string(),
                    c.pointer("/status/acceptedNames")
                        .cloned()
                        .unwrap_or(json!({})),
                ),
            )
        })
        .collect();
    let mut infos: Vec<ResourceInfo> = Vec::new();
    let mut versions: Vec<CustomVersion> = Vec::new();
    let mut status_writes: Vec<(&Value, Value)> = Vec::new();
    let mut cleanups: Vec<(Value, bool)> = Vec::new();
    for crd in ordered {
        let name = str_at(crd, "/metadata/name").to_string();
        let group = str_at(crd, "/spec/group");
        let used = UsedNames::of_group(
            accepted
                .values()
                .filter(|(g, _)| g == group)
                .map(|(_, names)| names),
        );
        let (names, conflict) = accept_names(crd, &used);
        accepted.insert(name, (group.to_string(), names.clone()));
        let status = desired_status(crd, &names, conflict.as_ref());
        if !same_status(crd.get("status"), &status) {
            status_writes.push((crd, status));
        }
        let terminating = is_terminating(crd);
        let established = conflict.is_none() || is_established(crd);
        if terminating {
            // A definition that never served objects leaves the objects under its names
            // to the definition that holds them.
            cleanups.push((crd.clone(), established));
        }
        if !established
            || str_at(&names, "/plural").is_empty()
            || str_at(&names, "/kind").is_empty()
        {
            continue;
        }
        // Served under the accepted names, as upstream.
        let mut serving = crd.clone();
        let mut served_names = names.clone();
        if served_names.get("listKind").is_none() {
            served_names["listKind"] = json!(format!("{}List", str_at(&names, "/kind")));
        }
        if served_names.get("singular").is_none() {
            served_names["singular"] = json!(str_at(&names, "/kind").to_lowercase());
        }
        serving["spec"]["names"] = served_names;
        for served in definition::served_versions(&serving) {
            infos.push(resource_info(&served));
            versions.push(CustomVersion {
                served,
                terminating,
            });
        }
    }
    // What the handlers need about a version is in place before it is routable, and both
    // before any condition says Established.
    let entries: Vec<&'static ResourceInfo> = infos.into_iter().map(custom::intern_info).collect();
    let served: Served = entries
        .iter()
        .zip(versions)
        .map(|(info, version)| (key(info), (*info, Arc::new(version))))
        .collect();
    let changed = set_served(owner, served);
    custom::publish(owner, entries.clone());
    if changed {
        // Objects cached before their definition was served (at start-up) or before its
        // selectable fields changed get their selector views again.
        for info in &entries {
            api.cache().refresh_views(&info.key_prefix());
        }
    }
    for (crd, status) in status_writes {
        write_status(api, crd, status).await;
    }
    for (crd, established) in cleanups {
        let uid = str_at(&crd, "/metadata/uid").to_string();
        if !CLEANING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uid.clone())
        {
            continue;
        }
        // Deleting many objects must not hold up naming and establishing.
        let api = api.clone();
        tokio::spawn(async move {
            cleanup(&api, &crd, established).await;
            CLEANING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&uid);
        });
    }
}

/// Statuses compare without transition times (they are only kept, never the cause).
fn same_status(current: Option<&Value>, desired: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(cs) = v.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in cs {
                if let Some(m) = c.as_object_mut() {
                    m.remove("lastTransitionTime");
                }
            }
        }
        v
    };
    current.map(strip) == Some(strip(desired))
}

fn resource_info(v: &ServedVersion) -> ResourceInfo {
    let mut subresources = Vec::new();
    if v.status {
        subresources.push("status".to_string());
    }
    if v.scale.is_some() {
        subresources.push("scale".to_string());
    }
    ResourceInfo {
        group: custom::intern(&v.group),
        version: custom::intern(&v.version),
        kind: custom::intern(&v.kind),
        plural: custom::intern(&v.plural),
        singular: custom::intern(&v.singular),
        namespaced: v.namespaced,
        short_names: custom::intern_list(&v.short_names),
        categories: custom::intern_list(&v.categories),
        subresources: custom::intern_list(&subresources),
        storage: custom::intern(&format!("{}/{}", v.group, v.plural)),
        create_only: false,
        custom: true,
    }
}

async fn write_status(api: &Arc<ApiServer>, crd: &Value, status: Value) {
    let name = str_at(crd, "/metadata/name").to_string();
    let result =
        rest::guaranteed_update(api, crd_info(), None, &name, Some("status"), false, |cur| {
            let mut next = cur.clone();
            next["status"] = status.clone();
            Ok(next)
        })
        .await;
    if let Err(e) = result
        && e.code != 404
    {
        tracing::warn!(crd = %name, %e, "could not update the definition's status");
    }
}

/// Deletes a terminating definition's custom resources (when `owns_objects`); once none
/// are left, removes the cleanup finalizer so the definition goes too.
async fn cleanup(api: &Arc<ApiServer>, crd: &Value, owns_objects: bool) {
    let name = str_at(crd, "/metadata/name").to_string();
    let has_finalizer = crd
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x == CLEANUP_FINALIZER));
    if !has_finalizer {
        return;
    }
    if owns_objects && !delete_objects(api, crd, &name).await {
        return;
    }
    let result = rest::guaranteed_update(api, crd_info(), None, &name, None, false, |cur| {
        let mut next = cur.clone();
        if let Some(f) = next
            .pointer_mut("/metadata/finalizers")
            .and_then(Value::as_array_mut)
        {
            f.retain(|x| x != CLEANUP_FINALIZER);
        }
        Ok(next)
    })
    .await;
    if let Err(e) = result
        && e.code != 404
    {
        tracing::warn!(crd = %name, %e, "could not remove the cleanup finalizer");
    }
}

/// Deletes a definition's custom resources (honouring their finalizers when a version is
/// served; directly from the store when none is); true once none are left.
async fn delete_objects(api: &Arc<ApiServer>, crd: &Value, name: &str) -> bool {
    let prefix = format!(
        "/registry/{}/{}/",
        str_at(crd, "/spec/group"),
        str_at(crd, "/spec/names/plural")
    );
    let info = definition::served_versions(crd)
        .first()
        .and_then(|v| registry::lookup(&v.group, &v.version, &v.plural));
    let remaining = match api
        .store()
        .range(&prefix, store::RangeOptions::default())
        .await
    {
        Ok(r) => r.kvs,
        Err(e) => {
            tracing::warn!(crd = %name, %e, "could not list custom resources to delete");
            return false;
        }
    };
    for kv in &remaining {
        let Some(info) = info else {
            if let Err(e) = api.store().delete(&kv.key, None).await {
                tracing::warn!(crd = %name, key = %kv.key, %e, "could not delete custom resource");
            }
            continue;
        };
        let Ok(obj) = serde_json::from_slice::<Value>(&kv.value) else {
            continue;
        };
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let obj_name = str_at(&obj, "/metadata/name");
        if let Err(e) =
            rest::delete_object(api, info, ns, obj_name, &DeleteOptions::default()).await
            && e.code != 404
        {
            tracing::warn!(crd = %name, object = obj_name, %e, "could not delete custom resource");
        }
    }
    remaining.is_empty()
}
