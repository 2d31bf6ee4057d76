//! The REST verbs on objects: get, list, create, update, patch, delete, deletecollection,
//! with kube-apiserver's metadata, concurrency and deletion semantics.

use apimachinery::registry::ResourceInfo;
use apimachinery::selector::{FieldSelector, LabelSelector};
use apimachinery::status::{ApiError, success_status};
use apimachinery::{defaults, validate};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use store::{RangeOptions, StoreError};

use crate::ApiServer;
use crate::handler::Ctx;
use crate::managed::Tracking;
use crate::object::{
    self, decode, encode, meta_str, metadata_mut, now_rfc3339, rfc3339_after, set_type_meta,
    spec_part, store_error,
};
use crate::request::ResourceRequest;
use crate::response;

/// The field selectors each kind supports besides metadata.name and metadata.namespace.
pub fn supported_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Secret" => &["type"],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        "Service" => &["spec.clusterIP", "spec.type"],
        _ => &[],
    }
}

/// The value a field selector compares for `field` of `obj`, as upstream's selectable
/// fields of each kind give it: a few read another field (Events' `source` is the
/// reporting component, Jobs' `status.successful` is `status.succeeded`), and unset
/// booleans and counts read as `false` and `0`.
pub fn selectable_value(kind: &str, field: &str, obj: &Value) -> String {
    let (path, unset) = match (kind, field) {
        ("Job", "status.successful") => ("status.succeeded", "0"),
        ("Event", "source") => ("source.component", ""),
        ("Pod", "spec.hostNetwork") | ("Node", "spec.unschedulable") => (field, "false"),
        ("ReplicaSet" | "ReplicationController", "status.replicas") => (field, "0"),
        _ => (field, ""),
    };
    let value = apimachinery::selector::field_value(obj, path);
    if value.is_empty() {
        unset.to_string()
    } else {
        value
    }
}

/// Parsed `labelSelector` and `fieldSelector` of a list or watch.
pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_ctx(info: &ResourceInfo, ctx: &Ctx) -> Result<Filter, ApiError> {
        let labels = LabelSelector::parse(ctx.q("labelSelector").unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(ctx.q("fieldSelector").unwrap_or_default())
            .map_err(ApiError::bad_request)?;
        let custom = crate::crd::version_of(info);
        let supported: Vec<&str> = match &custom {
            Some(v) => v
                .served
                .selectable_fields
                .iter()
                .map(String::as_str)
                .collect(),
            None if info.custom => Vec::new(),
            None => supported_fields(info.kind).to_vec(),
        };
        fields
            .check_supported(info.kind, &info.api_version(), &supported)
            .map_err(ApiError::bad_request)?;
        Ok(Filter { labels, fields })
    }

    /// Whether an object's selector view ([`crate::cache::selector_view`]) is selected.
    pub fn matches(&self, view: &Value) -> bool {
        self.labels.matches_object(view) && self.fields.matches_object(view)
    }
}

fn key_of(r: &ResourceRequest) -> Result<(String, &str), ApiError> {
    let name = r
        .name
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("a resource name is required"))?;
    Ok((r.info.key(r.namespace.as_deref(), name), name))
}

/// Reads one object or 404.
pub async fn read(
    api: &ApiServer,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
) -> Result<(Value, i64), ApiError> {
    let key = info.key(namespace, name);
    let kv = api
        .store()
        .get(&key)
        .await
        .map_err(|e| store_error(e, info, name))?;
    let kv = kv.ok_or_else(|| ApiError::not_found(info.group, info.plural, name))?;
    let mut obj = decode(&kv)?;
    object::to_served(&mut obj, info);
    Ok((obj, kv.mod_revision))
}

pub async fn get(api: &ApiServer, r: &ResourceRequest, ctx: &Ctx) -> Result<Response, ApiError> {
    let (_, name) = key_of(r)?;
    let (obj, _) = read(api, r.info, r.namespace.as_deref(), name).await?;
    if let Some(include) = ctx.table() {
        return Ok(response::ok(&object::table(
            r.info,
            &[obj],
            include,
            json!({}),
        )));
    }
    Ok(response::ok(&obj))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: i64,
    start: String,
}

fn parse_continue(token: &str) -> Result<ContinueToken, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| ApiError::bad_request("continue key is not valid: illegal base64 data"))?;
    serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion")
    })
}

fn continue_expired() -> ApiError {
    ApiError::expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
    )
}

