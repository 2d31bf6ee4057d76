//! Table-driven tests of field sets, FieldsV1, update and apply against upstream's shapes
//! and wording.

use serde_json::{Value, json};

use super::path::{PathElement, compare_values};
use super::set::Set;
use super::typed::{compare, merge, remove_items, to_field_set};
use super::*;

const T0: &str = "2024-01-01T00:00:00Z";
const T1: &str = "2024-01-01T00:01:00Z";
const T2: &str = "2024-01-01T00:02:00Z";

fn deploy_schema() -> Schema {
    Schema::for_kind("apps", "v1", "Deployment").unwrap()
}

fn ctx(manager: &str, time: &str) -> WriteContext {
    WriteContext {
        manager: manager.into(),
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        subresource: None,
        time: time.into(),
        ignored_top_level: vec!["status".into()],
    }
}

fn cm_ctx(manager: &str, time: &str) -> WriteContext {
    WriteContext {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        ignored_top_level: vec![],
        ..ctx(manager, time)
    }
}

fn cm_schema() -> Schema {
    Schema::for_kind("", "v1", "ConfigMap").unwrap()
}

/// The entries of `obj`'s managedFields by manager (and operation).
fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn fields(obj: &Value, manager: &str, operation: &str) -> Value {
    entry(obj, manager, operation)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

fn managers(obj: &Value) -> Vec<String> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["manager"].as_str().unwrap_or(""),
                        e["operation"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{
                    "name": "nginx", "image": image,
                    "ports": [{"containerPort": 80, "protocol": "TCP"}]
                }]}
            }
        }
    })
}

fn created(obj: &Value, manager: &str) -> Value {
    let mut o = obj.clone();
    update(&deploy_schema(), None, &mut o, &ctx(manager, T0)).unwrap();
    o
}

// ---- path elements and FieldsV1 ----

#[test]
fn path_elements_round_trip_through_their_text() {
    for s in [
        "f:metadata",
        r#"k:{"containerPort":80,"protocol":"TCP"}"#,
        r#"v:"example.com/finalizer""#,
        "v:3",
        "i:4",
    ] {
        let pe = PathElement::parse(s).unwrap();
        assert_eq!(pe.serialize(), s);
    }
    assert!(PathElement::parse("x:1").is_err());
    assert!(PathElement::parse("k:[1]").is_err());
    assert!(PathElement::parse("nocolon").is_err());
}

