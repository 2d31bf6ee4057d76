//! `metadata.managedFields` on writes: who the field manager is (`?fieldManager=` or the
//! User-Agent), which schema the object is tracked with, and which fields a write to the
//! main resource or to `/status` leaves alone. The field sets themselves are
//! `apimachinery::fieldmanager`'s.

use apimachinery::fieldmanager::{self, Schema, WriteContext};
use apimachinery::registry::ResourceInfo;
use apimachinery::status::{ApiError, Cause};
use serde_json::Value;

use crate::handler::Ctx;
use crate::object::now_rfc3339;

/// Field ownership tracking for one write.
pub struct Tracking {
    schema: Schema,
    write: WriteContext,
}

/// Defaults the object as a decoded request body is upstream (the field manager sees
/// defaulted objects, so defaults are owned by whoever wrote the object).
pub fn apply_defaults(info: &ResourceInfo, obj: &mut Value) {
    if info.custom {
        crate::crd::apply_defaults(info, obj);
    } else {
        apimachinery::defaults::apply(info.kind, obj);
    }
}

fn schema_of(info: &ResourceInfo) -> Schema {
    if info.custom {
        return crate::crd::version_of(info)
            .and_then(|v| v.served.schema.clone())
            .map(|s| Schema::from_openapi_v3(&s))
            .unwrap_or_else(Schema::untyped);
    }
    Schema::for_kind(info.group, info.version, info.kind).unwrap_or_else(Schema::untyped)
}

impl Tracking {
    /// Tracking for a write to `info` (or its `subresource`) by the request's manager.
    pub fn new(
        info: &ResourceInfo,
        ctx: &Ctx,
        subresource: Option<&str>,
    ) -> Result<Tracking, ApiError> {
        let manager = match ctx.q("fieldManager") {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => fieldmanager::manager_from_user_agent(&ctx.user_agent),
        };
        if manager.len() > 128 {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![Cause {
                    reason: "FieldValueTooLong",
                    field: "fieldManager".into(),
                    message: "Too long: may not be more than 128 bytes".into(),
                }],
            ));
        }
        let ignored_top_level = match subresource {
            Some("status") => vec!["spec".to_string(), "metadata".to_string()],
            // The main resource and /scale (which writes the parent's replicas).
            _ if info.has_subresource("status") => vec!["status".to_string()],
            _ => Vec::new(),
        };
        Ok(Tracking {
            schema: schema_of(info),
            write: WriteContext {
                manager,
                api_version: info.api_version(),
                kind: info.kind.to_string(),
                subresource: subresource.map(String::from),
                time: now_rfc3339(),
                ignored_top_level,
            },
        })
    }

    /// A create, update or non-apply patch: the manager owns what it changed.
    pub fn update(&self, info: &ResourceInfo, old: Option<&Value>, new: &mut Value) {
        apply_defaults(info, new);
        // Upstream never fails a write over its managedFields.
        let _ = fieldmanager::update(&self.schema, old, new, &self.write);
    }

    /// Server-side apply of `config` to `live` (None: the object is created).
    pub fn apply(
        &self,
        info: &ResourceInfo,
        live: Option<&Value>,
        config: &Value,
        force: bool,
    ) -> Result<Value, ApiError> {
        let mut out = fieldmanager::apply(&self.schema, live, config, &self.write, force)?;
        apply_defaults(info, &mut out);
        Ok(out)
    }
}

/// Upstream requires a manager name for apply patches.
pub fn require_manager_for_apply(ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.q("fieldManager").is_some_and(|m| !m.is_empty()) {
        return Ok(());
    }
    Err(ApiError::invalid(
        "meta.k8s.io",
        "PatchOptions",
        "",
        vec![Cause {
            reason: "FieldValueRequired",
            field: "fieldManager".into(),
            message: "Required value: is required for apply patch".into(),
        }],
    ))
}