/// Lists objects matching the request's selectors, honouring limit/continue and
/// resourceVersion. Returns the items and the list metadata.
pub async fn list_items(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
) -> Result<(Vec<Value>, Value), ApiError> {
    let filter = Filter::from_ctx(r.info, ctx)?;
    let limit = ctx
        .q("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let prefix = r.info.namespace_prefix(r.namespace.as_deref());
    let (mut revision, mut start_after) = (None, None);
    if let Some(token) = ctx.q("continue") {
        let t = parse_continue(token)?;
        revision = Some(t.rv);
        start_after = Some(t.start);
    } else if let Some(rv) = ctx.q("resourceVersion").filter(|rv| *rv != "0") {
        let rv: i64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
        if ctx.q("resourceVersionMatch") == Some("Exact")
            || (limit.is_some() && ctx.q("resourceVersionMatch").is_none())
        {
            revision = Some(rv);
        }
    }
    let mut items = Vec::new();
    let mut read_at = revision;
    let mut next_key: Option<String> = None;
    let continuing = revision.is_some() && ctx.q("continue").is_some();
    loop {
        let page = limit.map(|l| (l - items.len()).max(1) + 1);
        let res = api
            .store()
            .range(
                &prefix,
                RangeOptions {
                    revision: read_at,
                    limit: page,
                    start_after: start_after.clone(),
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Compacted { .. } if continuing => continue_expired(),
                StoreError::Compacted {
                    requested,
                    compacted,
                } => ApiError::expired(format!(
                    "too old resource version: {requested} ({compacted})"
                )),
                other => store_error(other, r.info, ""),
            })?;
        read_at = Some(res.revision);
        let count = res.kvs.len();
        for kv in &res.kvs {
            start_after = Some(kv.key.clone());
            let mut obj = decode(kv)?;
            if filter.matches(&crate::cache::selector_view(&obj)) {
                object::to_served(&mut obj, r.info);
                items.push(obj);
                if limit.is_some_and(|l| items.len() >= l) {
                    break;
                }
            }
        }
        let filled = limit.is_some_and(|l| items.len() >= l);
        let exhausted = !res.more
            && start_after
                .as_ref()
                .is_none_or(|s| res.kvs.last().is_none_or(|kv| &kv.key == s));
        if filled {
            // More remain if this page had keys after the last one taken, or the store has more.
            let last_taken = start_after.clone().unwrap_or_default();
            let beyond = res.kvs.iter().any(|kv| kv.key > last_taken) || res.more;
            if beyond {
                next_key = Some(last_taken);
            }
            break;
        }
        if exhausted || count == 0 || limit.is_none() {
            break;
        }
    }
    Ok((items, list_meta(read_at.unwrap_or_default(), next_key)))
}

/// A list's metadata: its resourceVersion and, if more remain, the continue token that
/// resumes after `next_key` at the same revision.
fn list_meta(rv: i64, next_key: Option<String>) -> Value {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if let Some(k) = next_key {
        let token = serde_json::to_vec(&ContinueToken { rv, start: k }).unwrap_or_default();
        meta["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(token));
    }
    meta
}

/// Serves a list from the watch cache when it can: everything but `resourceVersionMatch=Exact`
/// and continue tokens whose snapshot the cache no longer holds. A paginated list keeps a
/// snapshot of the cache for its later pages, so all pages show one revision (upstream
/// 1.33 reads those from etcd; its ListFromCacheSnapshot feature does the same as we do).
/// None means "read the store".
async fn list_from_cache(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    filter: &Filter,
) -> Result<Option<crate::cache::Page>, ApiError> {
    let cache = api.cache();
    if ctx.q("resourceVersionMatch") == Some("Exact") || !cache.ensure_started(api.store()) {
        return Ok(None);
    }
    let limit = ctx
        .q("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let prefix = r.info.namespace_prefix(r.namespace.as_deref());
    if let Some(token) = ctx.q("continue") {
        let t = parse_continue(token)?;
        return Ok(cache.continue_page(&prefix, t.rv, &t.start, limit, |obj| filter.matches(obj)));
    }
    let fresh = match ctx.q("resourceVersion").filter(|rv| !rv.is_empty()) {
        None => cache.wait_fresh(api.store()).await,
        Some("0") => true,
        Some(rv) => {
            let rv: i64 = rv
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
            // A version with a limit and no match rule means exactly that version.
            if limit.is_some() && ctx.q("resourceVersionMatch").is_none() {
                return Ok(None);
            }
            if !cache.wait_for(rv, crate::cache::FRESHNESS_WAIT).await {
                return Err(too_large_resource_version(rv, cache.revision()));
            }
            true
        }
    };
    if !fresh {
        return Ok(None);
    }
    Ok(cache.list(&prefix, limit, |obj| filter.matches(obj)))
}

/// Upstream's answer when a resourceVersion newer than anything known was asked for.
pub(crate) fn too_large_resource_version(requested: i64, current: i64) -> ApiError {
    let mut err = ApiError::new(
        504,
        "Timeout",
        format!("Too large resource version: {requested}, current: {current}"),
    );
    err.details = Some(json!({
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1
    }));
    err
}

pub async fn list(api: &ApiServer, r: &ResourceRequest, ctx: &Ctx) -> Result<Response, ApiError> {
    let filter = Filter::from_ctx(r.info, ctx)?;
    if let Some(page) = list_from_cache(api, r, ctx, &filter).await? {
        let meta = list_meta(page.revision, page.next_key);
        if let Some(include) = ctx.table() {
            let items: Vec<Value> = page.items.iter().map(|o| o.typed(r.info)).collect();
            return Ok(response::ok(&object::table(r.info, &items, include, meta)));
        }
        // The items' JSON is serialized once per object version and shared.
        let head = json!({
            "kind": object::list_kind(r.info),
            "apiVersion": r.info.api_version(),
            "metadata": meta,
        });
        let mut body = serde_json::to_vec(&head).unwrap_or_default();
        body.pop(); // the closing brace
        body.extend_from_slice(b",\"items\":[");
        for (i, obj) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&obj.json(r.info));
        }
        body.extend_from_slice(b"]}");
        return Ok(response::ok_json_bytes(body));
    }
    let (items, meta) = list_items(api, r, ctx).await?;
    if let Some(include) = ctx.table() {
        return Ok(response::ok(&object::table(r.info, &items, include, meta)));
    }
    // `json!` would deep-copy every item; moving them in does not.
    let mut list = json!({
        "kind": object::list_kind(r.info),
        "apiVersion": r.info.api_version(),
        "metadata": meta,
    });
    list["items"] = Value::Array(items);
    Ok(response::ok(&list))
}

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..5)
        .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
        .collect()
}

