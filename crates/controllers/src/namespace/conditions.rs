//! The status conditions the namespace deleter keeps on a terminating namespace, with
//! upstream's types, reasons and messages (`NamespaceConditionUpdater`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::NamespaceCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
pub const GV_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
pub const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
pub const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
pub const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// Every condition type the deleter owns, in the order it writes them.
const TYPES: [&str; 5] = [
    DISCOVERY_FAILURE,
    GV_PARSING_FAILURE,
    CONTENT_FAILURE,
    CONTENT_REMAINING,
    FINALIZERS_REMAINING,
];

/// The "everything is fine" (status False) reason and message of each type.
fn ok_variant(type_: &str) -> (&'static str, &'static str) {
    match type_ {
        DISCOVERY_FAILURE => (
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        GV_PARSING_FAILURE => (
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        CONTENT_FAILURE => (
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        CONTENT_REMAINING => ("ContentRemoved", "All content successfully removed"),
        _ => (
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ),
    }
}

/// The discovery failure message when some groups failed (client-go's
/// `ErrGroupDiscoveryFailed`); other discovery errors are reported as they are.
pub fn groups_failed_message(failed: usize, err: &str) -> String {
    format!("Discovery failed for some groups, {failed} failing: {err}")
}

/// What one pass of the deleter observed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Findings {
    /// The discovery failure condition message, if discovery was incomplete (see
    /// [`groups_failed_message`]).
    pub discovery_error: Option<String>,
    /// The group version parsing failure message, if any.
    pub group_version_error: Option<String>,
    /// Errors deleting content, one per resource.
    pub content_errors: Vec<String>,
    /// "resource.group" → instances left.
    pub remaining: BTreeMap<String, usize>,
    /// finalizer → instances carrying it.
    pub finalizers: BTreeMap<String, usize>,
}

/// The failing (status True) conditions the findings call for.
fn failing(f: &Findings) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    if let Some(msg) = &f.discovery_error {
        out.push((DISCOVERY_FAILURE, "DiscoveryFailed", msg.clone()));
    }
    if let Some(msg) = &f.group_version_error {
        out.push((GV_PARSING_FAILURE, "GroupVersionParsingFailed", msg.clone()));
    }
    if !f.content_errors.is_empty() {
        let mut msgs = f.content_errors.clone();
        msgs.sort();
        out.push((
            CONTENT_FAILURE,
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                msgs.len(),
                msgs.join(", ")
            ),
        ));
    }
    let remaining: Vec<String> = f
        .remaining
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| format!("{r} has {n} resource instances"))
        .collect();
    if !remaining.is_empty() {
        out.push((
            CONTENT_REMAINING,
            "SomeResourcesRemain",
            format!(
                "Some resources are remaining: {}",
                sorted(remaining).join(", ")
            ),
        ));
    }
    let finalizers: Vec<String> = f
        .finalizers
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(fin, n)| format!("{fin} in {n} resource instances"))
        .collect();
    if !finalizers.is_empty() {
        out.push((
            FINALIZERS_REMAINING,
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                sorted(finalizers).join(", ")
            ),
        ));
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Applies the findings to `conditions`; true if anything changed. A condition's transition
/// time moves only when its status flips.
pub fn update(conditions: &mut Vec<NamespaceCondition>, findings: &Findings, now: &Time) -> bool {
    let failing = failing(findings);
    let mut changed = false;
    for type_ in TYPES {
        let (status, reason, message) = match failing.iter().find(|c| c.0 == type_) {
            Some((_, reason, message)) => ("True", *reason, message.clone()),
            None => {
                let (reason, message) = ok_variant(type_);
                ("False", reason, message.to_string())
            }
        };
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            None => {
                conditions.push(NamespaceCondition {
                    type_: type_.to_string(),
                    status: status.to_string(),
                    reason: Some(reason.to_string()),
                    message: Some(message),
                    last_transition_time: Some(now.clone()),
                });
                changed = true;
            }
            Some(old) => {
                if old.status != status
                    || old.reason.as_deref() != Some(reason)
                    || old.message.as_deref() != Some(message.as_str())
                {
                    if old.status != status {
                        old.last_transition_time = Some(now.clone());
                    }
                    old.status = status.to_string();
                    old.reason = Some(reason.to_string());
                    old.message = Some(message);
                    changed = true;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        crate::time::from_chrono(chrono::Utc::now())
    }

    fn get<'a>(c: &'a [NamespaceCondition], t: &str) -> &'a NamespaceCondition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn remaining_content_and_finalizers_are_reported_with_upstream_wording() {
        let mut f = Findings::default();
        f.remaining.insert("pods.".into(), 2);
        f.remaining.insert("configmaps.".into(), 1);
        f.finalizers.insert("xyz.xyz/xyz-finalizer".into(), 1);
        let mut c = Vec::new();
        assert!(update(&mut c, &f, &now()));
        assert_eq!(c.len(), 5);
        let r = get(&c, CONTENT_REMAINING);
        assert_eq!(r.status, "True");
        assert_eq!(r.reason.as_deref(), Some("SomeResourcesRemain"));
        assert_eq!(
            r.message.as_deref(),
            Some(
                "Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances"
            )
        );
        let fr = get(&c, FINALIZERS_REMAINING);
        assert_eq!(fr.reason.as_deref(), Some("SomeFinalizersRemain"));
        assert_eq!(
            fr.message.as_deref(),
            Some(
                "Some content in the namespace has finalizers remaining: xyz.xyz/xyz-finalizer in 1 resource instances"
            )
        );
        let d = get(&c, DISCOVERY_FAILURE);
        assert_eq!(d.status, "False");
        assert_eq!(d.reason.as_deref(), Some("ResourcesDiscovered"));
        assert_eq!(
            get(&c, GV_PARSING_FAILURE).reason.as_deref(),
            Some("ParsedGroupVersions")
        );
        assert_eq!(
            get(&c, CONTENT_FAILURE).message.as_deref(),
            Some("All content successfully deleted, may be waiting on finalization")
        );
    }

    #[test]
    fn resolved_conditions_flip_to_false_and_unchanged_is_no_update() {
        let mut f = Findings::default();
        f.remaining.insert("pods.".into(), 1);
        f.content_errors.push("boom".into());
        let mut c = Vec::new();
        update(&mut c, &f, &now());
        assert_eq!(
            get(&c, CONTENT_FAILURE).message.as_deref(),
            Some("Failed to delete all resource types, 1 remaining: boom")
        );
        let done = Findings::default();
        assert!(update(&mut c, &done, &now()));
        let r = get(&c, CONTENT_REMAINING);
        assert_eq!(r.status, "False");
        assert_eq!(r.reason.as_deref(), Some("ContentRemoved"));
        assert_eq!(
            r.message.as_deref(),
            Some("All content successfully removed")
        );
        assert_eq!(
            get(&c, FINALIZERS_REMAINING).reason.as_deref(),
            Some("ContentHasNoFinalizers")
        );
        assert_eq!(
            get(&c, CONTENT_FAILURE).reason.as_deref(),
            Some("ContentDeleted")
        );
        assert!(!update(&mut c, &done, &now()));
    }

    #[test]
    fn discovery_failures_are_counted() {
        let f = Findings {
            discovery_error: Some(groups_failed_message(
                2,
                "unable to retrieve the complete list of server APIs: a/v1: x, b/v1: y",
            )),
            ..Default::default()
        };
        let mut c = Vec::new();
        update(&mut c, &f, &now());
        let d = get(&c, DISCOVERY_FAILURE);
        assert_eq!(d.status, "True");
        assert_eq!(d.reason.as_deref(), Some("DiscoveryFailed"));
        assert!(
            d.message
                .as_deref()
                .unwrap()
                .starts_with("Discovery failed for some groups, 2 failing: ")
        );
    }
}
