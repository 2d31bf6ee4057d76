//! Subresources: status, scale, binding, log (proxied to the kubelet) and finalize.

use std::sync::Arc;

use apimachinery::registry::{self, ResourceInfo};
use apimachinery::selector::selector_string;
use apimachinery::status::{ApiError, success_status};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::ApiServer;
use crate::handler::Ctx;
use crate::object::{self, meta_str, now_rfc3339};
use crate::patch::{self, PatchKind};
use crate::request::ResourceRequest;
use crate::response;
use crate::rest::{self, guaranteed_update};

pub async fn handle(
    api: &Arc<ApiServer>,
    method: Method,
    r: &ResourceRequest,
    sub: &str,
    ctx: &Ctx,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name = r.name.as_deref().ok_or_else(ApiError::path_not_found)?;
    let ns = r.namespace.as_deref();
    match (sub, method) {
        ("status", Method::GET) => rest::get(api, r, ctx).await,
        ("status" | "finalize", Method::PUT) => {
            let new = object::parse_body(&body, &ctx.content_type)?;
            // Checked like any body: unknown fields (also under status) are pruned.
            let dups = crate::fields::body_duplicates(ctx, &body);
            let (new, warnings) = crate::fields::check(r.info, ctx, new, &dups)?;
            ctx.warn(warnings);
            let sub = if sub == "finalize" {
                None
            } else {
                Some("status")
            };
            let tracking = crate::managed::Tracking::new(r.info, ctx, sub)?;
            let out = guaranteed_update(api, r.info, ns, name, sub, ctx.dry_run(), |cur| {
                Ok(if sub.is_none() {
                    finalize(cur, &new)
                } else {
                    let mut next = new.clone();
                    tracking.update(r.info, Some(cur), &mut next);
                    next
                })
            })
            .await?;
            Ok(response::ok(&out))
        }
        ("status", Method::PATCH) => {
            let kind = PatchKind::from_content_type(&ctx.content_type)?;
            let doc = patch::parse(kind, &body)?;
            let tracking = crate::managed::Tracking::new(r.info, ctx, Some("status"))?;
            let schema = patch::schema_of(r.info);
            let force = ctx.flag("force");
            let out = guaranteed_update(
                api,
                r.info,
                ns,
                name,
                Some("status"),
                ctx.dry_run(),
                |cur| {
                    if kind == PatchKind::Apply {
                        return tracking.apply(r.info, Some(cur), &doc, force);
                    }
                    let next = patch::apply(kind, cur, &doc, schema.as_deref())?;
                    let (mut next, warnings) = crate::fields::check(r.info, ctx, next, &[])?;
                    ctx.warn(warnings);
                    tracking.update(r.info, Some(cur), &mut next);
                    Ok(next)
                },
            )
            .await?;
            Ok(response::ok(&out))
        }
        ("scale", Method::GET) => {
            let (obj, _) = rest::read(api, r.info, ns, name).await?;
            Ok(response::ok(&to_scale(r.info, &obj)))
        }
        ("scale", Method::PUT | Method::PATCH) => {
            let is_patch = ctx.content_type.contains("patch");
            let kind = if is_patch {
                Some(PatchKind::from_content_type(&ctx.content_type)?)
            } else {
                None
            };
            let doc = match kind {
                Some(k) => patch::parse(k, &body)?,
                None => object::parse_body(&body, &ctx.content_type)?,
            };
            let info = r.info;
            let tracking = crate::managed::Tracking::new(info, ctx, Some("scale"))?;
            let out = guaranteed_update(api, info, ns, name, None, ctx.dry_run(), |cur| {
                let scale = to_scale(info, cur);
                let desired = match kind {
                    Some(k) => patch::apply(k, &scale, &doc, Some(patch::SCALE_SCHEMA))?,
                    None => doc.clone(),
                };
                let replicas = desired
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| ApiError::bad_request("spec.replicas is required"))?;
                if replicas < 0 {
                    return Err(ApiError::invalid(
                        "autoscaling",
                        "Scale",
                        name,
                        vec![apimachinery::status::Cause::invalid(
                            "spec.replicas",
                            &replicas.to_string(),
                            "must be greater than or equal to 0",
                        )],
                    ));
                }
                let mut next = cur.clone();
                set_pointer(&mut next, &scale_pointers(info).0, json!(replicas));
                // A resourceVersion in the Scale is a precondition on the parent.
                match meta_str(&desired, "resourceVersion") {
                    Some(rv) if kind.is_none() => next["metadata"]["resourceVersion"] = json!(rv),
                    _ => {}
                }
                tracking.update(info, Some(cur), &mut next);
                Ok(next)
            })
            .await?;
            Ok(response::ok(&to_scale(info, &out)))
        }
        ("binding", Method::POST) => {
            let binding = object::parse_body(&body, &ctx.content_type)?;
            bind(api, ns.unwrap_or("default"), name, &binding, ctx.dry_run()).await
        }
        ("log", Method::GET) => {
            crate::kubelet_client::pod_log(api, ns.unwrap_or("default"), name, ctx).await
        }
        (sub, m) => Err(ApiError::method_not_supported(
            &format!("{}/{}", r.info.plural, sub),
            m.as_str(),
        )),
    }
}

