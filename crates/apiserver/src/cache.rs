//! The watch cache: every object under `/registry/`, kept current by one store watch, plus a
//! window of recent events. Lists and watches are served from it, as kube-apiserver's
//! cacher does, so a hundred watchers of a resource cost one decode and one serialization
//! per change instead of a hundred, and a list does not touch the store.
//!
//! One watch over the whole keyspace (rather than one per resource) means the cache sees
//! every revision the store writes, so "the cache has caught up with the store" is simply
//! `cache revision >= store revision`: that is how consistent reads (a list without a
//! resourceVersion) are served from the cache, as upstream does since 1.31.
//!
//! The cache starts on first use. Until it has loaded, and for requests it cannot answer
//! (exact revisions, continue tokens, watches older than its event window), callers use
//! the store directly.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::Duration;

use apimachinery::registry::ResourceInfo;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use store::{EventKind, KeyValue, RangeOptions, Revision, Store};
use tokio::sync::broadcast;

use crate::object::{decode, to_served};

/// The prefix of everything the API server stores.
const ROOT: &str = "/registry/";
/// Events kept for watches that resume from a recent resourceVersion.
const EVENT_WINDOW: usize = 10_000;
/// Events buffered per watcher before it counts as too slow.
const BROADCAST_CAPACITY: usize = 4096;
/// How long a consistent read waits for the cache to catch up before using the store
/// (upstream's cacher waits up to 3 s).
pub const FRESHNESS_WAIT: Duration = Duration::from_secs(3);

/// One object as of one revision. It is kept serialized (what lists and watches send), with
/// a small view of what selectors read, rather than as a parsed tree: a parsed
/// `serde_json::Value` costs several times the object's JSON size, and the cache holds
/// every object of the cluster.
pub struct CachedObject {
    /// Store key.
    pub key: String,
    /// The object's JSON with `metadata.resourceVersion` set, in the stored version.
    json: Bytes,
    /// apiVersion and kind of `json`.
    api_version: String,
    kind: String,
    /// What selectors read: metadata (name, namespace, labels, resourceVersion) and the
    /// fields the kind's field selectors support.
    pub view: Value,
}

/// The selector-relevant part of an object: metadata selectors read, and the value of
/// each field selector the kind supports, already as the string selectors compare.
pub fn selector_view(obj: &Value) -> Value {
    let meta = obj.get("metadata");
    let mut view = json!({"metadata": {}});
    for f in ["name", "namespace", "labels", "resourceVersion"] {
        if let Some(v) = meta.and_then(|m| m.get(f)) {
            view["metadata"][f] = v.clone();
        }
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let custom =
        apimachinery::registry::lookup_kind(api_version, kind).and_then(crate::crd::version_of);
    let fields: Vec<&str> = match &custom {
        Some(v) => v
            .served
            .selectable_fields
            .iter()
            .map(String::as_str)
            .collect(),
        None => crate::rest::supported_fields(kind).to_vec(),
    };
    for field in fields {
        let value = match &custom {
            Some(_) => apimachinery::crd::columns::evaluate(obj, &format!(".{field}"))
                .first()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
            None => crate::rest::selectable_value(kind, field, obj),
        };
        let mut dst = &mut view;
        let parts: Vec<&str> = field.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                dst[*part] = Value::String(value.clone());
            } else {
                if !dst.get(*part).is_some_and(Value::is_object) {
                    dst[*part] = json!({});
                }
                dst = &mut dst[*part];
            }
        }
    }
    view
}

impl CachedObject {
    fn new(key: String, value: Value) -> Arc<CachedObject> {
        let view = selector_view(&value);
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        Arc::new(CachedObject {
            key,
            json,
            api_version,
            kind,
            view,
        })
    }

    /// An object that is not in the cache (read from the store).
    pub fn detached(value: Value) -> Arc<CachedObject> {
        CachedObject::new(String::new(), value)
    }

    /// The object a store event carries, stamped with `revision`; None if undecodable.
    pub fn from_event_kv(kv: &KeyValue, revision: Revision) -> Option<Arc<CachedObject>> {
        match decode(kv) {
            Ok(mut v) => {
                crate::object::set_resource_version(&mut v, revision);
                Some(CachedObject::new(kv.key.clone(), v))
            }
            Err(e) => {
                tracing::warn!(key = %kv.key, %e, "undecodable stored object skipped");
                None
            }
        }
    }

    /// The same object as of a later revision (a delete's), resourceVersion updated.
    fn at_revision(&self, revision: Revision) -> Arc<CachedObject> {
        let mut v: Value = serde_json::from_slice(&self.json).unwrap_or_default();
        crate::object::set_resource_version(&mut v, revision);
        CachedObject::new(self.key.clone(), v)
    }

