//! Reads: the newest state, ranges at the current or an older revision, and history
//! replay for watchers. All functions are blocking (call them from `spawn_blocking`) and
//! read from one redb snapshot, so each answer is consistent with a single revision.

use std::ops::Bound;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};

use super::schema::{
    self, HISTORY, HistoryValue, KEY_REVISIONS, KV, META, META_COMPACTED, META_REVISION, Record,
};
use crate::{Event, EventKind, KeyValue, RangeOptions, RangeResult, Revision, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

pub(super) fn get(db: &Database, key: &str) -> Result<Option<KeyValue>> {
    let txn = db.begin_read()?;
    let kv = txn.open_table(KV)?;
    schema::current_kv(&kv, key)
}

/// The store's revision and compaction point as of `txn`.
fn revisions(txn: &ReadTransaction) -> Result<(Revision, Revision)> {
    let meta = txn.open_table(META)?;
    Ok((
        schema::meta_get(&meta, META_REVISION)?,
        schema::meta_get(&meta, META_COMPACTED)?,
    ))
}

pub(super) fn range(db: &Database, prefix: &str, opts: &RangeOptions) -> Result<RangeResult> {
    let txn = db.begin_read()?;
    let (current, compacted) = revisions(&txn)?;
    // `Some(0)` means "newest", as in etcd.
    let at = match opts.revision {
        None | Some(0) => current,
        Some(requested) if requested > current => {
            return Err(StoreError::FutureRevision { requested, current });
        }
        Some(requested) if requested < compacted => {
            return Err(StoreError::Compacted {
                requested,
                compacted,
            });
        }
        Some(requested) => requested,
    };
    // `Some(0)` means "no limit", as in etcd.
    let limit = opts.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let start_after = opts.start_after.as_deref().filter(|s| *s >= prefix);
    let (kvs, more) = if at == current {
        range_current(&txn, prefix, start_after, limit)?
    } else {
        range_at(&txn, prefix, start_after, limit, at)?
    };
    Ok(RangeResult {
        kvs,
        more,
        revision: at,
    })
}

/// Keys under `prefix` from the `kv` table (newest state).
fn range_current(
    txn: &ReadTransaction,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<(Vec<KeyValue>, bool)> {
    let kv = txn.open_table(KV)?;
    let lower = match start_after {
        Some(after) => Bound::Excluded(after),
        None => Bound::Included(prefix),
    };
    let mut kvs = Vec::new();
    for entry in kv.range::<&str>((lower, Bound::Unbounded))? {
        let (key, value) = entry?;
        let key = key.value();
        if !key.starts_with(prefix) {
            break;
        }
        if kvs.len() >= limit {
            return Ok((kvs, true));
        }
        kvs.push(schema::decode_kv(key, value.value()));
    }
    Ok((kvs, false))
}

/// Keys under `prefix` as they were at revision `at`: for each key, the newest write at or
/// below `at`, if that write was not a delete.
fn range_at(
    txn: &ReadTransaction,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
    at: Revision,
) -> Result<(Vec<KeyValue>, bool)> {
    let index = txn.open_table(KEY_REVISIONS)?;
    let history = txn.open_table(HISTORY)?;
    let lower = match start_after {
        Some(after) => Bound::Excluded((after, i64::MAX)),
        None => Bound::Included((prefix, i64::MIN)),
    };
    let mut kvs = Vec::new();
    // The key being scanned and its newest revision at or below `at`.
    let mut group: Option<(String, Option<Revision>)> = None;
    // Adds the key's visible value; true once the page is full and another key was found.
    let take = |best: Option<Revision>, kvs: &mut Vec<KeyValue>| -> Result<bool> {
        let Some(rev) = best else { return Ok(false) };
        let Some(record) = schema::history_record(&history, rev)? else {
            return Err(StoreError::Backend(format!(
                "history record {rev} is missing"
            )));
        };
        if record.kind == EventKind::Delete {
            return Ok(false);
        }
        if kvs.len() >= limit {
            return Ok(true);
        }
        kvs.push(record.key_value(rev));
        Ok(false)
    };
    for entry in index.range::<(&str, i64)>((lower, Bound::Unbounded))? {
        let (entry_key, _) = entry?;
        let (key, rev) = entry_key.value();
        if !key.starts_with(prefix) {
            break;
        }
        if group.as_ref().is_none_or(|(k, _)| k != key) {
            if let Some((_, best)) = group.take()
                && take(best, &mut kvs)?
            {
                return Ok((kvs, true));
            }
            group = Some((key.to_owned(), None));
        }
        if rev <= at
            && let Some((_, best)) = group.as_mut()
        {
            *best = Some(rev);
        }
    }
    if let Some((_, best)) = group
        && take(best, &mut kvs)?
    {
        return Ok((kvs, true));
    }
    Ok((kvs, false))
}

/// Events for keys under `prefix` with revisions in `from..=to`, scanning at most
/// `max_scan` history records. Returns the events and the next revision to read from.
pub(super) fn events(
    db: &Database,
    prefix: &str,
    from: Revision,
    to: Revision,
    max_scan: usize,
) -> Result<(Vec<Event>, Revision)> {
    let txn = db.begin_read()?;
    let (_, compacted) = revisions(&txn)?;
    if from < compacted {
        return Err(StoreError::Compacted {
            requested: from,
            compacted,
        });
    }
    let history = txn.open_table(HISTORY)?;
    let mut events = Vec::new();
    let mut next = to.saturating_add(1);
    for (scanned, entry) in history.range(from..=to)?.enumerate() {
        let (rev, raw) = entry?;
        let rev = rev.value();
        if scanned >= max_scan {
            next = rev;
            break;
        }
        let record = Record::decode(raw.value())?;
        if record.key.starts_with(prefix) {
            events.push(event_from_record(&history, rev, record)?);
        }
    }
    Ok((events, next))
}

fn event_from_record(
    history: &impl ReadableTable<i64, HistoryValue>,
    revision: Revision,
    record: Record,
) -> Result<Event> {
    // The previous write survives compaction while this one is readable (compaction keeps
    // each key's newest write at or below the compaction point), unless it was a delete.
    let prev = match record.prev_mod_revision {
        0 => None,
        prev_rev => schema::history_record(history, prev_rev)?
            .filter(|r| r.kind == EventKind::Put)
            .map(|r| r.key_value(prev_rev)),
    };
    Ok(Event {
        kind: record.kind,
        revision,
        kv: record.key_value(revision),
        prev,
    })
}
