//! On-disk layout of the embedded store (redb tables) and conversions to the contract types.
//!
//! Tables:
//! - `kv`: key -> (create_revision, mod_revision, version, value) — the newest state, so
//!   reads at the current revision need no history walk.
//! - `history`: revision -> (key, kind, create_revision, version, prev_mod_revision, value) —
//!   one record per write; feeds watch replay and reads at older revisions. For a delete
//!   the record carries the value that was deleted.
//! - `key_revisions`: (key, revision) -> () — index of `history` by key, used to find the
//!   newest write of each key at or below a revision.
//! - `meta`: name -> i64 — the revision counter and compaction progress.

use bytes::Bytes;
use redb::{ReadableTable, TableDefinition};

use crate::{EventKind, KeyValue, Revision, StoreError};

/// `kv` value: (create_revision, mod_revision, version, value).
pub(super) type KvValue = (i64, i64, i64, &'static [u8]);
/// `history` value: (key, kind, create_revision, version, prev_mod_revision, value).
pub(super) type HistoryValue = (&'static str, u8, i64, i64, i64, &'static [u8]);

pub(super) const KV: TableDefinition<&str, KvValue> = TableDefinition::new("kv");
pub(super) const HISTORY: TableDefinition<i64, HistoryValue> = TableDefinition::new("history");
pub(super) const KEY_REVISIONS: TableDefinition<(&str, i64), ()> =
    TableDefinition::new("key_revisions");
pub(super) const META: TableDefinition<&str, i64> = TableDefinition::new("meta");

/// The newest revision written.
pub(super) const META_REVISION: &str = "revision";
/// The oldest revision that can be read or watched from.
pub(super) const META_COMPACTED: &str = "compacted";
/// History below this revision has already been examined by compaction.
pub(super) const META_COMPACT_SCANNED: &str = "compact_scanned";

const KIND_PUT: u8 = 0;
const KIND_DELETE: u8 = 1;

pub(super) fn kind_to_u8(kind: EventKind) -> u8 {
    match kind {
        EventKind::Put => KIND_PUT,
        EventKind::Delete => KIND_DELETE,
    }
}

/// One `history` record, decoded.
pub(super) struct Record {
    pub key: String,
    pub kind: EventKind,
    pub create_revision: Revision,
    pub version: i64,
    /// Mod revision of the key before this write; 0 if the key did not exist.
    pub prev_mod_revision: Revision,
    pub value: Bytes,
}

impl Record {
    pub fn decode(raw: (&str, u8, i64, i64, i64, &[u8])) -> Result<Self, StoreError> {
        let (key, kind, create_revision, version, prev_mod_revision, value) = raw;
        let kind = match kind {
            KIND_PUT => EventKind::Put,
            KIND_DELETE => EventKind::Delete,
            other => {
                return Err(StoreError::Backend(format!(
                    "corrupt history record for {key}: unknown kind {other}"
                )));
            }
        };
        Ok(Record {
            key: key.to_owned(),
            kind,
            create_revision,
            version,
            prev_mod_revision,
            value: Bytes::copy_from_slice(value),
        })
    }

    /// The key value this record describes, as written at `revision`.
    pub fn key_value(&self, revision: Revision) -> KeyValue {
        KeyValue {
            key: self.key.clone(),
            value: self.value.clone(),
            create_revision: self.create_revision,
            mod_revision: revision,
            version: self.version,
        }
    }
}

/// Reads the history record at `revision`, if it is still there.
pub(super) fn history_record(
    history: &impl ReadableTable<i64, HistoryValue>,
    revision: Revision,
) -> Result<Option<Record>, StoreError> {
    match history.get(revision)? {
        Some(guard) => Ok(Some(Record::decode(guard.value())?)),
        None => Ok(None),
    }
}

/// Reads the newest state of `key` from the `kv` table.
pub(super) fn current_kv(
    kv: &impl ReadableTable<&'static str, KvValue>,
    key: &str,
) -> Result<Option<KeyValue>, StoreError> {
    Ok(kv.get(key)?.map(|guard| decode_kv(key, guard.value())))
}

pub(super) fn decode_kv(key: &str, raw: (i64, i64, i64, &[u8])) -> KeyValue {
    let (create_revision, mod_revision, version, value) = raw;
    KeyValue {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(value),
        create_revision,
        mod_revision,
        version,
    }
}

pub(super) fn meta_get(
    meta: &impl ReadableTable<&'static str, i64>,
    name: &str,
) -> Result<i64, StoreError> {
    Ok(meta.get(name)?.map(|g| g.value()).unwrap_or(0))
}

// redb's error types, all reported as backend errors.
macro_rules! backend_error_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for StoreError {
            fn from(e: $ty) -> Self {
                StoreError::Backend(e.to_string())
            }
        }
    )*};
}

backend_error_from!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError,
);
