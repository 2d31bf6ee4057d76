//! Valid objects of each kind give no causes; each rule gives upstream's path and text.

use serde_json::{Value, json};

use super::*;
use crate::defaults;

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": "default", "uid": "u1"})
}

/// Defaults then validates, as the API server does on create.
fn check(kind: &str, mut obj: Value) -> Vec<Cause> {
    defaults::apply(kind, &mut obj);
    validate(kind, &obj)
}

fn msgs(causes: &[Cause]) -> Vec<String> {
    causes.iter().map(Cause::to_message).collect()
}

fn pod_tpl(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
}

fn valid_objects() -> Vec<(&'static str, Value)> {
    let cluster = |name: &str| json!({"name": name});
    vec![
        (
            "Pod",
            json!({"metadata": meta("p"), "spec": {"containers": [{"name": "c", "image": "i:1",
            "ports": [{"containerPort": 80, "name": "http"}],
            "env": [{"name": "A", "value": "b"}, {"name": "P", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "volumeMounts": [{"name": "v", "mountPath": "/data"}],
            "livenessProbe": {"httpGet": {"port": 80}}}],
            "volumes": [{"name": "v", "emptyDir": {}}]}}),
        ),
        (
            "Deployment",
            json!({"metadata": meta("d"), "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"}))}}),
        ),
        (
            "ReplicaSet",
            json!({"metadata": meta("r"), "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"}))}}),
        ),
        (
            "StatefulSet",
            json!({"metadata": meta("s"), "spec": {"serviceName": "s", "selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"})),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
        ),
        (
            "DaemonSet",
            json!({"metadata": meta("ds"), "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"}))}}),
        ),
        (
            "ReplicationController",
            json!({"metadata": meta("rc"), "spec": {"template": pod_tpl(json!({"app": "a"}))}}),
        ),
        (
            "Job",
            json!({"metadata": meta("j"), "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}),
        ),
        (
            "CronJob",
            json!({"metadata": meta("cj"), "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "i"}]}}}}}}),
        ),
        (
            "Service",
            json!({"metadata": meta("svc"), "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https", "targetPort": "https"}]}}),
        ),
        (
            "Service",
            json!({"metadata": meta("ext"), "spec": {"type": "ExternalName", "externalName": "example.com"}}),
        ),
        (
            "ConfigMap",
            json!({"metadata": meta("cm"), "data": {"a.conf": "x", "B_KEY": "y"}}),
        ),
        (
            "Secret",
            json!({"metadata": meta("sec"), "data": {"password": "cGFzcw=="}}),
        ),
        (
            "Secret",
            json!({"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
        ),
        ("Namespace", json!({"metadata": cluster("ns1")})),
        (
            "Node",
            json!({"metadata": cluster("node-1"), "spec": {"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24"]}}),
        ),
        (
            "PersistentVolume",
            json!({"metadata": cluster("pv1"), "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/x"}}}),
        ),
        (
            "PersistentVolumeClaim",
            json!({"metadata": meta("pvc"), "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        ),
        (
            "Ingress",
            json!({"metadata": meta("ing"), "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "svc", "port": {"number": 80}}}}]}}]}}),
        ),
        (
            "NetworkPolicy",
            json!({"metadata": meta("np"), "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"a": "b"}}}], "ports": [{"port": 80}]}]}}),
        ),
        (
            "Role",
            json!({"metadata": meta("r"), "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        (
            "ClusterRole",
            json!({"metadata": cluster("system:controller:x"), "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
        ),
        (
            "RoleBinding",
            json!({"metadata": meta("rb"), "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}, {"kind": "User", "name": "alice"}]}),
        ),
        (
            "ClusterRoleBinding",
            json!({"metadata": cluster("crb"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "Group", "name": "g", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ),
        (
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v2", "metadata": meta("h"), "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}, "maxReplicas": 3}}),
        ),
        (
            "PodDisruptionBudget",
            json!({"metadata": meta("pdb"), "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"a": "b"}}}}),
        ),
        ("ServiceAccount", json!({"metadata": meta("sa")})),
        (
            "LimitRange",
            json!({"metadata": meta("lr"), "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"cpu": "100m"}}]}}),
        ),
        (
            "ResourceQuota",
            json!({"metadata": meta("rq"), "spec": {"hard": {"pods": "10", "requests.cpu": "4"}}}),
        ),
        (
            "StorageClass",
            json!({"metadata": cluster("local"), "provisioner": "rancher.io/local-path"}),
        ),
        (
            "PriorityClass",
            json!({"metadata": cluster("high"), "value": 1000}),
        ),
        (
            "Lease",
            json!({"metadata": {"name": "node-1", "namespace": "kube-node-lease"}, "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}}),
        ),
        (
            "EndpointSlice",
            json!({"metadata": meta("svc-abc"), "addressType": "IPv4", "endpoints": [{"addresses": ["10.42.0.5"]}], "ports": [{"name": "http", "port": 8080}]}),
        ),
        (
            "Event",
            json!({"metadata": meta("p.1234"), "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Started", "type": "Normal"}),
        ),
        (
            "Endpoints",
            json!({"metadata": meta("svc"), "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}]}),
        ),
    ]
}

#[test]
fn valid_objects_of_every_kind_pass() {
    for (kind, obj) in valid_objects() {
        assert_eq!(
            msgs(&check(kind, obj.clone())),
            Vec::<String>::new(),
            "{kind}: {obj}"
        );
    }
}

fn pod(containers: Value) -> Value {
    json!({"metadata": meta("p"), "spec": {"containers": containers}})
}

#[test]
fn metadata_rules() {
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": {"name": "Bad_Name", "namespace": "default"}}),
    ));
    assert_eq!(
        m,
        vec![
            "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ]
    );
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": {"namespace": "default"}}),
    ));
    assert_eq!(
        m,
        vec!["metadata.name: Required value: name or generateName is required"]
    );
    let m = msgs(&check("ConfigMap", json!({"metadata": {"name": "a"}})));
    assert_eq!(m, vec!["metadata.namespace: Required value"]);
    let m = msgs(&check(
        "Namespace",
        json!({"metadata": {"name": "a", "namespace": "x"}}),
    ));
    assert_eq!(
        m,
        vec!["metadata.namespace: Forbidden: not allowed on this type"]
    );
    let m = msgs(&check(
        "Role",
        json!({"metadata": {"name": "a/b", "namespace": "default"}}),
    ));
    assert_eq!(
        m,
        vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
    );
    let m = msgs(&check(
        "Service",
        json!({"metadata": {"name": "1svc", "namespace": "default"}, "spec": {"clusterIP": "None"}}),
    ));
    assert!(m[0].contains("a DNS-1035 label must consist"), "{m:?}");
    let big = "x".repeat(256 * 1024);
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": {"name": "a", "namespace": "default", "annotations": {"a": big}}}),
    ));
    assert_eq!(
        m,
        vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
    );
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": {"name": "a", "namespace": "default", "finalizers": ["a/b/c"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "", "uid": "x"}]}}),
    ));
    assert_eq!(m, vec![
        "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty".to_string(),
        "metadata.finalizers: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string(),
    ]);
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": {"name": "a", "namespace": "default", "labels": {"app": "-x"}}}),
    ));
    assert!(
        m[0].starts_with("metadata.labels: Invalid value: \"-x\": a valid label must be"),
        "{m:?}"
    );
}

#[test]
fn pod_rules() {
    assert_eq!(
        msgs(&check("Pod", pod(json!([])))),
        vec!["spec.containers: Required value"]
    );
    let m = msgs(&check(
        "Pod",
        pod(json!([{"name": "c", "image": "i"}, {"name": "c", "image": "i"}])),
    ));
    assert_eq!(m, vec!["spec.containers[1].name: Duplicate value: \"c\""]);
    let m = msgs(&check("Pod", pod(json!([{"name": "c"}]))));
    assert_eq!(m, vec!["spec.containers[0].image: Required value"]);
    let m = msgs(&check(
        "Pod",
        pod(
            json!([{"name": "c", "image": "i", "ports": [{"containerPort": 70000, "protocol": "XTP"}]}]),
        ),
    ));
    assert_eq!(m, vec![
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive".to_string(),
        "spec.containers[0].ports[0].protocol: Unsupported value: \"XTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"".to_string(),
    ]);
    let m = msgs(&check(
        "Pod",
        pod(
            json!([{"name": "c", "image": "i", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]),
        ),
    ));
    assert_eq!(
        m,
        vec![
            "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"
        ]
    );
    let m = msgs(&check(
        "Pod",
        pod(
            json!([{"name": "c", "image": "i", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]),
        ),
    ));
    assert_eq!(
        m,
        vec!["spec.containers[0].volumeMounts[0].name: Not found: \"nope\""]
    );
    let m = msgs(&check(
        "Pod",
        pod(json!([{"name": "c", "image": "i", "livenessProbe": {"periodSeconds": 5}}])),
    ));
    assert_eq!(
        m,
        vec!["spec.containers[0].livenessProbe: Required value: must specify a handler type"]
    );
    let m = msgs(&check(
        "Pod",
        pod(
            json!([{"name": "c", "image": "i", "readinessProbe": {"exec": {"command": ["x"]}, "tcpSocket": {"port": 80}}}]),
        ),
    ));
    assert_eq!(
        m,
        vec![
            "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"
        ]
    );
    let m = msgs(&check(
        "Pod",
        pod(json!([{"name": "c", "image": "i", "env": [{"name": "A=B"}]}])),
    ));
    assert_eq!(
        m,
        vec![
            "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"
        ]
    );
    let mut p = pod(json!([{"name": "c", "image": "i"}]));
    p["spec"]["restartPolicy"] = json!("Sometimes");
    p["spec"]["volumes"] = json!([{"name": "v"}]);
    let m = msgs(&check("Pod", p));
    assert_eq!(m, vec![
        "spec.volumes[0]: Required value: must specify a volume type".to_string(),
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"".to_string(),
    ]);
}

#[test]
fn workload_rules() {
    let d = json!({"metadata": meta("x"), "spec": {"template": pod_tpl(json!({"app": "a"}))}});
    assert_eq!(msgs(&check("Deployment", d)), vec![
        "spec.selector: Required value".to_string(),
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`".to_string(),
    ]);
    let mut d = json!({"metadata": meta("x"), "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "b"}}, "template": pod_tpl(json!({"app": "a"}))}});
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert_eq!(msgs(&check("Deployment", d)), vec![
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0".to_string(),
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`".to_string(),
        "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"".to_string(),
    ]);
    let j = json!({"metadata": meta("j"), "spec": {"parallelism": -1, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    assert_eq!(msgs(&check("Job", j)), vec![
        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0".to_string(),
        "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"".to_string(),
    ]);
    let cj = json!({"metadata": meta("cj"), "spec": {"schedule": "* * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}}});
    assert_eq!(
        msgs(&check("CronJob", cj)),
        vec![
            "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]"
        ]
    );
    assert!(parse_schedule("0 0 * * 1-5").is_ok());
    assert!(parse_schedule("@daily").is_ok());
    assert_eq!(
        parse_schedule("61 * * * *").unwrap_err(),
        "end of range (61) above maximum (59): 61"
    );
}

#[test]
fn service_rules() {
    let s = json!({"metadata": meta("s"), "spec": {"type": "Foo", "ports": [{"port": 80}, {"port": 80, "name": "b"}]}});
    assert_eq!(msgs(&check("Service", s)), vec![
        "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"".to_string(),
        "spec.ports[0].name: Required value".to_string(),
        "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}".to_string(),
    ]);
    let s = json!({"metadata": meta("s"), "spec": {}});
    assert_eq!(
        msgs(&check("Service", s)),
        vec!["spec.ports: Required value"]
    );
    let s = json!({"metadata": meta("s"), "spec": {"clusterIP": "1.2.3", "ports": [{"port": 0}]}});
    assert_eq!(msgs(&check("Service", s)), vec![
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive".to_string(),
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive".to_string(),
        "spec.clusterIP: Invalid value: \"1.2.3\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string(),
    ]);
}

#[test]
fn config_and_storage_rules() {
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": meta("c"), "data": {"a b": "x"}}),
    ));
    assert_eq!(
        m,
        vec![
            "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        ]
    );
    let m = msgs(&check(
        "ConfigMap",
        json!({"metadata": meta("c"), "data": {"a": "x".repeat(1024 * 1024 + 1)}}),
    ));
    assert_eq!(m, vec![": Too long: may not be more than 1048576 bytes"]);
    let m = msgs(&check(
        "PersistentVolumeClaim",
        json!({"metadata": meta("c"), "spec": {}}),
    ));
    assert_eq!(
        m,
        vec![
            "spec.accessModes: Required value: at least 1 access mode is required".to_string(),
            "spec.resources[storage]: Required value".to_string(),
        ]
    );
    let m = msgs(&check("StorageClass", json!({"metadata": {"name": "s"}})));
    assert_eq!(m, vec!["provisioner: Required value"]);
    let m = msgs(&check(
        "Ingress",
        json!({"metadata": meta("i"), "spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": {"service": {"name": "s"}}}]}}]}}),
    ));
    assert_eq!(m, vec![
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified".to_string(),
        "spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required".to_string(),
    ]);
    let m = msgs(&check(
        "Role",
        json!({"metadata": meta("r"), "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
    ));
    assert_eq!(
        m,
        vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
    );
    let m = msgs(&check(
        "HorizontalPodAutoscaler",
        json!({"metadata": meta("h"), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "minReplicas": 3, "maxReplicas": 2}}),
    ));
    assert_eq!(
        m,
        vec!["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]
    );
    let m = msgs(&check(
        "EndpointSlice",
        json!({"metadata": meta("e"), "addressType": "IPX"}),
    ));
    assert_eq!(
        m,
        vec![
            "addressType: Unsupported value: \"IPX\": supported values: \"IPv4\", \"IPv6\", \"FQDN\""
        ]
    );
}

fn defaulted(kind: &str, mut obj: Value) -> Value {
    defaults::apply(kind, &mut obj);
    obj
}

#[test]
fn update_rules() {
    let d = defaulted(
        "Deployment",
        json!({"metadata": meta("x"), "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"}))}}),
    );
    let mut n = d.clone();
    n["spec"]["selector"]["matchLabels"]["app"] = json!("b");
    n["spec"]["template"]["metadata"]["labels"]["app"] = json!("b");
    assert_eq!(
        msgs(&validate_update("Deployment", &n, &d)),
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        ]
    );
    assert!(validate_update("Deployment", &d, &d).is_empty());

    let p = defaulted("Pod", pod(json!([{"name": "c", "image": "i:1"}])));
    let mut n = p.clone();
    n["spec"]["containers"][0]["image"] = json!("i:2");
    assert!(validate_update("Pod", &n, &p).is_empty());
    n["spec"]["restartPolicy"] = json!("Never");
    let m = msgs(&validate_update("Pod", &n, &p));
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"), "{m:?}");

    let cm = json!({"metadata": meta("c"), "immutable": true, "data": {"a": "1"}});
    let mut n = cm.clone();
    n["data"]["a"] = json!("2");
    assert_eq!(
        msgs(&validate_update("ConfigMap", &n, &cm)),
        vec!["data: Forbidden: field is immutable when `immutable` is set"]
    );

    let s = defaulted("Secret", json!({"metadata": meta("s")}));
    let mut n = s.clone();
    n["type"] = json!("kubernetes.io/basic-auth");
    n["data"] = json!({"username": "YQ=="});
    assert_eq!(
        msgs(&validate_update("Secret", &n, &s)),
        vec!["type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"]
    );

    let rb = defaulted(
        "RoleBinding",
        json!({"metadata": meta("rb"), "roleRef": {"kind": "Role", "name": "a"}}),
    );
    let mut n = rb.clone();
    n["roleRef"]["name"] = json!("b");
    assert_eq!(
        msgs(&validate_update("RoleBinding", &n, &rb)),
        vec![
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"b\"}: cannot change roleRef"
        ]
    );

    let ss = defaulted(
        "StatefulSet",
        json!({"metadata": meta("s"), "spec": {"serviceName": "a", "selector": {"matchLabels": {"app": "a"}}, "template": pod_tpl(json!({"app": "a"}))}}),
    );
    let mut n = ss.clone();
    n["spec"]["replicas"] = json!(5);
    assert!(validate_update("StatefulSet", &n, &ss).is_empty());
    n["spec"]["serviceName"] = json!("b");
    assert_eq!(
        msgs(&validate_update("StatefulSet", &n, &ss)),
        vec![
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );

    let svc = json!({"metadata": meta("s"), "spec": {"type": "ClusterIP", "sessionAffinity": "None", "clusterIP": "10.43.0.5", "clusterIPs": ["10.43.0.5"], "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}});
    let mut n = svc.clone();
    n["spec"]["clusterIP"] = json!("10.43.0.6");
    n["spec"]["clusterIPs"] = json!(["10.43.0.6"]);
    assert_eq!(
        msgs(&validate_update("Service", &n, &svc)),
        vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.43.0.6\"}: may not change once set"]
    );

    let mut n = d.clone();
    n["metadata"]["uid"] = json!("u2");
    assert_eq!(
        msgs(&validate_update("Deployment", &n, &d)),
        vec!["metadata.uid: Invalid value: \"u2\": field is immutable"]
    );

    let pvc = defaulted(
        "PersistentVolumeClaim",
        json!({"metadata": meta("c"), "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    );
    let mut n = pvc.clone();
    n["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    let m = msgs(&validate_update("PersistentVolumeClaim", &n, &pvc));
    assert!(m[0].starts_with("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"), "{m:?}");

    let node = json!({"metadata": {"name": "n"}, "spec": {"podCIDRs": ["10.42.0.0/24"]}});
    let mut n = node.clone();
    n["spec"]["podCIDRs"] = json!(["10.42.1.0/24"]);
    assert_eq!(
        msgs(&validate_update("Node", &n, &node)),
        vec![
            "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"
        ]
    );

    let job = defaulted(
        "Job",
        json!({"metadata": meta("j"), "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}),
    );
    let mut n = job.clone();
    n["spec"]["template"]["spec"]["containers"][0]["image"] = json!("j");
    assert_eq!(
        msgs(&validate_update("Job", &n, &job)),
        vec!["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]
    );
}
