//! The API server driven through kube-rs over the in-process transport: the same
//! semantics clients see over HTTPS, without a socket.

use std::sync::Arc;

use apiserver::{ApiServer, ApiServerConfig, UserInfo};
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn config() -> ApiServerConfig {
    ApiServerConfig::default()
}

async fn server() -> (Arc<ApiServer>, kube::Client, tempfile::TempDir) {
    server_with(config()).await
}

async fn server_with(config: ApiServerConfig) -> (Arc<ApiServer>, kube::Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::embedded::EmbeddedStore::open(dir.path()).unwrap();
    let api = ApiServer::new(store, config).unwrap();
    api.bootstrap(CancellationToken::new()).await;
    let client = api.client(UserInfo::new("system:admin", &["system:masters"]));
    // Ready means the watch cache has loaded: lists and watches are then served from it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get_text(&client, "/readyz").await != "ok" {
        assert!(std::time::Instant::now() < deadline, "server never ready");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (api, client, dir)
}

async fn get_text(client: &kube::Client, path: &str) -> String {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    match client.request_text(req).await {
        Ok(t) => t,
        Err(e) => format!("error: {e}"),
    }
}

async fn post_json(
    client: &kube::Client,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let req = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    client.request::<serde_json::Value>(req).await.unwrap()
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "demo"}},
        "spec": {"containers": [{"name": "c", "image": "docker.io/k8rs/demo:0.1.0"}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn bootstrap_creates_system_namespaces_and_kubernetes_service() {
    let (_api, client, _dir) = server().await;
    let names: Vec<String> = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            names.contains(&ns.to_string()),
            "{ns} missing from {names:?}"
        );
    }
    let svc = Api::<Service>::namespaced(client, "default")
        .get("kubernetes")
        .await
        .unwrap();
    assert_eq!(svc.spec.unwrap().cluster_ip.as_deref(), Some("10.43.0.1"));
}

#[tokio::test]
async fn create_get_conflict_and_defaults() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let created = pods
        .create(&PostParams::default(), &pod("p1"))
        .await
        .unwrap();
    let spec = created.spec.clone().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );
    assert_eq!(
        created.status.clone().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert!(created.metadata.uid.is_some());

    let err = pods
        .create(&PostParams::default(), &pod("p1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 409 && e.reason == "AlreadyExists"),
        "{err}"
    );

    // A stale resourceVersion conflicts.
    let mut stale = created.clone();
    stale.metadata.labels = Some([("v".to_string(), "1".to_string())].into());
    pods.replace("p1", &PostParams::default(), &stale)
        .await
        .unwrap();
    let err = pods
        .replace("p1", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 409);
            assert_eq!(
                e.message,
                "Operation cannot be fulfilled on pods \"p1\": the object has been modified; please apply your changes to the latest version and try again"
            );
        }
        other => panic!("{other}"),
    }
    let missing = pods.get("nope").await.unwrap_err();
    assert!(
        matches!(missing, kube::Error::Api(ref e) if e.code == 404 && e.message == "pods \"nope\" not found")
    );
}

#[tokio::test]
async fn invalid_objects_get_upstream_messages() {
    let (_api, client, _dir) = server().await;
    // Sent as raw JSON: typed clients always serialize a (possibly empty) selector.
    let resource = kube::core::ApiResource::erase::<Deployment>(&());
    let deploys: Api<kube::core::DynamicObject> =
        Api::namespaced_with(client, "default", &resource);
    let bad: kube::core::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}
    }))
    .unwrap();
    let err = deploys
        .create(&PostParams::default(), &bad)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 422);
            assert_eq!(
                e.message,
                "Deployment.apps \"x\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`]"
            );
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn list_selectors_and_pagination() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for i in 0..5 {
        let mut p = pod(&format!("p{i}"));
        if i % 2 == 0 {
            p.metadata.labels = Some([("tier".to_string(), "even".to_string())].into());
        }
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    let even = pods
        .list(&ListParams::default().labels("tier=even"))
        .await
        .unwrap();
    assert_eq!(even.items.len(), 3);
    let by_name = pods
        .list(&ListParams::default().fields("metadata.name=p1"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    let err = pods
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 400 && e.message == "field label not supported: spec.bogus")
    );

    let first = pods.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("a continue token");
    let mut seen: Vec<String> = first
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    let mut next = Some(token);
    while let Some(t) = next {
        let page = pods
            .list(&ListParams::default().limit(2).continue_token(&t))
            .await
            .unwrap();
        seen.extend(page.items.iter().filter_map(|p| p.metadata.name.clone()));
        next = page.metadata.continue_.filter(|c| !c.is_empty());
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);
}

