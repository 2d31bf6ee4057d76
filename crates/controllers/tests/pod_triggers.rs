//! Controllers triggered by pod changes, against a real API server (embedded store,
//! in-process transport) with every controller running as in `k8rs server`: a pod
//! relabelled out of a Service leaves its endpoints, and a ReplicaSet adopts a matching
//! orphan pod created after it.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

mod common;
use common::eventually;

fn pod(name: &str, app: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "demo"}]},
    }))
    .expect("pod")
}

/// The IPs the Service's Endpoints and EndpointSlices list as ready.
async fn endpoint_ips(client: &kube::Client, service: &str) -> (Vec<String>, Vec<String>) {
    let eps = Api::<Endpoints>::namespaced(client.clone(), "default")
        .get_opt(service)
        .await
        .expect("get endpoints");
    let from_endpoints = eps
        .and_then(|e| e.subsets)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|s| s.addresses.unwrap_or_default())
        .map(|a| a.ip)
        .collect();
    let slices = Api::<EndpointSlice>::namespaced(client.clone(), "default")
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={service}")))
        .await
        .expect("list slices");
    let from_slices = slices
        .items
        .into_iter()
        .flat_map(|s| s.endpoints)
        .flat_map(|e| e.addresses)
        .collect();
    (from_endpoints, from_slices)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relabelled_pod_leaves_the_service_endpoints() {
    let c = common::cluster(Default::default()).await;
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }))
    .expect("service");
    Api::<Service>::namespaced(c.client.clone(), "default")
        .create(&PostParams::default(), &svc)
        .await
        .expect("create service");
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    eventually(
        "the pod is admitted (default ServiceAccount exists)",
        || async {
            pods.create(&PostParams::default(), &pod("web-1", "web"))
                .await
                .is_ok()
        },
    )
    .await;
    let status = json!({"status": {
        "phase": "Running",
        "podIP": "10.42.0.5",
        "podIPs": [{"ip": "10.42.0.5"}],
        "conditions": [{"type": "Ready", "status": "True"}],
    }});
    pods.patch_status("web-1", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("pod status");
    let want = vec!["10.42.0.5".to_string()];
    eventually("the ready pod is an endpoint", || async {
        endpoint_ips(&c.client, "web").await == (want.clone(), want.clone())
    })
    .await;

    // Taking a pod out of rotation by relabelling it: only the pod changes.
    pods.patch(
        "web-1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "debug"}}})),
    )
    .await
    .expect("relabel");
    eventually("the relabelled pod left the endpoints", || async {
        endpoint_ips(&c.client, "web").await == (Vec::new(), Vec::new())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_set_adopts_an_orphan_created_after_it() {
    let c = common::cluster(Default::default()).await;
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "rs"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "demo"}]},
            },
        },
    }))
    .expect("replicaset");
    let sets: Api<ReplicaSet> = Api::namespaced(c.client.clone(), "default");
    let rs = sets
        .create(&PostParams::default(), &rs)
        .await
        .expect("create replicaset");
    let rs_uid = rs.metadata.uid.clone().expect("uid");
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), "default");
    let selected = ListParams::default().labels("app=x");
    eventually("the ReplicaSet created its pod", || async {
        pods.list(&selected).await.expect("list").items.len() == 1
    })
    .await;
    // Settled: nothing about the set itself changes any more, so only the orphan's own
    // creation can bring the set to look at it.
    eventually("the ReplicaSet reports its replica", || async {
        sets.get("rs")
            .await
            .expect("get replicaset")
            .status
            .is_some_and(|s| s.replicas == 1 && s.observed_generation == Some(1))
    })
    .await;

    pods.create(&PostParams::default(), &pod("orphan", "x"))
        .await
        .expect("create orphan");
    // Adopted (then one of the two surplus pods is removed): one pod, owned by the set.
    eventually("the orphan was adopted and the surplus removed", || async {
        let items = pods.list(&selected).await.expect("list").items;
        items.len() == 1
            && items.iter().all(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.uid == rs_uid && o.controller == Some(true))
            })
    })
    .await;
}
