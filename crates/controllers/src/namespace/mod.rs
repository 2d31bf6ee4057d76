//! Namespace controller: empties a namespace that is being deleted, then removes the
//! `kubernetes` finalizer from `spec.finalizers` through the `finalize` subresource, after
//! which the API server removes the namespace itself.

pub mod conditions;
pub mod deleter;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Namespace, NamespaceStatus, Pod};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::{drain, is_status};

/// The finalizer token this controller owns in `spec.finalizers`.
pub const FINALIZER: &str = "kubernetes";

struct Ctx {
    client: kube::Client,
    /// Consecutive failures per namespace, for the retry backoff.
    failures: Mutex<HashMap<String, u32>>,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        failures: Mutex::new(HashMap::new()),
    });
    let controller = Controller::new(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    );
    let namespaces = controller.store();
    // A pod going away in a terminating namespace may be the last thing it waits for.
    let controller = controller
        .watches(
            Api::<Pod>::all(client),
            watcher::Config::default(),
            move |pod: Pod| {
                let ns = pod.metadata.namespace?;
                let key = ObjectRef::<Namespace>::new(&ns);
                let terminating = namespaces
                    .get(&key)
                    .is_some_and(|n| n.metadata.deletion_timestamp.is_some());
                terminating.then_some(key)
            },
        )
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(reconcile, error_policy, ctx);
    drain("namespace", controller).await;
    Ok(())
}

fn error_policy(ns: Arc<Namespace>, _err: &Error, ctx: Arc<Ctx>) -> Action {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let failures = match ctx.failures.lock() {
        Ok(mut m) => {
            let n = m.entry(name).or_insert(0);
            *n = n.saturating_add(1);
            *n
        }
        Err(_) => 1,
    };
    Action::requeue(backoff(failures))
}

/// Retry delay after `failures` consecutive failures: 1 s doubling up to 60 s.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(6);
    Duration::from_secs((1u64 << exp).min(60))
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let result = delete_namespace(&ctx.client, &name).await;
    if result.is_ok()
        && let Ok(mut m) = ctx.failures.lock()
    {
        m.remove(&name);
    }
    match result? {
        None => Ok(Action::await_change()),
        // Upstream requeues after half the estimate (plus a second).
        Some(estimate) => Ok(Action::requeue(Duration::from_secs(
            u64::try_from(estimate / 2 + 1).unwrap_or(1),
        ))),
    }
}

/// Whether this controller still has work on the namespace: it is being deleted and our
/// finalizer is still in `spec.finalizers`.
pub fn needs_finalizing(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_some()
        && ns
            .spec
            .as_ref()
            .and_then(|s| s.finalizers.as_ref())
            .is_some_and(|f| f.iter().any(|x| x == FINALIZER))
}

/// `spec.finalizers` without ours, sorted and deduplicated as upstream writes them.
pub fn finalizers_without_ours(ns: &Namespace) -> Vec<String> {
    ns.spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .into_iter()
        .flatten()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// One pass of the namespace deleter. `Ok(Some(estimate))` when content remains and the pass
/// should be repeated; `Ok(None)` when done (or nothing to do).
async fn delete_namespace(client: &kube::Client, name: &str) -> Result<Option<i64>, Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let Some(mut ns) = api.get_opt(name).await? else {
        return Ok(None);
    };
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(None);
    }
    // Make sure the phase says Terminating (the API server normally sets it already).
    if ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating") {
        ns = match retry_on_conflict(
            &api,
            ns,
            |n| {
                let mut next = n.clone();
                next.status
                    .get_or_insert_with(NamespaceStatus::default)
                    .phase = Some("Terminating".into());
                next
            },
            Write::Status,
        )
        .await
        {
            Ok(ns) => ns,
            Err(e) if is_status(&e, 404) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    }
    if !needs_finalizing(&ns) {
        return Ok(None);
    }

    let pass = deleter::delete_all_content(client, &ns).await;
    // Conditions are written even when all is well, so a resolved problem is shown as such.
    let mut updated = ns.clone();
    let status = updated.status.get_or_insert_with(NamespaceStatus::default);
    let mut conds = status.conditions.clone().unwrap_or_default();
    let now = crate::time::from_chrono(Utc::now());
    if conditions::update(&mut conds, &pass.findings, &now) {
        status.conditions = Some(conds);
        match api
            .replace_status(name, &PostParams::default(), &updated)
            .await
        {
            Ok(n) => ns = n,
            Err(e) => tracing::debug!(namespace = name, %e, "couldn't update status conditions"),
        }
    }
    if !pass.errors.is_empty() {
        return Err(Error::Other(pass.errors.join(", ")));
    }
    if pass.estimate > 0 {
        return Ok(Some(pass.estimate));
    }

    // Everything is gone: release the namespace.
    match retry_on_conflict(
        &api,
        ns,
        |n| {
            let mut next = n.clone();
            next.spec.get_or_insert_with(Default::default).finalizers =
                Some(finalizers_without_ours(n));
            next
        },
        Write::Finalize,
    )
    .await
    {
        Ok(_) => {}
        Err(e) if is_status(&e, 404) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(namespace = name, "namespace content removed, finalized");
    Ok(None)
}

enum Write {
    Status,
    Finalize,
}

/// Writes `change(ns)` through the status or finalize subresource, re-reading and retrying on
/// conflicts as long as the namespace is the same one (same uid).
async fn retry_on_conflict(
    api: &Api<Namespace>,
    mut ns: Namespace,
    change: impl Fn(&Namespace) -> Namespace,
    write: Write,
) -> Result<Namespace, kube::Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    loop {
        let next = change(&ns);
        let result = match write {
            Write::Status => {
                api.replace_status(&name, &PostParams::default(), &next)
                    .await
            }
            Write::Finalize => {
                api.replace_subresource("finalize", &name, &PostParams::default(), &next)
                    .await
            }
        };
        match result {
            Err(e) if is_status(&e, 409) => {
                let latest = api.get(&name).await?;
                if latest.metadata.uid != ns.metadata.uid {
                    return Err(e);
                }
                ns = latest;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NamespaceSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn ns(deleting: bool, finalizers: &[&str]) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some("n".into()),
                deletion_timestamp: deleting.then(|| crate::time::from_chrono(Utc::now())),
                ..Default::default()
            },
            spec: Some(NamespaceSpec {
                finalizers: Some(finalizers.iter().map(|f| f.to_string()).collect()),
            }),
            status: None,
        }
    }

    #[test]
    fn finalizing_is_needed_only_while_deleting_with_our_token() {
        assert!(needs_finalizing(&ns(true, &["kubernetes"])));
        assert!(!needs_finalizing(&ns(false, &["kubernetes"])));
        assert!(!needs_finalizing(&ns(true, &["example.com/other"])));
        assert!(!needs_finalizing(&ns(true, &[])));
    }

    #[test]
    fn only_our_finalizer_is_removed() {
        assert_eq!(
            finalizers_without_ours(&ns(true, &["z.io/x", "kubernetes", "a.io/y", "z.io/x"])),
            vec!["a.io/y".to_string(), "z.io/x".to_string()]
        );
        assert!(finalizers_without_ours(&ns(true, &["kubernetes"])).is_empty());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(100), Duration::from_secs(60));
    }
}
