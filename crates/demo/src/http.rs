//! The tiny slice of HTTP/1.x the demo needs: finding the end of a request head, parsing
//! the request line, and rendering responses. Pure functions, so they are unit tested.

use std::fmt;

/// Largest request head we accept; anything bigger is answered with 431.
pub const MAX_HEAD: usize = 8 * 1024;

/// The parts of a request line the demo uses.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub target: String,
    pub version: String,
}

/// Why a request could not be parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The request line is missing a part or is not `METHOD TARGET HTTP/x.y`.
    Malformed(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Malformed(why) => write!(f, "malformed request: {why}"),
        }
    }
}

/// Length of the request head (including the blank line) if `buf` holds a complete one.
/// Bare `\n` line endings are tolerated, as most servers do.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses the first line of a request head.
pub fn parse_request_line(head: &[u8]) -> Result<RequestLine, ParseError> {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head.get(..end).unwrap_or_default();
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Malformed("not UTF-8"))?;
    let line = line.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let method = parts.next().filter(|m| !m.is_empty());
    let target = parts.next().filter(|t| !t.is_empty());
    let version = parts.next().filter(|v| !v.is_empty());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Err(ParseError::Malformed(
            "request line needs method, target and version",
        ));
    };
    if parts.next().is_some() {
        return Err(ParseError::Malformed("extra text after HTTP version"));
    }
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ParseError::Malformed("method must be upper-case letters"));
    }
    if !version.starts_with("HTTP/1.") {
        return Err(ParseError::Malformed("unsupported HTTP version"));
    }
    Ok(RequestLine {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
    })
}

/// What the demo reports about itself and the request it is answering.
pub struct Identity<'a> {
    pub version: &'a str,
    pub pod_name: &'a str,
    pub pod_ip: &'a str,
    pub request_number: u64,
    pub client: &'a str,
}

/// The plain-text body of every successful answer (one line, like Kiada's).
pub fn render_body(id: &Identity<'_>) -> String {
    format!(
        "k8rs demo {} | pod {} | pod IP {} | request #{} | client {}\n",
        id.version, id.pod_name, id.pod_ip, id.request_number, id.client
    )
}

/// A complete HTTP/1.1 response; `head_only` leaves the body out (for HEAD requests) but
/// keeps its Content-Length. Connections are not reused, which keeps the server simple.
pub fn render_response(status: u16, reason: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(body);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_end_of_head() {
        assert_eq!(head_len(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"), Some(27));
        assert_eq!(head_len(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_len(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_len(b""), None);
    }

    #[test]
    fn parses_request_line() {
        let r = parse_request_line(b"GET /path?q=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            r,
            RequestLine {
                method: "GET".into(),
                target: "/path?q=1".into(),
                version: "HTTP/1.1".into()
            }
        );
    }

    #[test]
    fn rejects_bad_request_lines() {
        for bad in [
            &b""[..],
            b"\r\n",
            b"GET\r\n",
            b"GET /\r\n",
            b"GET / HTTP/1.1 extra\r\n",
            b"get / HTTP/1.1\r\n",
            b"GET / SPDY/3\r\n",
            b"GET / HTTP/2.0\r\n",
            b"\xff\xfe / HTTP/1.1\r\n",
        ] {
            assert!(parse_request_line(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn renders_body_like_kiada() {
        let body = render_body(&Identity {
            version: "0.1.0",
            pod_name: "demo-5c8d4b7f9d-x2x7q",
            pod_ip: "10.42.0.7",
            request_number: 3,
            client: "10.42.0.1:51234",
        });
        assert_eq!(
            body,
            "k8rs demo 0.1.0 | pod demo-5c8d4b7f9d-x2x7q | pod IP 10.42.0.7 | request #3 | client 10.42.0.1:51234\n"
        );
    }

    #[test]
    fn renders_responses() {
        let full = String::from_utf8(render_response(200, "OK", "hello\n", false)).unwrap();
        assert!(full.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(full.contains("Content-Length: 6\r\n"));
        assert!(full.ends_with("\r\n\r\nhello\n"));

        let head = String::from_utf8(render_response(200, "OK", "hello\n", true)).unwrap();
        assert!(head.contains("Content-Length: 6\r\n"));
        assert!(head.ends_with("\r\n\r\n"));

        let not_allowed =
            String::from_utf8(render_response(405, "Method Not Allowed", "", false)).unwrap();
        assert!(not_allowed.contains("Allow: GET, HEAD\r\n"));
    }
}
