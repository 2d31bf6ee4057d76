//! k3s-style `registries.yaml` translated into containerd's `certs.d/<host>/hosts.toml`
//! files, so mirrors, plain-HTTP registries and credentials work without touching
//! containerd's own config.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

/// The registries file, as k3s reads it.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct Registries {
    #[serde(default)]
    pub mirrors: BTreeMap<String, Mirror>,
    #[serde(default)]
    pub configs: BTreeMap<String, RegistryConfig>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct Mirror {
    #[serde(default)]
    pub endpoint: Vec<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct RegistryConfig {
    pub auth: Option<Auth>,
    pub tls: Option<Tls>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct Auth {
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth: Option<String>,
    pub identitytoken: Option<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct Tls {
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

pub fn parse(yaml: &str) -> Result<Registries, serde_yaml_ng::Error> {
    if yaml.trim().is_empty() {
        return Ok(Registries::default());
    }
    serde_yaml_ng::from_str(yaml)
}

/// One `hosts.toml` per registry host name (the directory name under `certs.d`).
pub fn hosts_files(registries: &Registries) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for (name, mirror) in &registries.mirrors {
        let mut out = String::new();
        // `server` is the upstream registry; "*" (k3s's wildcard) has none.
        if name != "*" {
            let _ = writeln!(out, "server = {}", toml_str(&default_server(name)));
        }
        for endpoint in &mirror.endpoint {
            let endpoint = normalise_endpoint(endpoint);
            let _ = writeln!(out, "\n[host.{}]", toml_str(&endpoint));
            let _ = writeln!(out, "  capabilities = [\"pull\", \"resolve\"]");
            write_host_options(
                &mut out,
                registries.configs.get(&host_of(&endpoint)),
                &endpoint,
            );
        }
        files.insert(dir_name(name), out);
    }
    // Registries that have a config but no mirror entry still need their auth/tls.
    for (host, config) in &registries.configs {
        let dir = dir_name(host);
        if files.contains_key(&dir) {
            continue;
        }
        let server = default_server(host);
        let mut out = String::new();
        let _ = writeln!(out, "server = {}", toml_str(&server));
        let _ = writeln!(out, "\n[host.{}]", toml_str(&server));
        let _ = writeln!(out, "  capabilities = [\"pull\", \"resolve\"]");
        write_host_options(&mut out, Some(config), &server);
        files.insert(dir, out);
    }
    files
}

fn write_host_options(out: &mut String, config: Option<&RegistryConfig>, endpoint: &str) {
    let skip_verify = config
        .and_then(|c| c.tls.as_ref())
        .is_some_and(|t| t.insecure_skip_verify);
    // Plain HTTP endpoints never verify anything; saying so keeps containerd from trying TLS.
    if skip_verify || endpoint.starts_with("http://") {
        let _ = writeln!(out, "  skip_verify = true");
    }
    let Some(config) = config else { return };
    if let Some(tls) = &config.tls {
        if let Some(ca) = &tls.ca_file {
            let _ = writeln!(out, "  ca = {}", toml_str(ca));
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            let _ = writeln!(out, "  client = [[{}, {}]]", toml_str(cert), toml_str(key));
        }
    }
    if let Some(auth) = &config.auth {
        let value = match (
            &auth.username,
            &auth.password,
            &auth.auth,
            &auth.identitytoken,
        ) {
            (Some(user), password, _, _) => Some(format!(
                "Basic {}",
                base64_encode(format!("{user}:{}", password.as_deref().unwrap_or("")).as_bytes())
            )),
            (None, _, Some(auth), _) => Some(format!("Basic {auth}")),
            (None, _, None, Some(token)) => Some(format!("Bearer {token}")),
            _ => None,
        };
        if let Some(value) = value {
            let _ = writeln!(out, "  [host.{}.header]", toml_str(endpoint));
            let _ = writeln!(out, "    Authorization = [{}]", toml_str(&value));
        }
    }
}

/// containerd looks up `certs.d/<host>`; docker.io's upstream is registry-1.docker.io.
fn default_server(name: &str) -> String {
    if name == "docker.io" {
        "https://registry-1.docker.io".to_string()
    } else {
        format!("https://{name}")
    }
}

fn dir_name(name: &str) -> String {
    if name == "*" {
        "_default".to_string()
    } else {
        name.to_string()
    }
}

fn normalise_endpoint(endpoint: &str) -> String {
    let trimmed = endpoint.trim_end_matches('/');
    if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    }
}

fn host_of(endpoint: &str) -> String {
    let without_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    without_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn toml_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn base64_encode(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_mirror_becomes_skip_verify_host() {
        let reg = parse(
            "mirrors:\n  \"127.0.0.1:5000\":\n    endpoint:\n      - \"http://127.0.0.1:5000\"\n",
        )
        .unwrap();
        let files = hosts_files(&reg);
        let file = &files["127.0.0.1:5000"];
        assert!(
            file.contains("server = \"https://127.0.0.1:5000\""),
            "{file}"
        );
        assert!(file.contains("[host.\"http://127.0.0.1:5000\"]"), "{file}");
        assert!(
            file.contains("capabilities = [\"pull\", \"resolve\"]"),
            "{file}"
        );
        assert!(file.contains("skip_verify = true"), "{file}");
    }

    #[test]
    fn auth_and_tls_configs_apply_to_matching_endpoint() {
        let yaml = r#"
mirrors:
  docker.io:
    endpoint: ["https://mirror.example:5443"]
configs:
  "mirror.example:5443":
    auth: {username: user, password: pass}
    tls: {insecure_skip_verify: true}
  other.example:
    auth: {username: a, password: b}
"#;
        let files = hosts_files(&parse(yaml).unwrap());
        let docker = &files["docker.io"];
        assert!(docker.contains("server = \"https://registry-1.docker.io\""));
        assert!(docker.contains("skip_verify = true"));
        assert!(
            docker.contains("Authorization = [\"Basic dXNlcjpwYXNz\"]"),
            "{docker}"
        );
        let other = &files["other.example"];
        assert!(other.contains("[host.\"https://other.example\"]"));
        assert!(other.contains("Basic YTpi"), "{other}");
        assert!(!other.contains("skip_verify"));
    }

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
    }

    #[test]
    fn empty_file_is_no_registries() {
        assert_eq!(parse("  \n").unwrap(), Registries::default());
    }
}
