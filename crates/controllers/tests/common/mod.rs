//! The fixture the controller integration tests share: a real API server (embedded store,
//! in-process transport) with every controller running as in `k8rs server`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apiserver::{ApiServer, ApiServerConfig, UserInfo};
use tokio_util::sync::CancellationToken;

pub struct Cluster {
    pub client: kube::Client,
    shutdown: CancellationToken,
    _api: Arc<ApiServer>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn cluster(config: controllers::ControllersConfig) -> Cluster {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::embedded::EmbeddedStore::open(dir.path()).expect("store");
    let api = ApiServer::new(store, ApiServerConfig::default()).expect("api server");
    let shutdown = CancellationToken::new();
    api.bootstrap(shutdown.clone()).await;
    let client = api.client(UserInfo::new("system:admin", &["system:masters"]));
    tokio::spawn(controllers::run(client.clone(), config, shutdown.clone()));
    Cluster {
        client,
        shutdown,
        _api: api,
        _dir: dir,
    }
}

/// Polls `check` until it holds, failing the test after a generous deadline.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
