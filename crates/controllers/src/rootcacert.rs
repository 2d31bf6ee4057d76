//! Root CA publisher: every active namespace has a ConfigMap `kube-root-ca.crt` holding the
//! cluster CA bundle under `ca.crt`, so pods can verify the API server on its internal
//! endpoints. The map is restored when it is deleted or its data edited.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::{drain, is_namespace_terminating, is_status, namespace_is_active};

/// Name of the published ConfigMap (upstream's).
pub const CONFIGMAP_NAME: &str = "kube-root-ca.crt";
/// Data key of the CA bundle.
pub const DATA_KEY: &str = "ca.crt";
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// Upstream's exact description, shown by `kubectl describe configmap`.
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// Namespaces are looked at again this often even without a change, in case a watch missed
/// a deletion.
const RESYNC: Duration = Duration::from_secs(300);
const RETRY: Duration = Duration::from_secs(5);

struct Ctx {
    client: kube::Client,
    ca_pem: String,
}

pub async fn run(
    client: kube::Client,
    ca_pem: String,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        ca_pem,
    });
    let controller = Controller::new(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    // Any change to (or deletion of) a published map makes its namespace due again.
    .watches(
        Api::<ConfigMap>::all(client),
        watcher::Config::default().fields(&format!("metadata.name={CONFIGMAP_NAME}")),
        |cm: ConfigMap| {
            cm.metadata
                .namespace
                .map(|ns| ObjectRef::<Namespace>::new(&ns))
        },
    )
    .graceful_shutdown_on(shutdown.cancelled_owned())
    .run(reconcile, |_, _, _| Action::requeue(RETRY), ctx);
    drain("root-ca-cert-publisher", controller).await;
    Ok(())
}

/// What the namespace's ConfigMap needs.
#[derive(Debug, PartialEq)]
pub enum Plan {
    Nothing,
    Create(ConfigMap),
    /// Replace the existing map (same resourceVersion, so a concurrent edit conflicts).
    Update(ConfigMap),
}

fn desired_data(ca_pem: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(DATA_KEY.to_string(), ca_pem.to_string())])
}

/// Compares the existing map with the published one. As upstream, the data must be exactly
/// the CA bundle (extra keys are removed) and the description annotation present; other
/// metadata (labels, other annotations) is left alone.
pub fn plan(existing: Option<&ConfigMap>, ca_pem: &str) -> Plan {
    let data = desired_data(ca_pem);
    let Some(cm) = existing else {
        return Plan::Create(ConfigMap {
            metadata: ObjectMeta {
                name: Some(CONFIGMAP_NAME.into()),
                annotations: Some(BTreeMap::from([(
                    DESCRIPTION_ANNOTATION.to_string(),
                    DESCRIPTION.to_string(),
                )])),
                ..Default::default()
            },
            data: Some(data),
            ..Default::default()
        });
    };
    let data_ok = cm.data.as_ref() == Some(&data);
    let annotation_ok = cm
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
        .is_some_and(|d| d == DESCRIPTION);
    if data_ok && annotation_ok {
        return Plan::Nothing;
    }
    let mut next = cm.clone();
    next.data = Some(data);
    next.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
    Plan::Update(next)
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if !namespace_is_active(&ns) {
        return Ok(Action::await_change());
    }
    let Some(namespace) = ns.metadata.name.as_deref() else {
        return Ok(Action::await_change());
    };
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let existing = api.get_opt(CONFIGMAP_NAME).await?;
    let result = match plan(existing.as_ref(), &ctx.ca_pem) {
        Plan::Nothing => return Ok(Action::requeue(RESYNC)),
        Plan::Create(cm) => api.create(&PostParams::default(), &cm).await.map(|_| ()),
        Plan::Update(cm) => api
            .replace(CONFIGMAP_NAME, &PostParams::default(), &cm)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => {
            tracing::info!(namespace, "published the root CA ConfigMap");
            Ok(Action::requeue(RESYNC))
        }
        // Another writer got there first (or the map changed under us): look again soon.
        Err(e) if is_status(&e, 409) => Ok(Action::requeue(Duration::from_millis(200))),
        // The namespace (or, for an update, the map) went away, or the namespace is
        // terminating: nothing to publish; a recreated map triggers a new pass.
        Err(e) if is_status(&e, 404) || is_namespace_terminating(&e) => Ok(Action::await_change()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn published() -> ConfigMap {
        match plan(None, PEM) {
            Plan::Create(cm) => cm,
            other => panic!("expected a create, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_map_is_created_with_the_bundle_and_description() {
        let cm = published();
        assert_eq!(cm.metadata.name.as_deref(), Some(CONFIGMAP_NAME));
        assert_eq!(cm.data, Some(desired_data(PEM)));
        assert_eq!(
            cm.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                .map(String::as_str),
            Some(DESCRIPTION)
        );
    }

    #[test]
    fn an_up_to_date_map_is_left_alone() {
        let mut cm = published();
        cm.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert("team".into(), "a".into());
        assert_eq!(plan(Some(&cm), PEM), Plan::Nothing);
    }

    #[test]
    fn edited_data_is_restored_and_other_metadata_kept() {
        let mut cm = published();
        cm.metadata.resource_version = Some("7".into());
        let mut data = desired_data("tampered");
        data.insert("extra".into(), "x".into());
        cm.data = Some(data);
        cm.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert("note".into(), "mine".into());
        let Plan::Update(next) = plan(Some(&cm), PEM) else {
            panic!("expected an update");
        };
        assert_eq!(next.data, Some(desired_data(PEM)));
        assert_eq!(next.metadata.resource_version.as_deref(), Some("7"));
        let annotations = next.metadata.annotations.unwrap_or_default();
        assert_eq!(annotations.get("note").map(String::as_str), Some("mine"));
        assert_eq!(
            annotations.get(DESCRIPTION_ANNOTATION).map(String::as_str),
            Some(DESCRIPTION)
        );
    }

    #[test]
    fn a_missing_description_is_restored() {
        let mut cm = published();
        cm.metadata.annotations = None;
        assert!(matches!(plan(Some(&cm), PEM), Plan::Update(_)));
    }

    #[test]
    fn a_rotated_ca_is_republished() {
        let cm = published();
        let Plan::Update(next) = plan(Some(&cm), "new-ca") else {
            panic!("expected an update");
        };
        assert_eq!(next.data, Some(desired_data("new-ca")));
    }
}
