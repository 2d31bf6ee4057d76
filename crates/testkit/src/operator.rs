//! A small operator built the way kube-rs users build them, used by the e2e and compat
//! suites to prove that k8rs serves operators like upstream does.
//!
//! It is the `Website` operator of chapter 16 of Kubernetes in Action: a namespaced custom
//! resource (`websites.demo.k8rs.io`, short name `ws`) whose spec says how many replicas of
//! the demo app to run and which message to give them. For each Website the controller
//! server-side applies a Deployment of the demo image (the message in the `MESSAGE`
//! environment variable) and a ClusterIP Service in front of it, both controlled by the
//! Website so that the garbage collector removes them with it, and reports the
//! Deployment's ready replicas in the Website's status subresource. The CRD declares the
//! status and scale subresources and printer columns, so `kubectl get ws` and
//! `kubectl scale ws/<name>` work as they do for built-in kinds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::images::DEMO_IMAGE;

/// The field manager of everything the operator writes (visible in `managedFields`).
pub const FIELD_MANAGER: &str = "website-operator";
/// The port the demo app listens on.
pub const DEMO_PORT: i32 = 8080;
/// The port the Service exposes.
pub const SERVICE_PORT: i32 = 80;
/// The environment variable carrying `spec.message` into the pods.
pub const MESSAGE_ENV: &str = "MESSAGE";
/// Label naming the Website a Deployment, Service and pod belong to.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The condition the operator maintains in the Website's status.
pub const READY_CONDITION: &str = "Ready";

/// How long a healthy Website waits before it is looked at again without any event.
const RESYNC: Duration = Duration::from_secs(300);
/// How long a failed reconcile waits before it is retried.
const RETRY: Duration = Duration::from_secs(2);

/// The desired state of a Website: how many replicas of the demo app, saying what.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "demo.k8rs.io",
    version = "v1",
    kind = "Website",
    namespaced,
    shortname = "ws",
    status = "WebsiteStatus",
    derive = "PartialEq",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.readyReplicas"
    ),
    // Raw JSON (kube-derive's older form): clippy takes repeated `type_ = ...` keys of
    // the structured form for duplicated attributes.
    printcolumn = r#"{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}"#,
    printcolumn = r#"{"name": "Ready", "type": "integer", "jsonPath": ".status.readyReplicas"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteSpec {
    pub replicas: i32,
    pub message: String,
}

/// What the operator observed: the Deployment's ready replicas and a Ready condition.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteStatus {
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// Why a reconcile (or the operator) failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the Website API is not served: {0}")]
    NotServed(#[source] kube::Error),
    #[error("Website {0} has no namespace")]
    NoNamespace(String),
    #[error("Website {0} has no uid yet")]
    NoUid(String),
    #[error("applying {what} of Website {website}: {source}")]
    Apply {
        what: &'static str,
        website: String,
        #[source]
        source: kube::Error,
    },
    #[error("updating the status of Website {website}: {source}")]
    Status {
        website: String,
        #[source]
        source: kube::Error,
    },
}

/// The CustomResourceDefinition of `Website`, as `CustomResourceExt::crd()` derives it.
pub fn crd() -> CustomResourceDefinition {
    Website::crd()
}

/// The labels of everything belonging to the Website `name` (also the pod selector).
pub fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (INSTANCE_LABEL.to_string(), name.to_string()),
        ("app.kubernetes.io/name".to_string(), "website".to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            FIELD_MANAGER.to_string(),
        ),
    ])
}

/// The label selector (`key=value`) matching the pods of the Website `name`.
pub fn selector(name: &str) -> String {
    format!("{INSTANCE_LABEL}={name}")
}

/// Runs the Website controller until `shutdown` is cancelled. Fails early when the
/// `Website` API is not served (the CRD must be installed and Established first).
pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let websites: Api<Website> = Api::all(client.clone());
    websites
        .list(&ListParams::default().limit(1))
        .await
        .map_err(Error::NotServed)?;
    let ctx = Arc::new(Context {
        client: client.clone(),
    });
    let stop = shutdown.clone();
    Controller::new(websites, watcher::Config::default())
        .owns(
            Api::<Deployment>::all(client.clone()),
            watcher::Config::default(),
        )
        .owns(Api::<Service>::all(client), watcher::Config::default())
        .graceful_shutdown_on(async move { stop.cancelled().await })
        .run(reconcile, error_policy, ctx)
        .for_each(|outcome| async move {
            match outcome {
                Ok((obj, _)) => tracing::debug!(website = %obj.name, "reconciled"),
                Err(e) => tracing::warn!(error = %e, "reconcile failed"),
            }
        })
        .await;
    Ok(())
}

/// What every reconcile needs.
struct Context {
    client: kube::Client,
}

async fn reconcile(website: Arc<Website>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = website.name_any();
    // Being deleted: the garbage collector removes what it owns; nothing to do.
    if website.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = website
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    let owner = website
        .controller_owner_ref(&())
        .ok_or_else(|| Error::NoUid(name.clone()))?;
    let apply = PatchParams::apply(FIELD_MANAGER).force();

    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &namespace);
    let deployment = desired_deployment(&website, owner.clone());
    let applied = deployments
        .patch(&name, &apply, &Patch::Apply(&deployment))
        .await
        .map_err(|source| Error::Apply {
            what: "the Deployment",
            website: name.clone(),
            source,
        })?;

    let services: Api<Service> = Api::namespaced(ctx.client.clone(), &namespace);
    services
        .patch(
            &name,
            &apply,
            &Patch::Apply(&desired_service(&website, owner)),
        )
        .await
        .map_err(|source| Error::Apply {
            what: "the Service",
            website: name.clone(),
            source,
        })?;

    let ready = applied
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let status = next_status(website.status.as_ref(), &website.spec, ready, Time(now()));
    // Writing an unchanged status would only wake this controller up again.
    if website.status.as_ref() != Some(&status) {
        let websites: Api<Website> = Api::namespaced(ctx.client.clone(), &namespace);
        websites
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await
            .map_err(|source| Error::Status {
                website: name.clone(),
                source,
            })?;
    }
    Ok(Action::requeue(RESYNC))
}

