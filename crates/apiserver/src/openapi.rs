//! The OpenAPI endpoints. The documents come from `apimachinery::openapi`; this module
//! serves them as kube-apiserver does:
//!
//! * `/openapi/v2`: JSON, or gnostic protobuf when asked for
//!   `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (kubectl's validation,
//!   client-side apply and `explain` ask for it), with an `ETag` per encoding and
//!   `If-None-Match` → 304;
//! * `/openapi/v3`: the index of per-group-version URLs carrying a content hash;
//! * `/openapi/v3/<gv>?hash=`: immutable when the hash matches, a redirect to the current
//!   URL when it is stale.
//!
//! Every document is serialized once, on first use.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, RwLock};

use apimachinery::openapi::custom;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use crate::response;

const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The content type of the protobuf answer: upstream's spelling, without the `@` that Go's
/// `mime.ParseMediaType` (used by client-go on responses) rejects.
const PROTOBUF_V2_CONTENT_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// One serialized document and its hash (upper-case hex, as upstream).
struct Encoded {
    body: Bytes,
    hash: String,
}

impl Encoded {
    fn new(body: Vec<u8>) -> Encoded {
        let hash = hex::encode_upper(&Sha512::digest(&body)[..32]);
        Encoded {
            body: Bytes::from(body),
            hash,
        }
    }
}

struct V2 {
    json: Encoded,
    protobuf: Encoded,
}

static V2_DOC: LazyLock<Arc<V2>> = LazyLock::new(|| {
    Arc::new(V2 {
        json: Encoded::new(
            serde_json::to_vec(apimachinery::openapi::swagger()).unwrap_or_default(),
        ),
        protobuf: Encoded::new(apimachinery::openapi::swagger_protobuf()),
    })
});

/// Group-version path (`api/v1`, `apis/apps/v1`) -> serialized document.
static V3_DOCS: LazyLock<BTreeMap<String, Arc<Encoded>>> = LazyLock::new(|| {
    apimachinery::openapi::v3_documents()
        .into_iter()
        .map(|(path, doc)| {
            (
                path,
                Arc::new(Encoded::new(serde_json::to_vec(&doc).unwrap_or_default())),
            )
        })
        .collect()
});

/// The documents with the custom resources served at one generation.
struct WithCustom {
    generation: u64,
    v2: Arc<V2>,
    v3: BTreeMap<String, Arc<Encoded>>,
}

static WITH_CUSTOM: RwLock<Option<Arc<WithCustom>>> = RwLock::new(None);

/// The documents to serve now: the built-in ones until a CustomResourceDefinition is
/// served, then rebuilt (once per change of what is served) with the custom resources.
fn current() -> Option<Arc<WithCustom>> {
    let generation = crate::crd::generation();
    if generation == 0 {
        return None;
    }
    if let Some(docs) = WITH_CUSTOM
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        && docs.generation == generation
    {
        return Some(docs.clone());
    }
    let served = crate::crd::served();
    let kinds: Vec<custom::CustomKind> = served
        .iter()
        .map(|(info, v)| custom::CustomKind {
            info,
            served: &v.served,
        })
        .collect();
    let swagger = custom::swagger_with(&kinds);
    let v2 = Arc::new(V2 {
        json: Encoded::new(serde_json::to_vec(&swagger).unwrap_or_default()),
        protobuf: Encoded::new(apimachinery::openapi::protobuf_of(&swagger)),
    });
    let mut v3: BTreeMap<String, Arc<Encoded>> = V3_DOCS
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (path, doc) in custom::v3_documents(&kinds) {
        v3.insert(
            path,
            Arc::new(Encoded::new(serde_json::to_vec(&doc).unwrap_or_default())),
        );
    }
    let docs = Arc::new(WithCustom { generation, v2, v3 });
    *WITH_CUSTOM.write().unwrap_or_else(|e| e.into_inner()) = Some(docs.clone());
    Some(docs)
}