#[test]
fn keys_are_sorted_by_field_name_when_parsed() {
    let pe = PathElement::parse(r#"k:{"protocol":"TCP","containerPort":80}"#).unwrap();
    assert_eq!(pe.serialize(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
}

#[test]
fn path_elements_order_fields_keys_values_indexes_and_numbers_by_value() {
    let mut v: Vec<PathElement> = [
        "i:0",
        "v:\"a\"",
        r#"k:{"port":10}"#,
        r#"k:{"port":9}"#,
        "f:b",
        "f:a",
        "v:10",
        "v:9",
    ]
    .iter()
    .map(|s| PathElement::parse(s).unwrap())
    .collect();
    v.sort();
    let got: Vec<String> = v.iter().map(PathElement::serialize).collect();
    assert_eq!(
        got,
        vec![
            "f:a",
            "f:b",
            r#"k:{"port":9}"#,
            r#"k:{"port":10}"#,
            "v:9",
            "v:10",
            "v:\"a\"",
            "i:0"
        ]
    );
    assert_eq!(
        compare_values(&json!(1), &json!(1.0)),
        std::cmp::Ordering::Equal
    );
}

#[test]
fn display_of_paths_as_conflicts_print_them() {
    let p: Path = vec![
        PathElement::Field("spec".into()),
        PathElement::parse(r#"k:{"name":"nginx"}"#).unwrap(),
        PathElement::parse(r#"v:"x""#).unwrap(),
        PathElement::Index(2),
    ];
    assert_eq!(path::path_to_string(&p), r#".spec[name="nginx"][="x"][2]"#);
}

#[test]
fn fieldsv1_marks_members_with_children_by_dot_first() {
    let upstream = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:protocol":{}}}}}"#;
    let v: Value = serde_json::from_str(upstream).unwrap();
    let set = fieldsv1::decode(&v).unwrap();
    assert_eq!(fieldsv1::encode(&set).to_string(), upstream);
    let labels = vec![
        PathElement::Field("metadata".into()),
        PathElement::Field("labels".into()),
    ];
    assert!(set.has(&labels));
    assert!(!set.has(&labels[..1]));
}

#[test]
fn fieldsv1_decode_rejects_garbage() {
    assert!(fieldsv1::decode(&json!([])).is_err());
    assert!(fieldsv1::decode(&json!({"f:a": 1})).is_err());
    assert!(fieldsv1::decode(&json!({"z:a": {}})).is_err());
    assert_eq!(fieldsv1::decode(&json!({})).unwrap(), Set::new());
}

// ---- sets ----

fn set_of(paths: &[&[&str]]) -> Set {
    let mut s = Set::new();
    for p in paths {
        let p: Path = p.iter().map(|x| PathElement::parse(x).unwrap()).collect();
        s.insert(&p);
    }
    s
}

#[test]
fn set_operations() {
    let a = set_of(&[&["f:a"], &["f:b", "f:c"], &["f:b", "f:d"]]);
    let b = set_of(&[&["f:b"], &["f:b", "f:c"], &["f:e"]]);
    let cases = [
        (
            a.union(&b),
            set_of(&[
                &["f:a"],
                &["f:b"],
                &["f:b", "f:c"],
                &["f:b", "f:d"],
                &["f:e"],
            ]),
        ),
        (a.intersection(&b), set_of(&[&["f:b", "f:c"]])),
        (a.difference(&b), set_of(&[&["f:a"], &["f:b", "f:d"]])),
        (a.recursive_difference(&b), set_of(&[&["f:a"]])),
    ];
    for (i, (got, want)) in cases.into_iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
    assert!(a.difference(&a).is_empty());
}

#[test]
fn set_paths_list_members_before_children() {
    let s = set_of(&[&["f:spec", "f:x"], &["f:a"], &["f:spec"]]);
    let got: Vec<String> = s.paths().iter().map(|p| path::path_to_string(p)).collect();
    assert_eq!(got, vec![".a", ".spec", ".spec.x"]);
}

// ---- field sets of objects ----

#[test]
fn field_set_membership_rules() {
    let schema = deploy_schema();
    let cases = [
        // map entries are members; struct fields with values are not
        (
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"f:metadata": {"f:labels": {"f:a": {}}}}),
        ),
        // empty maps and nulls are members
        (
            json!({"metadata": {"labels": {}}, "spec": {"paused": null}}),
            json!({"f:metadata": {"f:labels": {}}, "f:spec": {"f:paused": {}}}),
        ),
        // atomic struct (LabelSelector) is a leaf
        (
            json!({"spec": {"selector": {"matchLabels": {"a": "b"}}}}),
            json!({"f:spec": {"f:selector": {}}}),
        ),
        // set lists by value, items are members
        (
            json!({"metadata": {"finalizers": ["b", "a"]}}),
            json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}}),
        ),
        // atomic list is a leaf
        (
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["x"]}]}}}}),
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:args": {}, "f:name": {}}}}}}}),
        ),
        // an empty granular list is not a member, so nothing is owned
        (json!({"metadata": {"finalizers": []}}), json!({})),
        // Quantity and IntOrString are scalars
        (
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "25%"}}}}),
            json!({"f:spec": {"f:strategy": {"f:rollingUpdate": {"f:maxSurge": {}}}}}),
        ),
    ];
    for (i, (obj, want)) in cases.into_iter().enumerate() {
        let set = to_field_set(&schema.root, &obj, true).unwrap();
        assert_eq!(fieldsv1::encode(&set), want, "case {i}");
    }
}

#[test]
fn list_map_with_two_keys_uses_the_protocol_default() {
    let schema = deploy_schema();
    let obj = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}}});
    let set = to_field_set(&schema.root, &obj, true).unwrap();
    let text = fieldsv1::encode(&set).to_string();
    assert!(
        text.contains(r#"k:{\"containerPort\":80,\"protocol\":\"TCP\"}"#),
        "{text}"
    );
}

#[test]
fn strict_field_sets_reject_duplicates_and_missing_keys() {
    let schema = deploy_schema();
    let dup =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c"}, {"name": "c"}]}}}});
    let errs = to_field_set(&schema.root, &dup, true).unwrap_err();
    assert_eq!(
        errs,
        vec![r#".spec.template.spec.containers: duplicate entries for key [name="c"]"#]
    );
    // tolerated in stored objects: the duplicate item is a member without children
    let set = to_field_set(&schema.root, &dup, false).unwrap();
    assert_eq!(
        fieldsv1::encode(&set),
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {}}}}}})
    );
    let nokey = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
    let errs = to_field_set(&schema.root, &nokey, true).unwrap_err();
    assert!(
        errs[0].contains("omits all key fields [\"name\"]"),
        "{errs:?}"
    );
}

