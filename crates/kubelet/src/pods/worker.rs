//! One worker per pod: converges the runtime towards the pod spec, reports status, and
//! tears the pod down when it is deleted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apimachinery::events::{EventType, Recorder, object_reference};
use k8s_cri::v1 as cri_api;
use k8s_openapi::api::core::v1::{Container, Pod, Service};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::labels;
use super::spec::{self, ContainerInputs};
use super::status::{self, ContainerView, Instance, InstanceState, SandboxView};
use crate::KubeletConfig;
use crate::cri::{CriClient, CriError};
use crate::events;

const SYNC_INTERVAL: Duration = Duration::from_secs(1);
const BACKOFF_START: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Shared by all workers.
pub struct Context {
    pub client: kube::Client,
    pub cri: CriClient,
    pub config: KubeletConfig,
    pub recorder: Recorder,
}

/// Exponential back-off (10 s doubling to 5 min) for restarts and image pulls.
#[derive(Debug, Clone)]
struct Backoff {
    delay: Duration,
    /// When the next attempt is allowed.
    until: Instant,
    /// Whether the "waiting" event for the current wait was recorded.
    announced: bool,
}

impl Backoff {
    fn start(now: Instant) -> Backoff {
        Backoff {
            delay: BACKOFF_START,
            until: now + BACKOFF_START,
            announced: false,
        }
    }
    /// No wait yet: the first restart after a crash is immediate, as upstream.
    fn immediate(now: Instant) -> Backoff {
        Backoff {
            delay: Duration::ZERO,
            until: now,
            announced: false,
        }
    }
    fn next(&mut self, now: Instant) {
        self.delay = if self.delay.is_zero() {
            BACKOFF_START
        } else {
            (self.delay * 2).min(BACKOFF_MAX)
        };
        self.until = now + self.delay;
        self.announced = false;
    }
}

struct PullFailure {
    backoff: Backoff,
    message: String,
}

pub struct Worker {
    ctx: Arc<Context>,
    uid: String,
    restart_backoff: HashMap<String, (i64, Backoff)>,
    pull_failures: HashMap<String, PullFailure>,
    last_status: Option<serde_json::Value>,
}

impl Worker {
    pub fn new(ctx: Arc<Context>, uid: String) -> Worker {
        Worker {
            ctx,
            uid,
            restart_backoff: HashMap::new(),
            pull_failures: HashMap::new(),
            last_status: None,
        }
    }

