//! Deployment controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`),
//! rolled from old to new by RollingUpdate or Recreate, with upstream's status and events.

pub mod rollout;
pub mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::events::{EventType, Recorder, object_reference};
use chrono::Utc;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::runtime::{drain, is_status, spawn_reflector};
use crate::{Error, hash, selector};

pub const HASH_LABEL: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX: &str = "deployment.kubernetes.io/max-replicas";

struct Ctx {
    client: kube::Client,
    replicasets: Store<ReplicaSet>,
    recorder: Recorder,
}

pub async fn run(client: kube::Client, shutdown: CancellationToken) -> Result<(), Error> {
    let replicasets = spawn_reflector(Api::<ReplicaSet>::all(client.clone()), shutdown.clone());
    if !crate::runtime::ready(&replicasets, &shutdown).await {
        return Ok(());
    }
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        replicasets,
        recorder: Recorder::new(client.clone(), "deployment-controller", None),
    });
    let controller = Controller::new(
        Api::<Deployment>::all(client.clone()),
        watcher::Config::default(),
    )
    .owns(Api::<ReplicaSet>::all(client), watcher::Config::default())
    .graceful_shutdown_on(shutdown.cancelled_owned())
    .run(
        reconcile,
        |_, _, _| Action::requeue(Duration::from_secs(2)),
        ctx,
    );
    drain("deployment", controller).await;
    Ok(())
}

/// The template with the hash label removed, for comparing an RS with its Deployment.
fn without_hash(template: Option<&PodTemplateSpec>) -> Option<PodTemplateSpec> {
    let mut t = template.cloned()?;
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(HASH_LABEL);
        if labels.is_empty()
            && let Some(m) = t.metadata.as_mut()
        {
            m.labels = None;
        }
    }
    Some(t)
}

fn hash_label(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(HASH_LABEL))
        .map(String::as_str)
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Upstream copies the Deployment's annotations to its ReplicaSets, except these.
fn copyable_annotation(key: &str) -> bool {
    !matches!(
        key,
        "kubectl.kubernetes.io/last-applied-configuration"
            | REVISION
            | "deployment.kubernetes.io/revision-history"
            | DESIRED
            | MAX
            | "deprecated.deployment.rollback.to"
    )
}

