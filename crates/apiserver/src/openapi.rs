//! OpenAPI v3 documents: the index (`/openapi/v3`) with hashed per-group-version URLs, and
//! one document per group-version listing every path and operation with the
//! `x-kubernetes-group-version-kind` extension and the query parameters kubectl probes for
//! (it checks `fieldValidation` to decide on server-side validation). Type schemas are not
//! served yet, so `kubectl explain` has nothing to show.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use apimachinery::registry::{self, ResourceInfo};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use crate::response;

struct Doc {
    hash: String,
    body: Value,
}

/// Group-version path (`api/v1`, `apis/apps/v1`) -> document.
static DOCS: LazyLock<BTreeMap<String, Doc>> = LazyLock::new(build_all);

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(info: &ResourceInfo, action: &str, write: bool) -> Value {
    let mut op = json!({
        "operationId": format!("{action}{}", info.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": info.group, "version": info.version, "kind": info.kind},
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
    });
    let mut params = vec![param("pretty")];
    if write {
        params.extend([
            param("dryRun"),
            param("fieldManager"),
            param("fieldValidation"),
        ]);
    }
    op["parameters"] = Value::Array(params);
    op
}

fn build_doc(group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    for r in registry::resources_of(group, version) {
        let base = format!("/{}", gv_path(group, version));
        let collection = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        let mut coll = json!({"post": operation(r, "post", true)});
        if !r.create_only {
            coll["get"] = operation(r, "list", false);
            coll["delete"] = operation(r, "deletecollection", false);
            let item = json!({
                "get": operation(r, "get", false),
                "put": operation(r, "put", true),
                "patch": operation(r, "patch", true),
                "delete": operation(r, "delete", false),
            });
            paths.insert(format!("{collection}/{{name}}"), item);
            for sub in r.subresources {
                paths.insert(
                    format!("{collection}/{{name}}/{sub}"),
                    json!({"get": operation(r, "get", false), "put": operation(r, "put", true), "patch": operation(r, "patch", true)}),
                );
            }
        }
        paths.insert(collection, coll);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": {}},
    })
}

fn build_all() -> BTreeMap<String, Doc> {
    let mut out = BTreeMap::new();
    for (group, versions) in registry::groups() {
        for v in versions {
            let body = build_doc(group, v);
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let hash = hex::encode_upper(&Sha512::digest(&bytes)[..32]);
            out.insert(gv_path(group, v), Doc { hash, body });
        }
    }
    out
}

/// `GET /openapi/v3`
pub fn index() -> Response {
    let paths: Map<String, Value> = DOCS
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
    let doc = DOCS.get(path)?;
    match hash {
        Some(h) if h != doc.hash => {
            let mut resp = Response::new(axum::body::Body::empty());
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(loc) = HeaderValue::from_str(&format!("/openapi/v3/{path}?hash={}", doc.hash))
            {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            Some(resp)
        }
        Some(_) => {
            let mut resp = response::ok(&doc.body);
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, immutable, max-age=31536000"),
            );
            Some(resp)
        }
        None => {
            let mut resp = response::ok(&doc.body);
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, private"),
            );
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", doc.hash)) {
                resp.headers_mut().insert(header::ETAG, etag);
            }
            Some(resp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_post_has_field_validation() {
        let doc = &DOCS.get("apis/apps/v1").unwrap().body;
        let post = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"];
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
