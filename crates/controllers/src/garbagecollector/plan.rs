//! The garbage collector's decisions, taken from cached object metadata alone (no I/O), so
//! they can be tested directly. Anything that would delete an object because its owner
//! looks absent is only a candidate: the sweep confirms the absence with a live GET.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";

/// The cached objects of one watched kind.
pub struct Snapshot {
    pub group: String,
    pub kind: String,
    pub objects: Vec<Arc<ObjectMeta>>,
}

/// One object: the index of its kind in the snapshots, its namespace ("" if cluster-scoped)
/// and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub kind: usize,
    pub namespace: String,
    pub name: String,
}

/// What one sweep should do.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Dependents none of whose owners is in the caches: delete once confirmed live.
    pub orphans_to_check: Vec<Target>,
    /// Dependents with a live owner and owners missing from the caches: the missing ones'
    /// references are removed once their absence is confirmed live.
    pub dangling_to_check: Vec<Target>,
    /// Dependents of owners deleted in the foreground, with whether they have dependents of
    /// their own (then they are deleted in the foreground too).
    pub foreground_victims: Vec<(Target, bool)>,
    /// Dependents to remove owner references from (owner uids).
    pub strip_refs: Vec<(Target, Vec<String>)>,
    /// Owners whose `foregroundDeletion` finalizer can go.
    pub foreground_done: Vec<Target>,
    /// Owners whose `orphan` finalizer can go.
    pub orphan_done: Vec<Target>,
}

pub fn has_finalizer(meta: &ObjectMeta, f: &str) -> bool {
    meta.finalizers.iter().flatten().any(|x| x == f)
}

