//! apps/v1 workloads (and ReplicationController, which shares their shape).

use serde_json::Value;

use super::pod;
use super::util::{
    IMMUTABLE, arr_of, go_selector, go_string_map, has, int_of, int_or_percent, invalid_raw,
    is_zero_int_or_percent, label_selector, nonneg, obj_of, required_msg, same, str_of,
};
use crate::selector::{from_label_selector_json, labels_of};
use crate::status::Cause;

/// Selector required and non-empty, template labels matching it, template valid.
pub fn selector_and_template(
    spec: Option<&Value>,
    empty_msg: &str,
    restart: &[&str],
    causes: &mut Vec<Cause>,
) {
    let sel = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.is_null());
    match sel {
        None => causes.push(Cause::required("spec.selector")),
        Some(sel) => {
            label_selector(Some(sel), "spec.selector", causes);
            if obj_of(Some(sel), "matchLabels").is_none_or(|m| m.is_empty())
                && arr_of(Some(sel), "matchExpressions").is_empty()
            {
                causes.push(invalid_raw(
                    "spec.selector",
                    &go_selector(Some(sel)),
                    empty_msg,
                ));
            }
        }
    }
    template_matches(spec, sel, causes);
    let t = spec.and_then(|s| s.get("template"));
    pod::template(t, "spec.template", causes);
    restart_policy(t, restart, causes);
}

/// `selector` does not match template `labels` (a missing selector matches nothing).
pub fn template_matches(spec: Option<&Value>, sel: Option<&Value>, causes: &mut Vec<Cause>) {
    let t = spec.and_then(|s| s.get("template"));
    let tlabels = t
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    let matches = match sel {
        None => false,
        Some(sel) => match from_label_selector_json(sel) {
            Ok(s) => s.is_empty() || s.matches(&t.map(labels_of).unwrap_or_default()),
            Err(_) => {
                causes.push(invalid_raw(
                    "spec.selector",
                    &go_selector(Some(sel)),
                    "invalid label selector",
                ));
                true
            }
        },
    };
    if !matches {
        causes.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_string_map(tlabels),
            "`selector` does not match template `labels`",
        ));
    }
}

fn restart_policy(t: Option<&Value>, allowed: &[&str], causes: &mut Vec<Cause>) {
    let rp = str_of(t.and_then(|t| t.get("spec")), "restartPolicy");
    if !rp.is_empty() && !allowed.contains(&rp) {
        causes.push(Cause::not_supported(
            "spec.template.spec.restartPolicy",
            rp,
            allowed,
        ));
    }
}

