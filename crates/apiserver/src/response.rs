//! Turning results into HTTP responses.

use apimachinery::status::ApiError;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const JSON: &str = "application/json";

pub fn json(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

/// 200 with an already-serialized JSON body.
pub fn ok_json_bytes(body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

pub fn ok(value: &Value) -> Response {
    json(StatusCode::OK, value)
}

pub fn error(err: &ApiError) -> Response {
    json(
        StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &err.to_status(),
    )
}

/// Wrapper so handlers can use `?` on `ApiError`.
pub struct ApiResponse(pub Result<Response, ApiError>);

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(r) => r,
            Err(e) => error(&e),
        }
    }
}