/// The ReplicaSet a Deployment wants for its current template.
pub fn new_replica_set(d: &Deployment, hash: &str, replicas: i32, revision: i64) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let mut template = spec.template.clone();
    let meta = template.metadata.get_or_insert_with(Default::default);
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.into());
    let labels = meta.labels.clone();
    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.into());
    let mut annotations: BTreeMap<String, String> = d
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| copyable_annotation(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.insert(REVISION.into(), revision.to_string());
    let desired = rollout::desired_replicas(d);
    annotations.insert(DESIRED.into(), desired.to_string());
    annotations.insert(MAX.into(), (desired + rollout::max_surge(d)).to_string());
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}-{}",
                d.metadata.name.as_deref().unwrap_or_default(),
                hash
            )),
            namespace: d.metadata.namespace.clone(),
            labels,
            annotations: Some(annotations),
            owner_references: Some(vec![selector::controller_ref(
                "apps/v1",
                "Deployment",
                &d.metadata,
            )]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    }
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if d.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let name = d.metadata.name.clone().unwrap_or_default();
    let spec = d.spec.clone().unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
    let now = Utc::now();

    let owned: Vec<Arc<ReplicaSet>> = ctx.replicasets.state_filter(|rs| {
        rs.metadata.namespace.as_deref() == Some(&ns)
            && selector::is_controlled_by(&rs.metadata, &uid)
    });
    let wanted = Some(spec.template.clone());
    let collision = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = hash::pod_template_hash(&spec.template, collision);
    let mut new_rs: Option<ReplicaSet> = owned
        .iter()
        .find(|rs| without_hash(rs.spec.as_ref().and_then(|s| s.template.as_ref())) == wanted)
        // Fallback when server-side defaulting made the templates differ: the hash label.
        .or_else(|| {
            owned
                .iter()
                .find(|rs| hash_label(rs) == Some(hash.as_str()))
        })
        .map(|rs| (**rs).clone());
    let old: Vec<ReplicaSet> = owned
        .iter()
        .filter(|rs| Some(&rs.metadata.uid) != new_rs.as_ref().map(|n| &n.metadata.uid))
        .map(|rs| (**rs).clone())
        .collect();
    let max_old_revision = old.iter().map(revision).max().unwrap_or(0);
    let new_revision = max_old_revision + 1;
    let mut work_status = d.status.clone().unwrap_or_default();
    let mut latest: Deployment = (*d).clone();
    let has_deadline = spec.progress_deadline_seconds.is_some();
    let paused = spec.paused.unwrap_or(false);
    let desired = rollout::desired_replicas(&d);

    // Existing new RS: keep its revision the newest one.
    if let Some(rs) = new_rs.as_mut() {
        if revision(rs) < new_revision {
            let patch = serde_json::json!({"metadata": {"annotations": {REVISION: new_revision.to_string()}}});
            let rs_name = rs.metadata.name.clone().unwrap_or_default();
            *rs = rs_api
                .patch(&rs_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if has_deadline && status::get(&work_status, status::PROGRESSING).is_none() {
            let msg = format!(
                "Found new replica set \"{}\"",
                rs.metadata.name.as_deref().unwrap_or_default()
            );
            status::set(
                &mut work_status,
                status::condition(status::PROGRESSING, true, "FoundNewReplicaSet", msg, now),
            );
        }
    }

    let old_refs: Vec<&ReplicaSet> = old.iter().collect();
    let old_pods_running = old
        .iter()
        .any(|rs| rs.status.as_ref().is_some_and(|s| s.replicas > 0));
    if !paused {
        if rollout::is_recreate(&d) {
            for rs in &old {
                scale(&ctx, &rs_api, &d, rs, 0).await?;
            }
            if !old_pods_running {
                match new_rs.as_ref() {
                    None => {
                        new_rs = create(
                            &ctx,
                            &rs_api,
                            &d,
                            &hash,
                            desired,
                            new_revision,
                            &mut work_status,
                        )
                        .await?
                    }
                    Some(rs) => scale(&ctx, &rs_api, &d, rs, desired).await?,
                }
            }
        } else {
            match new_rs.as_ref() {
                None => {
                    let size = rollout::new_rs_new_replicas(&d, &old_refs, 0);
                    new_rs = create(
                        &ctx,
                        &rs_api,
                        &d,
                        &hash,
                        size,
                        new_revision,
                        &mut work_status,
                    )
                    .await?;
                }
                Some(rs) => {
                    let current = rollout::spec_replicas(rs);
                    let mut all = old_refs.clone();
                    all.push(rs);
                    let target = if current > desired {
                        desired
                    } else {
                        rollout::new_rs_new_replicas(&d, &all, current)
                    };
                    scale(&ctx, &rs_api, &d, rs, target).await?;
                }
            }
            for (i, size) in rollout::scale_down_old(&d, new_rs.as_ref(), &old_refs) {
                if let Some(rs) = old.get(i) {
                    scale(&ctx, &rs_api, &d, rs, size).await?;
                }
            }
        }
        cleanup_old(&rs_api, &d, &old).await;
    }

    // The Deployment's own revision annotation follows the new RS.
    if let Some(rev) = new_rs.as_ref().map(revision) {
        let current = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION))
            .cloned();
        if current != Some(rev.to_string()) {
            let patch =
                serde_json::json!({"metadata": {"annotations": {REVISION: rev.to_string()}}});
            let d_api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
            let patched = d_api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            // The status write below must carry the new resourceVersion.
            latest.metadata.resource_version = patched.metadata.resource_version;
        }
    }

    let mut all: Vec<&ReplicaSet> = old.iter().collect();
    if let Some(rs) = new_rs.as_ref() {
        all.push(rs);
    }
    let new_status = status::compute(&d, &work_status, &all, new_rs.as_ref(), now);
    write_status(&ctx, &latest, new_status).await?;
    // Re-check later for minReadySeconds and the progress deadline.
    Ok(Action::requeue(Duration::from_secs(30)))
}

