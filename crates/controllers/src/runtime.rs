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
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .touched_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                item = stream.next() => match item {
                    Some(Ok(_)) => {}
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
