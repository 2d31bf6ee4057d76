//! The storage contract every backend implements, and its backends.
//!
//! Keys follow kube-apiserver's etcd layout (`/registry/<resource>/<namespace>/<name>`).
//! The store keeps one global, monotonic revision; every successful write advances it by
//! one and that revision becomes the written object's `resourceVersion`. A write is
//! acknowledged only once it is durable.

use std::fmt;

use bytes::Bytes;
use futures::stream::BoxStream;

/// A point in the store's history. Revisions start at 1; 0 means "none".
pub type Revision = i64;

/// One key as stored at some revision.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created the key (it survives updates).
    pub create_revision: Revision,
    /// Revision of the latest write to the key.
    pub mod_revision: Revision,
    /// Number of writes since creation (1 after create).
    pub version: i64,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &self.key)
            .field("value_len", &self.value.len())
            .field("create_revision", &self.create_revision)
            .field("mod_revision", &self.mod_revision)
            .field("version", &self.version)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

/// One change, as seen by a watcher.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventKind,
    /// The revision of this change.
    pub revision: Revision,
    /// For `Put`: the new value. For `Delete`: the value before deletion, with
    /// `mod_revision` set to the deletion's revision.
    pub kv: KeyValue,
    /// The value before this change, if there was one.
    pub prev: Option<KeyValue>,
}

#[derive(Clone, Debug, Default)]
pub struct RangeOptions {
    /// Read at this revision (must not be compacted); `None` (or `Some(0)`, as in etcd) =
    /// newest.
    pub revision: Option<Revision>,
    /// At most this many keys; `None` (or `Some(0)`, as in etcd) = all.
    pub limit: Option<usize>,
    /// Only keys strictly greater than this one (for continuation).
    pub start_after: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RangeResult {
    pub kvs: Vec<KeyValue>,
    /// True if more keys matched than `limit` allowed.
    pub more: bool,
    /// The revision the range was read at.
    pub revision: Revision,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("key {0} already exists")]
    AlreadyExists(String),
    #[error("key {0} not found")]
    NotFound(String),
    /// The key's mod revision was not the expected one. `current` is the key as it is now
    /// (`None` if it no longer exists).
    #[error("key {key} was modified (expected revision {expected})")]
    Conflict {
        key: String,
        expected: Revision,
        current: Option<Box<KeyValue>>,
    },
    /// The requested revision is older than the compaction point.
    #[error("required revision {requested} has been compacted (compacted revision {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current revision.
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    #[error("value of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("storage backend error: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Refuses values over a backend's limit before anything is written.
pub(crate) fn check_value_size(value: &Bytes, limit: usize) -> Result<()> {
    if value.len() > limit {
        return Err(StoreError::TooLarge {
            size: value.len(),
            limit,
        });
    }
    Ok(())
}

/// A stream of changes in revision order. It ends only when the store shuts down or the
/// watcher falls too far behind (then the last item is an error and the client re-lists).
pub type WatchStream = BoxStream<'static, Result<Event>>;

/// The storage contract (see ARCHITECTURE.md, "Store contract").
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The newest key value, or `None`.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;
    /// Keys starting with `prefix`, in key order.
    async fn range(&self, prefix: &str, opts: RangeOptions) -> Result<RangeResult>;
    /// Creates `key`; fails with `AlreadyExists` if it exists.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue>;
    /// Replaces `key` if its mod revision is `expected`; else `Conflict` (or `NotFound`).
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<KeyValue>;
    /// Deletes `key`, if `expected` is given only when its mod revision matches. Returns the
    /// deleted value with `mod_revision` set to the deletion's revision.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue>;
    /// Changes to keys starting with `prefix` with revision >= `start`, in order.
    /// `start` older than the compaction point fails with `Compacted`.
    async fn watch(&self, prefix: &str, start: Revision) -> Result<WatchStream>;
    /// The newest revision.
    async fn current_revision(&self) -> Result<Revision>;
    /// The oldest revision that can still be read or watched from.
    async fn compacted_revision(&self) -> Result<Revision>;
    /// Forgets history older than `revision`.
    async fn compact(&self, revision: Revision) -> Result<()>;
}
pub mod embedded;
pub mod etcd;
#[cfg(feature = "testing")]
pub mod testing_etcd;

/// The contract test suite every backend must pass (see `embedded` tests for a driver).
#[cfg(any(test, feature = "testing"))]
pub mod contract;