#[tokio::test]
async fn watch_from_resource_version_and_selector_transitions() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let created = pods
        .create(&PostParams::default(), &pod("w1"))
        .await
        .unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    let stream = pods
        .watch(&WatchParams::default().labels("app=demo"), &rv)
        .await
        .unwrap();
    futures::pin_mut!(stream);
    // Relabel out of the selection: the watcher sees DELETED.
    pods.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "other"}}})),
    )
    .await
    .unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Deleted(p) => assert_eq!(p.metadata.name.as_deref(), Some("w1")),
        other => panic!("expected DELETED, got {other:?}"),
    }
    pods.create(&PostParams::default(), &pod("w2"))
        .await
        .unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(p) => assert_eq!(p.metadata.name.as_deref(), Some("w2")),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

#[tokio::test]
async fn graceful_pod_deletion_waits_for_the_kubelet() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut p = pod("g1");
    p.spec.as_mut().unwrap().node_name = Some("n1".into());
    pods.create(&PostParams::default(), &p).await.unwrap();
    pods.delete("g1", &DeleteParams::default()).await.unwrap();
    let terminating = pods.get("g1").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    // The kubelet finishes the deletion with a zero grace period.
    pods.delete("g1", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    assert!(pods.get_opt("g1").await.unwrap().is_none());
    // Unscheduled pods go at once.
    pods.create(&PostParams::default(), &pod("g2"))
        .await
        .unwrap();
    pods.delete("g2", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("g2").await.unwrap().is_none());
}

#[tokio::test]
async fn status_and_scale_subresources() {
    let (_api, client, _dir) = server().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}
    }))
    .unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    // Writes to the main resource ignore status.
    deploys
        .patch(
            "d",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(
        deploys.get("d").await.unwrap().status.unwrap().replicas,
        None
    );
    // Writes to /status change only status.
    deploys
        .patch_status(
            "d",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 2}, "spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    let now = deploys.get("d").await.unwrap();
    assert_eq!(now.status.unwrap().replicas, Some(2));
    assert_eq!(now.spec.unwrap().replicas, Some(2));
    // /scale changes spec.replicas and bumps the generation.
    let scale = deploys.get_scale("d").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=d"));
    deploys
        .patch_scale(
            "d",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    let scaled = deploys.get("d").await.unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(5));
    assert_eq!(scaled.metadata.generation, Some(2));
}

#[tokio::test]
async fn services_get_cluster_ips_and_node_ports() {
    let (_api, client, _dir) = server().await;
    let svcs: Api<Service> = Api::namespaced(client, "default");
    let s: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    let created = svcs.create(&PostParams::default(), &s).await.unwrap();
    let spec = created.spec.unwrap();
    let ip: std::net::Ipv4Addr = spec.cluster_ip.unwrap().parse().unwrap();
    assert_eq!(ip.octets()[..2], [10, 43]);
    let np = spec.ports.unwrap()[0].node_port.unwrap();
    assert!((30000..=32767).contains(&np));
    // The same node port cannot be taken twice.
    let clash: Service = serde_json::from_value(json!({
        "metadata": {"name": "web2"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": np}]}
    }))
    .unwrap();
    let err = svcs
        .create(&PostParams::default(), &clash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref e) if e.code == 422 && e.message.contains("provided port is already allocated")),
        "{err}"
    );
}

#[tokio::test]
async fn finalizers_block_removal_until_cleared() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut p = pod("f1");
    p.metadata.finalizers = Some(vec!["example.com/keep".into()]);
    pods.create(&PostParams::default(), &p).await.unwrap();
    pods.delete("f1", &DeleteParams::default()).await.unwrap();
    let held = pods.get("f1").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    pods.patch(
        "f1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(pods.get_opt("f1").await.unwrap().is_none());
}

