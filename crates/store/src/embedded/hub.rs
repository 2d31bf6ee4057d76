//! Watch fan-out. The writer publishes each committed batch of events once, in revision
//! order, on a bounded broadcast channel; every watcher filters it by prefix. Live events
//! come from memory, never from polling the database.
//!
//! A watcher starts (and restarts) like this: subscribe to the channel and read the
//! current revision `S` under one lock, replay `start..=S` from the history table, then
//! take live batches, skipping anything it has already delivered. Because the writer
//! commits before it publishes, and publishes under the same lock, every revision above
//! `S` arrives on the subscription: no gap and no duplicate.
//!
//! A watcher that falls further behind than the channel's capacity does not hold memory:
//! it drops its subscription and catches up from the history table the same way. Its
//! stream ends with `StoreError::Compacted` only if the history it still needs has been
//! compacted meanwhile (the client then re-lists, as after a 410).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use tokio::sync::broadcast;

use super::{Inner, history};
use crate::{Event, Revision, StoreError, WatchStream};

/// Events of one committed transaction, in revision order.
type Batch = Arc<Vec<Event>>;

/// Most history records read per blocking replay step.
const REPLAY_CHUNK: usize = 512;

pub(super) struct Hub {
    state: Mutex<HubState>,
}

struct HubState {
    /// The newest committed revision.
    current: Revision,
    /// `None` once the store has shut down.
    sender: Option<broadcast::Sender<Batch>>,
}

impl Hub {
    pub fn new(current: Revision, capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Hub {
            state: Mutex::new(HubState {
                current,
                sender: Some(sender),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // The state stays valid even if a holder panicked.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn current(&self) -> Revision {
        self.lock().current
    }

    /// Called by the writer after each commit.
    pub fn publish(&self, current: Revision, events: Vec<Event>) {
        let mut state = self.lock();
        state.current = current;
        if let Some(sender) = &state.sender
            && !events.is_empty()
        {
            // An error only means nobody is watching right now.
            let _ = sender.send(Arc::new(events));
        }
    }

    /// Ends every watch stream (after their pending events).
    pub fn close(&self) {
        self.lock().sender = None;
    }

    /// A subscription plus the revision up to which the history table must be replayed.
    fn subscribe(&self) -> Option<(broadcast::Receiver<Batch>, Revision)> {
        let state = self.lock();
        let sender = state.sender.as_ref()?;
        Some((sender.subscribe(), state.current))
    }
}

struct Live {
    receiver: broadcast::Receiver<Batch>,
    /// History up to here must be replayed before taking live batches.
    replay_to: Revision,
}

struct Watcher {
    inner: Arc<Inner>,
    prefix: String,
    /// The next revision this watcher may deliver.
    next: Revision,
    live: Option<Live>,
    pending: VecDeque<Event>,
    finished: bool,
}

/// A stream of events for keys under `prefix` with revision >= `start`.
pub(super) fn watch(inner: Arc<Inner>, prefix: String, start: Revision) -> WatchStream {
    let watcher = Watcher {
        inner,
        prefix,
        next: start,
        live: None,
        pending: VecDeque::new(),
        finished: false,
    };
    futures::stream::unfold(watcher, |mut w| async move {
        let item = w.next_item().await?;
        Some((item, w))
    })
    .boxed()
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<Event, StoreError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            let Some(live) = self.live.as_mut() else {
                let (receiver, replay_to) = self.inner.hub.subscribe()?;
                self.live = Some(Live {
                    receiver,
                    replay_to,
                });
                continue;
            };
            if self.next <= live.replay_to {
                let replay_to = live.replay_to;
                match self.replay(replay_to).await {
                    Ok(()) => continue,
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
            }
            match live.receiver.recv().await {
                Ok(batch) => {
                    let next = self.next;
                    self.pending.extend(
                        batch
                            .iter()
                            .filter(|e| e.revision >= next && e.kv.key.starts_with(&self.prefix))
                            .cloned(),
                    );
                    if let Some(last) = batch.last() {
                        self.next = self.next.max(last.revision + 1);
                    }
                }
                // Too far behind: drop the subscription and catch up from disk.
                Err(broadcast::error::RecvError::Lagged(_)) => self.live = None,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Reads one chunk of history (`self.next..=to`) into `pending`.
    async fn replay(&mut self, to: Revision) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        let prefix = self.prefix.clone();
        let from = self.next;
        let (events, next) = tokio::task::spawn_blocking(move || {
            history::events(&inner.db, &prefix, from, to, REPLAY_CHUNK)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("history read failed: {e}")))??;
        self.pending.extend(events);
        self.next = next;
        Ok(())
    }
}
