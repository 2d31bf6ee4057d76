//! ServiceAccount controller: every active namespace has a ServiceAccount named `default`.
//! It is created when a namespace appears and recreated when deleted. As upstream since 1.24,
//! no token Secret is made for it (pods get projected tokens).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::{drain, is_namespace_terminating, is_status, namespace_is_active};

/// The ServiceAccount every namespace gets.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// Namespaces are looked at again this often even without a change, in case a watch missed
/// a deletion.
const RESYNC: Duration = Duration::from_secs(300);
const RETRY: Duration = Duration::from_secs(5);

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let controller = Controller::new(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    // Deleting a namespace's `default` account makes the namespace due again.
    .watches(
        Api::<ServiceAccount>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={DEFAULT_SERVICE_ACCOUNT}")),
        |sa: ServiceAccount| {
            sa.metadata
                .namespace
                .map(|ns| ObjectRef::<Namespace>::new(&ns))
        },
    )
    .graceful_shutdown_on(shutdown.cancelled_owned())
    .run(
        reconcile,
        |_, _, _| Action::requeue(RETRY),
        Arc::new(client),
    );
    drain("serviceaccount", controller).await;
    Ok(())
}

async fn reconcile(ns: Arc<Namespace>, client: Arc<kube::Client>) -> Result<Action, Error> {
    if !namespace_is_active(&ns) {
        return Ok(Action::await_change());
    }
    let Some(namespace) = ns.metadata.name.as_deref() else {
        return Ok(Action::await_change());
    };
    let api: Api<ServiceAccount> = Api::namespaced(client.as_ref().clone(), namespace);
    if api.get_opt(DEFAULT_SERVICE_ACCOUNT).await?.is_some() {
        return Ok(Action::requeue(RESYNC));
    }
    match api
        .create(&PostParams::default(), &default_service_account())
        .await
    {
        Ok(_) => tracing::info!(namespace, "created the default ServiceAccount"),
        // Made meanwhile by someone else, or the namespace went away / is terminating: all
        // fine, the namespace is either done or no longer ours to fill.
        Err(e) if is_status(&e, 409) || is_status(&e, 404) || is_namespace_terminating(&e) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::requeue(RESYNC))
}

/// The account as upstream creates it: only a name.
pub fn default_service_account() -> ServiceAccount {
    ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT_SERVICE_ACCOUNT.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_account_is_named_default_and_has_no_secrets() {
        let sa = default_service_account();
        assert_eq!(sa.metadata.name.as_deref(), Some("default"));
        assert!(sa.secrets.is_none());
        assert!(sa.metadata.namespace.is_none());
    }
}