    /// The resourceVersion, as served.
    pub fn resource_version(&self) -> Value {
        self.view
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The object as `info` serves it (parsed anew: used for Tables and conversions).
    pub fn typed(&self, info: &ResourceInfo) -> Value {
        let mut v: Value = serde_json::from_slice(&self.json).unwrap_or_default();
        if self.api_version == info.api_version() {
            crate::object::set_type_meta(&mut v, info);
        } else {
            to_served(&mut v, info);
        }
        v
    }

    /// The object's JSON as served for `info`: the cached bytes when they are in `info`'s
    /// version already, otherwise converted and serialized anew.
    pub fn json(&self, info: &ResourceInfo) -> Bytes {
        if self.kind == info.kind && self.api_version == info.api_version() {
            self.json.clone()
        } else {
            Bytes::from(serde_json::to_vec(&self.typed(info)).unwrap_or_default())
        }
    }
}

/// One change, shared by every watcher.
pub struct CachedEvent {
    pub revision: Revision,
    pub kind: EventKind,
    /// The new state (for a delete: the last state, with the deletion's revision).
    pub object: Arc<CachedObject>,
    /// The state before, if the key existed.
    pub prev: Option<Arc<CachedObject>>,
}

struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    /// The revision the cache reflects.
    revision: Revision,
    /// Recent events, oldest first; every event newer than `window_from` is here.
    events: VecDeque<Arc<CachedEvent>>,
    window_from: Revision,
    /// Live events; replaced (closing every watcher) when the cache reloads.
    sender: broadcast::Sender<Arc<CachedEvent>>,
}

/// The watch cache (see the module docs).
pub struct WatchCache {
    state: RwLock<Option<State>>,
    revision: tokio::sync::watch::Sender<Revision>,
    started: OnceLock<()>,
    snapshots: std::sync::Mutex<VecDeque<Snapshot>>,
}

/// A watcher's view: the events to replay, then the live ones.
pub struct Subscription {
    pub replay: Vec<Arc<CachedEvent>>,
    /// The current objects under the prefix, if asked for.
    pub initial: Vec<Arc<CachedObject>>,
    /// The revision the watcher has seen up to: the requested one when resuming, the
    /// cache's when starting from the current state.
    pub revision: Revision,
    pub live: broadcast::Receiver<Arc<CachedEvent>>,
}

/// The objects of a paginated list, kept for its later pages.
struct Snapshot {
    revision: Revision,
    prefix: String,
    items: Arc<Vec<Arc<CachedObject>>>,
    taken: std::time::Instant,
}

/// Snapshots kept for paginated lists (bounded: each holds one pointer per object).
const MAX_SNAPSHOTS: usize = 16;
/// How long a paginated list may take between pages before it reads the store instead.
const SNAPSHOT_TTL: Duration = Duration::from_secs(300);

/// Up to `limit` objects `keep` accepts, and the key to continue after if more remain.
fn page_of<'a>(
    objects: impl Iterator<Item = &'a Arc<CachedObject>>,
    limit: Option<usize>,
    keep: &impl Fn(&Value) -> bool,
) -> (Vec<Arc<CachedObject>>, Option<String>) {
    let mut items: Vec<Arc<CachedObject>> = Vec::new();
    for obj in objects.filter(|o| keep(&o.view)) {
        if limit.is_some_and(|l| items.len() >= l) {
            let next = items.last().map(|o| o.key.clone());
            return (items, next);
        }
        items.push(obj.clone());
    }
    (items, None)
}

/// A list page served from the cache.
pub struct Page {
    pub items: Vec<Arc<CachedObject>>,
    pub revision: Revision,
    /// The key after which the next page starts, if there is one.
    pub next_key: Option<String>,
}

impl Default for WatchCache {
    fn default() -> Self {
        WatchCache {
            state: RwLock::new(None),
            revision: tokio::sync::watch::Sender::new(0),
            started: OnceLock::new(),
            snapshots: Default::default(),
        }
    }
}

