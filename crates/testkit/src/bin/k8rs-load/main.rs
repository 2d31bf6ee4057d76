//! `k8rs-load`: an API load benchmark in the spirit of ClusterLoader2's density test,
//! against a control-plane-only `k8rs server` it starts (or any cluster, via
//! `--kubeconfig`). Phases: steady churn, LIST latency at 10k/50k pods, watch delivery
//! latency with many watchers, and the server's memory per 10k pods. Prints Markdown.

mod churn;
mod listing;
mod loader;
mod machine;
mod memory;
mod objects;
mod report;
mod server;
mod stats;
mod watching;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

use crate::report::MemoryPoint;

#[derive(Parser, Debug)]
#[command(
    name = "k8rs-load",
    about = "API load benchmark (ClusterLoader2-style): churn latency, LIST latency at 10k/50k pods, watch latency, server memory"
)]
struct Args {
    /// Use this cluster instead of starting a `k8rs server --disable-agent`.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// With --kubeconfig: the server's pid, to measure its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The k8rs binary to start [default: $K8RS_BIN or <workspace>/target/release/k8rs].
    #[arg(long)]
    k8rs_bin: Option<PathBuf>,
    /// Keep the started server's data dir (server.log, store) afterwards.
    #[arg(long)]
    keep_data_dir: bool,
    /// A ~1 minute run: shorter churn, fewer watchers, 2000 pods instead of 10k/50k.
    #[arg(long)]
    quick: bool,

    /// Phase 1: concurrent clients [default: 20].
    #[arg(long)]
    churn_clients: Option<usize>,
    /// Phase 1: aggregate requests per second [default: 100].
    #[arg(long)]
    churn_qps: Option<f64>,
    /// Phase 1: duration in seconds [default: 60; quick: 15].
    #[arg(long)]
    churn_seconds: Option<u64>,
    /// Phase 1: background pods per churn namespace (10 namespaces) [default: 30].
    #[arg(long, default_value_t = 30)]
    churn_background_pods: usize,

    /// Phase 2: pod counts to measure LISTs at [default: 10000,50000; quick: 2000].
    #[arg(long, value_delimiter = ',')]
    list_sizes: Option<Vec<usize>>,
    /// Phase 2: leave out sizes above 10000.
    #[arg(long)]
    skip_50k: bool,
    /// Phase 2: runs of each LIST [default: 5; quick: 3].
    #[arg(long)]
    list_runs: Option<usize>,
    /// Phase 2: concurrent writers loading pods [default: 64].
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// Phase 2: pods per namespace.
    #[arg(long, default_value_t = 500)]
    pods_per_namespace: usize,
    /// Phase 2: give up loading a size after this many seconds (the LISTs then run at
    /// whatever count was reached).
    #[arg(long, default_value_t = 180)]
    load_timeout: u64,

    /// Phase 3: concurrent watches [default: 100; quick: 20].
    #[arg(long)]
    watchers: Option<usize>,
    /// Phase 3: pods created (then each patched once) [default: 500; quick: 100].
    #[arg(long)]
    watch_pods: Option<usize>,
    /// Phase 3: writes per second.
    #[arg(long, default_value_t = 50.0)]
    watch_qps: f64,

    /// Stop loading pods when the server's resident memory passes this many MiB.
    #[arg(long, default_value_t = 8192)]
    max_server_rss_mib: u64,

