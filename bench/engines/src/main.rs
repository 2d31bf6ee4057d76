//! Engine comparison for the embedded store (docs/decisions/0002-store-engine.md): the same
//! MVCC-shaped workload on redb, SQLite (WAL, synchronous=FULL) and fjall (LSM), each
//! durable on every commit. A "write" is what the store does per revision: the key's current
//! value and a history record keyed by revision, in one transaction.
//!
//! Run: `make bench-engines` (release build; prints a Markdown table).

use std::path::Path;
use std::time::{Duration, Instant};

const VALUE: usize = 1024;
const SEQ: usize = 500;
const GROUP_BATCH: usize = 64;
const GROUPS: usize = 40;
const READS: usize = 5000;
const RANGE_KEYS: usize = 10_000;
const RANGES: usize = 20;
const LOAD: usize = 100_000;
const LOAD_BATCH: usize = 1000;
const CHURN_KEYS: usize = 10_000;
const CHURN_ROUNDS: usize = 20;
const CHURN_BATCH: usize = 100;
/// History records kept while churning; older ones are deleted (compaction).
const CHURN_KEEP: u64 = 20_000;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// What the store needs from an engine.
trait Engine {
    fn name(&self) -> &'static str;
    /// One durable transaction writing `(key, rev, value)` for each entry.
    fn write(&mut self, batch: &[(String, u64)], value: &[u8]) -> Res<()>;
    fn get(&mut self, key: &str) -> Res<Option<usize>>;
    /// Number of keys under `prefix`, reading every value.
    fn scan(&mut self, prefix: &str) -> Res<usize>;
    /// Durably deletes history records below `rev`.
    fn compact(&mut self, below: u64) -> Res<()>;
}

mod redb_engine {
    use super::*;
    use redb::{Database, ReadableDatabase, TableDefinition};

    const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
    const HISTORY: TableDefinition<u64, &[u8]> = TableDefinition::new("history");

    pub struct Redb(pub Database);

    pub fn open(dir: &Path) -> Res<Redb> {
        let db = Database::create(dir.join("db.redb"))?;
        let txn = db.begin_write()?;
        txn.open_table(KV)?;
        txn.open_table(HISTORY)?;
        txn.commit()?;
        Ok(Redb(db))
    }

    impl Engine for Redb {
        fn name(&self) -> &'static str {
            "redb"
        }
        fn write(&mut self, batch: &[(String, u64)], value: &[u8]) -> Res<()> {
            let txn = self.0.begin_write()?;
            {
                let mut kv = txn.open_table(KV)?;
                let mut history = txn.open_table(HISTORY)?;
                for (key, rev) in batch {
                    kv.insert(key.as_str(), value)?;
                    history.insert(*rev, value)?;
                }
            }
            txn.commit()?;
            Ok(())
        }
        fn get(&mut self, key: &str) -> Res<Option<usize>> {
            let txn = self.0.begin_read()?;
            let kv = txn.open_table(KV)?;
            Ok(kv.get(key)?.map(|v| v.value().len()))
        }
        fn scan(&mut self, prefix: &str) -> Res<usize> {
            let txn = self.0.begin_read()?;
            let kv = txn.open_table(KV)?;
            let mut n = 0;
            for entry in kv.range(prefix..)? {
                let (k, v) = entry?;
                if !k.value().starts_with(prefix) {
                    break;
                }
                std::hint::black_box(v.value().len());
                n += 1;
            }
            Ok(n)
        }
        fn compact(&mut self, below: u64) -> Res<()> {
            let txn = self.0.begin_write()?;
            {
                let mut history = txn.open_table(HISTORY)?;
                history.retain_in(..below, |_, _| false)?;
            }
            txn.commit()?;
            Ok(())
        }
    }
}

mod sqlite_engine {
    use super::*;
    use rusqlite::{Connection, params};

    pub struct Sqlite(pub Connection);