impl WatchCache {
    /// Starts loading on first call (later calls do nothing); returns whether it is ready.
    pub fn ensure_started(self: &Arc<Self>, store: &Arc<dyn Store>) -> bool {
        if self.started.set(()).is_ok() {
            tokio::spawn(feed(Arc::downgrade(self), store.clone()));
        }
        self.read(|_| ()).is_some()
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Option<T> {
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(f)
    }

    /// The revision the cache reflects (0 before it has loaded).
    pub fn revision(&self) -> Revision {
        *self.revision.borrow()
    }

    /// Waits until the cache reflects at least `revision`; false on timeout or not loaded.
    pub async fn wait_for(&self, revision: Revision, timeout: Duration) -> bool {
        let mut rx = self.revision.subscribe();
        let caught_up = tokio::time::timeout(timeout, rx.wait_for(|r| *r >= revision)).await;
        matches!(caught_up, Ok(Ok(_))) && self.read(|_| ()).is_some()
    }

    /// Waits until the cache has every write the store has acknowledged.
    pub async fn wait_fresh(&self, store: &Arc<dyn Store>) -> bool {
        match store.current_revision().await {
            Ok(current) => self.wait_for(current, FRESHNESS_WAIT).await,
            Err(_) => false,
        }
    }

    /// A list page of the current objects under `prefix` that `keep` accepts, at most
    /// `limit`. When more remain, the objects under `prefix` are kept as a snapshot, so the
    /// following pages (`continue_page`) show the same revision, as a paginated list must.
    pub fn list(
        &self,
        prefix: &str,
        limit: Option<usize>,
        keep: impl Fn(&Value) -> bool,
    ) -> Option<Page> {
        let (page, all) = self.read(|s| {
            let objects = s
                .objects
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(_, o)| o);
            let (items, next_key) = page_of(objects.clone(), limit, &keep);
            let all: Option<Vec<Arc<CachedObject>>> =
                next_key.is_some().then(|| objects.cloned().collect());
            (
                Page {
                    items,
                    revision: s.revision,
                    next_key,
                },
                all,
            )
        })?;
        if let Some(items) = all {
            let mut snaps = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
            snaps.retain(|s| s.taken.elapsed() < SNAPSHOT_TTL);
            if snaps.len() >= MAX_SNAPSHOTS {
                snaps.pop_front();
            }
            snaps.push_back(Snapshot {
                revision: page.revision,
                prefix: prefix.to_string(),
                items: Arc::new(items),
                taken: std::time::Instant::now(),
            });
        }
        Some(page)
    }

    /// The page after `start_after` of the snapshot taken at `revision` for `prefix`; None
    /// if there is no such snapshot (expired, or taken by another server): the caller then
    /// reads the store at that revision.
    pub fn continue_page(
        &self,
        prefix: &str,
        revision: Revision,
        start_after: &str,
        limit: Option<usize>,
        keep: impl Fn(&Value) -> bool,
    ) -> Option<Page> {
        let items = {
            let snaps = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
            snaps
                .iter()
                .find(|s| {
                    s.revision == revision && s.prefix == prefix && s.taken.elapsed() < SNAPSHOT_TTL
                })
                .map(|s| s.items.clone())?
        };
        let from = items.partition_point(|o| o.key.as_str() <= start_after);
        let (items, next_key) = page_of(items[from..].iter(), limit, &keep);
        Some(Page {
            items,
            revision,
            next_key,
        })
    }

    /// Subscribes to changes under `prefix` after `from` (None: from now, with the current
    /// objects as `initial` when `with_initial`). None if the cache is not loaded or no
    /// longer holds the events after `from`.
    pub fn subscribe(
        &self,
        prefix: &str,
        from: Option<Revision>,
        with_initial: bool,
    ) -> Option<Subscription> {
        self.read(|s| {
            let replay = match from {
                Some(rv) if rv < s.window_from => return None,
                Some(rv) => s
                    .events
                    .iter()
                    .skip_while(|e| e.revision <= rv)
                    .filter(|e| e.object.key.starts_with(prefix))
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            let initial = if with_initial {
                s.objects
                    .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(_, o)| o.clone())
                    .collect()
            } else {
                Vec::new()
            };
            Some(Subscription {
                replay,
                initial,
                // Where the watcher stands: events after this are new to it.
                revision: from.unwrap_or(s.revision),
                live: s.sender.subscribe(),
            })
        })
        .flatten()
    }

    /// For a watcher that fell behind: the events after `from` and a new receiver, if the
    /// window still holds them.
    pub fn resume(&self, prefix: &str, from: Revision) -> Option<Subscription> {
        self.subscribe(prefix, Some(from), false)
    }

