//! Garbage collector: deletes objects whose owners are gone, and carries out foreground and
//! orphan deletion (the `foregroundDeletion` / `orphan` finalizers the API server sets).
//!
//! It watches the metadata of every kind discovery reports as supporting list, watch and
//! delete (re-discovering periodically to pick up new kinds such as CRDs), and sweeps the
//! caches after changes. An owner's absence is always confirmed with a live GET before a
//! dependent is deleted or loses its reference, since a cache may lag behind a just-created
//! owner.

pub mod plan;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::discovery;
use crate::runtime::is_status;
use plan::{FOREGROUND, ORPHAN, Snapshot, Target};

/// How often discovery is repeated to notice new or removed kinds.
const REDISCOVERY: Duration = Duration::from_secs(30);

type Meta = PartialObjectMeta<DynamicObject>;

/// Resources the garbage collector never watches (upstream's defaults: events churn and
/// are never owners or owned in a way that matters).
fn ignored(r: &ApiResource) -> bool {
    r.plural == "events" && (r.group.is_empty() || r.group == "events.k8s.io")
}

struct Watched {
    resource: ApiResource,
    namespaced: bool,
    store: Store<Meta>,
    ready: Arc<AtomicBool>,
    stop: CancellationToken,
}

/// The watched kinds, keyed by (group, kind).
type Kinds = BTreeMap<(String, String), Watched>;

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let changed = Arc::new(Notify::new());
    let mut kinds = Kinds::new();
    let mut next_discovery = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_discovery {
            refresh(&client, &mut kinds, &changed, &shutdown).await;
            next_discovery = tokio::time::Instant::now() + REDISCOVERY;
        }
        if let Err(err) = sweep(&client, &kinds).await {
            tracing::debug!(%err, "garbage collector sweep failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = changed.notified() => {}
            _ = tokio::time::sleep_until(next_discovery) => {}
        }
        // Let a burst of changes settle into one sweep.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in kinds.values() {
        w.stop.cancel();
    }
    Ok(())
}

/// Starts watches for newly discovered kinds and stops those no longer served.
async fn refresh(
    client: &kube::Client,
    kinds: &mut Kinds,
    changed: &Arc<Notify>,
    shutdown: &CancellationToken,
) {
    let found = match discovery::discover(client).await {
        Ok(d) => d,
        Err(err) => {
            tracing::debug!(%err, "garbage collector discovery failed");
            return;
        }
    };
    // Kinds of groups whose discovery failed this time are kept as they are.
    let failed_groups: HashSet<&str> = found
        .failed
        .keys()
        .filter_map(|gv| discovery::parse_group_version(gv).map(|(g, _)| g))
        .collect();
    let wanted: Vec<&discovery::Discovered> = found
        .resources
        .iter()
        .filter(|r| r.supports_all(&["list", "watch", "delete"]) && !ignored(&r.resource))
        .collect();
    let wanted_keys: HashSet<(String, String)> = wanted
        .iter()
        .map(|r| (r.resource.group.clone(), r.resource.kind.clone()))
        .collect();
    kinds.retain(|key, w| {
        let keep = wanted_keys.contains(key) || failed_groups.contains(key.0.as_str());
        if !keep {
            w.stop.cancel();
        }
        keep
    });
    for r in wanted {
        let key = (r.resource.group.clone(), r.resource.kind.clone());
        if kinds.get(&key).is_some_and(|w| w.resource == r.resource) {
            continue;
        }
        if let Some(old) = kinds.remove(&key) {
            old.stop.cancel();
        }
        let w = watch(client, r, changed.clone(), shutdown.child_token());
        kinds.insert(key, w);
    }
}

