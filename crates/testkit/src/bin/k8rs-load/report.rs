//! Markdown tables of a run, with the upstream SLO next to each row, ready for
//! docs/performance.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::listing::ListRow;
use crate::machine::Machine;
use crate::stats::{Key, Samples, Summary, fmt_duration};
use crate::watching::WatchResult;

const SLO_SINGLE_OBJECT: Duration = Duration::from_secs(1);
const SLO_LIST: Duration = Duration::from_secs(30);

/// Upstream's p99 threshold for a call of this scope (sig-scalability slos.md).
fn slo_for(verb: &str, scope: &str) -> Option<Duration> {
    match (verb, scope) {
        ("LIST", _) => Some(SLO_LIST),
        ("WATCH", _) => None,
        _ => Some(SLO_SINGLE_OBJECT),
    }
}

fn slo_text(verb: &str, scope: &str) -> String {
    match (verb, scope) {
        ("LIST", "namespace") => "≤ 30 s (5 s in the original SLO)".into(),
        _ => match slo_for(verb, scope) {
            Some(d) => format!("≤ {} s", d.as_secs()),
            None => "none (WIP SLI)".into(),
        },
    }
}

/// ✓ when the p99 meets the threshold, ✗ when not, – without one or without samples.
fn verdict(summary: &Summary, slo: Option<Duration>) -> &'static str {
    match slo {
        _ if summary.count == 0 => "–",
        Some(limit) if summary.p99 <= limit => "✓",
        Some(_) => "✗",
        None => "–",
    }
}

pub fn header(machine: &Machine, server: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## API load benchmark (k8rs-load)\n");
    let _ = writeln!(
        out,
        "- Date: {}\n- Machine: {}, {} cores, {:.1} GiB RAM, Linux {}\n- Load average at start (1/5/15 min): {}\n- Server: {server}\n- Latencies are client-side (kube-rs over HTTPS on loopback, request sent → response read), so they include TLS, HTTP and, for typed calls, JSON decoding in the client, which shares the CPU with the server.\n",
        machine.date,
        machine.cpu_model,
        machine.cores,
        machine.mem_total_gib,
        machine.kernel,
        machine.load_avg,
    );
    out
}

pub fn churn(
    samples: &BTreeMap<Key, Samples>,
    clients: usize,
    qps: f64,
    elapsed: Duration,
    requests: usize,
) -> String {
    let mut out = String::new();
    let achieved = requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    let _ = writeln!(
        out,
        "### Phase 1 — steady churn\n\n{clients} clients, target {qps:.0} requests/s, {:.0} s: {requests} requests ({achieved:.1}/s achieved). Each client creates, gets, patches (merge), lists (its namespace, ~30 background pods) and deletes pods (~2.5 KiB) and ConfigMaps in turn.\n",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| verb | resource | scope | calls | errors | p50 | p90 | p99 | max | upstream SLO (p99) | meets |\n|---|---|---|---:|---:|---:|---:|---:|---:|---|:-:|"
    );
    for (key, s) in samples {
        let sum = s.summary();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            key.verb,
            key.resource,
            key.scope,
            sum.count,
            sum.errors,
            fmt_duration(sum.p50),
            fmt_duration(sum.p90),
            fmt_duration(sum.p99),
            fmt_duration(sum.max),
            slo_text(key.verb, key.scope),
            verdict(&sum, slo_for(key.verb, key.scope)),
        );
    }
    out.push_str(&error_notes(
        samples
            .iter()
            .map(|(k, s)| (format!("{} {} {}", k.verb, k.resource, k.scope), s)),
    ));
    out
}

/// One load step (creating pods up to a size) as a sentence.
pub struct LoadLine {
    pub target: usize,
    pub reached: usize,
    pub added: usize,
    pub writers: usize,
    pub elapsed: Duration,
    pub creates: Samples,
    pub namespaces: usize,
    pub memory_stop: bool,
}

pub fn listing_header(runs: usize) -> String {
    format!(
        "### Phase 2 — LIST latency with many pods\n\nEach LIST is run {runs} times, one at a time, while the cluster is otherwise idle; the time is until the last byte of the response (for `limit=500` until the last page). Pods are ~2.5 KiB as sent, bigger once defaulted.\n\n"
    )
}

pub fn listing(load: &LoadLine, rows: &[ListRow]) -> String {
    let mut out = String::new();
    let sum = load.creates.summary();
    let rate = load.added as f64 / load.elapsed.as_secs_f64().max(f64::EPSILON);
    let _ = writeln!(
        out,
        "**{} pods** ({} namespaces){}: loaded {} pods in {:.1} s = {rate:.0} pods/s with {} concurrent writers; POST pods p50 {}, p99 {}, max {}, {} errors.\n",
        load.reached,
        load.namespaces,
        if load.memory_stop {
            format!(
                " — target {} NOT reached: loading stopped at the server memory guard",
                load.target
            )
        } else if load.reached < load.target {
            format!(
                " — target {} NOT reached before the load timeout",
                load.target
            )
        } else {
            String::new()
        },
        load.added,
        load.elapsed.as_secs_f64(),
        load.writers,
        fmt_duration(sum.p50),
        fmt_duration(sum.p99),
        fmt_duration(sum.max),
        sum.errors,
    );
    let _ = writeln!(
        out,
        "| pods | request | scope | runs | items | response | p50 | p99 | max | errors | upstream SLO (p99) | meets |\n|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|:-:|"
    );
    for row in rows {
        let s = row.samples.summary();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} MiB | {} | {} | {} | {} | {} | {} |",
            load.reached,
            row.what,
            row.scope,
            s.count,
            row.items,
            row.bytes as f64 / (1024.0 * 1024.0),
            fmt_duration(s.p50),
            fmt_duration(s.p99),
            fmt_duration(s.max),
            s.errors,
            slo_text("LIST", row.scope),
            verdict(&s, slo_for("LIST", row.scope)),
        );
    }
    out.push_str(&error_notes(
        rows.iter().map(|r| (r.what.clone(), &r.samples)),
    ));
    let create_errors = error_notes(std::iter::once((
        "POST pods (load)".to_string(),
        &load.creates,
    )));
    out.push_str(&create_errors);
    out.push('\n');
    out
}

