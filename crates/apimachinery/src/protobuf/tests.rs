//! End-to-end tests: objects encoded with the `k8s-pb` prost types, wrapped in the
//! `runtime.Unknown` envelope as kubectl does, decoded to JSON.
//!
//! gogo-protobuf (kubectl's encoder) always writes non-pointer fields, even when zero; the
//! fixtures set such fields to `Some(zero)` to reproduce that.

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::authentication::v1 as authn;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Value, json};

use super::{ProtobufError, decode_to_json};

fn envelope(api_version: &str, kind: &str, object: &impl Message) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(object.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// ObjectMeta as gogo writes it for a fresh object: every value field present.
fn meta_named(name: &str, lbls: &[(&str, &str)]) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(""),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        labels: labels(lbls),
        ..Default::default()
    }
}

fn int_or_string_str(v: &str) -> IntOrString {
    IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(v),
    }
}

fn int_or_string_int(v: i32) -> IntOrString {
    IntOrString {
        r#type: Some(0),
        int_val: Some(v),
        str_val: s(""),
    }
}

fn container(name: &str, image: &str) -> core::Container {
    core::Container {
        name: s(name),
        image: s(image),
        working_dir: s(""),
        resources: Some(core::ResourceRequirements::default()),
        termination_message_path: s(""),
        image_pull_policy: s(""),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        termination_message_policy: s(""),
        ..Default::default()
    }
}

#[test]
fn deployment_like_kubectl_create_deployment() {
    let deployment = apps::Deployment {
        metadata: Some(meta_named("web", &[("app", "web")])),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: labels(&[("app", "web")]),
                ..Default::default()
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta_named("", &[("app", "web")])),
                spec: Some(core::PodSpec {
                    containers: vec![container("nginx", "nginx")],
                    restart_policy: s(""),
                    dns_policy: s(""),
                    service_account_name: s(""),
                    host_network: Some(false),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(int_or_string_int(1)),
                    max_surge: Some(int_or_string_str("25%")),
                }),
            }),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            updated_replicas: Some(0),
            ready_replicas: Some(0),
            available_replicas: Some(0),
            unavailable_replicas: Some(0),
            ..Default::default()
        }),
    };
    let got = decode_to_json(&envelope("apps/v1", "Deployment", &deployment)).unwrap();
    let want = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}
        },
        "status": {}
    });
    assert_eq!(got, want);
}

#[test]
fn secret_bytes_are_base64_and_pointer_false_is_kept() {
    let secret = core::Secret {
        metadata: Some(meta_named("s", &[])),
        data: [
            ("a".to_string(), b"b".to_vec()),
            ("bin".to_string(), vec![0, 255, 1]),
        ]
        .into_iter()
        .collect(),
        r#type: s("Opaque"),
        immutable: Some(false),
        ..Default::default()
    };
    let got = decode_to_json(&envelope("v1", "Secret", &secret)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "creationTimestamp": null},
            "data": {"a": "Yg==", "bin": "AP8B"},
            "type": "Opaque",
            "immutable": false
        })
    );
}

