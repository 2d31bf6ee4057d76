//! kube-rs against the server: typed CRUD (including server-side apply and conflicts),
//! paginated lists, the `watcher` stream, and watch expiry (410).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, anyhow, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::ResourceExt;
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::runtime::watcher;
use serde_json::json;

use super::support::{CONVERGE_TIMEOUT, Ctx, Scenario};

const NS: &str = "compat-kube-rs";

type CheckFn = fn(&Ctx) -> Result<()>;

pub fn scenarios() -> Vec<(String, Scenario)> {
    let list: [(&str, CheckFn); 10] = [
        ("typed_crud", typed_crud),
        ("conflict", conflict),
        ("paginated_list", paginated_list),
        ("watcher_stream", watcher_stream),
        ("custom_resource_crud", custom_resource::crud),
        (
            "custom_resource_apply_conflict",
            custom_resource::apply_conflict,
        ),
        (
            "custom_resource_status_and_scale",
            custom_resource::status_and_scale,
        ),
        ("custom_resource_watcher", custom_resource::watcher_events),
        ("custom_resource_crd_delete", custom_resource::crd_delete),
        ("watch_expired_410", watch_expired),
    ];
    list.into_iter()
        .map(|(n, f)| (n.to_string(), Box::new(f) as Scenario))
        .collect()
}

async fn client(ctx: &Ctx) -> Result<kube::Client> {
    let client = ctx.cluster.client().await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces.get_opt(NS).await?.is_none() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(NS.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        namespaces.create(&PostParams::default(), &ns).await?;
    }
    Ok(client)
}

fn configmap(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}

fn api_error(e: &kube::Error) -> Option<(u16, &str, &str)> {
    match e {
        kube::Error::Api(s) => Some((s.code, s.reason.as_str(), s.message.as_str())),
        _ => None,
    }
}

fn typed_crud(ctx: &Ctx) -> Result<()> {
    ctx.runtime.block_on(async {
        let client = client(ctx).await?;
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
        let created = cms
            .create(
                &PostParams::default(),
                &configmap("krs-cm", &[("app", "krs")], &[("a", "1")]),
            )
            .await?;
        ensure!(created.metadata.uid.is_some(), "no uid on create");
        let mut got = cms.get("krs-cm").await?;
        got.data
            .get_or_insert_with(BTreeMap::new)
            .insert("b".into(), "2".into());
        let replaced = cms.replace("krs-cm", &PostParams::default(), &got).await?;
        ensure!(
            replaced.metadata.resource_version != created.metadata.resource_version,
            "replace did not change resourceVersion"
        );
        let merged = cms
            .patch(
                "krs-cm",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"c": "3"}})),
            )
            .await?;
        let keys: Vec<&String> = merged.data.iter().flat_map(|d| d.keys()).collect();
        ensure!(keys == ["a", "b", "c"], "merge patch result keys {keys:?}");

        // Server-side apply: the field manager is recorded in managedFields.
        let applied = cms
            .patch(
                "krs-cm",
                &PatchParams::apply("compat-suite"),
                &Patch::Apply(json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "krs-cm"},
                    "data": {"ssa": "yes"}
                })),
            )
            .await?;
        ensure!(
            applied.data.as_ref().and_then(|d| d.get("ssa")).map(String::as_str) == Some("yes"),
            "server-side apply lost data: {:?}",
            applied.data
        );
        let managers: Vec<(String, String)> = applied
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .map(|m| {
                (
                    m.manager.clone().unwrap_or_default(),
                    m.operation.clone().unwrap_or_default(),
                )
            })
            .collect();
        ensure!(
            managers.contains(&("compat-suite".into(), "Apply".into())),
            "managedFields after server-side apply: {managers:?}"
        );

        let deployments: Api<Deployment> = Api::namespaced(client.clone(), NS);
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "krs-deploy"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "krs-deploy"}},
                "template": {
                    "metadata": {"labels": {"app": "krs-deploy"}},
                    "spec": {"containers": [{"name": "app", "image": "docker.io/k8rs/demo:0.1.0"}]}
                }
            }
        }))?;
        let d = deployments.create(&PostParams::default(), &d).await?;
        let spec = d.spec.ok_or_else(|| anyhow!("deployment without spec"))?;
        ensure!(
            spec.revision_history_limit == Some(10)
                && spec.progress_deadline_seconds == Some(600)
                && spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("RollingUpdate"),
            "deployment defaults: revisionHistoryLimit {:?}, progressDeadlineSeconds {:?}, strategy {:?}",
            spec.revision_history_limit,
            spec.progress_deadline_seconds,
            spec.strategy
        );
        deployments.delete("krs-deploy", &DeleteParams::background()).await?;

        cms.delete("krs-cm", &DeleteParams::default()).await?;
        match cms.get("krs-cm").await {
            Err(e) if api_error(&e).is_some_and(|(code, reason, _)| code == 404 && reason == "NotFound") => {}
            other => bail!("get after delete: {other:?}"),
        }
        Ok(())
    })
}

