//! Schema generator: builds `schema.json` from the prost sources of `k8s-pb` (field tags,
//! wire kinds, message references), the serde impls of `k8s-openapi` (JSON field names)
//! and `go_presence.txt` (which scalar fields keep zero values, extracted from the Go types).
//!
//! Used by the `gen-protobuf-schema` binary and by the "schema is up to date" test; it only
//! needs `std` and `serde_json`, and parses the Rust sources with plain string handling.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Exact crate versions the committed schema is generated from.
pub const K8S_PB_DIR: &str = "k8s-pb-0.9.0";
pub const K8S_OPENAPI_DIR: &str = "k8s-openapi-0.29.0";
/// The k8s-openapi feature module whose field names are used.
pub const K8S_OPENAPI_VERSION_MODULE: &str = "v1_33";

/// One message field as parsed from k8s-pb.
#[derive(Debug, Clone)]
struct PbField {
    tag: u32,
    /// prost field name without `r#`.
    name: String,
    /// `string`, `bytes`, `bool`, `int32`, `int64`, `double` or `message`.
    kind: String,
    repeated: bool,
    map: bool,
    /// Fully qualified (dotted) message type, for message kinds.
    type_ref: Option<String>,
}

/// Output of a generator run.
pub struct Generated {
    /// The schema file contents.
    pub schema: String,
    /// Human readable warnings (fallback names, unmatched types).
    #[cfg_attr(test, allow(dead_code))]
    pub warnings: Vec<String>,
}

/// Locates `<registry>/src/*/<dir>` in the cargo registry (`$CARGO_HOME` or `~/.cargo`).
pub fn find_registry_crate(dir: &str) -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let src = cargo_home.join("registry").join("src");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(src)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(dir))
        .filter(|p| p.join("src").is_dir())
        .collect();
    candidates.sort();
    candidates.into_iter().next()
}

/// Parsed k8s-pb messages by type, and the API group of each module.
type PbSources = (BTreeMap<String, Vec<PbField>>, BTreeMap<String, String>);

/// Reads every `mod.rs` of the k8s-pb source tree once.
fn parse_k8s_pb(k8s_pb: &Path) -> Result<PbSources, String> {
    let mut pb_types: BTreeMap<String, Vec<PbField>> = BTreeMap::new();
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    let pb_src = k8s_pb.join("src");
    for file in rust_files(&pb_src)? {
        if file.file_name().and_then(|n| n.to_str()) != Some("mod.rs") {
            continue;
        }
        let module = module_of(&pb_src, &file);
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        parse_prost_file(&module, &text, &mut pb_types)?;
        collect_groups(&module, &text, &mut groups);
    }
    Ok((pb_types, groups))
}

