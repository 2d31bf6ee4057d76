//! Watch: a stream of ADDED/MODIFIED/DELETED (and BOOKMARK, ERROR) events from a
//! resourceVersion, filtered by selectors the way kube-apiserver does (an object leaving
//! the selection is seen as DELETED, one entering it as ADDED).

use std::sync::Arc;
use std::time::Duration;

use apimachinery::status::ApiError;
use apimachinery::table;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};
use store::{EventKind, StoreError};

use crate::ApiServer;
use crate::handler::Ctx;
use crate::object::{decode, set_type_meta};
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
    let requested_rv = ctx.q("resourceVersion").map(String::from);

    // Initial state: synthetic ADDED events when no resourceVersion (or "0") was given, or
    // when the client asked for them with sendInitialEvents; changes follow from the
    // revision the initial list was read at, so nothing is seen twice or missed.
    let requested: Option<i64> = match requested_rv.as_deref() {
        None | Some("0") => None,
        Some(rv) => Some(
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let mut initial = Vec::new();
    let start = match requested {
        Some(rv) if !send_initial => rv + 1,
        _ => {
            let list_ctx = Ctx {
                user: ctx.user.clone(),
                query: ctx
                    .query
                    .iter()
                    .filter(|(k, _)| k.as_str() == "labelSelector" || k.as_str() == "fieldSelector")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                accept: String::new(),
                content_type: String::new(),
            };
            let (items, meta) = rest::list_items(api, r, &list_ctx).await?;
            initial = items;
            let listed: i64 = meta["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            listed + 1
        }
    };
    let initial_rv = start - 1;
    let store_stream = match api.store().watch(&prefix, start).await {
        Ok(s) => Some(s),
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => {
            // Upstream answers 200 and sends the 410 as an ERROR event.
            let err = ApiError::expired(format!(
                "too old resource version: {} ({})",
                requested - 1,
                compacted
            ));
            let body = Body::from(error_event(&err));
            return Ok(stream_response(body));
        }
        Err(e) => return Err(crate::object::store_error(e, info, "")),
    };
    let Some(mut store_stream) = store_stream else {
        return Err(ApiError::internal("watch failed"));
    };

    let wrap = move |obj: Value| -> Value {
        match &table {
            Some(include) => table::build_table(
                info.kind,
                std::slice::from_ref(&obj),
                include,
                json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)}),
                Timestamp::now(),
            ),
            None => obj,
        }
    };

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        for obj in initial {
            if tx.send(Ok(event_bytes("ADDED", &wrap(obj)))).await.is_err() {
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
                ev = store_stream.next() => {
                    let Some(ev) = ev else { return };
                    let ev = match ev {
                        Ok(ev) => ev,
                        Err(StoreError::Compacted { requested, compacted }) => {
                            let err = ApiError::expired(format!("too old resource version: {requested} ({compacted})"));
                            let _ = tx.send(Ok(error_event(&err))).await;
                            return;
                        }
                        Err(e) => {
                            let _ = tx.send(Ok(error_event(&ApiError::internal(e.to_string())))).await;
                            return;
                        }
                    };
                    last_rv = ev.revision;
                    let Some(line) = translate(&ev, &filter, info, &wrap) else { continue };
                    if tx.send(Ok(line)).await.is_err() { return; }
                }
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(stream_response(body))
}

/// One store event as the watch event this watcher sees, if any.
fn translate(
    ev: &store::Event,
    filter: &Filter,
    info: &'static apimachinery::registry::ResourceInfo,
    wrap: &impl Fn(Value) -> Value,
) -> Option<Bytes> {
    let decode_typed = |kv: &store::KeyValue, rv: i64| -> Option<Value> {
        let mut v = decode(kv).ok()?;
        crate::object::set_resource_version(&mut v, rv);
        set_type_meta(&mut v, info);
        Some(v)
    };
    match ev.kind {
        EventKind::Put => {
            let new = decode_typed(&ev.kv, ev.revision)?;
            let now_in = filter.matches(&new);
            let was_in = ev
                .prev
                .as_ref()
                .and_then(|p| decode_typed(p, p.mod_revision))
                .map(|old| filter.matches(&old));
            match (was_in, now_in) {
                (None, true) | (Some(false), true) => Some(event_bytes("ADDED", &wrap(new))),
                (Some(true), true) => Some(event_bytes("MODIFIED", &wrap(new))),
                (Some(true), false) => Some(event_bytes("DELETED", &wrap(new))),
                _ => None,
            }
        }
        EventKind::Delete => {
            let old = decode_typed(&ev.kv, ev.revision)?;
            filter
                .matches(&old)
                .then(|| event_bytes("DELETED", &wrap(old)))
        }
    }
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
