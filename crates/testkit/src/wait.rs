//! Polling with a deadline: the only way tests wait for the cluster to converge.

use std::fmt::Display;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Interval between polls; short enough to notice changes quickly, long enough not to
/// hammer the API server.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Calls `check` until it returns `Ok(Some(value))` or `timeout` passes. `Ok(None)` means
/// "not yet"; errors are remembered (the cluster may still be settling) and reported,
/// with `what`, if the deadline passes.
pub fn wait_for<T, E: Display>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> std::result::Result<Option<T>, E>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        };
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: what.to_string(),
                seconds: timeout.as_secs(),
                last,
            });
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_ready_value() {
        let mut calls = 0;
        let v = wait_for("three calls", Duration::from_secs(30), || {
            calls += 1;
            Ok::<_, String>((calls == 3).then_some(calls))
        })
        .unwrap();
        assert_eq!(v, 3);
    }

    #[test]
    fn times_out_with_the_last_error() {
        let err = wait_for::<(), _>("never", Duration::ZERO, || Err("boom")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("waiting for never"), "{msg}");
        assert!(msg.contains("boom"), "{msg}");
    }
}
