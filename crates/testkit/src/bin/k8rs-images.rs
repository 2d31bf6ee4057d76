//! Writes the test images as OCI archives: `demo.tar` (docker.io/k8rs/demo:0.1.0) and
//! `pause.tar` (docker.io/k8rs/pause:0.1.0), from the statically linked demo binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(about = "Build k8rs's test images (OCI image-layout archives)")]
struct Args {
    /// The statically linked `demo` binary.
    #[arg(long)]
    demo_bin: PathBuf,
    /// Directory to write demo.tar and pause.tar into (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (file, image) in [
        ("demo.tar", testkit::demo_image(&args.demo_bin)?),
        ("pause.tar", testkit::pause_image(&args.demo_bin)?),
    ] {
        let path = args.out.join(file);
        image.write_archive(&path)?;
        println!(
            "{} -> {} ({})",
            image.name,
            path.display(),
            image.manifest_digest()
        );
    }
    Ok(())
}