async fn write_status(
    ctx: &Ctx,
    d: &Deployment,
    new_status: DeploymentStatus,
) -> Result<(), Error> {
    if d.status.as_ref() == Some(&new_status) {
        return Ok(());
    }
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let name = d.metadata.name.clone().unwrap_or_default();
    let mut updated = d.clone();
    updated.status = Some(new_status);
    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
    api.replace_status(&name, &PostParams::default(), &updated)
        .await?;
    Ok(())
}

async fn create(
    ctx: &Ctx,
    api: &Api<ReplicaSet>,
    d: &Deployment,
    hash: &str,
    replicas: i32,
    revision: i64,
    work_status: &mut DeploymentStatus,
) -> Result<Option<ReplicaSet>, Error> {
    let rs = new_replica_set(d, hash, replicas, revision);
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let reference = object_reference("apps/v1", "Deployment", &d.metadata, None);
    match api.create(&PostParams::default(), &rs).await {
        Ok(created) => {
            if replicas > 0 {
                ctx.recorder
                    .record(
                        &reference,
                        EventType::Normal,
                        "ScalingReplicaSet",
                        format!("Scaled up replica set {rs_name} from 0 to {replicas}"),
                    )
                    .await;
            }
            if d.spec
                .as_ref()
                .and_then(|s| s.progress_deadline_seconds)
                .is_some()
            {
                let msg = format!("Created new replica set \"{rs_name}\"");
                status::set(
                    work_status,
                    status::condition(
                        status::PROGRESSING,
                        true,
                        "NewReplicaSetCreated",
                        msg,
                        Utc::now(),
                    ),
                );
            }
            Ok(Some(created))
        }
        Err(err) if is_status(&err, 409) => {
            // Same name, different template (a hash collision) if it is not ours: bump the
            // collision count so the next sync hashes differently.
            let existing = api.get(&rs_name).await?;
            let ours = selector::is_controlled_by(
                &existing.metadata,
                d.metadata.uid.as_deref().unwrap_or_default(),
            ) && (hash_label(&existing) == Some(hash)
                || without_hash(existing.spec.as_ref().and_then(|s| s.template.as_ref()))
                    == d.spec.as_ref().map(|s| s.template.clone()));
            if ours {
                return Ok(Some(existing));
            }
            let mut updated = d.clone();
            let status = updated.status.get_or_insert_with(Default::default);
            status.collision_count = Some(status.collision_count.unwrap_or(0).saturating_add(1));
            let d_api: Api<Deployment> = Api::namespaced(
                ctx.client.clone(),
                d.metadata.namespace.as_deref().unwrap_or_default(),
            );
            d_api
                .replace_status(
                    d.metadata.name.as_deref().unwrap_or_default(),
                    &PostParams::default(),
                    &updated,
                )
                .await?;
            Err(Error::Other(format!(
                "hash collision for replica set {rs_name}"
            )))
        }
        Err(err) => {
            let msg = format!(
                "Failed to create new replica set \"{rs_name}\": {}",
                crate::replicaset::api_message(&err)
            );
            ctx.recorder
                .record(&reference, EventType::Warning, "FailedCreate", msg)
                .await;
            Err(err.into())
        }
    }
}

/// Sets an RS's size and the desired/max annotations; records ScalingReplicaSet on change.
async fn scale(
    ctx: &Ctx,
    api: &Api<ReplicaSet>,
    d: &Deployment,
    rs: &ReplicaSet,
    size: i32,
) -> Result<(), Error> {
    let current = rollout::spec_replicas(rs);
    let desired = rollout::desired_replicas(d).to_string();
    let max = (rollout::desired_replicas(d) + rollout::max_surge(d)).to_string();
    let annotations = rs.metadata.annotations.clone().unwrap_or_default();
    let annotations_ok =
        annotations.get(DESIRED) == Some(&desired) && annotations.get(MAX) == Some(&max);
    if current == size && annotations_ok {
        return Ok(());
    }
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let patch = serde_json::json!({
        "metadata": {"annotations": {DESIRED: desired, MAX: max}},
        "spec": {"replicas": size},
    });
    api.patch(&rs_name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    if current != size {
        let direction = if size > current { "up" } else { "down" };
        let reference = object_reference("apps/v1", "Deployment", &d.metadata, None);
        ctx.recorder
            .record(
                &reference,
                EventType::Normal,
                "ScalingReplicaSet",
                format!("Scaled {direction} replica set {rs_name} from {current} to {size}"),
            )
            .await;
    }
    Ok(())
}

/// Deletes the oldest fully scaled-down old ReplicaSets beyond revisionHistoryLimit.
async fn cleanup_old(api: &Api<ReplicaSet>, d: &Deployment, old: &[ReplicaSet]) {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10);
    let limit = usize::try_from(limit).unwrap_or(0);
    for rs in old_to_delete(old, limit) {
        let rs_name = rs.metadata.name.clone().unwrap_or_default();
        if let Err(err) = api.delete(&rs_name, &DeleteParams::background()).await {
            tracing::debug!(%err, rs = rs_name, "could not delete old replica set");
        }
    }
}

