//! A minimal `curl` for the demo image (`/bin/curl` links to the demo binary): plain HTTP
//! GET, body to stdout, as the book runs `curl` inside pods. busybox's `wget` cannot be used
//! there: statically linked glibc crashes in its service-name lookup.
//!
//! Usage: `curl [-s] [-m SECONDS] [-i] http://HOST[:PORT][/PATH]`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    if url.starts_with("https://") {
        return Err("https is not supported".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h.trim_matches(|c| c == '[' || c == ']'),
            p.parse().map_err(|_| format!("bad port in {url}"))?,
        ),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("no host in {url}"));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

fn resolve(url: &Url) -> Result<SocketAddr, String> {
    if let Ok(ip) = url.host.parse() {
        return Ok(SocketAddr::new(ip, url.port));
    }
    (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("could not resolve host {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("could not resolve host {}", url.host))
}

pub fn run(args: impl Iterator<Item = String>) -> i32 {
    let mut timeout = Duration::from_secs(30);
    let mut include_headers = false;
    let mut url = None;
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-s" | "--silent" | "-sS" | "-S" => {}
            "-i" | "--include" => include_headers = true,
            "-m" | "--max-time" => {
                timeout = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(timeout)
            }
            other if !other.starts_with('-') => url = Some(other.to_string()),
            other => {
                eprintln!("curl: option {other} is not supported");
                return 2;
            }
        }
    }
    let Some(url) = url else {
        eprintln!("curl: no URL specified");
        return 2;
    };
    match fetch(&url, timeout, include_headers) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("curl: {e}");
            7
        }
    }
}

fn fetch(raw: &str, timeout: Duration, include_headers: bool) -> Result<(), String> {
    let url = parse_url(raw)?;
    let addr = resolve(&url)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("failed to connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: curl/k8rs-demo\r\nAccept: */*\r\n\r\n",
        url.path, url.host
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("reading the response: {e}"))?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(0);
    let out = if include_headers {
        &response[..]
    } else {
        &response[split..]
    };
    std::io::stdout().write_all(out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = parse_url("http://10.43.0.5/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("10.43.0.5", 80, "/")
        );
        let u = parse_url("localhost:8080/x?y").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 8080, "/x?y")
        );
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("http://:80/").is_err());
    }
}
