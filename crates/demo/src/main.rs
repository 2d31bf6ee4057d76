//! k8rs's demo app (like the book's Kiada): a tiny HTTP server that tells you which pod
//! answered. The same binary is the sandbox "pause" process when run as `demo pause` or
//! under a name ending in `pause`. std + libc only, so it links statically and runs in an
//! image without a C library.

mod curl;
mod http;
mod pause;
mod server;
mod signals;

fn main() {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_default();
    let first = args.next();
    let code = if argv0.ends_with("pause") || first.as_deref() == Some("pause") {
        pause::run()
    } else if argv0.ends_with("curl") {
        curl::run(first.into_iter().chain(args))
    } else if first.as_deref() == Some("curl") {
        curl::run(args)
    } else {
        server::run()
    };
    std::process::exit(code);
}