#[test]
fn service_ports_int_target_port_and_node_port() {
    let port = |name: &str, port: i32, target: i32, node_port: i32| core::ServicePort {
        name: s(name),
        protocol: s("TCP"),
        app_protocol: None,
        port: Some(port),
        target_port: Some(int_or_string_int(target)),
        node_port: Some(node_port),
    };
    let service = core::Service {
        metadata: Some(meta_named("web", &[("app", "web")])),
        spec: Some(core::ServiceSpec {
            ports: vec![port("80-8080", 80, 8080, 30080), port("", 443, 8443, 0)],
            selector: labels(&[("app", "web")]),
            cluster_ip: s(""),
            r#type: s("NodePort"),
            session_affinity: s(""),
            load_balancer_ip: s(""),
            external_name: s(""),
            external_traffic_policy: s(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: Some(core::LoadBalancerStatus::default()),
            conditions: vec![],
        }),
    };
    let got = decode_to_json(&envelope("v1", "Service", &service)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {
                "ports": [
                    {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080},
                    {"protocol": "TCP", "port": 443, "targetPort": 8443}
                ],
                "selector": {"app": "web"},
                "type": "NodePort"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn pod_with_quantities_time_inline_structs_and_pointer_zeros() {
    let mut c = container("app", "k8rs/demo:0.1.0");
    c.resources = Some(core::ResourceRequirements {
        limits: [
            ("cpu".to_string(), Quantity { string: s("500m") }),
            ("memory".to_string(), Quantity { string: s("128Mi") }),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    });
    c.ports = vec![core::ContainerPort {
        name: s(""),
        host_port: Some(0),
        container_port: Some(8080),
        protocol: s("TCP"),
        host_ip: s(""),
    }];
    c.env = vec![core::EnvVar {
        name: s("K"),
        value: s(""),
        value_from: Some(core::EnvVarSource {
            config_map_key_ref: Some(core::ConfigMapKeySelector {
                local_object_reference: Some(core::LocalObjectReference { name: s("cm") }),
                key: s("k"),
                optional: None,
            }),
            ..Default::default()
        }),
    }];
    c.readiness_probe = Some(core::Probe {
        handler: Some(core::ProbeHandler {
            http_get: Some(core::HttpGetAction {
                path: s("/healthz"),
                port: Some(int_or_string_str("http")),
                host: s(""),
                scheme: s(""),
                ..Default::default()
            }),
            ..Default::default()
        }),
        initial_delay_seconds: Some(0),
        period_seconds: Some(5),
        ..Default::default()
    });
    let mut metadata = meta_named("p", &[]);
    metadata.namespace = s("default");
    metadata.creation_timestamp = Some(meta::Time {
        seconds: Some(1_767_323_045),
        nanos: Some(0),
    });
    let pod = core::Pod {
        metadata: Some(metadata),
        spec: Some(core::PodSpec {
            containers: vec![c],
            volumes: vec![core::Volume {
                name: s("scratch"),
                volume_source: Some(core::VolumeSource {
                    empty_dir: Some(core::EmptyDirVolumeSource {
                        medium: s(""),
                        size_limit: None,
                    }),
                    ..Default::default()
                }),
            }],
            termination_grace_period_seconds: Some(0),
            automount_service_account_token: Some(false),
            node_name: s(""),
            ..Default::default()
        }),
        status: None,
    };
    let got = decode_to_json(&envelope("v1", "Pod", &pod)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "creationTimestamp": "2026-01-02T03:04:05Z"},
            "spec": {
                "containers": [{
                    "name": "app",
                    "image": "k8rs/demo:0.1.0",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5}
                }],
                "volumes": [{"name": "scratch", "emptyDir": {}}],
                "terminationGracePeriodSeconds": 0,
                "automountServiceAccountToken": false
            }
        })
    );
}

#[test]
fn configmap_and_namespace() {
    let cm = core::ConfigMap {
        metadata: Some(meta_named("cfg", &[])),
        data: labels(&[("key", "value"), ("empty", "")]),
        binary_data: [("raw".to_string(), b"hi".to_vec())].into_iter().collect(),
        immutable: None,
    };
    assert_eq!(
        decode_to_json(&envelope("v1", "ConfigMap", &cm)).unwrap(),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "creationTimestamp": null},
            "data": {"key": "value", "empty": ""},
            "binaryData": {"raw": "aGk="}
        })
    );
    let ns = core::Namespace {
        metadata: Some(meta_named("team-a", &[])),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus {
            phase: s(""),
            conditions: vec![],
        }),
    };
    assert_eq!(
        decode_to_json(&envelope("v1", "Namespace", &ns)).unwrap(),
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "team-a", "creationTimestamp": null},
            "spec": {},
            "status": {}
        })
    );
}

#[test]
fn delete_options_in_meta_and_core_versions() {
    let opts = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: s("Foreground"),
        dry_run: vec!["All".into()],
        ..Default::default()
    };
    for api_version in ["meta.k8s.io/v1", "v1", "apps/v1"] {
        let got = decode_to_json(&envelope(api_version, "DeleteOptions", &opts)).unwrap();
        assert_eq!(
            got,
            json!({
                "apiVersion": api_version, "kind": "DeleteOptions",
                "gracePeriodSeconds": 0, "propagationPolicy": "Foreground", "dryRun": ["All"]
            }),
            "{api_version}"
        );
    }
}

