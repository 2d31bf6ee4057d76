//! OCI images built offline: one gzip layer from host files and symlinks, an image config,
//! a manifest, and the OCI image-layout archive (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) that `ctr images import` and k8rs's image loader understand.
//!
//! Everything is reproducible: entries are sorted, owners are root, and timestamps are
//! fixed, so the same inputs always give the same digests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Modification time of every tar entry (2024-01-01T00:00:00Z).
const FIXED_MTIME: u64 = 1_704_067_200;
const FIXED_CREATED: &str = "2024-01-01T00:00:00Z";

/// One thing to put into the image's filesystem. Paths are absolute image paths.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A regular file copied from the host.
    File {
        path: String,
        source: PathBuf,
        mode: u32,
    },
    /// A regular file with the given contents.
    Bytes {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// A symbolic link.
    Symlink { path: String, target: String },
    /// A directory (parents of other entries are created with mode 0755 anyway).
    Dir { path: String, mode: u32 },
}

/// The runtime part of the image config (what `docker inspect` shows under `Config`).
#[derive(Debug, Clone, Default)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    /// Like `8080/tcp`.
    pub exposed_ports: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A built image: the blobs a registry serves and an archive writer.
#[derive(Debug, Clone)]
pub struct OciImage {
    /// Full reference, e.g. `docker.io/k8rs/demo:0.1.0`.
    pub name: String,
    pub manifest: Bytes,
    pub config: Bytes,
    /// Compressed layers as `(digest, bytes)`, in manifest order.
    pub layers: Vec<(String, Bytes)>,
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

impl OciImage {
    /// Builds an image named `name` (`registry/repo:tag`) from `entries` and `config`.
    pub fn build(name: &str, entries: &[Entry], config: &ImageConfig) -> Result<Self> {
        let layer_tar = build_layer_tar(entries)?;
        let diff_id = sha256_digest(&layer_tar);
        let layer = gzip(&layer_tar)?;
        let layer_digest = sha256_digest(&layer);

        let config_bytes = serialize(&config_json(config, &diff_id))?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_MANIFEST,
            "config": {
                "mediaType": MEDIA_TYPE_CONFIG,
                "digest": sha256_digest(&config_bytes),
                "size": config_bytes.len(),
            },
            "layers": [{
                "mediaType": MEDIA_TYPE_LAYER_GZIP,
                "digest": layer_digest,
                "size": layer.len(),
            }],
        });
        Ok(OciImage {
            name: name.to_string(),
            manifest: Bytes::from(serialize(&manifest)?),
            config: Bytes::from(config_bytes),
            layers: vec![(layer_digest, Bytes::from(layer))],
        })
    }

    pub fn manifest_digest(&self) -> String {
        sha256_digest(&self.manifest)
    }

    pub fn config_digest(&self) -> String {
        sha256_digest(&self.config)
    }

    /// The tag part of the name (`0.1.0` for `docker.io/k8rs/demo:0.1.0`), `latest` if none.
    pub fn tag(&self) -> &str {
        let last = self.name.rsplit('/').next().unwrap_or(&self.name);
        last.split_once(':').map(|(_, t)| t).unwrap_or("latest")
    }

    /// The config or a layer blob with this digest.
    pub fn blob(&self, digest: &str) -> Option<&Bytes> {
        if self.config_digest() == digest {
            return Some(&self.config);
        }
        self.layers
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, b)| b)
    }

    /// The `index.json` of the image layout, annotated so containerd names the image.
    pub fn index_json(&self) -> Result<Vec<u8>> {
        serialize(&json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_INDEX,
            "manifests": [{
                "mediaType": MEDIA_TYPE_MANIFEST,
                "digest": self.manifest_digest(),
                "size": self.manifest.len(),
                "platform": { "architecture": "amd64", "os": "linux" },
                "annotations": {
                    "io.containerd.image.name": self.name,
                    "org.opencontainers.image.ref.name": self.tag(),
                },
            }],
        }))
    }

    /// The OCI image-layout archive as bytes.
    pub fn archive_bytes(&self) -> Result<Vec<u8>> {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        files.insert(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        files.insert("index.json".into(), self.index_json()?);
        let mut blobs: Vec<(String, &[u8])> = vec![
            (self.manifest_digest(), &self.manifest),
            (self.config_digest(), &self.config),
        ];
        blobs.extend(self.layers.iter().map(|(d, b)| (d.clone(), b.as_ref())));
        for (digest, data) in blobs {
            let hex = digest.strip_prefix("sha256:").unwrap_or(&digest);
            files.insert(format!("blobs/sha256/{hex}"), data.to_vec());
        }

        let mut builder = tar::Builder::new(Vec::new());
        for dir in ["blobs/", "blobs/sha256/"] {
            append_dir(&mut builder, dir, 0o755)?;
        }
        for (path, data) in &files {
            append_file(&mut builder, path, data, 0o644)?;
        }
        builder
            .into_inner()
            .map_err(|e| Error::io("finishing image archive", e))
    }

    /// Writes the OCI image-layout archive to `path`.
    pub fn write_archive(&self, path: &Path) -> Result<()> {
        let bytes = self.archive_bytes()?;
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }
}

