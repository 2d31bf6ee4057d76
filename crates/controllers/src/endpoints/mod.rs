//! EndpointSlice and Endpoints controllers: for each Service with a selector, one EndpointSlice
//! (`<svc>-xxxxx`) and the legacy Endpoints object named like the Service.

pub mod build;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::{drain, is_status, spawn_reflector_with_trigger};

struct Ctx {
    client: kube::Client,
    pods: Store<Pod>,
    slices: Store<EndpointSlice>,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let (pods, pod_changes) =
        spawn_reflector_with_trigger(Api::<Pod>::all(client.clone()), shutdown.clone());
    let (slices, slice_changes) =
        spawn_reflector_with_trigger(Api::<EndpointSlice>::all(client.clone()), shutdown.clone());
    if !crate::runtime::ready(&pods, &shutdown).await {
        return Ok(());
    }
    if !crate::runtime::ready(&slices, &shutdown).await {
        return Ok(());
    }
    let pod_store = pods.clone();
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pods,
        slices,
    });

    let controller = Controller::new(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    let services = controller.store();
    let controller = controller
        .owns_stream(slice_changes)
        .watches_stream(pod_changes, {
            let selected = SelectedBy::default();
            move |pod: Pod| selected.services_for(&services, &pod_store, &pod)
        })
        .graceful_shutdown_on(shutdown.clone().cancelled_owned())
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(2)),
            ctx,
        );
    tokio::join!(
        drain("endpointslice", controller),
        delete_endpoints_of_deleted_services(client, shutdown)
    );
    Ok(())
}

/// The Services each pod was selected by when it last changed. A change is reconciled for
/// the Services selecting the pod now and those that did before (upstream's updatePod
/// queues both), so a pod relabelled out of a Service leaves its endpoints.
#[derive(Default)]
struct SelectedBy(std::sync::Mutex<HashMap<ObjectRef<Pod>, Vec<ObjectRef<Service>>>>);

impl SelectedBy {
    fn services_for(
        &self,
        services: &Store<Service>,
        pods: &Store<Pod>,
        pod: &Pod,
    ) -> Vec<ObjectRef<Service>> {
        let key = ObjectRef::from_obj(pod);
        let now = services_selecting(services, pod);
        let mut before = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = before.remove(&key).unwrap_or_default();
        for svc in &now {
            if !all.contains(svc) {
                all.push(svc.clone());
            }
        }
        // A deleted pod (gone from the store, which is updated before the trigger) is
        // forgotten.
        if pods.get(&key).is_some() {
            before.insert(key, now);
        }
        all
    }
}

fn services_selecting(services: &Store<Service>, pod: &Pod) -> Vec<ObjectRef<Service>> {
    services
        .state()
        .iter()
        .filter(|svc| svc.metadata.namespace == pod.metadata.namespace)
        .filter(|svc| {
            svc.spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|sel| {
                    !sel.is_empty()
                        && sel.iter().all(|(k, v)| {
                            pod.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v)
                        })
                })
        })
        .map(|svc| ObjectRef::from_obj(svc.as_ref()))
        .collect()
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let has_selector = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    if !has_selector || svc.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let pods = ctx
        .pods
        .state_filter(|p| p.metadata.namespace.as_deref() == Some(&ns));
    let pod_refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();

    // EndpointSlice.
    let slices_api: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), &ns);
    let desired = build::build_slice(&svc, &pod_refs);
    let mut existing: Vec<Arc<EndpointSlice>> = ctx.slices.state_filter(|s| {
        let labels = s.metadata.labels.as_ref();
        s.metadata.namespace.as_deref() == Some(&ns)
            && labels.and_then(|l| l.get(build::SERVICE_NAME_LABEL)) == Some(&name)
            && labels
                .and_then(|l| l.get(build::MANAGED_BY_LABEL))
                .map(String::as_str)
                == Some(build::MANAGED_BY)
    });
    existing.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
    });
    match existing.first() {
        None => {
            slices_api.create(&PostParams::default(), &desired).await?;
        }
        Some(current) => {
            let same = current.endpoints == desired.endpoints
                && current.ports == desired.ports
                && current.metadata.labels == desired.metadata.labels;
            if !same {
                let mut updated = (**current).clone();
                updated.endpoints = desired.endpoints.clone();
                updated.ports = desired.ports.clone();
                let labels = updated.metadata.labels.get_or_insert_with(Default::default);
                labels.extend(desired.metadata.labels.clone().unwrap_or_default());
                let slice_name = updated.metadata.name.clone().unwrap_or_default();
                slices_api
                    .replace(&slice_name, &PostParams::default(), &updated)
                    .await?;
            }
            for extra in existing.iter().skip(1) {
                let slice_name = extra.metadata.name.clone().unwrap_or_default();
                if let Err(err) = slices_api
                    .delete(&slice_name, &DeleteParams::default())
                    .await
                    && !is_status(&err, 404)
                {
                    return Err(err.into());
                }
            }
        }
    }

    // Legacy Endpoints.
    let ep_api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
    let desired = build::build_endpoints(&svc, &pod_refs);
    match ep_api.get_opt(&name).await? {
        None => {
            ep_api.create(&PostParams::default(), &desired).await?;
        }
        Some(mut current) => {
            if current.subsets != desired.subsets
                || current.metadata.labels != desired.metadata.labels
            {
                current.subsets = desired.subsets;
                current.metadata.labels = desired.metadata.labels;
                ep_api
                    .replace(&name, &PostParams::default(), &current)
                    .await?;
            }
        }
    }
    Ok(Action::await_change())
}

/// Upstream's endpoints controller deletes the Endpoints object when its Service goes.
async fn delete_endpoints_of_deleted_services(client: kube::Client, shutdown: CancellationToken) {
    let stream = watcher(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff();
    let mut stream = std::pin::pin!(stream);
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            event = stream.next() => event,
        };
        match event {
            None => return,
            Some(Ok(watcher::Event::Delete(svc))) => {
                let ns = svc.metadata.namespace.clone().unwrap_or_default();
                let name = svc.metadata.name.clone().unwrap_or_default();
                let api: Api<Endpoints> = Api::namespaced(client.clone(), &ns);
                if let Err(err) = api.delete(&name, &DeleteParams::default()).await
                    && !is_status(&err, 404)
                {
                    tracing::debug!(%err, "could not delete endpoints of deleted service");
                }
            }
            Some(_) => {}
        }
    }
}
