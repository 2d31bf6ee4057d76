//! The single writer: a dedicated thread that drains queued operations, applies them all in
//! one redb write transaction (each op gets its own revision and its own outcome), commits
//! once with fsync, publishes the events to watchers, then answers every caller. Writers
//! arriving during a commit are batched into the next one (group commit), which is what
//! makes throughput grow with concurrency.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use redb::{Durability, ReadableTable, Table, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

use super::Inner;
use super::schema::{
    self, HISTORY, HistoryValue, KEY_REVISIONS, KV, KvValue, META, META_COMPACT_SCANNED,
    META_COMPACTED, META_REVISION, Record,
};
use crate::{Event, EventKind, KeyValue, Revision, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// Most operations applied in one transaction.
const MAX_BATCH: usize = 512;
/// Most history records one compaction step examines, so it never holds the writer long.
const COMPACT_STEP: usize = 256;

pub(super) enum WriteRequest {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected: Revision,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
}

pub(super) enum Op {
    Write {
        request: WriteRequest,
        reply: oneshot::Sender<Result<KeyValue>>,
    },
    /// One step of compaction up to `revision`; answers whether more steps are needed.
    CompactStep {
        revision: Revision,
        reply: oneshot::Sender<Result<bool>>,
    },
}

enum Outcome {
    Write(Result<KeyValue>),
    CompactStep(Result<bool>),
}

/// Runs until every sender of `ops` is gone, then closes the watch hub.
pub(super) fn run(inner: Arc<Inner>, mut ops: mpsc::Receiver<Op>) {
    // Closing on drop also covers a panic in this thread: watchers end instead of hanging.
    struct CloseHub<'a>(&'a Inner);
    impl Drop for CloseHub<'_> {
        fn drop(&mut self) {
            self.0.hub.close();
        }
    }
    let _close = CloseHub(&inner);

    while let Some(first) = ops.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(&inner, batch);
    }
}

struct Applied {
    outcomes: Vec<Outcome>,
    events: Vec<Event>,
    revision: Revision,
    compacted: Revision,
}

fn commit_batch(inner: &Inner, batch: Vec<Op>) {
    match apply_batch(inner, &batch) {
        Ok(applied) => {
            inner.compacted.store(applied.compacted, Ordering::SeqCst);
            // Publish before answering so a caller that saw its revision can watch from it.
            inner.hub.publish(applied.revision, applied.events);
            for (op, outcome) in batch.into_iter().zip(applied.outcomes) {
                match (op, outcome) {
                    (Op::Write { reply, .. }, Outcome::Write(r)) => {
                        let _ = reply.send(r);
                    }
                    (Op::CompactStep { reply, .. }, Outcome::CompactStep(r)) => {
                        let _ = reply.send(r);
                    }
                    // Outcomes are produced in op order, one per op, with the op's kind.
                    _ => tracing::error!("store writer: outcome does not match its operation"),
                }
            }
        }
        Err(e) => {
            // Nothing of this batch was committed.
            let message = e.to_string();
            tracing::error!(error = %message, "store write transaction failed");
            for op in batch {
                let err = StoreError::Backend(message.clone());
                match op {
                    Op::Write { reply, .. } => {
                        let _ = reply.send(Err(err));
                    }
                    Op::CompactStep { reply, .. } => {
                        let _ = reply.send(Err(err));
                    }
                }
            }
        }
    }
}

/// The tables a write transaction touches.
struct Tables<'txn> {
    kv: Table<'txn, &'static str, KvValue>,
    history: Table<'txn, i64, HistoryValue>,
    index: Table<'txn, (&'static str, i64), ()>,
    meta: Table<'txn, &'static str, i64>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self> {
        Ok(Tables {
            kv: txn.open_table(KV)?,
            history: txn.open_table(HISTORY)?,
            index: txn.open_table(KEY_REVISIONS)?,
            meta: txn.open_table(META)?,
        })
    }

    fn meta(&self, name: &str) -> Result<i64> {
        schema::meta_get(&self.meta, name)
    }

    fn set_meta(&mut self, name: &str, value: i64) -> Result<()> {
        self.meta.insert(name, value)?;
        Ok(())
    }

    /// Records one write at `revision`: history, index and newest state.
    fn record(
        &mut self,
        revision: Revision,
        kind: EventKind,
        kv: &KeyValue,
        prev_mod_revision: Revision,
    ) -> Result<()> {
        let key = kv.key.as_str();
        self.history.insert(
            revision,
            (
                key,
                schema::kind_to_u8(kind),
                kv.create_revision,
                kv.version,
                prev_mod_revision,
                kv.value.as_ref(),
            ),
        )?;
        self.index.insert((key, revision), ())?;
        match kind {
            EventKind::Put => {
                self.kv.insert(
                    key,
                    (kv.create_revision, revision, kv.version, kv.value.as_ref()),
                )?;
            }
            EventKind::Delete => {
                self.kv.remove(key)?;
            }
        }
        Ok(())
    }
}

/// Opens the tables (creating them on first use) and returns (revision, compacted).
pub(super) fn init(txn: &WriteTransaction) -> Result<(Revision, Revision)> {
    let tables = Tables::open(txn)?;
    Ok((tables.meta(META_REVISION)?, tables.meta(META_COMPACTED)?))
}