    pub fn open(dir: &Path) -> Res<Sqlite> {
        let conn = Connection::open(dir.join("db.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS history (rev INTEGER PRIMARY KEY, value BLOB);",
        )?;
        Ok(Sqlite(conn))
    }

    impl Engine for Sqlite {
        fn name(&self) -> &'static str {
            "SQLite (WAL)"
        }
        fn write(&mut self, batch: &[(String, u64)], value: &[u8]) -> Res<()> {
            let txn = self.0.transaction()?;
            {
                let mut kv = txn.prepare_cached("INSERT OR REPLACE INTO kv VALUES (?1, ?2)")?;
                let mut history = txn.prepare_cached("INSERT INTO history VALUES (?1, ?2)")?;
                for (key, rev) in batch {
                    kv.execute(params![key, value])?;
                    history.execute(params![*rev as i64, value])?;
                }
            }
            txn.commit()?;
            Ok(())
        }
        fn get(&mut self, key: &str) -> Res<Option<usize>> {
            let mut stmt = self
                .0
                .prepare_cached("SELECT value FROM kv WHERE key = ?1")?;
            let mut rows = stmt.query(params![key])?;
            Ok(match rows.next()? {
                Some(row) => Some(row.get_ref(0)?.as_blob()?.len()),
                None => None,
            })
        }
        fn scan(&mut self, prefix: &str) -> Res<usize> {
            let mut end = prefix.to_string();
            end.push(char::MAX);
            let mut stmt = self
                .0
                .prepare_cached("SELECT value FROM kv WHERE key >= ?1 AND key < ?2")?;
            let mut rows = stmt.query(params![prefix, end])?;
            let mut n = 0;
            while let Some(row) = rows.next()? {
                std::hint::black_box(row.get_ref(0)?.as_blob()?.len());
                n += 1;
            }
            Ok(n)
        }
        fn compact(&mut self, below: u64) -> Res<()> {
            self.0
                .execute("DELETE FROM history WHERE rev < ?1", params![below as i64])?;
            Ok(())
        }
    }
}

mod fjall_engine {
    use super::*;
    use fjall::{Config, Keyspace, PartitionCreateOptions, PartitionHandle, PersistMode};

    pub struct Fjall {
        keyspace: Keyspace,
        kv: PartitionHandle,
        history: PartitionHandle,
    }

    pub fn open(dir: &Path) -> Res<Fjall> {
        let keyspace = Config::new(dir.join("fjall")).open()?;
        let kv = keyspace.open_partition("kv", PartitionCreateOptions::default())?;
        let history = keyspace.open_partition("history", PartitionCreateOptions::default())?;
        Ok(Fjall {
            keyspace,
            kv,
            history,
        })
    }

