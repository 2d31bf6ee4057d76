//! Applies a rendered ruleset to a real kernel inside network namespaces this test
//! creates, and checks Service traffic end to end:
//!
//! ```text
//!   node netns (rules under test)            pod netns
//!   lo: 127.0.0.2 (node IP)
//!   veth-node 10.42.0.1/24  <------------->  veth-pod 10.42.0.5/24, listener :8080
//!   uplink (default route)
//! ```
//!
//! The "pod" answers every connection with the peer address it sees, which shows both
//! the DNAT and the masquerading. Needs root and nft; skipped otherwise.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    LoadBalancerIngress, LoadBalancerStatus, Service, ServicePort, ServiceSpec, ServiceStatus,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use proxy::model::{self, SERVICE_NAME_LABEL};
use proxy::nft;
use proxy::render::{RenderConfig, render};

const POD_IP: &str = "10.42.0.5";
const GATEWAY_IP: &str = "10.42.0.1";

/// Deletes the namespaces when the test ends, whether it passed or not.
struct Namespaces {
    node: String,
    pod: String,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in [&self.node, &self.pod] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn run(args: &[&str]) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    assert!(status.success(), "{args:?} failed: {status}");
}

fn output(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `f` on a thread that has entered network namespace `ns`.
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        // SAFETY: setns only changes this thread's network namespace; fd is valid.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap_or_else(|_| panic!("thread in netns panicked"))
}

/// Connects from `ns` to `addr` and returns what the server sent back.
fn request(ns: &str, addr: &str) -> std::io::Result<String> {
    let addr: SocketAddr = addr.parse().expect("address");
    in_netns(ns, move || {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        Ok(reply)
    })
}

/// A "pod": answers each connection with the peer address it sees, until `stop`.
fn start_pod_server(ns: &str, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let path = format!("/run/netns/{ns}");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        // SAFETY: as in `in_netns`.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let listener = TcpListener::bind((POD_IP, 8080)).expect("bind pod listener");
        listener.set_nonblocking(true).expect("nonblocking");
        let _ = ready_tx.send(());
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut conn, peer)) => {
                    let _ = conn.set_nonblocking(false);
                    let _ = conn.write_all(peer.ip().to_string().as_bytes());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("pod server did not start");
    handle
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        namespace: Some("default".into()),
        name: Some(name.into()),
        ..Default::default()
    }
}

