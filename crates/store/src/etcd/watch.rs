//! Watches: one etcd watch (its own gRPC stream) per store watch, translated to store
//! events.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use futures::StreamExt;

use super::convert::{key_value, prefix_end, range_start};
use crate::{Event, EventKind, Result, Revision, StoreError, WatchStream};

/// State of one translated watch.
struct State {
    /// Holds the request half open too: etcd keeps the watch as long as the stream lives.
    etcd: etcd_client::WatchStream,
    pending: VecDeque<Result<Event>>,
    done: bool,
    /// The revision the next event must have at least (for `Compacted` errors).
    next: Revision,
    /// The store's knowledge of the compaction point, raised from watch responses.
    compacted: Arc<AtomicI64>,
}

impl State {
    /// Queues the events (or the terminal error) of one etcd watch response.
    fn absorb(&mut self, resp: &etcd_client::WatchResponse) {
        if resp.compact_revision() > 0 {
            // The watcher's start (or its position, if it fell behind) was compacted away.
            self.compacted
                .fetch_max(resp.compact_revision(), Ordering::SeqCst);
            self.pending.push_back(Err(StoreError::Compacted {
                requested: self.next,
                compacted: resp.compact_revision(),
            }));
            self.done = true;
            return;
        }
        if resp.canceled() {
            self.pending.push_back(Err(StoreError::Backend(format!(
                "etcd canceled the watch: {}",
                resp.cancel_reason()
            ))));
            self.done = true;
            return;
        }
        for event in resp.events() {
            match translate(event) {
                Ok(event) => {
                    self.next = event.revision + 1;
                    self.pending.push_back(Ok(event));
                }
                Err(e) => {
                    self.pending.push_back(Err(e));
                    self.done = true;
                    return;
                }
            }
        }
    }
}

/// One etcd event as a store event. A deleted key has version 0 in etcd (that is how the
/// kind is told apart without trusting the raw event type); the store's delete event
/// carries the previous value with `mod_revision` set to the deletion's revision.
fn translate(event: &etcd_client::Event) -> Result<Event> {
    let raw = event
        .kv()
        .ok_or_else(|| StoreError::Backend("etcd watch event without key value".into()))?;
    let revision = raw.mod_revision();
    let prev = event.prev_kv().map(key_value).transpose()?;
    if raw.version() == 0 {
        let kv = match &prev {
            Some(prev) => crate::KeyValue {
                mod_revision: revision,
                ..prev.clone()
            },
            // etcd could not supply the old value; report what it gave.
            None => key_value(raw)?,
        };
        Ok(Event {
            kind: EventKind::Delete,
            revision,
            kv,
            prev,
        })
    } else {
        Ok(Event {
            kind: EventKind::Put,
            revision,
            kv: key_value(raw)?,
            prev,
        })
    }
}

/// Starts a watch on `prefix` from `start` and waits until etcd has accepted it, so a start
/// below the compaction point that etcd reports right away fails here with `Compacted`.
pub(super) async fn start(
    mut client: etcd_client::WatchClient,
    prefix: &str,
    start: Revision,
    compacted: Arc<AtomicI64>,
) -> Result<WatchStream> {
    let options = etcd_client::WatchOptions::new()
        .with_range(prefix_end(prefix.as_bytes()))
        .with_start_revision(start)
        .with_prev_key();
    let mut etcd = client
        .watch(range_start(prefix.as_bytes()), Some(options))
        .await
        .map_err(|e| StoreError::Backend(format!("etcd watch: {e}")))?;
    let first = etcd
        .message()
        .await
        .map_err(|e| StoreError::Backend(format!("etcd watch: {e}")))?
        .ok_or_else(|| StoreError::Backend("etcd closed the watch stream".into()))?;
    let mut state = State {
        etcd,
        pending: VecDeque::new(),
        done: false,
        next: start,
        compacted,
    };
    state.absorb(&first);
    if let Some(Err(StoreError::Compacted { .. })) = state.pending.front()
        && let Some(Err(e)) = state.pending.pop_front()
    {
        return Err(e);
    }
    Ok(futures::stream::unfold(state, next).boxed())
}

async fn next(mut state: State) -> Option<(Result<Event>, State)> {
    loop {
        if let Some(item) = state.pending.pop_front() {
            return Some((item, state));
        }
        if state.done {
            return None;
        }
        match state.etcd.message().await {
            Ok(Some(resp)) => state.absorb(&resp),
            Ok(None) => {
                state.done = true;
                state.pending.push_back(Err(StoreError::Backend(
                    "etcd closed the watch stream".into(),
                )));
            }
            Err(e) => {
                state.done = true;
                state
                    .pending
                    .push_back(Err(StoreError::Backend(format!("etcd watch: {e}"))));
            }
        }
    }
}