/// Whether `accept` prefers the v2 protobuf encoding: the first media range naming JSON,
/// a wildcard or the protobuf decides.
fn wants_protobuf(accept: &str) -> bool {
    for range in accept.split(',') {
        let media = range.split(';').next().unwrap_or_default().trim();
        // The spelling without `@` is accepted too, as upstream does.
        if media == PROTOBUF_V2 || media == PROTOBUF_V2_CONTENT_TYPE {
            return true;
        }
        if matches!(media, "application/json" | "*/*" | "application/*") {
            return false;
        }
    }
    false
}

fn etag_matches(if_none_match: &str, hash: &str) -> bool {
    if_none_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == hash || t == "*")
}

fn with_etag(mut resp: Response, hash: &str) -> Response {
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
        resp.headers_mut().insert(header::ETAG, etag);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

/// `GET /openapi/v2`.
pub fn v2(accept: &str, if_none_match: &str) -> Response {
    let docs = current()
        .map(|c| c.v2.clone())
        .unwrap_or_else(|| V2_DOC.clone());
    let (doc, content_type) = if wants_protobuf(accept) {
        (&docs.protobuf, PROTOBUF_V2_CONTENT_TYPE)
    } else {
        (&docs.json, response::JSON)
    };
    let resp = if etag_matches(if_none_match, &doc.hash) {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::from(doc.body.clone()));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    with_etag(resp, &doc.hash)
}

/// `GET /openapi/v3`
pub fn index() -> Response {
    let custom = current();
    let docs = custom.as_ref().map(|c| &c.v3).unwrap_or(&V3_DOCS);
    let paths: Map<String, Value> = docs
        .iter()
        .map(|(p, d)| {
            (
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", d.hash)}),
            )
        })
        .collect();
    response::ok(&json!({"paths": paths}))
}

/// `GET /openapi/v3/<gv path>[?hash=...]`: immutable when the hash matches, a redirect to
/// the current URL when it is stale.
pub fn document(path: &str, hash: Option<&str>) -> Option<Response> {
    let custom = current();
    let doc = custom
        .as_ref()
        .map(|c| &c.v3)
        .unwrap_or(&V3_DOCS)
        .get(path)?
        .clone();
    let body = || {
        let mut r = Response::new(Body::from(doc.body.clone()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(response::JSON),
        );
        r
    };
    match hash {
        Some(h) if h != doc.hash => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(loc) = HeaderValue::from_str(&format!("/openapi/v3/{path}?hash={}", doc.hash))
            {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            Some(resp)
        }
        Some(_) => {
            let mut resp = body();
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, immutable, max-age=31536000"),
            );
            Some(resp)
        }
        None => Some(with_etag(body(), &doc.hash)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert!(wants_protobuf(PROTOBUF_V2));
        assert!(wants_protobuf(
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
        ));
        assert!(!wants_protobuf("application/json"));
        assert!(!wants_protobuf(""));
        assert!(!wants_protobuf(&format!("application/json, {PROTOBUF_V2}")));
        assert!(wants_protobuf(&format!("{PROTOBUF_V2}, application/json")));
    }

    #[test]
    fn v2_serves_protobuf_and_304_on_matching_etag() {
        let resp = v2(PROTOBUF_V2, "");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            PROTOBUF_V2_CONTENT_TYPE
        );
        let etag = resp.headers()[header::ETAG].to_str().unwrap().to_string();
        let json_etag = v2("application/json", "").headers()[header::ETAG].clone();
        assert_ne!(etag, json_etag.to_str().unwrap());
        assert_eq!(v2(PROTOBUF_V2, &etag).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(v2("application/json", &etag).status(), StatusCode::OK);
    }

    #[test]
    fn v3_index_points_at_documents_with_their_hash() {
        let doc = V3_DOCS.get("apis/apps/v1").unwrap();
        let resp = document("apis/apps/v1", Some(&doc.hash)).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let stale = document("apis/apps/v1", Some("0")).unwrap();
        assert_eq!(stale.status(), StatusCode::MOVED_PERMANENTLY);
        let parsed: Value = serde_json::from_slice(&doc.body).unwrap();
        let post = &parsed["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"];
        assert_eq!(
            post["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            post["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
    }
}
