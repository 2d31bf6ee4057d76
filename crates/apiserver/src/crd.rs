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

fn set_served(owner: u64, served: Served) {
    let mut all = VERSIONS.write().unwrap_or_else(|e| e.into_inner());
    if all.get(&owner).unwrap_or(&HashMap::new()) != &served {
        GENERATION.fetch_add(1, Ordering::SeqCst);
    }
    if served.is_empty() {
        all.remove(&owner);
    } else {
        all.insert(owner, served);
    }
}

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
        let unknown: Vec<String> = meta
            .keys()
            .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            meta.remove(&k);
            pruned.push(format!("metadata.{k}"));
        }
    }
    pruned
}

const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

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
                    custom::set(owner, Vec::new());
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

/// Names a definition's group already has in use, by whichever definition came first.
#[derive(Default)]
struct GroupNames {
    plurals: HashSet<String>,
    singulars: HashSet<String>,
    kinds: HashSet<String>,
    list_kinds: HashSet<String>,
    short_names: HashSet<String>,
}

impl GroupNames {
    /// The first conflict of `names` with names in use: (reason, message).
    fn conflict(&self, names: &Value) -> Option<(&'static str, String)> {
        let get = |k: &str| names.get(k).and_then(Value::as_str).unwrap_or_default();
        let checks: [(&str, &HashSet<String>, &'static str); 4] = [
            ("plural", &self.plurals, "PluralConflict"),
            ("singular", &self.singulars, "SingularConflict"),
            ("kind", &self.kinds, "KindConflict"),
            ("listKind", &self.list_kinds, "ListKindConflict"),
        ];
        for (field, used, reason) in checks {
            let v = get(field);
            if !v.is_empty() && used.contains(v) {
                return Some((reason, format!("{v:?} is already in use")));
            }
        }
        for short in names
            .get("shortNames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if self.short_names.contains(short) {
                return Some(("ShortNamesConflict", format!("{short:?} is already in use")));
            }
        }
        None
    }

    fn add(&mut self, names: &Value) {
        let get = |k: &str| {
            names
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        self.plurals.insert(get("plural"));
        self.singulars.insert(get("singular"));
        self.kinds.insert(get("kind"));
        self.list_kinds.insert(get("listKind"));
        for s in names
            .get("shortNames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            self.short_names.insert(s.to_string());
        }
    }
}

fn condition(ty: &str, ok: bool, reason: &str, message: &str) -> Value {
    json!({
        "type": ty,
        "status": if ok { "True" } else { "False" },
        "reason": reason,
        "message": message,
    })
}

/// The status a definition should have, given whether its names were accepted; keeps
/// transition times of conditions whose status did not change.
fn desired_status(crd: &Value, conflict: Option<&(&'static str, String)>) -> Value {
    let current = crd.get("status").cloned().unwrap_or(json!({}));
    let mut conditions = Vec::new();
    match conflict {
        None => {
            conditions.push(condition(
                "NamesAccepted",
                true,
                "NoConflicts",
                "no conflicts found",
            ));
            conditions.push(condition(
                "Established",
                true,
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ));
        }
        Some((reason, message)) => {
            conditions.push(condition("NamesAccepted", false, reason, message));
            conditions.push(condition(
                "Established",
                false,
                "NotAccepted",
                "not all names are accepted",
            ));
        }
    }
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
    let accepted = match conflict {
        None => crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
        Some(_) => current
            .get("acceptedNames")
            .cloned()
            .unwrap_or(json!({"plural": "", "kind": ""})),
    };
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
/// statuses that changed; cleans up after definitions being deleted.
async fn sync(api: &Arc<ApiServer>, owner: u64, crds: &BTreeMap<String, Value>) {
    let mut ordered: Vec<&Value> = crds.values().collect();
    ordered.sort_by_key(|c| {
        (
            str_at(c, "/metadata/creationTimestamp").to_string(),
            str_at(c, "/metadata/name").to_string(),
        )
    });
    let mut names: HashMap<String, GroupNames> = HashMap::new();
    let mut infos: Vec<ResourceInfo> = Vec::new();
    let mut versions: Vec<CustomVersion> = Vec::new();
    for crd in ordered {
        let group = str_at(crd, "/spec/group").to_string();
        let spec_names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
        let used = names.entry(group).or_default();
        let conflict = used.conflict(&spec_names);
        if conflict.is_none() {
            used.add(&spec_names);
        }
        let status = desired_status(crd, conflict.as_ref());
        if !same_status(crd.get("status"), &status) {
            write_status(api, crd, status).await;
        }
        if conflict.is_some() {
            continue;
        }
        let terminating = is_terminating(crd);
        if terminating {
            cleanup(api, crd).await;
        }
        for served in definition::served_versions(crd) {
            infos.push(resource_info(&served));
            versions.push(CustomVersion {
                served,
                terminating,
            });
        }
    }
    let entries = custom::set(owner, infos);
    let served: Served = entries
        .into_iter()
        .zip(versions)
        .map(|(info, version)| (key(info), (info, Arc::new(version))))
        .collect();
    set_served(owner, served);
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

/// Deletes a terminating definition's custom resources; once none are left, removes the
/// cleanup finalizer so the definition goes too.
async fn cleanup(api: &Arc<ApiServer>, crd: &Value) {
    let name = str_at(crd, "/metadata/name").to_string();
    let has_finalizer = crd
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x == CLEANUP_FINALIZER));
    if !has_finalizer {
        return;
    }
    let prefix = format!(
        "/registry/{}/{}/",
        str_at(crd, "/spec/group"),
        str_at(crd, "/spec/names/plural")
    );
    let served = definition::served_versions(crd);
    let Some(info) = served
        .first()
        .and_then(|v| registry::lookup(&v.group, &v.version, &v.plural))
    else {
        return;
    };
    let remaining = match api
        .store()
        .range(&prefix, store::RangeOptions::default())
        .await
    {
        Ok(r) => r.kvs,
        Err(e) => {
            tracing::warn!(crd = %name, %e, "could not list custom resources to delete");
            return;
        }
    };
    for kv in &remaining {
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
    if !remaining.is_empty() {
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
