//! The review APIs: created, answered and never stored. kubectl uses SelfSubjectAccessReview
//! (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i --list`) and
//! SelfSubjectReview (`kubectl auth whoami`); webhooks and proxies use TokenReview and
//! SubjectAccessReview.
//!
//! k8rs authorizes every authenticated user for everything (upstream's AlwaysAllow
//! authorizer; docs/differences.md), so access reviews answer "allowed" and rules reviews
//! answer with AlwaysAllow's wildcard rules. Users authenticate with client certificates
//! only, so a TokenReview never recognizes a token.

use apimachinery::status::ApiError;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::handler::Ctx;
use crate::object::{parse_body, set_type_meta};
use crate::request::ResourceRequest;
use crate::response;

pub fn create(r: &ResourceRequest, ctx: &Ctx, body: &[u8]) -> Result<Response, ApiError> {
    let mut review = parse_body(body, &ctx.content_type)?;
    if !review.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    let status = match r.info.kind {
        "SelfSubjectReview" => json!({"userInfo": user_info(ctx)}),
        "TokenReview" => {
            if review
                .pointer("/spec/token")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(invalid(r, "spec.token", "Required value"));
            }
            json!({"user": {}, "error": "token authentication is not enabled; k8rs authenticates client certificates"})
        }
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let spec = review.get("spec").cloned().unwrap_or(Value::Null);
            let has_resource = spec.get("resourceAttributes").is_some_and(Value::is_object);
            let has_non_resource = spec
                .get("nonResourceAttributes")
                .is_some_and(Value::is_object);
            if has_resource == has_non_resource {
                return Err(invalid(
                    r,
                    "spec.resourceAttributes",
                    "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                ));
            }
            if r.info.kind == "SubjectAccessReview"
                && spec
                    .get("user")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                && spec
                    .get("groups")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            {
                return Err(invalid(
                    r,
                    "spec.user",
                    "Invalid value: \"\": at least one of user or group must be specified",
                ));
            }
            json!({"allowed": true})
        }
        "SelfSubjectRulesReview" => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false
        }),
        other => {
            return Err(ApiError::method_not_supported(other, "create"));
        }
    };
    if let Some(m) = review.as_object_mut() {
        m.insert("metadata".into(), json!({"creationTimestamp": null}));
        m.insert("status".into(), status);
    }
    if let Some(ns) = &r.namespace
        && r.info.namespaced
    {
        review["metadata"]["namespace"] = json!(ns);
    }
    set_type_meta(&mut review, r.info);
    Ok(response::json(StatusCode::CREATED, &review))
}

fn user_info(ctx: &Ctx) -> Value {
    json!({"username": ctx.user.name, "groups": ctx.user.groups})
}

fn invalid(r: &ResourceRequest, field: &str, message: &str) -> ApiError {
    let mut err = ApiError::new(
        422,
        "Invalid",
        format!(
            "{}.{} \"\" is invalid: {field}: {message}",
            r.info.kind, r.info.group
        ),
    );
    err.details = Some(json!({
        "group": r.info.group,
        "kind": r.info.kind,
        "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]
    }));
    err
}