/// Checks the namespace exists and is not terminating (NamespaceLifecycle admission).
async fn check_namespace(
    api: &ApiServer,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    let ns_info = apimachinery::registry::lookup("", "v1", "namespaces")
        .ok_or_else(|| ApiError::internal("no namespaces"))?;
    let (ns, _) = read(api, ns_info, None, namespace).await?;
    if ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        && info.kind != "Event"
    {
        let mut err = ApiError::forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
            info.group_resource(),
            name,
            namespace
        ));
        err.details = Some(json!({
            "name": name,
            "group": info.group,
            "kind": info.plural,
            "causes": [{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {namespace} is being terminated"),
                "field": "metadata.namespace"
            }]
        }));
        return Err(err);
    }
    Ok(())
}

/// Creates an object (the internal entry point shared by REST, bootstrap and subresources).
pub async fn create_object(
    api: &ApiServer,
    info: &'static ResourceInfo,
    namespace: Option<&str>,
    mut obj: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not an object",
        ));
    }
    if let Some(kind) = obj.get("kind").and_then(Value::as_str)
        && kind != info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            obj.get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            info.api_version()
        )));
    }
    set_type_meta(&mut obj, info);
    let body_ns = meta_str(&obj, "namespace").map(String::from);
    let namespace = if info.namespaced {
        let ns = namespace
            .map(String::from)
            .or(body_ns.clone())
            .unwrap_or_else(|| "default".into());
        if body_ns.as_ref().is_some_and(|b| *b != ns) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let name = meta_str(&obj, "name").unwrap_or_default();
        check_namespace(api, info, &ns, name).await.map_err(|e| {
            if e.code == 404 {
                ApiError::not_found("", "namespaces", &ns)
            } else {
                e
            }
        })?;
        Some(ns)
    } else {
        None
    };
    let generate_name = meta_str(&obj, "generateName").map(String::from);
    let explicit_name = meta_str(&obj, "name").map(String::from);
    if explicit_name.is_none() && generate_name.is_none() {
        return Err(ApiError::invalid(
            info.group,
            info.kind,
            "",
            vec![apimachinery::status::Cause {
                reason: "FieldValueRequired",
                field: "metadata.name".into(),
                message: "Required value: name or generateName is required".into(),
            }],
        ));
    }
    {
        let meta = metadata_mut(&mut obj)
            .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        meta.remove("resourceVersion");
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("selfLink");
        meta.insert("generation".into(), json!(1));
        match &namespace {
            Some(ns) => {
                meta.insert("namespace".into(), json!(ns));
            }
            None => {
                meta.remove("namespace");
            }
        }
    }
    if info.custom {
        crate::crd::prepare_for_create(info, &mut obj)?;
    } else {
        prepare_for_create(info.kind, &mut obj);
        defaults::apply(info.kind, &mut obj);
    }

    let _guard = if info.kind == "Service" {
        Some(api.allocator.lock().await)
    } else {
        None
    };
    if info.kind == "Service" {
        api.allocator.allocate(api, &mut obj, None).await?;
    }
    for attempt in 0..8 {
        if explicit_name.is_none() {
            let base = generate_name.clone().unwrap_or_default();
            if let Some(meta) = metadata_mut(&mut obj) {
                meta.insert("name".into(), json!(format!("{base}{}", random_suffix())));
            }
        }
        let name = object::name(&obj).to_string();
        let causes = if info.custom {
            crate::crd::validate(info, &obj, None)
        } else {
            validate::validate(info.kind, &obj)
        };
        if !causes.is_empty() {
            return Err(ApiError::invalid(info.group, info.kind, &name, causes));
        }
        if dry_run {
            return Ok(obj);
        }
        let key = info.key(namespace.as_deref(), &name);
        match api.store().create(&key, encode(info, &obj)?).await {
            Ok(kv) => {
                object::set_resource_version(&mut obj, kv.mod_revision);
                return Ok(obj);
            }
            Err(StoreError::AlreadyExists(_)) if explicit_name.is_none() && attempt < 7 => continue,
            Err(e) => return Err(store_error(e, info, &name)),
        }
    }
    Err(ApiError::internal("could not generate a unique name"))
}

