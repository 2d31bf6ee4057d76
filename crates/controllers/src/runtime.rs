//! Glue shared by the controllers: reflectors that stop on shutdown, and logging the outcome of
//! controller runs.

use std::fmt::Debug;
use std::hash::Hash;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// Starts a reflector over `api` that runs until `shutdown`; returns its read side.
pub fn spawn_reflector<K>(api: Api<K>, shutdown: CancellationToken) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    spawn_reflector_calling(api, shutdown, |_| true)
}

/// Starts a reflector like [`spawn_reflector`] and also returns its changes as a trigger
/// stream for a controller (`owns_stream` / `watches_stream`). Each changed object is sent
/// on only after the store has it, so a reconcile it triggers reads the change from the
/// store; with a separate trigger watch, a reconcile could run first, see the old state,
/// and nothing would trigger it again.
pub fn spawn_reflector_with_trigger<K>(
    api: Api<K>,
    shutdown: CancellationToken,
) -> (
    Store<K>,
    impl futures::Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    // Unbounded: before the controller starts, the initial list must reach the store
    // (which only becomes ready at its end) without waiting for the trigger's reader.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = spawn_reflector_calling(api, shutdown, move |obj| tx.send(Ok(obj)).is_ok());
    (
        reader,
        tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
    )
}

/// Runs a reflector until `shutdown` (or until `on_change` returns false), calling
/// `on_change` with each changed object after the store has it.
fn spawn_reflector_calling<K>(
    api: Api<K>,
    shutdown: CancellationToken,
    mut on_change: impl FnMut(K) -> bool + Send + 'static,
) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    // managedFields are never read by the controllers and would double the cache
    // (upstream's informers strip them too); writes without them keep the live ones.
    let stream = reflector::reflector(
        writer,
        watcher(api, watcher::Config::default()).modify(|o: &mut K| {
            o.meta_mut().managed_fields = None;
        }),
    )
    .default_backoff()
    .touched_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                item = stream.next() => match item {
                    Some(Ok(obj)) => {
                        if !on_change(obj) {
                            break;
                        }
                    }
                    Some(Err(err)) => tracing::debug!(%err, "reflector watch error"),
                    None => break,
                },
            }
        }
    });
    reader
}

/// Drains a controller's result stream, logging failures.
pub async fn drain<S, T, E>(name: &'static str, stream: S)
where
    S: futures::Stream<Item = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        if let Err(err) = item {
            tracing::debug!(controller = name, %err, "reconcile failed");
        }
    }
}

/// Whether an API error is "409 AlreadyExists"/"Conflict" or "404 NotFound".
pub fn is_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == code)
}

/// Waits for a store's first list, or for shutdown; false on shutdown.
pub async fn ready<K>(store: &Store<K>, shutdown: &CancellationToken) -> bool
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    tokio::select! {
        _ = shutdown.cancelled() => false,
        r = store.wait_until_ready() => r.is_ok(),
    }
}

/// Whether a create failed only because its namespace is being terminated (a 403 whose
/// details carry the `NamespaceTerminating` cause); such a failure is expected and final.
pub fn is_namespace_terminating(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status)
        if status.code == 403
            && status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating")))
}

/// Whether a namespace should hold per-namespace defaults: it is not being deleted and its
/// phase is not Terminating (a missing phase counts as Active, as the server sets it on create).
pub fn namespace_is_active(ns: &k8s_openapi::api::core::v1::Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_none()
        && ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Namespace, NamespaceStatus};

    fn ns(phase: Option<&str>, deleting: bool) -> Namespace {
        Namespace {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("n".into()),
                deletion_timestamp: deleting.then(|| crate::time::from_chrono(chrono::Utc::now())),
                ..Default::default()
            },
            spec: None,
            status: phase.map(|p| NamespaceStatus {
                phase: Some(p.into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn only_live_non_terminating_namespaces_are_active() {
        assert!(namespace_is_active(&ns(Some("Active"), false)));
        assert!(namespace_is_active(&ns(None, false)));
        assert!(!namespace_is_active(&ns(Some("Terminating"), false)));
        assert!(!namespace_is_active(&ns(Some("Active"), true)));
    }

    fn api_error(code: u16, cause: Option<&str>) -> kube::Error {
        let causes: Vec<_> = cause
            .into_iter()
            .map(|r| serde_json::json!({"reason": r}))
            .collect();
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure",
            "code": code,
            "reason": "Forbidden",
            "message": "m",
            "details": {"causes": causes},
        }))
        .expect("status");
        kube::Error::Api(status.boxed())
    }

    #[test]
    fn namespace_terminating_is_recognised_by_its_cause() {
        assert!(is_namespace_terminating(&api_error(
            403,
            Some("NamespaceTerminating")
        )));
        assert!(!is_namespace_terminating(&api_error(403, None)));
        assert!(!is_namespace_terminating(&api_error(
            409,
            Some("NamespaceTerminating")
        )));
    }
}
