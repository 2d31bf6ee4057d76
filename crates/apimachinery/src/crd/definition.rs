//! CustomResourceDefinitions themselves: upstream's defaulting and validation of the
//! definition, and what each served version of it adds to the API.

use serde_json::{Value, json};

use super::columns::PrinterColumn;
use crate::status::Cause;

/// The finalizer that keeps a definition until its custom resources are deleted.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// The scale subresource's paths.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// One served version of a definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedVersion {
    pub crd_name: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub storage_version: String,
    pub status: bool,
    pub scale: Option<ScalePaths>,
    /// `openAPIV3Schema`.
    pub schema: Option<Value>,
    pub columns: Vec<PrinterColumn>,
    /// `selectableFields` as field selector names (`spec.color` for `.spec.color`).
    pub selectable_fields: Vec<String>,
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Upstream's defaults: singular and listKind from the kind, conversion `None`.
pub fn apply_defaults(crd: &mut Value) {
    let kind = s(crd, "/spec/names/kind").to_string();
    if let Some(names) = crd
        .pointer_mut("/spec/names")
        .and_then(Value::as_object_mut)
    {
        if !names.contains_key("singular") && !kind.is_empty() {
            names.insert("singular".into(), json!(kind.to_lowercase()));
        }
        if !names.contains_key("listKind") && !kind.is_empty() {
            names.insert("listKind".into(), json!(format!("{kind}List")));
        }
    }
    if let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut)
        && !spec.contains_key("conversion")
    {
        spec.insert("conversion".into(), json!({"strategy": "None"}));
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

const DNS_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// Validates a definition (after defaulting) with upstream's paths and messages.
pub fn validate(crd: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let group = s(crd, "/spec/group");
    let plural = s(crd, "/spec/names/plural");
    let name = s(crd, "/metadata/name");
    if name != format!("{plural}.{group}") {
        causes.push(Cause::invalid(
            "metadata.name",
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        causes.push(Cause::required("spec.group"));
    } else if !group.contains('.') {
        causes.push(Cause::invalid(
            "spec.group",
            group,
            "should be a domain with at least one dot",
        ));
    }
    match s(crd, "/spec/scope") {
        "Namespaced" | "Cluster" => {}
        "" => causes.push(Cause::required("spec.scope")),
        other => causes.push(Cause::not_supported(
            "spec.scope",
            other,
            &["Cluster", "Namespaced"],
        )),
    }
    for (field, value) in [
        ("plural", plural),
        ("singular", s(crd, "/spec/names/singular")),
    ] {
        if value.is_empty() {
            if field == "plural" {
                causes.push(Cause::required("spec.names.plural"));
            }
        } else if !is_dns_label(value) {
            causes.push(Cause::invalid(
                format!("spec.names.{field}"),
                value,
                DNS_LABEL_MESSAGE,
            ));
        }
    }
    for field in ["kind", "listKind"] {
        if s(crd, &format!("/spec/names/{field}")).is_empty() {
            causes.push(Cause::required(format!("spec.names.{field}")));
        }
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause::invalid(
            "spec.versions",
            "null",
            "must have exactly one version marked as storage version",
        ));
    } else {
        let storage = versions
            .iter()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .count();
        if storage != 1 {
            causes.push(Cause::invalid(
                "spec.versions",
                "",
                "must have exactly one version marked as storage version",
            ));
        }
    }
    for (i, v) in versions.iter().enumerate() {
        if let Some(scale) = v.pointer("/subresources/scale") {
            scale_paths(
                scale,
                &format!("spec.versions[{i}].subresources.scale"),
                &mut causes,
            );
        }
        let vname = s(v, "/name");
        if vname.is_empty() {
            causes.push(Cause::required(format!("spec.versions[{i}].name")));
        } else if !is_dns_label(vname) {
            causes.push(Cause::invalid(
                format!("spec.versions[{i}].name"),
                vname,
                DNS_LABEL_MESSAGE,
            ));
        }
        if versions[..i].iter().any(|o| s(o, "/name") == vname) {
            causes.push(Cause::duplicate(format!("spec.versions[{i}].name"), vname));
        }
        match v.pointer("/schema/openAPIV3Schema") {
            None => causes.push(Cause {
                reason: "FieldValueRequired",
                field: format!("spec.versions[{i}].schema.openAPIV3Schema"),
                message: "Required value: schemas are required".into(),
            }),
            Some(schema) => causes.extend(super::schema::validate_schema(
                schema,
                &format!("spec.versions[{i}].schema.openAPIV3Schema"),
            )),
        }
    }
    causes
}

/// The scale subresource's JSON paths: replicas paths required, each under the part of
/// the object it names.
fn scale_paths(scale: &Value, path: &str, causes: &mut Vec<Cause>) {
    for (field, under, required) in [
        ("specReplicasPath", &[".spec."][..], true),
        ("statusReplicasPath", &[".status."][..], true),
        ("labelSelectorPath", &[".spec.", ".status."][..], false),
    ] {
        let field_path = format!("{path}.{field}");
        match scale.get(field).and_then(Value::as_str) {
            None | Some("") if required => causes.push(Cause::required(field_path)),
            None | Some("") => {}
            Some(p) if !under.iter().any(|u| p.starts_with(u)) => {
                let detail = match under {
                    [one] => format!("should be a json path under {}", one.trim_end_matches('.')),
                    _ => "should be a json path under either .spec or .status".to_string(),
                };
                causes.push(Cause::invalid(field_path, p, &detail));
            }
            Some(_) => {}
        }
    }
}

/// The rules only updates have (on top of [`validate`]): scope and group are immutable.
pub fn validate_update_only(new: &Value, old: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    for (field, pointer) in [("spec.scope", "/spec/scope"), ("spec.group", "/spec/group")] {
        if s(new, pointer) != s(old, pointer) {
            causes.push(Cause::invalid(field, s(new, pointer), "field is immutable"));
        }
    }
    causes
}

/// The versions a definition serves (`served: true`), preferred first (upstream orders
/// a group's versions by Kubernetes version priority: GA, then beta, then alpha).
pub fn served_versions(crd: &Value) -> Vec<ServedVersion> {
    let list = |p: &str| -> Vec<String> {
        crd.pointer(p)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage_version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .map(|v| s(v, "/name").to_string())
        .unwrap_or_default();
    let mut out: Vec<ServedVersion> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .map(|v| {
            let sub = v.get("subresources");
            let scale = sub.and_then(|s| s.get("scale")).map(|sc| ScalePaths {
                spec_replicas: s(sc, "/specReplicasPath").to_string(),
                status_replicas: s(sc, "/statusReplicasPath").to_string(),
                label_selector: sc
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(String::from),
            });
            ServedVersion {
                crd_name: s(crd, "/metadata/name").to_string(),
                group: s(crd, "/spec/group").to_string(),
                version: s(v, "/name").to_string(),
                kind: s(crd, "/spec/names/kind").to_string(),
                list_kind: s(crd, "/spec/names/listKind").to_string(),
                plural: s(crd, "/spec/names/plural").to_string(),
                singular: s(crd, "/spec/names/singular").to_string(),
                namespaced: s(crd, "/spec/scope") == "Namespaced",
                short_names: list("/spec/names/shortNames"),
                categories: list("/spec/names/categories"),
                storage_version: storage_version.clone(),
                status: sub.and_then(|s| s.get("status")).is_some(),
                scale,
                schema: v.pointer("/schema/openAPIV3Schema").cloned(),
                columns: PrinterColumn::of_version(v),
                selectable_fields: v
                    .get("selectableFields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.get("jsonPath").and_then(Value::as_str))
                    .map(|p| p.trim_start_matches('.').to_string())
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| compare_versions(&a.version, &b.version));
    out
}

/// Kubernetes version priority: `v2` > `v1` > `v1beta2` > `v1beta1` > `v1alpha1` > others
/// (alphabetically).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (u8, i64, i64, String) {
        let parse = || -> Option<(u8, i64, i64)> {
            let rest = v.strip_prefix('v')?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let major: i64 = digits.parse().ok()?;
            let tail = &rest[digits.len()..];
            if tail.is_empty() {
                return Some((0, major, 0));
            }
            for (rank, word) in [(1u8, "beta"), (2u8, "alpha")] {
                if let Some(n) = tail.strip_prefix(word) {
                    return Some((rank, major, n.parse().ok()?));
                }
            }
            None
        };
        match parse() {
            Some((rank, major, minor)) => (rank, -major, -minor, String::new()),
            None => (3, 0, 0, v.to_string()),
        }
    }
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false,
                     "schema": {"openAPIV3Schema": {"type": "object"}}},
                    {"name": "v1", "served": true, "storage": true,
                     "schema": {"openAPIV3Schema": {"type": "object"}},
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}}}
                ]
            }
        })
    }

    #[test]
    fn defaults_names_and_validates() {
        let mut c = crd();
        apply_defaults(&mut c);
        assert_eq!(c["spec"]["names"]["singular"], "widget");
        assert_eq!(c["spec"]["names"]["listKind"], "WidgetList");
        assert!(validate(&c).is_empty(), "{:?}", validate(&c));
        c["metadata"]["name"] = json!("other.example.com");
        c["spec"]["versions"][0]["storage"] = json!(true);
        let messages: Vec<String> = validate(&c).iter().map(Cause::to_message).collect();
        assert_eq!(
            messages,
            vec![
                "metadata.name: Invalid value: \"other.example.com\": must be spec.names.plural+\".\"+spec.group",
                "spec.versions: Invalid value: \"\": must have exactly one version marked as storage version",
            ]
        );
    }

    #[test]
    fn scale_paths_are_required_and_placed() {
        let mut c = crd();
        apply_defaults(&mut c);
        c["spec"]["versions"][1]["subresources"]["scale"] =
            json!({"specReplicasPath": ".status.replicas", "labelSelectorPath": ".metadata.x"});
        let messages: Vec<String> = validate(&c).iter().map(Cause::to_message).collect();
        assert_eq!(
            messages,
            vec![
                "spec.versions[1].subresources.scale.specReplicasPath: Invalid value: \".status.replicas\": should be a json path under .spec",
                "spec.versions[1].subresources.scale.statusReplicasPath: Required value",
                "spec.versions[1].subresources.scale.labelSelectorPath: Invalid value: \".metadata.x\": should be a json path under either .spec or .status",
            ]
        );
    }

    #[test]
    fn serves_versions_in_priority_order() {
        let mut c = crd();
        apply_defaults(&mut c);
        let served = served_versions(&c);
        let names: Vec<&str> = served.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(names, vec!["v1", "v1beta1"]);
        assert!(served[0].status);
        assert_eq!(
            served[0].scale.as_ref().unwrap().spec_replicas,
            ".spec.replicas"
        );
        assert_eq!(served[1].storage_version, "v1");
        let mut vs = vec!["v1alpha1", "v2", "v1", "foo", "v1beta2", "v10"];
        vs.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(vs, vec!["v10", "v2", "v1", "v1beta2", "v1alpha1", "foo"]);
    }

    #[test]
    fn crd_validation_reports_schema_errors() {
        let mut c = crd();
        apply_defaults(&mut c);
        c["spec"]["versions"][1]["schema"]["openAPIV3Schema"] =
            json!({"type": "object", "properties": {"spec": {}}});
        let messages: Vec<String> = validate(&c).iter().map(Cause::to_message).collect();
        assert_eq!(
            messages,
            vec![
                "spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"
            ]
        );
    }
}
