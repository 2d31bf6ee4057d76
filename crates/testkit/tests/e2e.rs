//! End-to-end test of a real single-node k8rs cluster, driven by upstream kubectl.
//!
//! Walks through chapter 3 of the book (deploy, expose, scale, inspect, clean up) against
//! ONE `k8rs server` shared by every scenario, in order: later scenarios build on what
//! earlier ones created. Needs root, containerd, ctr and nft, the k8rs debug binary
//! (`K8RS_BIN`) and the static demo binary (`K8RS_DEMO_BIN`); `make e2e` prepares them.
//!
//! Output: `test <name> ... ok|FAILED` per scenario, then `N passed, N failed`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::Value;
use testkit::cluster::workspace_dir;
use testkit::host::{
    containerd_container_ids, find_on_path, ipv4_in_cidr, is_root, mentions_ip, nft_table,
};
use testkit::http::get_demo;
use testkit::operator;
use testkit::pods::{
    condition_is_true, items, name_of, ready_pods, wait_for_ready_pods, wait_for_replies_from,
};
use testkit::{Cluster, ClusterOptions, DEMO_IMAGE, Kubectl, wait_for};
use tokio_util::sync::CancellationToken;

/// Pods need an image import, a sandbox, CNI and a container start.
const POD_TIMEOUT: Duration = Duration::from_secs(180);
/// Controllers and the proxy reacting to a change.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(90);
/// Single HTTP requests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

const DEMO_STARTUP_LINE: &str = "k8rs demo 0.1.0 listening on :8080";

/// Everything the scenarios share.
struct Ctx {
    cluster: Cluster,
    kubectl: Kubectl,
    /// The local registry, `127.0.0.1:<port>`.
    registry: SocketAddr,
    /// Runs the registry and kube-rs calls.
    runtime: tokio::runtime::Runtime,
}