/// Kind-specific state an object starts with (status is the system's to write).
fn prepare_for_create(kind: &str, obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    match kind {
        "Pod" => {
            let qos = qos_class(m.get("spec").unwrap_or(&Value::Null));
            m.insert(
                "status".into(),
                json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        "Namespace" => {
            m.insert("status".into(), json!({"phase": "Active"}));
        }
        // Its custom resources are deleted before it goes.
        "CustomResourceDefinition" => {
            let meta = m.entry("metadata").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(f) = finalizers.as_array_mut()
                    && !f
                        .iter()
                        .any(|x| x == apimachinery::crd::definition::CLEANUP_FINALIZER)
                {
                    f.push(json!(apimachinery::crd::definition::CLEANUP_FINALIZER));
                }
            }
            m.remove("status");
        }
        // Upstream's zero-valued statuses: fields without `omitempty` are serialized even
        // when zero (clients such as the Python client require them).
        "ReplicaSet" | "ReplicationController" => {
            m.insert("status".into(), json!({"replicas": 0}));
        }
        "StatefulSet" => {
            m.insert(
                "status".into(),
                json!({"replicas": 0, "availableReplicas": 0}),
            );
        }
        "DaemonSet" => {
            m.insert(
                "status".into(),
                json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
                       "desiredNumberScheduled": 0, "numberReady": 0}),
            );
        }
        "Deployment" | "Job" | "CronJob" => {
            m.insert("status".into(), json!({}));
        }
        "Service" => {
            m.insert("status".into(), json!({"loadBalancer": {}}));
        }
        _ => {}
    }
}

