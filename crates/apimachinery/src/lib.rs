//! The object model on top of k8s-openapi: resource registry, metadata rules, selectors,
//! `Status` errors, Tables, and client-side helpers shared by every component.

pub mod convert;
pub mod crd;
pub mod defaults;
pub mod events;
pub mod fieldmanager;
mod kinds;
pub mod openapi;
pub mod protobuf;
pub mod registry;
pub mod schema;
pub mod selector;
pub mod status;
pub mod strategic;
pub mod table;
pub mod typed;
pub mod validate;
pub mod validation;
