//! Watch: a stream of ADDED/MODIFIED/DELETED (and BOOKMARK, ERROR) events from a
//! resourceVersion, filtered by selectors the way kube-apiserver does (an object leaving
//! the selection is seen as DELETED, one entering it as ADDED).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::status::ApiError;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use store::{EventKind, StoreError};
use tokio::sync::broadcast;

use crate::ApiServer;
use crate::cache::{CachedEvent, CachedObject, WatchCache};
use crate::handler::Ctx;
use crate::request::ResourceRequest;
use crate::rest::{self, Filter};

/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);
/// Upstream closes watches after a random 30-60 minutes when the client sets no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn event_bytes(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn error_event(err: &ApiError) -> Bytes {
    event_bytes("ERROR", &err.to_status())
}

/// Where a watch's events come from: the watch cache (normally) or the store's history
/// (when the cache is not loaded yet or no longer holds the requested revision).
enum Source {
    Cache {
        cache: Arc<WatchCache>,
        prefix: String,
        pending: VecDeque<Arc<CachedEvent>>,
        live: broadcast::Receiver<Arc<CachedEvent>>,
    },
    Store(store::WatchStream),
}

/// What a source yields next.
enum Next {
    /// An event (possibly for another resource: the cache's stream carries every revision).
    Event(Arc<CachedEvent>),
    /// The watch must end, with an ERROR event if given.
    End(Option<ApiError>),
}