fn svc(
    name: &str,
    type_: &str,
    ip: &str,
    proto: &str,
    port: i32,
    node_port: Option<i32>,
) -> Service {
    Service {
        metadata: meta(name),
        spec: Some(ServiceSpec {
            type_: Some(type_.into()),
            cluster_ip: Some(ip.into()),
            ports: Some(vec![ServicePort {
                name: Some("p".into()),
                protocol: Some(proto.into()),
                port,
                node_port,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

fn slice(service: &str, proto: &str, port: i32) -> EndpointSlice {
    EndpointSlice {
        address_type: "IPv4".into(),
        metadata: ObjectMeta {
            labels: Some([(SERVICE_NAME_LABEL.to_string(), service.to_string())].into()),
            ..meta(&format!("{service}-abcde"))
        },
        ports: Some(vec![EndpointPort {
            name: Some("p".into()),
            protocol: Some(proto.into()),
            port: Some(port),
            ..Default::default()
        }]),
        endpoints: vec![Endpoint {
            addresses: vec![POD_IP.into()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                serving: Some(true),
                terminating: Some(false),
            }),
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn ruleset_is_accepted_and_routes_traffic() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipping: needs root");
        return;
    }
    if !nft::available() || Command::new("ip").arg("-V").output().is_err() {
        println!("skipping: nft or ip not installed");
        return;
    }
    let pid = std::process::id();
    let ns = Namespaces {
        node: format!("k8rs-proxy-test-{pid}"),
        pod: format!("k8rs-proxy-test-{pid}-pod"),
    };
    let (node, pod) = (ns.node.as_str(), ns.pod.as_str());
    run(&["ip", "netns", "add", node]);
    run(&["ip", "netns", "add", pod]);
    run(&["ip", "-n", node, "link", "set", "lo", "up"]);
    run(&["ip", "-n", pod, "link", "set", "lo", "up"]);
    run(&[
        "ip",
        "-n",
        node,
        "link",
        "add",
        "veth-node",
        "type",
        "veth",
        "peer",
        "name",
        "veth-pod",
        "netns",
        pod,
    ]);
    run(&[
        "ip",
        "-n",
        node,
        "addr",
        "add",
        "10.42.0.1/24",
        "dev",
        "veth-node",
    ]);
    run(&["ip", "-n", node, "link", "set", "veth-node", "up"]);
    run(&[
        "ip",
        "-n",
        pod,
        "addr",
        "add",
        "10.42.0.5/24",
        "dev",
        "veth-pod",
    ]);
    run(&["ip", "-n", pod, "link", "set", "veth-pod", "up"]);
    run(&[
        "ip", "-n", pod, "route", "add", "default", "via", GATEWAY_IP,
    ]);
    // A real node reaches service and LB IPs through its default route, which is not
    // the pod interface (routing them back out of veth-node would make the kernel send
    // ICMP redirects, which use up the ICMP rate limit the reject test relies on).
    // (No dummy driver everywhere: a veth pair with both ends in the node namespace.)
    run(&[
        "ip",
        "-n",
        node,
        "link",
        "add",
        "uplink",
        "type",
        "veth",
        "peer",
        "name",
        "uplink-peer",
    ]);
    run(&["ip", "-n", node, "link", "set", "uplink", "up"]);
    run(&["ip", "-n", node, "link", "set", "uplink-peer", "up"]);
    run(&["ip", "-n", node, "route", "add", "default", "dev", "uplink"]);
    // What sysctl::ensure sets on a real node, here inside the test namespace.
    run(&[
        "ip",
        "netns",
        "exec",
        node,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.ip_forward=1",
    ]);
    run(&[
        "ip",
        "netns",
        "exec",
        node,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.all.route_localnet=1",
    ]);

    let mut lb = svc("lb", "LoadBalancer", "10.43.0.97", "TCP", 80, Some(30097));
    lb.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress {
                ip: Some("198.51.100.10".into()),
                ..Default::default()
            }]),
        }),
        ..Default::default()
    });
    let mut dns = svc("dns", "ClusterIP", "10.43.0.10", "UDP", 53, None);
    if let Some(spec) = dns.spec.as_mut() {
        spec.session_affinity = Some("ClientIP".into());
    }
    let services = [
        svc("web", "NodePort", "10.43.0.99", "TCP", 80, Some(30080)),
        svc("empty", "NodePort", "10.43.0.98", "TCP", 80, Some(30098)),
        svc("stream", "ClusterIP", "10.43.0.96", "SCTP", 9, None),
        dns,
        lb,
    ];
    let slices = [
        slice("web", "TCP", 8080),
        slice("lb", "TCP", 8080),
        slice("dns", "UDP", 5353),
        slice("stream", "SCTP", 9),
    ];
    let snapshot = model::build(&services, &slices);
    let config = RenderConfig {
        table: "k8rs".into(),
        cluster_cidr: "10.42.0.0/16".parse().expect("cidr"),
        node_ips: vec!["127.0.0.2".parse().expect("ip")],
    };
    let ruleset = render(&snapshot, &config);

    // Applying twice proves the add/delete/create sequence replaces an existing table.
    for _ in 0..2 {
        if let Err(e) = nft::apply(&ruleset, Some(node)).await {
            panic!("kernel rejected the ruleset: {e}\n{ruleset}");
        }
    }
    let listed = output(&[
        "ip", "netns", "exec", node, "nft", "list", "table", "ip", "k8rs",
    ]);
    assert!(
        listed.contains("chain service-default/web/tcp/p"),
        "{listed}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let server = start_pod_server(pod, stop.clone());

    // Host -> ClusterIP: DNATed to the pod.
    let seen = request(node, "10.43.0.99:80").expect("host to cluster IP");
    assert_eq!(seen, GATEWAY_IP);
    // Host -> NodePort on the loopback node IP: DNATed and masqueraded (route_localnet).
    let seen = request(node, "127.0.0.2:30080").expect("host to loopback node port");
    assert_eq!(seen, GATEWAY_IP);
    // Host -> LoadBalancer ingress IP.
    let seen = request(node, "198.51.100.10:80").expect("host to LB IP");
    assert_eq!(seen, GATEWAY_IP);
    // Hairpin: the pod reaches itself through its service and sees the node as peer.
    let seen = request(pod, "10.43.0.99:80").expect("hairpin");
    assert_eq!(seen, GATEWAY_IP);
    // No endpoints: rejected, so the client fails fast with "connection refused".
    for addr in ["10.43.0.98:80", "127.0.0.2:30098", "10.43.0.99:81"] {
        let err = request(node, addr).expect_err("no endpoints must be rejected");
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{addr}: {err}"
        );
    }
    let err = request(pod, "10.43.0.98:80").expect_err("pod to service without endpoints");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");

    stop.store(true, Ordering::Relaxed);
    let _ = server.join();

    // Cleanup leaves no table behind.
    nft::delete_table("k8rs", Some(node))
        .await
        .expect("delete table");
    nft::delete_table("k8rs", Some(node))
        .await
        .expect("delete is idempotent");
    let tables = output(&["ip", "netns", "exec", node, "nft", "list", "tables"]);
    assert!(!tables.contains("k8rs"), "{tables}");
}
