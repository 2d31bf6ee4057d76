//! PATCH bodies: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386), strategic merge patch
//! for built-in types (merge keys of the lists kubectl and controllers patch), and apply
//! patches (server-side apply, here merged like a strategic patch until field ownership
//! tracking lands).

use apimachinery::status::ApiError;
use serde_json::{Map, Value};

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

pub fn apply(kind: PatchKind, current: &Value, patch: &Value) -> Result<Value, ApiError> {
    let mut doc = current.clone();
    match kind {
        PatchKind::Json => {
            let p: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
                ApiError::bad_request(format!(
                    "the server rejected our request due to an error in our request: {e}"
                ))
            })?;
            json_patch::patch(&mut doc, &p).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
        PatchKind::Merge => json_patch::merge(&mut doc, patch),
        PatchKind::Strategic | PatchKind::Apply => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("patch body must be a JSON object"));
            }
            strategic_merge(&mut doc, patch, "");
        }
    }
    Ok(doc)
}

/// The merge key of a list field, from the built-in types' patch metadata.
fn merge_key(field: &str, sample: Option<&Value>) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "containerStatuses"
        | "initContainerStatuses"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "addresses" if sample.is_some_and(|s| s.get("type").is_some()) => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "podIPs" | "hostIPs" => Some("ip"),
        "ports" => match sample {
            Some(s) if s.get("containerPort").is_some() => Some("containerPort"),
            _ => Some("port"),
        },
        _ => None,
    }
}

/// Primitive lists patched by union (patchStrategy=merge on a list of strings).
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

fn strategic_merge(target: &mut Value, patch: &Value, _path: &str) {
    let Some(pmap) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pmap.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = pmap.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(tmap) = target.as_object_mut() else {
        return;
    };
    for (key, pval) in pmap {
        if key.starts_with("$setElementOrder/") || key == "$retainKeys" || key == "$patch" {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(list), Some(remove)) = (
                tmap.get_mut(field).and_then(Value::as_array_mut),
                pval.as_array(),
            ) {
                list.retain(|v| !remove.contains(v));
            }
            continue;
        }
        if pval.is_null() {
            tmap.remove(key);
            continue;
        }
        match (tmap.get_mut(key), pval) {
            (Some(tval @ Value::Object(_)), Value::Object(_)) => strategic_merge(tval, pval, key),
            (Some(Value::Array(tlist)), Value::Array(plist)) => {
                let sample = plist.first().or(tlist.first());
                if let Some(mk) =
                    merge_key(key, sample).filter(|_| plist.iter().all(Value::is_object))
                {
                    merge_list(tlist, plist, mk);
                } else if merges_primitives(key) {
                    for v in plist {
                        if !tlist.contains(v) {
                            tlist.push(v.clone());
                        }
                    }
                } else {
                    *tlist = plist.iter().map(strip_directives).collect();
                }
            }
            _ => {
                tmap.insert(key.clone(), strip_directives(pval));
            }
        }
    }
}

fn merge_list(target: &mut Vec<Value>, patch: &[Value], key: &str) {
    for item in patch {
        let id = item.get(key);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        let pos = id.and_then(|id| target.iter().position(|t| t.get(key) == Some(id)));
        match (pos, delete) {
            (Some(i), true) => {
                target.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge(&mut target[i], item, key),
            (None, false) => target.push(strip_directives(item)),
        }
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let cur = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let p = json!({"spec": {"containers": [{"name": "b", "image": "y:2"}]}});
        let out = apply(PatchKind::Strategic, &cur, &p).unwrap();
        assert_eq!(out["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(out["spec"]["containers"][1]["image"], "y:2");
        let del = json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}});
        let out = apply(PatchKind::Strategic, &cur, &del).unwrap();
        assert_eq!(out["spec"]["containers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn strategic_merges_conditions_by_type_and_deletes_nulls() {
        let cur = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "X", "status": "True"}]}, "metadata": {"labels": {"a": "1"}}});
        let p = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}, "metadata": {"labels": {"a": null}}});
        let out = apply(PatchKind::Strategic, &cur, &p).unwrap();
        assert_eq!(out["status"]["conditions"][0]["status"], "True");
        assert_eq!(out["status"]["conditions"].as_array().unwrap().len(), 2);
        assert!(out["metadata"]["labels"].get("a").is_none());
    }

    #[test]
    fn merge_and_json_patch() {
        let cur = json!({"spec": {"replicas": 3, "x": [1, 2]}});
        let out = apply(PatchKind::Merge, &cur, &json!({"spec": {"replicas": 5}})).unwrap();
        assert_eq!(out["spec"]["replicas"], 5);
        let out = apply(
            PatchKind::Json,
            &cur,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 1}]),
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 1);
        assert!(
            apply(
                PatchKind::Json,
                &cur,
                &json!([{"op": "test", "path": "/spec/replicas", "value": 9}])
            )
            .is_err()
        );
    }
}