fn apply_batch(inner: &Inner, batch: &[Op]) -> Result<Applied> {
    let mut txn = inner.db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut events = Vec::new();
    let (revision, compacted) = {
        let mut tables = Tables::open(&txn)?;
        let mut revision = tables.meta(META_REVISION)?;
        for op in batch {
            match op {
                Op::Write { request, .. } => {
                    match apply_write(&mut tables, revision + 1, request) {
                        Ok(event) => {
                            revision += 1;
                            outcomes.push(Outcome::Write(Ok(event.kv.clone())));
                            events.push(event);
                        }
                        // A storage failure may leave the transaction half-written: abandon it.
                        Err(StoreError::Backend(e)) => return Err(StoreError::Backend(e)),
                        Err(e) => outcomes.push(Outcome::Write(Err(e))),
                    }
                }
                Op::CompactStep {
                    revision: target, ..
                } => match compact_step(&mut tables, *target, revision) {
                    Err(StoreError::Backend(e)) => return Err(StoreError::Backend(e)),
                    result => outcomes.push(Outcome::CompactStep(result)),
                },
            }
        }
        tables.set_meta(META_REVISION, revision)?;
        (revision, tables.meta(META_COMPACTED)?)
    };
    txn.commit()?;
    Ok(Applied {
        outcomes,
        events,
        revision,
        compacted,
    })
}

/// Validates and applies one write at `revision`. Validation happens before any change, so
/// a failed (non-backend) write leaves the transaction untouched.
fn apply_write(tables: &mut Tables, revision: Revision, request: &WriteRequest) -> Result<Event> {
    match request {
        WriteRequest::Create { key, value } => {
            if schema::current_kv(&tables.kv, key)?.is_some() {
                return Err(StoreError::AlreadyExists(key.clone()));
            }
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: revision,
                mod_revision: revision,
                version: 1,
            };
            tables.record(revision, EventKind::Put, &kv, 0)?;
            Ok(Event {
                kind: EventKind::Put,
                revision,
                kv,
                prev: None,
            })
        }
        WriteRequest::Update {
            key,
            value,
            expected,
        } => {
            let Some(current) = schema::current_kv(&tables.kv, key)? else {
                return Err(StoreError::NotFound(key.clone()));
            };
            if current.mod_revision != *expected {
                return Err(StoreError::Conflict {
                    key: key.clone(),
                    expected: *expected,
                    current: Some(Box::new(current)),
                });
            }
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: current.create_revision,
                mod_revision: revision,
                version: current.version.saturating_add(1),
            };
            tables.record(revision, EventKind::Put, &kv, current.mod_revision)?;
            Ok(Event {
                kind: EventKind::Put,
                revision,
                kv,
                prev: Some(current),
            })
        }
        WriteRequest::Delete { key, expected } => {
            let Some(current) = schema::current_kv(&tables.kv, key)? else {
                return Err(StoreError::NotFound(key.clone()));
            };
            if let Some(expected) = *expected
                && current.mod_revision != expected
            {
                return Err(StoreError::Conflict {
                    key: key.clone(),
                    expected,
                    current: Some(Box::new(current)),
                });
            }
            let kv = KeyValue {
                mod_revision: revision,
                ..current.clone()
            };
            tables.record(revision, EventKind::Delete, &kv, current.mod_revision)?;
            Ok(Event {
                kind: EventKind::Delete,
                revision,
                kv,
                prev: Some(current),
            })
        }
    }
}

/// Moves the compaction point to `target` (if later) and forgets up to `COMPACT_STEP`
/// history records below it. A record below the point is kept only if it is its key's
/// newest write at or below the point and not a delete: reads at the point need it, and so
/// does the `prev` of the key's next event. Returns whether more records remain to examine.
fn compact_step(tables: &mut Tables, target: Revision, current: Revision) -> Result<bool> {
    if target > current {
        return Err(StoreError::FutureRevision {
            requested: target,
            current,
        });
    }
    let mut point = tables.meta(META_COMPACTED)?;
    if target > point {
        point = target;
        tables.set_meta(META_COMPACTED, point)?;
    }
    let scanned_from = tables.meta(META_COMPACT_SCANNED)?;
    // (revision, key, kind, the key's previous write)
    let mut candidates: Vec<(Revision, String, EventKind, Revision)> = Vec::new();
    for entry in tables
        .history
        .range(scanned_from..point)?
        .take(COMPACT_STEP)
    {
        let (rev, raw) = entry?;
        let record = Record::decode(raw.value())?;
        candidates.push((
            rev.value(),
            record.key,
            record.kind,
            record.prev_mod_revision,
        ));
    }
    let more = candidates.len() == COMPACT_STEP;
    let scanned_to = match candidates.last() {
        Some((rev, ..)) if more => rev + 1,
        _ => point,
    };
    // Each write below the compaction point makes the key's previous write unreadable, so
    // that one goes — even if it was examined by an earlier compaction, when it was still the
    // newest (which is why the check runs from the successor's side). A delete below the
    // point is itself unreadable too.
    for (rev, key, kind, prev) in candidates {
        if prev > 0 {
            tables.history.remove(prev)?;
            tables.index.remove((key.as_str(), prev))?;
        }
        if kind == EventKind::Delete {
            tables.history.remove(rev)?;
            tables.index.remove((key.as_str(), rev))?;
        }
    }
    tables.set_meta(META_COMPACT_SCANNED, scanned_to)?;
    Ok(more)
}