/// Two API servers on one etcd serve the same state: a write through one is seen by a
/// watch on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_etcd() {
    let Some(etcd) = store::testing_etcd::EtcdFixture::start() else {
        return;
    };
    let a = ApiServer::new(etcd.connect(1_572_864).await, config()).unwrap();
    let b = ApiServer::new(etcd.connect(1_572_864).await, config()).unwrap();
    a.bootstrap(CancellationToken::new()).await;
    b.bootstrap(CancellationToken::new()).await;
    let user = || UserInfo::new("system:admin", &["system:masters"]);
    let pods_a: Api<Pod> = Api::namespaced(a.client(user()), "default");
    let pods_b: Api<Pod> = Api::namespaced(b.client(user()), "default");

    let list = pods_b.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let stream = pods_b.watch(&WatchParams::default(), &rv).await.unwrap();
    futures::pin_mut!(stream);
    pods_a
        .create(&PostParams::default(), &pod("shared"))
        .await
        .unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(p) => assert_eq!(p.metadata.name.as_deref(), Some("shared")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    // Both read the same object at the same resourceVersion.
    let via_a = pods_a.get("shared").await.unwrap();
    let via_b = pods_b.get("shared").await.unwrap();
    assert_eq!(
        via_a.metadata.resource_version,
        via_b.metadata.resource_version
    );
}

#[tokio::test]
async fn health_endpoints_name_their_checks() {
    let (_api, client, _dir) = server().await;
    let verbose = get_text(&client, "/readyz?verbose").await;
    for line in [
        "[+]ping ok",
        "[+]etcd ok",
        "[+]informer-sync ok",
        "readyz check passed",
    ] {
        assert!(verbose.contains(line), "{line:?} missing from {verbose}");
    }
    assert!(
        get_text(&client, "/livez?verbose&exclude=etcd")
            .await
            .contains("[+]etcd excluded: ok")
    );
    assert_eq!(get_text(&client, "/livez/etcd").await, "ok");
    assert_eq!(get_text(&client, "/healthz").await, "ok");
    assert!(
        get_text(&client, "/readyz/no-such-check")
            .await
            .starts_with("error")
    );
}

#[tokio::test]
async fn review_apis_answer_without_storing() {
    let (_api, client, _dir) = server().await;
    let ssar = post_json(
        &client,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}}}),
    )
    .await;
    assert_eq!(ssar["status"]["allowed"], true);
    assert_eq!(ssar["spec"]["resourceAttributes"]["verb"], "create");
    let ssr = post_json(
        &client,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    )
    .await;
    assert_eq!(ssr["status"]["userInfo"]["username"], "system:admin");
    assert_eq!(ssr["kind"], "SelfSubjectReview");
    let rules = post_json(
        &client,
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": "default"}}),
    )
    .await;
    assert_eq!(rules["status"]["resourceRules"][0]["verbs"], json!(["*"]));
    // Reviews are create-only.
    let listed = get_text(
        &client,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    )
    .await;
    assert!(
        listed.contains("405") || listed.contains("MethodNotAllowed"),
        "{listed}"
    );
}

#[tokio::test]
async fn lists_and_watches_from_the_cache_are_consistent() {
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let first = pods
        .create(&PostParams::default(), &pod("c0"))
        .await
        .unwrap();
    let first_rv = first.metadata.resource_version.clone().unwrap();
    // A consistent list right after each acknowledged write contains it.
    for i in 1..20 {
        pods.create(&PostParams::default(), &pod(&format!("c{i}")))
            .await
            .unwrap();
        let names: Vec<String> = pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        assert!(
            names.contains(&format!("c{i}")),
            "c{i} missing from {names:?}"
        );
    }
    // resourceVersion=0 may be served from any state, but never an older one than a
    // consistent read has shown... here the cache is current, so it has all 20.
    let any = pods.list(&ListParams::default().match_any()).await.unwrap();
    assert_eq!(any.items.len(), 20);
    // Many watchers resuming from the first write all see the 19 later creates, in order.
    let mut watchers = Vec::new();
    for _ in 0..50 {
        let stream = pods
            .watch(&WatchParams::default().timeout(10), &first_rv)
            .await
            .unwrap();
        watchers.push(tokio::spawn(async move {
            let mut stream = Box::pin(stream);
            let mut seen = Vec::new();
            while let Some(ev) = stream.try_next().await.unwrap() {
                if let WatchEvent::Added(p) = ev {
                    seen.push(p.metadata.name.unwrap());
                    if seen.len() == 19 {
                        break;
                    }
                }
            }
            seen
        }));
    }
    let expected: Vec<String> = (1..20).map(|i| format!("c{i}")).collect();
    for w in watchers {
        assert_eq!(w.await.unwrap(), expected);
    }
}