#[test]
fn untyped_maps_are_granular_and_lists_atomic() {
    let schema = Schema::untyped();
    let obj = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"x": {"y": 1}, "l": [1, 2]}});
    let set = to_field_set(&schema.root, &obj, true).unwrap();
    assert_eq!(
        fieldsv1::encode(&set),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {".": {}, "f:l": {}, "f:x": {".": {}, "f:y": {}}}})
    );
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "spec": {"group": "example.com", "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "replicas": {"type": "integer"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "items": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["name", "zone"],
                              "items": {"type": "object", "properties": {"name": {"type": "string"}, "zone": {"type": "string"}, "size": {"type": "integer"}}}},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "selector": {"type": "object", "x-kubernetes-map-type": "atomic", "additionalProperties": {"type": "string"}},
                    "env": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}
                }}
            }
        }}}]}
    })
}

#[test]
fn crd_structural_schema_drives_field_sets() {
    let schema = Schema::from_crd(&crd(), "v1").unwrap();
    assert!(Schema::from_crd(&crd(), "v2").is_none());
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"replicas": 1, "port": "http",
                 "items": [{"name": "a", "zone": "z", "size": 1}],
                 "tags": ["t"], "args": ["x"], "selector": {"k": "v"}, "env": {"E": "1"},
                 "extra": {"free": {"deep": 1}},
                 "template": {"metadata": {"labels": {"x": "y"}}, "spec": {"q": 1}}}});
    let set = to_field_set(&schema.root, &obj, true).unwrap();
    let want = json!({
        "f:apiVersion": {}, "f:kind": {},
        "f:metadata": {"f:labels": {"f:a": {}}, "f:name": {}},
        "f:spec": {
            "f:args": {}, "f:env": {"f:E": {}},
            "f:extra": {"f:free": {".": {}, "f:deep": {}}},
            "f:items": {"k:{\"name\":\"a\",\"zone\":\"z\"}": {".": {}, "f:name": {}, "f:size": {}, "f:zone": {}}},
            "f:port": {}, "f:replicas": {}, "f:selector": {}, "f:tags": {"v:\"t\"": {}},
            "f:template": {"f:metadata": {"f:labels": {"f:x": {}}}, "f:spec": {".": {}, "f:q": {}}}
        }
    });
    assert_eq!(fieldsv1::encode(&set), want);
}

#[test]
fn recursive_definitions_resolve_lazily() {
    let schema =
        Schema::for_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition").unwrap();
    let version = schema.root.field("spec").0.field("versions").0.list().0;
    let props = version.field("schema").0.field("openAPIV3Schema").0;
    let mut t = props.clone();
    for _ in 0..50 {
        t = t.field("properties").0.field("any").0;
    }
    assert!(
        matches!(&t, types::Type::Definition { name, .. } if name.ends_with("JSONSchemaProps"))
    );
    let set = to_field_set(
        &props,
        &crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        true,
    )
    .unwrap();
    let text = fieldsv1::encode(&set).to_string();
    assert!(text.contains(r#"{"f:properties":{"f:spec":{".":{},"f:properties":{"f:args":{".":{},"f:items":{"f:type":{}},"f:type":{}}"#), "{text}");
    assert!(Schema::for_kind("apps", "v1", "NoSuchKind").is_none());
}

// ---- compare, merge, remove ----

#[test]
fn compare_reports_added_modified_removed() {
    let schema = deploy_schema();
    let a = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1}});
    let b = json!({"metadata": {"labels": {"a": "9", "c": "3"}}, "spec": {"replicas": 1, "paused": true}});
    let c = compare(&schema.root, &a, &b);
    assert_eq!(
        fieldsv1::encode(&c.added),
        json!({"f:metadata": {"f:labels": {"f:c": {}}}, "f:spec": {"f:paused": {}}})
    );
    assert_eq!(
        fieldsv1::encode(&c.modified),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}})
    );
    assert_eq!(
        fieldsv1::encode(&c.removed),
        json!({"f:metadata": {"f:labels": {"f:b": {}}}})
    );
}

