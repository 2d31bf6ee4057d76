//! A read-only, plain-HTTP OCI distribution server for tests: just enough of the
//! distribution API for containerd to pull the images it is given.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use axum::routing::any;
use bytes::Bytes;
use serde_json::json;

use crate::oci::{MEDIA_TYPE_MANIFEST, OciImage};

/// One image served under `repo:tag` (e.g. `k8rs/demo`, `0.1.0`).
struct Served {
    repo: String,
    tag: String,
    image: OciImage,
}

type Images = Arc<Vec<Served>>;

/// The registry's routes, for serving on a listener of your choice.
pub fn router(images: Vec<(String, String, OciImage)>) -> Router {
    let images: Images = Arc::new(
        images
            .into_iter()
            .map(|(repo, tag, image)| Served { repo, tag, image })
            .collect(),
    );
    Router::new()
        .route("/v2/", any(version_check))
        .route("/v2", any(version_check))
        .route("/v2/{*rest}", any(resource))
        .fallback(any(|| async {
            error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "not found")
        }))
        .with_state(images)
}

/// Serves `images` on `listener` until the task is dropped or the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    images: Vec<(String, String, OciImage)>,
) -> std::io::Result<()> {
    axum::serve(listener, router(images)).await
}

async fn version_check(method: Method) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return unsupported();
    }
    let mut resp = blob_response(&method, Bytes::from_static(b"{}"), "application/json", None);
    resp.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    resp
}

async fn resource(
    method: Method,
    State(images): State<Images>,
    Path(rest): Path<String>,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return unsupported();
    }
    // `<name>/manifests/<reference>` or `<name>/blobs/<digest>`; names may contain '/'.
    let segments: Vec<&str> = rest.split('/').collect();
    let (name, kind, reference) = match segments.as_slice() {
        [name @ .., kind, reference] if !name.is_empty() && !reference.is_empty() => {
            (name.join("/"), *kind, *reference)
        }
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "NAME_UNKNOWN",
                "repository name not known to registry",
            );
        }
    };
    let repo_images: Vec<&Served> = images.iter().filter(|s| s.repo == name).collect();
    if repo_images.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    }
    match kind {
        "manifests" => {
            let found = repo_images
                .iter()
                .find(|s| s.tag == reference || s.image.manifest_digest() == reference);
            match found {
                Some(s) => {
                    let digest = s.image.manifest_digest();
                    blob_response(
                        &method,
                        s.image.manifest.clone(),
                        MEDIA_TYPE_MANIFEST,
                        Some(&digest),
                    )
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "MANIFEST_UNKNOWN",
                    "manifest unknown",
                ),
            }
        }
        "blobs" => match repo_images.iter().find_map(|s| s.image.blob(reference)) {
            Some(data) => blob_response(
                &method,
                data.clone(),
                "application/octet-stream",
                Some(reference),
            ),
            None => error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
            ),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            "UNSUPPORTED",
            "the operation is unsupported",
        ),
    }
}

/// A 200 with the content headers the distribution spec asks for; HEAD gets no body but
/// the same Content-Length.
fn blob_response(
    method: &Method,
    data: Bytes,
    content_type: &str,
    digest: Option<&str>,
) -> Response<Body> {
    let len = data.len();
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(data)
    };
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Some(digest) = digest.and_then(|d| HeaderValue::from_str(d).ok()) {
        headers.insert("Docker-Content-Digest", digest);
    }
    resp
}

fn unsupported() -> Response<Body> {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "UNSUPPORTED",
        "the operation is unsupported",
    )
}

/// The distribution spec's error body: `{"errors":[{"code","message","detail"}]}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = json!({ "errors": [{ "code": code, "message": message, "detail": null }] });
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_response;
    use crate::oci::{Entry, ImageConfig};
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    fn image() -> OciImage {
        OciImage::build(
            "docker.io/k8rs/tiny:0.1.0",
            &[Entry::Bytes {
                path: "/hello".into(),
                data: b"hi".to_vec(),
                mode: 0o644,
            }],
            &ImageConfig::default(),
        )
        .unwrap()
    }

    /// One raw HTTP/1.1 request; returns (status, head, body).
    fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let resp = parse_response(&raw).unwrap();
        (
            resp.status,
            resp.head.to_ascii_lowercase(),
            raw[split..].to_vec(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_manifests_and_blobs() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let img = image();
        let server = tokio::spawn(serve(
            listener,
            vec![("k8rs/tiny".into(), "0.1.0".into(), img.clone())],
        ));

        let img2 = img.clone();
        tokio::task::spawn_blocking(move || {
            let img = img2;
            let (status, head, body) = request(addr, "GET", "/v2/");
            assert_eq!(status, 200);
            assert_eq!(body, b"{}");
            assert!(head.contains("docker-distribution-api-version: registry/2.0"));

            let digest = img.manifest_digest();
            let (status, head, body) = request(addr, "GET", "/v2/k8rs/tiny/manifests/0.1.0");
            assert_eq!(status, 200);
            assert_eq!(body, img.manifest.as_ref());
            assert!(head.contains(&format!("docker-content-digest: {digest}")));
            assert!(head.contains("content-type: application/vnd.oci.image.manifest.v1+json"));

            let (status, _, body) =
                request(addr, "GET", &format!("/v2/k8rs/tiny/manifests/{digest}"));
            assert_eq!(status, 200);
            assert_eq!(body, img.manifest.as_ref());

            let (status, head, body) = request(addr, "HEAD", "/v2/k8rs/tiny/manifests/0.1.0");
            assert_eq!(status, 200);
            assert!(body.is_empty());
            assert!(
                head.contains(&format!("content-length: {}", img.manifest.len())),
                "{head}"
            );

            for (digest, data) in [
                (img.config_digest(), img.config.clone()),
                (img.layers[0].0.clone(), img.layers[0].1.clone()),
            ] {
                let (status, head, body) =
                    request(addr, "GET", &format!("/v2/k8rs/tiny/blobs/{digest}"));
                assert_eq!(status, 200);
                assert_eq!(body, data.as_ref());
                assert!(head.contains(&format!("docker-content-digest: {digest}")));
                let (status, head, body) =
                    request(addr, "HEAD", &format!("/v2/k8rs/tiny/blobs/{digest}"));
                assert_eq!(status, 200);
                assert!(body.is_empty());
                assert!(
                    head.contains(&format!("content-length: {}", data.len())),
                    "{head}"
                );
            }

            for (path, code) in [
                ("/v2/k8rs/tiny/manifests/9.9.9", "MANIFEST_UNKNOWN"),
                ("/v2/k8rs/tiny/blobs/sha256:0000", "BLOB_UNKNOWN"),
                ("/v2/k8rs/other/manifests/0.1.0", "NAME_UNKNOWN"),
                ("/v2/manifests", "NAME_UNKNOWN"),
                ("/nope", "NAME_UNKNOWN"),
            ] {
                let (status, _, body) = request(addr, "GET", path);
                assert_eq!(status, 404, "{path}");
                let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(err["errors"][0]["code"], code, "{path}");
            }
            let (status, _, _) = request(addr, "DELETE", "/v2/k8rs/tiny/manifests/0.1.0");
            assert_eq!(status, 405);
        })
        .await
        .unwrap();
        server.abort();
    }
}
