//! The etcd v3 backend, used the way kube-apiserver uses etcd: the store revision is etcd's
//! revision, writes are compare-and-swap transactions on `create_revision`/`mod_revision`,
//! lists are prefix ranges (`range_end` = prefix + 1) and watches are etcd watches with
//! `prev_kv`.
//!
//! etcd has no API that reports the compaction point. [`EtcdStore`] remembers the highest
//! point it has learned — from its own `compact` calls, from `compact_revision` in watch
//! responses and from "compacted" errors — and [`Store::compacted_revision`] confirms it
//! against etcd with cheap `count_only` reads (a binary search for the oldest readable
//! revision), so compactions done by other clients are found too.

mod convert;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{
    Compare, CompareOp, DeleteOptions, GetOptions, KvClient, PutOptions, Txn, TxnOp, TxnOpResponse,
};

use crate::{
    KeyValue, RangeOptions, RangeResult, Result, Revision, Store, StoreError, WatchStream,
};
use convert::{Classified, classify, header_revision, key_value, prefix_end, range_start};

/// Largest gRPC message accepted from etcd: a single unpaged list may be large.
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// How to reach etcd (like kube-apiserver's `--etcd-servers`, `--etcd-cafile`,
/// `--etcd-certfile`, `--etcd-keyfile`).
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// Client URLs, e.g. `https://127.0.0.1:2379`.
    pub endpoints: Vec<String>,
    /// CA bundle (PEM) to verify etcd's serving certificate.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM); needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// Client private key (PEM); needs `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Largest accepted value, in bytes (default 1.5 MiB, etcd's default request limit).
    pub max_value_size: usize,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            endpoints: vec!["http://127.0.0.1:2379".into()],
            ca_file: None,
            cert_file: None,
            key_file: None,
            max_value_size: 1_572_864,
        }
    }
}

/// A [`Store`] backed by an etcd v3 cluster.
pub struct EtcdStore {
    client: etcd_client::Client,
    max_value_size: usize,
    /// The highest compaction point learned so far (see the module docs).
    compacted: Arc<AtomicI64>,
}

impl EtcdStore {
    /// Connects to etcd and checks that it answers (one cheap read).
    pub async fn connect(options: EtcdOptions) -> Result<Arc<EtcdStore>> {
        if options.endpoints.is_empty() {
            return Err(StoreError::Backend("no etcd endpoints given".into()));
        }
        let mut connect = etcd_client::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(10))
            .with_keep_alive(Duration::from_secs(30), Duration::from_secs(10));
        if let Some(tls) = tls_options(&options)? {
            connect = connect.with_tls(tls);
        }
        let client = etcd_client::Client::connect(&options.endpoints, Some(connect))
            .await
            .map_err(|e| StoreError::Backend(format!("connecting to etcd: {e}")))?;
        let store = Arc::new(EtcdStore {
            client,
            max_value_size: options.max_value_size,
            compacted: Arc::new(AtomicI64::new(0)),
        });
        store.current_revision().await?;
        Ok(store)
    }

    fn kv(&self) -> KvClient {
        self.client
            .kv_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    fn check_size(&self, value: &Bytes) -> Result<()> {
        crate::check_value_size(value, self.max_value_size)
    }

    /// Maps an etcd error; `requested` is the revision asked for, if any.
    async fn error(&self, err: etcd_client::Error, requested: Revision, size: usize) -> StoreError {
        match classify(err) {
            Classified::Compacted => {
                // Everything up to `requested` is gone, so the point is above it.
                let learned = self.compacted.fetch_max(requested + 1, Ordering::SeqCst);
                StoreError::Compacted {
                    requested,
                    compacted: learned.max(requested + 1),
                }
            }
            Classified::FutureRevision => match self.current_revision().await {
                Ok(current) => StoreError::FutureRevision { requested, current },
                Err(e) => e,
            },
            Classified::TooLarge => StoreError::TooLarge {
                size,
                limit: self.max_value_size,
            },
            Classified::Other(e) => e,
        }
    }

    /// Whether revision `revision` can still be read (one `count_only` read).
    async fn readable(&self, revision: Revision) -> Result<bool> {
        let options = GetOptions::new().with_revision(revision).with_count_only();
        match self.kv().get(vec![0u8], Some(options)).await {
            Ok(_) => Ok(true),
            Err(e) => match classify(e) {
                Classified::Compacted => Ok(false),
                Classified::FutureRevision => Ok(true),
                Classified::TooLarge => Err(StoreError::Backend("etcd: request too large".into())),
                Classified::Other(e) => Err(e),
            },
        }
    }

    /// The key as it is now, for `Conflict` errors: from the `else` branch of a transaction.
    fn current_from(resp: &etcd_client::TxnResponse) -> Result<Option<KeyValue>> {
        for op in resp.op_responses() {
            if let TxnOpResponse::Get(get) = op {
                return get.kvs().first().map(key_value).transpose();
            }
        }
        Ok(None)
    }
}

