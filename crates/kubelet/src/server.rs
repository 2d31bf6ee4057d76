//! The kubelet API over HTTPS (client certificates required): `/healthz` and
//! `/containerLogs/{namespace}/{pod}/{container}`, which the API server proxies
//! `pods/log` to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::cri::{ContainerState, CriClient};
use crate::logs::{self, LogOptions};
use crate::pods::labels as pod_labels;
use crate::{Error, KubeletConfig};

#[derive(Clone)]
struct AppState {
    runtime_endpoint: std::path::PathBuf,
}

pub fn router(runtime_endpoint: std::path::PathBuf) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/containerLogs/{namespace}/{pod}/{container}",
            get(container_logs),
        )
        .with_state(AppState { runtime_endpoint })
}

pub fn tls_config(config: &KubeletConfig) -> Result<rustls::ServerConfig, Error> {
    let certs = rustls_pemfile::certs(&mut config.serving_cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("serving certificate: {e}")))?;
    let key = rustls_pemfile::private_key(&mut config.serving_key_pem.as_bytes())
        .map_err(|e| Error::Tls(format!("serving key: {e}")))?
        .ok_or_else(|| Error::Tls("serving key: no private key found".into()))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in rustls_pemfile::certs(&mut config.client_ca_pem.as_bytes()) {
        let ca = ca.map_err(|e| Error::Tls(format!("client CA: {e}")))?;
        roots
            .add(ca)
            .map_err(|e| Error::Tls(format!("client CA: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| Error::Tls(format!("client verifier: {e}")))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(format!("serving certificate: {e}")))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(config: KubeletConfig, shutdown: CancellationToken) -> Result<(), Error> {
    let acceptor = TlsAcceptor::from(Arc::new(tls_config(&config)?));
    let addr = SocketAddr::new(config.node_ip, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(addr.to_string(), e))?;
    tracing::info!(%addr, "kubelet API listening");
    let app = router(config.runtime_endpoint.clone());
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(err) => { tracing::warn!(%err, "accept failed"); continue; }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(err) => {
                    tracing::debug!(%peer, %err, "TLS handshake failed");
                    return;
                }
            };
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), TowerToHyperService::new(app));
            tokio::select! {
                _ = shutdown.cancelled() => {}
                result = conn => if let Err(err) = result { tracing::debug!(%peer, %err, "kubelet API connection ended"); },
            }
        });
    }
}

fn parse_bool(v: Option<&String>) -> bool {
    matches!(v.map(String::as_str), Some("true" | "1" | "True"))
}

pub fn log_options(q: &HashMap<String, String>) -> Result<LogOptions, String> {
    let num = |name: &str| -> Result<Option<i64>, String> {
        q.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| format!("invalid {name}: {v:?}"))
            })
            .transpose()
    };
    let since = match (num("sinceSeconds")?, q.get("sinceTime")) {
        (Some(s), _) => Some(Timestamp::now() - SignedDuration::from_secs(s.max(0))),
        (None, Some(t)) => Some(
            t.parse::<Timestamp>()
                .map_err(|_| format!("invalid sinceTime: {t:?}"))?,
        ),
        (None, None) => None,
    };
    Ok(LogOptions {
        follow: parse_bool(q.get("follow")),
        previous: parse_bool(q.get("previous")),
        timestamps: parse_bool(q.get("timestamps")),
        tail_lines: num("tailLines")?.filter(|n| *n >= 0).map(|n| n as usize),
        limit_bytes: num("limitBytes")?.filter(|n| *n > 0).map(|n| n as usize),
        since,
    })
}

fn text(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], msg).into_response()
}

async fn container_logs(
    State(state): State<AppState>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let opts = match log_options(&query) {
        Ok(o) => o,
        Err(msg) => return text(StatusCode::BAD_REQUEST, msg),
    };
    let mut cri = match CriClient::connect(&state.runtime_endpoint).await {
        Ok(c) => c,
        Err(err) => return text(StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
    };
    let found = match find_container(&mut cri, &namespace, &pod, &container, opts.previous).await {
        Ok(found) => found,
        Err(err) => return text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
    };
    let Some((container_id, log_path)) = found else {
        let msg = if opts.previous {
            format!("previous terminated container \"{container}\" in pod \"{pod}\" not found")
        } else {
            format!("container \"{container}\" in pod \"{pod}\" is not available")
        };
        return text(StatusCode::NOT_FOUND, msg);
    };
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(logs::stream_file(log_path.into(), opts, tx, move || {
        let mut cri = cri.clone();
        let id = container_id.clone();
        async move {
            match cri.container_status(&id).await {
                Ok(Some(s)) => s.state == ContainerState::ContainerRunning as i32,
                _ => false,
            }
        }
    }));
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The (current or previous) instance of a container: its id and log path.
async fn find_container(
    cri: &mut CriClient,
    namespace: &str,
    pod: &str,
    container: &str,
    previous: bool,
) -> Result<Option<(String, String)>, crate::cri::CriError> {
    let selector = HashMap::from([
        (pod_labels::POD_NAMESPACE.to_string(), namespace.to_string()),
        (pod_labels::POD_NAME.to_string(), pod.to_string()),
    ]);
    let mut sandboxes = cri.list_pod_sandboxes(selector).await?;
    sandboxes.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let mut instances = Vec::new();
    for sandbox in &sandboxes {
        for c in cri.list_containers(&sandbox.id).await? {
            if c.labels.get(pod_labels::CONTAINER_NAME).map(String::as_str) == Some(container) {
                instances.push(c);
            }
        }
    }
    instances.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    let wanted = if previous {
        instances.get(1)
    } else {
        instances.first()
    };
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let Some(status) = cri.container_status(&wanted.id).await? else {
        return Ok(None);
    };
    Ok(Some((wanted.id.clone(), status.log_path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_query() {
        let q: HashMap<String, String> = [
            ("follow", "true"),
            ("tailLines", "10"),
            ("timestamps", "true"),
            ("limitBytes", "5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let o = log_options(&q).unwrap();
        assert!(o.follow && o.timestamps && !o.previous);
        assert_eq!(o.tail_lines, Some(10));
        assert_eq!(o.limit_bytes, Some(5));
        let bad: HashMap<String, String> = [("tailLines".to_string(), "x".to_string())].into();
        assert!(log_options(&bad).is_err());
    }
}