    /// Runs until the pod is gone (deleted by us or from the API) or `stop` is cancelled.
    pub async fn run(mut self, mut pods: watch::Receiver<Option<Pod>>, stop: CancellationToken) {
        loop {
            let pod = pods.borrow_and_update().clone();
            match pod {
                None => {
                    self.remove_runtime_objects(None, 2).await;
                    return;
                }
                Some(pod) if pod.metadata.deletion_timestamp.is_some() => {
                    self.terminate(&pod).await;
                    return;
                }
                Some(pod) => {
                    if let Err(err) = self.sync(&pod).await {
                        tracing::warn!(pod = ?pod.metadata.name, %err, "pod sync failed");
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                changed = pods.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(SYNC_INTERVAL) => {}
            }
        }
    }

    fn cri(&self) -> CriClient {
        self.ctx.cri.clone()
    }

    async fn event(
        &self,
        pod: &Pod,
        container: Option<&str>,
        type_: EventType,
        reason: &str,
        message: String,
    ) {
        let field_path = container.map(|c| format!("spec.containers{{{c}}}"));
        let reference = object_reference("v1", "Pod", &pod.metadata, field_path);
        self.ctx
            .recorder
            .record(&reference, type_, reason, message)
            .await;
    }

    async fn sandboxes(&self) -> Result<Vec<cri_api::PodSandbox>, CriError> {
        let selector = HashMap::from([(labels::POD_UID.to_string(), self.uid.clone())]);
        let mut list = self.cri().list_pod_sandboxes(selector).await?;
        list.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(list)
    }

    async fn sync(&mut self, pod: &Pod) -> Result<(), CriError> {
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            // Terminal pods keep their status; their sandbox is stopped once.
            for sandbox in self.sandboxes().await? {
                if sandbox.state == cri_api::PodSandboxState::SandboxReady as i32 {
                    let _ = self.cri().stop_pod_sandbox(&sandbox.id).await;
                }
            }
            return Ok(());
        }
        let host_ip = self.ctx.config.node_ip.to_string();
        let resolv = tokio::fs::read_to_string("/etc/resolv.conf")
            .await
            .unwrap_or_default();
        let sandboxes = self.sandboxes().await?;
        let ready = sandboxes
            .iter()
            .find(|s| s.state == cri_api::PodSandboxState::SandboxReady as i32)
            .cloned();
        let (sandbox_id, sandbox_config) = match ready {
            Some(s) => {
                let attempt = s.metadata.as_ref().map_or(0, |m| m.attempt);
                (
                    s.id.clone(),
                    spec::sandbox_config(pod, &self.ctx.config, attempt, &resolv),
                )
            }
            None => {
                // A dead sandbox is replaced; its containers go with it.
                let attempt = sandboxes
                    .first()
                    .and_then(|s| s.metadata.as_ref())
                    .map_or(0, |m| m.attempt + 1);
                for old in &sandboxes {
                    let _ = self.cri().stop_pod_sandbox(&old.id).await;
                    let _ = self.cri().remove_pod_sandbox(&old.id).await;
                }
                let config = spec::sandbox_config(pod, &self.ctx.config, attempt, &resolv);
                let log_dir = spec::log_directory(&self.ctx.config.data_dir, pod);
                let _ = tokio::fs::create_dir_all(&log_dir).await;
                match self.cri().run_pod_sandbox(config.clone()).await {
                    Ok(id) => (id, config),
                    Err(err) => {
                        let message = format!("Failed to create pod sandbox: {}", err.message());
                        self.event(
                            pod,
                            None,
                            EventType::Warning,
                            "FailedCreatePodSandBox",
                            message,
                        )
                        .await;
                        self.report(pod, &SandboxView::default(), &self.views(pod, &[]).await)
                            .await;
                        return Err(err);
                    }
                }
            }
        };
        let sandbox_status = self.cri().pod_sandbox_status(&sandbox_id).await?;
        let sandbox_view = sandbox_view(sandbox_status.as_ref());
        let pod_ip = sandbox_view.ips.first().cloned().unwrap_or_default();

        let containers = self.cri().list_containers(&sandbox_id).await?;
        let spec = pod.spec.clone().unwrap_or_default();
        let restart_policy = spec
            .restart_policy
            .clone()
            .unwrap_or_else(|| "Always".to_string());
        for container in &spec.containers {
            let instances = self.instances_of(&containers, &container.name).await;
            let latest = instances.first();
            let attempt = match latest {
                None => 0,
                Some(i) if i.state == InstanceState::Created => {
                    // Created but never started (e.g. the kubelet stopped in between).
                    if self.cri().start_container(&i.id).await.is_ok() {
                        self.event(
                            pod,
                            Some(&container.name),
                            EventType::Normal,
                            events::STARTED,
                            events::started(&container.name),
                        )
                        .await;
                    }
                    continue;
                }
                Some(i) if i.state != InstanceState::Exited => continue,
                Some(i) => {
                    if !spec::should_restart(&restart_policy, i.exit_code) {
                        continue;
                    }
                    if !self.restart_allowed(pod, &container.name, i).await {
                        continue;
                    }
                    i.attempt + 1
                }
            };
            // Only the latest exited instance is kept (for `logs --previous`).
            for old in instances.iter().skip(1) {
                let _ = self.cri().remove_container(&old.id).await;
            }
            let Some(image_ref) = self.ensure_image(pod, container, &sandbox_config).await else {
                continue;
            };
            let service_env = self.service_env().await;
            let input = ContainerInputs {
                pod,
                container,
                image_ref: &image_ref,
                attempt,
                pod_ip: &pod_ip,
                host_ip: &host_ip,
                service_env: &service_env,
            };
            let config = spec::container_config(&input);
            let _ = tokio::fs::create_dir_all(
                spec::log_directory(&self.ctx.config.data_dir, pod).join(&container.name),
            )
            .await;
            let id = match self
                .cri()
                .create_container(&sandbox_id, config, sandbox_config.clone())
                .await
            {
                Ok(id) => id,
                Err(err) => {
                    self.event(
                        pod,
                        Some(&container.name),
                        EventType::Warning,
                        events::FAILED,
                        events::error(&err.message()),
                    )
                    .await;
                    continue;
                }
            };
            self.event(
                pod,
                Some(&container.name),
                EventType::Normal,
                events::CREATED,
                events::created(&container.name),
            )
            .await;
            match self.cri().start_container(&id).await {
                Ok(()) => {
                    self.event(
                        pod,
                        Some(&container.name),
                        EventType::Normal,
                        events::STARTED,
                        events::started(&container.name),
                    )
                    .await
                }
                Err(err) => {
                    self.event(
                        pod,
                        Some(&container.name),
                        EventType::Warning,
                        events::FAILED,
                        events::error(&err.message()),
                    )
                    .await
                }
            }
        }
        let containers = self.cri().list_containers(&sandbox_id).await?;
        let views = self.views(pod, &containers).await;
        self.report(pod, &sandbox_view, &views).await;
        Ok(())
    }

    /// Restart back-off: the first restart is immediate, then 10 s doubling to 5 min.
    async fn restart_allowed(&mut self, pod: &Pod, name: &str, exited: &Instance) -> bool {
        let now = Instant::now();
        let entry = self.restart_backoff.get_mut(name);
        match entry {
            None => {
                self.restart_backoff.insert(
                    name.to_string(),
                    (exited.finished_at, Backoff::immediate(now)),
                );
                true
            }
            Some((finished, backoff)) if *finished != exited.finished_at => {
                // A new crash: wait the current delay from now.
                *finished = exited.finished_at;
                backoff.next(now);
                false
            }
            Some((_, backoff)) if now >= backoff.until => true,
            Some((_, backoff)) => {
                if !backoff.announced {
                    backoff.announced = true;
                    let (ns, pod_name, uid) = spec::pod_key(pod);
                    let message = events::back_off_restart(name, &pod_name, &ns, &uid);
                    self.event(
                        pod,
                        Some(name),
                        EventType::Warning,
                        events::BACK_OFF,
                        message,
                    )
                    .await;
                }
                false
            }
        }
    }

    /// Makes sure the container's image is present per its pull policy; returns the image
    /// reference to create the container from, or `None` while pulling fails.
    async fn ensure_image(
        &mut self,
        pod: &Pod,
        container: &Container,
        sandbox: &cri_api::PodSandboxConfig,
    ) -> Option<String> {
        let image = container.image.clone().unwrap_or_default();
        let name = container.name.as_str();
        let policy = spec::pull_policy(container);
        let present = self.cri().image_status(&image).await.ok().flatten();
        if policy != "Always" {
            if let Some(found) = present {
                self.pull_failures.remove(name);
                self.event(
                    pod,
                    Some(name),
                    EventType::Normal,
                    events::PULLED,
                    events::already_present(&image),
                )
                .await;
                return Some(found.id);
            }
            if policy == "Never" {
                let message = events::never_pull(&image);
                self.event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    events::ERR_IMAGE_NEVER_PULL,
                    message.clone(),
                )
                .await;
                self.pull_failures.insert(
                    name.to_string(),
                    PullFailure {
                        backoff: Backoff::start(Instant::now()),
                        message: format!("{}|{message}", events::ERR_IMAGE_NEVER_PULL),
                    },
                );
                return None;
            }
        }
        let now = Instant::now();
        if let Some(failure) = self.pull_failures.get_mut(name)
            && now < failure.backoff.until
        {
            if !failure.backoff.announced {
                failure.backoff.announced = true;
                failure.message = format!(
                    "{}|{}",
                    events::IMAGE_PULL_BACK_OFF,
                    events::back_off_pull(&image)
                );
                self.event(
                    pod,
                    Some(name),
                    EventType::Normal,
                    events::BACK_OFF,
                    events::back_off_pull(&image),
                )
                .await;
                self.event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    events::FAILED,
                    events::error(events::IMAGE_PULL_BACK_OFF),
                )
                .await;
            }
            return None;
        }
        self.event(
            pod,
            Some(name),
            EventType::Normal,
            events::PULLING,
            events::pulling(&image),
        )
        .await;
        let started = Instant::now();
        match self.cri().pull_image(&image, Some(sandbox.clone())).await {
            Ok(image_ref) => {
                let elapsed = started.elapsed();
                let size = self
                    .cri()
                    .image_status(&image_ref)
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |i| i.size);
                self.pull_failures.remove(name);
                self.event(
                    pod,
                    Some(name),
                    EventType::Normal,
                    events::PULLED,
                    events::pulled(&image, elapsed, elapsed, size),
                )
                .await;
                Some(image_ref)
            }
            Err(err) => {
                let message = events::failed_pull(&image, &err.message());
                self.event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    events::FAILED,
                    message.clone(),
                )
                .await;
                self.event(
                    pod,
                    Some(name),
                    EventType::Warning,
                    events::FAILED,
                    events::error(events::ERR_IMAGE_PULL),
                )
                .await;
                match self.pull_failures.get_mut(name) {
                    Some(f) => {
                        f.backoff.next(now);
                        f.message = format!("{}|{message}", events::ERR_IMAGE_PULL);
                    }
                    None => {
                        self.pull_failures.insert(
                            name.to_string(),
                            PullFailure {
                                backoff: Backoff::start(now),
                                message: format!("{}|{message}", events::ERR_IMAGE_PULL),
                            },
                        );
                    }
                }
                None
            }
        }
    }

    /// KUBERNETES_SERVICE_* variables every pod gets, from the `kubernetes` Service.
    async fn service_env(&self) -> Vec<(String, String)> {
        let services: Api<Service> = Api::namespaced(self.ctx.client.clone(), "default");
        let Ok(Some(svc)) = services.get_opt("kubernetes").await else {
            return Vec::new();
        };
        let Some(spec) = svc.spec else {
            return Vec::new();
        };
        let Some(ip) = spec.cluster_ip.filter(|ip| ip != "None") else {
            return Vec::new();
        };
        let port = spec.ports.iter().flatten().next().map_or(443, |p| p.port);
        vec![
            ("KUBERNETES_SERVICE_HOST".into(), ip.clone()),
            ("KUBERNETES_SERVICE_PORT".into(), port.to_string()),
            ("KUBERNETES_SERVICE_PORT_HTTPS".into(), port.to_string()),
            ("KUBERNETES_PORT".into(), format!("tcp://{ip}:{port}")),
            (
                format!("KUBERNETES_PORT_{port}_TCP"),
                format!("tcp://{ip}:{port}"),
            ),
            (format!("KUBERNETES_PORT_{port}_TCP_PROTO"), "tcp".into()),
            (format!("KUBERNETES_PORT_{port}_TCP_PORT"), port.to_string()),
            (format!("KUBERNETES_PORT_{port}_TCP_ADDR"), ip),
        ]
    }

    /// Instances of one container, newest first.
    async fn instances_of(&self, containers: &[cri_api::Container], name: &str) -> Vec<Instance> {
        let mut out = Vec::new();
        for c in containers
            .iter()
            .filter(|c| c.labels.get(labels::CONTAINER_NAME).map(String::as_str) == Some(name))
        {
            if let Ok(Some(s)) = self.cri().container_status(&c.id).await {
                out.push(instance(&s));
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.attempt));
        out
    }

    async fn views(&self, pod: &Pod, containers: &[cri_api::Container]) -> Vec<ContainerView> {
        let (ns, pod_name, uid) = spec::pod_key(pod);
        let mut views = Vec::new();
        for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            let mut instances = self
                .instances_of(containers, &container.name)
                .await
                .into_iter();
            let latest = instances.next();
            let previous = instances.next();
            let mut waiting = self.pull_failures.get(&container.name).and_then(|f| {
                let (reason, message) = f.message.split_once('|')?;
                Some((reason.to_string(), message.to_string()))
            });
            if let (Some(l), Some((_, backoff))) =
                (&latest, self.restart_backoff.get(&container.name))
                && l.state == InstanceState::Exited
                && spec::should_restart(
                    pod.spec
                        .as_ref()
                        .and_then(|s| s.restart_policy.as_deref())
                        .unwrap_or("Always"),
                    l.exit_code,
                )
            {
                waiting = Some((
                    events::CRASH_LOOP_BACK_OFF.to_string(),
                    format!(
                        "back-off {} restarting failed container={} pod={pod_name}_{ns}({uid})",
                        events::go_duration(backoff.delay),
                        container.name
                    ),
                ));
            }
            views.push(ContainerView {
                name: container.name.clone(),
                image: container.image.clone().unwrap_or_default(),
                latest,
                previous,
                waiting,
            });
        }
        views
    }

    /// Patches the status subresource when it changed.
    async fn report(&mut self, pod: &Pod, sandbox: &SandboxView, views: &[ContainerView]) {
        let host_ip = self.ctx.config.node_ip.to_string();
        let status = status::pod_status(pod, sandbox, views, &host_ip, Timestamp::now());
        let Ok(value) = serde_json::to_value(&status) else {
            return;
        };
        if self.last_status.as_ref() == Some(&value) {
            return;
        }
        let (ns, name, _) = spec::pod_key(pod);
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &ns);
        let patch = serde_json::json!({ "status": value });
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => self.last_status = Some(value),
            Err(err) => tracing::warn!(pod = %name, %err, "could not update pod status"),
        }
    }

    /// Graceful deletion: stop containers within the grace period, remove the sandbox,
    /// then finish the deletion in the API.
    async fn terminate(&mut self, pod: &Pod) {
        let grace = pod
            .metadata
            .deletion_grace_period_seconds
            .or_else(|| {
                pod.spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
            })
            .unwrap_or(30);
        self.remove_runtime_objects(Some(pod), grace).await;
        let (ns, name, uid) = spec::pod_key(pod);
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &ns);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => tracing::info!(pod = %name, namespace = %ns, "pod deleted"),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
            Err(err) => tracing::warn!(pod = %name, %err, "could not finish pod deletion"),
        }
    }

    /// Stops every container (with `grace` seconds), then stops and removes the sandboxes.
    pub async fn remove_runtime_objects(&self, pod: Option<&Pod>, grace: i64) {
        let Ok(sandboxes) = self.sandboxes().await else {
            return;
        };
        for sandbox in &sandboxes {
            let containers = self
                .cri()
                .list_containers(&sandbox.id)
                .await
                .unwrap_or_default();
            let stops = containers
                .iter()
                .filter(|c| c.state == cri_api::ContainerState::ContainerRunning as i32)
                .map(|c| {
                    let name = c
                        .labels
                        .get(labels::CONTAINER_NAME)
                        .cloned()
                        .unwrap_or_default();
                    async move {
                        if let Some(pod) = pod {
                            self.event(
                                pod,
                                Some(&name),
                                EventType::Normal,
                                events::KILLING,
                                events::killing(&name),
                            )
                            .await;
                        }
                        if let Err(err) = self.cri().stop_container(&c.id, grace).await {
                            tracing::warn!(container = %c.id, %err, "could not stop container");
                        }
                    }
                });
            futures::future::join_all(stops).await;
            if let Err(err) = self.cri().stop_pod_sandbox(&sandbox.id).await {
                tracing::warn!(sandbox = %sandbox.id, %err, "could not stop sandbox");
            }
            if let Err(err) = self.cri().remove_pod_sandbox(&sandbox.id).await {
                tracing::warn!(sandbox = %sandbox.id, %err, "could not remove sandbox");
            }
        }
    }
}

