//! A thin typed wrapper over the CRI v1 gRPC clients on a unix socket.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use k8s_cri::v1 as api;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};

pub use k8s_cri::v1::{
    Container, ContainerConfig, ContainerState, ContainerStatus, Image, PodSandbox,
    PodSandboxConfig, PodSandboxState, PodSandboxStatus, VersionResponse,
};

#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("connecting to CRI socket {path}: {source}")]
    Connect {
        path: String,
        source: tonic::transport::Error,
    },
    #[error("CRI {call}: {status}")]
    Call {
        call: &'static str,
        status: Box<tonic::Status>,
    },
}

impl CriError {
    fn call(call: &'static str) -> impl FnOnce(tonic::Status) -> CriError {
        move |status| CriError::Call {
            call,
            status: Box::new(status),
        }
    }

    /// The gRPC code of a failed call (NotFound lets cleanup be idempotent).
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            CriError::Call { status, .. } => Some(status.code()),
            CriError::Connect { .. } => None,
        }
    }

    /// The runtime's own message, without the gRPC framing.
    pub fn message(&self) -> String {
        match self {
            CriError::Call { status, .. } => status.message().to_string(),
            other => other.to_string(),
        }
    }
}

#[derive(Clone)]
pub struct CriClient {
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
}

impl CriClient {
    /// Connects lazily-reconnecting channels to the unix socket.
    pub async fn connect(socket: &Path) -> Result<CriClient, CriError> {
        let path: PathBuf = socket.to_path_buf();
        let display = path.display().to_string();
        // The URI is required by tonic but ignored: the connector always dials the socket.
        let channel = Endpoint::from_static("http://[::]:50051")
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(TokioIo::new(
                        tokio::net::UnixStream::connect(path).await?,
                    ))
                }
            }))
            .await
            .map_err(|source| CriError::Connect {
                path: display,
                source,
            })?;
        let runtime =
            RuntimeServiceClient::new(channel.clone()).max_decoding_message_size(64 * 1024 * 1024);
        let images = ImageServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
        Ok(CriClient { runtime, images })
    }

    pub async fn version(&mut self) -> Result<VersionResponse, CriError> {
        let req = api::VersionRequest {
            version: "v1".to_string(),
        };
        Ok(self
            .runtime
            .version(req)
            .await
            .map_err(CriError::call("Version"))?
            .into_inner())
    }

    pub async fn run_pod_sandbox(&mut self, config: PodSandboxConfig) -> Result<String, CriError> {
        let req = api::RunPodSandboxRequest {
            config: Some(config),
            runtime_handler: String::new(),
        };
        Ok(self
            .runtime
            .run_pod_sandbox(req)
            .await
            .map_err(CriError::call("RunPodSandbox"))?
            .into_inner()
            .pod_sandbox_id)
    }

    pub async fn stop_pod_sandbox(&mut self, id: &str) -> Result<(), CriError> {
        let req = api::StopPodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        };
        self.runtime
            .stop_pod_sandbox(req)
            .await
            .map_err(CriError::call("StopPodSandbox"))?;
        Ok(())
    }

    pub async fn remove_pod_sandbox(&mut self, id: &str) -> Result<(), CriError> {
        let req = api::RemovePodSandboxRequest {
            pod_sandbox_id: id.to_string(),
        };
        self.runtime
            .remove_pod_sandbox(req)
            .await
            .map_err(CriError::call("RemovePodSandbox"))?;
        Ok(())
    }

    pub async fn pod_sandbox_status(
        &mut self,
        id: &str,
    ) -> Result<Option<PodSandboxStatus>, CriError> {
        let req = api::PodSandboxStatusRequest {
            pod_sandbox_id: id.to_string(),
            verbose: false,
        };
        Ok(self
            .runtime
            .pod_sandbox_status(req)
            .await
            .map_err(CriError::call("PodSandboxStatus"))?
            .into_inner()
            .status)
    }

    /// Sandboxes carrying all of `labels` (empty = all).
    pub async fn list_pod_sandboxes(
        &mut self,
        labels: HashMap<String, String>,
    ) -> Result<Vec<PodSandbox>, CriError> {
        let filter = api::PodSandboxFilter {
            label_selector: labels,
            ..Default::default()
        };
        let req = api::ListPodSandboxRequest {
            filter: Some(filter),
        };
        Ok(self
            .runtime
            .list_pod_sandbox(req)
            .await
            .map_err(CriError::call("ListPodSandbox"))?
            .into_inner()
            .items)
    }

    pub async fn create_container(
        &mut self,
        sandbox_id: &str,
        config: ContainerConfig,
        sandbox_config: PodSandboxConfig,
    ) -> Result<String, CriError> {
        let req = api::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.to_string(),
            config: Some(config),
            sandbox_config: Some(sandbox_config),
        };
        Ok(self
            .runtime
            .create_container(req)
            .await
            .map_err(CriError::call("CreateContainer"))?
            .into_inner()
            .container_id)
    }

    pub async fn start_container(&mut self, id: &str) -> Result<(), CriError> {
        let req = api::StartContainerRequest {
            container_id: id.to_string(),
        };
        self.runtime
            .start_container(req)
            .await
            .map_err(CriError::call("StartContainer"))?;
        Ok(())
    }

    /// Stops with `timeout` seconds of grace before SIGKILL.
    pub async fn stop_container(&mut self, id: &str, timeout: i64) -> Result<(), CriError> {
        let req = api::StopContainerRequest {
            container_id: id.to_string(),
            timeout,
        };
        self.runtime
            .stop_container(req)
            .await
            .map_err(CriError::call("StopContainer"))?;
        Ok(())
    }

    pub async fn remove_container(&mut self, id: &str) -> Result<(), CriError> {
        let req = api::RemoveContainerRequest {
            container_id: id.to_string(),
        };
        self.runtime
            .remove_container(req)
            .await
            .map_err(CriError::call("RemoveContainer"))?;
        Ok(())
    }

    /// Containers of one sandbox (all sandboxes when `sandbox_id` is empty).
    pub async fn list_containers(&mut self, sandbox_id: &str) -> Result<Vec<Container>, CriError> {
        let filter = api::ContainerFilter {
            pod_sandbox_id: sandbox_id.to_string(),
            ..Default::default()
        };
        let req = api::ListContainersRequest {
            filter: Some(filter),
        };
        Ok(self
            .runtime
            .list_containers(req)
            .await
            .map_err(CriError::call("ListContainers"))?
            .into_inner()
            .containers)
    }

    pub async fn container_status(
        &mut self,
        id: &str,
    ) -> Result<Option<ContainerStatus>, CriError> {
        let req = api::ContainerStatusRequest {
            container_id: id.to_string(),
            verbose: false,
        };
        Ok(self
            .runtime
            .container_status(req)
            .await
            .map_err(CriError::call("ContainerStatus"))?
            .into_inner()
            .status)
    }

    /// The image if present on the node.
    pub async fn image_status(&mut self, image: &str) -> Result<Option<Image>, CriError> {
        let req = api::ImageStatusRequest {
            image: Some(image_spec(image)),
            verbose: false,
        };
        Ok(self
            .images
            .image_status(req)
            .await
            .map_err(CriError::call("ImageStatus"))?
            .into_inner()
            .image)
    }

    /// Pulls and returns the image reference (digest).
    pub async fn pull_image(
        &mut self,
        image: &str,
        sandbox_config: Option<PodSandboxConfig>,
    ) -> Result<String, CriError> {
        let req = api::PullImageRequest {
            image: Some(image_spec(image)),
            auth: None,
            sandbox_config,
        };
        Ok(self
            .images
            .pull_image(req)
            .await
            .map_err(CriError::call("PullImage"))?
            .into_inner()
            .image_ref)
    }
}

pub fn image_spec(image: &str) -> api::ImageSpec {
    api::ImageSpec {
        image: image.to_string(),
        ..Default::default()
    }
}
