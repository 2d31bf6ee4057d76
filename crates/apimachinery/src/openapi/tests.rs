use std::collections::BTreeSet;
use std::time::Instant;

use prost::Message;
use serde_json::{Value, json};

use super::definitions::{V2_PREFIX, refs_of, walk};
use super::*;

fn def(name: &str) -> &'static Value {
    &swagger()["definitions"][name]
}

#[test]
fn build_time() {
    // Printed, not asserted: the documents are built once per process.
    let start = Instant::now();
    let defs = DEFINITIONS.schemas.len();
    eprintln!("openapi: {defs} definitions in {:?}", start.elapsed());
    let doc = swagger();
    let v2 = start.elapsed();
    let proto = swagger_protobuf();
    let pb = start.elapsed() - v2;
    let v3 = v3_documents();
    let all = start.elapsed();
    eprintln!(
        "openapi: v2 {v2:?} ({} definitions, {} paths), protobuf {pb:?} ({} bytes), v3 {:?} ({} documents)",
        doc["definitions"].as_object().map_or(0, |d| d.len()),
        doc["paths"].as_object().map_or(0, |d| d.len()),
        proto.len(),
        all - v2 - pb,
        v3.len(),
    );
}

#[test]
fn pod_and_nested_schemas_are_present() {
    let pod = def("io.k8s.api.core.v1.Pod");
    assert_eq!(pod["type"], "object");
    // Upstream does not mark metadata required (k8s-openapi does).
    assert!(pod.get("required").is_none(), "{}", pod["required"]);
    assert_eq!(
        pod["properties"]["spec"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.PodSpec"
    );
    assert!(pod["properties"]["spec"]["description"].is_string());
    let spec = def("io.k8s.api.core.v1.PodSpec");
    assert_eq!(spec["required"], json!(["containers"]));
    assert_eq!(
        spec["properties"]["containers"]["items"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let probe = def("io.k8s.api.core.v1.Probe");
    assert_eq!(probe["properties"]["periodSeconds"]["format"], "int32");
    let http_get = def("io.k8s.api.core.v1.HTTPGetAction");
    assert_eq!(
        http_get["properties"]["port"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    );
    let ios = def("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(
        (&ios["type"], &ios["format"]),
        (&json!("string"), &json!("int-or-string"))
    );
    assert!(ios.get("x-kubernetes-int-or-string").is_none());
    assert_eq!(
        def("io.k8s.apimachinery.pkg.api.resource.Quantity")["type"],
        "string"
    );
    assert_eq!(
        def("io.k8s.apimachinery.pkg.apis.meta.v1.Time")["format"],
        "date-time"
    );
    let json_any = def("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON");
    assert!(json_any.get("type").is_none() && json_any["description"].is_string());
    let list = def("io.k8s.api.apps.v1.DeploymentList");
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/definitions/io.k8s.api.apps.v1.Deployment"
    );
    assert_eq!(list["required"], json!(["items"]));
}

#[test]
fn kinds_carry_group_version_kind_lists() {
    let gvk = |name: &str| def(name)["x-kubernetes-group-version-kind"].clone();
    assert_eq!(
        gvk("io.k8s.api.core.v1.Pod"),
        json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    assert_eq!(
        gvk("io.k8s.api.core.v1.PodList"),
        json!([{"group": "", "kind": "PodList", "version": "v1"}])
    );
    assert_eq!(
        gvk("io.k8s.api.apps.v1.Deployment"),
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    let delete_options = gvk("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
    let list = delete_options.as_array().unwrap();
    assert!(list.contains(&json!({"group": "", "kind": "DeleteOptions", "version": "v1"})));
    assert!(list.contains(&json!({"group": "apps", "kind": "DeleteOptions", "version": "v1"})));
    assert!(
        list.contains(&json!({"group": "autoscaling", "kind": "DeleteOptions", "version": "v2"}))
    );
    // Non-kinds are not tagged.
    assert!(
        def("io.k8s.api.core.v1.PodSpec")
            .get("x-kubernetes-group-version-kind")
            .is_none()
    );
}

#[test]
fn patch_extensions_on_pod_spec() {
    let containers = &def("io.k8s.api.core.v1.PodSpec")["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    let volumes = &def("io.k8s.api.core.v1.PodSpec")["properties"]["volumes"];
    assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
    let selector = def("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector");
    assert_eq!(selector["x-kubernetes-map-type"], "atomic");
}

#[test]
fn v2_uses_only_swagger_keywords() {
    let mut doc = swagger()["definitions"].clone();
    let Value::Object(defs) = &mut doc else {
        panic!("definitions is not an object")
    };
    for (name, schema) in defs.iter_mut() {
        walk(schema, &mut |obj| {
            for bad in ["oneOf", "anyOf", "nullable", "$schema", "$defs", "const"] {
                assert!(!obj.contains_key(bad), "{name} has {bad}");
            }
            if let Some(t) = obj.get("type") {
                assert!(t.is_string(), "{name}: type {t}");
            }
        });
    }
}

fn assert_refs_resolve(doc: &Value, schemas: &Value, prefix: &str, what: &str) {
    let mut refs = BTreeSet::new();
    refs_of(doc, prefix, &mut refs);
    assert!(!refs.is_empty(), "{what}: no references");
    for r in refs {
        assert!(schemas.get(&r).is_some(), "{what}: {r} does not resolve");
    }
    // Every reference uses this document's prefix.
    let text = doc.to_string();
    let other = if prefix == V2_PREFIX {
        V3_PREFIX
    } else {
        V2_PREFIX
    };
    assert!(!text.contains(other), "{what}: reference with {other}");
}

#[test]
fn v2_references_resolve() {
    let doc = swagger();
    assert_refs_resolve(doc, &doc["definitions"], V2_PREFIX, "v2");
}

#[test]
fn v3_documents_are_complete() {
    let docs = v3_documents();
    assert!(docs.contains_key("api/v1") && docs.contains_key("apis/apps/v1"));
    for (path, doc) in &docs {
        assert_refs_resolve(doc, &doc["components"]["schemas"], V3_PREFIX, path);
    }
    let core = &docs["api/v1"]["components"]["schemas"];
    let pod = &core["io.k8s.api.core.v1.Pod"];
    assert_eq!(
        pod["properties"]["spec"]["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}])
    );
    assert!(pod["properties"]["spec"].get("$ref").is_none());
    assert_eq!(
        core["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
    assert!(core.get("io.k8s.api.core.v1.Probe").is_some());
    // Only what api/v1 reaches: no apps types.
    assert!(core.get("io.k8s.api.apps.v1.Deployment").is_none());
    let apps = &docs["apis/apps/v1"];
    let post = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["*/*"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.Deployment"
    );
    let list = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"
    );
}

#[test]
fn protobuf_decodes_to_the_same_document() {
    let bytes = swagger_protobuf();
    let doc = proto::Document::decode(bytes.as_slice()).unwrap();
    assert_eq!(doc.swagger, "2.0");
    let defs = doc.definitions.unwrap().additional_properties;
    let pod = defs
        .iter()
        .find(|d| d.name == "io.k8s.api.core.v1.Pod")
        .and_then(|d| d.value.clone())
        .unwrap();
    assert_eq!(pod.r#type.unwrap().value, vec!["object"]);
    let gvk = pod
        .vendor_extension
        .iter()
        .find(|e| e.name == "x-kubernetes-group-version-kind")
        .and_then(|e| e.value.clone())
        .unwrap();
    let parsed: Value = serde_json::from_str(&gvk.yaml).unwrap();
    assert_eq!(
        parsed,
        json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );

    let spec = defs
        .iter()
        .find(|d| d.name == "io.k8s.api.core.v1.PodSpec")
        .and_then(|d| d.value.clone())
        .unwrap();
    let containers = spec
        .properties
        .unwrap()
        .additional_properties
        .into_iter()
        .find(|p| p.name == "containers")
        .and_then(|p| p.value)
        .unwrap();
    assert_eq!(
        containers.items.unwrap().schema[0].xref,
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    assert!(
        containers
            .vendor_extension
            .iter()
            .any(|e| e.name == "x-kubernetes-patch-merge-key"
                && e.value.as_ref().map(|v| v.yaml.as_str()) == Some("\"name\""))
    );

    let labels = defs
        .iter()
        .find(|d| d.name == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        .and_then(|d| d.value.clone())
        .unwrap()
        .properties
        .unwrap()
        .additional_properties
        .into_iter()
        .find(|p| p.name == "labels")
        .and_then(|p| p.value)
        .unwrap();
    match labels.additional_properties.and_then(|a| a.oneof) {
        Some(proto::additional_properties_item::Oneof::Schema(s)) => {
            assert_eq!(s.r#type.unwrap().value, vec!["string"])
        }
        other => panic!("labels additionalProperties: {other:?}"),
    }

    // The PATCH of deployments advertises fieldValidation, as kubectl's v2 check reads it.
    let paths = doc.paths.unwrap().path;
    let item = paths
        .iter()
        .find(|p| p.name == "/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        .and_then(|p| p.value.clone())
        .unwrap();
    let patch = item.patch.unwrap();
    let names: Vec<String> = patch
        .parameters
        .iter()
        .filter_map(|p| match p.parameter.as_ref()?.oneof.as_ref()? {
            proto::parameter::Oneof::NonBodyParameter(nb) => match nb.oneof.as_ref()? {
                proto::non_body_parameter::Oneof::QueryParameterSubSchema(q) => {
                    Some(q.name.clone())
                }
                _ => None,
            },
            proto::parameter::Oneof::BodyParameter(b) => Some(b.name.clone()),
        })
        .collect();
    assert!(names.contains(&"fieldValidation".to_string()), "{names:?}");
    assert!(names.contains(&"body".to_string()), "{names:?}");
}
