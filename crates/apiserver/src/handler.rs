//! The router: non-resource endpoints, discovery, and dispatch of resource requests to the
//! REST handlers by verb.

use std::collections::HashMap;
use std::sync::Arc;

use apimachinery::status::ApiError;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::ApiServer;
use crate::discovery;
use crate::request::{ResourceRequest, Target, UserInfo, parse_path};
use crate::response::{self, ApiResponse};
use crate::rest;
use crate::subresource;
use crate::watch;

/// Requests bodies beyond this are refused (upstream's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Everything a REST handler needs to know about the request besides the target.
pub struct Ctx {
    pub user: UserInfo,
    pub query: HashMap<String, String>,
    pub accept: String,
    pub content_type: String,
    /// The client's User-Agent (the default field manager is named after it).
    pub user_agent: String,
    /// Warnings for the client, sent as `Warning: 299 - "..."` headers.
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl Ctx {
    pub fn warn(&self, messages: impl IntoIterator<Item = String>) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(messages);
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.q(key), Some("true") | Some("1"))
    }

    pub fn dry_run(&self) -> bool {
        self.q("dryRun") == Some("All")
    }

    /// The `includeObject` of a Table request, when the client asked for a Table.
    pub fn table(&self) -> Option<&str> {
        self.accept
            .split(',')
            .any(|p| p.contains("as=Table"))
            .then(|| self.q("includeObject").unwrap_or("Metadata"))
    }
}

pub fn router(api: Arc<ApiServer>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(crate::health::serve))
        .route("/livez", get(crate::health::serve))
        .route("/readyz", get(crate::health::serve))
        .route("/healthz/{*check}", get(crate::health::serve))
        .route("/livez/{*check}", get(crate::health::serve))
        .route("/readyz/{*check}", get(crate::health::serve))
        .fallback(dispatch)
        .with_state(api)
}

async fn version() -> Response {
    response::ok(&json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0-k8rs",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": "linux/amd64",
    }))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn dispatch(State(api): State<Arc<ApiServer>>, req: Request) -> Response {
    let Some(user) = req.extensions().get::<UserInfo>().cloned() else {
        return response::error(&ApiError::unauthorized());
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let ctx = Ctx {
        user,
        query,
        accept: header_str(req.headers(), header::ACCEPT),
        content_type: header_str(req.headers(), header::CONTENT_TYPE),
        user_agent: header_str(req.headers(), header::USER_AGENT),
        warnings: Default::default(),
    };
    let target = match parse_path(&path) {
        Ok(t) => t,
        Err(_) if path == "/openapi/v2" || path == "/openapi/v2/" => {
            let if_none_match = header_str(req.headers(), header::IF_NONE_MATCH);
            return crate::openapi::v2(&ctx.accept, &if_none_match);
        }
        Err(_) if path == "/openapi/v3" || path == "/openapi/v3/" => {
            return crate::openapi::index();
        }
        Err(_) if path.starts_with("/openapi/v3/") => {
            let gv = path
                .trim_start_matches("/openapi/v3/")
                .trim_end_matches('/');
            return crate::openapi::document(gv, ctx.q("hash"))
                .unwrap_or_else(|| response::error(&ApiError::path_not_found()));
        }
        Err(e) => return response::error(&e),
    };
    let body = req.into_body();
    let result = route(&api, method, target, &ctx, body).await;
    let mut resp = ApiResponse(result).into_response();
    let warnings = std::mem::take(&mut *ctx.warnings.lock().unwrap_or_else(|e| e.into_inner()));
    for w in warnings {
        // RFC 7234 warning: code 299, agent "-", quoted text with quotes escaped.
        let text = format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(v) = text.parse() {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

async fn route(
    api: &Arc<ApiServer>,
    method: Method,
    target: Target,
    ctx: &Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    let server_address = format!(
        "{}:{}",
        api.config().advertise_address,
        api.config().secure_port
    );
    match target {
        Target::CoreVersions | Target::Groups if method == Method::GET => {
            let core = matches!(target, Target::CoreVersions);
            if let Some(v) = discovery::wants_aggregated(&ctx.accept) {
                let doc = discovery::aggregated(core, &format!("apidiscovery.k8s.io/{v}"));
                let mut resp = response::ok(&doc);
                if let Ok(ct) =
                    format!("application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList")
                        .parse()
                {
                    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
                }
                return Ok(resp);
            }
            Ok(response::ok(&if core {
                discovery::core_versions(&server_address)
            } else {
                discovery::group_list()
            }))
        }
        Target::Group(g) if method == Method::GET => discovery::group(&g)
            .map(|d| response::ok(&d))
            .ok_or_else(ApiError::path_not_found),
        Target::ResourceList { group, version } if method == Method::GET => {
            Ok(response::ok(&discovery::resource_list(&group, &version)))
        }
        Target::Resource(r) => resource(api, method, r, ctx, body).await,
        _ => Err(ApiError::method_not_supported("", method.as_str())),
    }
}

async fn read_body(body: Body) -> Result<bytes::Bytes, ApiError> {
    to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::request_entity_too_large("the request body is too large"))
}

async fn resource(
    api: &Arc<ApiServer>,
    method: Method,
    r: ResourceRequest,
    ctx: &Ctx,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(sub) = r.subresource.clone() {
        let body = if method == Method::GET {
            bytes::Bytes::new()
        } else {
            read_body(body).await?
        };
        return subresource::handle(api, method, &r, &sub, ctx, body).await;
    }
    if r.info.create_only && method != Method::POST {
        return Err(ApiError::method_not_supported(
            r.info.plural,
            method.as_str(),
        ));
    }
    let watching = r.watch_path || ctx.flag("watch");
    match (method, r.name.as_deref()) {
        (Method::GET, None) if watching => watch::serve(api, &r, ctx).await,
        (Method::GET, Some(name)) if watching => {
            // A watch on one object is a watch with a name field selector.
            let sel = match ctx.q("fieldSelector") {
                Some(s) => format!("{s},metadata.name={name}"),
                None => format!("metadata.name={name}"),
            };
            let mut query = ctx.query.clone();
            query.insert("fieldSelector".into(), sel);
            let ctx = Ctx {
                user: ctx.user.clone(),
                query,
                accept: ctx.accept.clone(),
                content_type: ctx.content_type.clone(),
                user_agent: ctx.user_agent.clone(),
                warnings: Default::default(),
            };
            let r = ResourceRequest { name: None, ..r };
            watch::serve(api, &r, &ctx).await
        }
        (Method::GET, None) => rest::list(api, &r, ctx).await,
        (Method::GET, Some(_)) => rest::get(api, &r, ctx).await,
        (Method::POST, None) => {
            let body = read_body(body).await?;
            if r.info.kind == "Binding" {
                return subresource::binding_collection(api, &r, ctx, &body).await;
            }
            if r.info.create_only {
                return crate::review::create(&r, ctx, &body);
            }
            rest::create(api, &r, ctx, &body).await
        }
        (Method::PUT, Some(_)) => rest::update(api, &r, ctx, &read_body(body).await?).await,
        (Method::PATCH, Some(_)) => rest::patch(api, &r, ctx, &read_body(body).await?).await,
        (Method::DELETE, Some(_)) => rest::delete(api, &r, ctx, &read_body(body).await?).await,
        (Method::DELETE, None) => {
            rest::delete_collection(api, &r, ctx, &read_body(body).await?).await
        }
        (m, _) => Err(ApiError::method_not_supported(r.info.plural, m.as_str())),
    }
}
