//! Table of (original, patch, expected) cases, written from upstream's documented
//! strategic merge patch behaviour, against the real schema of built-in kinds.

use serde_json::{Value, json};

use super::{Error, apply};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const POD: &str = "io.k8s.api.core.v1.Pod";
const CONFIGMAP: &str = "io.k8s.api.core.v1.ConfigMap";
const SERVICE: &str = "io.k8s.api.core.v1.Service";
const PDB: &str = "io.k8s.api.policy.v1.PodDisruptionBudget";
const REVISION: &str = "io.k8s.api.apps.v1.ControllerRevision";

enum Want {
    Object(Value),
    /// An error of this variant whose message contains the text.
    Error(fn(String) -> Error, &'static str),
}

struct Case {
    name: &'static str,
    definition: Option<&'static str>,
    original: Value,
    patch: Value,
    want: Want,
}

fn ok(name: &'static str, def: &'static str, original: Value, patch: Value, want: Value) -> Case {
    Case {
        name,
        definition: Some(def),
        original,
        patch,
        want: Want::Object(want),
    }
}

fn err(
    name: &'static str,
    def: &'static str,
    original: Value,
    patch: Value,
    variant: fn(String) -> Error,
    text: &'static str,
) -> Case {
    Case {
        name,
        definition: Some(def),
        original,
        patch,
        want: Want::Error(variant, text),
    }
}

/// A pod spec with the given containers.
fn pod(containers: Value) -> Value {
    json!({"spec": {"containers": containers}})
}

/// A deployment whose pod template has the given spec.
fn deploy(spec: Value) -> Value {
    json!({"spec": {"template": {"spec": spec}}})
}

fn cases() -> Vec<Case> {
    vec![
        // --- maps ---
        ok(
            "add a field",
            POD,
            json!({"metadata": {"name": "p"}}),
            json!({"metadata": {"namespace": "d"}}),
            json!({"metadata": {"name": "p", "namespace": "d"}}),
        ),
        ok(
            "null deletes a field",
            POD,
            json!({"spec": {"hostname": "h", "subdomain": "s"}}),
            json!({"spec": {"hostname": null}}),
            json!({"spec": {"subdomain": "s"}}),
        ),
        ok(
            "null for a missing field is ignored",
            POD,
            json!({"spec": {"subdomain": "s"}}),
            json!({"spec": {"hostname": null}}),
            json!({"spec": {"subdomain": "s"}}),
        ),
        ok(
            "labels merge by key",
            POD,
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"b": "3", "c": "4"}}}),
            json!({"metadata": {"labels": {"a": "1", "b": "3", "c": "4"}}}),
        ),
        ok(
            "annotation removed with null",
            POD,
            json!({"metadata": {"annotations": {"x": "1", "y": "2"}}}),
            json!({"metadata": {"annotations": {"x": null}}}),
            json!({"metadata": {"annotations": {"y": "2"}}}),
        ),
        ok(
            "configmap data merges",
            CONFIGMAP,
            json!({"data": {"a": "1", "b": "2"}}),
            json!({"data": {"a": null, "c": "3"}}),
            json!({"data": {"b": "2", "c": "3"}}),
        ),
        ok(
            "$patch replace on a map",
            CONFIGMAP,
            json!({"data": {"a": "1", "b": "2"}, "metadata": {"name": "c"}}),
            json!({"data": {"$patch": "replace", "z": "9"}}),
            json!({"data": {"z": "9"}, "metadata": {"name": "c"}}),
        ),
        ok(
            "$patch delete on a map leaves it empty",
            POD,
            json!({"metadata": {"labels": {"a": "1"}, "name": "p"}}),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!({"metadata": {"labels": {}, "name": "p"}}),
        ),
        ok(
            "$patch replace at the root",
            CONFIGMAP,
            json!({"data": {"a": "1"}, "kind": "ConfigMap"}),
            json!({"$patch": "replace", "kind": "ConfigMap", "data": {"b": "2"}}),
            json!({"kind": "ConfigMap", "data": {"b": "2"}}),
        ),
        ok(
            "patchStrategy replace map (PDB selector)",
            PDB,
            json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}}),
            json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
            json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
        ),
        ok(
            "selector matchLabels merge without replace strategy",
            DEPLOYMENT,
            json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}}),
            json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}),
            json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}}),
        ),
        ok(
            "scalar replaced by a map",
            POD,
            json!({"spec": {"x": "s"}}),
            json!({"spec": {"x": {"a": 1, "b": null}}}),
            json!({"spec": {"x": {"a": 1}}}),
        ),
        ok(
            "new subtree loses nulls and directives",
            DEPLOYMENT,
            json!({"spec": {}}),
            json!({"spec": {"template": {"metadata": {"labels": {"a": "1", "b": null}}, "spec": {"containers": [{"name": "c", "image": "i"}, {"name": "d", "$patch": "delete"}]}}}}),
            json!({"spec": {"template": {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
        ),
        ok(
            "null patch is a no-op",
            POD,
            json!({"spec": {"hostname": "h"}}),
            Value::Null,
            json!({"spec": {"hostname": "h"}}),
        ),
        // --- merging lists of objects ---
        ok(
            "container image updated by name",
            POD,
            pod(json!([{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}])),
            pod(json!([{"name": "b", "image": "y:2"}])),
            pod(json!([{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}])),
        ),
        ok(
            // As upstream's kubectl patch docs show: a new element goes before the
            // server-only ones.
            "container added before server-only ones",
            POD,
            pod(json!([{"name": "a", "image": "x"}])),
            pod(json!([{"name": "b", "image": "y"}])),
            pod(json!([{"name": "b", "image": "y"}, {"name": "a", "image": "x"}])),
        ),
        ok(
            "new element before named ones comes first",
            POD,
            pod(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])),
            pod(json!([{"name": "d"}, {"name": "b", "image": "i"}])),
            pod(json!([{"name": "d"}, {"name": "a"}, {"name": "b", "image": "i"}, {"name": "c"}])),
        ),
        ok(
            "container deleted with $patch delete",
            POD,
            pod(json!([{"name": "a"}, {"name": "b"}])),
            pod(json!([{"name": "a", "$patch": "delete"}])),
            pod(json!([{"name": "b"}])),
        ),
        ok(
            "$patch delete removes every duplicate",
            POD,
            pod(json!([{"name": "a"}, {"name": "a", "image": "x"}, {"name": "b"}])),
            pod(json!([{"name": "a", "$patch": "delete"}])),
            pod(json!([{"name": "b"}])),
        ),
        ok(
            "$patch delete of an absent element is a no-op",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"name": "z", "$patch": "delete"}])),
            pod(json!([{"name": "a"}])),
        ),
        ok(
            "$patch replace on a list",
            POD,
            pod(json!([{"name": "a", "image": "x"}, {"name": "b"}])),
            pod(json!([{"name": "c", "image": "z", "ports": null}, {"$patch": "replace"}])),
            pod(json!([{"name": "c", "image": "z"}])),
        ),
        ok(
            "$patch replace with no elements empties the list",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"$patch": "replace"}])),
            pod(json!([])),
        ),
        ok(
            "env var changed and added",
            POD,
            pod(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]),
            ),
            pod(
                json!([{"name": "a", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]),
            ),
            pod(
                json!([{"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]),
            ),
        ),
        ok(
            "env valueFrom replaced by value via null",
            POD,
            pod(
                json!([{"name": "a", "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]}]),
            ),
            pod(json!([{"name": "a", "env": [{"name": "A", "value": "v", "valueFrom": null}]}])),
            pod(json!([{"name": "a", "env": [{"name": "A", "value": "v"}]}])),
        ),
        ok(
            "container ports merge by containerPort",
            POD,
            pod(json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}])),
            pod(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}]),
            ),
            pod(
                json!([{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 443}]}]),
            ),
        ),
        ok(
            "service ports merge by port",
            SERVICE,
            json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}),
        ),
        ok(
            "nested merge keys: volumeMount in a deployment container",
            DEPLOYMENT,
            deploy(
                json!({"containers": [{"name": "a", "volumeMounts": [{"mountPath": "/d", "name": "v"}, {"mountPath": "/e", "name": "w"}]}]}),
            ),
            deploy(
                json!({"containers": [{"name": "a", "volumeMounts": [{"mountPath": "/e", "readOnly": true}]}]}),
            ),
            deploy(
                json!({"containers": [{"name": "a", "volumeMounts": [{"mountPath": "/d", "name": "v"}, {"mountPath": "/e", "name": "w", "readOnly": true}]}]}),
            ),
        ),
        ok(
            "pod conditions merge by type",
            POD,
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Scheduled", "status": "True"}]}}),
            json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            json!({"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Scheduled", "status": "True"}]}}),
        ),
        ok(
            "ownerReferences merge by uid",
            POD,
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}, {"uid": "1", "name": "a"}]}}),
        ),
        // --- lists without merge strategy ---
        ok(
            "command (no strategy) is replaced",
            POD,
            pod(json!([{"name": "a", "command": ["x", "y"]}])),
            pod(json!([{"name": "a", "command": ["z"]}])),
            pod(json!([{"name": "a", "command": ["z"]}])),
        ),
        ok(
            "tolerations (atomic) are replaced",
            POD,
            json!({"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}),
            json!({"spec": {"tolerations": [{"key": "c"}]}}),
            json!({"spec": {"tolerations": [{"key": "c"}]}}),
        ),
        ok(
            "RawExtension merges like a JSON merge patch",
            REVISION,
            json!({"data": {"spec": {"a": 1, "list": [1, 2]}, "keep": true}}),
            json!({"data": {"spec": {"a": null, "b": 2, "list": [3]}}}),
            json!({"data": {"spec": {"b": 2, "list": [3]}, "keep": true}}),
        ),
        // --- primitive lists with merge strategy ---
        ok(
            "finalizers union",
            POD,
            json!({"metadata": {"finalizers": ["a", "b"]}}),
            json!({"metadata": {"finalizers": ["b", "c"]}}),
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
        ),
        ok(
            "finalizers deleted with $deleteFromPrimitiveList",
            POD,
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            json!({"metadata": {"finalizers": ["a", "c"]}}),
        ),
        ok(
            "$deleteFromPrimitiveList on an absent list does nothing",
            POD,
            json!({"metadata": {"name": "p"}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            json!({"metadata": {"name": "p"}}),
        ),
        ok(
            "primitive list: delete, add and order together",
            POD,
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            json!({"metadata": {"$setElementOrder/finalizers": ["c", "a", "d"], "$deleteFromPrimitiveList/finalizers": ["b"], "finalizers": ["d"]}}),
            json!({"metadata": {"finalizers": ["c", "a", "d"]}}),
        ),
        // --- $setElementOrder ---
        ok(
            "$setElementOrder reorders containers",
            POD,
            pod(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])),
            json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}]}}),
            pod(json!([{"name": "c"}, {"name": "b"}, {"name": "a"}])),
        ),
        ok(
            "$setElementOrder with an added element",
            POD,
            pod(json!([{"name": "a"}, {"name": "b"}])),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "new"}, {"name": "b"}], "containers": [{"name": "new", "image": "n"}]}}),
            pod(json!([{"name": "a"}, {"name": "new", "image": "n"}, {"name": "b"}])),
        ),
        ok(
            "$setElementOrder keeps server-only elements",
            POD,
            pod(json!([{"name": "a"}, {"name": "s"}, {"name": "b"}])),
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}], "containers": [{"name": "b", "image": "x"}]}}),
            pod(json!([{"name": "s"}, {"name": "b", "image": "x"}, {"name": "a"}])),
        ),
        ok(
            "kubectl apply: container removed and env changed",
            DEPLOYMENT,
            deploy(json!({"containers": [
                {"name": "a", "image": "x", "env": [{"name": "E", "value": "1"}]},
                {"name": "b", "image": "y"}]})),
            deploy(json!({
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [
                    {"name": "a", "$setElementOrder/env": [{"name": "E"}], "env": [{"name": "E", "value": "2"}]},
                    {"name": "b", "$patch": "delete"}]})),
            deploy(
                json!({"containers": [{"name": "a", "image": "x", "env": [{"name": "E", "value": "2"}]}]}),
            ),
        ),
        // --- $retainKeys ---
        ok(
            "$retainKeys on volumes switches the source",
            DEPLOYMENT,
            deploy(
                json!({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}),
            ),
            deploy(
                json!({"volumes": [{"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}]}),
            ),
            deploy(
                json!({"volumes": [{"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "emptyDir": {}}]}),
            ),
        ),
        ok(
            "$retainKeys on deployment strategy drops rollingUpdate",
            DEPLOYMENT,
            json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}),
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        ),
        ok(
            "volume removed by kubectl apply",
            DEPLOYMENT,
            deploy(
                json!({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}),
            ),
            deploy(
                json!({"$setElementOrder/volumes": [{"name": "w"}], "volumes": [{"name": "v", "$patch": "delete"}]}),
            ),
            deploy(json!({"volumes": [{"name": "w", "emptyDir": {}}]})),
        ),
        // --- errors ---
        err(
            "list element without its merge key",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"image": "nginx"}])),
            Error::Failed,
            "map: map[image:nginx] does not contain declared merge key: name",
        ),
        err(
            "$patch delete without merge key",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"$patch": "delete", "image": "x"}])),
            Error::Failed,
            "map: map[$patch:delete image:x] does not contain declared merge key: name",
        ),
        err(
            "unknown $patch in a map",
            POD,
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": {"$patch": "nope"}}}),
            Error::Failed,
            "unknown patch type: nope in map: map[$patch:nope]",
        ),
        err(
            "unknown $patch in a list element",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"name": "a", "$patch": "bogus"}])),
            Error::Failed,
            "unknown patch type: bogus in map: map[$patch:bogus name:a]",
        ),
        err(
            "$patch merge in a list",
            POD,
            pod(json!([{"name": "a"}])),
            pod(json!([{"name": "a", "$patch": "merge"}])),
            Error::Failed,
            "merging lists cannot yet be specified in the patch",
        ),
        err(
            "patch key not in $retainKeys",
            DEPLOYMENT,
            json!({"spec": {"strategy": {"type": "RollingUpdate"}}}),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
            Error::BadRequest,
            "invalid patch format of retainKeys",
        ),
        err(
            "$retainKeys not a list",
            DEPLOYMENT,
            json!({"spec": {"strategy": {}}}),
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            Error::BadRequest,
            "invalid patch format of retainKeys",
        ),
        err(
            "$setElementOrder without a field name",
            POD,
            pod(json!([{"name": "a"}])),
            json!({"spec": {"$setElementOrder": [{"name": "a"}]}}),
            Error::BadRequest,
            "invalid patch format of setElementOrder list",
        ),
        err(
            "$deleteFromPrimitiveList without a field name",
            POD,
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
            Error::BadRequest,
            "invalid patch format of primitive list",
        ),
        err(
            "$setElementOrder contradicting the patch",
            POD,
            pod(json!([{"name": "a"}, {"name": "b"}])),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "b"}, {"name": "a"}]}}),
            Error::Failed,
            "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n",
        ),
        err(
            "$setElementOrder not a list",
            POD,
            pod(json!([{"name": "a"}])),
            json!({"spec": {"$setElementOrder/containers": "a"}}),
            Error::Failed,
            "expected a []interface {}, but received a string",
        ),
        err(
            "list of lists",
            POD,
            json!({"metadata": {"finalizers": [["a"]]}}),
            json!({"metadata": {"finalizers": [["b"]]}}),
            Error::Unprocessable,
            "lists of lists are not supported",
        ),
        err(
            "mixed element types",
            POD,
            json!({"metadata": {"finalizers": ["a"]}}),
            json!({"metadata": {"finalizers": [1]}}),
            Error::Failed,
            "list element types are not identical: [[a] [1]]",
        ),
        err(
            "patch body is not an object",
            POD,
            json!({}),
            json!([1]),
            Error::BadRequest,
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
    ]
}

