//! Pure pod status computation from what the runtime reports (no I/O), so the rules
//! (phase, conditions, container states) are unit-tested.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::resources::qos_class;
use crate::events;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceState {
    Created,
    Running,
    Exited,
    Unknown,
}

/// One CRI container instance of a pod container.
#[derive(Clone, Debug)]
pub struct Instance {
    pub id: String,
    pub attempt: u32,
    pub state: InstanceState,
    /// Nanoseconds since the epoch (0 = unknown).
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
    pub image_ref: String,
}

/// Everything known about one container of the pod spec.
#[derive(Clone, Debug, Default)]
pub struct ContainerView {
    pub name: String,
    pub image: String,
    pub latest: Option<Instance>,
    pub previous: Option<Instance>,
    /// A waiting reason/message that overrides the runtime's view (pull errors, back-off).
    pub waiting: Option<(String, String)>,
}

/// The sandbox as the runtime reports it.
#[derive(Clone, Debug, Default)]
pub struct SandboxView {
    pub ready: bool,
    pub ips: Vec<String>,
}

fn time(nanos: i64) -> Option<Time> {
    (nanos > 0)
        .then(|| Timestamp::from_nanosecond(i128::from(nanos)).ok())
        .flatten()
        .map(Time)
}

fn terminated(i: &Instance) -> ContainerStateTerminated {
    let reason = if !i.reason.is_empty() {
        i.reason.clone()
    } else if i.exit_code == 0 {
        "Completed".to_string()
    } else {
        "Error".to_string()
    };
    ContainerStateTerminated {
        exit_code: i.exit_code,
        reason: Some(reason),
        message: (!i.message.is_empty()).then(|| i.message.clone()),
        started_at: time(i.started_at),
        finished_at: time(i.finished_at),
        container_id: Some(format!("containerd://{}", i.id)),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<&str>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message: message.filter(|m| !m.is_empty()).map(str::to_string),
        }),
        ..Default::default()
    }
}

pub fn container_status(view: &ContainerView) -> ContainerStatus {
    let override_waiting = view.waiting.as_ref().map(|(r, m)| waiting(r, Some(m)));
    let last_terminated = |i: Option<&Instance>| ContainerState {
        terminated: i
            .filter(|i| i.state == InstanceState::Exited)
            .map(terminated),
        ..Default::default()
    };
    let (state, last_state) = match &view.latest {
        None => (
            override_waiting.unwrap_or_else(|| waiting(events::CONTAINER_CREATING, None)),
            ContainerState::default(),
        ),
        Some(latest) => match latest.state {
            InstanceState::Running => (
                ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: time(latest.started_at),
                    }),
                    ..Default::default()
                },
                last_terminated(view.previous.as_ref()),
            ),
            InstanceState::Exited => match override_waiting {
                // Waiting to be restarted: the exited instance becomes the last state.
                Some(w) => (w, last_terminated(Some(latest))),
                None => (
                    ContainerState {
                        terminated: Some(terminated(latest)),
                        ..Default::default()
                    },
                    last_terminated(view.previous.as_ref()),
                ),
            },
            InstanceState::Created | InstanceState::Unknown => (
                override_waiting.unwrap_or_else(|| waiting(events::CONTAINER_CREATING, None)),
                last_terminated(view.previous.as_ref()),
            ),
        },
    };
    let running = state.running.is_some();
    ContainerStatus {
        name: view.name.clone(),
        image: view.image.clone(),
        image_id: view
            .latest
            .as_ref()
            .map(|i| i.image_ref.clone())
            .unwrap_or_default(),
        container_id: view
            .latest
            .as_ref()
            .map(|i| format!("containerd://{}", i.id)),
        ready: running,
        started: Some(running),
        restart_count: view.latest.as_ref().map_or(0, |i| i.attempt as i32),
        state: Some(state),
        last_state: Some(last_state),
        ..Default::default()
    }
}