pub fn watch(
    r: &WatchResult,
    watchers: usize,
    selector_watchers: usize,
    pods: usize,
    qps: f64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Phase 3 — watch delivery latency\n\n{watchers} concurrent pod watches ({} cluster-scope, {selector_watchers} with a label selector matching 1/10 of the pods), established in {}; then {pods} pods created and each patched once at {qps:.0} writes/s: {} writes acknowledged, {} of {} expected deliveries received.\n",
        watchers - selector_watchers,
        fmt_duration(r.established_in),
        r.writes,
        r.delivered,
        r.expected,
    );
    let _ = writeln!(
        out,
        "| watchers | measured | events | p50 | p90 | p99 | max | upstream |\n|---:|---|---:|---:|---:|---:|---:|---|"
    );
    let rows = [
        (
            watchers - selector_watchers,
            "write acknowledged → event received (cluster-scope)",
            &r.cluster_from_ack,
        ),
        (
            selector_watchers,
            "write acknowledged → event received (label selector)",
            &r.selector_from_ack,
        ),
        (
            watchers,
            "write sent → event received (all)",
            &r.all_from_send,
        ),
    ];
    for (n, what, s) in rows {
        let sum = s.summary();
        let _ = writeln!(
            out,
            "| {n} | {what} | {} | {} | {} | {} | {} | no SLO (watch latency is a WIP SLI) |",
            sum.count,
            fmt_duration(sum.p50),
            fmt_duration(sum.p90),
            fmt_duration(sum.p99),
            fmt_duration(sum.max),
        );
    }
    for (what, errors) in [("write", &r.write_errors), ("watch", &r.watch_errors)] {
        if !errors.is_empty() {
            let _ = writeln!(
                out,
                "\n{} {what} errors, e.g.: {}",
                errors.len(),
                errors
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
    }
    out.push('\n');
    out
}

/// One memory reading of the server.
pub struct MemoryPoint {
    pub when: String,
    pub pods: usize,
    pub rss_mib: f64,
    pub peak_mib: f64,
}

pub fn memory(points: &[MemoryPoint], baseline: Option<&MemoryPoint>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Phase 4 — server memory\n\nVmRSS / VmHWM of the `k8rs server` process (API server with its watch cache, embedded store, controllers and scheduler with their informer caches). Per-10k figures are relative to the reading before the pods were loaded. Upstream has no SLO for this.\n"
    );
    let _ = writeln!(
        out,
        "| point | pods | RSS | peak RSS | Δ RSS vs before load | MiB per 10k pods |\n|---|---:|---:|---:|---:|---:|"
    );
    for p in points {
        let (delta, per_10k) = match baseline {
            Some(b) if p.pods > b.pods => {
                let d = p.rss_mib - b.rss_mib;
                (
                    format!("{d:+.0} MiB"),
                    format!("{:.0}", d / ((p.pods - b.pods) as f64 / 10_000.0)),
                )
            }
            _ => ("–".into(), "–".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} MiB | {:.0} MiB | {delta} | {per_10k} |",
            p.when, p.pods, p.rss_mib, p.peak_mib
        );
    }
    out.push('\n');
    out
}

/// Lists the kept error messages of rows that had errors.
fn error_notes<'a>(rows: impl Iterator<Item = (String, &'a Samples)>) -> String {
    let mut out = String::new();
    for (what, s) in rows {
        if s.errors > 0 {
            let _ = writeln!(
                out,
                "\n{what}: {} errors, e.g.: {}",
                s.errors,
                s.error_messages.join(" | ")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slos_follow_the_call_scope() {
        assert_eq!(slo_for("GET", "resource"), Some(SLO_SINGLE_OBJECT));
        assert_eq!(slo_for("POST", "namespace"), Some(SLO_SINGLE_OBJECT));
        assert_eq!(slo_for("LIST", "cluster"), Some(SLO_LIST));
        let fast = Summary {
            count: 1,
            errors: 0,
            p50: Duration::from_millis(5),
            p90: Duration::from_millis(5),
            p99: Duration::from_millis(900),
            max: Duration::from_millis(900),
        };
        assert_eq!(verdict(&fast, Some(SLO_SINGLE_OBJECT)), "✓");
        let slow = Summary {
            p99: Duration::from_millis(1500),
            ..fast
        };
        assert_eq!(verdict(&slow, Some(SLO_SINGLE_OBJECT)), "✗");
        assert_eq!(verdict(&Summary { count: 0, ..fast }, Some(SLO_LIST)), "–");
    }

    #[test]
    fn memory_per_10k_is_relative_to_the_baseline() {
        let base = MemoryPoint {
            when: "before".into(),
            pods: 0,
            rss_mib: 100.0,
            peak_mib: 100.0,
        };
        let after = MemoryPoint {
            when: "after".into(),
            pods: 20_000,
            rss_mib: 300.0,
            peak_mib: 320.0,
        };
        let table = memory(&[after], Some(&base));
        assert!(
            table.contains("| after | 20000 | 300 MiB | 320 MiB | +200 MiB | 100 |"),
            "{table}"
        );
    }
}