#[test]
fn merge_of_associative_lists_keeps_live_order_and_places_new_items() {
    let schema = deploy_schema();
    let c = |names: &[&str]| -> Value {
        json!({"spec": {"template": {"spec": {"containers": names.iter().map(|n| json!({"name": n, "image": format!("{n}:1")})).collect::<Vec<_>>()}}}})
    };
    let names = |v: &Value| -> Vec<String> {
        v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let cases: [(&[&str], &[&str], &[&str]); 4] = [
        (&["a", "b"], &["c"], &["a", "b", "c"]),
        (&["a", "b"], &["b", "c"], &["a", "b", "c"]),
        (&["a", "b", "c"], &["x", "b"], &["a", "x", "b", "c"]),
        (&["a"], &["a"], &["a"]),
    ];
    for (lhs, rhs, want) in cases {
        let out = merge(&schema.root, &c(lhs), &c(rhs)).unwrap();
        assert_eq!(names(&out), want, "{lhs:?} + {rhs:?}");
    }
}

#[test]
fn merge_replaces_atomic_values_and_merges_granular_maps() {
    let schema = deploy_schema();
    let live = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}});
    let cfg = json!({"metadata": {"labels": {"b": "2"}}, "spec": {"selector": {"matchLabels": {"c": "3"}}}});
    let out = merge(&schema.root, &live, &cfg).unwrap();
    assert_eq!(
        out,
        json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"selector": {"matchLabels": {"c": "3"}}}})
    );
}

#[test]
fn remove_items_drops_members_and_emptied_parents() {
    let schema = deploy_schema();
    let obj = json!({"metadata": {"labels": {"a": "1"}, "finalizers": ["x", "y"]}, "spec": {"replicas": 2}});
    let set = set_of(&[
        &["f:metadata", "f:labels", "f:a"],
        &["f:metadata", "v:\"x\""],
    ]);
    let _ = set; // wrong shape on purpose below
    let set = set_of(&[
        &["f:metadata", "f:labels", "f:a"],
        &["f:metadata", "f:finalizers", "v:\"x\""],
    ]);
    let out = remove_items(&schema.root, &obj, &set);
    assert_eq!(
        out,
        json!({"metadata": {"finalizers": ["y"]}, "spec": {"replicas": 2}})
    );
}

// ---- update ----

#[test]
fn create_of_a_deployment_gives_upstream_shaped_managed_fields() {
    let mut obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 1, "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{"name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {}, "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"}],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30
                }
            }
        },
        "status": {}
    });
    update(&deploy_schema(), None, &mut obj, &ctx("kubectl-create", T0)).unwrap();
    let mf = &obj["metadata"]["managedFields"];
    assert_eq!(mf.as_array().unwrap().len(), 1);
    let e = &mf[0];
    assert_eq!(e["manager"], "kubectl-create");
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T0);
    assert_eq!(e["fieldsType"], "FieldsV1");
    let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "manager",
            "operation",
            "apiVersion",
            "time",
            "fieldsType",
            "fieldsV1"
        ]
    );
    let want = concat!(
        r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"#,
        r#""f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"#,
        r#""f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"#,
        r#""f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"#,
        r#""f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"#,
        r#""f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"#,
        r#""f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"#,
        r#""f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}"#
    );
    assert_eq!(e["fieldsV1"].to_string(), want);
}

#[test]
fn create_of_a_configmap_marks_data_as_member() {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
    update(&cm_schema(), None, &mut cm, &cm_ctx("kubectl-create", T0)).unwrap();
    assert_eq!(
        fields(&cm, "kubectl-create", "Update"),
        json!({"f:data": {".": {}, "f:k": {}}})
    );
}

#[test]
fn update_moves_ownership_of_changed_fields() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let mut new = deployment(3, "nginx:1");
    update(&deploy_schema(), Some(&live), &mut new, &ctx("scaler", T1)).unwrap();
    assert_eq!(
        fields(&new, "scaler", "Update"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(entry(&new, "scaler", "Update").unwrap()["time"], T1);
    let creator = fields(&new, "creator", "Update");
    assert!(creator["f:spec"].get("f:replicas").is_none());
    assert!(creator["f:spec"].get("f:selector").is_some());
    assert_eq!(entry(&new, "creator", "Update").unwrap()["time"], T0);
}

#[test]
fn update_without_changes_keeps_entries_and_times() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let mut new = deployment(1, "nginx:1");
    update(&deploy_schema(), Some(&live), &mut new, &ctx("other", T1)).unwrap();
    assert_eq!(managers(&new), vec!["creator/Update"]);
    assert_eq!(
        new["metadata"]["managedFields"],
        live["metadata"]["managedFields"]
    );
}

#[test]
fn update_by_the_same_manager_keeps_its_other_fields() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let mut new = deployment(2, "nginx:1");
    update(&deploy_schema(), Some(&live), &mut new, &ctx("creator", T1)).unwrap();
    assert_eq!(managers(&new), vec!["creator/Update"]);
    assert_eq!(
        fields(&new, "creator", "Update"),
        fields(&live, "creator", "Update")
    );
    assert_eq!(entry(&new, "creator", "Update").unwrap()["time"], T1);
}

