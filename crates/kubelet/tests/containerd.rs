//! Starts a real containerd through `Containerd::start`, imports a busybox image built
//! here, runs a pod sandbox and a container through the `cri` module, reads the
//! container's log, and removes everything again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubelet::cri::{ContainerState, CriClient};
use kubelet::pods::spec::{self, ContainerInputs};
use kubelet::{Containerd, ContainerdConfig, KubeletConfig, logs, pods};
use sha2::{Digest, Sha256};

const IMAGE: &str = "docker.io/k8rs/test-busybox:0.1.0";
const BUSYBOX: &str = "/bin/busybox";

fn prerequisites() -> Option<&'static str> {
    if !Path::new("/usr/bin/containerd").exists() {
        return Some("containerd is not installed");
    }
    if !Path::new(BUSYBOX).exists() {
        return Some("busybox-static is not installed");
    }
    if !nix::unistd::geteuid().is_root() {
        return Some("not running as root");
    }
    None
}

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// An OCI image layout tarball with /bin/busybox, named `IMAGE`, whose default process
/// sleeps (good enough as a sandbox image).
fn build_image(out: &Path) {
    let mut layer = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_mode(0o755);
    header.set_size(0);
    layer
        .append_data(&mut header, "bin/", std::io::empty())
        .unwrap();
    let busybox = std::fs::read(BUSYBOX).unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o755);
    header.set_size(busybox.len() as u64);
    layer
        .append_data(&mut header, "bin/busybox", busybox.as_slice())
        .unwrap();
    let layer = layer.into_inner().unwrap();
    let layer_digest = sha(&layer);

    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Entrypoint": ["/bin/busybox", "sleep", "3600"], "Env": ["PATH=/bin"] },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{layer_digest}")] }
    }))
    .unwrap();
    let config_digest = sha(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_digest}"), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer_digest}"), "size": layer.len() }]
    }))
    .unwrap();
    let manifest_digest = sha(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"),
            "size": manifest.len(),
            "platform": { "architecture": "amd64", "os": "linux" },
            "annotations": { "io.containerd.image.name": IMAGE, "org.opencontainers.image.ref.name": "0.1.0" }
        }]
    }))
    .unwrap();

    let mut tarball = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut add = |name: String, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        tarball.append_data(&mut header, name, data).unwrap();
    };
    add("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#);
    add("index.json".into(), &index);
    add(format!("blobs/sha256/{manifest_digest}"), &manifest);
    add(format!("blobs/sha256/{config_digest}"), &config);
    add(format!("blobs/sha256/{layer_digest}"), &layer);
    tarball.finish().unwrap();
}

fn kubelet_config(data_dir: &Path, socket: &Path) -> KubeletConfig {
    KubeletConfig {
        node_name: "test-node".into(),
        node_ip: "127.0.0.1".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        runtime_endpoint: socket.to_path_buf(),
        port: 0,
        serving_cert_pem: String::new(),
        serving_key_pem: String::new(),
        client_ca_pem: String::new(),
        cluster_dns: "10.43.0.10".parse().unwrap(),
        cluster_domain: "cluster.local".into(),
    }
}