/// The pod's QoS class from its containers' requests and limits.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        if req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = lim.and_then(|l| l.get(res));
            let r = req.and_then(|r| r.get(res)).or(l);
            if l.is_none() || r != l {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

pub async fn create(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let obj = object::parse_body(body, &ctx.content_type)?;
    let dups = crate::fields::body_duplicates(ctx, body);
    let (mut obj, warnings) = crate::fields::check(r.info, ctx, obj, &dups)?;
    Tracking::new(r.info, ctx, None)?.update(r.info, None, &mut obj);
    let created = create_object(api, r.info, r.namespace.as_deref(), obj, ctx.dry_run()).await?;
    ctx.warn(warnings);
    Ok(response::json(StatusCode::CREATED, &created))
}

/// Merges an update into the current object as upstream's update strategies do: status is
/// only written through /status (and only status is), metadata the system owns is kept,
/// and `generation` follows spec changes.
fn prepare_update(
    info: &ResourceInfo,
    subresource: Option<&str>,
    old: &Value,
    new: Value,
) -> Result<Value, ApiError> {
    let mut out = match subresource {
        // The binding subresource sets spec.nodeName and the PodScheduled condition.
        Some("binding") => new,
        Some("status") => {
            let mut o = old.clone();
            if let (Some(m), Some(status)) = (o.as_object_mut(), new.get("status")) {
                m.insert("status".into(), status.clone());
            }
            // The write's field ownership (computed on `new`) is kept, as upstream's
            // ResetObjectMetaForStatus keeps managedFields.
            if let Some(managed) = new.pointer("/metadata/managedFields")
                && let Some(meta) = metadata_mut(&mut o)
            {
                meta.insert("managedFields".into(), managed.clone());
            }
            o
        }
        _ => {
            let mut n = new;
            if info.has_subresource("status")
                && let Some(m) = n.as_object_mut()
            {
                match old.get("status") {
                    Some(s) => m.insert("status".into(), s.clone()),
                    None => m.remove("status"),
                };
            }
            n
        }
    };
    if !out.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request is not an object",
        ));
    }
    set_type_meta(&mut out, info);
    let old_name = object::name(old).to_string();
    if let Some(n) = meta_str(&out, "name")
        && n != old_name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({old_name})"
        )));
    }
    let generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    // Custom resources without a status subresource count status changes too (upstream's
    // custom resource strategy bumps generation on any change but metadata).
    let spec_changed = if info.custom && !info.has_subresource("status") {
        without_metadata(old) != without_metadata(&out)
    } else {
        spec_part(old) != spec_part(&out)
    };
    let meta = metadata_mut(&mut out)
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
    for key in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match old.get("metadata").and_then(|m| m.get(key)) {
            Some(v) => meta.insert(key.into(), v.clone()),
            None => meta.remove(key),
        };
    }
    meta.insert(
        "generation".into(),
        json!(if spec_changed {
            generation + 1
        } else {
            generation
        }),
    );
    if info.custom {
        crate::crd::apply_defaults(info, &mut out);
    } else {
        defaults::apply(info.kind, &mut out);
    }
    Ok(out)
}

fn without_metadata(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(m) = copy.as_object_mut() {
        m.remove("metadata");
    }
    copy
}

/// Reads, changes and writes one object, retrying on conflicts the caller did not ask to
/// see (kube-apiserver's GuaranteedUpdate). `change` gets the current object and returns
/// the desired one; a resourceVersion in its result is a precondition.
pub async fn guaranteed_update<F>(
    api: &ApiServer,
    info: &'static ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
    dry_run: bool,
    mut change: F,
) -> Result<Value, ApiError>
where
    F: FnMut(&Value) -> Result<Value, ApiError>,
{
    let key = info.key(namespace, name);
    loop {
        let kv = api
            .store()
            .get(&key)
            .await
            .map_err(|e| store_error(e, info, name))?;
        let kv = kv.ok_or_else(|| ApiError::not_found(info.group, info.plural, name))?;
        let mut current = decode(&kv)?;
        object::to_served(&mut current, info);
        // The callback sees the object as read, resourceVersion included (a JSON patch may
        // `replace` or `test` it). A version in its result is a precondition: the one read
        // here passes, any other is a conflict, as upstream.
        let desired = change(&current)?;
        if let Some(rv) = meta_str(&desired, "resourceVersion")
            && rv != kv.mod_revision.to_string()
        {
            return Err(ApiError::modified_conflict(info.group, info.plural, name));
        }
        let _guard = if info.kind == "Service" {
            Some(api.allocator.lock().await)
        } else {
            None
        };
        let mut merged = prepare_update(info, subresource, &current, desired)?;
        if info.kind == "Service" && subresource.is_none() {
            api.allocator
                .allocate(api, &mut merged, Some(&current))
                .await?;
        }
        // Update rules (immutable fields, pod spec updates) apply to the main resource;
        // subresources (status, binding, scale) change only what they own.
        let causes = match subresource {
            _ if info.custom => {
                let mut causes = crate::crd::validate(info, &merged, Some(&current));
                validate::meta::object_meta_update(&merged, &current, &mut causes);
                causes
            }
            None => validate::validate_update(info.kind, &merged, &current),
            Some(_) => validate::validate(info.kind, &merged),
        };
        if !causes.is_empty() {
            return Err(ApiError::invalid(info.group, info.kind, name, causes));
        }
        object::set_resource_version(&mut merged, kv.mod_revision);
        if merged == current || dry_run {
            return Ok(merged);
        }
        match api
            .store()
            .update(&key, encode(info, &merged)?, kv.mod_revision)
            .await
        {
            Ok(new_kv) => {
                object::set_resource_version(&mut merged, new_kv.mod_revision);
                if deletion_complete(info, &merged) {
                    match api.store().delete(&key, Some(new_kv.mod_revision)).await {
                        Ok(_) | Err(StoreError::NotFound(_)) | Err(StoreError::Conflict { .. }) => {
                        }
                        Err(e) => return Err(store_error(e, info, name)),
                    }
                }
                return Ok(merged);
            }
            // Changed since it was read: read again (a client's precondition then fails).
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(store_error(e, info, name)),
        }
    }
}

