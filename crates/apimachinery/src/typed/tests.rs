use serde_json::{Value, json};

use super::*;

fn prune(group: &str, version: &str, kind: &str, obj: &Value) -> (Value, Vec<String>) {
    match prune_unknown(group, version, kind, obj) {
        Ok(Some(r)) => r,
        other => panic!("unexpected {other:?}"),
    }
}

/// Asserts the object is known, has no unknown fields and is returned unchanged.
fn assert_clean(group: &str, version: &str, kind: &str, obj: Value) {
    let (pruned, unknown) = prune(group, version, kind, &obj);
    assert_eq!(unknown, Vec::<String>::new(), "{kind}");
    assert_eq!(pruned, obj, "{kind}");
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "default",
            "labels": {"app": "web", "weird.key/with-dots": ""},
            "annotations": {"a": "b"},
            "creationTimestamp": null,
            "generation": 3,
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}, ".": {}}}}],
            "ownerReferences": [],
            "finalizers": []
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web", "anything": "goes"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
                "spec": {
                    "containers": [{
                        "name": "web", "image": "nginx:1.25",
                        "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
                        "env": [{"name": "A", "value": "1"},
                                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                      "requests": {"cpu": 0.25, "memory": "1e3"}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"tcpSocket": {"port": 8080}},
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        "args": [],
                        "securityContext": {"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]}}
                    }],
                    "volumes": [{"name": "data", "emptyDir": {}},
                                {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}]}}],
                    "nodeSelector": {},
                    "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                    "terminationGracePeriodSeconds": 30
                }
            }
        },
        "status": {"replicas": 3, "conditions": [{"type": "Available", "status": "True",
            "lastUpdateTime": "2024-01-02T03:04:05Z", "lastTransitionTime": "2024-01-02T03:04:05Z"}]}
    })
}

#[test]
fn realistic_objects_have_no_unknown_fields_and_are_unchanged() {
    assert_clean("apps", "v1", "Deployment", deployment());
    assert_clean(
        "",
        "v1",
        "Service",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"type": "NodePort", "selector": {"app": "web"}, "clusterIP": "10.43.0.12",
                     "clusterIPs": ["10.43.0.12"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"},
                               {"name": "alt", "port": 81, "targetPort": 8081}],
                     "sessionAffinity": "None"},
            "status": {"loadBalancer": {}}
        }),
    );
    assert_clean(
        "",
        "v1",
        "Pod",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "uid": "1234", "resourceVersion": "5", "deletionTimestamp": "2024-01-02T03:04:05.123Z"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 1"]}],
                     "restartPolicy": "Never", "overhead": {"cpu": "10m"}},
            "status": {"phase": "Running", "podIP": "10.42.0.5", "startTime": "2024-01-02T03:04:05Z",
                       "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": "busybox",
                           "imageID": "", "state": {"running": {"startedAt": "2024-01-02T03:04:05Z"}}}]}
        }),
    );
    assert_clean(
        "",
        "v1",
        "ConfigMap",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"spec.foo": "x", "config.yaml": "a: 1\n"}, "binaryData": {"b": "AAEC"}
        }),
    );
    assert_clean(
        "",
        "v1",
        "Secret",
        json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
            "data": {"password": "aGVsbG8=", "empty": ""}, "stringData": {"x": "y"}
        }),
    );
    assert_clean(
        "networking.k8s.io",
        "v1",
        "Ingress",
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
            "spec": {"ingressClassName": "k8rs", "tls": [{"hosts": ["a.example"], "secretName": "t"}],
                     "rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}
        }),
    );
    assert_clean(
        "batch",
        "v1",
        "CronJob",
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"},
            "spec": {"schedule": "*/1 * * * *", "concurrencyPolicy": "Forbid", "suspend": false,
                     "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
                         "restartPolicy": "OnFailure",
                         "containers": [{"name": "c", "image": "busybox"}]}}}}},
            "status": {"lastScheduleTime": "2024-01-02T03:04:00Z"}
        }),
    );
    assert_clean(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                         "schema": {"openAPIV3Schema": {"type": "object",
                             "x-kubernetes-preserve-unknown-fields": true,
                             "properties": {"spec": {"type": "object", "default": {"size": 1},
                                 "properties": {"size": {"type": "integer", "minimum": 1}}}}}}}]}
        }),
    );
}

