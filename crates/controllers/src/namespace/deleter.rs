//! Deletes everything inside a terminating namespace, as upstream's
//! `namespacedResourcesDeleter`: pods first (ordered namespace deletion, on by default in
//! 1.33), then every other namespaced kind discovered through the API; then reports what is
//! left in the namespace's conditions.

use std::collections::BTreeMap;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};

use super::conditions::{self, Findings};
use crate::discovery::{self, Discovered};
use crate::runtime::is_status;

/// How long to allow for finalizers on remaining content (upstream's estimate).
const FINALIZER_ESTIMATE_SECONDS: i64 = 15;

/// The result of one pass over a namespace's content.
#[derive(Debug, Default)]
pub struct Pass {
    /// Seconds the remaining content is expected to take; 0 when nothing is left to wait for.
    pub estimate: i64,
    /// Errors met (deletion failures, unexpected leftovers, discovery failures).
    pub errors: Vec<String>,
    /// The conditions to report.
    pub findings: Findings,
}

/// What deleting one resource left behind.
#[derive(Debug, Default, PartialEq)]
pub struct ResourceOutcome {
    pub estimate: i64,
    pub remaining: usize,
    pub finalizers: BTreeMap<String, usize>,
}

/// Judges what is left of one resource after its deletion was requested (upstream's rules:
/// a grace-period estimate wins; finalizers get a default estimate; anything else left over
/// is unexpected). `leftover` holds the finalizers of each remaining item.
pub fn judge_leftovers(
    estimate: i64,
    leftover: &[Vec<String>],
) -> (ResourceOutcome, bool /* unexpected */) {
    if leftover.is_empty() {
        return (ResourceOutcome::default(), false);
    }
    let mut finalizers = BTreeMap::new();
    for item in leftover {
        for f in item {
            *finalizers.entry(f.clone()).or_insert(0) += 1;
        }
    }
    let remaining = leftover.len();
    if estimate != 0 {
        return (
            ResourceOutcome {
                estimate,
                remaining,
                finalizers,
            },
            false,
        );
    }
    if !finalizers.is_empty() {
        return (
            ResourceOutcome {
                estimate: FINALIZER_ESTIMATE_SECONDS,
                remaining,
                finalizers,
            },
            false,
        );
    }
    (
        ResourceOutcome {
            estimate,
            remaining,
            finalizers,
        },
        true,
    )
}

/// The grace period still to wait for pods: the longest of the non-terminal pods, or 0 once
/// that much time has passed since the namespace's deletion.
pub fn pod_estimate(pods: &[Pod], elapsed_seconds: i64) -> i64 {
    let estimate = pods
        .iter()
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            phase != Some("Succeeded") && phase != Some("Failed")
        })
        .filter_map(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .max()
        .unwrap_or(0);
    if elapsed_seconds >= estimate {
        0
    } else {
        estimate
    }
}

/// apimachinery's `GroupVersionResource.String()`.
fn gvr_string(r: &ApiResource) -> String {
    format!("{}/{}, Resource={}", r.group, r.version, r.plural)
}

fn error_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// 405 or 404: the server does not offer the operation for this resource after all.
fn not_supported(err: &kube::Error) -> bool {
    is_status(err, 405) || is_status(err, 404)
}

/// Deletes all objects of one resource in `ns` and reports what remains.
async fn delete_resource(
    client: &kube::Client,
    r: &Discovered,
    ns: &str,
    deleted_at: &Time,
) -> Result<ResourceOutcome, (ResourceOutcome, String)> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &r.resource);
    let mut estimate = 0;
    if r.resource.group.is_empty() && r.resource.plural == "pods" {
        let pods = Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .map_err(|e| (ResourceOutcome::default(), error_text(&e)))?;
        let elapsed = (Utc::now() - crate::time::to_chrono(deleted_at)).num_seconds();
        estimate = pod_estimate(&pods.items, elapsed);
    }
    let failed = |e: &kube::Error| {
        (
            ResourceOutcome {
                estimate,
                ..Default::default()
            },
            error_text(e),
        )
    };
    let background = DeleteParams::background();
    let mut collection_done = false;
    if r.supports("deletecollection") {
        match api
            .delete_collection(&background, &ListParams::default())
            .await
        {
            Ok(_) => collection_done = true,
            Err(e) if not_supported(&e) => {}
            Err(e) => return Err(failed(&e)),
        }
    }
    if !r.supports("list") {
        return Ok(ResourceOutcome {
            estimate,
            ..Default::default()
        });
    }
    if !collection_done {
        let items = match api.list_metadata(&ListParams::default()).await {
            Ok(l) => l.items,
            Err(e) if not_supported(&e) => return Ok(ResourceOutcome::default()),
            Err(e) => return Err(failed(&e)),
        };
        for item in items {
            let name = item.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &background).await {
                Ok(_) => {}
                Err(e) if not_supported(&e) => {}
                Err(e) => return Err(failed(&e)),
            }
        }
    }
    let left = match api.list_metadata(&ListParams::default()).await {
        Ok(l) => l.items,
        Err(e) if not_supported(&e) => return Ok(ResourceOutcome::default()),
        Err(e) => return Err(failed(&e)),
    };
    let leftover: Vec<Vec<String>> = left
        .iter()
        .map(|i| i.metadata.finalizers.clone().unwrap_or_default())
        .collect();
    let (outcome, unexpected) = judge_leftovers(estimate, &leftover);
    if unexpected {
        let msg = format!(
            "unexpected items still remain in namespace: {ns} for gvr: {}",
            gvr_string(&r.resource)
        );
        return Err((outcome, msg));
    }
    Ok(outcome)
}