#[test]
fn removed_fields_leave_every_owner() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let mut new = deployment(1, "nginx:1");
    new["metadata"].as_object_mut().unwrap().remove("labels");
    update(&deploy_schema(), Some(&live), &mut new, &ctx("editor", T1)).unwrap();
    assert_eq!(managers(&new), vec!["creator/Update"]);
    assert!(
        fields(&new, "creator", "Update")
            .get("f:metadata")
            .is_none()
    );
}

#[test]
fn incoming_managed_fields_handling() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let live_mf = live["metadata"]["managedFields"].clone();
    let custom = json!([{"manager": "someone", "operation": "Update", "apiVersion": "apps/v1",
        "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
    let cases: Vec<(&str, Option<Value>, Value)> = vec![
        ("absent keeps live", None, live_mf.clone()),
        ("empty list keeps live", Some(json!([])), live_mf.clone()),
        (
            "undecodable keeps live",
            Some(
                json!([{"manager": "x", "operation": "Bogus", "apiVersion": "apps/v1", "fieldsType": "FieldsV1"}]),
            ),
            live_mf.clone(),
        ),
        (
            "request's entries win",
            Some(custom.clone()),
            custom.clone(),
        ),
        ("reset clears", Some(json!([{}])), Value::Null),
    ];
    for (name, incoming, want) in cases {
        let mut new = deployment(1, "nginx:1");
        if let Some(i) = incoming {
            new["metadata"]["managedFields"] = i;
        }
        update(&deploy_schema(), Some(&live), &mut new, &ctx("editor", T1)).unwrap();
        assert_eq!(new["metadata"]["managedFields"], want, "{name}");
    }
}

#[test]
fn objects_without_managed_fields_are_not_tracked_on_update() {
    let mut live = deployment(1, "nginx:1");
    live["metadata"]["uid"] = json!("u1");
    let mut new = deployment(2, "nginx:1");
    update(&deploy_schema(), Some(&live), &mut new, &ctx("editor", T1)).unwrap();
    assert!(new["metadata"].get("managedFields").is_none());
}

#[test]
fn status_is_not_owned_by_main_resource_writes_and_only_status_by_status_writes() {
    let mut obj = deployment(1, "nginx:1");
    obj["status"] = json!({"replicas": 1});
    let live = created(&obj, "creator");
    assert!(fields(&live, "creator", "Update").get("f:status").is_none());

    let mut new = live.clone();
    new["status"] = json!({"replicas": 2, "readyReplicas": 2});
    new["spec"]["replicas"] = json!(5);
    let status_ctx = WriteContext {
        subresource: Some("status".into()),
        ignored_top_level: vec!["spec".into(), "metadata".into()],
        ..ctx("controller", T1)
    };
    update(&deploy_schema(), Some(&live), &mut new, &status_ctx).unwrap();
    let e = entry(&new, "controller", "Update").unwrap();
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {"f:readyReplicas": {}, "f:replicas": {}}})
    );
    // the spec change was not tracked: the creator keeps replicas
    assert!(
        fields(&new, "creator", "Update")["f:spec"]
            .get("f:replicas")
            .is_some()
    );
}

#[test]
fn update_managers_are_capped_into_ancient_changes() {
    let schema = cm_schema();
    let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"init": "x"}});
    update(&schema, None, &mut obj, &cm_ctx("creator", T0)).unwrap();
    for i in 0..11 {
        let mut new = obj.clone();
        new["data"][format!("k{i}")] = json!("v");
        let t = format!("2024-01-01T01:{i:02}:00Z");
        update(
            &schema,
            Some(&obj),
            &mut new,
            &cm_ctx(&format!("m{i:02}"), &t),
        )
        .unwrap();
        obj = new;
    }
    let names = managers(&obj);
    assert_eq!(names.len(), MAX_UPDATE_MANAGERS, "{names:?}");
    assert!(
        names.contains(&"ancient-changes/Update".to_string()),
        "{names:?}"
    );
    assert!(!names.contains(&"creator/Update".to_string()));
    assert!(!names.contains(&"m00/Update".to_string()));
    assert!(names.contains(&"m10/Update".to_string()));
    let ancient = fields(&obj, "ancient-changes", "Update");
    assert!(ancient["f:data"].get("f:k0").is_some(), "{ancient}");
}

#[test]
fn user_agent_prefixes_name_default_managers() {
    for (ua, want) in [
        (
            "kubectl-edit/v1.33.0 (linux/amd64) kubernetes/abc",
            "kubectl-edit",
        ),
        ("kubectl/v1.33.0", "kubectl"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("noslash", "noslash"),
        ("", ""),
        ("a\u{7}b/1", "ab"),
    ] {
        assert_eq!(manager_from_user_agent(ua), want, "{ua}");
    }
    assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), 128);
}

// ---- apply ----

