//! Durability under SIGKILL: a child process writes concurrently and reports each
//! acknowledged write; the parent kills it at a random moment, reopens the store and checks
//! that every acknowledged write is there and that no value is partially written.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use store::embedded::EmbeddedStore;
use store::{RangeOptions, Store};

const CHILD_DIR: &str = "K8RS_STORE_CRASH_DIR";
const CHILD_ROUND: &str = "K8RS_STORE_CRASH_ROUND";
const WRITERS: usize = 16;
const ROUNDS: usize = 4;

/// A value whose every byte depends on the key, so a torn write cannot pass for whole.
fn value_for(key: &str) -> Vec<u8> {
    let seed = key
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (0..4096u32)
        .map(|i| (seed.wrapping_add(i.wrapping_mul(2654435761)) >> 24) as u8)
        .collect()
}

/// Pseudo-random in [lo, hi) without a dependency: the clock's nanoseconds.
fn pick(lo: usize, hi: usize) -> usize {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    lo + (nanos as usize) % (hi - lo)
}

/// The writer: runs until killed, printing `ACK <key>` after each acknowledged create.
fn child(dir: &str, round: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = EmbeddedStore::open(std::path::Path::new(dir)).unwrap();
        let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            let out = out.clone();
            let round = round.to_string();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let key = format!("/crash/{round}/{w}/{i}");
                    store
                        .create(&key, Bytes::from(value_for(&key)))
                        .await
                        .unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ACK {key}").unwrap();
                    o.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let (Ok(dir), Ok(round)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_ROUND)) {
        child(&dir, &round);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let mut proc = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "acknowledged_writes_survive_sigkill",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let kill_after = pick(50, 600);
        let mut lines = BufReader::new(proc.stdout.take().unwrap()).lines();
        let mut this_round = 0;
        while this_round < kill_after {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(key) = line.strip_prefix("ACK ") {
                acked.push(key.to_string());
                this_round += 1;
            }
        }
        // SIGKILL: no chance to flush or clean up.
        proc.kill().unwrap();
        // Acknowledgements printed before the kill landed still count.
        for line in lines.map_while(Result::ok) {
            if let Some(key) = line.strip_prefix("ACK ") {
                acked.push(key.to_string());
            }
        }
        proc.wait().unwrap();
        assert!(
            this_round > 0,
            "round {round}: the writer acknowledged nothing"
        );

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            for key in &acked {
                let kv = store
                    .get(key)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("acknowledged {key} lost"));
                assert_eq!(
                    kv.value.as_ref(),
                    value_for(key).as_slice(),
                    "{key} is torn"
                );
            }
            // Writes that were not acknowledged may be there or not, but never partially.
            let all = store
                .range("/crash/", RangeOptions::default())
                .await
                .unwrap();
            for kv in &all.kvs {
                assert_eq!(
                    kv.value.as_ref(),
                    value_for(&kv.key).as_slice(),
                    "{} is torn",
                    kv.key
                );
            }
            assert!(all.kvs.len() >= acked.len());
            // Revisions stay unique across the crash.
            let mut revs: Vec<i64> = all.kvs.iter().map(|kv| kv.mod_revision).collect();
            revs.sort_unstable();
            revs.dedup();
            assert_eq!(revs.len(), all.kvs.len(), "two keys share a revision");
        });
    }
}
