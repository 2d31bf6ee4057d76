//! batch/v1 Job and CronJob, with a cron parser giving robfig/cron's error texts (which
//! upstream passes through as the validation detail).

use serde_json::Value;

use super::apps::template_matches;
use super::pod;
use super::util::{
    IMMUTABLE, go_selector, has, int_of, invalid_raw, label_selector, nonneg, same, str_of,
};
use crate::status::Cause;

/// JobSpec at `path` (`spec` or `spec.jobTemplate.spec`; a template needs no selector).
fn job_spec(spec: Option<&Value>, path: &str, is_template: bool, causes: &mut Vec<Cause>) {
    for key in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
    ] {
        nonneg(spec, key, path, causes);
    }
    nonneg(spec, "ttlSecondsAfterFinished", path, causes);
    let mode = str_of(spec, "completionMode");
    match mode {
        "" | "NonIndexed" => {}
        "Indexed" => {
            if !has(spec, "completions") {
                causes.push(Cause::required(format!("{path}.completions")));
            }
        }
        other => causes.push(Cause::not_supported(
            format!("{path}.completionMode"),
            other,
            &["NonIndexed", "Indexed"],
        )),
    }
    let prp = str_of(spec, "podReplacementPolicy");
    if !prp.is_empty() && prp != "TerminatingOrFailed" && prp != "Failed" {
        causes.push(Cause::not_supported(
            format!("{path}.podReplacementPolicy"),
            prp,
            &["Failed", "TerminatingOrFailed"],
        ));
    }
    let sel = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.is_null());
    if !is_template {
        match sel {
            None => causes.push(Cause::required(format!("{path}.selector"))),
            Some(sel) => label_selector(Some(sel), &format!("{path}.selector"), causes),
        }
        let mut tc = Vec::new();
        template_matches(spec, sel, &mut tc);
        for mut c in tc {
            c.field = c.field.replacen("spec.", &format!("{path}."), 1);
            causes.push(c);
        }
    } else if let Some(sel) = sel {
        label_selector(Some(sel), &format!("{path}.selector"), causes);
    }
    let t = spec.and_then(|s| s.get("template"));
    pod::template(t, &format!("{path}.template"), causes);
    let rp = str_of(t.and_then(|t| t.get("spec")), "restartPolicy");
    if rp != "OnFailure" && rp != "Never" {
        causes.push(Cause::not_supported(
            format!("{path}.template.spec.restartPolicy"),
            rp,
            &["OnFailure", "Never"],
        ));
    }
    if has(spec, "podFailurePolicy") && rp != "Never" {
        causes.push(Cause::invalid(
            format!("{path}.template.spec.restartPolicy"),
            rp,
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
}

pub fn job(obj: &Value, causes: &mut Vec<Cause>) {
    job_spec(obj.get("spec"), "spec", false, causes);
}

pub fn cron_job(obj: &Value, causes: &mut Vec<Cause>) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.len() > 52 {
        causes.push(Cause::invalid(
            "metadata.name",
            name,
            "must be no more than 52 characters",
        ));
    }
    let spec = obj.get("spec");
    let schedule = str_of(spec, "schedule");
    if schedule.is_empty() {
        causes.push(Cause::required("spec.schedule"));
    } else {
        if let Err(e) = parse_schedule(schedule) {
            causes.push(Cause::invalid("spec.schedule", schedule, &e));
        }
        if has(spec, "timeZone") && (schedule.contains("TZ=")) {
            causes.push(Cause::invalid(
                "spec.schedule",
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        }
    }
    match str_of(spec, "concurrencyPolicy") {
        "" => causes.push(Cause::required("spec.concurrencyPolicy")),
        "Allow" | "Forbid" | "Replace" => {}
        v => causes.push(Cause::not_supported(
            "spec.concurrencyPolicy",
            v,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    for key in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        nonneg(spec, key, "spec", causes);
    }
    let tz = str_of(spec, "timeZone");
    if has(spec, "timeZone")
        && (tz.is_empty() || tz.contains(' ') || tz.starts_with('/') || tz.contains(".."))
    {
        causes.push(Cause::invalid("spec.timeZone", tz, "unknown time zone"));
    }
    let jt = spec.and_then(|s| s.get("jobTemplate"));
    job_spec(
        jt.and_then(|j| j.get("spec")),
        "spec.jobTemplate.spec",
        true,
        causes,
    );
}

/// Job updates: selector, template (for unsuspended jobs), completionMode are frozen.
pub fn job_update(new: &Value, old: &Value, causes: &mut Vec<Cause>) {
    let (n, o) = (new.get("spec"), old.get("spec"));
    if !same(
        n.and_then(|s| s.get("selector")),
        o.and_then(|s| s.get("selector")),
    ) {
        causes.push(invalid_raw(
            "spec.selector",
            &go_selector(n.and_then(|s| s.get("selector"))),
            IMMUTABLE,
        ));
    }
    let suspended = n.and_then(|s| s.get("suspend")).and_then(Value::as_bool) == Some(true);
    if !suspended
        && !same(
            n.and_then(|s| s.get("template")),
            o.and_then(|s| s.get("template")),
        )
    {
        causes.push(pod::template_immutable("spec.template"));
    }
    for key in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex"] {
        if !same(n.and_then(|s| s.get(key)), o.and_then(|s| s.get(key))) {
            let shown = n
                .and_then(|s| s.get(key))
                .map(super::util::scalar_repr)
                .unwrap_or_else(|| "null".into());
            causes.push(invalid_raw(format!("spec.{key}"), &shown, IMMUTABLE));
        }
    }
    let indexed = str_of(n, "completionMode") == "Indexed";
    let (nc, oc) = (int_of(n, "completions"), int_of(o, "completions"));
    if nc != oc {
        if !indexed {
            causes.push(invalid_raw(
                "spec.completions",
                &nc.map_or("null".into(), |c| c.to_string()),
                IMMUTABLE,
            ));
        } else if nc != int_of(n, "parallelism") {
            causes.push(invalid_raw(
                "spec.completions",
                &nc.map_or("null".into(), |c| c.to_string()),
                "can only be modified in tandem with spec.parallelism",
            ));
        }
    }
}

struct Field {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    Field {
        min: 0,
        max: 6,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

/// Parses a standard 5-field cron schedule (or a `@descriptor`), as robfig/cron's
/// ParseStandard does; the error is that library's wording.
pub fn parse_schedule(spec: &str) -> Result<(), String> {
    let mut s = spec.trim();
    if s.is_empty() {
        return Err("empty spec string".into());
    }
    if let Some(rest) = s.strip_prefix("TZ=").or_else(|| s.strip_prefix("CRON_TZ=")) {
        let Some((_, after)) = rest.split_once(' ') else {
            return Err(format!(
                "provided bad location {rest}: unknown time zone {rest}"
            ));
        };
        s = after.trim();
    }
    if let Some(d) = s.strip_prefix('@') {
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ if d.starts_with("every ") => Ok(()),
            _ => Err(format!("unrecognized descriptor: {s}")),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (f, spec) in fields.iter().zip(FIELDS.iter()) {
        for part in f.split(',') {
            parse_range(part, spec)?;
        }
    }
    Ok(())
}

fn parse_value(s: &str, f: &Field) -> Result<u32, String> {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + if f.min == 1 { 1 } else { 0 });
    }
    s.parse::<u32>().map_err(|_| {
        format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax")
    })
}

fn parse_range(expr: &str, f: &Field) -> Result<(), String> {
    let (range, step) = match expr.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (expr, None),
    };
    if expr.matches('/').count() > 1 {
        return Err(format!("too many slashes: {expr}"));
    }
    let (start, end) = if range == "*" || range == "?" {
        (f.min, f.max)
    } else {
        let mut parts = range.split('-');
        let lo = parse_value(parts.next().unwrap_or_default(), f)?;
        let hi = match parts.next() {
            Some(h) => parse_value(h, f)?,
            None => lo,
        };
        if parts.next().is_some() {
            return Err(format!("too many hyphens: {expr}"));
        }
        (lo, hi)
    };
    if let Some(step) = step {
        let n = parse_value(step, f)?;
        if n == 0 {
            return Err(format!("step of range should be a positive number: {expr}"));
        }
    }
    if start < f.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            f.min
        ));
    }
    if end > f.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            f.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    Ok(())
}
