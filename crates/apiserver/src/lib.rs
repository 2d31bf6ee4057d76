//! The k8rs API server: routing, discovery, authentication, REST handlers, watch,
//! subresources, and the in-process transport other components use to reach it.

mod allocator;
mod bootstrap;
mod cache;
mod compactor;
mod crd;
mod discovery;
mod event_ttl;
mod fields;
mod handler;
mod health;
mod kubelet_client;
mod managed;
mod object;
mod openapi;
mod patch;
pub mod pki;
mod request;
mod response;
mod rest;
mod review;
mod serve;
mod subresource;
mod watch;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use ipnet::IpNet;
use store::Store;

pub use request::UserInfo;
pub use serve::{ServeError, TlsFiles, serve_tls};

/// Settings of the API server.
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// Service ClusterIP range (the first address is the `kubernetes` Service).
    pub service_cidr: IpNet,
    /// NodePort range, inclusive.
    pub node_port_range: (u16, u16),
    /// The address other components and pods use to reach the API server.
    pub advertise_address: IpAddr,
    /// The port the API server listens on.
    pub secure_port: u16,
    /// Client certificate and key the API server presents to kubelets, and the CA that
    /// signs kubelet serving certificates.
    pub kubelet_client: kubelet_client::KubeletClientConfig,
    /// How much store history is kept for watches (0 disables compaction).
    pub compaction_interval: std::time::Duration,
    /// How long an Event lives after its last change (0 keeps events forever).
    pub event_ttl: std::time::Duration,
}

/// The k3s-like defaults `k8rs server` also uses: Service range 10.43.0.0/16, NodePorts
/// 30000-32767, advertised on 127.0.0.1:6443, 5 minutes of history, 1 hour event TTL.
impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            service_cidr: IpNet::V4(
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, 43, 0, 0), 16).unwrap_or_default(),
            ),
            node_port_range: (30000, 32767),
            advertise_address: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            secure_port: 6443,
            kubelet_client: KubeletClientConfig::default(),
            compaction_interval: compactor::DEFAULT_INTERVAL,
            event_ttl: event_ttl::DEFAULT_TTL,
        }
    }
}

pub use bootstrap::first_service_ip;
pub use compactor::DEFAULT_INTERVAL as DEFAULT_COMPACTION_INTERVAL;
pub use event_ttl::DEFAULT_TTL as DEFAULT_EVENT_TTL;
pub use kubelet_client::KubeletClientConfig;

/// The API server's shared state.
pub struct ApiServer {
    store: Arc<dyn Store>,
    config: ApiServerConfig,
    allocator: allocator::Allocators,
    kubelets: kubelet_client::KubeletClient,
    cache: Arc<cache::WatchCache>,
    /// Set once the default namespaces and the `kubernetes` Service exist.
    bootstrapped: std::sync::atomic::AtomicBool,
    /// This server's id for the custom resources it registers (see `registry::custom`).
    crd_owner: u64,
}

/// Ids for [`ApiServer::crd_owner`].
static NEXT_SERVER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ApiServer {
    pub fn new(store: Arc<dyn Store>, config: ApiServerConfig) -> Result<Arc<Self>, ServeError> {
        let kubelets = kubelet_client::KubeletClient::new(&config.kubelet_client)?;
        Ok(Arc::new(ApiServer {
            allocator: allocator::Allocators::new(config.service_cidr, config.node_port_range),
            store,
            config,
            kubelets,
            cache: Arc::default(),
            bootstrapped: Default::default(),
            crd_owner: NEXT_SERVER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }))
    }

    /// The HTTP router (without TLS or authentication: callers insert a [`UserInfo`]).
    pub fn router(self: &Arc<Self>) -> Router {
        handler::router(self.clone())
    }

    /// Creates the default namespaces and the `kubernetes` Service, and starts the
    /// background tasks (compaction). Idempotent.
    pub async fn bootstrap(self: &Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        bootstrap::run(self).await;
        self.bootstrapped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cache.ensure_started(&self.store);
        tokio::spawn(compactor::run(
            self.store.clone(),
            self.cache.clone(),
            self.config.compaction_interval,
            shutdown.clone(),
        ));
        tokio::spawn(event_ttl::run(
            self.store.clone(),
            self.config.event_ttl,
            shutdown.clone(),
        ));
        tokio::spawn(crd::run(self.clone(), self.crd_owner, shutdown));
    }

    /// A kube client that talks to this server in-process (no socket, no TLS) as `user`.
    pub fn client(self: &Arc<Self>, user: UserInfo) -> kube::Client {
        let router = self.router();
        // Named like the upstream component, so its writes are tracked under that field
        // manager (`kube-controller-manager`, `kube-scheduler`, `kubelet`, ...).
        let agent = component_user_agent(&user.name);
        let svc = tower::ServiceBuilder::new()
            .map_request(move |mut req: http::Request<kube::client::Body>| {
                req.extensions_mut().insert(user.clone());
                if let Ok(v) = http::HeaderValue::from_str(&agent) {
                    req.headers_mut()
                        .entry(http::header::USER_AGENT)
                        .or_insert(v);
                }
                req
            })
            .service(router);
        kube::Client::new(svc, "default")
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn cache(&self) -> &Arc<cache::WatchCache> {
        &self.cache
    }

    pub fn config(&self) -> &ApiServerConfig {
        &self.config
    }
}

/// The User-Agent of an in-process component acting as `user`: upstream's component
/// binary names (`system:node:<name>` is the kubelet).
fn component_user_agent(user: &str) -> String {
    let component = match user.strip_prefix("system:") {
        Some(rest) if rest.starts_with("node:") => "kubelet",
        Some(rest) => rest,
        None => user,
    };
    format!("{component}/v1.33.0 (linux/amd64) k8rs")
}

/// Where the API server listens.
pub fn listen_address(bind: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(bind, port)
}