fn test_pod() -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("hello".into()),
            namespace: Some("default".into()),
            uid: Some(format!("test-{}", std::process::id())),
            ..Default::default()
        },
        spec: Some(PodSpec {
            // Host network: the test must not create pod networking on the machine.
            host_network: Some(true),
            containers: vec![Container {
                name: "main".into(),
                image: Some(IMAGE.into()),
                command: Some(vec!["/bin/busybox".into(), "sh".into(), "-c".into()]),
                args: Some(vec![
                    "echo hello from $(WHO); echo oops >&2; exec /bin/busybox sleep 3600".into(),
                ]),
                env: Some(vec![k8s_openapi::api::core::v1::EnvVar {
                    name: "WHO".into(),
                    value: Some("k8rs".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn poll<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn containerd_runs_a_pod_through_cri() {
    if let Some(reason) = prerequisites() {
        eprintln!("skipping containerd integration test: {reason}");
        return;
    }
    // Short path: unix socket paths are limited to 108 bytes.
    let tmp = tempfile::Builder::new()
        .prefix("k8rs-ct")
        .tempdir_in("/tmp")
        .unwrap();
    let data_dir: PathBuf = tmp.path().join("agent");
    std::fs::create_dir_all(data_dir.join("images")).unwrap();
    build_image(&data_dir.join("images").join("busybox.tar"));

    let containerd = Containerd::start(ContainerdConfig {
        data_dir: data_dir.clone(),
        sandbox_image: IMAGE.into(),
        registries_file: None,
    })
    .await
    .expect("containerd starts");
    assert!(data_dir.join("containerd/config.toml").exists());

    let result = exercise(&data_dir, containerd.socket()).await;
    containerd.stop().await.expect("containerd stops");
    if result.is_err() {
        let log =
            std::fs::read_to_string(data_dir.join("containerd/containerd.log")).unwrap_or_default();
        eprintln!("containerd log:\n{log}");
    }
    // Unmount anything containerd left mounted under the temp dir before it is deleted.
    let _ = std::process::Command::new("umount")
        .arg("-R")
        .arg(tmp.path())
        .status();
    result.unwrap();
}

async fn exercise(data_dir: &Path, socket: &Path) -> Result<(), String> {
    let mut cri = CriClient::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    let version = cri.version().await.map_err(|e| e.to_string())?;
    assert_eq!(version.runtime_name, "containerd");
    assert!(!version.runtime_version.is_empty());

    let image = cri.image_status(IMAGE).await.map_err(|e| e.to_string())?;
    let image = image.ok_or("imported image is not present")?;

    let config = kubelet_config(data_dir, socket);
    let pod = test_pod();
    let sandbox_config = spec::sandbox_config(&pod, &config, 0, "nameserver 127.0.0.53\n");
    let log_dir = spec::log_directory(data_dir, &pod);
    std::fs::create_dir_all(log_dir.join("main")).map_err(|e| e.to_string())?;
    let sandbox_id = cri
        .run_pod_sandbox(sandbox_config.clone())
        .await
        .map_err(|e| e.to_string())?;

    let outcome = async {
        let spec = pod.spec.as_ref().ok_or("no spec")?;
        let input = ContainerInputs {
            pod: &pod,
            container: &spec.containers[0],
            image_ref: &image.id,
            attempt: 0,
            pod_ip: "",
            host_ip: "127.0.0.1",
            service_env: &[],
        };
        let id = cri
            .create_container(
                &sandbox_id,
                spec::container_config(&input),
                sandbox_config.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
        cri.start_container(&id).await.map_err(|e| e.to_string())?;
        let status = poll("container running", || {
            let mut cri = cri.clone();
            let id = id.clone();
            async move {
                let s = cri.container_status(&id).await.ok().flatten()?;
                (s.state == ContainerState::ContainerRunning as i32).then_some(s)
            }
        })
        .await;
        assert_eq!(
            status.log_path,
            log_dir.join("main/0.log").display().to_string()
        );
        let entries = poll("container logs", || {
            let path = status.log_path.clone();
            async move {
                let content = std::fs::read_to_string(path).ok()?;
                let entries = logs::parse(&content);
                (entries.len() >= 2).then_some(entries)
            }
        })
        .await;
        // containerd copies stdout and stderr independently, so their order in the file
        // is not fixed; each line must be there with its stream.
        let line = |stream: &str| {
            entries
                .iter()
                .find(|e| e.stream == stream)
                .map(|e| e.message.clone())
        };
        assert_eq!(line("stdout").as_deref(), Some("hello from k8rs"));
        assert_eq!(line("stderr").as_deref(), Some("oops"));
        let sandboxes = cri
            .list_pod_sandboxes(Default::default())
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(sandboxes)
    }
    .await;

    // Tear down through the same path the kubelet uses on shutdown.
    pods::remove_all(&cri).await;
    let left = cri
        .list_pod_sandboxes(Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let sandboxes = outcome?;
    assert!(sandboxes.iter().any(|s| s.id == sandbox_id));
    assert!(
        left.iter().all(|s| s.id != sandbox_id),
        "sandbox was not removed"
    );
    let containers = cri.list_containers("").await.map_err(|e| e.to_string())?;
    assert!(
        containers.is_empty(),
        "containers left behind: {containers:?}"
    );
    Ok(())
}