fn sandbox_view(status: Option<&cri_api::PodSandboxStatus>) -> SandboxView {
    let Some(status) = status else {
        return SandboxView::default();
    };
    let mut ips = Vec::new();
    if let Some(net) = &status.network {
        if !net.ip.is_empty() {
            ips.push(net.ip.clone());
        }
        ips.extend(
            net.additional_ips
                .iter()
                .map(|i| i.ip.clone())
                .filter(|ip| !ip.is_empty()),
        );
    }
    SandboxView {
        ready: status.state == cri_api::PodSandboxState::SandboxReady as i32,
        ips,
    }
}

pub fn instance(s: &cri_api::ContainerStatus) -> Instance {
    let state = match cri_api::ContainerState::try_from(s.state) {
        Ok(cri_api::ContainerState::ContainerCreated) => InstanceState::Created,
        Ok(cri_api::ContainerState::ContainerRunning) => InstanceState::Running,
        Ok(cri_api::ContainerState::ContainerExited) => InstanceState::Exited,
        _ => InstanceState::Unknown,
    };
    Instance {
        id: s.id.clone(),
        attempt: s.metadata.as_ref().map_or(0, |m| m.attempt),
        state,
        started_at: s.started_at,
        finished_at: s.finished_at,
        exit_code: s.exit_code,
        reason: s.reason.clone(),
        message: s.message.clone(),
        image_ref: s.image_ref.clone(),
    }
}
