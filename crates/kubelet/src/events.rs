//! Event reasons and messages with upstream kubelet's exact wording
//! (pkg/kubelet/events and kuberuntime), so `kubectl describe pod` reads the same.

use std::time::Duration;

pub const PULLING: &str = "Pulling";
pub const PULLED: &str = "Pulled";
pub const FAILED: &str = "Failed";
pub const BACK_OFF: &str = "BackOff";
pub const CREATED: &str = "Created";
pub const STARTED: &str = "Started";
pub const KILLING: &str = "Killing";
pub const ERR_IMAGE_NEVER_PULL: &str = "ErrImageNeverPull";
pub const NODE_READY: &str = "NodeReady";
pub const STARTING: &str = "Starting";

/// Container waiting reasons.
pub const CONTAINER_CREATING: &str = "ContainerCreating";
pub const CRASH_LOOP_BACK_OFF: &str = "CrashLoopBackOff";
pub const ERR_IMAGE_PULL: &str = "ErrImagePull";
pub const IMAGE_PULL_BACK_OFF: &str = "ImagePullBackOff";

pub fn pulling(image: &str) -> String {
    format!("Pulling image {image:?}")
}

pub fn pulled(image: &str, pull: Duration, total: Duration, size: u64) -> String {
    format!(
        "Successfully pulled image {image:?} in {} ({} including waiting). Image size: {size} bytes.",
        go_duration(pull),
        go_duration(total)
    )
}

pub fn already_present(image: &str) -> String {
    format!("Container image {image:?} already present on machine")
}

pub fn failed_pull(image: &str, err: &str) -> String {
    format!("Failed to pull image {image:?}: {err}")
}

pub fn error(reason: &str) -> String {
    format!("Error: {reason}")
}

pub fn back_off_pull(image: &str) -> String {
    format!("Back-off pulling image {image:?}")
}

pub fn never_pull(image: &str) -> String {
    format!("Container image {image:?} is not present with pull policy of Never")
}

pub fn created(container: &str) -> String {
    format!("Created container: {container}")
}

pub fn started(container: &str) -> String {
    format!("Started container {container}")
}

pub fn killing(container: &str) -> String {
    format!("Stopping container {container}")
}

/// `pod` is upstream's `format.Pod`: `<name>_<namespace>(<uid>)`.
pub fn back_off_restart(container: &str, name: &str, namespace: &str, uid: &str) -> String {
    format!("Back-off restarting failed container {container} in pod {name}_{namespace}({uid})")
}

/// Go's `time.Duration.String()` (e.g. `1.5s`, `523ms`, `2m3.1s`), which upstream's
/// messages embed.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", trim_fraction(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim_fraction(nanos, 1_000_000));
    }
    let total_secs = d.as_secs();
    let (h, m) = (total_secs / 3600, (total_secs % 3600) / 60);
    let secs = trim_fraction(nanos % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// `value / unit` with the fraction's trailing zeros removed, as Go prints it.
fn trim_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_formats_like_go() {
        assert_eq!(go_duration(Duration::from_millis(15_981)), "15.981s");
        assert_eq!(go_duration(Duration::from_millis(523)), "523ms");
        assert_eq!(go_duration(Duration::from_micros(1_500)), "1.5ms");
        assert_eq!(go_duration(Duration::from_secs(123)), "2m3s");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn messages_use_upstream_wording() {
        assert_eq!(
            pulled(
                "busybox",
                Duration::from_millis(1500),
                Duration::from_millis(1500),
                42
            ),
            "Successfully pulled image \"busybox\" in 1.5s (1.5s including waiting). Image size: 42 bytes."
        );
        assert_eq!(created("web"), "Created container: web");
        assert_eq!(started("web"), "Started container web");
        assert_eq!(
            back_off_restart("c", "p", "default", "u1"),
            "Back-off restarting failed container c in pod p_default(u1)"
        );
    }
}