type Scenario = fn(&Ctx) -> Result<()>;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("cluster_basics", cluster_basics),
    ("deployment", deployment),
    ("service", service),
    ("scale", scale),
    ("logs_and_events", logs_and_events),
    ("image_from_registry", image_from_registry),
    ("cleanup", cleanup),
    ("operator", operator),
];

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        for (name, _) in SCENARIOS {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let mut ctx = match setup() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("e2e setup failed: {e:#}");
            println!("0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };

    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in SCENARIOS {
        // A panic in one scenario must not skip the others or leave the cluster running.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| scenario(&ctx)))
            .unwrap_or_else(|panic| Err(anyhow!("panicked: {}", panic_message(&panic))));
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n{e:#}\n");
            }
        }
    }
    if failed > 0 {
        eprintln!("{}", ctx.cluster.log_tail(200));
        ctx.cluster.keep_data_dir();
    }

    // A clean exit on SIGTERM is itself part of the contract.
    match ctx.cluster.stop() {
        Ok(()) => {
            passed += 1;
            println!("test cluster_shutdown ... ok");
        }
        Err(e) => {
            failed += 1;
            println!("test cluster_shutdown ... FAILED\n{e:#}\n");
        }
    }

    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Checks the host, builds the images, starts the registry and the cluster.
fn setup() -> Result<Ctx> {
    ensure!(
        is_root(),
        "the e2e test must run as root (it starts containerd and nftables)"
    );
    for tool in ["containerd", "ctr", "nft"] {
        ensure!(
            find_on_path(tool).is_some(),
            "`{tool}` is not installed (the Makefile's e2e target installs it)"
        );
    }

    let demo_bin = std::env::var_os("K8RS_DEMO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            workspace_dir().join("target/static/x86_64-unknown-linux-gnu/release/demo")
        });
    ensure!(
        demo_bin.is_file(),
        "static demo binary {} not found; build it with RUSTFLAGS=\"-C target-feature=+crt-static\" \
         cargo build -p demo --release --target x86_64-unknown-linux-gnu --target-dir target/static",
        demo_bin.display()
    );
    let demo = testkit::demo_image(&demo_bin)?;
    let pause = testkit::pause_image(&demo_bin)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("binding the registry")?;
    let registry = listener.local_addr()?;
    runtime.spawn(testkit::registry::serve(
        listener,
        vec![("k8rs/demo".into(), "0.1.0".into(), demo.clone())],
    ));

    let cluster = Cluster::start(ClusterOptions {
        images: vec![demo, pause],
        plain_http_registries: vec![registry.to_string()],
        ..ClusterOptions::default()
    })
    .context("starting the cluster")?;
    let kubectl = cluster.kubectl("1.33")?;
    Ok(Ctx {
        cluster,
        kubectl,
        registry,
        runtime,
    })
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// `get nodes`, namespaces, the kubernetes Service, discovery commands; an old kubectl.
fn cluster_basics(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let node_name = ctx.cluster.node_name();

    let node = k.json(&["get", "node", node_name])?;
    ensure!(
        condition_is_true(&node, "Ready"),
        "node is not Ready: {:#}",
        node["status"]
    );
    ensure_node_row_ready(&k.run(&["get", "nodes"])?.stdout, node_name)?;

    let want = ["default", "kube-system", "kube-public", "kube-node-lease"];
    wait_for("the system namespaces", CONVERGE_TIMEOUT, || {
        let list = k.json(&["get", "ns"])?;
        let names: BTreeSet<&str> = items(&list).iter().map(name_of).collect();
        let missing: Vec<&str> = want
            .iter()
            .copied()
            .filter(|n| !names.contains(n))
            .collect();
        if missing.is_empty() {
            Ok(Some(()))
        } else {
            Err(anyhow!("missing {missing:?}, have {names:?}"))
        }
    })?;

    let svc = wait_for("Service kubernetes", CONVERGE_TIMEOUT, || {
        k.json(&["get", "svc", "kubernetes"]).map(Some)
    })?;
    let ip = svc.pointer("/spec/clusterIP").and_then(Value::as_str);
    ensure!(
        ip == Some("10.43.0.1"),
        "kubernetes Service has clusterIP {ip:?}"
    );

    let version = k.run(&["version"])?.stdout;
    ensure!(
        version.contains("Server Version"),
        "no server version in:\n{version}"
    );
    let resources = k.run(&["api-resources"])?.stdout;
    for kind in ["pods", "deployments", "services", "replicasets"] {
        ensure!(
            resources.contains(kind),
            "api-resources lacks {kind}:\n{resources}"
        );
    }
    let info = k.run(&["cluster-info"])?.stdout;
    ensure!(
        info.contains("Kubernetes control plane is running at"),
        "unexpected cluster-info:\n{info}"
    );

    // kube-rs sees the same cluster through the same kubeconfig.
    let namespaces = ctx.runtime.block_on(async {
        let client = ctx.cluster.client().await?;
        let api: kube::Api<Namespace> = kube::Api::all(client);
        anyhow::Ok(api.list(&Default::default()).await?)
    })?;
    ensure!(
        namespaces
            .items
            .iter()
            .any(|ns| ns.metadata.name.as_deref() == Some("default")),
        "kube-rs did not list the default namespace"
    );

    // The dispatcher (/usr/bin/kubectl) picks a client matching the server's version.
    let dispatcher = ctx.cluster.kubectl("kubectl")?;
    ensure_node_row_ready(&dispatcher.run(&["get", "nodes"])?.stdout, node_name)
        .context("the kubectl dispatcher")?;

    let old = ctx.cluster.kubectl("1.27")?;
    ensure_node_row_ready(&old.run(&["get", "nodes"])?.stdout, node_name)
        .context("kubectl 1.27")?;
    Ok(())
}

/// `create deployment` -> a ReplicaSet owned by it -> 3 Running pods in the node's podCIDR.
fn deployment(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let out = k.run(&[
        "create",
        "deployment",
        "demo",
        &format!("--image={DEMO_IMAGE}"),
        "--replicas=3",
    ])?;
    ensure!(
        out.stdout.contains("deployment.apps/demo created"),
        "{}",
        out.stdout
    );

    let rs_name = wait_for(
        "the ReplicaSet of deployment demo",
        CONVERGE_TIMEOUT,
        || {
            let list = k.json(&["get", "rs", "-l", "app=demo"])?;
            let owned = items(&list)
                .iter()
                .find(|rs| is_controlled_by(rs, "Deployment", "demo"))
                .map(|rs| name_of(rs).to_string());
            anyhow::Ok(owned)
        },
    )?;
    ensure!(rs_name.starts_with("demo-"), "ReplicaSet named {rs_name}");

    let pods = wait_for_ready_pods(k, "app=demo", 3, POD_TIMEOUT)?;
    let node = k.json(&["get", "node", ctx.cluster.node_name()])?;
    let cidr = node
        .pointer("/spec/podCIDR")
        .and_then(Value::as_str)
        .unwrap_or("10.42.0.0/24");
    for pod in &pods {
        let name = name_of(pod);
        ensure!(
            name.starts_with(&format!("{rs_name}-")),
            "pod {name} is not named after {rs_name}"
        );
        ensure!(
            is_controlled_by(pod, "ReplicaSet", &rs_name),
            "pod {name} not owned by {rs_name}"
        );
        let ip = pod
            .pointer("/status/podIP")
            .and_then(Value::as_str)
            .unwrap_or("");
        ensure!(
            ipv4_in_cidr(ip, cidr),
            "pod {name} has IP {ip:?}, outside {cidr}"
        );
    }

    let wide = k.run(&["get", "pods", "-o", "wide"])?.stdout;
    let header = wide
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    ensure!(
        header == "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES",
        "unexpected -o wide header: {header}"
    );
    Ok(())
}

/// ClusterIP, NodePort and LoadBalancer Services in front of the deployment.
fn service(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let node_ip = ctx.cluster.node_ip();
    let out = k.run(&[
        "expose",
        "deployment",
        "demo",
        "--port=80",
        "--target-port=8080",
    ])?;
    ensure!(
        out.stdout.contains("service/demo exposed"),
        "{}",
        out.stdout
    );

    let cluster_ip = service_cluster_ip(k, "demo")?;
    let names = ready_pod_names(k, "app=demo")?;
    wait_for_replies_from(
        SocketAddr::new(cluster_ip.parse()?, 80),
        &names,
        CONVERGE_TIMEOUT,
    )
    .context("ClusterIP spreading over all pods")?;

    // From inside a pod: a client pod fetches the Service repeatedly and prints the replies.
    // (By name needs cluster DNS, which a later issue brings.)
    let script = format!("for i in $(seq 1 30); do curl -s -m 5 http://{cluster_ip}/; done");
    k.run(&[
        "run",
        "svc-client",
        "--image=docker.io/k8rs/demo:0.1.0",
        "--restart=Never",
        "--command",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ])?;
    let logs = wait_for("svc-client to finish", CONVERGE_TIMEOUT, || {
        let pod = k.json(&["get", "pod", "svc-client"])?;
        match pod.pointer("/status/phase").and_then(Value::as_str) {
            Some("Succeeded") => Ok(Some(k.run(&["logs", "svc-client"])?.stdout)),
            Some("Failed") => Err(anyhow!("svc-client failed: {:#}", pod["status"])),
            _ => Ok(None),
        }
    })?;
    let reached: BTreeSet<&String> = names.iter().filter(|n| logs.contains(n.as_str())).collect();
    ensure!(
        reached.len() == names.len(),
        "from inside a pod the Service reached {reached:?} of {names:?}:\n{logs}"
    );
    k.run(&["delete", "pod", "svc-client"])?;

    let out = k.run(&[
        "expose",
        "deployment",
        "demo",
        "--name",
        "demo-np",
        "--type=NodePort",
        "--port=80",
        "--target-port=8080",
    ])?;
    ensure!(
        out.stdout.contains("service/demo-np exposed"),
        "{}",
        out.stdout
    );
    let np = k.json(&["get", "svc", "demo-np"])?;
    let node_port = np
        .pointer("/spec/ports/0/nodePort")
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow!("demo-np has no nodePort: {:#}", np["spec"]))?;
    ensure!(
        (30000..=32767).contains(&node_port),
        "nodePort {node_port} out of range"
    );
    let np_addr = SocketAddr::new(node_ip.parse()?, u16::try_from(node_port)?);
    wait_for(
        &format!("an answer on NodePort {np_addr}"),
        CONVERGE_TIMEOUT,
        || get_demo(np_addr, REQUEST_TIMEOUT).map(Some),
    )?;

    let out = k.run(&[
        "expose",
        "deployment",
        "demo",
        "--name",
        "demo-lb",
        "--type=LoadBalancer",
        "--port=80",
        "--target-port=8080",
    ])?;
    ensure!(
        out.stdout.contains("service/demo-lb exposed"),
        "{}",
        out.stdout
    );
    wait_for(
        "demo-lb's load-balancer ingress IP",
        CONVERGE_TIMEOUT,
        || {
            let svc = k.json(&["get", "svc", "demo-lb"])?;
            let ip = svc
                .pointer("/status/loadBalancer/ingress/0/ip")
                .and_then(Value::as_str);
            match ip {
                Some(ip) if ip == node_ip => Ok(Some(())),
                Some(other) => Err(anyhow!("ingress IP is {other}, want {node_ip}")),
                None => Ok(None),
            }
        },
    )?;
    let lb_addr = SocketAddr::new(node_ip.parse()?, 80);
    wait_for(
        &format!("an answer from the load balancer at {lb_addr}"),
        CONVERGE_TIMEOUT,
        || get_demo(lb_addr, REQUEST_TIMEOUT).map(Some),
    )?;
    Ok(())
}