fn active_deadline_forbidden(spec: Option<&Value>, causes: &mut Vec<Cause>) {
    let ts = spec
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"));
    if let Some(v) = ts
        .and_then(|t| t.get("activeDeadlineSeconds"))
        .filter(|v| !v.is_null())
    {
        causes.push(invalid_raw(
            "spec.template.spec.activeDeadlineSeconds",
            &v.to_string(),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
}

pub fn deployment(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    nonneg(spec, "replicas", "spec", causes);
    selector_and_template(
        spec,
        "empty selector is invalid for deployment",
        &["Always"],
        causes,
    );
    active_deadline_forbidden(spec, causes);
    let strategy = spec.and_then(|s| s.get("strategy"));
    match str_of(strategy, "type") {
        "Recreate" => {
            if has(strategy, "rollingUpdate") {
                causes.push(Cause::forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy
            .and_then(|s| s.get("rollingUpdate"))
            .filter(|v| !v.is_null())
        {
            None => causes.push(required_msg(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(ru) => rolling_update(Some(ru), "spec.strategy.rollingUpdate", causes),
        },
        other => causes.push(Cause::not_supported(
            "spec.strategy.Type",
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
    nonneg(spec, "minReadySeconds", "spec", causes);
    nonneg(spec, "revisionHistoryLimit", "spec", causes);
    if let Some(pds) = int_of(spec, "progressDeadlineSeconds") {
        if pds < 0 {
            causes.push(super::util::invalid_int(
                "spec.progressDeadlineSeconds",
                pds,
                super::util::NEGATIVE,
            ));
        }
        if pds <= int_of(spec, "minReadySeconds").unwrap_or(0) {
            causes.push(super::util::invalid_int(
                "spec.progressDeadlineSeconds",
                pds,
                "must be greater than minReadySeconds",
            ));
        }
    }
}

fn rolling_update(ru: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let mu = ru.and_then(|r| r.get("maxUnavailable"));
    let ms = ru.and_then(|r| r.get("maxSurge"));
    int_or_percent(mu, &format!("{path}.maxUnavailable"), causes);
    int_or_percent(ms, &format!("{path}.maxSurge"), causes);
    if is_zero_int_or_percent(mu) && is_zero_int_or_percent(ms) {
        causes.push(invalid_raw(
            format!("{path}.maxUnavailable"),
            &mu.map_or("0".to_string(), |v| v.to_string()),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
}

pub fn replica_set(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    nonneg(spec, "replicas", "spec", causes);
    nonneg(spec, "minReadySeconds", "spec", causes);
    selector_and_template(
        spec,
        "empty selector is invalid for deployment",
        &["Always"],
        causes,
    );
    active_deadline_forbidden(spec, causes);
}

pub fn replication_controller(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    nonneg(spec, "replicas", "spec", causes);
    nonneg(spec, "minReadySeconds", "spec", causes);
    let sel = obj_of(spec, "selector");
    match sel {
        None => causes.push(Cause::required("spec.selector")),
        Some(sel) if sel.is_empty() => causes.push(Cause::required("spec.selector")),
        Some(sel) => {
            super::util::labels(Some(sel), "spec.selector", causes);
            let t = spec.and_then(|s| s.get("template"));
            let tl = t.map(labels_of).unwrap_or_default();
            let matches = sel
                .iter()
                .all(|(k, v)| tl.get(k).map(String::as_str) == v.as_str());
            if !matches {
                causes.push(invalid_raw(
                    "spec.template.metadata.labels",
                    &go_string_map(
                        t.and_then(|t| t.get("metadata"))
                            .and_then(|m| m.get("labels"))
                            .and_then(Value::as_object),
                    ),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    match spec
        .and_then(|s| s.get("template"))
        .filter(|t| !t.is_null())
    {
        None => causes.push(Cause::required("spec.template")),
        Some(t) => {
            pod::template(Some(t), "spec.template", causes);
            restart_policy(Some(t), &["Always"], causes);
        }
    }
    active_deadline_forbidden(spec, causes);
}

pub fn stateful_set(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    match str_of(spec, "podManagementPolicy") {
        "" => causes.push(Cause::required("spec.podManagementPolicy")),
        "OrderedReady" | "Parallel" => {}
        v => causes.push(Cause::invalid(
            "spec.podManagementPolicy",
            v,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = spec.and_then(|s| s.get("updateStrategy"));
    match str_of(us, "type") {
        "" => causes.push(Cause::required("spec.updateStrategy")),
        "OnDelete" => {
            if has(us, "rollingUpdate") {
                causes.push(invalid_raw(
                    "spec.updateStrategy.rollingUpdate",
                    &us.and_then(|u| u.get("rollingUpdate"))
                        .map(Value::to_string)
                        .unwrap_or_default(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            let ru = us.and_then(|u| u.get("rollingUpdate"));
            nonneg(ru, "partition", "spec.updateStrategy.rollingUpdate", causes);
            if let Some(mu) = ru
                .and_then(|r| r.get("maxUnavailable"))
                .filter(|v| !v.is_null())
            {
                int_or_percent(
                    Some(mu),
                    "spec.updateStrategy.rollingUpdate.maxUnavailable",
                    causes,
                );
                if is_zero_int_or_percent(Some(mu)) {
                    causes.push(invalid_raw(
                        "spec.updateStrategy.rollingUpdate.maxUnavailable",
                        &mu.to_string(),
                        "must be greater than 0",
                    ));
                }
            }
        }
        _ => causes.push(invalid_raw(
            "spec.updateStrategy",
            &us.map(Value::to_string).unwrap_or_default(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    let pvc = spec.and_then(|s| s.get("persistentVolumeClaimRetentionPolicy"));
    for key in ["whenDeleted", "whenScaled"] {
        let v = str_of(pvc, key);
        if !v.is_empty() && v != "Retain" && v != "Delete" {
            causes.push(Cause::not_supported(
                format!("spec.persistentVolumeClaimRetentionPolicy.{key}"),
                v,
                &["Retain", "Delete"],
            ));
        }
    }
    nonneg(spec, "replicas", "spec", causes);
    nonneg(spec, "minReadySeconds", "spec", causes);
    if let Some(start) = spec
        .and_then(|s| s.get("ordinals"))
        .and_then(|o| o.get("start"))
        .and_then(Value::as_i64)
        && start < 0
    {
        causes.push(super::util::invalid_int(
            "spec.ordinals.start",
            start,
            super::util::NEGATIVE,
        ));
    }
    let sel = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.is_null());
    match sel {
        None => causes.push(Cause::required("spec.selector")),
        Some(sel) => {
            label_selector(Some(sel), "spec.selector", causes);
            if obj_of(Some(sel), "matchLabels").is_none_or(|m| m.is_empty())
                && arr_of(Some(sel), "matchExpressions").is_empty()
            {
                causes.push(invalid_raw(
                    "spec.selector",
                    &go_selector(Some(sel)),
                    "empty selector is not valid for statefulset.",
                ));
            }
        }
    }
    template_matches(spec, sel, causes);
    let t = spec.and_then(|s| s.get("template"));
    pod::template(t, "spec.template", causes);
    let rp = str_of(t.and_then(|t| t.get("spec")), "restartPolicy");
    if rp != "Always" {
        causes.push(Cause::not_supported(
            "spec.template.spec.restartPolicy",
            rp,
            &["Always"],
        ));
    }
    if let Some(v) = t
        .and_then(|t| t.get("spec"))
        .and_then(|s| s.get("activeDeadlineSeconds"))
        .filter(|v| !v.is_null())
    {
        causes.push(invalid_raw(
            "spec.template.spec.activeDeadlineSeconds",
            &v.to_string(),
            "must not be specified",
        ));
    }
}

pub fn daemon_set(obj: &Value, causes: &mut Vec<Cause>) {
    let spec = obj.get("spec");
    selector_and_template(
        spec,
        "empty selector is invalid for daemonset",
        &["Always"],
        causes,
    );
    active_deadline_forbidden(spec, causes);
    nonneg(spec, "minReadySeconds", "spec", causes);
    nonneg(spec, "revisionHistoryLimit", "spec", causes);
    let us = spec.and_then(|s| s.get("updateStrategy"));
    match str_of(us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match us
            .and_then(|u| u.get("rollingUpdate"))
            .filter(|v| !v.is_null())
        {
            None => causes.push(Cause::required("spec.updateStrategy.rollingUpdate")),
            Some(ru) => {
                let mu = ru.get("maxUnavailable");
                let ms = ru.get("maxSurge");
                int_or_percent(
                    mu,
                    "spec.updateStrategy.rollingUpdate.maxUnavailable",
                    causes,
                );
                int_or_percent(ms, "spec.updateStrategy.rollingUpdate.maxSurge", causes);
                if is_zero_int_or_percent(mu) && is_zero_int_or_percent(ms) {
                    causes.push(invalid_raw(
                        "spec.updateStrategy.rollingUpdate.maxUnavailable",
                        &mu.map_or("0".to_string(), Value::to_string),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
            }
        },
        v => causes.push(Cause::not_supported(
            "spec.updateStrategy.type",
            v,
            &["OnDelete", "RollingUpdate"],
        )),
    }
}

/// The selector of apps/v1 workloads never changes.
pub fn selector_immutable(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (new.pointer("/spec/selector"), old.pointer("/spec/selector"));
    if !same(n, o) {
        causes.push(invalid_raw("spec.selector", &go_selector(n), IMMUTABLE));
    }
}

/// StatefulSet spec: only some fields may change.
pub fn stateful_set_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    const MUTABLE: &[&str] = &[
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    ];
    let strip = |v: Option<&Value>| {
        let mut v = v.cloned().unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            for k in MUTABLE {
                m.remove(*k);
            }
        }
        v
    };
    if !same(Some(&strip(new.get("spec"))), Some(&strip(old.get("spec")))) {
        causes.push(Cause::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}
