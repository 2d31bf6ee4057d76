//! `/healthz`, `/livez` and `/readyz`, with their named checks as kube-apiserver serves
//! them: `ok` (or a `[+]name ok` line per check with `?verbose`), one check by path
//! (`/readyz/etcd`), `?exclude=name` to skip checks, and 500 naming the failed checks.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ApiServer;

/// Which endpoint: livez checks that the process works, readyz that it can serve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Healthz,
    Livez,
    Readyz,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Healthz => "healthz",
            Endpoint::Livez => "livez",
            Endpoint::Readyz => "readyz",
        }
    }

    fn checks(self) -> &'static [&'static str] {
        match self {
            Endpoint::Healthz | Endpoint::Livez => &[
                "ping",
                "log",
                "etcd",
                "poststarthook/bootstrap-controller",
                "poststarthook/start-watch-cache",
            ],
            Endpoint::Readyz => &[
                "ping",
                "log",
                "etcd",
                "etcd-readiness",
                "informer-sync",
                "poststarthook/bootstrap-controller",
                "poststarthook/start-watch-cache",
                "shutdown",
            ],
        }
    }
}

async fn run_check(api: &Arc<ApiServer>, check: &str) -> Result<(), &'static str> {
    match check {
        "ping" | "log" => Ok(()),
        "etcd" | "etcd-readiness" => api
            .store()
            .current_revision()
            .await
            .map(|_| ())
            .map_err(|_| "etcd not reachable"),
        "poststarthook/bootstrap-controller" => {
            if api.bootstrapped.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("not finished")
            }
        }
        // The watch cache is started on first use; readiness asks for it to be loaded.
        "informer-sync" | "poststarthook/start-watch-cache" => {
            if api.cache().ensure_started(api.store()) {
                Ok(())
            } else {
                Err("watch cache not loaded")
            }
        }
        "shutdown" => Ok(()),
        _ => Err("unknown check"),
    }
}

pub async fn serve(State(api): State<Arc<ApiServer>>, req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    let (root, single) = match path.split_once('/') {
        Some((root, rest)) => (root, Some(rest)),
        None => (path, None),
    };
    let endpoint = match root {
        "livez" => Endpoint::Livez,
        "readyz" => Endpoint::Readyz,
        _ => Endpoint::Healthz,
    };
    let query: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let verbose = query.iter().any(|(k, _)| k == "verbose");
    let excluded: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "exclude")
        .map(|(_, v)| v.as_str())
        .collect();

    if let Some(name) = single {
        if !endpoint.checks().contains(&name) {
            return text(StatusCode::NOT_FOUND, "404 page not found\n".into());
        }
        return match run_check(&api, name).await {
            Ok(()) => text(StatusCode::OK, "ok".into()),
            Err(_) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error: reason withheld\n".into(),
            ),
        };
    }

    let mut lines = String::new();
    let mut failed = Vec::new();
    for check in endpoint.checks() {
        if excluded.contains(check) {
            lines.push_str(&format!("[+]{check} excluded: ok\n"));
            continue;
        }
        match run_check(&api, check).await {
            Ok(()) => lines.push_str(&format!("[+]{check} ok\n")),
            Err(_) => {
                lines.push_str(&format!("[-]{check} failed: reason withheld\n"));
                failed.push(*check);
            }
        }
    }
    let name = endpoint.name();
    if failed.is_empty() {
        if verbose {
            lines.push_str(&format!("{name} check passed\n"));
            text(StatusCode::OK, lines)
        } else {
            text(StatusCode::OK, "ok".into())
        }
    } else {
        lines.push_str(&format!("{name} check failed\n"));
        text(StatusCode::INTERNAL_SERVER_ERROR, lines)
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