/// Starts a metadata-only reflector over one kind.
fn watch(
    client: &kube::Client,
    r: &discovery::Discovered,
    changed: Arc<Notify>,
    stop: CancellationToken,
) -> Watched {
    let writer = reflector::store::Writer::new(r.resource.clone());
    let store = writer.as_reader();
    // Metadata-only lists and watches; only what the collector reads is kept.
    let api: Api<Meta> = Api::all_with(client.clone(), &r.resource);
    let stream = watcher(api, watcher::Config::default())
        .modify(|m: &mut Meta| {
            m.metadata.managed_fields = None;
            m.metadata.annotations = None;
            m.metadata.labels = None;
        })
        .default_backoff();
    let stream = reflector::reflector(writer, stream);
    let ready = Arc::new(AtomicBool::new(false));
    let ready_flag = ready.clone();
    let task_stop = stop.clone();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            tokio::select! {
                _ = task_stop.cancelled() => break,
                item = stream.next() => match item {
                    Some(Ok(watcher::Event::InitDone)) => {
                        ready_flag.store(true, Ordering::Release);
                        changed.notify_one();
                    }
                    Some(Ok(_)) => changed.notify_one(),
                    Some(Err(err)) => tracing::debug!(%err, "garbage collector watch error"),
                    None => break,
                },
            }
        }
    });
    Watched {
        resource: r.resource.clone(),
        namespaced: r.namespaced,
        store,
        ready,
        stop,
    }
}

fn api(client: &kube::Client, resource: &ApiResource, ns: &str) -> Api<DynamicObject> {
    if ns.is_empty() {
        Api::all_with(client.clone(), resource)
    } else {
        Api::namespaced_with(client.clone(), ns, resource)
    }
}

fn ignore_gone(r: Result<(), kube::Error>) -> Result<(), Error> {
    match r {
        // Gone already, or changed since the cache saw it: the next sweep decides again.
        Err(err) if is_status(&err, 404) || is_status(&err, 409) => Ok(()),
        other => other.map_err(Error::from),
    }
}