/// The TLS settings from the option files, if any is given.
fn tls_options(options: &EtcdOptions) -> Result<Option<etcd_client::TlsOptions>> {
    let read = |path: &PathBuf| {
        std::fs::read(path)
            .map_err(|e| StoreError::Backend(format!("reading {}: {e}", path.display())))
    };
    let mut tls = etcd_client::TlsOptions::new();
    let mut any = false;
    if let Some(ca) = &options.ca_file {
        tls = tls.ca_certificate(etcd_client::Certificate::from_pem(read(ca)?));
        any = true;
    }
    match (&options.cert_file, &options.key_file) {
        (Some(cert), Some(key)) => {
            tls = tls.identity(etcd_client::Identity::from_pem(read(cert)?, read(key)?));
            any = true;
        }
        (None, None) => {}
        _ => {
            return Err(StoreError::Backend(
                "etcd client certificate and key must be given together".into(),
            ));
        }
    }
    Ok(any.then_some(tls))
}

#[async_trait::async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let resp = match self.kv().get(key, None).await {
            Ok(resp) => resp,
            Err(e) => return Err(self.error(e, 0, 0).await),
        };
        resp.kvs().first().map(key_value).transpose()
    }

    async fn range(&self, prefix: &str, opts: RangeOptions) -> Result<RangeResult> {
        let revision = opts.revision.filter(|r| *r > 0);
        let start = match &opts.start_after {
            // The smallest key strictly after `start_after`.
            Some(after) if after.as_str() >= prefix => {
                let mut key = after.as_bytes().to_vec();
                key.push(0);
                key
            }
            _ => range_start(prefix.as_bytes()),
        };
        let mut options = GetOptions::new().with_range(prefix_end(prefix.as_bytes()));
        if let Some(revision) = revision {
            options = options.with_revision(revision);
        }
        if let Some(limit) = opts.limit.filter(|l| *l > 0) {
            options = options.with_limit(i64::try_from(limit).unwrap_or(i64::MAX));
        }
        let resp = match self.kv().get(start, Some(options)).await {
            Ok(resp) => resp,
            Err(e) => return Err(self.error(e, revision.unwrap_or(0), 0).await),
        };
        let kvs = resp
            .kvs()
            .iter()
            .map(key_value)
            .collect::<Result<Vec<_>>>()?;
        let read_at = match revision {
            Some(revision) => revision,
            None => header_revision(resp.header())?,
        };
        Ok(RangeResult {
            kvs,
            more: resp.more(),
            revision: read_at,
        })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.check_size(&value)?;
        let size = value.len();
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value.to_vec(), None)]);
        let resp = match self.kv().txn(txn).await {
            Ok(resp) => resp,
            Err(e) => return Err(self.error(e, 0, size).await),
        };
        if !resp.succeeded() {
            return Err(StoreError::AlreadyExists(key.to_owned()));
        }
        let revision = header_revision(resp.header())?;
        Ok(KeyValue {
            key: key.to_owned(),
            value,
            create_revision: revision,
            mod_revision: revision,
            version: 1,
        })
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        self.check_size(&value)?;
        let size = value.len();
        // `version > 0` keeps an expected revision of 0 from creating a missing key.
        let txn = Txn::new()
            .when([
                Compare::mod_revision(key, CompareOp::Equal, expected),
                Compare::version(key, CompareOp::Greater, 0),
            ])
            .and_then([TxnOp::put(
                key,
                value.to_vec(),
                Some(PutOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let resp = match self.kv().txn(txn).await {
            Ok(resp) => resp,
            Err(e) => return Err(self.error(e, 0, size).await),
        };
        if !resp.succeeded() {
            return match Self::current_from(&resp)? {
                None => Err(StoreError::NotFound(key.to_owned())),
                Some(current) => Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected,
                    current: Some(Box::new(current)),
                }),
            };
        }
        let revision = header_revision(resp.header())?;
        let prev = resp.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Put(put) => put.prev_key().map(key_value),
            _ => None,
        });
        let prev = prev
            .transpose()?
            .ok_or_else(|| StoreError::Backend("etcd put returned no previous value".into()))?;
        Ok(KeyValue {
            key: key.to_owned(),
            value,
            create_revision: prev.create_revision,
            mod_revision: revision,
            version: prev.version + 1,
        })
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        let mut compares = vec![Compare::version(key, CompareOp::Greater, 0)];
        if let Some(expected) = expected {
            compares.push(Compare::mod_revision(key, CompareOp::Equal, expected));
        }
        let txn = Txn::new()
            .when(compares)
            .and_then([TxnOp::delete(
                key,
                Some(DeleteOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let resp = match self.kv().txn(txn).await {
            Ok(resp) => resp,
            Err(e) => return Err(self.error(e, 0, 0).await),
        };
        if !resp.succeeded() {
            return match Self::current_from(&resp)? {
                None => Err(StoreError::NotFound(key.to_owned())),
                Some(current) => Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected: expected.unwrap_or(0),
                    current: Some(Box::new(current)),
                }),
            };
        }
        let revision = header_revision(resp.header())?;
        let prev = resp.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Delete(del) => del.prev_kvs().first().map(key_value),
            _ => None,
        });
        let prev = prev
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(key.to_owned()))?;
        Ok(KeyValue {
            mod_revision: revision,
            ..prev
        })
    }

    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream> {
        let client = self
            .client
            .watch_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES);
        watch::start(client, prefix, start, self.compacted.clone()).await
    }

    async fn current_revision(&self) -> Result<Revision> {
        // A count-only read of one key: the header carries the store's revision.
        let options = GetOptions::new().with_count_only();
        match self.kv().get(vec![0u8], Some(options)).await {
            Ok(resp) => header_revision(resp.header()),
            Err(e) => match classify(e) {
                Classified::Other(e) => Err(e),
                _ => Err(StoreError::Backend(
                    "etcd: unexpected error on a plain read".into(),
                )),
            },
        }
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        let known = self.compacted.load(Ordering::SeqCst);
        if self.readable(known.max(1)).await? {
            return Ok(known);
        }
        // Someone compacted further: find the oldest readable revision in (known, current].
        let (mut low, mut high) = (known.max(1), self.current_revision().await?);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if self.readable(mid).await? {
                high = mid;
            } else {
                low = mid;
            }
        }
        self.compacted.fetch_max(high, Ordering::SeqCst);
        Ok(self.compacted.load(Ordering::SeqCst))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        match self.kv().compact(revision, None).await {
            Ok(_) => {
                self.compacted.fetch_max(revision, Ordering::SeqCst);
                Ok(())
            }
            // Already compacted at or beyond `revision`: nothing left to do.
            Err(e) => match classify(e) {
                Classified::Compacted => {
                    self.compacted.fetch_max(revision, Ordering::SeqCst);
                    Ok(())
                }
                Classified::FutureRevision => Err(StoreError::FutureRevision {
                    requested: revision,
                    current: self.current_revision().await?,
                }),
                Classified::TooLarge => Err(StoreError::Backend("etcd: request too large".into())),
                Classified::Other(e) => Err(e),
            },
        }
    }
}