#[test]
fn strategic_merge_patch_table() {
    let cases = cases();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for c in cases {
        let got = apply(&c.original, &c.patch, c.definition);
        match (&c.want, got) {
            (Want::Object(want), Ok(got)) if &got == want => {}
            (Want::Error(variant, text), Err(e)) if e == variant(e.to_string()) => {
                if !e.to_string().contains(text) {
                    failures.push(format!("{}: error {e:?}, want text {text:?}", c.name));
                }
            }
            (Want::Object(want), got) => {
                failures.push(format!("{}: got {got:?}\n   want {want}", c.name))
            }
            (Want::Error(variant, text), got) => failures.push(format!(
                "{}: got {got:?}, want {:?}",
                c.name,
                variant(text.to_string())
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn directive_keys_never_reach_the_result() {
    fn has_directive(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| k.starts_with('$') || has_directive(v)),
            Value::Array(a) => a.iter().any(has_directive),
            _ => false,
        }
    }
    for c in cases() {
        if let Ok(out) = apply(&c.original, &c.patch, c.definition) {
            assert!(!has_directive(&out), "{}: {out}", c.name);
        }
    }
}

#[test]
fn untyped_documents_replace_lists() {
    let out = apply(
        &json!({"spec": {"containers": [{"name": "a"}], "m": {"x": 1}}}),
        &json!({"spec": {"containers": [{"name": "b"}], "m": {"y": 2}}}),
        None,
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"spec": {"containers": [{"name": "b"}], "m": {"x": 1, "y": 2}}})
    );
}
