//! PATCH bodies: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386), strategic merge patch
//! for built-in types (`apimachinery::strategic`, driven by the schema table), and apply
//! patches (server-side apply, here merged like a strategic patch until field ownership
//! tracking lands).

use apimachinery::registry::ResourceInfo;
use apimachinery::status::ApiError;
use apimachinery::{schema, strategic};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchKind::Apply),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }
}

pub fn parse(kind: PatchKind, body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = if kind == PatchKind::Apply {
        serde_yaml_ng::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
    };
    Ok(v)
}

/// Applies `patch` to `current`. `schema` is the OpenAPI definition of the object's kind
/// (see [`schema_of`]); `None` for kinds without one (custom resources), which cannot
/// take a strategic merge patch.
pub fn apply(
    kind: PatchKind,
    current: &Value,
    patch: &Value,
    schema: Option<&str>,
) -> Result<Value, ApiError> {
    let mut doc = current.clone();
    match kind {
        PatchKind::Json => {
            let p: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
                ApiError::bad_request(format!(
                    "the server rejected our request due to an error in our request: {e}"
                ))
            })?;
            // Upstream answers a failed operation with its generic 422 and drops the
            // operation's error (NewGenericServerResponse without causes).
            json_patch::patch(&mut doc, &p).map_err(|e| {
                tracing::debug!(%e, "JSON patch operation failed");
                ApiError::new(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                )
            })?;
        }
        PatchKind::Merge => json_patch::merge(&mut doc, patch),
        PatchKind::Strategic => {
            let Some(schema) = schema else {
                return Err(strategic_not_supported());
            };
            doc = strategic::apply(current, patch, Some(schema))?;
        }
        // Server-side apply, until field ownership lands: merged like a strategic patch
        // (untyped documents merge maps and replace lists).
        PatchKind::Apply => doc = strategic::apply(current, patch, schema)?,
    }
    Ok(doc)
}

/// The OpenAPI definition strategic merge patches of a built-in resource follow; `None`
/// for resources the schema table does not know (custom resources).
pub fn schema_of(info: &ResourceInfo) -> Option<String> {
    if info.custom {
        return None;
    }
    let def = schema::definition_name(info.group, info.version, info.kind);
    schema::property(&def, "metadata").map(|_| def)
}

/// The definition of the `scale` subresource's object.
pub const SCALE_SCHEMA: &str = "io.k8s.api.autoscaling.v1.Scale";

/// What kube-apiserver answers a strategic merge patch of a custom resource with: the
/// patch types such resources accept.
fn strategic_not_supported() -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POD: Option<&str> = Some("io.k8s.api.core.v1.Pod");

    #[test]
    fn strategic_merges_containers_by_name() {
        let cur = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let p = json!({"spec": {"containers": [{"name": "b", "image": "y:2"}]}});
        let out = apply(PatchKind::Strategic, &cur, &p, POD).unwrap();
        assert_eq!(out["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(out["spec"]["containers"][1]["image"], "y:2");
        let del = json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}});
        let out = apply(PatchKind::Strategic, &cur, &del, POD).unwrap();
        assert_eq!(out["spec"]["containers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn strategic_errors_carry_upstream_statuses() {
        let cur = json!({"spec": {"containers": [{"name": "a"}]}});
        let e = apply(
            PatchKind::Strategic,
            &cur,
            &json!({"spec": {"containers": [{"image": "x"}]}}),
            POD,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "map: map[image:x] does not contain declared merge key: name"
        );
        assert!((400..500).contains(&e.code));
        let e = apply(
            PatchKind::Strategic,
            &cur,
            &json!({"metadata": {"labels": {}}}),
            None,
        )
        .unwrap_err();
        assert_eq!((e.code, e.reason), (415, "UnsupportedMediaType"));
        assert!(e.message.contains("application/merge-patch+json"));
    }

    #[test]
    fn schema_of_built_ins_only() {
        let info = |group: &'static str, version: &'static str, kind: &'static str| ResourceInfo {
            group,
            version,
            kind,
            plural: "x",
            singular: "x",
            namespaced: true,
            short_names: &[],
            categories: &[],
            subresources: &[],
            storage: "x",
            create_only: false,
            custom: !group.is_empty() && !group.ends_with("k8s.io") && group.contains('.'),
        };
        assert_eq!(
            schema_of(&info("apps", "v1", "Deployment")).as_deref(),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        assert_eq!(
            schema_of(&info("", "v1", "Pod")).as_deref(),
            Some("io.k8s.api.core.v1.Pod")
        );
        assert_eq!(
            schema_of(&info("apps.example.com", "v1", "Deployment")),
            None
        );
        assert_eq!(schema_of(&info("example.com", "v1", "Widget")), None);
    }

    #[test]
    fn apply_patches_merge_without_schema() {
        let cur = json!({"spec": {"a": 1, "l": [1]}});
        let out = apply(
            PatchKind::Apply,
            &cur,
            &json!({"spec": {"b": 2, "l": [2]}}),
            None,
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"a": 1, "b": 2, "l": [2]}}));
    }

    #[test]
    fn merge_and_json_patch() {
        let cur = json!({"spec": {"replicas": 3, "x": [1, 2]}});
        let out = apply(
            PatchKind::Merge,
            &cur,
            &json!({"spec": {"replicas": 5}}),
            None,
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 5);
        let out = apply(
            PatchKind::Json,
            &cur,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 1}]),
            None,
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 1);
        assert!(
            apply(
                PatchKind::Json,
                &cur,
                &json!([{"op": "test", "path": "/spec/replicas", "value": 9}]),
                None,
            )
            .is_err()
        );
    }
}