    /// Recomputes the selector views of the objects under `prefix` (a custom resource's
    /// selectable fields changed, or its definition was not served yet when they were
    /// loaded).
    pub fn refresh_views(&self, prefix: &str) {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        let Some(s) = guard.as_mut() else { return };
        let keys: Vec<String> = s
            .objects
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Some(old) = s.objects.get(&key)
                && let Ok(value) = serde_json::from_slice::<Value>(&old.json)
            {
                let fresh = CachedObject::new(key.clone(), value);
                s.objects.insert(key, fresh);
            }
        }
    }

    /// The store compacted its history below `revision`: events older than that leave the
    /// window too, so a watch from before the compaction gets 410 Gone (from the store)
    /// just as it would without the cache.
    pub fn compacted(&self, revision: Revision) {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        let Some(s) = guard.as_mut() else { return };
        while s.events.front().is_some_and(|e| e.revision < revision) {
            s.events.pop_front();
        }
        s.window_from = s.window_from.max(revision - 1);
    }

    fn load(&self, objects: BTreeMap<String, Arc<CachedObject>>, revision: Revision) {
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        *guard = Some(State {
            objects,
            revision,
            events: VecDeque::new(),
            window_from: revision,
            sender: broadcast::channel(BROADCAST_CAPACITY).0,
        });
        drop(guard);
        self.revision.send_replace(revision);
    }

    fn apply(&self, ev: store::Event) {
        // An undecodable value (never written by this server) is left out, but its
        // revision still counts, so consistent reads do not wait for it.
        let object = CachedObject::from_event_kv(&ev.kv, ev.revision);
        let mut guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        let Some(s) = guard.as_mut() else { return };
        s.revision = s.revision.max(ev.revision);
        let revision = s.revision;
        // A delete whose old value the store could not supply (etcd after compaction of
        // prev_kv) is still a delete: watchers get the last state the cache has.
        let object = object.or_else(|| match ev.kind {
            EventKind::Delete => s
                .objects
                .get(&ev.kv.key)
                .map(|cached| cached.at_revision(ev.revision)),
            EventKind::Put => None,
        });
        let Some(object) = object else {
            s.objects.remove(&ev.kv.key);
            drop(guard);
            self.revision.send_replace(revision);
            return;
        };
        let prev = match ev.kind {
            EventKind::Put => s.objects.insert(ev.kv.key.clone(), object.clone()),
            EventKind::Delete => s.objects.remove(&ev.kv.key),
        };
        let event = Arc::new(CachedEvent {
            revision: ev.revision,
            kind: ev.kind,
            object,
            prev,
        });
        s.events.push_back(event.clone());
        while s.events.len() > EVENT_WINDOW {
            if let Some(old) = s.events.pop_front() {
                // Never below a compaction point already recorded (the cache may apply
                // events the store has since compacted).
                s.window_from = s.window_from.max(old.revision);
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = s.sender.send(event);
        drop(guard);
        self.revision.send_replace(revision);
    }
}

/// Loads everything, then follows the store; reloads if the watch breaks (e.g. compacted
/// while the cache fell behind). Stops when the API server is gone.
async fn feed(cache: Weak<WatchCache>, store: Arc<dyn Store>) {
    loop {
        let loaded = match load_all(&store).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(%e, "watch cache: load failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (objects, revision) = loaded;
        let mut stream = match store.watch(ROOT, revision + 1).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%e, "watch cache: watch failed; reloading");
                continue;
            }
        };
        match cache.upgrade() {
            Some(c) => c.load(objects, revision),
            None => return,
        }
        tracing::debug!(revision, "watch cache loaded");
        while let Some(ev) = stream.next().await {
            let Some(c) = cache.upgrade() else { return };
            match ev {
                Ok(ev) => c.apply(ev),
                Err(e) => {
                    tracing::warn!(%e, "watch cache: store watch ended; reloading");
                    break;
                }
            }
        }
    }
}

async fn load_all(
    store: &Arc<dyn Store>,
) -> Result<(BTreeMap<String, Arc<CachedObject>>, Revision), store::StoreError> {
    let mut objects = BTreeMap::new();
    let mut opts = RangeOptions {
        limit: Some(10_000),
        ..Default::default()
    };
    loop {
        let page = store.range(ROOT, opts.clone()).await?;
        for kv in &page.kvs {
            insert_loaded(&mut objects, kv);
        }
        opts.revision = Some(page.revision);
        opts.start_after = page.kvs.last().map(|kv| kv.key.clone());
        if !page.more || page.kvs.is_empty() {
            return Ok((objects, page.revision));
        }
    }
}

fn insert_loaded(objects: &mut BTreeMap<String, Arc<CachedObject>>, kv: &KeyValue) {
    if let Some(obj) = CachedObject::from_event_kv(kv, kv.mod_revision) {
        objects.insert(kv.key.clone(), obj);
    }
}
