//! Expectations: what this controller has just created or deleted and does not yet see in its
//! cache. Until the cache catches up the controller must not act again, or it would create
//! (or delete) the same pods twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;

/// Expectations older than this are dropped, as upstream's (5 minutes there; the in-process
/// cache here is much faster, so a shorter bound keeps a lost event from stalling a set).
const TTL: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Pending {
    creates: HashSet<String>,
    deletes: HashSet<String>,
    since: Option<Instant>,
}

#[derive(Default)]
pub struct Expectations {
    by_owner: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    pub fn expect_create(&self, owner: &str, pod: &str) {
        self.with(owner, |p| {
            p.creates.insert(pod.to_string());
        });
    }

    pub fn expect_delete(&self, owner: &str, pod: &str) {
        self.with(owner, |p| {
            p.deletes.insert(pod.to_string());
        });
    }

    fn with(&self, owner: &str, f: impl FnOnce(&mut Pending)) {
        if let Ok(mut map) = self.by_owner.lock() {
            let entry = map.entry(owner.to_string()).or_default();
            entry.since.get_or_insert_with(Instant::now);
            f(entry);
        }
    }

    /// Whether the cache (`seen`: the owner's pods as the cache has them) reflects every create
    /// and delete made; forgets those that it does.
    pub fn satisfied(&self, owner: &str, seen: &[Arc<Pod>]) -> bool {
        let Ok(mut map) = self.by_owner.lock() else {
            return true;
        };
        let Some(pending) = map.get_mut(owner) else {
            return true;
        };
        let present = |name: &str| {
            seen.iter()
                .find(|p| p.metadata.name.as_deref() == Some(name))
        };
        pending.creates.retain(|name| present(name).is_none());
        pending
            .deletes
            .retain(|name| present(name).is_some_and(|p| p.metadata.deletion_timestamp.is_none()));
        let expired = pending.since.is_some_and(|t| t.elapsed() > TTL);
        if expired || (pending.creates.is_empty() && pending.deletes.is_empty()) {
            map.remove(owner);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, deleting: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                deletion_timestamp: deleting.then(|| crate::time::from_chrono(chrono::Utc::now())),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    #[test]
    fn waits_for_creates_and_deletes_to_show() {
        let e = Expectations::default();
        assert!(e.satisfied("rs", &[]));
        e.expect_create("rs", "a");
        e.expect_delete("rs", "b");
        assert!(!e.satisfied("rs", &[pod("b", false)]));
        assert!(!e.satisfied("rs", &[pod("a", false), pod("b", false)]));
        assert!(e.satisfied("rs", &[pod("a", false), pod("b", true)]));
        assert!(e.satisfied("other", &[]));
    }
}
