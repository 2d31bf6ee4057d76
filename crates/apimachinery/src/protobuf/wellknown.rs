//! JSON renderings of values whose Go types marshal specially: timestamps, durations and
//! byte slices.

use chrono::{DateTime, Utc};

use super::ProtobufError;

fn timestamp(seconds: i64, nanos: u32) -> Result<DateTime<Utc>, ProtobufError> {
    DateTime::<Utc>::from_timestamp(seconds, nanos)
        .ok_or_else(|| ProtobufError::Invalid(format!("timestamp out of range: {seconds}s")))
}

/// `metav1.Time`: RFC 3339 in UTC with whole seconds (upstream drops nanos on decode).
pub fn format_time(seconds: i64) -> Result<String, ProtobufError> {
    Ok(timestamp(seconds, 0)?
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string())
}

/// `metav1.MicroTime`: RFC 3339 in UTC with exactly six fractional digits.
pub fn format_micro_time(seconds: i64, nanos: i32) -> Result<String, ProtobufError> {
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| ProtobufError::Invalid(format!("invalid nanos {nanos}")))?;
    Ok(timestamp(seconds, nanos)?
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string())
}

/// `metav1.Duration`: Go's `time.Duration.String()` ("1h0m0s", "1m30s", "1.5s", "20ms", "0s").
pub fn format_go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, prec) = match u {
            0 => return "0s".into(),
            1..1_000 => ("ns", 0),
            1_000..1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        let (frac, whole) = fraction(u, prec);
        out = format!("{whole}{frac}{unit}");
    } else {
        let (frac, secs) = fraction(u, 9);
        u = secs;
        let mut s = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            s = format!("{}m{s}", u % 60);
            u /= 60;
            if u > 0 {
                s = format!("{u}h{s}");
            }
        }
        out.push_str(&s);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Splits `v` into `v / 10^prec` and the fraction ".ddd" without trailing zeros ("" if 0).
fn fraction(v: u64, prec: u32) -> (String, u64) {
    let scale = 10u64.pow(prec);
    let frac = v % scale;
    if frac == 0 {
        return (String::new(), v / scale);
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / scale)
}

/// Standard base64 with padding, as Go's encoding/json renders `[]byte`.
pub fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(90 * 1_000_000_000), "1m30s");
        assert_eq!(format_go_duration(3600 * 1_000_000_000), "1h0m0s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(20_000_000), "20ms");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(7), "7ns");
        assert_eq!(format_go_duration(-(61 * 1_000_000_000)), "-1m1s");
        assert_eq!(format_go_duration(3_723_000_000_001), "1h2m3.000000001s");
    }

    #[test]
    fn times() {
        assert_eq!(format_time(1_767_323_045).unwrap(), "2026-01-02T03:04:05Z");
        assert_eq!(
            format_micro_time(1_767_323_045, 123_456_789).unwrap(),
            "2026-01-02T03:04:05.123456Z"
        );
        assert_eq!(
            format_micro_time(0, 0).unwrap(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert!(format_micro_time(0, -1).is_err());
    }

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello world\xff"), "aGVsbG8gd29ybGT/");
    }
}
