//! Service proxy: the Service data plane on nftables, modelled on kube-proxy's nftables
//! mode.
//!
//! Reflectors keep Services and EndpointSlices in memory; any change wakes the sync loop,
//! which (debounced) builds a [`model::Snapshot`], renders the complete table with
//! [`render::render`] and applies it atomically with [`nft::apply`].

pub mod conntrack;
pub mod model;
pub mod nft;
pub mod render;
pub mod sysctl;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ipnet::IpNet;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::render::RenderConfig;

/// Wait after a change before syncing, so bursts of updates become one sync.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// Minimum time between two syncs.
const MIN_SYNC_INTERVAL: Duration = Duration::from_millis(200);
/// Delay before retrying a failed apply.
const RETRY_DELAY: Duration = Duration::from_secs(2);
/// Rules are re-applied this often even without changes, repairing outside tampering.
const RESYNC_PERIOD: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub node_name: String,
    /// Addresses node ports are served on (IPv4 ones are used).
    pub node_ips: Vec<IpAddr>,
    /// Pod CIDR, e.g. 10.42.0.0/16.
    pub cluster_cidr: IpNet,
    /// nftables table (family ip), e.g. "k8rs".
    pub table: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("nftables: {0}")]
    Nft(String),
    #[error("invalid proxy configuration: {0}")]
    Config(String),
}

impl ProxyConfig {
    fn render_config(&self) -> Result<RenderConfig, Error> {
        let IpNet::V4(cluster_cidr) = self.cluster_cidr else {
            return Err(Error::Config(format!(
                "cluster CIDR {} is not IPv4 (only the ip family is implemented)",
                self.cluster_cidr
            )));
        };
        if self.table.is_empty()
            || !self
                .table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::Config(format!(
                "invalid nftables table name {:?}",
                self.table
            )));
        }
        let node_ips: Vec<Ipv4Addr> = self
            .node_ips
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V4(v4) => Some(*v4),
                IpAddr::V6(_) => None,
            })
            .collect();
        Ok(RenderConfig {
            table: self.table.clone(),
            cluster_cidr,
            node_ips,
        })
    }
}

/// Runs the proxy until `shutdown`, then removes its table.
pub async fn run(
    client: kube::Client,
    config: ProxyConfig,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    run_in_netns(client, config, None, shutdown).await
}

/// Like [`run`], but programs (and tunes the sysctls of) network namespace `netns`, a
/// name under /run/netns, instead of the current one. Used by tests.
pub async fn run_in_netns(
    client: kube::Client,
    config: ProxyConfig,
    netns: Option<String>,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let render_config = config.render_config()?;
    let netns = netns.as_deref();
    sysctl::ensure(&config.node_ips, netns);
    info!(node = %config.node_name, table = %config.table, "starting service proxy");

    let changed = Arc::new(Notify::new());
    let (services, services_writer) = reflector::store::<Service>();
    let (slices, slices_writer) = reflector::store::<EndpointSlice>();
    let services_stream = reflector::reflector(
        services_writer,
        watcher(
            Api::<Service>::all(client.clone()),
            watcher::Config::default(),
        ),
    );
    let slices_stream = reflector::reflector(
        slices_writer,
        watcher(
            Api::<EndpointSlice>::all(client),
            watcher::Config::default(),
        ),
    );
    let watch_token = shutdown.child_token();
    let services_task = tokio::spawn(drive(
        "services",
        services_stream,
        changed.clone(),
        watch_token.clone(),
    ));
    let slices_task = tokio::spawn(drive(
        "endpointslices",
        slices_stream,
        changed.clone(),
        watch_token.clone(),
    ));

    let result = sync_loop(
        &services,
        &slices,
        &render_config,
        netns,
        &changed,
        &shutdown,
    )
    .await;

    watch_token.cancel();
    let _ = services_task.await;
    let _ = slices_task.await;
    let cleanup = nft::delete_table(&config.table, netns).await;
    if let Err(e) = &cleanup {
        warn!(error = %e, "removing nftables table on shutdown");
    }
    info!("service proxy stopped");
    result.and(cleanup)
}

/// Polls a reflector stream (which keeps its store current) and signals every change.
async fn drive<S, K>(what: &'static str, stream: S, changed: Arc<Notify>, token: CancellationToken)
where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send,
{
    let stream = stream.default_backoff();
    futures::pin_mut!(stream);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            item = stream.next() => match item {
                Some(Ok(_)) => changed.notify_one(),
                Some(Err(e)) => warn!(resource = what, error = %e, "watch failed; retrying"),
                None => return,
            },
        }
    }
}

async fn sync_loop(
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
    config: &RenderConfig,
    netns: Option<&str>,
    changed: &Notify,
    shutdown: &CancellationToken,
) -> Result<(), Error> {
    // Rendering before the initial lists complete would briefly reject every service.
    tokio::select! {
        _ = shutdown.cancelled() => return Ok(()),
        r = async { tokio::try_join!(services.wait_until_ready(), slices.wait_until_ready()) } => {
            if r.is_err() {
                return Ok(());
            }
        }
    }
    info!("services and endpointslices synced; programming nftables");

    let mut applied: Option<(String, model::Snapshot)> = None;
    let mut failed = false;
    let mut force = true;
    loop {
        let service_state = services.state();
        let slice_state = slices.state();
        let snapshot = model::build(
            service_state.iter().map(AsRef::as_ref),
            slice_state.iter().map(AsRef::as_ref),
        );
        let ruleset = render::render(&snapshot, config);
        let last_sync = Instant::now();
        let unchanged = applied.as_ref().is_some_and(|(text, _)| *text == ruleset);
        if force || !unchanged {
            match nft::apply(&ruleset, netns).await {
                Ok(()) => {
                    debug!(
                        service_ports = snapshot.service_ports.len(),
                        "applied nftables ruleset"
                    );
                    if let Some((_, old)) = &applied {
                        conntrack::delete(&conntrack::stale(old, &snapshot), netns).await;
                    }
                    applied = Some((ruleset, snapshot));
                    failed = false;
                }
                Err(e) => {
                    warn!(error = %e, "applying nftables ruleset failed; will retry");
                    failed = true;
                }
            }
        }
        force = false;

        // Wait for a change, a retry or the periodic resync.
        let wait = if failed { RETRY_DELAY } else { RESYNC_PERIOD };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = changed.notified() => {}
            _ = sleep(wait) => force = true,
        }
        // Debounce, and never sync more often than MIN_SYNC_INTERVAL. Changes arriving
        // meanwhile are picked up because the state is read after this wait.
        let not_before = last_sync + MIN_SYNC_INTERVAL;
        let deadline = std::cmp::max(Instant::now() + DEBOUNCE, not_before);
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = sleep_until(deadline) => {}
        }
    }
}