fn serialize(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|source| Error::Json {
        context: "image metadata".into(),
        source,
    })
}

fn config_json(config: &ImageConfig, diff_id: &str) -> Value {
    let mut runtime = serde_json::Map::new();
    if !config.env.is_empty() {
        runtime.insert("Env".into(), json!(config.env));
    }
    if !config.entrypoint.is_empty() {
        runtime.insert("Entrypoint".into(), json!(config.entrypoint));
    }
    if !config.cmd.is_empty() {
        runtime.insert("Cmd".into(), json!(config.cmd));
    }
    if let Some(dir) = &config.working_dir {
        runtime.insert("WorkingDir".into(), json!(dir));
    }
    if !config.exposed_ports.is_empty() {
        let ports: serde_json::Map<String, Value> = config
            .exposed_ports
            .iter()
            .map(|p| (p.clone(), json!({})))
            .collect();
        runtime.insert("ExposedPorts".into(), Value::Object(ports));
    }
    if !config.labels.is_empty() {
        runtime.insert("Labels".into(), json!(config.labels));
    }
    json!({
        "created": FIXED_CREATED,
        "architecture": "amd64",
        "os": "linux",
        "config": runtime,
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
        "history": [{ "created": FIXED_CREATED, "created_by": "k8rs testkit" }],
    })
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    // GzEncoder writes a zero mtime and no file name, so the output is reproducible.
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|e| Error::io("compressing layer", e))
}

/// What a layer path holds, after normalisation.
enum Node<'a> {
    Dir(u32),
    File { data: Vec<u8>, mode: u32 },
    Symlink(&'a str),
}

/// `/bin/sh` -> `bin/sh`; rejects empty paths and `..` components.
fn relative_path(path: &str) -> Result<String> {
    let rel = path.trim_matches('/');
    if rel.is_empty()
        || rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(Error::Image(format!("bad image path {path:?}")));
    }
    Ok(rel.to_string())
}

/// The uncompressed layer tar: parents first, everything sorted, all owned by root.
pub(crate) fn build_layer_tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut nodes: BTreeMap<String, Node<'_>> = BTreeMap::new();
    for entry in entries {
        let (path, node) = match entry {
            Entry::File { path, source, mode } => {
                let data = std::fs::read(source)
                    .map_err(|e| Error::io(format!("reading {}", source.display()), e))?;
                (path, Node::File { data, mode: *mode })
            }
            Entry::Bytes { path, data, mode } => (
                path,
                Node::File {
                    data: data.clone(),
                    mode: *mode,
                },
            ),
            Entry::Symlink { path, target } => (path, Node::Symlink(target)),
            Entry::Dir { path, mode } => (path, Node::Dir(*mode)),
        };
        let rel = relative_path(path)?;
        if nodes.insert(rel.clone(), node).is_some() {
            return Err(Error::Image(format!("duplicate image path {path:?}")));
        }
    }
    // Every parent must exist as a directory in the layer.
    let parents: BTreeSet<String> = nodes
        .keys()
        .flat_map(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            (1..parts.len())
                .map(move |n| parts.get(..n).map(|s| s.join("/")).unwrap_or_default())
                .collect::<Vec<_>>()
        })
        .collect();
    for parent in parents {
        match nodes.get(&parent) {
            Some(Node::Dir(_)) => {}
            Some(_) => return Err(Error::Image(format!("/{parent} is not a directory"))),
            None => {
                nodes.insert(parent, Node::Dir(0o755));
            }
        }
    }

    let mut builder = tar::Builder::new(Vec::new());
    for (path, node) in &nodes {
        match node {
            Node::Dir(mode) => append_dir(&mut builder, &format!("{path}/"), *mode)?,
            Node::File { data, mode } => append_file(&mut builder, path, data, *mode)?,
            Node::Symlink(target) => {
                let mut header = base_header(tar::EntryType::Symlink, 0o777, 0);
                builder
                    .append_link(&mut header, path, target)
                    .map_err(|e| Error::io(format!("adding symlink /{path}"), e))?;
            }
        }
    }
    builder
        .into_inner()
        .map_err(|e| Error::io("finishing layer", e))
}