/// Scale to 5; the Service reaches all 5; a deleted pod is replaced.
fn scale(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let out = k.run(&["scale", "deployment", "demo", "--replicas=5"])?;
    ensure!(
        out.stdout.contains("deployment.apps/demo scaled"),
        "{}",
        out.stdout
    );
    wait_for_ready_pods(k, "app=demo", 5, POD_TIMEOUT)?;

    let cluster_ip = service_cluster_ip(k, "demo")?;
    let names = ready_pod_names(k, "app=demo")?;
    wait_for_replies_from(
        SocketAddr::new(cluster_ip.parse()?, 80),
        &names,
        CONVERGE_TIMEOUT,
    )
    .context("ClusterIP spreading over 5 pods")?;

    let victim = names.first().ok_or_else(|| anyhow!("no pods"))?.clone();
    let out = k.run(&["delete", "pod", &victim])?;
    ensure!(
        out.stdout.contains(&format!("pod \"{victim}\" deleted")),
        "{}",
        out.stdout
    );
    let pods = wait_for_ready_pods(k, "app=demo", 5, POD_TIMEOUT)?;
    ensure!(
        pods.iter().all(|p| name_of(p) != victim),
        "deleted pod {victim} is still listed"
    );
    Ok(())
}

/// `logs`, `get events`, `describe pod`.
fn logs_and_events(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let pod = ready_pod_names(k, "app=demo")?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no running demo pod"))?;

    wait_for(
        &format!("the start-up line in the logs of {pod}"),
        CONVERGE_TIMEOUT,
        || {
            let logs = k.run(&["logs", &pod])?.stdout;
            if logs.contains(DEMO_STARTUP_LINE) {
                Ok(Some(()))
            } else {
                Err(anyhow!("logs so far: {logs:?}"))
            }
        },
    )?;

    wait_for(
        "Scheduled, Pulled, Created and Started events",
        CONVERGE_TIMEOUT,
        || {
            let events = k.run(&["get", "events"])?.stdout;
            let missing: Vec<&str> = ["Scheduled", "Pulled", "Created", "Started"]
                .into_iter()
                .filter(|reason| !events.contains(reason))
                .collect();
            if missing.is_empty() {
                Ok(Some(()))
            } else {
                Err(anyhow!("missing {missing:?} in:\n{events}"))
            }
        },
    )?;

    let describe = k.run(&["describe", "pod", &pod])?.stdout;
    ensure!(
        describe.contains("Events:"),
        "describe has no Events section:\n{describe}"
    );
    Ok(())
}