/// Runs the generator over the two crate source roots (directories containing `src/`).
pub fn generate(k8s_pb: &Path, k8s_openapi: &Path, go_presence: &str) -> Result<Generated, String> {
    let mut warnings = Vec::new();
    let (pb_types, mut groups) = parse_k8s_pb(k8s_pb)?;
    if pb_types.is_empty() {
        return Err(format!(
            "no prost messages found under {}",
            k8s_pb.join("src").display()
        ));
    }

    let oa_src = k8s_openapi.join("src").join(K8S_OPENAPI_VERSION_MODULE);
    let mut json_names: HashMap<String, Vec<String>> = HashMap::new();
    for file in rust_files(&oa_src)? {
        let module = module_of(&oa_src, &file);
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        parse_openapi_file(&module, &text, &mut json_names);
        collect_groups(&module, &text, &mut groups);
    }
    if json_names.is_empty() {
        return Err(format!(
            "no k8s-openapi structs found under {}",
            oa_src.display()
        ));
    }
    // Option kinds (DeleteOptions, ...) are sent with this group; no Resource impl names it.
    groups.insert("meta.k8s.io".into(), "apimachinery.pkg.apis.meta".into());

    let keep_zero = parse_go_presence(go_presence)?;

    // Types serialised by upstream as a bare JSON array of their single repeated field
    // (Go `type ExtraValue []string` and friends); k8s-openapi has no struct for them.
    let mut wrappers = BTreeSet::new();
    for (name, fields) in &pb_types {
        let has_openapi = json_names.contains_key(&lower_key(name));
        if !has_openapi && fields.len() == 1 && fields[0].repeated && fields[0].name == "items" {
            wrappers.insert(name.clone());
        }
    }

    // Go embeds some structs with `json:",inline"` (Volume/VolumeSource, Probe/ProbeHandler,
    // ConfigMapEnvSource/LocalObjectReference ...): protobuf nests them as a message field,
    // JSON merges their fields into the parent. Detect them: a message field whose name is
    // not a JSON name of the parent but whose type's fields all are.
    let mut inline: HashSet<(String, u32)> = HashSet::new();
    let mut borrowed: HashMap<String, Vec<String>> = HashMap::new();
    for (name, fields) in &pb_types {
        let Some(parent_names) = json_names.get(&lower_key(name)) else {
            continue;
        };
        for f in fields {
            let Some(child) = &f.type_ref else { continue };
            if f.repeated || f.map || match_json_name(&f.name, parent_names).is_some() {
                continue;
            }
            if inlines_into(&pb_types, child, parent_names, 0) {
                inline.insert((name.clone(), f.tag));
                if !json_names.contains_key(&lower_key(child)) {
                    borrowed
                        .entry(child.clone())
                        .or_default()
                        .extend(parent_names.iter().cloned());
                }
            }
        }
    }

    let mut out = String::from("{\n\"groups\":");
    out.push_str(&serde_json::to_string(&groups).map_err(|e| e.to_string())?);
    out.push_str(",\n\"wrappers\":");
    out.push_str(&serde_json::to_string(&wrappers).map_err(|e| e.to_string())?);
    out.push_str(",\n\"types\":{");
    let mut first = true;
    for (name, fields) in &pb_types {
        let known = json_names
            .get(&lower_key(name))
            .or_else(|| borrowed.get(name));
        if known.is_none() && !wrappers.contains(name) && !SPECIAL_TYPES.contains(&name.as_str()) {
            warnings.push(format!(
                "{name}: no k8s-openapi struct, using lowerCamelCase names"
            ));
        }
        let mut rows = Vec::new();
        for f in fields {
            let is_inline = inline.contains(&(name.clone(), f.tag));
            let json = match known.and_then(|names| match_json_name(&f.name, names)) {
                Some(j) => j,
                None if is_inline => String::new(),
                None => {
                    if known.is_some() && !SPECIAL_TYPES.contains(&name.as_str()) {
                        warnings.push(format!(
                            "{name}.{}: not in k8s-openapi, using lowerCamelCase",
                            f.name
                        ));
                    }
                    lower_camel(&f.name)
                }
            };
            let mut kind = String::new();
            if f.map {
                kind.push('M');
            } else if f.repeated {
                kind.push('r');
            }
            kind.push(if is_inline {
                'I'
            } else {
                kind_letter(&f.kind)?
            });
            if f.kind != "message"
                && !f.map
                && !f.repeated
                && keep_zero.contains(&(lower_key(name), f.tag))
            {
                kind.push('z');
            }
            let mut row = vec![
                serde_json::Value::from(f.tag),
                serde_json::Value::from(json),
                serde_json::Value::from(kind),
            ];
            if let Some(r) = &f.type_ref {
                if !pb_types.contains_key(r) {
                    return Err(format!("{name}.{}: unresolved message type {r}", f.name));
                }
                row.push(serde_json::Value::from(r.clone()));
            }
            rows.push(serde_json::Value::Array(row));
        }
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(
            out,
            "\n{}:{}",
            serde_json::to_string(name).map_err(|e| e.to_string())?,
            serde_json::to_string(&rows).map_err(|e| e.to_string())?
        );
    }
    out.push_str("\n}\n}\n");
    Ok(Generated {
        schema: out,
        warnings,
    })
}

/// Whether most fields of `child` (looking through nested inline structs) are JSON fields
/// of the parent; "most" tolerates fields k8s-pb has from newer Kubernetes releases.
fn inlines_into(
    types: &BTreeMap<String, Vec<PbField>>,
    child: &str,
    parent_names: &[String],
    depth: u32,
) -> bool {
    let Some(fields) = types.get(child) else {
        return false;
    };
    if fields.is_empty() || depth > 3 {
        return false;
    }
    let matched = fields
        .iter()
        .filter(|f| {
            match_json_name(&f.name, parent_names).is_some()
                || match (&f.type_ref, f.repeated || f.map) {
                    (Some(t), false) => inlines_into(types, t, parent_names, depth + 1),
                    _ => false,
                }
        })
        .count();
    matched * 2 > fields.len()
}