async fn sweep(client: &kube::Client, kinds: &Kinds) -> Result<(), Error> {
    let ready: Vec<&Watched> = kinds
        .values()
        .filter(|w| w.ready.load(Ordering::Acquire))
        .collect();
    let snapshots: Vec<Snapshot> = ready
        .iter()
        .map(|w| Snapshot {
            group: w.resource.group.clone(),
            kind: w.resource.kind.clone(),
            objects: w
                .store
                .state()
                .into_iter()
                .map(|m| Arc::new(m.metadata.clone()))
                .collect(),
        })
        .collect();
    let p = plan::plan(&snapshots);
    let find = |t: &Target| -> Option<(&ApiResource, Arc<ObjectMeta>)> {
        let w = ready.get(t.kind)?;
        let obj = snapshots.get(t.kind)?.objects.iter().find(|o| {
            o.name.as_deref() == Some(t.name.as_str())
                && o.namespace.as_deref().unwrap_or_default() == t.namespace
        })?;
        Some((&w.resource, obj.clone()))
    };
    let mut first_err = None;
    let mut note = |r: Result<(), Error>| {
        if let Err(e) = r {
            tracing::debug!(%e, "garbage collector action failed");
            first_err.get_or_insert(e);
        }
    };

    for t in &p.orphans_to_check {
        let Some((res, obj)) = find(t) else { continue };
        let refs: Vec<&OwnerReference> = obj.owner_references.iter().flatten().collect();
        match absent_owners(client, kinds, &t.namespace, &refs).await {
            Ok(absent) if absent.len() == refs.len() => {
                tracing::info!(
                    kind = res.kind,
                    namespace = t.namespace,
                    name = t.name,
                    "deleting object whose owners are gone"
                );
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: obj.uid.clone(),
                        resource_version: None,
                    }),
                    ..DeleteParams::background()
                };
                note(ignore_gone(
                    api(client, res, &t.namespace)
                        .delete(&t.name, &dp)
                        .await
                        .map(|_| ()),
                ));
            }
            Ok(_) => {}
            Err(e) => note(Err(e)),
        }
    }
    for t in &p.dangling_to_check {
        let Some((res, obj)) = find(t) else { continue };
        let refs: Vec<&OwnerReference> = obj.owner_references.iter().flatten().collect();
        // Only references to owners the caches miss are checked; live ones stay.
        let candidates: Vec<&OwnerReference> = refs
            .iter()
            .copied()
            .filter(|r| {
                !snapshots
                    .iter()
                    .any(|s| s.objects.iter().any(|o| o.uid.as_deref() == Some(&r.uid)))
            })
            .collect();
        match absent_owners(client, kinds, &t.namespace, &candidates).await {
            Ok(absent) if !absent.is_empty() => {
                note(strip_refs(client, res, t, &obj, &absent).await);
            }
            Ok(_) => {}
            Err(e) => note(Err(e)),
        }
    }
    for (t, has_dependents) in &p.foreground_victims {
        let Some((res, obj)) = find(t) else { continue };
        let base = if *has_dependents {
            DeleteParams::foreground()
        } else {
            DeleteParams::background()
        };
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: obj.uid.clone(),
                resource_version: None,
            }),
            ..base
        };
        note(ignore_gone(
            api(client, res, &t.namespace)
                .delete(&t.name, &dp)
                .await
                .map(|_| ()),
        ));
    }
    for (t, uids) in &p.strip_refs {
        let Some((res, obj)) = find(t) else { continue };
        note(strip_refs(client, res, t, &obj, uids).await);
    }
    for (list, finalizer) in [(&p.foreground_done, FOREGROUND), (&p.orphan_done, ORPHAN)] {
        for t in list {
            let Some((res, obj)) = find(t) else { continue };
            let rest: Vec<&String> = obj
                .finalizers
                .iter()
                .flatten()
                .filter(|f| *f != finalizer)
                .collect();
            let patch = serde_json::json!({"metadata": {
                "finalizers": rest,
                "resourceVersion": obj.resource_version,
            }});
            note(ignore_gone(
                api(client, res, &t.namespace)
                    .patch(&t.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map(|_| ()),
            ));
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Removes the references to `uids` from a dependent (conditional on the version the cache
/// saw, so a concurrent change is never overwritten).
async fn strip_refs(
    client: &kube::Client,
    res: &ApiResource,
    t: &Target,
    obj: &ObjectMeta,
    uids: &[String],
) -> Result<(), Error> {
    let rest: Vec<&OwnerReference> = obj
        .owner_references
        .iter()
        .flatten()
        .filter(|r| !uids.contains(&r.uid))
        .collect();
    let patch = serde_json::json!({"metadata": {
        "ownerReferences": if rest.is_empty() { None } else { Some(rest) },
        "resourceVersion": obj.resource_version,
    }});
    ignore_gone(
        api(client, res, &t.namespace)
            .patch(&t.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(|_| ()),
    )
}

/// The uids among `refs` whose owner the API confirms absent (no object of that name with
/// that uid, in the dependent's namespace for namespaced owners). References to kinds that
/// are not watched are left out.
async fn absent_owners(
    client: &kube::Client,
    kinds: &Kinds,
    ns: &str,
    refs: &[&OwnerReference],
) -> Result<Vec<String>, Error> {
    let mut absent = Vec::new();
    for r in refs {
        let group = plan::ref_group(r);
        // Owners of kinds not (or no longer) served are never judged absent: a 404 for an
        // unknown resource says nothing about the owner.
        let Some(w) = kinds.get(&(group.to_string(), r.kind.clone())) else {
            continue;
        };
        let (resource, namespaced) = (w.resource.clone(), w.namespaced);
        let owners: Api<DynamicObject> = if namespaced && !ns.is_empty() {
            Api::namespaced_with(client.clone(), ns, &resource)
        } else if namespaced {
            // A cluster-scoped dependent cannot have a namespaced owner.
            absent.push(r.uid.clone());
            continue;
        } else {
            Api::all_with(client.clone(), &resource)
        };
        match owners.get_metadata_opt(&r.name).await? {
            Some(owner) if owner.metadata.uid.as_deref() == Some(r.uid.as_str()) => {}
            _ => absent.push(r.uid.clone()),
        }
    }
    Ok(absent)
}