fn base_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(FIXED_MTIME);
    header
}

fn append_dir(builder: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32) -> Result<()> {
    let mut header = base_header(tar::EntryType::Directory, mode, 0);
    builder
        .append_data(&mut header, path, std::io::empty())
        .map_err(|e| Error::io(format!("adding directory {path}"), e))
}

fn append_file(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    data: &[u8],
    mode: u32,
) -> Result<()> {
    let mut header = base_header(tar::EntryType::Regular, mode, data.len() as u64);
    builder
        .append_data(&mut header, path, data)
        .map_err(|e| Error::io(format!("adding file {path}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn sample_image(dir: &Path) -> OciImage {
        let bin = dir.join("tool");
        std::fs::write(&bin, b"#!binary").unwrap();
        OciImage::build(
            "docker.io/k8rs/sample:1.2.3",
            &[
                Entry::File {
                    path: "/app/tool".into(),
                    source: bin,
                    mode: 0o755,
                },
                Entry::Symlink {
                    path: "/bin/tool".into(),
                    target: "../app/tool".into(),
                },
                Entry::Dir {
                    path: "/tmp".into(),
                    mode: 0o1777,
                },
            ],
            &ImageConfig {
                entrypoint: vec!["/app/tool".into()],
                cmd: vec!["--flag".into()],
                env: vec!["A=b".into()],
                exposed_ports: vec!["8080/tcp".into()],
                working_dir: Some("/app".into()),
                labels: BTreeMap::from([("k".into(), "v".into())]),
            },
        )
        .unwrap()
    }

    /// The archive's files by path.
    fn archive_files(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut ar = tar::Archive::new(archive);
        for entry in ar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            files.insert(path, data);
        }
        files
    }

    fn blob<'a>(files: &'a BTreeMap<String, Vec<u8>>, digest: &str) -> &'a [u8] {
        let hex = digest.strip_prefix("sha256:").unwrap();
        let data = &files[&format!("blobs/sha256/{hex}")];
        assert_eq!(
            sha256_digest(data),
            digest,
            "blob content must match its name"
        );
        data
    }

    #[test]
    fn archive_is_a_consistent_oci_layout() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image(dir.path());
        let path = dir.path().join("img.tar");
        image.write_archive(&path).unwrap();
        let files = archive_files(&std::fs::read(&path).unwrap());

        let layout: Value = serde_json::from_slice(&files["oci-layout"]).unwrap();
        assert_eq!(layout["imageLayoutVersion"], "1.0.0");

        let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
        let desc = &index["manifests"][0];
        assert_eq!(desc["mediaType"], MEDIA_TYPE_MANIFEST);
        assert_eq!(
            desc["annotations"]["io.containerd.image.name"],
            "docker.io/k8rs/sample:1.2.3"
        );
        assert_eq!(
            desc["annotations"]["org.opencontainers.image.ref.name"],
            "1.2.3"
        );
        let manifest_bytes = blob(&files, desc["digest"].as_str().unwrap());
        assert_eq!(desc["size"].as_u64().unwrap(), manifest_bytes.len() as u64);

        let manifest: Value = serde_json::from_slice(manifest_bytes).unwrap();
        assert_eq!(manifest["schemaVersion"], 2);
        let config_bytes = blob(&files, manifest["config"]["digest"].as_str().unwrap());
        assert_eq!(
            manifest["config"]["size"].as_u64().unwrap(),
            config_bytes.len() as u64
        );
        let layer_desc = &manifest["layers"][0];
        assert_eq!(layer_desc["mediaType"], MEDIA_TYPE_LAYER_GZIP);
        let layer = blob(&files, layer_desc["digest"].as_str().unwrap());
        assert_eq!(layer_desc["size"].as_u64().unwrap(), layer.len() as u64);

        let config: Value = serde_json::from_slice(config_bytes).unwrap();
        assert_eq!(config["os"], "linux");
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(config["config"]["Entrypoint"], json!(["/app/tool"]));
        assert_eq!(config["config"]["Cmd"], json!(["--flag"]));
        assert_eq!(config["config"]["Env"], json!(["A=b"]));
        assert_eq!(config["config"]["ExposedPorts"], json!({"8080/tcp": {}}));
        assert_eq!(config["config"]["WorkingDir"], "/app");
        assert_eq!(config["config"]["Labels"], json!({"k": "v"}));

        // diff_id is the digest of the uncompressed layer.
        let mut tar_bytes = Vec::new();
        GzDecoder::new(layer).read_to_end(&mut tar_bytes).unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([sha256_digest(&tar_bytes)])
        );
    }

    #[test]
    fn layer_has_sorted_root_owned_entries_with_parents() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image(dir.path());
        let mut tar_bytes = Vec::new();
        GzDecoder::new(image.layers[0].1.as_ref())
            .read_to_end(&mut tar_bytes)
            .unwrap();
        let mut ar = tar::Archive::new(tar_bytes.as_slice());
        let mut seen = Vec::new();
        for entry in ar.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            assert_eq!(h.mtime().unwrap(), FIXED_MTIME);
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            match path.as_str() {
                "app/tool" => assert_eq!(h.mode().unwrap(), 0o755),
                "tmp/" => assert_eq!(h.mode().unwrap(), 0o1777),
                "bin/tool" => {
                    assert_eq!(h.entry_type(), tar::EntryType::Symlink);
                    assert_eq!(
                        entry.link_name().unwrap().unwrap().to_string_lossy(),
                        "../app/tool"
                    );
                }
                _ => {}
            }
            seen.push(path);
        }
        assert_eq!(seen, ["app/", "app/tool", "bin/", "bin/tool", "tmp/"]);
    }

    #[test]
    fn builds_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let a = sample_image(dir.path());
        let b = sample_image(dir.path());
        assert_eq!(a.manifest_digest(), b.manifest_digest());
        assert_eq!(a.archive_bytes().unwrap(), b.archive_bytes().unwrap());
    }

    #[test]
    fn rejects_bad_paths() {
        for bad in ["/", "/a/../b", "/a//b", "/./a"] {
            let r = OciImage::build(
                "x:1",
                &[Entry::Dir {
                    path: bad.into(),
                    mode: 0o755,
                }],
                &ImageConfig::default(),
            );
            assert!(r.is_err(), "accepted {bad}");
        }
        let file_then_child = [
            Entry::Bytes {
                path: "/a".into(),
                data: vec![],
                mode: 0o644,
            },
            Entry::Bytes {
                path: "/a/b".into(),
                data: vec![],
                mode: 0o644,
            },
        ];
        assert!(OciImage::build("x:1", &file_then_child, &ImageConfig::default()).is_err());
    }

    #[test]
    fn tag_and_blob_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let image = sample_image(dir.path());
        assert_eq!(image.tag(), "1.2.3");
        assert!(image.blob(&image.config_digest()).is_some());
        assert!(image.blob(&image.layers[0].0).is_some());
        assert!(image.blob("sha256:00").is_none());
        let untagged = OciImage {
            name: "localhost:5000/x".into(),
            ..image
        };
        assert_eq!(untagged.tag(), "latest");
    }
}