    impl Engine for Fjall {
        fn name(&self) -> &'static str {
            "fjall (LSM)"
        }
        fn write(&mut self, batch: &[(String, u64)], value: &[u8]) -> Res<()> {
            let mut b = self.keyspace.batch();
            for (key, rev) in batch {
                b.insert(&self.kv, key.as_bytes(), value);
                b.insert(&self.history, rev.to_be_bytes(), value);
            }
            b.commit()?;
            self.keyspace.persist(PersistMode::SyncAll)?;
            Ok(())
        }
        fn get(&mut self, key: &str) -> Res<Option<usize>> {
            Ok(self.kv.get(key)?.map(|v| v.len()))
        }
        fn scan(&mut self, prefix: &str) -> Res<usize> {
            let mut n = 0;
            for entry in self.kv.prefix(prefix) {
                let (_, v) = entry?;
                std::hint::black_box(v.len());
                n += 1;
            }
            Ok(n)
        }
        fn compact(&mut self, below: u64) -> Res<()> {
            let mut b = self.keyspace.batch();
            for entry in self.history.range(..below.to_be_bytes()) {
                let (k, _) = entry?;
                b.remove(&self.history, k);
            }
            b.commit()?;
            self.keyspace.persist(PersistMode::SyncAll)?;
            Ok(())
        }
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

struct Measures {
    seq_ops: f64,
    group_ops: f64,
    read_p50: Duration,
    range_p50: Duration,
    load_ops: f64,
    reopen: Duration,
    first_scan: Duration,
    churn_ops: f64,
    churn_size: u64,
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn key(prefix: &str, i: usize) -> String {
    format!("/registry/{prefix}/{i:08}")
}

/// Runs every workload against the engine `open` creates in a fresh directory.
fn measure<E: Engine>(open: fn(&Path) -> Res<E>) -> Res<(&'static str, Measures)> {
    let value = vec![b'x'; VALUE];
    let dir = tempfile::tempdir()?;
    let mut e = open(dir.path())?;
    let mut rev = 0u64;
    let mut next = |n: usize, prefix: &str, start: usize| -> Vec<(String, u64)> {
        (0..n)
            .map(|i| {
                rev += 1;
                (key(prefix, start + i), rev)
            })
            .collect()
    };

    let t = Instant::now();
    for i in 0..SEQ {
        e.write(&next(1, "seq", i), &value)?;
    }
    let seq_ops = SEQ as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    for g in 0..GROUPS {
        e.write(&next(GROUP_BATCH, "group", g * GROUP_BATCH), &value)?;
    }
    let group_ops = (GROUPS * GROUP_BATCH) as f64 / t.elapsed().as_secs_f64();

    let mut reads = Vec::with_capacity(READS);
    for i in 0..READS {
        let k = key("seq", (i * 7919) % SEQ);
        let t = Instant::now();
        e.get(&k)?.ok_or("missing key")?;
        reads.push(t.elapsed());
    }

    for b in 0..RANGE_KEYS / LOAD_BATCH {
        e.write(&next(LOAD_BATCH, "range", b * LOAD_BATCH), &value)?;
    }
    let mut ranges = Vec::with_capacity(RANGES);
    for _ in 0..RANGES {
        let t = Instant::now();
        let n = e.scan("/registry/range/")?;
        ranges.push(t.elapsed());
        assert_eq!(n, RANGE_KEYS);
    }

    let t = Instant::now();
    for b in 0..LOAD / LOAD_BATCH {
        e.write(&next(LOAD_BATCH, "load", b * LOAD_BATCH), &value)?;
    }
    let load_ops = LOAD as f64 / t.elapsed().as_secs_f64();
    let name = e.name();
    drop(e);
    let t = Instant::now();
    let mut e = open(dir.path())?;
    let reopen = t.elapsed();
    let t = Instant::now();
    assert_eq!(e.scan("/registry/load/")?, LOAD);
    let first_scan = t.elapsed();
    drop(e);

    // Churn in a fresh directory: the same keys rewritten, history compacted as we go.
    let churn_dir = tempfile::tempdir()?;
    let mut e = open(churn_dir.path())?;
    let mut rev = 0u64;
    let t = Instant::now();
    for _ in 0..CHURN_ROUNDS {
        for b in 0..CHURN_KEYS / CHURN_BATCH {
            let batch: Vec<(String, u64)> = (0..CHURN_BATCH)
                .map(|i| {
                    rev += 1;
                    (key("churn", b * CHURN_BATCH + i), rev)
                })
                .collect();
            e.write(&batch, &value)?;
        }
        e.compact(rev.saturating_sub(CHURN_KEEP))?;
    }
    let churn_ops = (CHURN_ROUNDS * CHURN_KEYS) as f64 / t.elapsed().as_secs_f64();
    let churn_size = dir_size(churn_dir.path());

    Ok((
        name,
        Measures {
            seq_ops,
            group_ops,
            read_p50: p50(reads),
            range_p50: p50(ranges),
            load_ops,
            reopen,
            first_scan,
            churn_ops,
            churn_size,
        },
    ))
}

fn ms(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn main() -> Res<()> {
    let results = vec![
        measure(redb_engine::open)?,
        measure(sqlite_engine::open)?,
        measure(fjall_engine::open)?,
    ];
    println!(
        "| engine | durable 1-write txns/s | writes/s in 64-write txns | point read p50 | \
         10k-key range p50 | bulk load writes/s | reopen with 100k keys | first 100k scan | \
         churn writes/s | data size after churn |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, m) in results {
        println!(
            "| {name} | {:.0} | {:.0} | {} | {} | {:.0} | {} | {} | {:.0} | {:.1} MiB |",
            m.seq_ops,
            m.group_ops,
            ms(m.read_p50),
            ms(m.range_p50),
            m.load_ops,
            ms(m.reopen),
            ms(m.first_scan),
            m.churn_ops,
            m.churn_size as f64 / (1024.0 * 1024.0)
        );
    }
    println!();
    println!(
        "(1 KiB values; each write = current value + history record in one transaction, \
         fsync per commit; churn = {CHURN_KEYS} keys rewritten {CHURN_ROUNDS} times in \
         {CHURN_BATCH}-write transactions, history older than {CHURN_KEEP} revisions deleted \
         after every round)"
    );
    Ok(())
}
