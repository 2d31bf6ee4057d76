//! A real etcd for tests (`/usr/bin/etcd`, Debian package `etcd-server`), started on free
//! loopback ports with a temporary data directory and killed on drop.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::etcd::{EtcdOptions, EtcdStore};

const ETCD: &str = "/usr/bin/etcd";

/// A running etcd; killed (and its data removed) on drop.
pub struct EtcdFixture {
    child: Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for EtcdFixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl EtcdFixture {
    /// Starts etcd, or `None` if it is not installed.
    pub fn start() -> Option<EtcdFixture> {
        if !Path::new(ETCD).exists() {
            eprintln!("{ETCD} not found (install etcd-server); skipping the etcd contract test");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (client, peer) = (free_port(), free_port());
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.path().join("etcd.log")).expect("log file");
        let child = Command::new(ETCD)
            .arg("--name=default")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=default={peer_url}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        Some(EtcdFixture {
            child,
            endpoint: client_url,
            _dir: dir,
        })
    }

    /// etcd's data directory (its database file is `member/snap/db` below it).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// Connects, retrying until etcd answers (bounded, so a broken etcd fails).
    pub async fn connect(&self, max_value_size: usize) -> Arc<EtcdStore> {
        let etcd = self;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let options = EtcdOptions {
                endpoints: vec![etcd.endpoint.clone()],
                max_value_size,
                ..Default::default()
            };
            match EtcdStore::connect(options).await {
                Ok(store) => return store,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!("etcd not ready yet: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("etcd at {} never answered: {e}", etcd.endpoint),
            }
        }
    }
}
