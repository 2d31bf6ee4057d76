//! Conversions between k8s-openapi's `Time` (jiff) and chrono, which the rest of the code uses.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub fn to_chrono(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(
        t.0.as_second(),
        u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default()
}

pub fn from_chrono(t: DateTime<Utc>) -> Time {
    Time(
        Timestamp::new(
            t.timestamp(),
            i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
        )
        .unwrap_or(Timestamp::UNIX_EPOCH),
    )
}
