//! ReplicaSet controller: keeps `spec.replicas` pods from the template, adopting orphans that
//! match the selector, and reports status.

mod expectations;
pub mod logic;

use std::sync::Arc;
use std::time::Duration;

use apimachinery::events::{EventType, Recorder, object_reference};
use chrono::Utc;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::runtime::{drain, is_status, spawn_reflector_with_trigger};
use crate::{Error, podutil, selector};
use expectations::Expectations;

/// Upstream creates at most this many pods in one sync (`burstReplicas`).
const BURST_REPLICAS: usize = 500;

struct Ctx {
    client: kube::Client,
    pods: Store<Pod>,
    recorder: Recorder,
    expectations: Expectations,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let (pods, pod_changes) =
        spawn_reflector_with_trigger(Api::<Pod>::all(client.clone()), shutdown.clone());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pods: pods.clone(),
        recorder: Recorder::new(client.clone(), "replicaset-controller", None),
        expectations: Expectations::default(),
    });
    if !crate::runtime::ready(&pods, &shutdown).await {
        return Ok(());
    }
    let controller = Controller::new(
        Api::<ReplicaSet>::all(client.clone()),
        watcher::Config::default(),
    );
    let sets = controller.store();
    let controller = controller
        .watches_stream(pod_changes, move |pod: Pod| replica_sets_for(&sets, &pod))
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(reconcile, error_policy, ctx);
    drain("replicaset", controller).await;
    Ok(())
}

/// The ReplicaSets a pod change concerns: its controller, or, for an orphan, every
/// ReplicaSet of its namespace whose selector matches it (which may adopt it), as
/// upstream's addPod/updatePod.
fn replica_sets_for(sets: &Store<ReplicaSet>, pod: &Pod) -> Vec<ObjectRef<ReplicaSet>> {
    let ns = pod.metadata.namespace.as_deref();
    if let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        return if owner.kind == "ReplicaSet" && owner.api_version == "apps/v1" {
            vec![ObjectRef::new(&owner.name).within(ns.unwrap_or_default())]
        } else {
            Vec::new()
        };
    }
    sets.state()
        .iter()
        .filter(|rs| rs.metadata.namespace.as_deref() == ns)
        .filter(|rs| {
            rs.spec.as_ref().is_some_and(|s| {
                crate::selector::matches(&s.selector, pod.metadata.labels.as_ref())
            })
        })
        .map(|rs| ObjectRef::from_obj(rs.as_ref()))
        .collect()
}

fn error_policy(_rs: Arc<ReplicaSet>, _err: &Error, _ctx: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let name = rs.metadata.name.clone().unwrap_or_default();
    let spec = rs.spec.clone().unwrap_or_default();
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);

    let in_namespace = ctx
        .pods
        .state_filter(|p| p.metadata.namespace.as_deref() == Some(&ns));
    let mut owned: Vec<Arc<Pod>> = Vec::new();
    for pod in in_namespace {
        if selector::is_controlled_by(&pod.metadata, &uid) {
            owned.push(pod);
        } else if selector::controller_of(&pod.metadata).is_none()
            && rs.metadata.deletion_timestamp.is_none()
            && podutil::is_active(&pod)
            && selector::matches(&spec.selector, pod.metadata.labels.as_ref())
        {
            // An orphan that matches: adopt it, as upstream's ControllerRefManager does.
            if adopt(&pods_api, &rs, &pod).await.is_ok() {
                owned.push(pod);
            }
        }
    }
    let active: Vec<&Pod> = owned
        .iter()
        .map(|p| p.as_ref())
        .filter(|p| podutil::is_active(p))
        .collect();

    let satisfied = ctx.expectations.satisfied(&uid, &owned);
    if satisfied && rs.metadata.deletion_timestamp.is_none() {
        let want = usize::try_from(spec.replicas.unwrap_or(1)).unwrap_or(0);
        if active.len() < want {
            let missing = (want - active.len()).min(BURST_REPLICAS);
            create_pods(&ctx, &pods_api, &rs, &uid, missing).await;
        } else if active.len() > want {
            let extra = active.len() - want;
            let candidates: Vec<Pod> = active.iter().map(|p| (*p).clone()).collect();
            let victims: Vec<&Pod> = logic::deletion_order(&candidates)
                .into_iter()
                .take(extra)
                .filter_map(|i| candidates.get(i))
                .collect();
            delete_pods(&ctx, &pods_api, &rs, &uid, &victims).await;
        }
    }

    let status = logic::compute_status(&rs, &active, Utc::now());
    if rs.status.as_ref() != Some(&status) {
        let mut updated = (*rs).clone();
        updated.status = Some(status);
        let rs_api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
        rs_api
            .replace_status(&name, &PostParams::default(), &updated)
            .await?;
    }
    if !satisfied {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    // minReadySeconds: look again once pods may have become available.
    if spec.min_ready_seconds.unwrap_or(0) > 0 {
        return Ok(Action::requeue(Duration::from_secs(
            u64::try_from(spec.min_ready_seconds.unwrap_or(0)).unwrap_or(1),
        )));
    }
    Ok(Action::await_change())
}

async fn adopt(api: &Api<Pod>, rs: &ReplicaSet, pod: &Pod) -> Result<(), Error> {
    let mut refs = pod.metadata.owner_references.clone().unwrap_or_default();
    refs.push(selector::controller_ref(
        "apps/v1",
        "ReplicaSet",
        &rs.metadata,
    ));
    let patch = serde_json::json!({
        "metadata": { "ownerReferences": refs, "uid": pod.metadata.uid }
    });
    let name = pod.metadata.name.clone().unwrap_or_default();
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// The pod a ReplicaSet creates from its template.
pub fn pod_from_template(rs: &ReplicaSet) -> Pod {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!(
                "{}-",
                rs.metadata.name.as_deref().unwrap_or_default()
            )),
            namespace: rs.metadata.namespace.clone(),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![selector::controller_ref(
                "apps/v1",
                "ReplicaSet",
                &rs.metadata,
            )]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

async fn create_pods(ctx: &Ctx, api: &Api<Pod>, rs: &ReplicaSet, uid: &str, count: usize) {
    let reference = object_reference("apps/v1", "ReplicaSet", &rs.metadata, None);
    let pod = pod_from_template(rs);
    for _ in 0..count {
        match api.create(&PostParams::default(), &pod).await {
            Ok(created) => {
                let name = created.metadata.name.clone().unwrap_or_default();
                ctx.expectations.expect_create(uid, &name);
                ctx.recorder
                    .record(
                        &reference,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!("Created pod: {name}"),
                    )
                    .await;
            }
            Err(err) => {
                ctx.recorder
                    .record(
                        &reference,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating: {}", api_message(&err)),
                    )
                    .await;
                // Stop this burst; the error policy / next trigger retries.
                break;
            }
        }
    }
}

async fn delete_pods(ctx: &Ctx, api: &Api<Pod>, rs: &ReplicaSet, uid: &str, victims: &[&Pod]) {
    let reference = object_reference("apps/v1", "ReplicaSet", &rs.metadata, None);
    for pod in victims {
        let name = pod.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {
                ctx.expectations.expect_delete(uid, &name);
                ctx.recorder
                    .record(
                        &reference,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    )
                    .await;
            }
            Err(err) if is_status(&err, 404) => {}
            Err(err) => {
                ctx.recorder
                    .record(
                        &reference,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {}", api_message(&err)),
                    )
                    .await;
            }
        }
    }
}

/// The message of an API error as upstream's `err.Error()` prints it.
pub fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}