/// Message types the runtime decoder renders specially; they need no JSON names.
const SPECIAL_TYPES: &[&str] = &[
    "apimachinery.pkg.apis.meta.v1.Time",
    "apimachinery.pkg.apis.meta.v1.MicroTime",
    "apimachinery.pkg.apis.meta.v1.Duration",
    "apimachinery.pkg.apis.meta.v1.FieldsV1",
    "apimachinery.pkg.api.resource.Quantity",
    "apimachinery.pkg.util.intstr.IntOrString",
    "apimachinery.pkg.runtime.RawExtension",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1.Json",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1.JsonSchemaPropsOrArray",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1.JsonSchemaPropsOrBool",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1.JsonSchemaPropsOrStringArray",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.Json",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JsonSchemaPropsOrArray",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JsonSchemaPropsOrBool",
    "apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JsonSchemaPropsOrStringArray",
];

fn kind_letter(kind: &str) -> Result<char, String> {
    Ok(match kind {
        "string" => 's',
        "bytes" => 'y',
        "bool" => 'b',
        "int32" => 'i',
        "int64" => 'l',
        "double" => 'd',
        "message" => 'm',
        other => return Err(format!("unsupported prost kind {other}")),
    })
}

/// Lowercased type name used to pair k8s-pb, k8s-openapi and Go types (prost renames
/// `JSONSchemaProps` to `JsonSchemaProps`).
fn lower_key(dotted: &str) -> String {
    dotted.to_ascii_lowercase()
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn match_json_name(prost_name: &str, json_names: &[String]) -> Option<String> {
    let want = normalize(prost_name);
    json_names.iter().find(|j| normalize(j) == want).cloned()
}

fn lower_camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Module path segments of a source file: k8s-pb keeps one module per `mod.rs`, k8s-openapi
/// one struct per file inside its module directory; either way the directory is the module.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let parent = rel.parent().unwrap_or(Path::new(""));
    parent
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

fn parse_prost_file(
    module: &[String],
    text: &str,
    types: &mut BTreeMap<String, Vec<PbField>>,
) -> Result<(), String> {
    let mut current: Option<(String, Vec<PbField>)> = None;
    let mut pending_attr: Option<String> = None;
    let mut decl: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = line.strip_prefix("pub struct ") {
            if let Some(empty) = rest.strip_suffix(" {}") {
                types.insert(dotted(module, empty.trim()), Vec::new());
                continue;
            }
            let name = rest.trim_end_matches(['{', ' ']).trim().to_string();
            current = Some((name, Vec::new()));
            continue;
        }
        if line == "}" {
            if let Some((name, fields)) = current.take() {
                types.insert(dotted(module, &name), fields);
            }
            continue;
        }
        let Some((struct_name, fields)) = current.as_mut() else {
            continue;
        };
        if let Some(attr) = trimmed.strip_prefix("#[prost(") {
            pending_attr = Some(attr.trim_end_matches(")]").to_string());
            continue;
        }
        if pending_attr.is_some() && decl.is_none() && trimmed.starts_with("pub ") {
            decl = Some(String::new());
        }
        if let Some(d) = decl.as_mut() {
            d.push_str(trimmed);
            let depth = d.matches('<').count() as i64 - d.matches('>').count() as i64;
            if depth == 0 && d.ends_with(',') {
                let attr = pending_attr.take().unwrap_or_default();
                let text = decl.take().unwrap_or_default();
                let field = parse_prost_field(module, &attr, &text)
                    .map_err(|e| format!("{}.{struct_name}: {e}", module.join(".")))?;
                fields.push(field);
            }
        }
    }
    Ok(())
}

