//! Regenerates `crates/apimachinery/src/protobuf/schema.json` (see the `protobuf` module docs).
//!
//! Usage:
//!   gen-protobuf-schema            write schema.json from k8s-pb + k8s-openapi + go_presence.txt
//!   gen-protobuf-schema --check    exit 1 if schema.json is out of date
//!   gen-protobuf-schema extract-go <k8s.io/api dir> <k8s.io/apimachinery dir> [note]
//!                                  rewrite go_presence.txt from Go API sources
//!
//! Crate sources are found in the cargo registry; override with `K8S_PB_SRC` /
//! `K8S_OPENAPI_SRC` (directories containing `src/`).

#[path = "../protobuf/generate.rs"]
mod generate;
#[path = "../protobuf/generate_go.rs"]
mod generate_go;

use std::path::PathBuf;
use std::process::ExitCode;

const PROTOBUF_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/protobuf");

fn crate_dir(env: &str, dir: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env) {
        return Ok(PathBuf::from(p));
    }
    generate::find_registry_crate(dir).ok_or_else(|| {
        format!("{dir} not found in the cargo registry (run `cargo fetch` or set {env})")
    })
}

fn run() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let k8s_pb = crate_dir("K8S_PB_SRC", generate::K8S_PB_DIR)?;
    let presence_path = PathBuf::from(PROTOBUF_DIR).join("go_presence.txt");
    if args.first().map(String::as_str) == Some("extract-go") {
        let (Some(api), Some(apimachinery)) = (args.get(1), args.get(2)) else {
            return Err(
                "usage: extract-go <k8s.io/api dir> <k8s.io/apimachinery dir> [note]".into(),
            );
        };
        let note = args
            .get(3)
            .cloned()
            .unwrap_or_else(|| format!("{api} and {apimachinery}"));
        let scalars = generate::scalar_fields(&k8s_pb)?;
        let text = generate_go::extract(api.as_ref(), apimachinery.as_ref(), &scalars, &note)?;
        std::fs::write(&presence_path, text)
            .map_err(|e| format!("{}: {e}", presence_path.display()))?;
        eprintln!("wrote {}", presence_path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let k8s_openapi = crate_dir("K8S_OPENAPI_SRC", generate::K8S_OPENAPI_DIR)?;
    let presence = std::fs::read_to_string(&presence_path)
        .map_err(|e| format!("{}: {e}", presence_path.display()))?;
    let generated = generate::generate(&k8s_pb, &k8s_openapi, &presence)?;
    for w in &generated.warnings {
        eprintln!("warning: {w}");
    }
    let schema_path = PathBuf::from(PROTOBUF_DIR).join("schema.json");
    if args.first().map(String::as_str) == Some("--check") {
        let current = std::fs::read_to_string(&schema_path).unwrap_or_default();
        if current != generated.schema {
            eprintln!(
                "{} is out of date; run gen-protobuf-schema",
                schema_path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&schema_path, &generated.schema)
        .map_err(|e| format!("{}: {e}", schema_path.display()))?;
    eprintln!(
        "wrote {} ({} bytes)",
        schema_path.display(),
        generated.schema.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gen-protobuf-schema: {e}");
            ExitCode::FAILURE
        }
    }
}