#[tokio::test]
async fn deleting_a_namespace_marks_it_terminating() {
    let (_api, client, _dir) = server().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap();
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(
        created.spec.and_then(|s| s.finalizers),
        Some(vec!["kubernetes".to_string()])
    );
    namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("doomed").await.unwrap();
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(terminating.metadata.deletion_timestamp.is_some());
    // No new content in a terminating namespace.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "doomed");
    match pods.create(&PostParams::default(), &pod("late")).await {
        Err(kube::Error::Api(e)) => {
            assert_eq!(e.code, 403);
            assert_eq!(
                e.message,
                "pods \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
            );
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    // Deleting again says the system is on it.
    match namespaces.delete("doomed", &DeleteParams::default()).await {
        Err(kube::Error::Api(e)) => {
            assert_eq!(e.code, 409);
            assert!(
                e.message
                    .contains("The system is ensuring all content is removed from this namespace"),
                "{}",
                e.message
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
}

async fn send(
    client: &kube::Client,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, Vec<String>, serde_json::Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

#[tokio::test]
async fn unknown_fields_are_dropped_warned_or_rejected() {
    let (_api, client, _dir) = server().await;
    let cm = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
               "data": {"k": "v"}, "bogus": 1, "metadata2": {}})
    };
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, _, body) = send(
        &client,
        "POST",
        &format!("{path}?fieldValidation=Strict"),
        cm("a"),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\", unknown field \"metadata2\""
    );
    let (code, warnings, body) = send(&client, "POST", path, cm("b")).await;
    assert_eq!(code, 201);
    assert_eq!(
        warnings,
        vec![
            "299 - \"unknown field \\\"bogus\\\"\"".to_string(),
            "299 - \"unknown field \\\"metadata2\\\"\"".to_string()
        ]
    );
    // Dropped before storing, whatever the mode.
    assert!(body.get("bogus").is_none());
    let (code, warnings, _) = send(
        &client,
        "POST",
        &format!("{path}?fieldValidation=Ignore"),
        cm("c"),
    )
    .await;
    assert_eq!((code, warnings.len()), (201, 0));
    // A value of the wrong type is always an error.
    let (code, _, body) = send(
        &client,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
               "spec": {"replicas": "three"}}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("json: cannot unmarshal string into Go struct field"),
        "{body}"
    );
}

#[tokio::test]
async fn hpa_and_events_are_served_in_each_version() {
    let (_api, client, _dir) = server().await;
    let (code, _, _) = send(
        &client,
        "POST",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
        json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "h"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
                        "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60}}),
    )
    .await;
    assert_eq!(code, 201);
    let (_, _, v2) = send(
        &client,
        "GET",
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h",
        json!(null),
    )
    .await;
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"],
        json!({"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}})
    );
    let (_, _, v1) = send(
        &client,
        "GET",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h",
        json!(null),
    )
    .await;
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);

    let (code, _, _) = send(
        &client,
        "POST",
        "/api/v1/namespaces/default/events",
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
               "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
               "reason": "Started", "message": "Started container c", "type": "Normal",
               "source": {"component": "kubelet"}}),
    )
    .await;
    assert_eq!(code, 201);
    let (_, _, ev) = send(
        &client,
        "GET",
        "/apis/events.k8s.io/v1/namespaces/default/events/e1",
        json!(null),
    )
    .await;
    assert_eq!(ev["apiVersion"], "events.k8s.io/v1");
    assert_eq!(ev["note"], "Started container c");
    assert_eq!(ev["regarding"]["name"], "p");
    // And the list view converts every item.
    let (_, _, list) = send(
        &client,
        "GET",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        json!(null),
    )
    .await;
    assert_eq!(list["items"][0]["note"], "Started container c");
}

