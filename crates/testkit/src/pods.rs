//! Queries about pods and other objects, through kubectl's JSON output.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::get_demo;
use crate::kubectl::Kubectl;
use crate::wait::wait_for;

/// `.metadata.name` of an object ("" if absent).
pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The `items` of a list object.
pub fn items(list: &Value) -> &[Value] {
    list.get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether a pod is Running, Ready and not being deleted.
pub fn is_running_and_ready(pod: &Value) -> bool {
    let running = pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running");
    let deleting = pod.pointer("/metadata/deletionTimestamp").is_some();
    running && !deleting && condition_is_true(pod, "Ready")
}

/// Whether `obj.status.conditions` has `type` with status "True".
pub fn condition_is_true(obj: &Value, type_: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(type_)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// Pods in the default namespace matching `selector` that are Running and Ready.
pub fn ready_pods(kubectl: &Kubectl, selector: &str) -> Result<Vec<Value>> {
    let list = kubectl.json(&["get", "pods", "-l", selector])?;
    Ok(items(&list)
        .iter()
        .filter(|p| is_running_and_ready(p))
        .cloned()
        .collect())
}

/// Waits until exactly `count` pods matching `selector` are Running and Ready (and no
/// others matching it remain) and returns them.
pub fn wait_for_ready_pods(
    kubectl: &Kubectl,
    selector: &str,
    count: usize,
    timeout: Duration,
) -> Result<Vec<Value>> {
    wait_for(
        &format!("{count} running pods with {selector}"),
        timeout,
        || {
            let list = kubectl.json(&["get", "pods", "-l", selector])?;
            let all = items(&list);
            let ready: Vec<Value> = all
                .iter()
                .filter(|p| is_running_and_ready(p))
                .cloned()
                .collect();
            if ready.len() == count && all.len() == count {
                Ok(Some(ready))
            } else {
                let phases: Vec<String> = all
                    .iter()
                    .map(|p| {
                        let phase = p
                            .pointer("/status/phase")
                            .and_then(Value::as_str)
                            .unwrap_or("?");
                        format!("{}={phase}", name_of(p))
                    })
                    .collect();
                Err(Error::Cluster(format!(
                    "{} ready of [{}]",
                    ready.len(),
                    phases.join(", ")
                )))
            }
        },
    )
}

/// Sends requests to the demo app behind `addr` until every pod in `want` has answered.
pub fn wait_for_replies_from(
    addr: SocketAddr,
    want: &BTreeSet<String>,
    timeout: Duration,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    wait_for(
        &format!("answers from all of {want:?} via {addr}"),
        timeout,
        || {
            let reply = get_demo(addr, Duration::from_secs(5))?;
            seen.insert(reply.pod);
            if want.is_subset(&seen) {
                Ok(Some(()))
            } else {
                Err(Error::Cluster(format!("seen so far: {seen:?}")))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readiness_needs_running_ready_and_not_deleting() {
        let ready = json!({
            "metadata": {"name": "a"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        });
        assert!(is_running_and_ready(&ready));
        let mut deleting = ready.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        assert!(!is_running_and_ready(&deleting));
        let not_ready = json!({
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}
        });
        assert!(!is_running_and_ready(&not_ready));
        let pending = json!({"status": {"phase": "Pending"}});
        assert!(!is_running_and_ready(&pending));
    }

    #[test]
    fn items_and_names() {
        let list = json!({"items": [{"metadata": {"name": "x"}}, {}]});
        let names: Vec<&str> = items(&list).iter().map(name_of).collect();
        assert_eq!(names, ["x", ""]);
        assert!(items(&json!({})).is_empty());
    }
}