#[test]
fn unknown_fields_at_several_depths() {
    let mut d = deployment();
    d["foo"] = json!(1);
    d["metadata"]["bogus"] = json!("x");
    d["spec"]["foo"] = json!({"nested": true});
    d["spec"]["template"]["spec"]["containers"][0]["foo"] = json!("bar");
    d["spec"]["template"]["spec"]["volumes"][1]["configMap"]["bar"] = json!([1]);
    let (pruned, unknown) = prune("apps", "v1", "Deployment", &d);
    assert_eq!(
        unknown,
        vec![
            "metadata.bogus",
            "spec.template.spec.containers[0].foo",
            "spec.template.spec.volumes[1].configMap.bar",
            "spec.foo",
            "foo",
        ]
    );
    assert_eq!(pruned, deployment());
}

#[test]
fn maps_keep_their_keys_and_free_form_content_is_data() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c",
        "labels": {"foo": "bar"}}, "data": {"foo": "bar"}});
    assert_clean("", "v1", "ConfigMap", cm);
    let cr = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"},
        "revision": 1, "data": {"spec": {"template": {"anything": {"at": "all"}}}}});
    assert_clean("apps", "v1", "ControllerRevision", cr);
}

#[test]
fn nulls_of_known_fields_are_not_unknown_but_unknown_nulls_are() {
    let mut d = deployment();
    d["spec"]["paused"] = Value::Null;
    d["spec"]["minReadySeconds"] = Value::Null;
    d["spec"]["template"]["spec"]["containers"][0]["lifecycle"] = Value::Null;
    d["spec"]["template"]["spec"]["containers"][0]["nope"] = Value::Null;
    let (pruned, unknown) = prune("apps", "v1", "Deployment", &d);
    assert_eq!(unknown, vec!["spec.template.spec.containers[0].nope"]);
    assert_eq!(pruned["spec"]["paused"], Value::Null);
    assert!(
        pruned["spec"]["template"]["spec"]["containers"][0]
            .get("nope")
            .is_none()
    );
}

#[test]
fn custom_kinds_are_not_known() {
    assert_eq!(
        prune_unknown("example.com", "v1", "Widget", &json!({"spec": {}})),
        Ok(None)
    );
    assert!(!is_typed_kind("example.com", "v1", "Widget"));
    assert!(is_typed_kind("", "v1", "Pod"));
}

#[test]
fn wrong_types_fail_with_go_wording() {
    let mut d = deployment();
    d["spec"]["replicas"] = json!("3");
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32".into())
    );

    let mut d = deployment();
    d["spec"]["replicas"] = json!(3.5);
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal number 3.5 into Go struct field DeploymentSpec.spec.replicas of type int32".into())
    );

    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(5);
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string".into())
    );

    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"] = json!({"name": "x"});
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container".into())
    );

    let mut d = deployment();
    d["metadata"]["labels"] = json!({"a": 1});
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string".into())
    );

    let mut d = deployment();
    d["spec"] = json!("x");
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec".into())
    );

    let mut d = deployment();
    d["metadata"]["labels"] = json!(["a"]);
    assert_eq!(
        prune_unknown("apps", "v1", "Deployment", &d),
        Err("json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string".into())
    );

    assert_eq!(
        prune_unknown("", "v1", "Pod", &json!([])),
        Err("json: cannot unmarshal array into Go value of type v1.Pod".into())
    );
}

#[test]
fn messages_match_upstream() {
    let errs = strict_errors(
        &["spec.foo".into(), "spec.bar".into()],
        &[
            "spec.replicas".into(),
            "spec.foo.x".into(),
            "spec.bar".into(),
        ],
    );
    assert_eq!(
        strict_decoding_error(&errs),
        r#"strict decoding error: unknown field "spec.foo", unknown field "spec.bar", duplicate field "spec.replicas""#
    );
    assert_eq!(
        decode_error(
            "Deployment",
            "v1",
            &strict_decoding_error(&[unknown_field("spec.foo")])
        ),
        r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#
    );
    assert_eq!(unknown_field("a\"b"), r#"unknown field "a\"b""#);
}