/// An object marked for deletion with no finalizers left and no grace period to wait for
/// (for a namespace, also no `spec.finalizers`: the namespace controller empties it first).
fn deletion_complete(info: &ResourceInfo, obj: &Value) -> bool {
    if info.kind == "Namespace" && has_spec_finalizers(obj) {
        return false;
    }
    let meta = obj.get("metadata");
    let deleting = meta
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|v| !v.is_null());
    let finalizers = meta
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let grace = meta
        .and_then(|m| m.get("deletionGracePeriodSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    deleting && !finalizers && grace == 0
}

pub async fn update(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (_, name) = key_of(r)?;
    let new = object::parse_body(body, &ctx.content_type)?;
    let dups = crate::fields::body_duplicates(ctx, body);
    let (new, warnings) = crate::fields::check(r.info, ctx, new, &dups)?;
    ctx.warn(warnings);
    // Custom resources allow no unconditional updates (upstream's strategy).
    if r.info.custom && meta_str(&new, "resourceVersion").is_none() {
        return Err(ApiError::invalid(
            r.info.group,
            r.info.kind,
            name,
            vec![apimachinery::status::Cause {
                reason: "FieldValueInvalid",
                field: "metadata.resourceVersion".into(),
                message: "Invalid value: 0x0: must be specified for an update".into(),
            }],
        ));
    }
    if let Some(n) = meta_str(&new, "name")
        && n != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    let tracking = Tracking::new(r.info, ctx, None)?;
    let result = guaranteed_update(
        api,
        r.info,
        r.namespace.as_deref(),
        name,
        None,
        ctx.dry_run(),
        |current| {
            let mut next = new.clone();
            tracking.update(r.info, Some(current), &mut next);
            Ok(next)
        },
    )
    .await;
    match result {
        Err(e) if e.code == 404 && allow_create_on_update(r.info.kind) => {
            let mut new = new;
            tracking.update(r.info, None, &mut new);
            let created =
                create_object(api, r.info, r.namespace.as_deref(), new, ctx.dry_run()).await?;
            Ok(response::json(StatusCode::CREATED, &created))
        }
        other => Ok(response::ok(&other?)),
    }
}

/// Kinds whose PUT creates a missing object, as upstream's strategies allow.
fn allow_create_on_update(kind: &str) -> bool {
    matches!(
        kind,
        "Endpoints"
            | "Event"
            | "Lease"
            | "Role"
            | "RoleBinding"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "LimitRange"
    )
}

pub async fn patch(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (_, name) = key_of(r)?;
    let kind = crate::patch::PatchKind::from_content_type(&ctx.content_type)?;
    let patch_doc = crate::patch::parse(kind, body)?;
    let schema = crate::patch::schema_of(r.info);
    let dups = crate::fields::body_duplicates(ctx, body);
    let apply = kind == crate::patch::PatchKind::Apply;
    if apply {
        crate::managed::require_manager_for_apply(ctx)?;
    }
    let force = ctx.flag("force");
    let tracking = Tracking::new(r.info, ctx, None)?;
    // An applied configuration is checked like a request body, once.
    let config = if apply {
        let (config, w) = crate::fields::check(r.info, ctx, patch_doc.clone(), &dups)?;
        ctx.warn(w);
        Some(config)
    } else {
        None
    };
    // The patched object is checked like a request body; warnings of the attempt that
    // succeeds are the ones sent.
    let warnings = std::sync::Mutex::new(Vec::new());
    let result = guaranteed_update(
        api,
        r.info,
        r.namespace.as_deref(),
        name,
        None,
        ctx.dry_run(),
        |current| {
            if let Some(config) = &config {
                return tracking.apply(r.info, Some(current), config, force);
            }
            let patched = crate::patch::apply(kind, current, &patch_doc, schema.as_deref())?;
            let (mut patched, w) = crate::fields::check(r.info, ctx, patched, &dups)?;
            *warnings.lock().unwrap_or_else(|e| e.into_inner()) = w;
            tracking.update(r.info, Some(current), &mut patched);
            Ok(patched)
        },
    )
    .await;
    ctx.warn(warnings.into_inner().unwrap_or_else(|e| e.into_inner()));
    match result {
        Err(e) if e.code == 404 && apply => {
            let config = config.unwrap_or_default();
            if let Some(n) = meta_str(&config, "name")
                && n != name
            {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            let mut obj = tracking.apply(r.info, None, &config, force)?;
            if let Some(meta) = metadata_mut(&mut obj) {
                meta.insert("name".into(), json!(name));
            }
            let created =
                create_object(api, r.info, r.namespace.as_deref(), obj, ctx.dry_run()).await?;
            Ok(response::json(StatusCode::CREATED, &created))
        }
        other => Ok(response::ok(&other?)),
    }
}

/// Parsed DeleteOptions (from the body and the query).
#[derive(Debug, Default, Clone)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub propagation: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    pub fn parse(ctx: &Ctx, body: &[u8]) -> Result<Self, ApiError> {
        let mut o = DeleteOptions {
            dry_run: ctx.dry_run(),
            ..Default::default()
        };
        if !body.iter().all(u8::is_ascii_whitespace) {
            let v: Value = object::parse_body(body, &ctx.content_type)?;
            o.grace_period = v.get("gracePeriodSeconds").and_then(Value::as_i64);
            o.propagation = v
                .get("propagationPolicy")
                .and_then(Value::as_str)
                .map(String::from);
            if v.get("orphanDependents").and_then(Value::as_bool) == Some(true)
                && o.propagation.is_none()
            {
                o.propagation = Some("Orphan".into());
            }
            o.precondition_uid = v
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from);
            o.precondition_rv = v
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from);
            if v.get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|d| d == "All"))
            {
                o.dry_run = true;
            }
        }
        if let Some(g) = ctx.q("gracePeriodSeconds").and_then(|g| g.parse().ok()) {
            o.grace_period = Some(g);
        }
        if let Some(p) = ctx.q("propagationPolicy") {
            o.propagation = Some(p.to_string());
        }
        if let Some(p) = &o.propagation
            && !["Orphan", "Background", "Foreground"].contains(&p.as_str())
        {
            return Err(ApiError::invalid(
                "",
                "DeleteOptions",
                "",
                vec![apimachinery::status::Cause::not_supported(
                    "propagationPolicy",
                    p,
                    &["Foreground", "Background", "Orphan"],
                )],
            ));
        }
        Ok(o)
    }
}