/// A pod whose image is pulled from the local plain-HTTP registry.
fn image_from_registry(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let image = format!("{}/k8rs/demo:0.1.0", ctx.registry);
    let out = k.run(&["run", "regpod", &format!("--image={image}")])?;
    ensure!(out.stdout.contains("pod/regpod created"), "{}", out.stdout);
    wait_for_ready_pods(k, "run=regpod", 1, POD_TIMEOUT)?;
    Ok(())
}

/// Deleting the deployment removes its ReplicaSet, pods and containers; deleting the
/// Services removes their nftables rules.
fn cleanup(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let socket = ctx.cluster.containerd_socket();

    let demo_pods = k.json(&["get", "pods", "-l", "app=demo"])?;
    let demo_containers: Vec<String> = items(&demo_pods).iter().flat_map(container_ids).collect();
    ensure!(
        !demo_containers.is_empty(),
        "demo pods report no container IDs"
    );
    let listed = containerd_container_ids(&socket)?;
    for id in &demo_containers {
        ensure!(
            listed.contains(id),
            "containerd does not list container {id} of a demo pod"
        );
    }

    let out = k.run(&["delete", "deployment", "demo"])?;
    ensure!(
        out.stdout.contains("deployment.apps \"demo\" deleted"),
        "{}",
        out.stdout
    );
    wait_for(
        "the demo ReplicaSet and pods to be gone",
        CONVERGE_TIMEOUT,
        || {
            let rs = k.json(&["get", "rs", "-l", "app=demo"])?;
            let pods = k.json(&["get", "pods", "-l", "app=demo"])?;
            let left: Vec<&str> = items(&rs).iter().chain(items(&pods)).map(name_of).collect();
            if left.is_empty() {
                Ok(Some(()))
            } else {
                Err(anyhow!("still there: {left:?}"))
            }
        },
    )?;
    wait_for_containers_of_remaining_pods(ctx, &demo_containers)?;

    let ips: Vec<String> = ["demo", "demo-np", "demo-lb"]
        .into_iter()
        .map(|svc| service_cluster_ip(k, svc))
        .collect::<Result<_>>()?;
    wait_for("nftables rules for the Services", CONVERGE_TIMEOUT, || {
        let table = nft_table("ip", "k8rs")?;
        let missing: Vec<&String> = ips.iter().filter(|ip| !mentions_ip(&table, ip)).collect();
        if missing.is_empty() {
            Ok(Some(()))
        } else {
            Err(anyhow!("no rules for {missing:?}"))
        }
    })?;
    let out = k.run(&["delete", "svc", "demo", "demo-np", "demo-lb"])?;
    ensure!(
        out.stdout.contains("service \"demo-lb\" deleted"),
        "{}",
        out.stdout
    );
    wait_for(
        "nftables rules of deleted Services to go",
        CONVERGE_TIMEOUT,
        || {
            let table = nft_table("ip", "k8rs")?;
            let left: Vec<&String> = ips.iter().filter(|ip| mentions_ip(&table, ip)).collect();
            if left.is_empty() {
                Ok(Some(()))
            } else {
                Err(anyhow!("still routed: {left:?}"))
            }
        },
    )?;

    let reg_pod = k.json(&["get", "pod", "regpod"])?;
    let reg_containers = container_ids(&reg_pod);
    k.run(&["delete", "pod", "regpod"])?;
    wait_for_containers_of_remaining_pods(ctx, &reg_containers)?;
    Ok(())
}