fn is_pods(r: &Discovered) -> bool {
    r.resource.group.is_empty() && r.resource.plural == "pods"
}

/// One deletion pass over the namespace's content.
pub async fn delete_all_content(client: &kube::Client, ns: &Namespace) -> Pass {
    let name = ns.metadata.name.clone().unwrap_or_default();
    let deleted_at = ns
        .metadata
        .deletion_timestamp
        .clone()
        .unwrap_or_else(|| crate::time::from_chrono(Utc::now()));
    let mut pass = Pass::default();
    let discovered = match discovery::discover(client).await {
        Ok(d) => d,
        Err(e) => {
            let msg = error_text(&e);
            pass.errors.push(msg.clone());
            pass.findings.discovery_error = Some(msg);
            discovery::Discovery::default()
        }
    };
    if let Some(msg) = discovered.failure_message() {
        pass.errors.push(msg.clone());
        pass.findings.discovery_error = Some(conditions::groups_failed_message(
            discovered.failed.len(),
            &msg,
        ));
    }
    if let Some(msg) = discovered.parse_failure_message() {
        pass.errors.push(msg.clone());
        pass.findings.group_version_error = Some(msg);
    }
    let deletable: Vec<&Discovered> = discovered
        .resources
        .iter()
        .filter(|r| r.namespaced && r.supports("delete"))
        .collect();
    // Pods go first, and nothing else is touched while any remain: the rest of the
    // namespace (network policies, secrets, ...) may still be protecting them.
    let (pods, rest): (Vec<&Discovered>, Vec<&Discovered>) =
        deletable.into_iter().partition(|r| is_pods(r));
    for r in pods {
        apply(
            &mut pass,
            r,
            delete_resource(client, r, &name, &deleted_at).await,
        );
    }
    if pass.findings.remaining.is_empty() {
        for r in rest {
            apply(
                &mut pass,
                r,
                delete_resource(client, r, &name, &deleted_at).await,
            );
        }
    }
    pass
}

fn apply(
    pass: &mut Pass,
    r: &Discovered,
    result: Result<ResourceOutcome, (ResourceOutcome, String)>,
) {
    let outcome = match result {
        Ok(o) => o,
        Err((o, msg)) => {
            pass.errors.push(msg.clone());
            pass.findings.content_errors.push(msg);
            o
        }
    };
    pass.estimate = pass.estimate.max(outcome.estimate);
    if outcome.remaining > 0 {
        // Upstream prints "resource.group" (so core resources end with a dot).
        let key = format!("{}.{}", r.resource.plural, r.resource.group);
        *pass.findings.remaining.entry(key).or_insert(0) += outcome.remaining;
        for (f, n) in outcome.finalizers {
            *pass.findings.finalizers.entry(f).or_insert(0) += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};

    fn pod(grace: Option<i64>, phase: &str) -> Pod {
        Pod {
            spec: Some(PodSpec {
                termination_grace_period_seconds: grace,
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_estimate_is_the_longest_grace_until_it_has_passed() {
        let pods = [
            pod(Some(30), "Running"),
            pod(Some(90), "Succeeded"),
            pod(Some(5), "Pending"),
        ];
        assert_eq!(pod_estimate(&pods, 0), 30);
        assert_eq!(pod_estimate(&pods, 29), 30);
        assert_eq!(pod_estimate(&pods, 30), 0);
        assert_eq!(pod_estimate(&[], 0), 0);
    }

    #[test]
    fn leftovers_are_judged_as_upstream() {
        assert_eq!(judge_leftovers(0, &[]), (ResourceOutcome::default(), false));
        // Pods in their grace period: wait for the estimate.
        let (o, unexpected) = judge_leftovers(30, &[vec![], vec![]]);
        assert_eq!((o.estimate, o.remaining, unexpected), (30, 2, false));
        // Finalizers: default estimate, counted per finalizer.
        let (o, unexpected) =
            judge_leftovers(0, &[vec!["a/b".into()], vec!["a/b".into(), "c".into()]]);
        assert_eq!((o.estimate, o.remaining, unexpected), (15, 2, false));
        assert_eq!(o.finalizers.get("a/b"), Some(&2));
        assert_eq!(o.finalizers.get("c"), Some(&1));
        // Nothing explains the leftover: an error.
        let (o, unexpected) = judge_leftovers(0, &[vec![]]);
        assert_eq!((o.estimate, o.remaining, unexpected), (0, 1, true));
    }

    #[test]
    fn remaining_resources_are_keyed_resource_dot_group() {
        let r = Discovered {
            resource: ApiResource {
                group: String::new(),
                version: "v1".into(),
                api_version: "v1".into(),
                kind: "Pod".into(),
                plural: "pods".into(),
            },
            namespaced: true,
            verbs: vec![],
        };
        let mut pass = Pass::default();
        apply(
            &mut pass,
            &r,
            Ok(ResourceOutcome {
                estimate: 30,
                remaining: 2,
                finalizers: BTreeMap::new(),
            }),
        );
        assert_eq!(pass.estimate, 30);
        assert_eq!(pass.findings.remaining.get("pods."), Some(&2));
        assert_eq!(gvr_string(&r.resource), "/v1, Resource=pods");
    }
}