fn conflict(ctx: &Ctx) -> Result<()> {
    ctx.runtime.block_on(async {
        let client = client(ctx).await?;
        let cms: Api<ConfigMap> = Api::namespaced(client, NS);
        let stale = cms
            .create(&PostParams::default(), &configmap("krs-conflict", &[], &[("v", "0")]))
            .await?;
        cms.patch(
            "krs-conflict",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "1"}})),
        )
        .await?;
        let result = cms.replace("krs-conflict", &PostParams::default(), &stale).await;
        let want = "Operation cannot be fulfilled on configmaps \"krs-conflict\": the object has been modified; please apply your changes to the latest version and try again";
        match &result {
            Err(e) if api_error(e).is_some_and(|(code, reason, msg)| code == 409 && reason == "Conflict" && msg == want) => {}
            other => bail!("replace with a stale resourceVersion: {other:?}; upstream: 409 Conflict {want:?}"),
        }
        cms.delete("krs-conflict", &DeleteParams::default()).await?;
        Ok(())
    })
}

fn paginated_list(ctx: &Ctx) -> Result<()> {
    ctx.runtime.block_on(async {
        let client = client(ctx).await?;
        let cms: Api<ConfigMap> = Api::namespaced(client, NS);
        for i in 0..7 {
            cms.create(
                &PostParams::default(),
                &configmap(
                    &format!("krs-page-{i}"),
                    &[("krs-page", "yes")],
                    &[("i", "x")],
                ),
            )
            .await?;
        }
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut lp = ListParams::default().labels("krs-page=yes").limit(2);
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let page = cms.list(&lp).await?;
            pages += 1;
            ensure!(
                page.items.len() <= 2,
                "limit 2 returned {}",
                page.items.len()
            );
            names.extend(page.items.iter().filter_map(|o| o.metadata.name.clone()));
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() || pages > 10 {
                break;
            }
        }
        names.sort();
        let want: Vec<String> = (0..7).map(|i| format!("krs-page-{i}")).collect();
        ensure!(pages == 4, "7 objects in pages of 2 took {pages} pages");
        ensure!(names == want, "paginated list returned {names:?}");
        // The runtime's paged initial list must see them all too.
        let seen: Vec<ConfigMap> = watcher(
            cms.clone(),
            watcher::Config::default()
                .labels("krs-page=yes")
                .page_size(3),
        )
        .take_while(|e| futures::future::ready(!matches!(e, Ok(watcher::Event::InitDone))))
        .try_filter_map(|e| async move {
            Ok(match e {
                watcher::Event::InitApply(o) => Some(o),
                _ => None,
            })
        })
        .try_collect()
        .await?;
        ensure!(
            seen.len() == 7,
            "watcher's paged initial list saw {}",
            seen.len()
        );
        cms.delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("krs-page=yes"),
        )
        .await?;
        Ok(())
    })
}

