//! Deployment status and its Available / Progressing conditions, as upstream computes them.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

use super::rollout;

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";

pub fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_update_time: Some(crate::time::from_chrono(now)),
        last_transition_time: Some(crate::time::from_chrono(now)),
    }
}

pub fn get<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

pub fn remove(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conds) = status.conditions.as_mut() {
        conds.retain(|c| c.type_ != type_);
    }
}

/// Upstream's `SetDeploymentCondition`: no-op when status and reason are unchanged; keeps the
/// transition time when only the reason changes; the condition moves to the end.
pub fn set(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(current) = get(status, &cond.type_) {
        if current.status == cond.status && current.reason == cond.reason {
            return;
        }
        if current.status == cond.status {
            cond.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove(status, &cond.type_);
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

fn sum(rss: &[&ReplicaSet], f: impl Fn(&ReplicaSet) -> i32) -> i32 {
    rss.iter().map(|rs| f(rs)).sum()
}

/// The new status (upstream's `calculateStatus` + `syncRolloutStatus`). `status` carries the
/// conditions set earlier in this sync (e.g. NewReplicaSetCreated).
pub fn compute(
    d: &Deployment,
    conditions_from: &DeploymentStatus,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: DateTime<Utc>,
) -> DeploymentStatus {
    let replicas = rollout::desired_replicas(d);
    let actual = |rs: &ReplicaSet| rs.status.as_ref().map(|s| s.replicas).unwrap_or(0);
    let ready = |rs: &ReplicaSet| {
        rs.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    };
    let available = sum(all, rollout::available);
    let total = sum(all, rollout::spec_replicas);
    let non_zero = |n: i32| (n != 0).then_some(n);
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: non_zero(sum(all, actual)),
        updated_replicas: non_zero(new_rs.map(actual).unwrap_or(0)),
        ready_replicas: non_zero(sum(all, ready)),
        available_replicas: non_zero(available),
        unavailable_replicas: non_zero((total - available).max(0)),
        collision_count: d.status.as_ref().and_then(|s| s.collision_count),
        conditions: conditions_from.conditions.clone(),
        terminating_replicas: None,
    };
    if available >= replicas - rollout::max_unavailable(d) {
        set(
            &mut status,
            condition(
                AVAILABLE,
                true,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set(
            &mut status,
            condition(
                AVAILABLE,
                false,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }

    let deadline = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds);
    let Some(deadline) = deadline else {
        remove(&mut status, PROGRESSING);
        return status;
    };
    let old = d.status.clone().unwrap_or_default();
    let current = get(&status, PROGRESSING).cloned();
    let updated = status.updated_replicas.unwrap_or(0);
    let complete_already = status.replicas.unwrap_or(0) == updated
        && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(NEW_RS_AVAILABLE);
    if complete_already {
        return status;
    }
    let rs_name = new_rs
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_default();
    let complete = updated == replicas
        && status.replicas.unwrap_or(0) == replicas
        && available == replicas
        && status.observed_generation >= d.metadata.generation;
    let old_replicas =
        |s: &DeploymentStatus| s.replicas.unwrap_or(0) - s.updated_replicas.unwrap_or(0);
    let progressing = updated > old.updated_replicas.unwrap_or(0)
        || old_replicas(&status) < old_replicas(&old)
        || status.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || available > old.available_replicas.unwrap_or(0);
    if complete {
        if new_rs.is_some() {
            let msg = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
            set(
                &mut status,
                condition(PROGRESSING, true, NEW_RS_AVAILABLE, msg, now),
            );
        }
    } else if progressing {
        if new_rs.is_some() {
            let msg = format!("ReplicaSet \"{rs_name}\" is progressing.");
            let mut cond = condition(PROGRESSING, true, "ReplicaSetUpdated", msg, now);
            if let Some(c) = current.as_ref().filter(|c| c.status == "True") {
                cond.last_transition_time = c.last_transition_time.clone();
            }
            remove(&mut status, PROGRESSING);
            set(&mut status, cond);
        }
    } else if let Some(c) = current.as_ref() {
        let from = c.last_update_time.as_ref().map(crate::time::to_chrono);
        let timed_out = c.reason.as_deref() != Some("ProgressDeadlineExceeded")
            && from.is_some_and(|f| f + chrono::Duration::seconds(i64::from(deadline)) < now);
        if timed_out && new_rs.is_some() {
            let msg = format!("ReplicaSet \"{rs_name}\" has timed out progressing.");
            set(
                &mut status,
                condition(PROGRESSING, false, "ProgressDeadlineExceeded", msg, now),
            );
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::super::rollout::tests::{deployment, rs};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn available_and_complete() {
        let mut d = deployment(3, None, None);
        d.metadata = ObjectMeta {
            generation: Some(1),
            ..Default::default()
        };
        if let Some(spec) = d.spec.as_mut() {
            spec.progress_deadline_seconds = Some(600);
        }
        let new = rs("demo-abc", 3, 3, 0);
        let now = Utc::now();
        let status = compute(&d, &DeploymentStatus::default(), &[&new], Some(&new), now);
        assert_eq!(status.replicas, Some(3));
        assert_eq!(status.available_replicas, Some(3));
        assert_eq!(status.unavailable_replicas, None);
        let avail = get(&status, AVAILABLE).cloned().unwrap_or_default();
        assert_eq!(avail.status, "True");
        assert_eq!(
            avail.message.as_deref(),
            Some("Deployment has minimum availability.")
        );
        let prog = get(&status, PROGRESSING).cloned().unwrap_or_default();
        assert_eq!(prog.reason.as_deref(), Some(NEW_RS_AVAILABLE));
        assert_eq!(
            prog.message.as_deref(),
            Some("ReplicaSet \"demo-abc\" has successfully progressed.")
        );
    }

    #[test]
    fn unavailable_when_pods_not_ready() {
        let d = deployment(3, None, None);
        let new = rs("demo-abc", 3, 0, 0);
        let status = compute(
            &d,
            &DeploymentStatus::default(),
            &[&new],
            Some(&new),
            Utc::now(),
        );
        let avail = get(&status, AVAILABLE).cloned().unwrap_or_default();
        assert_eq!(avail.status, "False");
        assert_eq!(avail.reason.as_deref(), Some("MinimumReplicasUnavailable"));
        assert_eq!(status.unavailable_replicas, Some(3));
    }

    #[test]
    fn set_keeps_transition_time_on_same_status() {
        let t1 = Utc::now();
        let t2 = t1 + chrono::Duration::seconds(5);
        let mut s = DeploymentStatus::default();
        set(
            &mut s,
            condition(PROGRESSING, true, "NewReplicaSetCreated", "a".into(), t1),
        );
        set(
            &mut s,
            condition(PROGRESSING, true, NEW_RS_AVAILABLE, "b".into(), t2),
        );
        let c = get(&s, PROGRESSING).cloned().unwrap_or_default();
        assert_eq!(c.last_transition_time, Some(crate::time::from_chrono(t1)));
        assert_eq!(c.last_update_time, Some(crate::time::from_chrono(t2)));
    }
}
