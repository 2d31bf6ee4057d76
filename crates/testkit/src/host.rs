//! Facts about the test host and the tools e2e tests inspect it with (ctr, nft).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// A TCP port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("finding a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("finding a free port", e))
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The first `name` found in a PATH directory.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs a host command and returns its stdout; failure carries the command and output.
pub fn run_command(program: &str, args: &[&str]) -> Result<String> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Error::io(format!("running {command}"), e))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(Error::Command {
            command,
            status: out.status.to_string(),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(stdout)
}

/// IDs of all containers (sandboxes included) in containerd's `k8s.io` namespace.
pub fn containerd_container_ids(socket: &Path) -> Result<Vec<String>> {
    let address = socket.to_string_lossy();
    let out = run_command(
        "ctr",
        &[
            "--address",
            &address,
            "-n",
            "k8s.io",
            "containers",
            "ls",
            "-q",
        ],
    )?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// `nft list table <family> <name>`; a missing table is an empty string, not an error.
pub fn nft_table(family: &str, name: &str) -> Result<String> {
    match run_command("nft", &["list", "table", family, name]) {
        Ok(out) => Ok(out),
        Err(Error::Command { stderr, .. }) if stderr.contains("No such file or directory") => {
            Ok(String::new())
        }
        Err(e) => Err(e),
    }
}

/// Whether `text` mentions the IPv4 address `ip` as a whole token (so `10.43.0.1` does
/// not match inside `10.43.0.12`).
pub fn mentions_ip(text: &str, ip: &str) -> bool {
    let is_ip_char = |c: char| c.is_ascii_digit() || c == '.';
    text.match_indices(ip).any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        let after = text.get(i + ip.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(is_ip_char) && !after.is_some_and(is_ip_char)
    })
}

/// Whether `ip` lies in the IPv4 CIDR `cidr` (`10.42.0.0/24`); false for anything unparsable.
pub fn ipv4_in_cidr(ip: &str, cidr: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(ip), Ok(net), Ok(bits)) = (
        ip.parse::<std::net::Ipv4Addr>(),
        net.parse::<std::net::Ipv4Addr>(),
        bits.parse::<u32>(),
    ) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_membership() {
        assert!(ipv4_in_cidr("10.42.0.7", "10.42.0.0/24"));
        assert!(!ipv4_in_cidr("10.42.1.7", "10.42.0.0/24"));
        assert!(ipv4_in_cidr("1.2.3.4", "0.0.0.0/0"));
        assert!(ipv4_in_cidr("10.42.0.0", "10.42.0.0/32"));
        assert!(!ipv4_in_cidr("10.42.0.1", "10.42.0.0/32"));
        assert!(!ipv4_in_cidr("", "10.42.0.0/24"));
        assert!(!ipv4_in_cidr("10.42.0.1", "10.42.0.0/33"));
        assert!(!ipv4_in_cidr("10.42.0.1", "10.42.0.0"));
    }

    #[test]
    fn mentions_ip_matches_whole_addresses() {
        let text = "ip daddr 10.43.0.12 tcp dport 80 ; ip daddr 10.43.0.1/32";
        assert!(mentions_ip(text, "10.43.0.12"));
        assert!(mentions_ip(text, "10.43.0.1"));
        assert!(!mentions_ip(text, "10.43.0.2"));
        assert!(!mentions_ip("x10.43.0.123", "10.43.0.12"));
        assert!(!mentions_ip("110.43.0.12", "10.43.0.12"));
    }

    #[test]
    fn free_port_is_nonzero() {
        assert_ne!(free_port().unwrap(), 0);
    }
}
