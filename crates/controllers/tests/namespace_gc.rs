//! The namespace controller and the garbage collector against a real API server (embedded
//! store, in-process transport), with every controller running as in `k8rs server`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

mod common;
use common::{Cluster, eventually};

async fn cluster() -> Cluster {
    common::cluster(controllers::ControllersConfig::default()).await
}

fn configmap(name: &str, owner: Option<(&ConfigMap, bool)>) -> ConfigMap {
    let mut cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}}))
            .expect("configmap");
    if let Some((o, block)) = owner {
        cm.metadata.owner_references = Some(vec![
            serde_json::from_value(json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": o.metadata.name,
                "uid": o.metadata.uid,
                "blockOwnerDeletion": block,
            }))
            .expect("ownerReference"),
        ]);
    }
    cm
}

async fn exists(api: &Api<ConfigMap>, name: &str) -> bool {
    api.get_opt(name).await.expect("get").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependents_of_a_missing_owner_uid_are_collected() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let pp = PostParams::default();
    let owner = cms.create(&pp, &configmap("owner", None)).await.unwrap();
    let mut ghost_owner = owner.clone();
    ghost_owner.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
    // Same name as a live owner, but another uid: that owner does not exist.
    cms.create(&pp, &configmap("wrong-uid", Some((&ghost_owner, false))))
        .await
        .unwrap();
    ghost_owner.metadata.name = Some("ghost".into());
    cms.create(&pp, &configmap("dangling", Some((&ghost_owner, false))))
        .await
        .unwrap();
    cms.create(&pp, &configmap("kept", Some((&owner, false))))
        .await
        .unwrap();

    eventually("dependents of missing owners are deleted", || async {
        !exists(&cms, "dangling").await && !exists(&cms, "wrong-uid").await
    })
    .await;
    assert!(
        exists(&cms, "kept").await,
        "a dependent of a live owner was deleted"
    );
    assert!(exists(&cms, "owner").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_deletion_waits_for_blocking_dependents() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let pp = PostParams::default();
    let owner = cms.create(&pp, &configmap("owner", None)).await.unwrap();
    let mut dep = configmap("blocker", Some((&owner, true)));
    // A finalizer of its own keeps the dependent around while it is being deleted.
    dep.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&pp, &dep).await.unwrap();

    cms.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("the blocking dependent is being deleted", || async {
        cms.get_opt("blocker")
            .await
            .unwrap()
            .is_some_and(|d| d.metadata.deletion_timestamp.is_some())
    })
    .await;
    let held = cms.get_opt("owner").await.unwrap();
    let held = held.expect("owner deleted while a blocking dependent exists");
    assert!(
        held.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );

    let release = json!({"metadata": {"finalizers": null}});
    cms.patch("blocker", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .unwrap();
    eventually("owner and dependent are gone", || async {
        !exists(&cms, "blocker").await && !exists(&cms, "owner").await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_deletion_keeps_dependents_without_the_reference() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let pp = PostParams::default();
    let owner = cms.create(&pp, &configmap("owner", None)).await.unwrap();
    cms.create(&pp, &configmap("child", Some((&owner, true))))
        .await
        .unwrap();

    cms.delete("owner", &DeleteParams::orphan()).await.unwrap();
    eventually("the owner is gone", || async {
        !exists(&cms, "owner").await
    })
    .await;
    let child = cms.get("child").await.expect("orphaned dependent deleted");
    assert!(
        child
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty(),
        "the orphan still refers to its deleted owner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_deletion_collects_the_whole_chain() {
    let c = cluster().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    eventually("the deployment has a ReplicaSet", || async {
        !rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    deploys
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    eventually("the ReplicaSet is collected", || async {
        rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "docker.io/k8rs/demo:0.1.0"}]}
            }
        }
    }))
    .expect("deployment")
}

/// Needs the API server's upstream namespace deletion: DELETE sets deletionTimestamp and
/// phase Terminating while `spec.finalizers` is non-empty, and the namespace is removed once
/// both `spec.finalizers` and `metadata.finalizers` are empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn deleting_a_namespace_removes_its_content_then_the_namespace() {
    let c = cluster().await;
    let nss: Api<Namespace> = Api::all(c.client.clone());
    let pp = PostParams::default();
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "doomed"}})).expect("namespace");
    nss.create(&pp, &ns).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "doomed");
    let secrets: Api<Secret> = Api::namespaced(c.client.clone(), "doomed");
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "doomed");
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "doomed");
    cms.create(&pp, &configmap("settings", None)).await.unwrap();
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "token"}, "stringData": {"k": "v"}}))
            .expect("secret");
    secrets.create(&pp, &secret).await.unwrap();
    deploys.create(&pp, &deployment("web")).await.unwrap();
    eventually("the deployment has a ReplicaSet", || async {
        !rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;

    nss.delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the namespace is removed", || async {
        nss.get_opt("doomed").await.unwrap().is_none()
    })
    .await;
    assert!(
        cms.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        secrets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        deploys
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Works with the API server as it is and as upstream: a metadata finalizer of the test's own
/// keeps the deleted namespace around, so its deletion timestamp is set and the controller's
/// work can be observed before the namespace goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_content_is_removed_then_the_kubernetes_finalizer_released() {
    let c = cluster().await;
    let nss: Api<Namespace> = Api::all(c.client.clone());
    let pp = PostParams::default();
    let ns: Namespace = serde_json::from_value(
        json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .expect("namespace");
    nss.create(&pp, &ns).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "held");
    let secrets: Api<Secret> = Api::namespaced(c.client.clone(), "held");
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "held");
    let rss: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "held");
    cms.create(&pp, &configmap("settings", None)).await.unwrap();
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "token"}, "stringData": {"k": "v"}}))
            .expect("secret");
    secrets.create(&pp, &secret).await.unwrap();
    deploys.create(&pp, &deployment("web")).await.unwrap();
    eventually("the deployment has a ReplicaSet", || async {
        !rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;

    nss.delete("held", &DeleteParams::default()).await.unwrap();
    eventually("the kubernetes finalizer is released", || async {
        let n = nss.get("held").await.unwrap();
        n.spec
            .and_then(|s| s.finalizers)
            .is_none_or(|f| !f.iter().any(|x| x == "kubernetes"))
    })
    .await;
    assert!(
        cms.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        secrets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        rss.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        deploys
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let n = nss.get("held").await.unwrap();
    let status = n.status.expect("status");
    assert_eq!(status.phase.as_deref(), Some("Terminating"));
    let conds = status.conditions.unwrap_or_default();
    let remaining = conds
        .iter()
        .find(|c| c.type_ == "NamespaceContentRemaining")
        .expect("NamespaceContentRemaining condition");
    assert_eq!(remaining.status, "False");
    assert_eq!(remaining.reason.as_deref(), Some("ContentRemoved"));
    let failure = conds
        .iter()
        .find(|c| c.type_ == "NamespaceDeletionContentFailure")
        .expect("NamespaceDeletionContentFailure condition");
    assert_eq!(failure.reason.as_deref(), Some("ContentDeleted"));

    let release = json!({"metadata": {"finalizers": null}});
    nss.patch("held", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .unwrap();
    eventually("the namespace is removed", || async {
        nss.get_opt("held").await.unwrap().is_none()
    })
    .await;
}