    /// Also write the Markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Args with the defaults of the chosen mode filled in.
struct Settings {
    churn: churn::ChurnConfig,
    list_sizes: Vec<usize>,
    list_runs: usize,
    watch: watching::WatchConfig,
}

const NODE: &str = "load-node-0";

impl Settings {
    fn from(args: &Args) -> Settings {
        let q = args.quick;
        let watchers = args.watchers.unwrap_or(if q { 20 } else { 100 });
        let mut list_sizes = args
            .list_sizes
            .clone()
            .unwrap_or_else(|| if q { vec![2000] } else { vec![10_000, 50_000] });
        if args.skip_50k {
            list_sizes.retain(|n| *n <= 10_000);
        }
        list_sizes.sort_unstable();
        Settings {
            churn: churn::ChurnConfig {
                clients: args.churn_clients.unwrap_or(20).max(1),
                qps: args.churn_qps.unwrap_or(100.0),
                duration: Duration::from_secs(args.churn_seconds.unwrap_or(if q {
                    15
                } else {
                    60
                })),
                namespaces: (0..10).map(|i| format!("churn-{i}")).collect(),
                node: NODE.into(),
            },
            list_sizes,
            list_runs: args.list_runs.unwrap_or(if q { 3 } else { 5 }).max(1),
            watch: watching::WatchConfig {
                watchers,
                selector_watchers: watchers / 5,
                pods: args.watch_pods.unwrap_or(if q { 100 } else { 500 }),
                qps: args.watch_qps,
                namespace: "load-watch".into(),
                node: NODE.into(),
            },
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::from(&args);
    let machine = machine::describe();
    let mut own = None;
    let (kubeconfig, pid, server_desc) = match &args.kubeconfig {
        Some(k) => (
            k.clone(),
            args.server_pid,
            format!("existing cluster ({})", k.display()),
        ),
        None => {
            let bin = args.k8rs_bin.clone().unwrap_or_else(|| {
                std::env::var_os("K8RS_BIN")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        testkit::cluster::workspace_dir().join("target/release/k8rs")
                    })
            });
            let s = server::OwnServer::start(&bin, NODE, args.keep_data_dir)?;
            eprintln!(
                "started {} (data dir {})",
                bin.display(),
                s.data_dir().display()
            );
            let desc = format!(
                "`k8rs server --disable-agent` (embedded store, data dir in {}), started by k8rs-load",
                s.data_dir()
                    .parent()
                    .map_or("/tmp".into(), |p| p.display().to_string())
            );
            let (k, p) = (s.kubeconfig(), s.pid());
            own = Some(s);
            (k, p, desc)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let result = runtime.block_on(run(
        &args,
        &settings,
        &kubeconfig,
        pid,
        &machine,
        &server_desc,
    ));
    if let Some(s) = own.as_mut() {
        if result.is_err() {
            s.ensure_running().ok();
            eprintln!("server log: {}", s.log_path().display());
        }
        if let Err(e) = s.stop() {
            eprintln!("{e:#}");
        }
    }
    let text = result?;
    println!("{text}");
    if let Some(out) = &args.out {
        std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

async fn run(
    args: &Args,
    settings: &Settings,
    kubeconfig: &std::path::Path,
    pid: Option<u32>,
    machine: &machine::Machine,
    server_desc: &str,
) -> anyhow::Result<String> {
    let client = server::client(kubeconfig).await?;
    server::wait_ready(&client, Duration::from_secs(60)).await?;
    let mut out = report::header(machine, server_desc);
    let mut memory_points = Vec::new();
    read_memory(&mut memory_points, pid, "server ready, empty", 0);
    create_node(&client).await;

    // Phase 1.
    eprintln!(
        "phase 1: churn ({} clients, {} req/s, {:?})",
        settings.churn.clients, settings.churn.qps, settings.churn.duration
    );
    background(
        &client,
        &settings.churn.namespaces,
        args.churn_background_pods,
    )
    .await?;
    let c = churn::run(&client, &settings.churn).await;
    out.push_str(&report::churn(
        &c.samples,
        settings.churn.clients,
        settings.churn.qps,
        c.elapsed,
        c.requests,
    ));
    out.push('\n');

    // Phase 3 runs before the cluster is filled, so that it measures delivery, not size.
    let w = &settings.watch;
    eprintln!("phase 3: watch ({} watchers, {} pods)", w.watchers, w.pods);
    let watch_table = match watching::run(&client, w).await {
        Ok(r) => report::watch(&r, w.watchers, w.selector_watchers, w.pods, w.qps),
        Err(e) => format!("### Phase 3 — watch delivery latency\n\nfailed: {e:#}\n\n"),
    };

    // Phase 2 (+ 4).
    read_memory(&mut memory_points, pid, "before loading pods", 0);
    let baseline_index = memory_points.len().checked_sub(1);
    let mut loader = loader::Loader::new(
        client.clone(),
        args.pods_per_namespace,
        NODE,
        pid.map(|p| (p, args.max_server_rss_mib * 1024)),
    );
    let mut list_text = report::listing_header(settings.list_runs);
    for &size in &settings.list_sizes {
        eprintln!("phase 2: loading pods to {size} ({} writers)", args.writers);
        let before = loader.count;
        let load = loader
            .grow_to(size, args.writers, Duration::from_secs(args.load_timeout))
            .await;
        eprintln!(
            "  reached {} pods in {:.1} s ({:.0} pods/s)",
            load.reached,
            load.elapsed.as_secs_f64(),
            load.pods_per_second(load.reached - before)
        );
        // Let background work (controllers' caches, compaction) settle before reading.
        tokio::time::sleep(Duration::from_secs(3)).await;
        read_memory(
            &mut memory_points,
            pid,
            &format!("after loading {} pods", load.reached),
            load.reached,
        );
        let namespaces: Vec<String> = (0..loader.namespace_count())
            .map(loader::namespace_name)
            .collect();
        eprintln!("phase 2: LISTs at {} pods", load.reached);
        let rows = listing::measure(&client, &namespaces, settings.list_runs).await;
        read_memory(
            &mut memory_points,
            pid,
            &format!("after the LISTs at {} pods", load.reached),
            load.reached,
        );
        list_text.push_str(&report::listing(
            &report::LoadLine {
                target: load.target,
                reached: load.reached,
                added: load.reached - before,
                writers: args.writers,
                elapsed: load.elapsed,
                creates: load.creates,
                namespaces: loader.namespace_count(),
                memory_stop: load.memory_stop,
            },
            &rows,
        ));
        if load.timed_out || load.memory_stop {
            eprintln!("  load stopped early: skipping larger sizes");
            break;
        }
    }
    out.push_str(&list_text);
    out.push_str(&watch_table);
    if memory_points.is_empty() {
        out.push_str(
            "### Phase 4 — server memory\n\nnot measured (pass --server-pid with --kubeconfig)\n",
        );
    } else {
        let baseline = baseline_index.and_then(|i| memory_points.get(i));
        out.push_str(&report::memory(&memory_points, baseline));
    }
    Ok(out)
}

/// Appends a reading of the server's memory (nothing without a pid).
fn read_memory(points: &mut Vec<MemoryPoint>, pid: Option<u32>, when: &str, pods: usize) {
    let Some(pid) = pid else { return };
    match memory::read(pid) {
        Ok(m) => {
            eprintln!(
                "  server RSS {when}: {:.0} MiB (peak {:.0})",
                m.rss_mib(),
                m.peak_mib()
            );
            points.push(MemoryPoint {
                when: when.into(),
                pods,
                rss_mib: m.rss_mib(),
                peak_mib: m.peak_mib(),
            });
        }
        Err(e) => eprintln!("  reading the server's memory: {e:#}"),
    }
}

/// Registers the node the pods are bound to (Ready, room for a million pods). Without a
/// kubelet nothing runs; the object is there so bound pods point at a real node.
async fn create_node(client: &kube::Client) {
    let api: Api<Node> = Api::all(client.clone());
    match api
        .create(&PostParams::default(), &objects::node(NODE))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => eprintln!("creating node {NODE}: {}", churn::short_error(&e)),
    }
    let status = objects::node_status_patch();
    if let Err(e) = api
        .patch_status(NODE, &PatchParams::default(), &Patch::Merge(&status))
        .await
    {
        eprintln!("setting node {NODE} Ready: {}", churn::short_error(&e));
    }
}

/// The churn namespaces with `per_namespace` pods each, so namespace LISTs return some.
async fn background(
    client: &kube::Client,
    namespaces: &[String],
    per_namespace: usize,
) -> anyhow::Result<()> {
    let ns_api: Api<Namespace> = Api::all(client.clone());
    for ns in namespaces {
        match ns_api
            .create(&PostParams::default(), &objects::namespace(ns))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => anyhow::bail!("creating namespace {ns}: {}", churn::short_error(&e)),
        }
    }
    let jobs: Vec<(String, usize)> = namespaces
        .iter()
        .flat_map(|ns| (0..per_namespace).map(move |i| (ns.clone(), i)))
        .collect();
    let failures = futures::stream::iter(jobs)
        .map(|(ns, i)| {
            let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
            async move {
                let pod = objects::pod(&ns, &format!("background-{i}"), i, NODE);
                match api.create(&PostParams::default(), &pod).await {
                    Ok(_) => 0,
                    Err(kube::Error::Api(s)) if s.code == 409 => 0,
                    Err(_) => 1,
                }
            }
        })
        .buffer_unordered(16)
        .fold(0usize, |acc, f| async move { acc + f })
        .await;
    if failures > 0 {
        eprintln!("  {failures} background pods could not be created");
    }
    Ok(())
}