fn watcher_stream(ctx: &Ctx) -> Result<()> {
    ctx.runtime.block_on(async {
        let client = client(ctx).await?;
        let cms: Api<ConfigMap> = Api::namespaced(client, NS);
        cms.create(
            &PostParams::default(),
            &configmap("krs-w-0", &[("krs-watch", "yes")], &[]),
        )
        .await?;
        let mut stream = watcher(
            cms.clone(),
            watcher::Config::default().labels("krs-watch=yes"),
        )
        .boxed();
        let mut log = Vec::new();
        let run = async {
            let mut created = false;
            while let Some(event) = stream.try_next().await? {
                match &event {
                    watcher::Event::Init => log.push("Init".to_string()),
                    watcher::Event::InitApply(o) => log.push(format!(
                        "InitApply {}",
                        o.metadata.name.clone().unwrap_or_default()
                    )),
                    watcher::Event::InitDone => {
                        log.push("InitDone".into());
                        if !created {
                            created = true;
                            cms.create(
                                &PostParams::default(),
                                &configmap("krs-w-1", &[("krs-watch", "yes")], &[]),
                            )
                            .await?;
                        }
                    }
                    watcher::Event::Apply(o) => {
                        let name = o.metadata.name.clone().unwrap_or_default();
                        log.push(format!("Apply {name}"));
                        if name == "krs-w-1" {
                            cms.delete("krs-w-1", &DeleteParams::default()).await?;
                        }
                    }
                    watcher::Event::Delete(o) => {
                        let name = o.metadata.name.clone().unwrap_or_default();
                        log.push(format!("Delete {name}"));
                        if name == "krs-w-1" {
                            return anyhow::Ok(());
                        }
                    }
                }
            }
            bail!("watch stream ended")
        };
        match tokio::time::timeout(CONVERGE_TIMEOUT, run).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("{e:#}; events so far: {log:?}"),
            Err(_) => bail!("timed out; events so far: {log:?}"),
        }
        let want = [
            "Init",
            "InitApply krs-w-0",
            "InitDone",
            "Apply krs-w-1",
            "Delete krs-w-1",
        ];
        ensure!(log == want, "watcher events {log:?}, want {want:?}");
        cms.delete("krs-w-0", &DeleteParams::default()).await?;
        Ok(())
    })
}

