//! The sandbox "pause" process: holds the pod's namespaces open, reaps zombies, and exits
//! cleanly when asked to.

use crate::signals::{self, BlockedSignals};

/// Sleeps until SIGTERM or SIGINT, reaping children on SIGCHLD. Returns the exit code.
pub fn run() -> i32 {
    let signals = match BlockedSignals::block(&[libc::SIGTERM, libc::SIGINT, libc::SIGCHLD]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pause: cannot block signals: {e}");
            return 1;
        }
    };
    loop {
        match signals.wait() {
            Ok(libc::SIGCHLD) => signals::reap_children(),
            Ok(sig) => {
                println!("Shutting down, got signal: {}", signals::name(sig));
                return 0;
            }
            Err(e) => {
                eprintln!("pause: sigwait failed: {e}");
                return 1;
            }
        }
    }
}
