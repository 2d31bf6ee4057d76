//! Rolling-update arithmetic (upstream's deployment util): how far the new ReplicaSet may grow
//! and how far the old ones may shrink without breaking maxSurge / maxUnavailable.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub fn desired_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn is_recreate(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

/// Resolves an int-or-percent against `total`, rounding percentages up or down.
pub fn resolve(
    value: Option<&IntOrString>,
    default_percent: i32,
    total: i32,
    round_up: bool,
) -> i32 {
    let percent = |p: i32| {
        let scaled = i64::from(p) * i64::from(total);
        let v = if round_up {
            (scaled + 99).div_euclid(100)
        } else {
            scaled.div_euclid(100)
        };
        i32::try_from(v).unwrap_or(i32::MAX)
    };
    match value {
        None => percent(default_percent),
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            match s.strip_suffix('%').and_then(|p| p.parse::<i32>().ok()) {
                Some(p) => percent(p),
                None => s.parse().unwrap_or(0),
            }
        }
    }
}

/// (maxSurge, maxUnavailable) as upstream's `ResolveFenceposts`: both zero is not allowed, so
/// maxUnavailable becomes 1.
pub fn fenceposts(d: &Deployment) -> (i32, i32) {
    let replicas = desired_replicas(d);
    let rolling = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = resolve(
        rolling.and_then(|r| r.max_surge.as_ref()),
        25,
        replicas,
        true,
    );
    let unavailable = resolve(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        25,
        replicas,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

pub fn max_surge(d: &Deployment) -> i32 {
    if is_recreate(d) { 0 } else { fenceposts(d).0 }
}

pub fn max_unavailable(d: &Deployment) -> i32 {
    if is_recreate(d) {
        return 0;
    }
    fenceposts(d).1.min(desired_replicas(d))
}

pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// The size the new ReplicaSet may have now (upstream's `NewRSNewReplicas`).
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs_replicas: i32) -> i32 {
    let replicas = desired_replicas(d);
    if is_recreate(d) {
        return replicas;
    }
    let current: i32 = all.iter().map(|rs| spec_replicas(rs)).sum();
    let max_total = replicas + max_surge(d);
    if current >= max_total {
        return new_rs_replicas;
    }
    let scale_up = max_total - current;
    (new_rs_replicas + scale_up).min(replicas)
}

/// How to shrink the old ReplicaSets for a rolling update: `(index into old, new size)`.
/// First unhealthy replicas go (they do not count towards availability), then available ones
/// while at least `replicas - maxUnavailable` stay available.
pub fn scale_down_old(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old: &[&ReplicaSet],
) -> Vec<(usize, i32)> {
    let old_count: i32 = old.iter().map(|rs| spec_replicas(rs)).sum();
    if old_count == 0 {
        return Vec::new();
    }
    let all_count = old_count + new_rs.map(spec_replicas).unwrap_or(0);
    let min_available = desired_replicas(d) - max_unavailable(d);
    let new_unavailable = new_rs
        .map(|rs| spec_replicas(rs) - available(rs))
        .unwrap_or(0);
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut sizes: Vec<i32> = old.iter().map(|rs| spec_replicas(rs)).collect();
    let mut order: Vec<usize> = (0..old.len()).collect();
    order.sort_by_key(|&i| {
        old[i]
            .metadata
            .creation_timestamp
            .as_ref()
            .map(crate::time::to_chrono)
    });

    // Unhealthy replicas of old sets, oldest set first.
    let mut budget = max_scaled_down;
    for &i in &order {
        if budget <= 0 {
            break;
        }
        let unhealthy = sizes[i] - available(old[i]);
        if sizes[i] == 0 || unhealthy <= 0 {
            continue;
        }
        let cut = unhealthy.min(budget);
        sizes[i] -= cut;
        budget -= cut;
    }
    let cleaned = max_scaled_down - budget;

    // Then available replicas, while availability stays above the minimum.
    let available_all: i32 =
        old.iter().map(|rs| available(rs)).sum::<i32>() + new_rs.map(available).unwrap_or(0);
    if available_all > min_available {
        let mut remaining = (available_all - min_available).min(max_scaled_down - cleaned);
        for &i in &order {
            if remaining <= 0 {
                break;
            }
            if sizes[i] == 0 {
                continue;
            }
            let cut = sizes[i].min(remaining);
            sizes[i] -= cut;
            remaining -= cut;
        }
    }
    order
        .into_iter()
        .filter(|&i| sizes[i] != spec_replicas(old[i]))
        .map(|i| (i, sizes[i]))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, ReplicaSetStatus,
        RollingUpdateDeployment,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn deployment(
        replicas: i32,
        surge: Option<IntOrString>,
        unavailable: Option<IntOrString>,
    ) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: surge,
                        max_unavailable: unavailable,
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn rs(name: &str, replicas: i32, available: i32, age: i64) -> ReplicaSet {
        let t0 = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(crate::time::from_chrono(
                    t0 + chrono::Duration::seconds(age),
                )),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas,
                available_replicas: Some(available),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn default_fenceposts_are_25_percent() {
        let d = deployment(3, None, None);
        // 25% of 3: surge rounds up to 1, unavailable rounds down to 0.
        assert_eq!(fenceposts(&d), (1, 0));
        let d = deployment(10, None, None);
        assert_eq!(fenceposts(&d), (3, 2));
        let d = deployment(4, Some(IntOrString::Int(0)), Some(IntOrString::Int(0)));
        assert_eq!(fenceposts(&d), (0, 1));
        let d = deployment(
            10,
            Some(IntOrString::String("50%".into())),
            Some(IntOrString::Int(3)),
        );
        assert_eq!(fenceposts(&d), (5, 3));
    }

    #[test]
    fn new_rs_grows_within_surge() {
        let d = deployment(3, None, None);
        let old = rs("old", 3, 3, 0);
        // Fresh deployment: new RS goes straight to 3.
        assert_eq!(new_rs_new_replicas(&d, &[], 0), 3);
        // During a rollout with 3 old: only one surge pod.
        assert_eq!(new_rs_new_replicas(&d, &[&old], 0), 1);
        let new = rs("new", 1, 0, 10);
        assert_eq!(new_rs_new_replicas(&d, &[&old, &new], 1), 1);
    }

    #[test]
    fn old_scale_down_keeps_min_available() {
        let d = deployment(3, None, None);
        let old = rs("old", 3, 3, 0);
        // New RS has 1 replica, not yet available: nothing may go (min available is 3).
        let new = rs("new", 1, 0, 10);
        assert!(scale_down_old(&d, Some(&new), &[&old]).is_empty());
        // New replica available: one old replica may go.
        let new = rs("new", 1, 1, 10);
        assert_eq!(scale_down_old(&d, Some(&new), &[&old]), vec![(0, 2)]);
    }

    #[test]
    fn unhealthy_old_replicas_go_first() {
        let d = deployment(4, None, None); // surge 1, unavailable 1
        let old = rs("old", 4, 1, 0);
        let new = rs("new", 1, 0, 10);
        // all=5, min available=3, new unavailable=1 -> may scale down 1, from the unhealthy ones.
        assert_eq!(scale_down_old(&d, Some(&new), &[&old]), vec![(0, 3)]);
    }
}
