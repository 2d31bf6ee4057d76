//! Garbage collector: deletes objects whose owners are gone, and carries out foreground and
//! orphan deletion (the `foregroundDeletion` / `orphan` finalizers the API server sets).
//!
//! It watches a fixed set of kinds (those the controllers create and own) as dynamic objects
//! and sweeps them after every change, confirming an owner's absence with a live GET before
//! deleting anything, since a cache may lag behind a just-created owner.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    Preconditions,
};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::runtime::is_status;

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

/// The kinds watched: (group, version, kind, plural).
const KINDS: &[(&str, &str, &str, &str)] = &[
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("", "v1", "Pod", "pods"),
    ("", "v1", "Service", "services"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
];

struct Watched {
    resource: ApiResource,
    store: Store<DynamicObject>,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let changed = Arc::new(Notify::new());
    let mut watched = Vec::new();
    for (group, version, kind, plural) in KINDS {
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let writer = reflector::store::Writer::new(resource.clone());
        let store = writer.as_reader();
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff();
        let notify = changed.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    item = stream.next() => match item {
                        Some(_) => notify.notify_one(),
                        None => break,
                    },
                }
            }
        });
        watched.push(Watched { resource, store });
    }
    for w in &watched {
        if !crate::runtime::ready(&w.store, &shutdown).await {
            return Ok(());
        }
    }
    loop {
        if let Err(err) = sweep(&client, &watched).await {
            tracing::debug!(%err, "garbage collector sweep failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = changed.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        // Let a burst of changes settle into one sweep.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn key(resource: &ApiResource, ns: Option<&str>, name: &str) -> String {
    format!(
        "{}/{}/{}/{}",
        resource.api_version,
        resource.kind,
        ns.unwrap_or_default(),
        name
    )
}

fn has_finalizer(obj: &DynamicObject, f: &str) -> bool {
    obj.metadata.finalizers.iter().flatten().any(|x| x == f)
}

/// What one sweep should do, decided from the caches alone.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Dependents all of whose owners are missing from the caches (to confirm live).
    pub orphans_to_check: Vec<(usize, String, String)>,
    /// Dependents of owners deleted in the foreground.
    pub foreground_victims: Vec<(usize, String, String)>,
    /// Owners (kind index, ns, name) whose foregroundDeletion finalizer can go.
    pub foreground_done: Vec<(usize, String, String)>,
    /// Dependents to strip the owner reference from: (kind index, ns, name, owner uid).
    pub orphan_strip: Vec<(usize, String, String, String)>,
    /// Owners whose orphan finalizer can go.
    pub orphan_done: Vec<(usize, String, String)>,
}

/// Decides from snapshots of every watched kind (indexed as `KINDS`).
pub fn plan(objects: &[Vec<Arc<DynamicObject>>]) -> Plan {
    let mut by_uid: HashMap<&str, &DynamicObject> = HashMap::new();
    for list in objects {
        for obj in list {
            if let Some(uid) = obj.metadata.uid.as_deref() {
                by_uid.insert(uid, obj);
            }
        }
    }
    let known_kinds: HashSet<&str> = KINDS.iter().map(|k| k.2).collect();
    let mut p = Plan::default();
    let mut live_dependents: HashMap<&str, usize> = HashMap::new();
    for (i, list) in objects.iter().enumerate() {
        for obj in list {
            let ns = obj.metadata.namespace.clone().unwrap_or_default();
            let name = obj.metadata.name.clone().unwrap_or_default();
            let refs: &[OwnerReference] =
                obj.metadata.owner_references.as_deref().unwrap_or_default();
            if refs.is_empty() {
                continue;
            }
            for r in refs {
                *live_dependents.entry(r.uid.as_str()).or_default() += 1;
                if let Some(owner) = by_uid.get(r.uid.as_str())
                    && owner.metadata.deletion_timestamp.is_some()
                {
                    if has_finalizer(owner, FOREGROUND) && obj.metadata.deletion_timestamp.is_none()
                    {
                        p.foreground_victims.push((i, ns.clone(), name.clone()));
                    }
                    if has_finalizer(owner, ORPHAN) {
                        p.orphan_strip
                            .push((i, ns.clone(), name.clone(), r.uid.clone()));
                    }
                }
            }
            // Only kinds we watch can be judged missing from the caches; others need a GET.
            let all_missing = refs.iter().all(|r| !by_uid.contains_key(r.uid.as_str()));
            let judgeable = refs.iter().all(|r| known_kinds.contains(r.kind.as_str()));
            if all_missing && judgeable && obj.metadata.deletion_timestamp.is_none() {
                p.orphans_to_check.push((i, ns, name));
            }
        }
    }
    for (i, list) in objects.iter().enumerate() {
        for obj in list {
            if obj.metadata.deletion_timestamp.is_none() {
                continue;
            }
            let uid = obj.metadata.uid.as_deref().unwrap_or_default();
            let ns = obj.metadata.namespace.clone().unwrap_or_default();
            let name = obj.metadata.name.clone().unwrap_or_default();
            let dependents = live_dependents.get(uid).copied().unwrap_or(0);
            if has_finalizer(obj, FOREGROUND) && dependents == 0 {
                p.foreground_done.push((i, ns.clone(), name.clone()));
            }
            if has_finalizer(obj, ORPHAN) && !p.orphan_strip.iter().any(|s| s.3 == uid) {
                p.orphan_done.push((i, ns, name));
            }
        }
    }
    p
}

fn api(client: &kube::Client, resource: &ApiResource, ns: &str) -> Api<DynamicObject> {
    if ns.is_empty() {
        Api::all_with(client.clone(), resource)
    } else {
        Api::namespaced_with(client.clone(), ns, resource)
    }
}

async fn sweep(client: &kube::Client, watched: &[Watched]) -> Result<(), Error> {
    let snapshots: Vec<Vec<Arc<DynamicObject>>> = watched.iter().map(|w| w.store.state()).collect();
    let p = plan(&snapshots);
    let resource = |i: usize| watched.get(i).map(|w| &w.resource);

    for (i, ns, name) in &p.orphans_to_check {
        let Some(res) = resource(*i) else { continue };
        let Some(obj) = snapshots.get(*i).and_then(|l| {
            l.iter().find(|o| {
                o.metadata.name.as_deref() == Some(name)
                    && o.metadata.namespace.as_deref().unwrap_or_default() == ns
            })
        }) else {
            continue;
        };
        if owners_absent_live(client, ns, obj).await? {
            let uid = obj.metadata.uid.clone();
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid,
                    resource_version: None,
                }),
                ..DeleteParams::background()
            };
            tracing::info!(
                object = key(res, Some(ns), name),
                "deleting object whose owner is gone"
            );
            ignore_missing(api(client, res, ns).delete(name, &dp).await.map(|_| ()))?;
        }
    }
    for (i, ns, name) in &p.foreground_victims {
        let Some(res) = resource(*i) else { continue };
        ignore_missing(
            api(client, res, ns)
                .delete(name, &DeleteParams::foreground())
                .await
                .map(|_| ()),
        )?;
    }
    for (i, ns, name, owner_uid) in &p.orphan_strip {
        let Some(res) = resource(*i) else { continue };
        let Some(obj) = snapshots.get(*i).and_then(|l| {
            l.iter().find(|o| {
                o.metadata.name.as_deref() == Some(name)
                    && o.metadata.namespace.as_deref().unwrap_or_default() == ns
            })
        }) else {
            continue;
        };
        let refs: Vec<&OwnerReference> = obj
            .metadata
            .owner_references
            .iter()
            .flatten()
            .filter(|r| &r.uid != owner_uid)
            .collect();
        let patch = serde_json::json!({"metadata": {"ownerReferences": if refs.is_empty() { None } else { Some(refs) }}});
        ignore_missing(
            api(client, res, ns)
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ()),
        )?;
    }
    let drop_finalizer = |i: usize, ns: &str, name: &str, f: &str| {
        let obj = snapshots
            .get(i)
            .and_then(|l| {
                l.iter().find(|o| {
                    o.metadata.name.as_deref() == Some(name)
                        && o.metadata.namespace.as_deref().unwrap_or_default() == ns
                })
            })
            .cloned();
        let rest: Vec<String> = obj
            .iter()
            .flat_map(|o| o.metadata.finalizers.clone().unwrap_or_default())
            .filter(|x| x != f)
            .collect();
        serde_json::json!({"metadata": {"finalizers": rest}})
    };
    for (i, ns, name) in &p.foreground_done {
        let Some(res) = resource(*i) else { continue };
        let patch = drop_finalizer(*i, ns, name, FOREGROUND);
        ignore_missing(
            api(client, res, ns)
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ()),
        )?;
    }
    for (i, ns, name) in &p.orphan_done {
        let Some(res) = resource(*i) else { continue };
        let patch = drop_finalizer(*i, ns, name, ORPHAN);
        ignore_missing(
            api(client, res, ns)
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ()),
        )?;
    }
    Ok(())
}

