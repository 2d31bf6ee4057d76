//! The API server's client for kubelets: proxies `pods/log` to the kubelet of the pod's
//! node over HTTPS, authenticating with the API server's kubelet client certificate.

use std::sync::Arc;

use apimachinery::registry;
use apimachinery::status::ApiError;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::handler::Ctx;
use crate::serve::ServeError;
use crate::{ApiServer, rest};

#[derive(Debug, Clone, Default)]
pub struct KubeletClientConfig {
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

pub struct KubeletClient {
    http: Option<Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

impl KubeletClient {
    pub fn new(cfg: &KubeletClientConfig) -> Result<Self, ServeError> {
        if cfg.ca_pem.is_empty() {
            return Ok(KubeletClient { http: None });
        }
        let mut roots = rustls::RootCertStore::empty();
        for cert in crate::serve::parse_certs(&cfg.ca_pem)? {
            roots
                .add(cert)
                .map_err(|e| ServeError::Tls(e.to_string()))?;
        }
        let certs = crate::serve::parse_certs(&cfg.client_cert_pem)?;
        let key = crate::serve::parse_key(&cfg.client_key_pem)?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(KubeletClient {
            http: Some(Client::builder(TokioExecutor::new()).build(connector)),
        })
    }
}

/// `GET pods/{name}/log`: finds the pod's node and streams the kubelet's answer.
pub async fn pod_log(
    api: &Arc<ApiServer>,
    ns: &str,
    name: &str,
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    let pods = registry::lookup("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods"))?;
    let nodes =
        registry::lookup("", "v1", "nodes").ok_or_else(|| ApiError::internal("no nodes"))?;
    let (pod, _) = rest::read(api, pods, Some(ns), name).await?;
    let containers: Vec<String> = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| {
            pod.pointer(&format!("/spec/{k}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
        .collect();
    let main: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let container = match ctx.q("container") {
        Some(c) => {
            if !containers.iter().any(|n| n == c) {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            c.to_string()
        }
        None if main.len() == 1 => main[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                main.join(" ")
            )));
        }
    };
    let node_name = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if node_name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
        )));
    }
    let (node, _) = rest::read(api, nodes, None, node_name).await?;
    let address = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|a| a.get("type").and_then(Value::as_str) == Some("InternalIP"))
        })
        .and_then(|a| a.get("address"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::internal(format!("node {node_name} has no InternalIP")))?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .unwrap_or(10250);
    let query = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for key in [
            "follow",
            "previous",
            "timestamps",
            "tailLines",
            "sinceSeconds",
            "sinceTime",
            "limitBytes",
        ] {
            if let Some(v) = ctx.q(key) {
                q.append_pair(key, v);
            }
        }
        q.finish()
    };
    let host = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    };
    let uri = format!("https://{host}:{port}/containerLogs/{ns}/{name}/{container}?{query}");
    let http = api
        .kubelets
        .http
        .as_ref()
        .ok_or_else(|| ApiError::service_unavailable("no kubelet client configured"))?;
    let req = http::Request::get(&uri)
        .body(Empty::<Bytes>::new())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let resp = http
        .request(req)
        .await
        .map_err(|e| ApiError::internal(format!("Get \"{uri}\": {e}")))?;
    let status = resp.status();
    let mut out = Response::new(Body::new(resp.into_body()));
    *out.status_mut() = status;
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(out)
}
