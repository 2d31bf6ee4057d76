//! `k8rs server`: wires the store, API server, controllers, scheduler, node agent and
//! service proxy together in one process, and stops them cleanly.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use apiserver::pki::{CertSpec, CertificateAuthority};
use apiserver::{ApiServer, ApiServerConfig, KubeletClientConfig, TlsFiles, UserInfo};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cli::ServerArgs;
use crate::{kubeconfig, netutil};

/// The image every pod sandbox runs (built offline by `k8rs-images`).
pub const SANDBOX_IMAGE: &str = "docker.io/k8rs/pause:0.1.0";

/// Data-dir layout.
struct Dirs {
    tls: PathBuf,
    db: PathBuf,
    agent: PathBuf,
}

impl Dirs {
    fn new(root: &std::path::Path) -> Dirs {
        Dirs {
            tls: root.join("server/tls"),
            db: root.join("server/db"),
            agent: root.join("agent"),
        }
    }
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // Catch SIGINT/SIGTERM from the first moment: a signal that arrives during start-up
    // must still lead to a clean shutdown once start-up is done.
    let mut stop_signals = StopSignals::new()?;
    let dirs = Dirs::new(&args.data_dir);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let node_ip = args
        .node_ip
        .or_else(netutil::default_route_ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let node_name = args.node_name.clone().unwrap_or_else(netutil::hostname);
    let shutdown = CancellationToken::new();

    // Certificates: the CA is kept; leaves are issued at every start.
    let ca = CertificateAuthority::load_or_create(&dirs.tls)?;
    let kubernetes_ip = apiserver::first_service_ip(args.service_cidr);
    let mut server_ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST), node_ip, kubernetes_ip];
    if !args.bind_address.is_unspecified() {
        server_ips.push(args.bind_address);
    }
    let serving = ca.issue(&CertSpec {
        common_name: "kube-apiserver".into(),
        dns_names: vec![
            "localhost".into(),
            "kubernetes".into(),
            "kubernetes.default".into(),
            "kubernetes.default.svc".into(),
            format!("kubernetes.default.svc.{}", args.cluster_domain),
            node_name.clone(),
        ],
        ips: server_ips,
        server: true,
        ..Default::default()
    })?;
    let admin = ca.issue(&CertSpec {
        common_name: "system:admin".into(),
        organizations: vec!["system:masters".into()],
        client: true,
        ..Default::default()
    })?;
    let kubelet_client = ca.issue(&CertSpec {
        common_name: "kube-apiserver-kubelet-client".into(),
        organizations: vec!["system:masters".into()],
        client: true,
        ..Default::default()
    })?;

    // Store and API server.
    let store: Arc<dyn store::Store> = match &args.datastore_endpoint {
        Some(endpoints) => store::etcd::EtcdStore::connect(store::etcd::EtcdOptions {
            endpoints: endpoints
                .split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect(),
            ca_file: args.datastore_cafile.clone(),
            cert_file: args.datastore_certfile.clone(),
            key_file: args.datastore_keyfile.clone(),
            ..Default::default()
        })
        .await
        .context("connecting to etcd")?,
        None => store::embedded::EmbeddedStore::open(&dirs.db).context("opening the store")?,
    };
    let api = ApiServer::new(
        store,
        ApiServerConfig {
            service_cidr: args.service_cidr,
            node_port_range: (30000, 32767),
            advertise_address: node_ip,
            secure_port: args.https_port,
            kubelet_client: KubeletClientConfig {
                ca_pem: ca.cert_pem().to_string(),
                client_cert_pem: kubelet_client.cert_pem.clone(),
                client_key_pem: kubelet_client.key_pem.clone(),
            },
            compaction_interval: args.compaction_interval,
            event_ttl: args.event_ttl,
        },
    )?;
    api.bootstrap(shutdown.clone()).await;
    let addr = std::net::SocketAddr::new(args.bind_address, args.https_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let tls = TlsFiles {
        cert_pem: serving.cert_pem,
        key_pem: serving.key_pem,
        client_ca_pem: ca.cert_pem().to_string(),
    };
    let mut tasks: Vec<(&'static str, JoinHandle<()>)> = Vec::new();
    tasks.push((
        "apiserver",
        spawn_logged(
            "apiserver",
            apiserver::serve_tls(listener, tls, api.router(), shutdown.clone()),
        ),
    ));

    let server_host = if args.bind_address.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        args.bind_address.to_string()
    };
    let kubeconfig_path = args
        .write_kubeconfig
        .clone()
        .unwrap_or_else(|| args.data_dir.join("kubeconfig.yaml"));
    kubeconfig::write(
        &kubeconfig_path,
        &kubeconfig::render(
            &format!("https://{server_host}:{}", args.https_port),
            ca.cert_pem(),
            &admin.cert_pem,
            &admin.key_pem,
        ),
    )?;

    // Control-plane components, each an ordinary API client over the in-process transport.
    let controllers_client = api.client(UserInfo::new("system:kube-controller-manager", &[]));
    tasks.push((
        "controllers",
        spawn_logged(
            "controllers",
            controllers::run(
                controllers_client,
                controllers::ControllersConfig {
                    cluster_cidr: args.cluster_cidr,
                    node_cidr_mask: 24,
                    root_ca_pem: Some(ca.cert_pem().to_string()),
                },
                shutdown.clone(),
            ),
        ),
    ));
    let scheduler_client = api.client(UserInfo::new("system:kube-scheduler", &[]));
    tasks.push((
        "scheduler",
        spawn_logged(
            "scheduler",
            scheduler::run(scheduler_client, shutdown.clone()),
        ),
    ));

    // The node agent: containerd, kubelet, service proxy.
    let mut containerd = None;
    if !args.disable_agent {
        let endpoint = match &args.container_runtime_endpoint {
            Some(e) => e.clone(),
            None => {
                let registries = args.registries_file.clone().or_else(|| {
                    let default = args.data_dir.join("registries.yaml");
                    default.exists().then_some(default)
                });
                let c = kubelet::Containerd::start(kubelet::ContainerdConfig {
                    data_dir: dirs.agent.clone(),
                    sandbox_image: SANDBOX_IMAGE.into(),
                    registries_file: registries,
                })
                .await
                .context("starting containerd")?;
                let socket = c.socket().to_path_buf();
                containerd = Some(c);
                socket
            }
        };
        let kubelet_serving = ca.issue(&CertSpec {
            common_name: format!("system:node:{node_name}"),
            organizations: vec!["system:nodes".into()],
            dns_names: vec![node_name.clone(), "localhost".into()],
            ips: vec![node_ip, IpAddr::V4(Ipv4Addr::LOCALHOST)],
            server: true,
            ..Default::default()
        })?;
        let node_client = api.client(UserInfo::new(
            format!("system:node:{node_name}"),
            &["system:nodes"],
        ));
        tasks.push((
            "kubelet",
            spawn_logged(
                "kubelet",
                kubelet::run(
                    node_client,
                    kubelet::KubeletConfig {
                        node_name: node_name.clone(),
                        node_ip,
                        data_dir: dirs.agent.clone(),
                        runtime_endpoint: endpoint,
                        port: args.kubelet_port,
                        serving_cert_pem: kubelet_serving.cert_pem,
                        serving_key_pem: kubelet_serving.key_pem,
                        client_ca_pem: ca.cert_pem().to_string(),
                        cluster_dns: args.cluster_dns,
                        cluster_domain: args.cluster_domain.clone(),
                    },
                    shutdown.clone(),
                ),
            ),
        ));
        let proxy_client = api.client(UserInfo::new("system:kube-proxy", &[]));
        tasks.push((
            "proxy",
            spawn_logged(
                "proxy",
                proxy::run(
                    proxy_client,
                    proxy::ProxyConfig {
                        node_name: node_name.clone(),
                        node_ips: vec![node_ip],
                        cluster_cidr: args.cluster_cidr,
                        table: args.nftables_table.clone(),
                    },
                    shutdown.clone(),
                ),
            ),
        ));
    }

    tracing::info!(node = %node_name, %node_ip, elapsed_ms = started.elapsed().as_millis() as u64, "k8rs is running");
    println!(
        "k8rs is running. Use it with: export KUBECONFIG={}",
        kubeconfig_path.display()
    );

    stop_signals.recv().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    for (name, task) in tasks {
        match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(_) => tracing::debug!(component = name, "stopped"),
            Err(_) => tracing::warn!(component = name, "did not stop within 60s"),
        }
    }
    if let Some(c) = containerd
        && let Err(e) = c.stop().await
    {
        tracing::warn!(%e, "stopping containerd");
    }
    tracing::info!("stopped");
    Ok(())
}

fn spawn_logged<E: std::fmt::Display + Send + 'static>(
    name: &'static str,
    fut: impl std::future::Future<Output = Result<(), E>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            tracing::error!(component = name, error = %e, "component failed");
        }
    })
}

/// SIGINT and SIGTERM, registered once.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
