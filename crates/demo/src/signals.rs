//! Signal handling that works for PID 1 in a container.
//!
//! The kernel drops signals sent to a namespace's init process when their disposition is
//! the default, so SIGTERM would be ignored. Signals that are *blocked* are never dropped,
//! though: we block them in every thread and collect them synchronously with `sigwait`.

use std::io;

/// A set of signals, blocked in the calling thread (and every thread it spawns afterwards).
pub struct BlockedSignals {
    set: libc::sigset_t,
}

impl BlockedSignals {
    /// Blocks `signals` in the calling thread. Call before spawning threads so they
    /// inherit the mask and the signals are only ever taken by [`BlockedSignals::wait`].
    pub fn block(signals: &[libc::c_int]) -> io::Result<Self> {
        // SAFETY: sigset_t is plain data; sigemptyset initialises it before any other use.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, exclusively borrowed sigset_t.
        unsafe { libc::sigemptyset(&mut set) };
        for &sig in signals {
            // SAFETY: as above; an invalid signal number only yields an error code.
            if unsafe { libc::sigaddset(&mut set, sig) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: `set` is initialised; a null old-set pointer is allowed.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(Self { set })
    }

    /// Waits until one of the blocked signals is pending and returns its number.
    pub fn wait(&self) -> io::Result<libc::c_int> {
        let mut sig: libc::c_int = 0;
        // SAFETY: `self.set` is initialised and `sig` is a valid out-pointer.
        let rc = unsafe { libc::sigwait(&self.set, &mut sig) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(sig)
    }
}

/// Human-readable name of the signals we handle.
pub fn name(sig: libc::c_int) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGCHLD => "SIGCHLD",
        _ => "signal",
    }
}

/// Reaps every exited child without blocking (we may be PID 1 and inherit orphans).
pub fn reap_children() {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid with WNOHANG only writes to `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
    }
}
