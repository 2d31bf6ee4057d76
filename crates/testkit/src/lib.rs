//! testkit: everything end-to-end tests need around a real k8rs cluster — the test images
//! (OCI archives built offline), a local plain-HTTP registry, a pinned-version kubectl
//! runner, the cluster fixture, and small helpers for polling, HTTP and host inspection.

pub mod cluster;
pub mod error;
pub mod host;
pub mod http;
pub mod images;
pub mod known_failures;
pub mod kubectl;
pub mod oci;
pub mod operator;
pub mod pods;
pub mod registry;
pub mod wait;

#[cfg(test)]
mod containerd_tests;

pub use cluster::{Cluster, ClusterOptions};
pub use error::{Error, Result};
pub use images::{DEMO_IMAGE, PAUSE_IMAGE, demo_image, pause_image};
pub use kubectl::{Kubectl, Output};
pub use oci::OciImage;
pub use wait::wait_for;
