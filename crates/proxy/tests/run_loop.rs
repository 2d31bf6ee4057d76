//! Drives `run_in_netns` end to end against a fake API server (a tower service behind a
//! real `kube::Client`) and a real kernel in a network namespace the test creates:
//! initial list -> rules, a watch event -> updated rules, shutdown -> table removed.
//! Needs root and nft; skipped otherwise.

use std::convert::Infallible;
use std::net::IpAddr;
use std::pin::Pin;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt, stream};
use http_body::Frame;
use http_body_util::StreamBody;
use proxy::{ProxyConfig, nft, run_in_netns};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

type BodyStream = Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>;

struct NamespaceGuard(String);

impl Drop for NamespaceGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn nft_list(ns: &str, what: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "list"])
        .args(what)
        .output()
        .expect("run nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `check` every 50 ms for up to 15 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "default", "name": "web", "resourceVersion": "1"},
        "spec": {
            "type": "NodePort", "clusterIP": "10.43.0.99",
            "ports": [{"name": "p", "protocol": "TCP", "port": 80, "nodePort": 30080}]
        }
    })
}

fn endpoint_slice() -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "namespace": "default", "name": "web-abcde", "resourceVersion": "2",
            "labels": {"kubernetes.io/service-name": "web"}
        },
        "addressType": "IPv4",
        "ports": [{"name": "p", "protocol": "TCP", "port": 8080}],
        "endpoints": [{"addresses": ["10.42.0.5"], "conditions": {"ready": true}}]
    })
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Bytes {
    Bytes::from(
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items})
            .to_string(),
    )
}

/// A fake API server: lists return fixed contents; the EndpointSlice watch streams
/// whatever the test sends; other watches stay open and silent.
fn fake_api(
    slice_events: mpsc::UnboundedReceiver<Bytes>,
) -> impl tower::Service<
    http::Request<kube::client::Body>,
    Response = http::Response<StreamBody<BodyStream>>,
    Error = Infallible,
    Future = impl Send,
> + Send
+ Clone {
    let slice_events = Arc::new(Mutex::new(Some(slice_events)));
    tower::service_fn(move |req: http::Request<kube::client::Body>| {
        let slice_events = slice_events.clone();
        async move {
            let path = req.uri().path().to_string();
            let watch = req.uri().query().unwrap_or("").contains("watch=true");
            let body: BodyStream = match (path.as_str(), watch) {
                ("/api/v1/services", false) => Box::pin(stream::once(async {
                    Ok(Frame::data(list("ServiceList", "v1", vec![service()])))
                })),
                ("/apis/discovery.k8s.io/v1/endpointslices", false) => {
                    Box::pin(stream::once(async {
                        Ok(Frame::data(list(
                            "EndpointSliceList",
                            "discovery.k8s.io/v1",
                            vec![],
                        )))
                    }))
                }
                ("/apis/discovery.k8s.io/v1/endpointslices", true) => {
                    let rx = slice_events.lock().ok().and_then(|mut g| g.take());
                    match rx {
                        Some(mut rx) => Box::pin(
                            stream::poll_fn(move |cx| rx.poll_recv(cx))
                                .map(|b| Ok(Frame::data(b)))
                                .chain(stream::pending()),
                        ),
                        None => Box::pin(stream::pending()),
                    }
                }
                (_, true) => Box::pin(stream::pending()),
                _ => {
                    return Ok(http::Response::builder()
                        .status(404)
                        .body(StreamBody::new(Box::pin(stream::empty()) as BodyStream))
                        .expect("response"));
                }
            };
            Ok(http::Response::builder()
                .header("content-type", "application/json")
                .body(StreamBody::new(body))
                .expect("response"))
        }
    })
}

#[tokio::test]
async fn run_programs_updates_and_removes_the_table() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipping: needs root");
        return;
    }
    if !nft::available() {
        println!("skipping: nft not installed");
        return;
    }
    let ns = format!("k8rs-proxy-test-{}-run", std::process::id());
    let status = Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .expect("ip netns add");
    assert!(status.success());
    let _guard = NamespaceGuard(ns.clone());

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let client = kube::Client::new(fake_api(events_rx), "default");
    let config = ProxyConfig {
        node_name: "node-1".into(),
        node_ips: vec!["127.0.0.2".parse::<IpAddr>().expect("ip")],
        cluster_cidr: "10.42.0.0/16".parse().expect("cidr"),
        table: "k8rs".into(),
    };
    let shutdown = CancellationToken::new();
    let proxy = tokio::spawn(run_in_netns(
        client,
        config,
        Some(ns.clone()),
        shutdown.clone(),
    ));

    // Initial state: the service has no endpoints, so it is rejected.
    eventually("no-endpoint entry", || {
        nft_list(&ns, &["map", "ip", "k8rs", "no-endpoint-services"])
            .contains("10.43.0.99 . tcp . 80 : goto reject-chain")
    })
    .await;
    let sysctl = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            "sysctl",
            "-n",
            "net.ipv4.conf.all.route_localnet",
        ])
        .output()
        .expect("sysctl");
    assert_eq!(String::from_utf8_lossy(&sysctl.stdout).trim(), "1");

    // An endpoint appears: the service is DNATed to it.
    let event = json!({"type": "ADDED", "object": endpoint_slice()}).to_string() + "\n";
    events_tx.send(Bytes::from(event)).expect("send event");
    eventually("service entry", || {
        nft_list(&ns, &["map", "ip", "k8rs", "service-ips"])
            .contains("10.43.0.99 . tcp . 80 : goto service-default/web/tcp/p")
    })
    .await;
    let table = nft_list(&ns, &["table", "ip", "k8rs"]);
    assert!(table.contains("dnat to 10.42.0.5:8080"), "{table}");
    assert!(!nft_list(&ns, &["map", "ip", "k8rs", "no-endpoint-services"]).contains("10.43.0.99"));

    // Shutdown removes the table.
    shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(15), proxy)
        .await
        .expect("proxy stops after shutdown")
        .expect("proxy task");
    assert!(result.is_ok(), "{result:?}");
    assert!(!nft_list(&ns, &["tables"]).contains("k8rs"));
}
