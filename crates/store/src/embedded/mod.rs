//! The embedded backend: a durable MVCC key-value store in one redb file.
//!
//! - [`writer`]: the single writer thread with group commit (one fsync per batch).
//! - [`history`]: reads — newest state, ranges at older revisions, history replay.
//! - [`hub`]: watch fan-out from memory, with catch-up from history.
//! - [`schema`]: the tables and their encoding.
//!
//! Dropping the [`EmbeddedStore`] stops the writer (after its current batch) and ends all
//! watch streams; the database file is closed once the last stream is dropped too, after
//! which the directory can be opened again.

mod history;
mod hub;
mod schema;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use redb::Database;
use tokio::sync::{mpsc, oneshot};

use crate::{
    KeyValue, RangeOptions, RangeResult, Result, Revision, Store, StoreError, WatchStream,
};
use hub::Hub;
use writer::{Op, WriteRequest};

/// File name of the database inside the store directory.
pub const DB_FILE: &str = "store.redb";

#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Largest accepted value, in bytes (default 1.5 MiB, like etcd's request limit).
    pub max_value_size: usize,
    /// How many committed batches a watcher may fall behind before it drops to catching up
    /// from the history table (bounds memory per watcher).
    pub watch_buffer: usize,
    /// How many writes may wait for the writer before callers are slowed down.
    pub write_queue: usize,
    /// redb's page cache. The API server serves lists and watches from its own cache, so
    /// the store's reads are mostly point reads: a small cache keeps memory flat as the
    /// store grows (redb's default is 1 GiB).
    pub cache_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            max_value_size: 1_572_864,
            watch_buffer: 1024,
            write_queue: 4096,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// How the database file's space is used.
#[derive(Debug, Clone, Copy)]
pub struct SpaceStats {
    /// Pages in use (the rest of the file is free space redb reuses).
    pub allocated_bytes: u64,
    /// Keys and values.
    pub stored_bytes: u64,
    /// B-tree and allocator overhead.
    pub metadata_bytes: u64,
    /// Unused space inside allocated pages plus free pages.
    pub fragmented_bytes: u64,
}

/// State shared by the store handle, the writer thread and watch streams.
struct Inner {
    db: Database,
    hub: Hub,
    compacted: AtomicI64,
}

pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// `None` only while dropping.
    ops: Option<mpsc::Sender<Op>>,
    writer: Option<JoinHandle<()>>,
    max_value_size: usize,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir` with default options.
    pub fn open(dir: &Path) -> Result<Arc<EmbeddedStore>> {
        Self::with_options(dir, EmbeddedOptions::default())
    }

    /// Opens (or creates) the store in `dir`. Blocking: call it at startup or from
    /// `spawn_blocking`.
    pub fn with_options(dir: &Path, options: EmbeddedOptions) -> Result<Arc<EmbeddedStore>> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!("creating store directory {}: {e}", dir.display()))
        })?;
        let db = Database::builder()
            .set_cache_size(options.cache_bytes)
            .create(dir.join(DB_FILE))?;
        let txn = db.begin_write()?;
        let (revision, compacted) = writer::init(&txn)?;
        txn.commit()?;

        let inner = Arc::new(Inner {
            db,
            hub: Hub::new(revision, options.watch_buffer),
            compacted: AtomicI64::new(compacted),
        });
        let (ops, receiver) = mpsc::channel(options.write_queue.max(1));
        let writer_inner = inner.clone();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(writer_inner, receiver))
            .map_err(|e| StoreError::Backend(format!("starting store writer: {e}")))?;
        tracing::debug!(dir = %dir.display(), revision, compacted, "embedded store opened");
        Ok(Arc::new(EmbeddedStore {
            inner,
            ops: Some(ops),
            writer: Some(writer),
            max_value_size: options.max_value_size,
        }))
    }

    async fn submit(&self, op: Op) -> Result<()> {
        let ops = self.ops.as_ref().ok_or_else(shut_down)?;
        ops.send(op).await.map_err(|_| shut_down())
    }

    async fn write(&self, request: WriteRequest) -> Result<KeyValue> {
        let (reply, answer) = oneshot::channel();
        self.submit(Op::Write { request, reply }).await?;
        answer.await.map_err(|_| shut_down())?
    }

    /// Space accounting of the database file (takes the write lock briefly).
    pub async fn space(&self) -> Result<SpaceStats> {
        self.read(|db| {
            let txn = db.begin_write()?;
            let stats = txn.stats()?;
            let space = SpaceStats {
                allocated_bytes: stats.allocated_pages() * stats.page_size() as u64,
                stored_bytes: stats.stored_bytes(),
                metadata_bytes: stats.metadata_bytes(),
                fragmented_bytes: stats.fragmented_bytes(),
            };
            txn.abort()?;
            Ok(space)
        })
        .await
    }

    fn check_size(&self, value: &Bytes) -> Result<()> {
        crate::check_value_size(value, self.max_value_size)
    }

    /// Runs a blocking read against the database off the async runtime.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner.db))
            .await
            .map_err(|e| StoreError::Backend(format!("store read failed: {e}")))?
    }
}

fn shut_down() -> StoreError {
    StoreError::Backend("store is shut down".into())
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish its batch and exit.
        self.ops = None;
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("store writer thread panicked");
        }
    }
}

#[async_trait::async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.read(move |db| history::get(db, &key)).await
    }

    async fn range(&self, prefix: &str, opts: RangeOptions) -> Result<RangeResult> {
        let prefix = prefix.to_owned();
        self.read(move |db| history::range(db, &prefix, &opts))
            .await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.check_size(&value)?;
        let key = key.to_owned();
        self.write(WriteRequest::Create { key, value }).await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue> {
        self.check_size(&value)?;
        let key = key.to_owned();
        self.write(WriteRequest::Update {
            key,
            value,
            expected,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        let key = key.to_owned();
        self.write(WriteRequest::Delete { key, expected }).await
    }

    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream> {
        let compacted = self.inner.compacted.load(Ordering::SeqCst);
        if start < compacted {
            return Err(StoreError::Compacted {
                requested: start,
                compacted,
            });
        }
        Ok(hub::watch(self.inner.clone(), prefix.to_owned(), start))
    }

    async fn current_revision(&self) -> Result<Revision> {
        Ok(self.inner.hub.current())
    }

    async fn compacted_revision(&self) -> Result<Revision> {
        Ok(self.inner.compacted.load(Ordering::SeqCst))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        // One bounded step per writer turn, so writes interleave with a long compaction.
        loop {
            let (reply, answer) = oneshot::channel();
            self.submit(Op::CompactStep { revision, reply }).await?;
            if !answer.await.map_err(|_| shut_down())?? {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests;
