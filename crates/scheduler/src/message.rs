//! The scheduler's "0/N nodes are available: ..." message (upstream's `FitError`), including the
//! preemption post-filter's own summary.

use std::collections::BTreeMap;

use crate::filter::Reason;

/// Upstream's message when the cluster has no nodes at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";

fn histogram<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    let mut parts: Vec<String> = counts
        .into_iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    parts.sort();
    parts.join(", ")
}

/// `per_node`: the reasons each node was filtered out.
pub fn fit_error(per_node: &[Vec<Reason>]) -> String {
    let total = per_node.len();
    if total == 0 {
        return NO_NODES.to_string();
    }
    let reasons = histogram(per_node.iter().flatten().map(|r| r.message.as_str()));
    // Preemption finds no victims (no lower-priority pods are evicted here); nodes failing
    // only for resolvable reasons are counted as such, the others as not helped by preemption.
    let preemption = histogram(per_node.iter().map(|rs| {
        if rs.iter().all(|r| r.resolvable) {
            "No preemption victims found for incoming pod"
        } else {
            "Preemption is not helpful for scheduling"
        }
    }));
    format!(
        "0/{total} nodes are available: {reasons}. preemption: 0/{total} nodes are available: {preemption}.."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(message: &str, resolvable: bool) -> Reason {
        Reason {
            message: message.into(),
            resolvable,
        }
    }

    #[test]
    fn insufficient_cpu_single_node() {
        assert_eq!(
            fit_error(&[vec![r("Insufficient cpu", true)]]),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.."
        );
    }

    #[test]
    fn mixed_reasons_are_sorted_and_counted() {
        let msg = fit_error(&[
            vec![r("Insufficient memory", true)],
            vec![r("Insufficient memory", true), r("Insufficient cpu", true)],
            vec![r("node(s) had untolerated taint {dedicated: gpu}", false)],
        ]);
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.."
        );
        assert_eq!(fit_error(&[]), NO_NODES);
    }
}
