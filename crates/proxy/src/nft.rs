//! Applies rulesets with the `nft` CLI.
//!
//! The whole ruleset goes to `nft -f -` on stdin, so each sync is a single netlink
//! transaction: the kernel either switches to the new rules or keeps the old ones.

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::Error;
use crate::render::render_delete;

/// Where Debian installs nft; `PATH` is used when it is elsewhere.
const NFT_PATH: &str = "/usr/sbin/nft";

fn nft_binary() -> &'static str {
    if Path::new(NFT_PATH).exists() {
        NFT_PATH
    } else {
        "nft"
    }
}

/// Whether the nft CLI can be found.
pub fn available() -> bool {
    Path::new(NFT_PATH).exists()
        || std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("nft").is_file()))
}

/// Feeds `ruleset` to `nft -f -`, inside network namespace `netns` (a name under
/// /var/run/netns, entered with `ip netns exec`) when given.
pub async fn apply(ruleset: &str, netns: Option<&str>) -> Result<(), Error> {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, nft_binary()]);
            c
        }
        None => Command::new(nft_binary()),
    };
    cmd.args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Nft(format!("running nft: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(ruleset.as_bytes())
            .await
            .map_err(|e| Error::Nft(format!("writing ruleset to nft: {e}")))?;
        // Dropping stdin closes it so nft sees end of input.
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| Error::Nft(format!("waiting for nft: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Nft(format!(
            "nft -f - failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Removes `table` (family ip) if present.
pub async fn delete_table(table: &str, netns: Option<&str>) -> Result<(), Error> {
    apply(&render_delete(table), netns).await
}