fn ignore_missing(r: Result<(), kube::Error>) -> Result<(), Error> {
    match r {
        Err(err) if is_status(&err, 404) || is_status(&err, 409) => Ok(()),
        other => other.map_err(Error::from),
    }
}

/// Confirms with the API that none of `obj`'s owners exists (same namespace, same uid).
async fn owners_absent_live(
    client: &kube::Client,
    ns: &str,
    obj: &DynamicObject,
) -> Result<bool, Error> {
    for r in obj.metadata.owner_references.iter().flatten() {
        let (group, version) = match r.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", r.api_version.as_str()),
        };
        let plural = KINDS.iter().find(|k| k.2 == r.kind).map(|k| k.3);
        let gvk = GroupVersionKind::gvk(group, version, &r.kind);
        let res = match plural {
            Some(p) => ApiResource::from_gvk_with_plural(&gvk, p),
            None => ApiResource::from_gvk(&gvk),
        };
        match api(client, &res, ns).get_opt(&r.name).await? {
            Some(owner) if owner.metadata.uid.as_deref() == Some(r.uid.as_str()) => {
                return Ok(false);
            }
            _ => {}
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn obj(name: &str, uid: &str, owner: Option<(&str, &str)>) -> Arc<DynamicObject> {
        Arc::new(DynamicObject {
            types: None,
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(uid.into()),
                owner_references: owner.map(|(kind, uid)| {
                    vec![OwnerReference {
                        kind: kind.into(),
                        uid: uid.into(),
                        name: "x".into(),
                        api_version: "apps/v1".into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            },
            data: serde_json::Value::Null,
        })
    }

    #[test]
    fn dangling_dependents_are_candidates() {
        let deployment = obj("demo", "d1", None);
        let rs_alive = obj("demo-a", "r1", Some(("Deployment", "d1")));
        let rs_orphan = obj("demo-b", "r2", Some(("Deployment", "gone")));
        let pod = obj("demo-b-x", "p1", Some(("ReplicaSet", "r2")));
        let p = plan(&[
            vec![deployment],
            vec![rs_alive, rs_orphan],
            vec![pod],
            vec![],
            vec![],
        ]);
        assert_eq!(
            p.orphans_to_check,
            vec![(1, "default".to_string(), "demo-b".to_string())]
        );
    }

    #[test]
    fn foreground_deletes_dependents_then_finalizer() {
        let mut d = (*obj("demo", "d1", None)).clone();
        d.metadata.deletion_timestamp = Some(crate::time::from_chrono(chrono::Utc::now()));
        d.metadata.finalizers = Some(vec![FOREGROUND.into()]);
        let rs = obj("demo-a", "r1", Some(("Deployment", "d1")));
        let p = plan(&[vec![Arc::new(d.clone())], vec![rs], vec![], vec![], vec![]]);
        assert_eq!(
            p.foreground_victims,
            vec![(1, "default".to_string(), "demo-a".to_string())]
        );
        assert!(p.foreground_done.is_empty());
        let p = plan(&[vec![Arc::new(d)], vec![], vec![], vec![], vec![]]);
        assert_eq!(
            p.foreground_done,
            vec![(0, "default".to_string(), "demo".to_string())]
        );
    }

    #[test]
    fn orphan_strips_references_first() {
        let mut d = (*obj("demo", "d1", None)).clone();
        d.metadata.deletion_timestamp = Some(crate::time::from_chrono(chrono::Utc::now()));
        d.metadata.finalizers = Some(vec![ORPHAN.into()]);
        let rs = obj("demo-a", "r1", Some(("Deployment", "d1")));
        let p = plan(&[vec![Arc::new(d)], vec![rs], vec![], vec![], vec![]]);
        assert_eq!(p.orphan_strip.len(), 1);
        assert!(p.orphan_done.is_empty());
        assert!(p.orphans_to_check.is_empty());
    }
}
