//! Printers of batch/v1 kinds.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    CONTAINERS_DESCRIPTION, Col, IMAGES_DESCRIPTION, age, arr, bool_ptr, containers_images,
    format_label_selector, human_duration, i, is_set, name, opt_b, opt_i, opt_s, parse_time, s,
    translate_timestamp_since,
};

pub(super) const JOB: &[Col] = &[
    Col::name(),
    Col::new("Status", "string", "Status of the job."),
    Col::new(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    Col::new("Duration", "string", "Time required to complete the job."),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

/// The status of the first condition of a type is True.
fn has_condition(o: &Value, ty: &str) -> bool {
    arr(o, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == ty)
        .is_some_and(|c| s(c, "/status") == "True")
}

fn job_status(o: &Value) -> &'static str {
    if has_condition(o, "Complete") {
        "Complete"
    } else if has_condition(o, "Failed") {
        "Failed"
    } else if is_set(o, "/metadata/deletionTimestamp") {
        "Terminating"
    } else if has_condition(o, "Suspended") {
        "Suspended"
    } else if has_condition(o, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

pub(super) fn job(o: &Value, now: Timestamp) -> Vec<Value> {
    let succeeded = i(o, "/status/succeeded");
    let completions = match opt_i(o, "/spec/completions") {
        Some(c) => format!("{succeeded}/{c}"),
        None => match opt_i(o, "/spec/parallelism").unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = opt_s(o, "/status/startTime").and_then(parse_time);
    let end = opt_s(o, "/status/completionTime").and_then(parse_time);
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(st), None) => human_duration(now.as_second() - st.as_second()),
        (Some(st), Some(en)) => human_duration(en.as_second() - st.as_second()),
    };
    let (names, images) = containers_images(o.pointer("/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(job_status(o)),
        json!(completions),
        json!(duration),
        json!(age(o, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(o.pointer("/spec/selector"))),
    ]
}

pub(super) const CRON_JOB: &[Col] = &[
    Col::name(),
    Col::new(
        "Schedule",
        "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    Col::new(
        "Timezone",
        "string",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    Col::new(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
    ),
    Col::new(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    Col::new(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    Col::age(),
    Col::wide("Containers", "string", CONTAINERS_DESCRIPTION),
    Col::wide("Images", "string", IMAGES_DESCRIPTION),
    Col::wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

pub(super) fn cron_job(o: &Value, now: Timestamp) -> Vec<Value> {
    let last_schedule = match opt_s(o, "/status/lastScheduleTime") {
        Some(t) => translate_timestamp_since(t, now),
        None => "<none>".into(),
    };
    let (names, images) = containers_images(o.pointer("/spec/jobTemplate/spec/template/spec"));
    vec![
        json!(name(o)),
        json!(s(o, "/spec/schedule")),
        json!(opt_s(o, "/spec/timeZone").unwrap_or("<none>")),
        json!(bool_ptr(opt_b(o, "/spec/suspend"))),
        json!(arr(o, "/status/active").len()),
        json!(last_schedule),
        json!(age(o, now)),
        json!(names),
        json!(images),
        json!(format_label_selector(
            o.pointer("/spec/jobTemplate/spec/selector")
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::test_support::row;
    use serde_json::{Value, json};

    fn job(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["template"] = json!({"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}});
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}});
        json!({"metadata": {"name": "pi", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": spec, "status": status})
    }

    #[test]
    fn complete_job() {
        let j = job(
            json!({"completions": 1, "parallelism": 1}),
            json!({"succeeded": 1, "startTime": "2026-01-01T00:00:05Z", "completionTime": "2026-01-01T00:00:40Z",
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}),
        );
        assert_eq!(
            row("Job", j),
            [
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("35s"),
                json!("10m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=abc")
            ]
        );
    }

    #[test]
    fn running_job_duration_counts_to_now_and_completions_variants() {
        let j = job(
            json!({"completions": 5, "parallelism": 2}),
            json!({"succeeded": 2, "active": 2, "startTime": "2026-01-01T00:05:00Z"}),
        );
        let c = row("Job", j);
        assert_eq!(c[1], "Running");
        assert_eq!(c[2], "2/5");
        assert_eq!(c[3], "5m");
        let work_queue = job(json!({"parallelism": 3}), json!({}));
        let c = row("Job", work_queue);
        assert_eq!(c[2], "0/1 of 3");
        assert_eq!(c[3], "");
        let single = job(json!({}), json!({"succeeded": 0}));
        assert_eq!(row("Job", single)[2], "0/1");
    }

    #[test]
    fn job_status_precedence() {
        let status_of = |conds: Value, deleting: bool| {
            let mut j = job(json!({"completions": 1}), json!({"conditions": conds}));
            if deleting {
                j["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
            }
            row("Job", j)[1].as_str().unwrap().to_string()
        };
        assert_eq!(
            status_of(json!([{"type": "Failed", "status": "True"}]), false),
            "Failed"
        );
        assert_eq!(status_of(json!([]), true), "Terminating");
        assert_eq!(
            status_of(json!([{"type": "Failed", "status": "True"}]), true),
            "Failed"
        );
        assert_eq!(
            status_of(json!([{"type": "Suspended", "status": "True"}]), false),
            "Suspended"
        );
        assert_eq!(
            status_of(json!([{"type": "Suspended", "status": "False"}]), false),
            "Running"
        );
        assert_eq!(
            status_of(json!([{"type": "FailureTarget", "status": "True"}]), false),
            "FailureTarget"
        );
    }

    #[test]
    fn cron_job_row() {
        let cj = json!({"metadata": {"name": "hello", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"schedule": "*/1 * * * *", "suspend": false, "timeZone": "Etc/UTC",
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": "2026-01-01T00:09:00Z"}});
        assert_eq!(
            row("CronJob", cj),
            [
                json!("hello"),
                json!("*/1 * * * *"),
                json!("Etc/UTC"),
                json!("False"),
                json!(1),
                json!("60s"),
                json!("10m"),
                json!("hello"),
                json!("busybox"),
                json!("<none>")
            ]
        );
        let bare = json!({"metadata": {"name": "b"}, "spec": {"schedule": "@daily"}});
        let c = row("CronJob", bare);
        assert_eq!(c[2], "<none>");
        assert_eq!(c[3], "<unset>");
        assert_eq!(c[4], 0);
        assert_eq!(c[5], "<none>");
    }
}