/// The name of the Website the operator scenario creates (and of its Deployment/Service).
const WEBSITE: &str = "site";

/// Chapter 16's Website operator (`testkit::operator`, kube-rs' CustomResource derive and
/// Controller) against the cluster: install its CRD, run it, and drive a Website through
/// creation, scaling, a message change and deletion with kubectl.
fn operator(ctx: &Ctx) -> Result<()> {
    let client = ctx.runtime.block_on(ctx.cluster.client())?;
    let crd_name = operator::crd()
        .metadata
        .name
        .ok_or_else(|| anyhow!("the derived CRD has no name"))?;
    ctx.runtime.block_on(async {
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &operator::crd())
            .await?;
        tokio::time::timeout(
            CONVERGE_TIMEOUT,
            await_condition(crds, &crd_name, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| anyhow!("CRD {crd_name} not Established within {CONVERGE_TIMEOUT:?}"))??;
        anyhow::Ok(())
    })?;

    let shutdown = CancellationToken::new();
    // Stops the operator even if the lifecycle panics.
    let _stop_on_unwind = shutdown.clone().drop_guard();
    let task = ctx
        .runtime
        .spawn(operator::run(client.clone(), shutdown.clone()));
    let lifecycle = website_lifecycle(ctx);
    // Stop the operator before its CRD goes away.
    shutdown.cancel();
    let stopped = ctx
        .runtime
        .block_on(async { tokio::time::timeout(CONVERGE_TIMEOUT, task).await });
    lifecycle?;
    match stopped {
        Err(_) => {
            return Err(anyhow!(
                "the operator did not stop within {CONVERGE_TIMEOUT:?}"
            ));
        }
        Ok(Err(join)) => return Err(anyhow!("the operator task failed: {join}")),
        Ok(Ok(Err(e))) => return Err(anyhow!("the operator failed: {e}")),
        Ok(Ok(Ok(()))) => {}
    }

    let k = &ctx.kubectl;
    let out = k.run(&["delete", "crd", &crd_name])?;
    ensure!(
        out.stdout.contains(&format!(
            "customresourcedefinition.apiextensions.k8s.io \"{crd_name}\" deleted"
        )),
        "{}",
        out.stdout
    );
    wait_for(
        &format!("CRD {crd_name} to be gone"),
        CONVERGE_TIMEOUT,
        || {
            let crds = k.json(&["get", "crds"])?;
            let left = items(&crds).iter().any(|c| name_of(c) == crd_name);
            anyhow::Ok((!left).then_some(()))
        },
    )?;
    Ok(())
}

