//! The project's test images, built offline from the static `demo` binary and Debian's
//! busybox-static: `docker.io/k8rs/demo:0.1.0` and the sandbox image
//! `docker.io/k8rs/pause:0.1.0`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::oci::{Entry, ImageConfig, OciImage};

pub const DEMO_IMAGE: &str = "docker.io/k8rs/demo:0.1.0";
pub const PAUSE_IMAGE: &str = "docker.io/k8rs/pause:0.1.0";

/// Where Debian's busybox-static installs its binary; `K8RS_BUSYBOX` overrides.
const DEFAULT_BUSYBOX: &str = "/bin/busybox";

/// Busybox applets linked into `/bin` of the demo image (enough to poke around a pod).
const APPLETS: &[&str] = &[
    "awk",
    "base64",
    "cat",
    "chmod",
    "cp",
    "cut",
    "date",
    "df",
    "du",
    "echo",
    "env",
    "false",
    "find",
    "free",
    "grep",
    "head",
    "hostname",
    "id",
    "ifconfig",
    "ip",
    "kill",
    "less",
    "ln",
    "ls",
    "mkdir",
    "mount",
    "mv",
    "nc",
    "netstat",
    "nslookup",
    "ping",
    "printf",
    "ps",
    "pwd",
    "readlink",
    "rm",
    "route",
    "sed",
    "sh",
    "sleep",
    "sort",
    "stat",
    "tail",
    "tee",
    "telnet",
    "test",
    "timeout",
    "top",
    "touch",
    "tr",
    "traceroute",
    "true",
    "uname",
    "uptime",
    "vi",
    "watch",
    "wc",
    "which",
    "whoami",
    "xargs",
];

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "org.opencontainers.image.source".to_string(),
        "https://github.com/k8rs/k8rs".to_string(),
    )])
}

/// The demo app image: busybox + `/app/demo`, entrypoint `/app/demo`, port 8080.
pub fn demo_image(demo_bin: &Path) -> Result<OciImage> {
    ensure_static(demo_bin)?;
    let busybox = std::env::var_os("K8RS_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BUSYBOX));
    ensure_static(&busybox)?;

    let mut entries = vec![
        Entry::File {
            path: "/app/demo".into(),
            source: demo_bin.to_path_buf(),
            mode: 0o755,
        },
        Entry::File {
            path: "/bin/busybox".into(),
            source: busybox,
            mode: 0o755,
        },
        Entry::Bytes {
            path: "/etc/passwd".into(),
            data: b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".to_vec(),
            mode: 0o644,
        },
        Entry::Bytes {
            path: "/etc/group".into(),
            data: b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
            mode: 0o644,
        },
        Entry::Dir {
            path: "/tmp".into(),
            mode: 0o1777,
        },
        Entry::Dir {
            path: "/root".into(),
            mode: 0o700,
        },
    ];
    entries.extend(APPLETS.iter().map(|applet| Entry::Symlink {
        path: format!("/bin/{applet}"),
        target: "busybox".into(),
    }));
    // A small curl built into the demo binary (busybox's wget crashes when statically linked).
    entries.push(Entry::Symlink {
        path: "/bin/curl".into(),
        target: "/app/demo".into(),
    });

    OciImage::build(
        DEMO_IMAGE,
        &entries,
        &ImageConfig {
            entrypoint: vec!["/app/demo".into()],
            env: vec![PATH_ENV.into()],
            exposed_ports: vec!["8080/tcp".into()],
            working_dir: Some("/app".into()),
            labels: labels(),
            ..ImageConfig::default()
        },
    )
}

/// The sandbox image: just the static demo binary at `/pause`, run in pause mode.
pub fn pause_image(demo_bin: &Path) -> Result<OciImage> {
    ensure_static(demo_bin)?;
    OciImage::build(
        PAUSE_IMAGE,
        &[Entry::File {
            path: "/pause".into(),
            source: demo_bin.to_path_buf(),
            mode: 0o755,
        }],
        &ImageConfig {
            entrypoint: vec!["/pause".into(), "pause".into()],
            env: vec![PATH_ENV.into()],
            labels: labels(),
            ..ImageConfig::default()
        },
    )
}

/// Refuses binaries that need a dynamic loader: the images have no libc, so such a
/// binary would fail inside the container with a baffling "no such file or directory".
fn ensure_static(path: &Path) -> Result<()> {
    let data =
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    match elf_has_interpreter(&data) {
        Some(false) => Ok(()),
        Some(true) => Err(Error::Image(format!(
            "{} is dynamically linked; build it with RUSTFLAGS=\"-C target-feature=+crt-static\"",
            path.display()
        ))),
        None => Err(Error::Image(format!(
            "{} is not a 64-bit little-endian ELF executable",
            path.display()
        ))),
    }
}

/// Whether a 64-bit little-endian ELF file has a PT_INTERP program header; `None` if
/// the bytes are not such an ELF file.
pub(crate) fn elf_has_interpreter(data: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    let u16_at = |off: usize| -> Option<u16> {
        Some(u16::from_le_bytes(data.get(off..off + 2)?.try_into().ok()?))
    };
    let u32_at = |off: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(off..off + 4)?.try_into().ok()?))
    };
    let u64_at = |off: usize| -> Option<u64> {
        Some(u64::from_le_bytes(data.get(off..off + 8)?.try_into().ok()?))
    };
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if data.get(..4)? != b"\x7fELF" || *data.get(4)? != 2 || *data.get(5)? != 1 {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        let off = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(off)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dynamic_and_static_elves() {
        // /bin/ls on every Linux test machine is dynamically linked.
        let ls = std::fs::read("/bin/ls").unwrap();
        assert_eq!(elf_has_interpreter(&ls), Some(true));
        if let Ok(bb) = std::fs::read(DEFAULT_BUSYBOX) {
            assert_eq!(elf_has_interpreter(&bb), Some(false));
        }
        assert_eq!(elf_has_interpreter(b"#!/bin/sh\n"), None);
        assert_eq!(elf_has_interpreter(b"\x7fELF\x02\x01"), None);
    }

    #[test]
    fn rejects_dynamic_demo_binary() {
        let err = pause_image(Path::new("/bin/ls")).unwrap_err();
        assert!(err.to_string().contains("dynamically linked"), "{err}");
    }
}
