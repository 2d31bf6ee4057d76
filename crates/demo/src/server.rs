//! The demo HTTP server: one thread per connection, one answer per connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::http::{self, Identity};
use crate::signals::{self, BlockedSignals};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every connection handler needs to know.
struct State {
    pod_name: String,
    /// From env POD_IP; otherwise the local address of each accepted connection is used.
    pod_ip: Option<String>,
    requests: AtomicU64,
}

/// Runs the server until SIGTERM/SIGINT. Returns the process exit code.
pub fn run() -> i32 {
    let signals = match BlockedSignals::block(&[libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: cannot block signals: {e}");
            return 1;
        }
    };
    // Exit as soon as we are told to: there is no state worth draining.
    std::thread::spawn(move || match signals.wait() {
        Ok(sig) => {
            println!("Received {}, shutting down", signals::name(sig));
            std::process::exit(0);
        }
        Err(e) => eprintln!("demo: sigwait failed: {e}"),
    });

    let port = match std::env::var("PORT") {
        Ok(p) => match p.parse::<u16>() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("demo: PORT={p:?} is not a port number");
                return 2;
            }
        },
        Err(_) => 8080,
    };
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: cannot listen on :{port}: {e}");
            return 1;
        }
    };
    let state = Arc::new(State {
        pod_name: hostname(),
        pod_ip: std::env::var("POD_IP").ok().filter(|ip| !ip.is_empty()),
        requests: AtomicU64::new(0),
    });
    println!("k8rs demo {VERSION} listening on :{port}");

    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                let state = Arc::clone(&state);
                std::thread::spawn(move || {
                    if let Err(e) = handle(stream, &state) {
                        eprintln!("demo: connection error: {e}");
                    }
                });
            }
            Err(e) => eprintln!("demo: accept failed: {e}"),
        }
    }
    0
}

fn handle(mut stream: TcpStream, state: &State) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let client = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "unknown".to_string());

    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        if let Some(n) = http::head_len(&buf) {
            break n;
        }
        if buf.len() > http::MAX_HEAD {
            let resp = http::render_response(431, "Request Header Fields Too Large", "", false);
            return stream.write_all(&resp);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            // Peer closed before sending a full request (e.g. a TCP probe): nothing to do.
            return Ok(());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let head = buf.get(..head_len).unwrap_or_default();

    let line = match http::parse_request_line(head) {
        Ok(line) => line,
        Err(e) => {
            println!("Bad request from {client}: {e}");
            let body = format!("{e}\n");
            return stream.write_all(&http::render_response(400, "Bad Request", &body, false));
        }
    };
    let head_only = line.method == "HEAD";
    if line.method != "GET" && !head_only {
        println!("Rejected {} {} from {client}", line.method, line.target);
        let resp = http::render_response(405, "Method Not Allowed", "", false);
        return stream.write_all(&resp);
    }

    let number = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let pod_ip = match &state.pod_ip {
        Some(ip) => ip.clone(),
        None => stream
            .local_addr()
            .map(|a: SocketAddr| a.ip().to_string())
            .unwrap_or_else(|_| "unknown".to_string()),
    };
    println!(
        "Received request #{number} for {} from {client}",
        line.target
    );
    let body = http::render_body(&Identity {
        version: VERSION,
        pod_name: &state.pod_name,
        pod_ip: &pod_ip,
        request_number: number,
        client: &client,
    });
    stream.write_all(&http::render_response(200, "OK", &body, head_only))?;
    stream.flush()
}

/// The pod name: Kubernetes sets the container's hostname to it.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
    // when the name fits, and we only read up to the first NUL or the buffer end.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        if let Ok(name) = std::str::from_utf8(buf.get(..end).unwrap_or_default())
            && !name.is_empty()
        {
            return name.to_string();
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown".to_string())
}