/// A watch from the resourceVersion recorded at start-up, long compacted: 410 Gone, either
/// as the response or as an ERROR event carrying a Status with code 410.
fn watch_expired(ctx: &Ctx) -> Result<()> {
    ctx.runtime.block_on(async {
        let client = client(ctx).await?;
        let cms: Api<ConfigMap> = Api::namespaced(client, NS);
        let deadline = tokio::time::Instant::now() + ctx.wait_for_410();
        let mut last = String::new();
        loop {
            let outcome = match cms.watch(&WatchParams::default().timeout(5), &ctx.start_rv).await {
                Err(e) => match api_error(&e) {
                    Some((410, reason, _)) => Some(reason.to_string()),
                    _ => {
                        last = format!("{e:?}");
                        None
                    }
                },
                Ok(stream) => {
                    let mut stream = stream.boxed();
                    let mut found = None;
                    while let Some(ev) = stream.next().await {
                        match ev {
                            Ok(WatchEvent::Error(s)) if s.code == 410 => {
                                found = Some(s.reason.clone());
                                break;
                            }
                            Ok(other) => last = format!("event {other:?}"),
                            Err(e) => {
                                last = format!("{e:?}");
                                break;
                            }
                        }
                    }
                    found
                }
            };
            if let Some(reason) = outcome {
                ensure!(
                    reason == "Expired" || reason == "Gone",
                    "410 with reason {reason:?}, upstream uses Expired or Gone"
                );
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "a watch from resourceVersion {} (recorded at start-up) never got 410 Gone; last: {last}",
                    ctx.start_rv
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

/// A custom resource end to end through kube-rs, with the `Website` type of
/// `testkit::operator` (`#[derive(CustomResource)]`): its CRD from `CustomResourceExt::crd()`,
/// typed CRUD, server-side apply conflicts between managers, the status and scale
/// subresources, a `watcher`, and deleting the CRD deleting its objects.
mod custom_resource {
    use super::*;

    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::CustomResourceExt;
    use kube::runtime::wait::{await_condition, conditions};
    use testkit::operator::{Website, WebsiteSpec};

    const CRD_NAME: &str = "websites.demo.k8rs.io";
    const API_VERSION: &str = "demo.k8rs.io/v1";

    fn website(name: &str, replicas: i32, message: &str) -> Website {
        let mut w = Website::new(
            name,
            WebsiteSpec {
                replicas,
                message: message.into(),
            },
        );
        w.metadata.labels = Some(BTreeMap::from([("krs-ws".into(), name.into())]));
        w
    }

    fn is_not_found(e: &kube::Error) -> bool {
        api_error(e).is_some_and(|(code, reason, _)| code == 404 && reason == "NotFound")
    }

    /// Creates the Website CRD unless it exists and waits until it is Established; every
    /// scenario starts with it, so that each one also runs on its own.
    async fn websites(ctx: &Ctx) -> Result<Api<Website>> {
        let client = client(ctx).await?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        if crds.get_opt(CRD_NAME).await?.is_none() {
            let crd = Website::crd();
            ensure!(
                crd.metadata.name.as_deref() == Some(CRD_NAME),
                "derived CRD is named {:?}",
                crd.metadata.name
            );
            crds.create(&PostParams::default(), &crd).await?;
        }
        established(crds).await?;
        Ok(Api::namespaced(client, NS))
    }

    async fn established(crds: Api<CustomResourceDefinition>) -> Result<()> {
        tokio::time::timeout(
            CONVERGE_TIMEOUT,
            await_condition(crds, CRD_NAME, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| anyhow!("CRD {CRD_NAME} not Established within {CONVERGE_TIMEOUT:?}"))??;
        Ok(())
    }

    /// create, get, list, merge patch, delete.
    pub fn crud(ctx: &Ctx) -> Result<()> {
        ctx.runtime.block_on(async {
            let api = websites(ctx).await?;
            let created = api
                .create(&PostParams::default(), &website("krs-ws-crud", 1, "one"))
                .await?;
            ensure!(created.metadata.uid.is_some(), "no uid on create");
            ensure!(
                created.metadata.generation == Some(1),
                "generation on create: {:?}",
                created.metadata.generation
            );
            let got = api.get("krs-ws-crud").await?;
            ensure!(
                got.spec.replicas == 1 && got.spec.message == "one",
                "get returned spec {:?}",
                got.spec
            );
            let listed = api
                .list(&ListParams::default().labels("krs-ws=krs-ws-crud"))
                .await?;
            let names: Vec<String> = listed.items.iter().map(|w| w.name_any()).collect();
            ensure!(names == ["krs-ws-crud"], "list returned {names:?}");

            let patched = api
                .patch(
                    "krs-ws-crud",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": {"message": "two"}})),
                )
                .await?;
            ensure!(
                patched.spec.message == "two" && patched.spec.replicas == 1,
                "merge patch result {:?}",
                patched.spec
            );
            ensure!(
                patched.metadata.generation == Some(2),
                "a spec change must bump generation to 2, got {:?}",
                patched.metadata.generation
            );

            api.delete("krs-ws-crud", &DeleteParams::default()).await?;
            match api.get("krs-ws-crud").await {
                Err(e) if is_not_found(&e) => {}
                other => bail!("get after delete: {other:?}"),
            }
            Ok(())
        })
    }

    /// Server-side apply by two managers: the second one's differing value conflicts with
    /// the first (409 naming it and the field), `force` takes the field over.
    pub fn apply_conflict(ctx: &Ctx) -> Result<()> {
        ctx.runtime.block_on(async {
            let api = websites(ctx).await?;
            let body = |message: &str| {
                json!({
                    "apiVersion": API_VERSION,
                    "kind": "Website",
                    "metadata": {"name": "krs-ws-ssa"},
                    "spec": {"replicas": 1, "message": message}
                })
            };
            let first = api
                .patch(
                    "krs-ws-ssa",
                    &PatchParams::apply("krs-ws-a"),
                    &Patch::Apply(body("from a")),
                )
                .await?;
            ensure!(first.spec.message == "from a", "first apply: {:?}", first.spec);
            // Re-applying the same configuration is no conflict and no write (controllers
            // apply on every reconcile; a write would wake them up again).
            let again = api
                .patch(
                    "krs-ws-ssa",
                    &PatchParams::apply("krs-ws-a"),
                    &Patch::Apply(body("from a")),
                )
                .await?;
            ensure!(
                again.metadata.resource_version == first.metadata.resource_version,
                "a no-op apply changed resourceVersion {:?} -> {:?}",
                first.metadata.resource_version,
                again.metadata.resource_version
            );

            let result = api
                .patch(
                    "krs-ws-ssa",
                    &PatchParams::apply("krs-ws-b"),
                    &Patch::Apply(body("from b")),
                )
                .await;
            let want = r#"Apply failed with 1 conflict: conflict with "krs-ws-a": .spec.message"#;
            match &result {
                Err(e)
                    if api_error(e).is_some_and(|(code, reason, msg)| {
                        code == 409 && reason == "Conflict" && msg == want
                    }) => {}
                other => bail!("conflicting apply: {other:?}; upstream: 409 Conflict {want:?}"),
            }

            let forced = api
                .patch(
                    "krs-ws-ssa",
                    &PatchParams::apply("krs-ws-b").force(),
                    &Patch::Apply(body("from b")),
                )
                .await?;
            ensure!(forced.spec.message == "from b", "forced apply: {:?}", forced.spec);
            let owners = |field: &str| -> Vec<String> {
                forced
                    .metadata
                    .managed_fields
                    .iter()
                    .flatten()
                    .filter(|m| {
                        m.fields_v1
                            .as_ref()
                            .and_then(|f| f.0.pointer(&format!("/f:spec/f:{field}")))
                            .is_some()
                    })
                    .filter_map(|m| m.manager.clone())
                    .collect()
            };
            ensure!(
                owners("message") == ["krs-ws-b"],
                "after the forced apply .spec.message is managed by {:?}, want only krs-ws-b",
                owners("message")
            );
            let mut replica_owners = owners("replicas");
            replica_owners.sort();
            ensure!(
                replica_owners == ["krs-ws-a", "krs-ws-b"],
                ".spec.replicas (applied with the same value by both) is managed by {replica_owners:?}"
            );
            api.delete("krs-ws-ssa", &DeleteParams::default()).await?;
            Ok(())
        })
    }

    /// `/status` changes only the status, the main resource only the rest; `/scale` reads
    /// and writes `spec.replicas` (and reads `status.readyReplicas`).
    pub fn status_and_scale(ctx: &Ctx) -> Result<()> {
        ctx.runtime.block_on(async {
            let api = websites(ctx).await?;
            let name = "krs-ws-status";
            api.create(&PostParams::default(), &website(name, 2, "status"))
                .await?;

            let after_status = api
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({
                        "spec": {"replicas": 7},
                        "status": {"readyReplicas": 1}
                    })),
                )
                .await?;
            let ready = after_status.status.as_ref().map(|s| s.ready_replicas);
            ensure!(
                ready == Some(1),
                "status after patch_status: {:?}",
                after_status.status
            );
            ensure!(
                after_status.spec.replicas == 2,
                "patch_status changed spec.replicas to {}",
                after_status.spec.replicas
            );
            ensure!(
                after_status.metadata.generation == Some(1),
                "a status change bumped generation to {:?}",
                after_status.metadata.generation
            );

            let after_main = api
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"readyReplicas": 5}})),
                )
                .await?;
            let ready = after_main.status.as_ref().map(|s| s.ready_replicas);
            ensure!(
                ready == Some(1),
                "the main resource changed the status (readyReplicas {ready:?}); with a status \
                 subresource it must ignore it"
            );

            let scale = api.get_scale(name).await?;
            let spec_replicas = scale.spec.as_ref().and_then(|s| s.replicas);
            let status_replicas = scale.status.as_ref().map(|s| s.replicas);
            ensure!(
                spec_replicas == Some(2) && status_replicas == Some(1),
                "scale: spec.replicas {spec_replicas:?}, status.replicas {status_replicas:?}"
            );
            ensure!(
                scale.metadata.name.as_deref() == Some(name),
                "scale named {:?}",
                scale.metadata.name
            );

            api.patch_scale(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 4}})),
            )
            .await?;
            let scaled = api.get(name).await?;
            ensure!(
                scaled.spec.replicas == 4,
                "after patch_scale spec.replicas is {}",
                scaled.spec.replicas
            );
            ensure!(
                scaled.metadata.generation == Some(2),
                "scaling must bump generation to 2, got {:?}",
                scaled.metadata.generation
            );
            let scale = api.get_scale(name).await?;
            ensure!(
                scale.spec.as_ref().and_then(|s| s.replicas) == Some(4),
                "get_scale after patch_scale: {:?}",
                scale.spec
            );
            api.delete(name, &DeleteParams::default()).await?;
            Ok(())
        })
    }

    /// `kube::runtime::watcher` on Websites: the initial list, then an added, a modified
    /// and a deleted object.
    pub fn watcher_events(ctx: &Ctx) -> Result<()> {
        ctx.runtime.block_on(async {
            let api = websites(ctx).await?;
            let label = "krs-ws-watch";
            let labelled = |name: &str, message: &str| {
                let mut w = website(name, 1, message);
                w.metadata.labels = Some(BTreeMap::from([(label.into(), "yes".into())]));
                w
            };
            api.create(&PostParams::default(), &labelled("krs-ws-w0", "before"))
                .await?;
            let mut stream = watcher(
                api.clone(),
                watcher::Config::default().labels(&format!("{label}=yes")),
            )
            .boxed();
            let mut log = Vec::new();
            let run = async {
                let mut created = false;
                while let Some(event) = stream.try_next().await? {
                    match &event {
                        watcher::Event::Init => log.push("Init".to_string()),
                        watcher::Event::InitApply(w) => {
                            log.push(format!("InitApply {} {}", w.name_any(), w.spec.message))
                        }
                        watcher::Event::InitDone => {
                            log.push("InitDone".into());
                            if !created {
                                created = true;
                                api.create(&PostParams::default(), &labelled("krs-ws-w1", "new"))
                                    .await?;
                            }
                        }
                        watcher::Event::Apply(w) => {
                            log.push(format!("Apply {} {}", w.name_any(), w.spec.message));
                            match (w.name_any().as_str(), w.spec.message.as_str()) {
                                ("krs-ws-w1", "new") => {
                                    api.patch(
                                        "krs-ws-w1",
                                        &PatchParams::default(),
                                        &Patch::Merge(json!({"spec": {"message": "changed"}})),
                                    )
                                    .await?;
                                }
                                ("krs-ws-w1", "changed") => {
                                    api.delete("krs-ws-w1", &DeleteParams::default()).await?;
                                }
                                _ => {}
                            }
                        }
                        watcher::Event::Delete(w) => {
                            log.push(format!("Delete {} {}", w.name_any(), w.spec.message));
                            if w.name_any() == "krs-ws-w1" {
                                return anyhow::Ok(());
                            }
                        }
                    }
                }
                bail!("watch stream ended")
            };
            match tokio::time::timeout(CONVERGE_TIMEOUT, run).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => bail!("{e:#}; events so far: {log:?}"),
                Err(_) => bail!("timed out; events so far: {log:?}"),
            }
            let want = [
                "Init",
                "InitApply krs-ws-w0 before",
                "InitDone",
                "Apply krs-ws-w1 new",
                "Apply krs-ws-w1 changed",
                "Delete krs-ws-w1 changed",
            ];
            ensure!(log == want, "watcher events {log:?}, want {want:?}");
            api.delete("krs-ws-w0", &DeleteParams::default()).await?;
            Ok(())
        })
    }

    /// Deleting the CRD deletes its custom resources: once it is gone the API is no longer
    /// served, and a re-created CRD starts empty.
    pub fn crd_delete(ctx: &Ctx) -> Result<()> {
        ctx.runtime.block_on(async {
            let api = websites(ctx).await?;
            for name in ["krs-ws-del-0", "krs-ws-del-1"] {
                api.create(&PostParams::default(), &website(name, 1, "doomed"))
                    .await?;
            }
            let crds: Api<CustomResourceDefinition> = Api::all(client(ctx).await?);
            delete_crd(&crds).await?;
            // The server stops serving the resource once it has seen the deletion (upstream
            // too follows definitions through an informer): poll, bounded.
            let deadline = tokio::time::Instant::now() + CONVERGE_TIMEOUT;
            loop {
                match api.list(&ListParams::default()).await {
                    Err(e) if is_not_found(&e) => break,
                    other if tokio::time::Instant::now() >= deadline => bail!(
                        "listing Websites {CONVERGE_TIMEOUT:?} after their CRD is gone: \
                         {other:?}; want 404 NotFound"
                    ),
                    _ => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }

            crds.create(&PostParams::default(), &Website::crd()).await?;
            established(crds.clone()).await?;
            let left = api.list(&ListParams::default()).await?;
            let names: Vec<String> = left.items.iter().map(|w| w.name_any()).collect();
            ensure!(
                names.is_empty(),
                "Websites survived the deletion of their CRD: {names:?}"
            );
            delete_crd(&crds).await
        })
    }

    /// Deletes the Website CRD and waits until it is gone (its cleanup finalizer done).
    async fn delete_crd(crds: &Api<CustomResourceDefinition>) -> Result<()> {
        let uid = crds
            .get(CRD_NAME)
            .await?
            .metadata
            .uid
            .ok_or_else(|| anyhow!("CRD {CRD_NAME} has no uid"))?;
        crds.delete(CRD_NAME, &DeleteParams::default()).await?;
        tokio::time::timeout(
            CONVERGE_TIMEOUT,
            await_condition(crds.clone(), CRD_NAME, conditions::is_deleted(&uid)),
        )
        .await
        .map_err(|_| anyhow!("CRD {CRD_NAME} still there after {CONVERGE_TIMEOUT:?}"))??;
        Ok(())
    }
}