/// `POST /api/v1/namespaces/{ns}/bindings`
pub async fn binding_collection(
    api: &Arc<ApiServer>,
    r: &ResourceRequest,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Response, ApiError> {
    let binding = object::parse_body(body, &ctx.content_type)?;
    let name = object::name(&binding).to_string();
    bind(
        api,
        r.namespace.as_deref().unwrap_or("default"),
        &name,
        &binding,
        ctx.dry_run(),
    )
    .await
}

/// Assigns a pod to a node, as the scheduler does through the binding subresource.
async fn bind(
    api: &Arc<ApiServer>,
    ns: &str,
    pod: &str,
    binding: &Value,
    dry_run: bool,
) -> Result<Response, ApiError> {
    let pods =
        registry::lookup("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods resource"))?;
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            pod,
            vec![apimachinery::status::Cause::required("target.name")],
        ));
    }
    let uid = binding
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(String::from);
    guaranteed_update(api, pods, Some(ns), pod, Some("binding"), dry_run, |cur| {
        if cur.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
            return Err(ApiError::conflict("", "pods", pod, "pod is being deleted, cannot be assigned to a host"));
        }
        if let Some(uid) = &uid
            && meta_str(cur, "uid") != Some(uid.as_str()) {
                return Err(ApiError::conflict("", "pods", pod, "the UID in the precondition does not match"));
            }
        if let Some(existing) = cur.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            return Err(ApiError::conflict("", "pods", pod, &format!("pod {pod} is already assigned to node \"{existing}\"")));
        }
        let mut next = cur.clone();
        next["spec"]["nodeName"] = json!(node);
        let mut conditions: Vec<Value> =
            next.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
        conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
        conditions.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now_rfc3339()}));
        next["status"]["conditions"] = json!(conditions);
        Ok(next)
    })
    .await?;
    Ok(response::json(
        StatusCode::CREATED,
        &success_status("", "", "", ""),
    ))
}

/// Where a scalable object keeps its replicas: spec, status, and (custom resources) the
/// selector string, as JSON pointers.
fn scale_pointers(info: &ResourceInfo) -> (String, String, Option<String>) {
    crate::crd::scale_pointers(info)
        .unwrap_or_else(|| ("/spec/replicas".into(), "/status/replicas".into(), None))
}

/// The `autoscaling/v1` Scale view of a scalable object.
fn to_scale(info: &ResourceInfo, obj: &Value) -> Value {
    let (spec_ptr, status_ptr, selector_ptr) = scale_pointers(info);
    let selector = match info.kind {
        _ if info.custom => selector_ptr
            .and_then(|p| obj.pointer(&p))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        "ReplicationController" => {
            let m = obj.pointer("/spec/selector").and_then(Value::as_object);
            let mut parts: Vec<String> = m
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            parts.sort();
            parts.join(",")
        }
        _ => selector_string(obj.pointer("/spec/selector").unwrap_or(&Value::Null)),
    };
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    let mut scale_meta = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(k) {
            scale_meta[k] = v.clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": obj.pointer(&spec_ptr).and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.pointer(&status_ptr).and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    })
}

/// Sets the value at a JSON pointer, creating objects on the way.
fn set_pointer(obj: &mut Value, pointer: &str, value: Value) {
    let mut cur = obj;
    let parts: Vec<&str> = pointer.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return;
        }
        cur = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

/// Namespace finalize: only `spec.finalizers` changes.
fn finalize(current: &Value, new: &Value) -> Value {
    let mut next = current.clone();
    next["spec"]["finalizers"] = new
        .pointer("/spec/finalizers")
        .cloned()
        .unwrap_or(json!([]));
    next
}