fn applied(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    time: &str,
    force: bool,
) -> Result<Value, ApiError> {
    apply(&deploy_schema(), live, config, &ctx(manager, time), force)
}

fn replicas_config(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": replicas}})
}

#[test]
fn apply_create_owns_exactly_the_configuration() {
    let out = applied(None, &deployment(2, "nginx:1"), "kubectl", T0, false).unwrap();
    let e = entry(&out, "kubectl", "Apply").unwrap();
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T0);
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}}},
               "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                 "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {},
                   "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}}}}}}}})
    );
    assert_eq!(out["spec"]["replicas"], 2);
    assert_eq!(out["metadata"]["name"], "nginx");
}

#[test]
fn conflict_with_an_update_manager_has_upstream_wording() {
    let live = created(&deployment(1, "nginx:1"), "kubectl-client-side-apply");
    let err = applied(Some(&live), &replicas_config(3), "ssa", T1, false).unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
    );
    assert_eq!(
        err.to_status()["details"],
        json!({"causes": [{"reason": "FieldManagerConflict",
            "message": "conflict with \"kubectl-client-side-apply\" using apps/v1", "field": ".spec.replicas"}]})
    );
}

#[test]
fn applying_the_same_value_shares_ownership_without_conflict() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let out = applied(Some(&live), &replicas_config(1), "ssa", T1, false).unwrap();
    assert_eq!(
        fields(&out, "ssa", "Apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(
        fields(&out, "creator", "Update")["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    // nothing changed: the new entry has no time, as upstream
    assert!(entry(&out, "ssa", "Apply").unwrap().get("time").is_none());
}

#[test]
fn force_takes_ownership() {
    let live = created(&deployment(1, "nginx:1"), "creator");
    let out = applied(Some(&live), &replicas_config(4), "ssa", T1, true).unwrap();
    assert_eq!(out["spec"]["replicas"], 4);
    assert_eq!(
        fields(&out, "ssa", "Apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert!(
        fields(&out, "creator", "Update")["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    assert_eq!(entry(&out, "ssa", "Apply").unwrap()["time"], T1);
}

#[test]
fn several_conflicts_are_grouped_by_manager() {
    let live = created(&deployment(1, "nginx:1"), "alpha");
    let mut new = live.clone();
    new["metadata"]["labels"]["app"] = json!("web");
    new["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    new["metadata"]["managedFields"] = live["metadata"]["managedFields"].clone();
    update(&deploy_schema(), Some(&live), &mut new, &ctx("beta", T1)).unwrap();
    let mut cfg = replicas_config(7);
    cfg["metadata"]["labels"] = json!({"app": "api"});
    cfg["spec"]["paused"] = json!(false);
    let err = applied(Some(&new), &cfg, "ssa", T2, false).unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 2 conflicts: conflicts with \"alpha\" using apps/v1:\n- .spec.replicas\nconflicts with \"beta\" using apps/v1:\n- .metadata.labels.app"
    );
    assert_eq!(err.details.unwrap()["causes"].as_array().unwrap().len(), 2);
}

#[test]
fn conflicts_with_another_applier_name_it_without_version() {
    let first = applied(None, &replicas_config(1), "team-a", T0, false).unwrap();
    let err = applied(Some(&first), &replicas_config(2), "team-b", T1, false).unwrap_err();
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "team-a": .spec.replicas"#
    );
    let shared = applied(Some(&first), &replicas_config(1), "team-b", T1, false).unwrap();
    // a no-op apply gives the new entry no time, so it sorts first (as upstream)
    assert_eq!(managers(&shared), vec!["team-b/Apply", "team-a/Apply"]);
}

#[test]
fn fields_no_longer_applied_are_removed_unless_owned_by_others() {
    let mut cfg = replicas_config(1);
    cfg["metadata"]["labels"] = json!({"a": "1", "b": "2"});
    let first = applied(None, &cfg, "ssa", T0, false).unwrap();
    // another manager sets label b to the same value: shared ownership
    let other = {
        let mut c = replicas_config(1);
        c["metadata"]["labels"] = json!({"b": "2"});
        c["spec"].as_object_mut().unwrap().remove("replicas");
        applied(Some(&first), &c, "other", T1, false).unwrap()
    };
    cfg["metadata"]["labels"] = json!({});
    let cases = [(&first, json!(null)), (&other, json!({"b": "2"}))];
    for (live, want_labels) in cases {
        let mut c = cfg.clone();
        c["metadata"].as_object_mut().unwrap().remove("labels");
        let out = applied(Some(live), &c, "ssa", T2, false).unwrap();
        assert_eq!(out["metadata"]["labels"], want_labels);
        assert_eq!(out["spec"]["replicas"], 1);
        assert_eq!(
            fields(&out, "ssa", "Apply"),
            json!({"f:spec": {"f:replicas": {}}})
        );
    }
}

#[test]
fn apply_removes_a_list_item_it_stops_applying() {
    let mut cfg = deployment(1, "nginx:1");
    cfg["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "busybox"}));
    let first = applied(None, &cfg, "ssa", T0, false).unwrap();
    assert_eq!(
        first["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let out = applied(Some(&first), &deployment(1, "nginx:2"), "ssa", T1, false).unwrap();
    let containers = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["image"], "nginx:2");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80);
}

#[test]
fn set_lists_merge_by_value() {
    let mut a = replicas_config(1);
    a["metadata"]["finalizers"] = json!(["a.example/x"]);
    let first = applied(None, &a, "one", T0, false).unwrap();
    let mut b = replicas_config(1);
    b["metadata"]["finalizers"] = json!(["b.example/y"]);
    let out = applied(Some(&first), &b, "two", T1, false).unwrap();
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["a.example/x", "b.example/y"])
    );
    assert_eq!(
        fields(&out, "two", "Apply")["f:metadata"],
        json!({"f:finalizers": {"v:\"b.example/y\"": {}}})
    );
}

#[test]
fn atomic_selector_is_replaced_and_owned_whole() {
    let first = applied(None, &deployment(1, "nginx:1"), "one", T0, false).unwrap();
    let mut cfg = replicas_config(1);
    cfg["spec"]["selector"] = json!({"matchLabels": {"tier": "web"}});
    let err = applied(Some(&first), &cfg, "two", T1, false).unwrap_err();
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "one": .spec.selector"#
    );
    let out = applied(Some(&first), &cfg, "two", T1, true).unwrap();
    assert_eq!(
        out["spec"]["selector"],
        json!({"matchLabels": {"tier": "web"}})
    );
}

#[test]
fn ports_merge_by_port_and_protocol() {
    let first = applied(None, &deployment(1, "nginx:1"), "one", T0, false).unwrap();
    let mut cfg = replicas_config(1);
    cfg["spec"]["template"] = json!({"spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80, "protocol": "UDP"}]}]}});
    let out = applied(Some(&first), &cfg, "two", T1, false).unwrap();
    let ports = &out["spec"]["template"]["spec"]["containers"][0]["ports"];
    assert_eq!(
        ports,
        &json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}])
    );
}

#[test]
fn apply_validation_errors() {
    let mut wrong_kind = replicas_config(1);
    wrong_kind["kind"] = json!("StatefulSet");
    let e = applied(None, &wrong_kind, "m", T0, false).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "invalid object type: apps/v1, Kind=StatefulSet")
    );
    let core = json!({"apiVersion": "v1", "kind": "Pod"});
    let e = applied(None, &core, "m", T0, false).unwrap_err();
    assert_eq!(e.message, "invalid object type: /v1, Kind=Pod");
    let mut with_mf = replicas_config(1);
    with_mf["metadata"]["managedFields"] = json!([]);
    let e = applied(None, &with_mf, "m", T0, false).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "metadata.managedFields must be nil")
    );
    let mut dup = replicas_config(1);
    dup["spec"]["template"] = json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}});
    let e = applied(None, &dup, "m", T0, false).unwrap_err();
    assert_eq!(e.code, 400);
    assert!(e.message.starts_with("failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name=\"a\"]"), "{}", e.message);
}

