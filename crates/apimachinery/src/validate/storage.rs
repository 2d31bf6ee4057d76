//! storage.k8s.io/v1 StorageClass (and the immutability of its parameters).

use serde_json::Value;

use super::util::{IMMUTABLE, same, str_of};
use crate::status::Cause;
use crate::validation::qualified_name;

pub fn storage_class(obj: &Value, causes: &mut Vec<Cause>) {
    let prov = str_of(Some(obj), "provisioner");
    if prov.is_empty() {
        causes.push(Cause::required("provisioner"));
    } else {
        if let Err(msgs) = qualified_name(&prov.to_lowercase()) {
            for m in msgs {
                causes.push(Cause::invalid("provisioner", prov, &m));
            }
        }
        if prov.len() > 63 {
            causes.push(super::util::too_long("provisioner", 63));
        }
    }
    let policy = str_of(Some(obj), "reclaimPolicy");
    if !policy.is_empty() && policy != "Delete" && policy != "Retain" {
        causes.push(Cause::not_supported(
            "reclaimPolicy",
            policy,
            &["Delete", "Retain"],
        ));
    }
    let mode = str_of(Some(obj), "volumeBindingMode");
    if mode.is_empty() {
        causes.push(Cause::required("volumeBindingMode"));
    } else if mode != "Immediate" && mode != "WaitForFirstConsumer" {
        causes.push(Cause::not_supported(
            "volumeBindingMode",
            mode,
            &["Immediate", "WaitForFirstConsumer"],
        ));
    }
    if let Some(params) = obj.get("parameters").and_then(Value::as_object) {
        if params.len() > 512 {
            causes.push(super::util::too_many("parameters", params.len(), 512));
        }
        let total: usize = params
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map(str::len).unwrap_or_default())
            .sum();
        if total > 256 * 1024 {
            causes.push(super::util::too_long("parameters", 256 * 1024));
        }
        for k in params.keys() {
            if k.is_empty() {
                causes.push(Cause::invalid("parameters", k, "field can not be empty."));
            }
        }
    }
}

pub fn storage_class_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    if !same(new.get("parameters"), old.get("parameters")) {
        causes.push(Cause::forbidden(
            "parameters",
            "updates to parameters are forbidden.",
        ));
    }
    if str_of(Some(new), "provisioner") != str_of(Some(old), "provisioner") {
        causes.push(Cause::forbidden(
            "provisioner",
            "updates to provisioner are forbidden.",
        ));
    }
    if str_of(Some(new), "reclaimPolicy") != str_of(Some(old), "reclaimPolicy") {
        causes.push(Cause::forbidden(
            "reclaimPolicy",
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    let (n, o) = (
        str_of(Some(new), "volumeBindingMode"),
        str_of(Some(old), "volumeBindingMode"),
    );
    if n != o {
        causes.push(super::util::invalid_raw(
            "volumeBindingMode",
            &format!("&\"{n}\""),
            IMMUTABLE,
        ));
    }
}
