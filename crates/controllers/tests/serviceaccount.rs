//! The ServiceAccount controller and the root CA publisher against a real API server
//! (embedded store, in-process transport), with every controller running as in `k8rs server`.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

mod common;
use common::{Cluster, eventually};

async fn cluster() -> Cluster {
    common::cluster(controllers::ControllersConfig {
        root_ca_pem: Some(CA_PEM.to_string()),
        ..Default::default()
    })
    .await
}

const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEw\n-----END CERTIFICATE-----\n";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

async fn create_namespace(client: &kube::Client, name: &str) {
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

/// Whether the namespace's root CA map is exactly as published.
fn is_published(cm: &ConfigMap) -> bool {
    let data_ok = cm
        .data
        .as_ref()
        .is_some_and(|d| d.len() == 1 && d.get("ca.crt").map(String::as_str) == Some(CA_PEM));
    let annotation_ok = cm
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubernetes.io/description"))
        .map(String::as_str)
        == Some(DESCRIPTION);
    data_ok && annotation_ok
}

async fn published(cms: &Api<ConfigMap>) -> bool {
    cms.get_opt("kube-root-ca.crt")
        .await
        .expect("get configmap")
        .is_some_and(|cm| is_published(&cm))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_namespaces_get_the_defaults() {
    let c = cluster().await;
    for ns in ["default", "kube-system"] {
        let sas: Api<ServiceAccount> = Api::namespaced(c.client.clone(), ns);
        let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), ns);
        eventually(&format!("{ns} has its default ServiceAccount"), || async {
            sas.get_opt("default").await.expect("get").is_some()
        })
        .await;
        eventually(&format!("{ns} has kube-root-ca.crt"), || published(&cms)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_namespace_gets_a_default_service_account_that_comes_back() {
    let c = cluster().await;
    create_namespace(&c.client, "team-a").await;
    let sas: Api<ServiceAccount> = Api::namespaced(c.client.clone(), "team-a");
    eventually("the default ServiceAccount exists", || async {
        sas.get_opt("default").await.expect("get").is_some()
    })
    .await;
    let first = sas.get("default").await.expect("get");
    assert!(
        first.secrets.is_none(),
        "no token secret is attached (upstream 1.24+)"
    );

    sas.delete("default", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("a new default ServiceAccount is made", || async {
        sas.get_opt("default")
            .await
            .expect("get")
            .is_some_and(|sa| sa.metadata.uid != first.metadata.uid)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_ca_map_is_published_restored_and_reverted() {
    let c = cluster().await;
    create_namespace(&c.client, "team-b").await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "team-b");
    eventually("kube-root-ca.crt is published", || published(&cms)).await;
    let first = cms.get("kube-root-ca.crt").await.expect("get");

    cms.delete("kube-root-ca.crt", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("kube-root-ca.crt is recreated", || async {
        cms.get_opt("kube-root-ca.crt")
            .await
            .expect("get")
            .is_some_and(|cm| cm.metadata.uid != first.metadata.uid && is_published(&cm))
    })
    .await;

    let tamper = json!({"data": {"ca.crt": "not a CA", "extra": "x"}});
    let edited = cms
        .patch(
            "kube-root-ca.crt",
            &PatchParams::default(),
            &Patch::Merge(&tamper),
        )
        .await
        .expect("patch");
    eventually("the edit is reverted", || async {
        cms.get_opt("kube-root-ca.crt")
            .await
            .expect("get")
            .is_some_and(|cm| {
                cm.metadata.resource_version != edited.metadata.resource_version
                    && is_published(&cm)
            })
    })
    .await;

    let strip = json!({"metadata": {"annotations": {"kubernetes.io/description": null}}});
    cms.patch(
        "kube-root-ca.crt",
        &PatchParams::default(),
        &Patch::Merge(&strip),
    )
    .await
    .expect("patch");
    eventually("the description is restored", || published(&cms)).await;
}