#[test]
fn apply_of_identity_only_creates_no_entry() {
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "d"}});
    let out = applied(None, &cfg, "m", T0, false).unwrap();
    assert!(out["metadata"].get("managedFields").is_none());
}

#[test]
fn apply_ignores_reset_fields() {
    let mut cfg = replicas_config(1);
    cfg["status"] = json!({"replicas": 9});
    let out = applied(None, &cfg, "m", T0, false).unwrap();
    assert_eq!(
        fields(&out, "m", "Apply"),
        json!({"f:spec": {"f:replicas": {}}})
    );
}

#[test]
fn managed_fields_are_sorted_apply_first_then_by_time() {
    let first = applied(None, &replicas_config(1), "zed", T1, false).unwrap();
    let mut new = first.clone();
    new["spec"]["paused"] = json!(true);
    update(&deploy_schema(), Some(&first), &mut new, &ctx("alpha", T2)).unwrap();
    let mut newer = new.clone();
    newer["spec"]["minReadySeconds"] = json!(5);
    update(&deploy_schema(), Some(&new), &mut newer, &ctx("beta", T1)).unwrap();
    let mut cfg = replicas_config(1);
    cfg["spec"]["revisionHistoryLimit"] = json!(3);
    let out = applied(Some(&newer), &cfg, "aaa", T2, false).unwrap();
    assert_eq!(
        managers(&out),
        vec!["zed/Apply", "aaa/Apply", "beta/Update", "alpha/Update"]
    );
}

