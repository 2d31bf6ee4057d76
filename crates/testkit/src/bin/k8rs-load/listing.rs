//! Phase 2, LIST latency: cluster-scope LIST of all pods as a consistent read (no
//! resourceVersion) and from the cache (resourceVersion=0), paged like an informer
//! (limit=500, all pages), with a label selector, and namespace-scope LISTs. Each response
//! is read to its last byte; the time excludes decoding (items are only counted after).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::churn::short_error;
use crate::stats::Samples;

/// One kind of LIST, measured `runs` times.
pub struct ListRow {
    pub what: String,
    pub scope: &'static str,
    pub samples: Samples,
    /// Items in the last successful response (all pages for a paged traversal).
    pub items: usize,
    /// Bytes of the last successful response (all pages).
    pub bytes: usize,
}

#[derive(Deserialize)]
struct ListHead {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

/// Items and the continue token of a list response.
fn parse_head(body: &str) -> Result<(usize, Option<String>), String> {
    let head: ListHead = serde_json::from_str(body).map_err(|e| format!("bad list JSON: {e}"))?;
    let token = head.metadata.continue_token.filter(|t| !t.is_empty());
    Ok((head.items.len(), token))
}

/// GETs `path` and returns the body with the time until its last byte.
async fn get(client: &kube::Client, path: &str) -> Result<(Duration, String), String> {
    let req = http::Request::get(path)
        .header("Accept", "application/json")
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let body = client
        .request_text(req)
        .await
        .map_err(|e| short_error(&e))?;
    Ok((start.elapsed(), body))
}

/// One unpaged LIST: latency, items, bytes.
async fn list_once(client: &kube::Client, path: &str) -> Result<(Duration, usize, usize), String> {
    let (took, body) = get(client, path).await?;
    let (items, _) = parse_head(&body)?;
    Ok((took, items, body.len()))
}

/// All pages of a LIST with `limit`: total time (decoding the page heads included, they
/// carry the continue token), items, bytes.
async fn list_paged(
    client: &kube::Client,
    path: &str,
    limit: usize,
) -> Result<(Duration, usize, usize), String> {
    let start = Instant::now();
    let (mut items, mut bytes) = (0, 0);
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{path}?limit={limit}");
        if let Some(t) = &token {
            url.push_str("&continue=");
            url.push_str(&form_urlencode(t));
        }
        let (_, body) = get(client, &url).await?;
        let (n, next) = parse_head(&body)?;
        items += n;
        bytes += body.len();
        match next {
            Some(t) => token = Some(t),
            None => return Ok((start.elapsed(), items, bytes)),
        }
    }
}

/// Percent-encodes everything but unreserved characters.
fn form_urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Measures every kind of LIST `runs` times, one request at a time.
pub async fn measure(client: &kube::Client, namespaces: &[String], runs: usize) -> Vec<ListRow> {
    let mut rows = vec![
        row("LIST pods, consistent (no resourceVersion)", "cluster"),
        row("LIST pods, resourceVersion=0", "cluster"),
        row("LIST pods, labelSelector group=g3 (1/10)", "cluster"),
        row("LIST pods, limit=500, all pages", "cluster"),
        row("LIST pods (one namespace)", "namespace"),
    ];
    for run in 0..runs {
        let ns = namespaces
            .get(run % namespaces.len().max(1))
            .cloned()
            .unwrap_or_else(|| "default".into());
        let results = [
            list_once(client, "/api/v1/pods").await,
            list_once(client, "/api/v1/pods?resourceVersion=0").await,
            list_once(client, "/api/v1/pods?labelSelector=group%3Dg3").await,
            list_paged(client, "/api/v1/pods", 500).await,
            list_once(client, &format!("/api/v1/namespaces/{ns}/pods")).await,
        ];
        for (row, result) in rows.iter_mut().zip(results) {
            match result {
                Ok((took, items, bytes)) => {
                    row.samples.record(Ok(took));
                    row.items = items;
                    row.bytes = bytes;
                }
                Err(e) => row.samples.record(Err(e)),
            }
        }
    }
    rows
}

fn row(what: &str, scope: &'static str) -> ListRow {
    ListRow {
        what: what.to_string(),
        scope,
        samples: Samples::default(),
        items: 0,
        bytes: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items_and_reads_the_continue_token() {
        let body = r#"{"kind":"PodList","metadata":{"resourceVersion":"9","continue":"abc"},"items":[{"a":1},{"b":[2]}]}"#;
        assert_eq!(parse_head(body).unwrap(), (2, Some("abc".to_string())));
        let last = r#"{"metadata":{"continue":""},"items":[]}"#;
        assert_eq!(parse_head(last).unwrap(), (0, None));
        assert!(parse_head("not json").is_err());
    }

    #[test]
    fn encodes_continue_tokens() {
        assert_eq!(form_urlencode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(form_urlencode("plain-1_2.3~"), "plain-1_2.3~");
    }
}
