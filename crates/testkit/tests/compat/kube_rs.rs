//! kube-rs against the server: typed CRUD (including server-side apply and conflicts),
//! paginated lists, the `watcher` stream, and watch expiry (410).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, anyhow, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
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
    let list: [(&str, CheckFn); 5] = [
        ("typed_crud", typed_crud),
        ("conflict", conflict),
        ("paginated_list", paginated_list),
        ("watcher_stream", watcher_stream),
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