impl Source {
    async fn next(&mut self, last_rv: i64) -> Next {
        match self {
            Source::Cache {
                cache,
                prefix,
                pending,
                live,
            } => loop {
                if let Some(ev) = pending.pop_front() {
                    return Next::Event(ev);
                }
                match live.recv().await {
                    Ok(ev) => return Next::Event(ev),
                    // Too slow for the live stream: catch up from the event window, or end
                    // (the client resumes from its last resourceVersion, as upstream's
                    // cacher makes slow watchers do).
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        match cache.resume(prefix, last_rv) {
                            Some(sub) => {
                                pending.extend(sub.replay);
                                *live = sub.live;
                            }
                            None => return Next::End(None),
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Next::End(None),
                }
            },
            Source::Store(stream) => {
                let Some(ev) = stream.next().await else {
                    return Next::End(None);
                };
                match ev {
                    Ok(ev) => {
                        let Some(object) = CachedObject::from_event_kv(&ev.kv, ev.revision) else {
                            return Next::End(Some(ApiError::internal("undecodable object")));
                        };
                        let prev = ev
                            .prev
                            .as_ref()
                            .and_then(|p| CachedObject::from_event_kv(p, p.mod_revision))
                            .or_else(|| {
                                // The store could not supply the old value of an update
                                // (etcd drops prev_kv it has compacted): report a change,
                                // not a creation.
                                let updated = ev.kind == EventKind::Put
                                    && ev.kv.create_revision != ev.kv.mod_revision;
                                updated.then(|| object.clone())
                            });
                        Next::Event(Arc::new(CachedEvent {
                            revision: ev.revision,
                            kind: ev.kind,
                            object,
                            prev,
                        }))
                    }
                    Err(StoreError::Compacted {
                        requested,
                        compacted,
                    }) => Next::End(Some(too_old(requested, compacted))),
                    Err(e) => Next::End(Some(ApiError::internal(e.to_string()))),
                }
            }
        }
    }
}

fn too_old(requested: i64, compacted: i64) -> ApiError {
    ApiError::expired(format!(
        "too old resource version: {requested} ({compacted})"
    ))
}

/// The initial state, the revision it ends at, and the source of what follows.
struct Start {
    initial: Vec<Arc<CachedObject>>,
    revision: i64,
    source: Source,
}

/// Serves the watch from the cache if it can: None means "use the store".
async fn start_from_cache(
    api: &Arc<ApiServer>,
    prefix: &str,
    requested: Option<i64>,
    send_initial: bool,
    consistent: bool,
) -> Option<Start> {
    let cache = api.cache();
    if !cache.ensure_started(api.store()) {
        return None;
    }
    let sub = match requested {
        Some(rv) if !send_initial => cache.subscribe(prefix, Some(rv), false)?,
        _ => {
            // Initial state: consistent (no resourceVersion) means everything written so
            // far; with a resourceVersion, at least that one.
            let fresh = match requested {
                None if consistent => cache.wait_fresh(api.store()).await,
                Some(rv) => cache.wait_for(rv, crate::cache::FRESHNESS_WAIT).await,
                None => true,
            };
            if !fresh {
                return None;
            }
            cache.subscribe(prefix, None, true)?
        }
    };
    Some(Start {
        initial: sub.initial,
        revision: sub.revision,
        source: Source::Cache {
            cache: cache.clone(),
            prefix: prefix.to_string(),
            pending: sub.replay.into(),
            live: sub.live,
        },
    })
}

/// A watch from a resourceVersion the store has not reached yet waits a little for it
/// (another API server on the same etcd may be ahead of this one's cache), then fails
/// as upstream does.
async fn check_not_from_future(api: &Arc<ApiServer>, rv: i64) -> Result<(), ApiError> {
    let cache = api.cache();
    if cache.revision() >= rv {
        return Ok(());
    }
    if cache.ensure_started(api.store()) && cache.wait_for(rv, crate::cache::FRESHNESS_WAIT).await {
        return Ok(());
    }
    let current = api
        .store()
        .current_revision()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if current >= rv {
        return Ok(());
    }
    Err(rest::too_large_resource_version(rv, current))
}

/// Serves the watch from the store's history (and a store list for the initial state).
async fn start_from_store(
    api: &Arc<ApiServer>,
    r: &ResourceRequest,
    ctx: &Ctx,
    prefix: &str,
    requested: Option<i64>,
    send_initial: bool,
) -> Result<Result<Start, ApiError>, ApiError> {
    let mut initial = Vec::new();
    let start = match requested {
        Some(rv) if !send_initial => rv + 1,
        _ => {
            let list_ctx = Ctx {
                user: ctx.user.clone(),
                query: Default::default(),
                accept: String::new(),
                content_type: String::new(),
                user_agent: String::new(),
                warnings: Default::default(),
            };
            let (items, meta) = rest::list_items(api, r, &list_ctx).await?;
            initial = items.into_iter().map(CachedObject::detached).collect();
            let listed: i64 = meta["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            listed + 1
        }
    };
    match api.store().watch(prefix, start).await {
        Ok(stream) => Ok(Ok(Start {
            initial,
            revision: start - 1,
            source: Source::Store(stream),
        })),
        // Upstream answers 200 and sends the 410 as an ERROR event.
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => Ok(Err(too_old(requested - 1, compacted))),
        Err(e) => Err(crate::object::store_error(e, r.info, "")),
    }
}

pub async fn serve(
    api: &Arc<ApiServer>,
    r: &ResourceRequest,
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    let filter = Filter::from_ctx(r.info, ctx)?;
    let info = r.info;
    let prefix = info.namespace_prefix(r.namespace.as_deref());
    let bookmarks = ctx.flag("allowWatchBookmarks");
    let send_initial = ctx.flag("sendInitialEvents");
    let table = ctx.table().map(String::from);
    let timeout = ctx
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);

    // No resourceVersion: the current state as synthetic ADDED events, then changes.
    // "0": the same from any state the cache has. A version: changes after it (or, with
    // sendInitialEvents, the state as of at least it). Nothing is seen twice or missed.
    let rv_param = ctx.q("resourceVersion");
    let requested: Option<i64> = match rv_param {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let consistent = rv_param.is_none_or(str::is_empty);
    if let Some(rv) = requested {
        check_not_from_future(api, rv).await?;
    }
    let start = match start_from_cache(api, &prefix, requested, send_initial, consistent).await {
        Some(s) => s,
        None => match start_from_store(api, r, ctx, &prefix, requested, send_initial).await? {
            Ok(s) => s,
            Err(gone) => return Ok(stream_response(Body::from(error_event(&gone)))),
        },
    };
    let Start {
        initial,
        revision: initial_rv,
        mut source,
    } = start;

    let encode = move |kind: &str, obj: &CachedObject| -> Bytes {
        match &table {
            Some(include) => event_bytes(
                kind,
                &crate::object::table(
                    info,
                    &[obj.typed(info)],
                    include,
                    json!({"resourceVersion": obj.resource_version()}),
                ),
            ),
            None => cached_event_bytes(kind, &obj.json(info)),
        }
    };

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        for obj in initial.iter().filter(|o| filter.matches(&o.view)) {
            if tx.send(Ok(encode("ADDED", obj))).await.is_err() {
                return;
            }
        }
        let bookmark = |rv: i64, initial_end: bool| {
            let mut meta = json!({"resourceVersion": rv.to_string()});
            if initial_end {
                meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            }
            event_bytes(
                "BOOKMARK",
                &json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": meta}),
            )
        };
        if send_initial && tx.send(Ok(bookmark(initial_rv, true))).await.is_err() {
            return;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut last_rv = initial_rv;
        let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(Ok(bookmark(last_rv, false))).await.is_err() { return; }
                }
                next = source.next(last_rv) => {
                    let ev = match next {
                        Next::Event(ev) => ev,
                        Next::End(err) => {
                            if let Some(err) = err {
                                let _ = tx.send(Ok(error_event(&err))).await;
                            }
                            return;
                        }
                    };
                    if ev.revision <= last_rv {
                        continue;
                    }
                    last_rv = ev.revision;
                    if !ev.object.key.starts_with(&prefix) {
                        continue;
                    }
                    let Some(kind) = visible_change(&ev, &filter) else { continue };
                    if tx.send(Ok(encode(kind, &ev.object))).await.is_err() { return; }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(stream_response(body))
}

/// The watch event type this watcher sees for a change, if any: an object entering the
/// selection is ADDED, one leaving it DELETED.
fn visible_change(ev: &CachedEvent, filter: &Filter) -> Option<&'static str> {
    let now_in = filter.matches(&ev.object.view);
    match ev.kind {
        EventKind::Put => {
            let was_in = ev.prev.as_ref().map(|p| filter.matches(&p.view));
            match (was_in, now_in) {
                (None, true) | (Some(false), true) => Some("ADDED"),
                (Some(true), true) => Some("MODIFIED"),
                (Some(true), false) => Some("DELETED"),
                _ => None,
            }
        }
        EventKind::Delete => now_in.then_some("DELETED"),
    }
}

/// A watch event line around an object's already-serialized JSON.
fn cached_event_bytes(kind: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

fn stream_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    resp
}