/// Upstream kubelet's phase rules for regular containers.
pub fn phase(restart_policy: &str, statuses: &[ContainerStatus]) -> &'static str {
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        let state = s.state.as_ref();
        if state.is_some_and(|st| st.running.is_some()) {
            running += 1;
        } else if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s
            .last_state
            .as_ref()
            .is_some_and(|l| l.terminated.is_some())
        {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if restart_policy == "Always" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if restart_policy == "Never" {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

/// A condition that keeps its previous transition time while its status is unchanged.
fn condition(
    previous: &[PodCondition],
    type_: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: Timestamp,
) -> PodCondition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .or(Some(Time(now)));
    PodCondition {
        type_: type_.to_string(),
        status,
        reason: reason.map(str::to_string),
        message,
        last_transition_time,
        ..Default::default()
    }
}

/// The status subresource content for `pod` given the runtime's view.
pub fn pod_status(
    pod: &Pod,
    sandbox: &SandboxView,
    views: &[ContainerView],
    host_ip: &str,
    now: Timestamp,
) -> PodStatus {
    let restart_policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.clone())
        .unwrap_or_else(|| "Always".to_string());
    let old = pod.status.clone().unwrap_or_default();
    let previous = old.conditions.clone().unwrap_or_default();
    let statuses: Vec<ContainerStatus> = views.iter().map(container_status).collect();
    let phase = phase(&restart_policy, &statuses);
    let terminal = phase == "Succeeded" || phase == "Failed";
    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let all_ready = unready.is_empty() && !statuses.is_empty();
    let (reason, message) = if all_ready {
        (None, None)
    } else if terminal && phase == "Succeeded" {
        (Some("PodCompleted"), None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let mut conditions = vec![
        condition(
            &previous,
            "PodReadyToStartContainers",
            sandbox.ready && !terminal,
            None,
            None,
            now,
        ),
        condition(&previous, "Initialized", true, None, None, now),
        condition(&previous, "Ready", all_ready, reason, message.clone(), now),
        condition(
            &previous,
            "ContainersReady",
            all_ready,
            reason,
            message,
            now,
        ),
    ];
    // The scheduler owns PodScheduled; keep it as it is.
    conditions.extend(
        previous
            .iter()
            .filter(|c| c.type_ == "PodScheduled")
            .cloned(),
    );
    let pod_ips: Vec<PodIP> = sandbox
        .ips
        .iter()
        .map(|ip| PodIP { ip: ip.clone() })
        .collect();
    PodStatus {
        phase: Some(phase.to_string()),
        conditions: Some(conditions),
        host_ip: Some(host_ip.to_string()),
        host_ips: Some(vec![HostIP {
            ip: host_ip.to_string(),
        }]),
        pod_ip: sandbox.ips.first().cloned().or(old.pod_ip.clone()),
        pod_ips: if pod_ips.is_empty() {
            old.pod_ips.clone()
        } else {
            Some(pod_ips)
        },
        start_time: old.start_time.clone().or(Some(Time(now))),
        qos_class: Some(qos_class(pod).to_string()),
        container_statuses: Some(statuses),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn instance(state: InstanceState, attempt: u32, exit_code: i32) -> Instance {
        Instance {
            id: format!("id{attempt}"),
            attempt,
            state,
            started_at: 1_700_000_000_000_000_000,
            finished_at: if state == InstanceState::Exited {
                1_700_000_001_000_000_000
            } else {
                0
            },
            exit_code,
            reason: String::new(),
            message: String::new(),
            image_ref: "sha256:abc".into(),
        }
    }

    fn view(
        latest: Option<Instance>,
        previous: Option<Instance>,
        waiting: Option<(&str, &str)>,
    ) -> ContainerView {
        ContainerView {
            name: "c".into(),
            image: "busybox".into(),
            latest,
            previous,
            waiting: waiting.map(|(r, m)| (r.to_string(), m.to_string())),
        }
    }

    fn pod(restart_policy: &str) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ..Default::default()
                }],
                restart_policy: Some(restart_policy.into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn running_container_is_ready_and_pod_running() {
        let views = [view(
            Some(instance(InstanceState::Running, 0, 0)),
            None,
            None,
        )];
        let sandbox = SandboxView {
            ready: true,
            ips: vec!["10.42.0.5".into()],
        };
        let s = pod_status(
            &pod("Always"),
            &sandbox,
            &views,
            "192.0.2.1",
            Timestamp::now(),
        );
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(s.pod_ip.as_deref(), Some("10.42.0.5"));
        assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
        let conds = s.conditions.unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "True");
        assert!(
            conds
                .iter()
                .any(|c| c.type_ == "PodScheduled" && c.status == "True")
        );
        let cs = &s.container_statuses.unwrap()[0];
        assert!(cs.ready);
        assert_eq!(cs.container_id.as_deref(), Some("containerd://id0"));
        assert!(cs.state.as_ref().unwrap().running.is_some());
    }

    #[test]
    fn creating_container_is_pending_and_not_ready() {
        let views = [view(None, None, None)];
        let s = pod_status(
            &pod("Always"),
            &SandboxView::default(),
            &views,
            "192.0.2.1",
            Timestamp::now(),
        );
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        let cs = &s.container_statuses.unwrap()[0];
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("ContainerCreating")
        );
        let ready = s
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.reason.as_deref(), Some("ContainersNotReady"));
        assert_eq!(
            ready.message.as_deref(),
            Some("containers with unready status: [c]")
        );
    }

    #[test]
    fn crash_loop_keeps_pod_running_with_last_state() {
        let views = [view(
            Some(instance(InstanceState::Exited, 2, 1)),
            Some(instance(InstanceState::Exited, 1, 1)),
            Some((
                "CrashLoopBackOff",
                "back-off 20s restarting failed container=c pod=p_default(u)",
            )),
        )];
        let s = pod_status(
            &pod("Always"),
            &SandboxView {
                ready: true,
                ips: vec![],
            },
            &views,
            "h",
            Timestamp::now(),
        );
        assert_eq!(s.phase.as_deref(), Some("Running"));
        let cs = &s.container_statuses.unwrap()[0];
        assert_eq!(cs.restart_count, 2);
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("CrashLoopBackOff")
        );
        let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!(last.exit_code, 1);
        assert_eq!(last.reason.as_deref(), Some("Error"));
    }

    #[test]
    fn phases_for_terminated_containers() {
        let done = [view(
            Some(instance(InstanceState::Exited, 0, 0)),
            None,
            None,
        )];
        let failed = [view(
            Some(instance(InstanceState::Exited, 0, 3)),
            None,
            None,
        )];
        let sb = SandboxView::default();
        let phase_of = |p: &str, v: &[ContainerView]| {
            pod_status(&pod(p), &sb, v, "h", Timestamp::now())
                .phase
                .unwrap()
        };
        assert_eq!(phase_of("Never", &done), "Succeeded");
        assert_eq!(phase_of("OnFailure", &done), "Succeeded");
        assert_eq!(phase_of("Never", &failed), "Failed");
        assert_eq!(phase_of("OnFailure", &failed), "Running");
        assert_eq!(phase_of("Always", &done), "Running");
        let s = pod_status(&pod("Never"), &sb, &done, "h", Timestamp::now());
        let cs = &s.container_statuses.unwrap()[0];
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("Completed")
        );
    }

    #[test]
    fn transition_time_is_kept_while_status_unchanged() {
        let mut p = pod("Always");
        let earlier = Timestamp::from_second(1_600_000_000).unwrap();
        if let Some(status) = p.status.as_mut() {
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(PodCondition {
                    type_: "Initialized".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(earlier)),
                    ..Default::default()
                });
        }
        let s = pod_status(
            &p,
            &SandboxView::default(),
            &[view(None, None, None)],
            "h",
            Timestamp::now(),
        );
        let init = s
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Initialized")
            .unwrap();
        assert_eq!(init.last_transition_time, Some(Time(earlier)));
    }
}