#[test]
fn subresource_appliers_are_named_with_their_subresource() {
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "status": {"replicas": 1}});
    let status_ctx = WriteContext {
        subresource: Some("status".into()),
        ignored_top_level: vec!["spec".into()],
        ..ctx("ctl", T0)
    };
    let first = apply(&deploy_schema(), None, &cfg, &status_ctx, false).unwrap();
    assert_eq!(
        entry(&first, "ctl", "Apply").unwrap()["subresource"],
        "status"
    );
    let mut cfg2 = cfg.clone();
    cfg2["status"]["replicas"] = json!(2);
    let err = apply(
        &deploy_schema(),
        Some(&first),
        &cfg2,
        &WriteContext {
            manager: "other".into(),
            ..status_ctx
        },
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "ctl" with subresource "status": .status.replicas"#
    );
}

#[test]
fn kubectl_server_side_apply_takes_over_client_side_apply_fields() {
    let mut csa = deployment(1, "nginx:1");
    let last = {
        let mut l = deployment(1, "nginx:1");
        l["metadata"].as_object_mut().unwrap().remove("namespace");
        lastapplied::sync_annotation(&mut json!({}), &l);
        l
    };
    csa["metadata"]["annotations"] = json!({LAST_APPLIED: serde_json::to_string(&last).unwrap()});
    let live = created(&csa, "kubectl-client-side-apply");
    let mut cfg = deployment(1, "nginx:2");
    cfg["metadata"].as_object_mut().unwrap().remove("namespace");
    // any other manager conflicts on the image
    let err = applied(Some(&live), &cfg, "someone", T1, false).unwrap_err();
    assert!(
        err.message
            .contains(".spec.template.spec.containers[name=\"nginx\"].image"),
        "{}",
        err.message
    );
    // kubectl may take over what the last-applied configuration says it set
    let out = applied(Some(&live), &cfg, "kubectl", T1, false).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    let ann = out["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .unwrap();
    assert!(ann.ends_with('\n'));
    let parsed: Value = serde_json::from_str(ann).unwrap();
    assert_eq!(
        parsed["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert!(
        ann.starts_with(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels""#),
        "{ann}"
    );
}

#[test]
fn kubectl_still_conflicts_on_fields_client_side_apply_did_not_set() {
    let mut csa = deployment(1, "nginx:1");
    csa["metadata"]["annotations"] = json!({LAST_APPLIED: replicas_config(1).to_string()});
    let live = created(&csa, "kubectl-client-side-apply");
    let mut cfg = deployment(1, "nginx:2");
    cfg["metadata"].as_object_mut().unwrap().remove("namespace");
    let err = applied(Some(&live), &cfg, "kubectl", T1, false).unwrap_err();
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.template.spec.containers[name="nginx"].image"#
    );
}

#[test]
fn crd_objects_apply_with_their_list_keys() {
    let schema = Schema::from_crd(&crd(), "v1").unwrap();
    let c = |items: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"items": items}});
    let wctx = |m: &str| WriteContext {
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        ignored_top_level: vec![],
        ..ctx(m, T0)
    };
    let first = apply(
        &schema,
        None,
        &c(json!([{"name": "a", "zone": "1", "size": 1}])),
        &wctx("one"),
        false,
    )
    .unwrap();
    let out = apply(
        &schema,
        Some(&first),
        &c(json!([{"name": "a", "zone": "2", "size": 5}])),
        &wctx("two"),
        false,
    )
    .unwrap();
    assert_eq!(out["spec"]["items"].as_array().unwrap().len(), 2);
    let err = apply(
        &schema,
        Some(&first),
        &c(json!([{"name": "a", "zone": "1", "size": 5}])),
        &wctx("two"),
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "one": .spec.items[name="a",zone="1"].size"#
    );
}

#[test]
fn crd_create_marks_spec_as_added() {
    let schema = Schema::from_crd(&crd(), "v1").unwrap();
    let mut obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 1}});
    let c = WriteContext {
        api_version: "example.com/v1".into(),
        kind: "Widget".into(),
        ..ctx("kubectl-create", T0)
    };
    update(&schema, None, &mut obj, &c).unwrap();
    assert_eq!(
        fields(&obj, "kubectl-create", "Update"),
        json!({"f:spec": {".": {}, "f:replicas": {}}})
    );
}
