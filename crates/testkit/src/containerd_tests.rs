//! Checks, against a real throwaway containerd, that the archives import under the right
//! names and that containerd can pull from the test registry. Skipped unless running as
//! root with containerd and ctr installed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::host::{find_on_path, is_root, run_command};
use crate::images::pause_image;
use crate::oci::{Entry, ImageConfig, OciImage};
use crate::wait::wait_for;

/// Kills and reaps the containerd we started, whatever happens in the test.
struct Containerd(Child);

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_containerd(dir: &Path) -> Containerd {
    let config = format!(
        "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
         disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
         [grpc]\n  address = \"{d}/c.sock\"\n[ttrpc]\n  address = \"{d}/c.sock.ttrpc\"\n",
        d = dir.display()
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
    let child = Command::new("containerd")
        .arg("--config")
        .arg(dir.join("config.toml"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let containerd = Containerd(child);
    let sock = dir.join("c.sock");
    wait_for("containerd's socket", Duration::from_secs(30), || {
        Ok::<_, String>(sock.exists().then_some(()))
    })
    .unwrap();
    containerd
}

#[test]
fn containerd_imports_archives_and_pulls_from_the_registry() {
    if !is_root() || find_on_path("containerd").is_none() || find_on_path("ctr").is_none() {
        eprintln!("skipping: needs root, containerd and ctr");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("k8rs-ctd-")
        .tempdir_in("/tmp")
        .unwrap();
    let _containerd = start_containerd(dir.path());
    let address = dir.path().join("c.sock").to_string_lossy().into_owned();
    let ctr = |args: &[&str]| {
        let mut full = vec!["--address", &address, "-n", "k8s.io"];
        full.extend_from_slice(args);
        run_command("ctr", &full).unwrap()
    };

    // busybox-static stands in for the static demo binary.
    let Some(static_bin) = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
    else {
        eprintln!("skipping: no static busybox to build an image from");
        return;
    };
    let pause = pause_image(static_bin).unwrap();
    let archive = dir.path().join("pause.tar");
    pause.write_archive(&archive).unwrap();
    ctr(&["images", "import", &archive.to_string_lossy()]);
    let images = ctr(&["images", "ls", "-q"]);
    assert!(
        images.lines().any(|l| l == "docker.io/k8rs/pause:0.1.0"),
        "{images}"
    );

    let tiny = OciImage::build(
        "docker.io/k8rs/tiny:0.1.0",
        &[Entry::Bytes {
            path: "/hello".into(),
            data: b"hi".to_vec(),
            mode: 0o644,
        }],
        &ImageConfig::default(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let reg = listener.local_addr().unwrap();
    runtime.spawn(crate::registry::serve(
        listener,
        vec![("k8rs/tiny".into(), "0.1.0".into(), tiny.clone())],
    ));
    let reference = format!("{reg}/k8rs/tiny:0.1.0");
    ctr(&["images", "pull", "--plain-http", &reference]);
    let images = ctr(&["images", "ls"]);
    let line = images
        .lines()
        .find(|l| l.starts_with(&reference))
        .unwrap_or_else(|| panic!("{reference} not in {images}"));
    assert!(line.contains(&tiny.manifest_digest()), "{line}");
}