/// What the operator scenario does while the operator runs.
fn website_lifecycle(ctx: &Ctx) -> Result<()> {
    let k = &ctx.kubectl;
    let selector = operator::selector(WEBSITE);

    let manifest = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .context("creating the Website manifest")?;
    let website = serde_json::json!({
        "apiVersion": "demo.k8rs.io/v1",
        "kind": "Website",
        "metadata": {"name": WEBSITE},
        "spec": {"replicas": 2, "message": "Hello from the Website operator"}
    });
    std::fs::write(manifest.path(), serde_json::to_vec_pretty(&website)?)?;
    let path = manifest.path().to_string_lossy().into_owned();
    let out = k.run(&["apply", "-f", &path])?;
    ensure!(
        out.stdout
            .contains(&format!("website.demo.k8rs.io/{WEBSITE} created")),
        "{}",
        out.stdout
    );

    wait_for(
        "the Deployment and Service controlled by the Website",
        CONVERGE_TIMEOUT,
        || {
            let deploy = k.json(&["get", "deployments", "-l", &selector])?;
            let svc = k.json(&["get", "services", "-l", &selector])?;
            let owned = |list: &Value| {
                items(list)
                    .iter()
                    .any(|o| name_of(o) == WEBSITE && is_controlled_by(o, "Website", WEBSITE))
            };
            anyhow::Ok((owned(&deploy) && owned(&svc)).then_some(()))
        },
    )?;
    let pods = wait_for_ready_pods(k, &selector, 2, POD_TIMEOUT)?;
    for pod in &pods {
        ensure_pod_message(pod, "Hello from the Website operator")?;
    }
    wait_for_website_ready(k, 2)?;

    let cluster_ip = service_cluster_ip(k, WEBSITE)?;
    let names: BTreeSet<String> = pods.iter().map(|p| name_of(p).to_string()).collect();
    wait_for_replies_from(
        SocketAddr::new(cluster_ip.parse()?, 80),
        &names,
        CONVERGE_TIMEOUT,
    )
    .context("the Website's Service reaching its pods")?;

    // The scale subresource: kubectl scales the Website, the operator the Deployment.
    let out = k.run(&["scale", &format!("ws/{WEBSITE}"), "--replicas=3"])?;
    ensure!(
        out.stdout
            .contains(&format!("website.demo.k8rs.io/{WEBSITE} scaled")),
        "{}",
        out.stdout
    );
    wait_for(
        "the Deployment to follow the scale",
        CONVERGE_TIMEOUT,
        || {
            let d = k.json(&["get", "deployment", WEBSITE])?;
            anyhow::Ok(
                (d.pointer("/spec/replicas").and_then(Value::as_i64) == Some(3)).then_some(()),
            )
        },
    )?;
    let pods = wait_for_ready_pods(k, &selector, 3, POD_TIMEOUT)?;
    wait_for_website_ready(k, 3)?;

    // A new message changes the pod template: the Deployment rolls every pod.
    let message = "Hello again, after a rollout";
    let old: BTreeSet<String> = pods.iter().map(|p| name_of(p).to_string()).collect();
    let patch = serde_json::json!({"spec": {"message": message}}).to_string();
    let out = k.run(&["patch", "ws", WEBSITE, "--type=merge", "-p", &patch])?;
    ensure!(
        out.stdout
            .contains(&format!("website.demo.k8rs.io/{WEBSITE} patched")),
        "{}",
        out.stdout
    );
    let rolled = wait_for("the pods to roll to the new message", POD_TIMEOUT, || {
        let pods = wait_for_ready_pods(k, &selector, 3, Duration::ZERO)?;
        let fresh = pods
            .iter()
            .all(|p| !old.contains(name_of(p)) && ensure_pod_message(p, message).is_ok());
        anyhow::Ok(fresh.then_some(pods))
    })?;
    wait_for_website_ready(k, 3)?;
    let names: BTreeSet<String> = rolled.iter().map(|p| name_of(p).to_string()).collect();
    wait_for_replies_from(
        SocketAddr::new(cluster_ip.parse()?, 80),
        &names,
        CONVERGE_TIMEOUT,
    )
    .context("the Service reaching the rolled pods")?;

    // Deleting the Website garbage-collects what it controls.
    let out = k.run(&["delete", "ws", WEBSITE])?;
    ensure!(
        out.stdout
            .contains(&format!("website.demo.k8rs.io \"{WEBSITE}\" deleted")),
        "{}",
        out.stdout
    );
    wait_for(
        "the Website's Deployment, Service and pods to be garbage collected",
        POD_TIMEOUT,
        || {
            let left: Vec<String> = ["deployments", "services", "replicasets", "pods"]
                .into_iter()
                .map(|kind| {
                    let list = k.json(&["get", kind, "-l", &selector])?;
                    anyhow::Ok(
                        items(&list)
                            .iter()
                            .map(|o| format!("{kind}/{}", name_of(o)))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            if left.is_empty() {
                Ok(Some(()))
            } else {
                Err(anyhow!("still there: {left:?}"))
            }
        },
    )?;
    Ok(())
}

/// The Website reports `replicas` ready replicas in its status and in the READY column of
/// `kubectl get ws` (the CRD's printer columns).
fn wait_for_website_ready(k: &Kubectl, replicas: i64) -> Result<()> {
    wait_for(
        &format!("Website {WEBSITE} to report {replicas} ready replicas"),
        CONVERGE_TIMEOUT,
        || {
            let ws = k.json(&["get", "ws", WEBSITE])?;
            let ready = ws.pointer("/status/readyReplicas").and_then(Value::as_i64);
            if ready != Some(replicas) || !condition_is_true(&ws, operator::READY_CONDITION) {
                return Err(anyhow!("status: {:#}", ws["status"]));
            }
            let table = k.run(&["get", "ws"])?.stdout;
            let mut lines = table
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>());
            let header = lines.next().unwrap_or_default();
            ensure!(
                header == ["NAME", "REPLICAS", "READY", "AGE"],
                "kubectl get ws header {header:?}:\n{table}"
            );
            let want = replicas.to_string();
            let row_ok = lines.any(|row| {
                row.first() == Some(&WEBSITE)
                    && row.get(1) == Some(&want.as_str())
                    && row.get(2) == Some(&want.as_str())
            });
            if row_ok {
                Ok(Some(()))
            } else {
                Err(anyhow!("no row `{WEBSITE} {want} {want}` in:\n{table}"))
            }
        },
    )?;
    Ok(())
}

/// The pod's container carries `message` in the operator's environment variable.
fn ensure_pod_message(pod: &Value, message: &str) -> Result<()> {
    let env = pod
        .pointer("/spec/containers/0/env")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let value = env
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(operator::MESSAGE_ENV))
        .and_then(|e| e.get("value").and_then(Value::as_str));
    ensure!(
        value == Some(message),
        "pod {} has {}={value:?}, want {message:?}",
        name_of(pod),
        operator::MESSAGE_ENV
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Helpers specific to these scenarios
// ---------------------------------------------------------------------------------------

/// The node's row of `kubectl get nodes` says `Ready` in the STATUS column.
fn ensure_node_row_ready(table: &str, node: &str) -> Result<()> {
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(node))
        .ok_or_else(|| anyhow!("no row for {node} in:\n{table}"))?;
    let status = row.split_whitespace().nth(1);
    ensure!(
        status == Some("Ready"),
        "node status {status:?} in:\n{table}"
    );
    Ok(())
}

/// Whether `obj` has a controller owner reference to `kind`/`name`.
fn is_controlled_by(obj: &Value, kind: &str, name: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r.get("kind").and_then(Value::as_str) == Some(kind)
                    && r.get("name").and_then(Value::as_str) == Some(name)
                    && r.get("controller").and_then(Value::as_bool) == Some(true)
            })
        })
}