#[tokio::test]
async fn paginated_lists_show_one_revision() {
    let (_api, client, _dir) = server().await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    for i in 0..7 {
        let cm = serde_json::from_value(json!({"metadata": {"name": format!("p{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    let mut names = Vec::new();
    let mut revisions = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = cms.list(&params).await.unwrap();
        revisions.push(page.metadata.resource_version.clone().unwrap());
        names.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        // Writes between pages are not seen by this list.
        let cm = serde_json::from_value(json!({"metadata": {"name": format!("z{}", names.len())}}))
            .unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => params = params.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());
    assert!(
        revisions.iter().all(|r| *r == revisions[0]),
        "{revisions:?}"
    );
    // A token that does not parse is a 400.
    match cms
        .list(&ListParams::default().limit(2).continue_token("!!"))
        .await
    {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 400),
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn watches_from_before_a_compaction_get_410() {
    let (_api, client, _dir) = server_with(ApiServerConfig {
        compaction_interval: std::time::Duration::from_secs(1),
        ..config()
    })
    .await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let first = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "old"}})).unwrap(),
        )
        .await
        .unwrap();
    let rv = first.metadata.resource_version.unwrap();
    // Resuming from a recent version works (served from the cache's window).
    let mut stream = Box::pin(
        cms.watch(&WatchParams::default().timeout(1), &rv)
            .await
            .unwrap(),
    );
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "new"}})).unwrap(),
    )
    .await
    .unwrap();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("new")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    drop(stream);
    // Once history older than the retention is compacted, the same version is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut stream = Box::pin(
            cms.watch(&WatchParams::default().timeout(1), &rv)
                .await
                .unwrap(),
        );
        let first_event = stream.try_next().await.unwrap();
        if let Some(WatchEvent::Error(e)) = first_event {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(
                e.message.starts_with("too old resource version"),
                "{}",
                e.message
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never compacted: {first_event:?}"
        );
        // Keep writing so the compactor has newer revisions to compact to.
        cms.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"generateName": "tick-"}})).unwrap(),
        )
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_watcher_ends_with_the_stores_state() {
    // Concurrent creates, label flips (objects entering and leaving a selection), status
    // writes and deletes, with watchers on the cache: each watcher's view, rebuilt from
    // its events, must equal a fresh list.
    let (_api, client, _dir) = server().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let start_rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut watchers = Vec::new();
    for w in 0..12 {
        let selector = (w % 2 == 0).then_some("app=a");
        let params = match selector {
            Some(s) => WatchParams::default().labels(s).timeout(60),
            None => WatchParams::default().timeout(60),
        };
        let stream = pods.watch(&params, &start_rv).await.unwrap();
        watchers.push(tokio::spawn(async move {
            let mut stream = Box::pin(stream);
            let mut state = std::collections::BTreeMap::new();
            while let Some(ev) = stream.try_next().await.unwrap() {
                match ev {
                    WatchEvent::Added(p) | WatchEvent::Modified(p) => {
                        let name = p.metadata.name.clone().unwrap();
                        let done = name == "sentinel";
                        state.insert(name, p.metadata.resource_version.unwrap());
                        if done {
                            break;
                        }
                    }
                    WatchEvent::Deleted(p) => {
                        state.remove(&p.metadata.name.unwrap());
                    }
                    WatchEvent::Bookmark(_) => {}
                    WatchEvent::Error(e) => panic!("watch error {e:?}"),
                }
            }
            (selector, state)
        }));
    }
    let mut writers = Vec::new();
    for t in 0..6 {
        let pods = pods.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                let name = format!("w{t}-{i}");
                let mut p = pod(&name);
                p.metadata.labels = Some([("app".to_string(), "a".to_string())].into());
                pods.create(&PostParams::default(), &p).await.unwrap();
                let flip =
                    json!({"metadata": {"labels": {"app": if i % 2 == 0 { "b" } else { "a" }}}});
                pods.patch(&name, &PatchParams::default(), &Patch::Merge(&flip))
                    .await
                    .unwrap();
                if i % 3 == 0 {
                    pods.delete(&name, &DeleteParams::default().grace_period(0))
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut sentinel = pod("sentinel");
    sentinel.metadata.labels = Some([("app".to_string(), "a".to_string())].into());
    pods.create(&PostParams::default(), &sentinel)
        .await
        .unwrap();
    for w in watchers {
        let (selector, state) = w.await.unwrap();
        let mut params = ListParams::default();
        if let Some(s) = selector {
            params = params.labels(s);
        }
        let expected: std::collections::BTreeMap<String, String> = pods
            .list(&params)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|p| {
                (
                    p.metadata.name.unwrap(),
                    p.metadata.resource_version.unwrap(),
                )
            })
            .collect();
        assert_eq!(state, expected, "watcher with selector {selector:?}");
    }
}