/// Deletes one object; returns (deleted now?, the object as it is after the call).
pub async fn delete_object(
    api: &ApiServer,
    info: &'static ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> Result<(bool, Value), ApiError> {
    let key = info.key(namespace, name);
    loop {
        let kv = api
            .store()
            .get(&key)
            .await
            .map_err(|e| store_error(e, info, name))?;
        let kv = kv.ok_or_else(|| ApiError::not_found(info.group, info.plural, name))?;
        let mut obj = decode(&kv)?;
        object::to_served(&mut obj, info);
        if let Some(uid) = &opts.precondition_uid {
            let actual = meta_str(&obj, "uid").unwrap_or_default();
            if actual != uid {
                return Err(ApiError::conflict(
                    info.group,
                    info.plural,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    ),
                ));
            }
        }
        if let Some(rv) = &opts.precondition_rv
            && *rv != kv.mod_revision.to_string()
        {
            return Err(ApiError::conflict(
                info.group,
                info.plural,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    kv.mod_revision
                ),
            ));
        }
        let grace = if info.kind == "Pod" {
            pod_grace(&obj, opts.grace_period)
        } else {
            0
        };
        let mut updated = obj.clone();
        let meta = metadata_mut(&mut updated)
            .ok_or_else(|| ApiError::internal("object without metadata"))?;
        let mut finalizers: Vec<Value> = meta
            .get("finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let already_deleting = meta.get("deletionTimestamp").is_some_and(|v| !v.is_null());
        // A namespace with spec.finalizers is only marked: the namespace controller empties
        // it, removes its finalizer through /finalize, and that removes the namespace.
        let namespace_finalizing = info.kind == "Namespace" && has_spec_finalizers(&obj);
        if namespace_finalizing && already_deleting {
            return Err(ApiError::conflict(
                info.group,
                info.plural,
                name,
                "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
            ));
        }
        let finalizer = match opts.propagation.as_deref() {
            Some("Orphan") => Some("orphan"),
            Some("Foreground") => Some("foregroundDeletion"),
            _ => None,
        };
        if let Some(f) = finalizer
            && !finalizers.iter().any(|x| x == f)
        {
            finalizers.push(json!(f));
        }
        if grace > 0 || !finalizers.is_empty() || namespace_finalizing {
            let current_grace = meta
                .get("deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            if already_deleting && current_grace.is_some_and(|g| g <= grace) && finalizer.is_none()
            {
                return Ok((false, obj));
            }
            meta.insert("deletionTimestamp".into(), json!(rfc3339_after(grace)));
            meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            if finalizers.is_empty() {
                meta.remove("finalizers");
            } else {
                meta.insert("finalizers".into(), json!(finalizers));
            }
            if namespace_finalizing {
                updated["status"]["phase"] = json!("Terminating");
            }
            if opts.dry_run {
                return Ok((false, updated));
            }
            match api
                .store()
                .update(&key, encode(info, &updated)?, kv.mod_revision)
                .await
            {
                Ok(new_kv) => {
                    object::set_resource_version(&mut updated, new_kv.mod_revision);
                    return Ok((false, updated));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_error(e, info, name)),
            }
        }
        if opts.dry_run {
            return Ok((true, obj));
        }
        match api.store().delete(&key, Some(kv.mod_revision)).await {
            Ok(deleted) => {
                object::set_resource_version(&mut obj, deleted.mod_revision);
                return Ok((true, obj));
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(store_error(e, info, name)),
        }
    }
}

fn has_spec_finalizers(obj: &Value) -> bool {
    obj.pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// The grace period a pod deletion waits for: none for pods no kubelet runs.
fn pod_grace(pod: &Value, requested: Option<i64>) -> i64 {
    let scheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !scheduled || phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    let default = pod
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    // A zero grace period from a client means "as soon as possible" (1 s), unless the
    // kubelet itself finishes the deletion of an already terminating pod.
    match requested {
        Some(0)
            if pod
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null()) =>
        {
            0
        }
        Some(g) => g.max(0),
        None => default.max(0),
    }
}

pub async fn delete(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (_, name) = key_of(r)?;
    let opts = DeleteOptions::parse(ctx, body)?;
    let (deleted, obj) = delete_object(api, r.info, r.namespace.as_deref(), name, &opts).await?;
    if !deleted {
        return Ok(response::json(StatusCode::ACCEPTED, &obj));
    }
    // Upstream's registries for these kinds answer a delete with the deleted object
    // (`ReturnDeletedObject`); the rest answer with a Success status.
    if matches!(
        r.info.kind,
        "Pod" | "Service" | "ServiceAccount" | "StorageClass"
    ) {
        return Ok(response::ok(&obj));
    }
    Ok(response::ok(&success_status(
        r.info.group,
        r.info.plural,
        name,
        meta_str(&obj, "uid").unwrap_or_default(),
    )))
}

pub async fn delete_collection(
    api: &ApiServer,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let opts = DeleteOptions::parse(ctx, body)?;
    let (items, meta) = list_items(api, r, ctx).await?;
    let mut out = Vec::new();
    for item in items {
        let name = object::name(&item).to_string();
        let ns = meta_str(&item, "namespace").map(String::from);
        match delete_object(api, r.info, ns.as_deref(), &name, &opts).await {
            Ok((_, obj)) => out.push(obj),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(response::ok(&json!({
        "kind": object::list_kind(r.info),
        "apiVersion": r.info.api_version(),
        "metadata": meta,
        "items": out,
    })))
}