#[test]
fn token_request_and_raw_extension() {
    let token = authn::TokenRequest {
        metadata: Some(meta_named("default", &[])),
        spec: Some(authn::TokenRequestSpec {
            audiences: vec!["https://kubernetes.default.svc".into()],
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        }),
        status: Some(authn::TokenRequestStatus {
            token: s(""),
            expiration_timestamp: Some(meta::Time::default()),
        }),
    };
    assert_eq!(
        decode_to_json(&envelope(
            "authentication.k8s.io/v1",
            "TokenRequest",
            &token
        ))
        .unwrap(),
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": "default", "creationTimestamp": null},
            "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600},
            "status": {"token": "", "expirationTimestamp": null}
        })
    );

    let revision = apps::ControllerRevision {
        metadata: Some(meta_named("rev", &[])),
        data: Some(RawExtension {
            raw: Some(br#"{"spec":{"x":[1,true]}}"#.to_vec()),
        }),
        revision: Some(2),
    };
    assert_eq!(
        decode_to_json(&envelope("apps/v1", "ControllerRevision", &revision)).unwrap(),
        json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "rev", "creationTimestamp": null},
            "data": {"spec": {"x": [1, true]}},
            "revision": 2
        })
    );
}

#[test]
fn event_micro_time_and_user_extra_wrappers() {
    let review = k8s_pb::api::authorization::v1::SubjectAccessReview {
        metadata: Some(meta::ObjectMeta::default()),
        spec: Some(k8s_pb::api::authorization::v1::SubjectAccessReviewSpec {
            user: s("alice"),
            extra: [(
                "scopes".to_string(),
                k8s_pb::api::authorization::v1::ExtraValue {
                    items: vec!["a".into(), "b".into()],
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        }),
        status: None,
    };
    let got = decode_to_json(&envelope(
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        &review,
    ))
    .unwrap();
    assert_eq!(
        got["spec"],
        json!({"user": "alice", "extra": {"scopes": ["a", "b"]}})
    );

    let event = k8s_pb::api::events::v1::Event {
        metadata: Some(meta_named("e", &[])),
        event_time: Some(meta::MicroTime {
            seconds: Some(1_767_323_045),
            nanos: Some(120_000_000),
        }),
        reason: s("Started"),
        ..Default::default()
    };
    let got = decode_to_json(&envelope("events.k8s.io/v1", "Event", &event)).unwrap();
    assert_eq!(got["eventTime"], json!("2026-01-02T03:04:05.120000Z"));
    assert_eq!(got["reason"], json!("Started"));
}

#[test]
fn durations_render_like_go() {
    let fs = k8s_pb::api::flowcontrol::v1::FlowSchema::default();
    // No Duration in common kinds kubectl creates; exercise it through the schema directly.
    let schema = super::schema::schema().unwrap();
    let bytes = meta::Duration {
        duration: Some(90_000_000_000),
    }
    .encode_to_vec();
    let v = super::decode::message(schema, "apimachinery.pkg.apis.meta.v1.Duration", &bytes, 0)
        .unwrap();
    assert_eq!(v, json!("1m30s"));
    let v =
        super::decode::message(schema, "apimachinery.pkg.apis.meta.v1.Duration", &[], 0).unwrap();
    assert_eq!(v, json!("0s"));
    assert_eq!(
        decode_to_json(&envelope(
            "flowcontrol.apiserver.k8s.io/v1",
            "FlowSchema",
            &fs
        ))
        .unwrap()["kind"],
        "FlowSchema"
    );
}

#[test]
fn unknown_fields_are_skipped() {
    let ns = core::Namespace {
        metadata: Some(meta_named("x", &[])),
        ..Default::default()
    };
    let mut raw = ns.encode_to_vec();
    // field 99, varint 7 and field 98, bytes "zz": not in the schema.
    raw.extend([0x98, 0x06, 0x07, 0x92, 0x06, 0x02, b'z', b'z']);
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("v1"),
            kind: s("Namespace"),
        }),
        raw: Some(raw),
        ..Default::default()
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    assert_eq!(decode_to_json(&body).unwrap()["metadata"]["name"], "x");
}

#[test]
fn errors() {
    assert!(matches!(
        decode_to_json(b"{\"kind\":\"Pod\"}"),
        Err(ProtobufError::BadMagic)
    ));
    let err =
        decode_to_json(&envelope("apps/v1", "Gadget", &core::Namespace::default())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no kind \"Gadget\" is registered for version \"apps/v1\""
    );
    let mut body = envelope(
        "v1",
        "Namespace",
        &core::Namespace {
            metadata: Some(meta_named("x", &[])),
            ..Default::default()
        },
    );
    body.truncate(body.len() - 3);
    let err = decode_to_json(&body).unwrap_err();
    assert!(matches!(err, ProtobufError::Truncated(_)), "{err}");
    let mut bad_type = b"k8s\0".to_vec();
    bad_type.extend(
        Unknown {
            type_meta: Some(TypeMeta {
                api_version: s("v1"),
                kind: s("Namespace"),
            }),
            // metadata (field 1) sent as a varint instead of a message.
            raw: Some(vec![0x08, 0x01]),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    assert!(matches!(
        decode_to_json(&bad_type),
        Err(ProtobufError::Invalid(_))
    ));
}

#[test]
fn protobuf_content_type_detection() {
    assert!(super::is_protobuf_content_type(
        "application/vnd.kubernetes.protobuf"
    ));
    assert!(super::is_protobuf_content_type(
        "application/vnd.kubernetes.protobuf; charset=utf-8"
    ));
    assert!(!super::is_protobuf_content_type("application/json"));
}

/// The committed schema matches what the generator produces from the registry sources.
#[test]
fn schema_is_up_to_date() {
    use super::generate;
    let (Some(pb), Some(oa)) = (
        generate::find_registry_crate(generate::K8S_PB_DIR),
        generate::find_registry_crate(generate::K8S_OPENAPI_DIR),
    ) else {
        eprintln!("k8s-pb / k8s-openapi sources not in the cargo registry; skipping");
        return;
    };
    let generated = generate::generate(&pb, &oa, include_str!("go_presence.txt")).unwrap();
    let current: Value = serde_json::from_str(include_str!("schema.json")).unwrap();
    assert!(
        generated.schema == include_str!("schema.json"),
        "schema.json is stale: run `cargo run -p apimachinery --bin gen-protobuf-schema` ({} types now)",
        current["types"].as_object().map_or(0, |t| t.len())
    );
}

/// Bodies captured from real kubectl (v1.32.4) `create` commands, compared with what
/// `kubectl create ... --dry-run=client -o json` prints for the same command.
#[test]
fn real_kubectl_bodies_match_dry_run_json() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "deployment",
            include_bytes!("testdata/deployment.pb"),
            include_str!("testdata/deployment.json"),
        ),
        (
            "secret",
            include_bytes!("testdata/secret.pb"),
            include_str!("testdata/secret.json"),
        ),
        (
            "service",
            include_bytes!("testdata/service.pb"),
            include_str!("testdata/service.json"),
        ),
        (
            "configmap",
            include_bytes!("testdata/configmap.pb"),
            include_str!("testdata/configmap.json"),
        ),
        (
            "namespace",
            include_bytes!("testdata/namespace.pb"),
            include_str!("testdata/namespace.json"),
        ),
        (
            "job",
            include_bytes!("testdata/job.pb"),
            include_str!("testdata/job.json"),
        ),
        (
            "cronjob",
            include_bytes!("testdata/cronjob.pb"),
            include_str!("testdata/cronjob.json"),
        ),
        (
            "rolebinding",
            include_bytes!("testdata/rolebinding.pb"),
            include_str!("testdata/rolebinding.json"),
        ),
        (
            "quota",
            include_bytes!("testdata/quota.pb"),
            include_str!("testdata/quota.json"),
        ),
        (
            "pdb",
            include_bytes!("testdata/pdb.pb"),
            include_str!("testdata/pdb.json"),
        ),
        (
            "priorityclass",
            include_bytes!("testdata/priorityclass.pb"),
            include_str!("testdata/priorityclass.json"),
        ),
        (
            "ingress",
            include_bytes!("testdata/ingress.pb"),
            include_str!("testdata/ingress.json"),
        ),
        (
            "serviceaccount",
            include_bytes!("testdata/serviceaccount.pb"),
            include_str!("testdata/serviceaccount.json"),
        ),
    ];
    let mut failures = Vec::new();
    // `kubectl create token default`: empty metadata, nil audiences and expiration.
    let token = decode_to_json(include_bytes!("testdata/token.pb")).unwrap();
    assert_eq!(
        token,
        json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"creationTimestamp": null},
            "spec": {},
            "status": {"token": "", "expirationTimestamp": null}
        })
    );
    for (name, body, want) in cases {
        let got = decode_to_json(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Value = serde_json::from_str(want).unwrap();
        if got != want {
            failures.push(format!(
                "{name}:\n got  {}\n want {}",
                serde_json::to_string(&got).unwrap(),
                serde_json::to_string(&want).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