/// Which old ReplicaSets revisionHistoryLimit lets go: the oldest, and only empty ones.
pub fn old_to_delete(old: &[ReplicaSet], limit: usize) -> Vec<&ReplicaSet> {
    if old.len() <= limit {
        return Vec::new();
    }
    let mut sorted: Vec<&ReplicaSet> = old.iter().collect();
    sorted.sort_by_key(|rs| {
        rs.metadata
            .creation_timestamp
            .as_ref()
            .map(crate::time::to_chrono)
    });
    let excess = old.len() - limit;
    sorted
        .into_iter()
        .take(excess)
        .filter(|rs| {
            let status = rs.status.as_ref();
            rollout::spec_replicas(rs) == 0
                && status.is_none_or(|s| s.replicas == 0)
                && rs.metadata.generation <= status.and_then(|s| s.observed_generation)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::rollout::tests::{deployment, rs};
    use super::*;

    #[test]
    fn new_rs_carries_hash_everywhere() {
        let mut d = deployment(3, None, None);
        d.metadata.name = Some("demo".into());
        d.metadata.uid = Some("u1".into());
        if let Some(spec) = d.spec.as_mut() {
            spec.selector.match_labels = Some([("app".to_string(), "demo".to_string())].into());
            spec.template.metadata = Some(ObjectMeta {
                labels: Some([("app".to_string(), "demo".to_string())].into()),
                ..Default::default()
            });
        }
        let rs = new_replica_set(&d, "5c8d4b7f9d", 3, 1);
        assert_eq!(rs.metadata.name.as_deref(), Some("demo-5c8d4b7f9d"));
        let spec = rs.spec.clone().unwrap_or_default();
        assert_eq!(
            spec.selector
                .match_labels
                .unwrap_or_default()
                .get(HASH_LABEL)
                .map(String::as_str),
            Some("5c8d4b7f9d")
        );
        let t_labels = spec
            .template
            .and_then(|t| t.metadata)
            .and_then(|m| m.labels)
            .unwrap_or_default();
        assert_eq!(
            t_labels.get(HASH_LABEL).map(String::as_str),
            Some("5c8d4b7f9d")
        );
        assert_eq!(t_labels.get("app").map(String::as_str), Some("demo"));
        let ann = rs.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(ann.get(REVISION).map(String::as_str), Some("1"));
        assert_eq!(ann.get(DESIRED).map(String::as_str), Some("3"));
        assert_eq!(ann.get(MAX).map(String::as_str), Some("4"));
        let owner = selector::controller_of(&rs.metadata)
            .cloned()
            .unwrap_or_default();
        assert_eq!(owner.uid, "u1");
        assert_eq!(owner.block_owner_deletion, Some(true));
        // The RS template without the hash label equals the Deployment's template.
        assert_eq!(
            without_hash(rs.spec.as_ref().and_then(|s| s.template.as_ref())),
            d.spec.map(|s| s.template)
        );
    }

    #[test]
    fn history_limit_deletes_only_empty_oldest() {
        let old = vec![
            rs("a", 0, 0, 0),
            rs("b", 2, 2, 1),
            rs("c", 0, 0, 2),
            rs("d", 0, 0, 3),
        ];
        let names: Vec<_> = old_to_delete(&old, 1)
            .iter()
            .map(|r| r.metadata.name.clone().unwrap_or_default())
            .collect();
        // Three over the limit: a, b, c; b still has replicas.
        assert_eq!(names, vec!["a", "c"]);
        assert!(old_to_delete(&old, 10).is_empty());
    }
}