fn ready_pod_names(k: &Kubectl, selector: &str) -> Result<BTreeSet<String>> {
    Ok(ready_pods(k, selector)?
        .iter()
        .map(|p| name_of(p).to_string())
        .collect())
}

/// The Service's cluster IP, once allocated.
fn service_cluster_ip(k: &Kubectl, name: &str) -> Result<String> {
    Ok(wait_for(
        &format!("a cluster IP for Service {name}"),
        CONVERGE_TIMEOUT,
        || {
            let svc = k.json(&["get", "svc", name])?;
            let ip = svc.pointer("/spec/clusterIP").and_then(Value::as_str);
            anyhow::Ok(
                ip.filter(|ip| !ip.is_empty() && *ip != "None")
                    .map(String::from),
            )
        },
    )?)
}

/// containerd IDs (`containerd://<id>` without the scheme) of a pod's containers.
fn container_ids(pod: &Value) -> Vec<String> {
    ["/status/containerStatuses", "/status/initContainerStatuses"]
        .into_iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .filter_map(|s| s.get("containerID").and_then(Value::as_str))
        .map(|id| id.strip_prefix("containerd://").unwrap_or(id).to_string())
        .collect()
}

/// Upper bound of containerd containers the pods still in the cluster account for: a
/// sandbox each, their containers, and one kept dead instance per restarted container.
fn expected_containers(k: &Kubectl) -> Result<usize> {
    let pods = k.json(&["get", "pods", "--all-namespaces"])?;
    Ok(items(&pods)
        .iter()
        .map(|pod| {
            let statuses: Vec<&Value> =
                ["/status/containerStatuses", "/status/initContainerStatuses"]
                    .into_iter()
                    .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
                    .flatten()
                    .collect();
            let restarted = statuses
                .iter()
                .filter(|s| s.get("restartCount").and_then(Value::as_u64).unwrap_or(0) > 0)
                .count();
            1 + statuses.len() + restarted
        })
        .sum())
}

/// Waits until none of `gone` is in containerd and the container count is down to what
/// the remaining pods account for.
fn wait_for_containers_of_remaining_pods(ctx: &Ctx, gone: &[String]) -> Result<()> {
    let socket = ctx.cluster.containerd_socket();
    wait_for(
        "containerd to drop the deleted pods' containers",
        CONVERGE_TIMEOUT,
        || {
            let listed = containerd_container_ids(&socket)?;
            let expected = expected_containers(&ctx.kubectl)?;
            let lingering: Vec<&String> = gone.iter().filter(|id| listed.contains(id)).collect();
            if lingering.is_empty() && listed.len() <= expected {
                Ok(Some(()))
            } else {
                Err(anyhow!(
                    "{} containers listed (expected at most {expected}); lingering: {lingering:?}",
                    listed.len()
                ))
            }
        },
    )?;
    Ok(())
}