fn parse_prost_field(module: &[String], attr: &str, decl: &str) -> Result<PbField, String> {
    let tag = attr
        .split("tag = \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|t| t.parse::<u32>().ok())
        .ok_or_else(|| format!("no tag in {attr}"))?;
    let decl = decl.strip_prefix("pub ").unwrap_or(decl);
    let (name, ty) = decl
        .split_once(':')
        .ok_or_else(|| format!("bad field {decl}"))?;
    let name = name.trim().trim_start_matches("r#").to_string();
    let ty = ty.trim().trim_end_matches(',');
    let first = attr.split(',').next().unwrap_or("").trim();
    let (kind, map) = if let Some(m) = attr.strip_prefix("btree_map = \"") {
        let spec = m.split('"').next().unwrap_or("");
        if !spec.starts_with("string,") {
            return Err(format!("unsupported map key in {attr}"));
        }
        (spec.split(", ").nth(1).unwrap_or("").to_string(), true)
    } else {
        (first.split(' ').next().unwrap_or("").to_string(), false)
    };
    let repeated = attr.contains(" repeated");
    let type_ref = if kind == "message" {
        let compact: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
        Some(resolve_type(
            module,
            innermost_type(&compact.replace(",>", ">")),
        ))
    } else {
        None
    };
    Ok(PbField {
        tag,
        name,
        kind,
        repeated,
        map,
        type_ref,
    })
}

/// The message type inside `Option<..>`, `Vec<..>`, `Box<..>` or a map's value position.
fn innermost_type(ty: &str) -> &str {
    let mut t = ty.trim();
    loop {
        let Some(open) = t.find('<') else {
            return t.trim_end_matches('>');
        };
        let inner = &t[open + 1..];
        let inner = inner.strip_suffix('>').unwrap_or(inner);
        // Map: skip the key type.
        t = match inner.strip_prefix("::prost::alloc::string::String,") {
            Some(v) => v.trim(),
            None => inner.trim(),
        };
    }
}

fn resolve_type(module: &[String], path: &str) -> String {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = module.to_vec();
    while segs.first() == Some(&"super") {
        segs.remove(0);
        base.pop();
    }
    if segs.first() == Some(&"crate") {
        segs.remove(0);
        base.clear();
    }
    let name = segs.pop().unwrap_or_default();
    base.extend(segs.iter().map(|s| s.to_string()));
    dotted(&base, name)
}

fn dotted(module: &[String], name: &str) -> String {
    let mut s = module.join(".");
    if !s.is_empty() {
        s.push('.');
    }
    s.push_str(name);
    s
}

/// Records `group -> module prefix` from `impl crate::Resource` blocks.
fn collect_groups(module: &[String], text: &str, groups: &mut BTreeMap<String, String>) {
    for part in text.split("const API_VERSION: &'static str = \"").skip(1) {
        let Some(api_version) = part.split('"').next() else {
            continue;
        };
        let group = match api_version.rsplit_once('/') {
            Some((g, _)) => g,
            None => "",
        };
        if module.len() < 2 {
            continue;
        }
        let prefix = module[..module.len() - 1].join(".");
        groups.entry(group.to_string()).or_insert(prefix);
    }
}

fn parse_openapi_file(module: &[String], text: &str, names: &mut HashMap<String, Vec<String>>) {
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("impl<'de> crate::serde::Deserialize<'de> for ") {
            let name = rest.trim_end_matches(['{', ' ']).trim();
            current = Some(lower_key(&dotted(module, name)));
            names.entry(lower_key(&dotted(module, name))).or_default();
            continue;
        }
        let Some(cur) = &current else { continue };
        let t = line.trim();
        if t.contains("=> Field::Key_")
            && let Some(json) = t.strip_prefix('"').and_then(|r| r.split('"').next())
        {
            names.entry(cur.clone()).or_default().push(json.to_string());
        }
    }
}

/// `go_presence.txt`: `<type> <tag> <jsonName> <pointer|required>` lines naming the scalar
/// fields whose zero value is meaningful (Go pointer fields, or fields without omitempty).
fn parse_go_presence(text: &str) -> Result<HashSet<(String, u32)>, String> {
    let mut out = HashSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(ty), Some(tag)) = (parts.next(), parts.next()) else {
            return Err(format!("bad go_presence line: {line}"));
        };
        let tag: u32 = tag
            .parse()
            .map_err(|_| format!("bad tag in go_presence line: {line}"))?;
        out.insert((lower_key(ty), tag));
    }
    Ok(out)
}

/// Scalar (non-message, non-repeated) fields of every k8s-pb message, keyed by lowercased
/// type name and tag, with the k8s-pb spelling of the type name as value.
#[cfg_attr(test, allow(dead_code))]
pub fn scalar_fields(k8s_pb: &Path) -> Result<HashMap<(String, u32), String>, String> {
    let (pb_types, _) = parse_k8s_pb(k8s_pb)?;
    let mut out = HashMap::new();
    for (name, fields) in pb_types {
        for f in fields {
            if f.kind != "message" && !f.repeated && !f.map {
                out.insert((lower_key(&name), f.tag), name.clone());
            }
        }
    }
    Ok(out)
}