/// The group of an ownerReference's apiVersion.
pub fn ref_group(r: &OwnerReference) -> &str {
    match r.api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

fn target(kind: usize, meta: &ObjectMeta) -> Target {
    Target {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// How a dependent's reference to one owner stands, judged from the caches.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Owner {
    /// Exists and is not waiting for its dependents' deletion.
    Solid,
    /// Being deleted in the foreground: waits for its dependents.
    Waiting,
    /// Not in the caches although its kind is watched: probably gone.
    Missing,
    /// Kind not watched (yet): cannot be judged from the caches.
    Unknown,
}

/// Decides from snapshots of every watched kind (whose caches are complete).
pub fn plan(snapshots: &[Snapshot]) -> Plan {
    let mut by_uid: HashMap<&str, &ObjectMeta> = HashMap::new();
    for s in snapshots {
        for obj in &s.objects {
            if let Some(uid) = obj.uid.as_deref() {
                by_uid.insert(uid, obj);
            }
        }
    }
    let watched: HashSet<(&str, &str)> = snapshots
        .iter()
        .map(|s| (s.group.as_str(), s.kind.as_str()))
        .collect();
    // Per owner uid: how many dependents refer to it, and how many of them block it.
    let mut dependents: HashMap<&str, usize> = HashMap::new();
    let mut blocking: HashMap<&str, usize> = HashMap::new();
    for s in snapshots {
        for obj in &s.objects {
            for r in obj.owner_references.iter().flatten() {
                *dependents.entry(r.uid.as_str()).or_default() += 1;
                if r.block_owner_deletion == Some(true) {
                    *blocking.entry(r.uid.as_str()).or_default() += 1;
                }
            }
        }
    }

    let mut p = Plan::default();
    for (i, s) in snapshots.iter().enumerate() {
        for obj in &s.objects {
            let refs: &[OwnerReference] = obj.owner_references.as_deref().unwrap_or_default();
            if refs.is_empty() {
                continue;
            }
            let ns = obj.namespace.as_deref().unwrap_or_default();
            let states: Vec<Owner> = refs
                .iter()
                .map(|r| match by_uid.get(r.uid.as_str()) {
                    // A namespaced owner is only valid in the dependent's own namespace.
                    Some(owner)
                        if owner.namespace.as_deref().unwrap_or_default().is_empty()
                            || owner.namespace.as_deref().unwrap_or_default() == ns =>
                    {
                        if owner.deletion_timestamp.is_some() && has_finalizer(owner, FOREGROUND) {
                            Owner::Waiting
                        } else {
                            Owner::Solid
                        }
                    }
                    _ if watched.contains(&(ref_group(r), r.kind.as_str())) => Owner::Missing,
                    _ => Owner::Unknown,
                })
                .collect();
            let count = |st: Owner| states.iter().filter(|x| **x == st).count();
            let (solid, waiting, missing) = (
                count(Owner::Solid),
                count(Owner::Waiting),
                count(Owner::Missing),
            );

            // Owners being deleted with the orphan policy let go of their dependents.
            let mut strip: Vec<String> = refs
                .iter()
                .filter(|r| {
                    by_uid
                        .get(r.uid.as_str())
                        .is_some_and(|o| o.deletion_timestamp.is_some() && has_finalizer(o, ORPHAN))
                })
                .map(|r| r.uid.clone())
                .collect();

            let deleting = obj.deletion_timestamp.is_some();
            if solid > 0 {
                // Kept alive by a live owner: drop references to owners that wait for it.
                strip.extend(
                    refs.iter()
                        .zip(&states)
                        .filter(|(_, st)| **st == Owner::Waiting)
                        .map(|(r, _)| r.uid.clone()),
                );
                if missing > 0 {
                    p.dangling_to_check.push(target(i, obj));
                }
            } else if waiting > 0 {
                if !deleting {
                    let has_own = obj
                        .uid
                        .as_deref()
                        .is_some_and(|u| dependents.contains_key(u));
                    p.foreground_victims.push((target(i, obj), has_own));
                }
            } else if missing == refs.len() && !deleting {
                p.orphans_to_check.push(target(i, obj));
            }
            if !strip.is_empty() {
                strip.sort();
                strip.dedup();
                p.strip_refs.push((target(i, obj), strip));
            }
        }
    }

    let stripped: HashSet<&str> = p
        .strip_refs
        .iter()
        .flat_map(|(_, uids)| uids.iter().map(String::as_str))
        .collect();
    for (i, s) in snapshots.iter().enumerate() {
        for obj in &s.objects {
            if obj.deletion_timestamp.is_none() {
                continue;
            }
            let uid = obj.uid.as_deref().unwrap_or_default();
            if has_finalizer(obj, FOREGROUND) && blocking.get(uid).copied().unwrap_or(0) == 0 {
                p.foreground_done.push(target(i, obj));
            }
            if has_finalizer(obj, ORPHAN)
                && !stripped.contains(uid)
                && dependents.get(uid).copied().unwrap_or(0) == 0
            {
                p.orphan_done.push(target(i, obj));
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, uid: &str, owners: &[(&str, &str, bool)]) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(uid.into()),
            owner_references: (!owners.is_empty()).then(|| {
                owners
                    .iter()
                    .map(|(kind, uid, block)| OwnerReference {
                        kind: kind.to_string(),
                        uid: uid.to_string(),
                        name: "x".into(),
                        api_version: if *kind == "Pod" { "v1" } else { "apps/v1" }.into(),
                        block_owner_deletion: block.then_some(true),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }
    }

    fn deleting(mut m: ObjectMeta, finalizer: &str) -> ObjectMeta {
        m.deletion_timestamp = Some(crate::time::from_chrono(chrono::Utc::now()));
        m.finalizers = Some(vec![finalizer.into()]);
        m
    }

    /// Snapshots of Deployments (0), ReplicaSets (1), Pods (2).
    fn snaps(d: Vec<ObjectMeta>, rs: Vec<ObjectMeta>, pods: Vec<ObjectMeta>) -> Vec<Snapshot> {
        let s = |g: &str, k: &str, v: Vec<ObjectMeta>| Snapshot {
            group: g.into(),
            kind: k.into(),
            objects: v.into_iter().map(Arc::new).collect(),
        };
        vec![
            s("apps", "Deployment", d),
            s("apps", "ReplicaSet", rs),
            s("", "Pod", pods),
        ]
    }

    fn t(kind: usize, name: &str) -> Target {
        Target {
            kind,
            namespace: "default".into(),
            name: name.into(),
        }
    }

    #[test]
    fn dangling_dependents_are_candidates() {
        let p = plan(&snaps(
            vec![meta("demo", "d1", &[])],
            vec![
                meta("demo-a", "r1", &[("Deployment", "d1", true)]),
                meta("demo-b", "r2", &[("Deployment", "gone", true)]),
            ],
            vec![meta("demo-b-x", "p1", &[("ReplicaSet", "r2", true)])],
        ));
        assert_eq!(p.orphans_to_check, vec![t(1, "demo-b")]);
        assert!(p.foreground_victims.is_empty() && p.strip_refs.is_empty());
    }

    #[test]
    fn unwatched_owner_kinds_are_not_judged() {
        let mut m = meta("cm", "c1", &[]);
        m.owner_references = Some(vec![OwnerReference {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            uid: "w1".into(),
            name: "w".into(),
            ..Default::default()
        }]);
        let p = plan(&snaps(vec![], vec![m], vec![]));
        assert!(p.orphans_to_check.is_empty());
    }

    #[test]
    fn owner_in_another_namespace_counts_as_missing() {
        let mut owner = meta("demo", "d1", &[]);
        owner.namespace = Some("other".into());
        let p = plan(&snaps(
            vec![owner],
            vec![meta("demo-a", "r1", &[("Deployment", "d1", false)])],
            vec![],
        ));
        assert_eq!(p.orphans_to_check, vec![t(1, "demo-a")]);
    }

    #[test]
    fn foreground_deletes_dependents_then_finalizer_when_no_blocker_is_left() {
        let d = deleting(meta("demo", "d1", &[]), FOREGROUND);
        let p = plan(&snaps(
            vec![d.clone()],
            vec![meta("demo-a", "r1", &[("Deployment", "d1", true)])],
            vec![meta("demo-a-x", "p1", &[("ReplicaSet", "r1", true)])],
        ));
        assert_eq!(p.foreground_victims, vec![(t(1, "demo-a"), true)]);
        assert!(p.foreground_done.is_empty());

        // The blocking dependent is itself being deleted (held by another finalizer): it
        // still blocks, and is not deleted again.
        let rs = deleting(
            meta("demo-a", "r1", &[("Deployment", "d1", true)]),
            "example.com/hold",
        );
        let p = plan(&snaps(vec![d.clone()], vec![rs], vec![]));
        assert!(p.foreground_victims.is_empty());
        assert!(p.foreground_done.is_empty());

        // Non-blocking dependents are deleted but do not hold the owner.
        let p = plan(&snaps(
            vec![d.clone()],
            vec![meta("demo-a", "r1", &[("Deployment", "d1", false)])],
            vec![],
        ));
        assert_eq!(p.foreground_victims, vec![(t(1, "demo-a"), false)]);
        assert_eq!(p.foreground_done, vec![t(0, "demo")]);

        let p = plan(&snaps(vec![d], vec![], vec![]));
        assert_eq!(p.foreground_done, vec![t(0, "demo")]);
    }

    #[test]
    fn deleting_dependent_without_blockers_releases_its_own_finalizer() {
        let d = deleting(meta("demo", "d1", &[]), FOREGROUND);
        let rs = deleting(
            meta("demo-a", "r1", &[("Deployment", "d1", true)]),
            FOREGROUND,
        );
        let p = plan(&snaps(vec![d], vec![rs], vec![]));
        // Deployment blocked by the ReplicaSet; the ReplicaSet has no dependents.
        assert_eq!(p.foreground_done, vec![t(1, "demo-a")]);
    }

    #[test]
    fn live_owner_keeps_dependent_and_drops_waiting_reference() {
        let waiting = deleting(meta("old", "d1", &[]), FOREGROUND);
        let live = meta("new", "d2", &[]);
        let p = plan(&snaps(
            vec![waiting, live],
            vec![meta(
                "demo-a",
                "r1",
                &[("Deployment", "d1", true), ("Deployment", "d2", false)],
            )],
            vec![],
        ));
        assert!(p.foreground_victims.is_empty());
        assert_eq!(p.strip_refs, vec![(t(1, "demo-a"), vec!["d1".to_string()])]);
    }

    #[test]
    fn live_owner_with_missing_co_owner_is_checked_for_dangling_refs() {
        let p = plan(&snaps(
            vec![meta("new", "d2", &[])],
            vec![meta(
                "demo-a",
                "r1",
                &[("Deployment", "gone", false), ("Deployment", "d2", false)],
            )],
            vec![],
        ));
        assert!(p.orphans_to_check.is_empty());
        assert_eq!(p.dangling_to_check, vec![t(1, "demo-a")]);
    }

    #[test]
    fn orphan_strips_references_first_then_finalizer() {
        let d = deleting(meta("demo", "d1", &[]), ORPHAN);
        let p = plan(&snaps(
            vec![d.clone()],
            vec![meta("demo-a", "r1", &[("Deployment", "d1", true)])],
            vec![],
        ));
        assert_eq!(p.strip_refs, vec![(t(1, "demo-a"), vec!["d1".to_string()])]);
        assert!(p.orphan_done.is_empty());
        assert!(p.orphans_to_check.is_empty());
        assert!(p.foreground_victims.is_empty());

        let p = plan(&snaps(vec![d], vec![meta("demo-a", "r1", &[])], vec![]));
        assert_eq!(p.orphan_done, vec![t(0, "demo")]);
    }
}
