//! The Pod row: READY, the aggregate STATUS (kubectl's well-known reasons), RESTARTS with
//! the time of the last restart, and the wide IP / NODE / NOMINATED NODE / READINESS GATES.

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{Col, age, arr, human_duration, is_set, name, opt_b, opt_s, or_default, parse_time, s};

pub(super) const COLUMNS: &[Col] = &[
    Col::name(),
    Col::new(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    Col::new(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    Col::new(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    Col::age(),
    Col::wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    Col::wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    Col::wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    Col::wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

/// Table row conditions upstream attaches to finished pods.
pub(super) fn row_conditions(o: &Value) -> Option<Value> {
    let (reason, message) = match s(o, "/status/phase") {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{
        "type": "Completed",
        "status": "True",
        "reason": reason,
        "message": message,
    }]))
}

fn finished_at(st: &Value) -> Option<Timestamp> {
    opt_s(st, "/lastState/terminated/finishedAt").and_then(parse_time)
}

fn terminated_reason(t: &Value, prefix: &str) -> String {
    let reason = s(t, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = t.get("signal").and_then(Value::as_i64).unwrap_or(0);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
        format!("{prefix}ExitCode:{code}")
    }
}

fn condition_true(o: &Value, ty: &str) -> bool {
    arr(o, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
        .is_some_and(|c| s(c, "/status") == "True")
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    a.max(b)
}

pub(super) fn cells(o: &Value, now: Timestamp) -> Vec<Value> {
    let phase = s(o, "/status/phase");
    let mut reason = match s(o, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if arr(o, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "PodScheduled" && s(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    // Restartable init containers (sidecars) count as containers of the pod.
    let init_specs = arr(o, "/spec/initContainers");
    let sidecars: HashMap<&str, bool> = init_specs
        .iter()
        .map(|c| (s(c, "/name"), s(c, "/restartPolicy") == "Always"))
        .collect();
    let is_sidecar = |n: &str| sidecars.get(n).copied().unwrap_or(false);
    let total = arr(o, "/spec/containers").len() + sidecars.values().filter(|v| **v).count();

    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut sidecar_restarts = 0i64;
    let mut last_sidecar_restart: Option<Timestamp> = None;

    let mut initializing = false;
    for (idx, st) in arr(o, "/status/initContainerStatuses").iter().enumerate() {
        let count = st.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        restarts += count;
        last_restart = later(last_restart, finished_at(st));
        let sidecar = is_sidecar(s(st, "/name"));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, finished_at(st));
        }
        let terminated = st.pointer("/state/terminated").filter(|t| !t.is_null());
        if terminated.is_some_and(|t| t.get("exitCode").and_then(Value::as_i64) == Some(0)) {
            continue;
        }
        if sidecar && opt_b(st, "/started") == Some(true) {
            if opt_b(st, "/ready") == Some(true) {
                ready += 1;
            }
            continue;
        }
        let waiting = s(st, "/state/waiting/reason");
        reason = if let Some(t) = terminated {
            terminated_reason(t, "Init:")
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{idx}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(o, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for st in arr(o, "/status/containerStatuses").iter().rev() {
            restarts += st.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            last_restart = later(last_restart, finished_at(st));
            let waiting = s(st, "/state/waiting/reason");
            let terminated = st.pointer("/state/terminated").filter(|t| !t.is_null());
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if opt_b(st, "/ready") == Some(true) && is_set(st, "/state/running") {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose last container completed but another still runs is Running again.
        if reason == "Completed" && has_running {
            reason = if condition_true_any(o, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if is_set(o, "/metadata/deletionTimestamp") {
        if s(o, "/status/reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            human_duration(now.as_second() - t.as_second())
        ),
        _ => restarts.to_string(),
    };

    let mut ip = arr(o, "/status/podIPs")
        .first()
        .map(|p| s(p, "/ip"))
        .unwrap_or("");
    if ip.is_empty() {
        ip = s(o, "/status/podIP");
    }
    let gates = arr(o, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = arr(o, "/status/conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| s(c, "/type") == s(g, "/conditionType"))
                    .is_some_and(|c| s(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    vec![
        json!(name(o)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_cell),
        json!(age(o, now)),
        json!(or_default(ip, "<none>")),
        json!(or_default(s(o, "/spec/nodeName"), "<none>")),
        json!(or_default(s(o, "/status/nominatedNodeName"), "<none>")),
        json!(gates_cell),
    ]
}

/// hasPodReadyCondition: any Ready condition with status True.
fn condition_true_any(o: &Value, ty: &str) -> bool {
    arr(o, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == ty && s(c, "/status") == "True")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{now, row};
    use serde_json::{Value, json};

    fn pod(status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "app", "image": "docker.io/k8rs/demo:0.1.0"}], "nodeName": "node-1"},
            "status": status,
        })
    }

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts, "started": true,
               "state": {"running": {"startedAt": "2026-01-01T00:01:00Z"}}})
    }

    fn status_of(p: Value) -> String {
        row("Pod", p)[2].as_str().unwrap().to_string()
    }

    #[test]
    fn running_pod_row() {
        let p = pod(json!({"phase": "Running", "podIP": "10.42.0.5",
            "podIPs": [{"ip": "10.42.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [running("app", true, 0)]}));
        let c = row("Pod", p);
        assert_eq!(
            c,
            [
                json!("web-0"),
                json!("1/1"),
                json!("Running"),
                json!("0"),
                json!("10m"),
                json!("10.42.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn pending_pod_without_node_shows_none() {
        let mut p = pod(json!({"phase": "Pending"}));
        p["spec"]["nodeName"] = Value::Null;
        let c = row("Pod", p);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], "Pending");
        assert_eq!(c[5], "<none>");
        assert_eq!(c[6], "<none>");
    }

    #[test]
    fn waiting_reasons_show_through() {
        for r in [
            "ContainerCreating",
            "CrashLoopBackOff",
            "ImagePullBackOff",
            "ErrImagePull",
        ] {
            let p = pod(json!({"phase": "Pending", "containerStatuses": [
                {"name": "app", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": r}}}]}));
            assert_eq!(status_of(p), r);
        }
    }

    #[test]
    fn terminated_containers() {
        let term = |t: Value| {
            pod(json!({"phase": "Failed", "containerStatuses": [
                {"name": "app", "ready": false, "restartCount": 0, "state": {"terminated": t}}]}))
        };
        assert_eq!(
            status_of(term(json!({"exitCode": 0, "reason": "Completed"}))),
            "Completed"
        );
        assert_eq!(
            status_of(term(json!({"exitCode": 1, "reason": "Error"}))),
            "Error"
        );
        assert_eq!(status_of(term(json!({"exitCode": 3}))), "ExitCode:3");
        assert_eq!(
            status_of(term(json!({"exitCode": 137, "signal": 9}))),
            "Signal:9"
        );
    }

    #[test]
    fn succeeded_pod_gets_completed_row_condition() {
        let p = pod(json!({"phase": "Succeeded", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}));
        let t = super::super::build_table("Pod", &[p], "None", json!({}), now());
        assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Succeeded");
        assert_eq!(t["rows"][0]["cells"][2], "Completed");
    }

    #[test]
    fn completed_with_running_container_is_running_or_not_ready() {
        let two = |ready_cond: &str| {
            let mut p = pod(json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": ready_cond}],
            "containerStatuses": [
                running("app", true, 0),
                {"name": "job", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]}));
            p["spec"]["containers"] = json!([{"name": "app"}, {"name": "job"}]);
            p
        };
        assert_eq!(status_of(two("True")), "Running");
        assert_eq!(status_of(two("False")), "NotReady");
        assert_eq!(row("Pod", two("False"))[1], "1/2");
    }

    #[test]
    fn init_container_states() {
        let with_init = |st: Value| {
            let mut p = pod(json!({"phase": "Pending",
                "initContainerStatuses": [st],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}]}));
            p["spec"]["initContainers"] = json!([{"name": "init"}, {"name": "init2"}]);
            p
        };
        let waiting = |r: &str| json!({"name": "init", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": r}}});
        assert_eq!(
            status_of(with_init(
                json!({"name": "init", "ready": false, "restartCount": 0, "state": {"running": {}}})
            )),
            "Init:0/2"
        );
        assert_eq!(status_of(with_init(waiting("PodInitializing"))), "Init:0/2");
        assert_eq!(
            status_of(with_init(waiting("CrashLoopBackOff"))),
            "Init:CrashLoopBackOff"
        );
        assert_eq!(
            status_of(with_init(
                json!({"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}})
            )),
            "Init:Error"
        );
        assert_eq!(
            status_of(with_init(
                json!({"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}})
            )),
            "Init:ExitCode:2"
        );
        assert_eq!(
            status_of(with_init(
                json!({"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "signal": 15}}})
            )),
            "PodInitializing"
        );
        assert_eq!(
            status_of(with_init(
                json!({"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 143, "signal": 15}}})
            )),
            "Init:Signal:15"
        );
        // First init done, second running: Init:1/2.
        let mut p = with_init(Value::Null);
        p["status"]["initContainerStatuses"] = json!([
            {"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "init2", "restartCount": 0, "state": {"running": {}}}
        ]);
        assert_eq!(status_of(p), "Init:1/2");
    }

    #[test]
    fn all_inits_done_shows_pod_initializing() {
        let mut p = pod(json!({"phase": "Pending",
            "initContainerStatuses": [{"name": "init", "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}));
        p["spec"]["initContainers"] = json!([{"name": "init"}]);
        assert_eq!(status_of(p), "PodInitializing");
    }

    #[test]
    fn sidecars_count_in_ready_and_restarts() {
        let mut p = pod(json!({"phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 2,
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:07:00Z"}},
                "state": {"running": {}}}],
            "containerStatuses": [running("app", true, 1)]}));
        p["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
        let c = row("Pod", p);
        assert_eq!(c[1], "2/2");
        assert_eq!(c[2], "Running");
        assert_eq!(c[3], "3 (3m ago)");
    }

    #[test]
    fn sidecar_not_started_keeps_pod_initializing() {
        let mut p = pod(json!({"phase": "Pending",
            "initContainerStatuses": [{"name": "proxy", "ready": false, "started": false, "restartCount": 0,
                "state": {"running": {}}}],
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}));
        p["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
        let c = row("Pod", p);
        assert_eq!(c[1], "0/2");
        assert_eq!(c[2], "Init:0/1");
    }

    #[test]
    fn restarts_show_time_of_last_restart() {
        let p = pod(json!({"phase": "Running",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 4,
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:08:30Z"}},
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}));
        let c = row("Pod", p);
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "4 (90s ago)");
        // Restarts without a recorded finish time: just the count.
        let p = pod(json!({"phase": "Running", "containerStatuses": [running("app", true, 2)]}));
        assert_eq!(row("Pod", p)[3], "2");
    }

    #[test]
    fn deletion_shows_terminating_or_unknown() {
        let mut p =
            pod(json!({"phase": "Running", "containerStatuses": [running("app", true, 0)]}));
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
        assert_eq!(status_of(p.clone()), "Terminating");
        p["status"]["reason"] = json!("NodeLost");
        assert_eq!(status_of(p.clone()), "Unknown");
        // A finished pod being deleted keeps its final status.
        let mut done = pod(json!({"phase": "Succeeded", "containerStatuses": [
            {"name": "app", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}));
        done["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
        assert_eq!(status_of(done), "Completed");
    }

    #[test]
    fn scheduling_gated_and_status_reason() {
        let p = pod(json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}));
        assert_eq!(status_of(p), "SchedulingGated");
        let p = pod(json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(status_of(p), "Evicted");
    }

    #[test]
    fn wide_columns_nominated_node_and_readiness_gates() {
        let mut p = pod(json!({"phase": "Running", "nominatedNodeName": "node-2",
            "podIPs": [{"ip": "10.42.0.9"}, {"ip": "fd00::9"}],
            "conditions": [{"type": "example.com/lb", "status": "True"}, {"type": "example.com/x", "status": "False"}],
            "containerStatuses": [running("app", true, 0)]}));
        p["spec"]["readinessGates"] = json!([
            {"conditionType": "example.com/lb"}, {"conditionType": "example.com/x"}, {"conditionType": "example.com/missing"}]);
        let c = row("Pod", p);
        assert_eq!(c[5], "10.42.0.9");
        assert_eq!(c[7], "node-2");
        assert_eq!(c[8], "1/3");
    }
}
