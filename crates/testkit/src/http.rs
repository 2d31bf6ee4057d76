//! A minimal blocking HTTP/1.1 client (test traffic only goes to loopback or cluster IPs)
//! and a parser for the demo app's one-line answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::{Error, Result};

/// Status and body of an HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// `GET path` on `addr` with `Connection: close`, reading until the server closes.
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<HttpResponse> {
    let ctx = || format!("GET http://{addr}{path}");
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| Error::io(ctx(), e))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| Error::io(ctx(), e))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: k8rs-e2e\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| Error::io(ctx(), e))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| Error::io(ctx(), e))?;
    parse_response(&raw).ok_or_else(|| {
        Error::io(
            ctx(),
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("malformed response {:?}", String::from_utf8_lossy(&raw)),
            ),
        )
    })
}

/// Splits a raw response into status, head and body (no chunked decoding: the servers
/// we talk to send Content-Length and close).
pub fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status_line = head.lines().next()?;
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    Some(HttpResponse {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// The fields of the demo app's answer
/// `k8rs demo 0.1.0 | pod NAME | pod IP IP | request #N | client ADDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReply {
    pub version: String,
    pub pod: String,
    pub pod_ip: String,
    pub request: u64,
    pub client: String,
}

pub fn parse_demo_reply(body: &str) -> Option<DemoReply> {
    let mut fields = body.trim_end().split(" | ");
    let version = fields.next()?.strip_prefix("k8rs demo ")?;
    let pod = fields.next()?.strip_prefix("pod ")?;
    let pod_ip = fields.next()?.strip_prefix("pod IP ")?;
    let request = fields.next()?.strip_prefix("request #")?.parse().ok()?;
    let client = fields.next()?.strip_prefix("client ")?;
    if fields.next().is_some() {
        return None;
    }
    Some(DemoReply {
        version: version.to_string(),
        pod: pod.to_string(),
        pod_ip: pod_ip.to_string(),
        request,
        client: client.to_string(),
    })
}

/// One GET to the demo app, parsed; any non-200 or unexpected body is an error.
pub fn get_demo(addr: SocketAddr, timeout: Duration) -> Result<DemoReply> {
    let resp = http_get(addr, "/", timeout)?;
    if resp.status != 200 {
        return Err(Error::Cluster(format!(
            "GET http://{addr}/ answered {}: {}",
            resp.status, resp.body
        )));
    }
    parse_demo_reply(&resp.body).ok_or_else(|| {
        Error::Cluster(format!(
            "GET http://{addr}/: not a demo reply: {:?}",
            resp.body
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_demo_reply() {
        let r = parse_demo_reply(
            "k8rs demo 0.1.0 | pod demo-5c8d4b7f9d-x2x7q | pod IP 10.42.0.7 | request #3 | client 10.42.0.1:51234\n",
        )
        .unwrap();
        assert_eq!(r.pod, "demo-5c8d4b7f9d-x2x7q");
        assert_eq!(r.pod_ip, "10.42.0.7");
        assert_eq!(r.request, 3);
        assert_eq!(r.client, "10.42.0.1:51234");
        assert!(parse_demo_reply("hello").is_none());
        assert!(
            parse_demo_reply("k8rs demo 0.1.0 | pod a | pod IP b | request #x | client c")
                .is_none()
        );
    }

    #[test]
    fn parses_responses() {
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nnope").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, "nope");
        assert!(parse_response(b"garbage").is_none());
    }
}