fn error_policy(website: Arc<Website>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(website = %website.name_any(), %error, "reconcile failed; retrying");
    Action::requeue(RETRY)
}

fn now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}

/// The Deployment running the Website's pods: the demo app with the message in its
/// environment. Changing the message changes the pod template, so the pods roll.
pub fn desired_deployment(
    website: &Website,
    owner: k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) -> Deployment {
    let name = website.name_any();
    let labels = labels(&name);
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: website.namespace(),
            labels: Some(labels.clone()),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(website.spec.replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "web".into(),
                        image: Some(DEMO_IMAGE.into()),
                        ports: Some(vec![ContainerPort {
                            container_port: DEMO_PORT,
                            name: Some("http".into()),
                            ..Default::default()
                        }]),
                        env: Some(vec![EnvVar {
                            name: MESSAGE_ENV.into(),
                            value: Some(website.spec.message.clone()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The ClusterIP Service in front of the Website's pods, port 80 to the demo's 8080.
pub fn desired_service(
    website: &Website,
    owner: k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) -> Service {
    let name = website.name_any();
    Service {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: website.namespace(),
            labels: Some(labels(&name)),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(labels(&name)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::Int(DEMO_PORT)),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The status to report for `ready` ready replicas of `spec`. The Ready condition keeps
/// its transition time while its status stays the same, as conditions do upstream.
pub fn next_status(
    current: Option<&WebsiteStatus>,
    spec: &WebsiteSpec,
    ready: i32,
    now: Time,
) -> WebsiteStatus {
    let all_ready = ready >= spec.replicas;
    let (status, reason) = if all_ready {
        ("True", "AllReplicasReady")
    } else {
        ("False", "ReplicasNotReady")
    };
    let previous = current
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == READY_CONDITION));
    let last_transition_time = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now,
    };
    WebsiteStatus {
        ready_replicas: ready,
        conditions: Some(vec![Condition {
            type_: READY_CONDITION.into(),
            status: status.into(),
            reason: reason.into(),
            message: format!("{ready} of {} replicas ready", spec.replicas),
            last_transition_time,
            observed_generation: None,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn website(name: &str, replicas: i32, message: &str) -> Website {
        let mut w = Website::new(
            name,
            WebsiteSpec {
                replicas,
                message: message.into(),
            },
        );
        w.metadata.namespace = Some("default".into());
        w.metadata.uid = Some("0b7c1d2e-0000-4000-8000-000000000001".into());
        w
    }

    fn time(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn crd_declares_names_subresources_and_columns() {
        let crd = serde_json::to_value(crd()).unwrap();
        assert_eq!(crd["metadata"]["name"], "websites.demo.k8rs.io");
        assert_eq!(crd["spec"]["scope"], "Namespaced");
        assert_eq!(crd["spec"]["names"]["shortNames"], json!(["ws"]));
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v1");
        assert_eq!(version["subresources"]["status"], json!({}));
        assert_eq!(
            version["subresources"]["scale"],
            json!({"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.readyReplicas"})
        );
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["Replicas", "Ready", "Age"]);
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["required"], json!(["message", "replicas"]));
    }

    #[test]
    fn deployment_runs_the_demo_with_the_message_and_is_controlled() {
        let w = website("site", 2, "hello");
        let owner = w.controller_owner_ref(&()).unwrap();
        let d = serde_json::to_value(desired_deployment(&w, owner)).unwrap();
        assert_eq!(d["apiVersion"], "apps/v1");
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["spec"]["replicas"], 2);
        let refs = &d["metadata"]["ownerReferences"][0];
        assert_eq!(refs["kind"], "Website");
        assert_eq!(refs["apiVersion"], "demo.k8rs.io/v1");
        assert_eq!(refs["controller"], true);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], DEMO_IMAGE);
        assert_eq!(c["env"], json!([{"name": "MESSAGE", "value": "hello"}]));
        assert_eq!(
            d["spec"]["selector"]["matchLabels"][INSTANCE_LABEL],
            d["spec"]["template"]["metadata"]["labels"][INSTANCE_LABEL]
        );
    }

    #[test]
    fn service_targets_the_demo_port_of_the_pods() {
        let w = website("site", 1, "hi");
        let owner = w.controller_owner_ref(&()).unwrap();
        let s = serde_json::to_value(desired_service(&w, owner)).unwrap();
        assert_eq!(s["kind"], "Service");
        assert_eq!(s["spec"]["selector"][INSTANCE_LABEL], "site");
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080})
        );
    }

    #[test]
    fn ready_condition_keeps_its_transition_time_until_it_flips() {
        let spec = WebsiteSpec {
            replicas: 2,
            message: "m".into(),
        };
        let first = next_status(None, &spec, 1, time(100));
        let c = &first.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.clone()),
            ("False", time(100))
        );
        assert_eq!(first.ready_replicas, 1);

        let same = next_status(Some(&first), &spec, 1, time(200));
        assert_eq!(
            same, first,
            "an unchanged observation must not change the status"
        );

        let flipped = next_status(Some(&same), &spec, 2, time(300));
        let c = &flipped.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.clone()),
            ("True", time(300))
        );
        assert_eq!(c.message, "2 of 2 replicas ready");
    }
}
