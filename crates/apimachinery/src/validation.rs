//! Name and label syntax checks with upstream's messages (apimachinery's
//! `util/validation`).

fn is_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn label_shape(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| is_alnum(c) || c == '-')
        && s.starts_with(is_alnum)
        && s.ends_with(is_alnum)
}

/// RFC 1123 label (namespaces, services' port names, ...). Returns error messages.
pub fn dns1123_label(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !label_shape(s) {
        if !s.is_empty() && s.split('.').all(label_shape) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(DNS1123_LABEL_MSG.to_string());
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// RFC 1123 subdomain (most object names).
pub fn dns1123_subdomain(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len(253));
    }
    if s.is_empty() || !s.split('.').all(label_shape) {
        errs.push(DNS1123_SUBDOMAIN_MSG.to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// RFC 1035 label (Service names).
pub fn dns1035_label(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !label_shape(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(DNS1035_LABEL_MSG.to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// `must be no more than N characters`
pub fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn name_part_shape(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.chars().all(|c| ok(c) || c == '-' || c == '_' || c == '.')
        && s.starts_with(ok)
        && s.ends_with(ok)
}

const QUALIFIED_NAME_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// A qualified name (`prefix/name` label and annotation keys, finalizers).
pub fn qualified_name(s: &str) -> Result<(), Vec<String>> {
    let parts: Vec<&str> = s.split('/').collect();
    let mut errs = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else if let Err(e) = dns1123_subdomain(prefix) {
                errs.extend(e.into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            return Err(vec![format!(
                "a qualified name {QUALIFIED_NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )]);
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len(63)));
    }
    if !name_part_shape(name) {
        errs.push(format!("name part {QUALIFIED_NAME_RULE}"));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A label value (may be empty).
pub fn label_value(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len(63));
    }
    if !s.is_empty() && !name_part_shape(s) {
        errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A name that is safe as a URL path segment (RBAC objects and other "path segment" kinds).
pub fn path_segment_name(s: &str, prefix: bool) -> Result<(), Vec<String>> {
    if !prefix {
        for bad in [".", ".."] {
            if s == bad {
                return Err(vec![format!("may not be '{bad}'")]);
            }
        }
    }
    let errs: Vec<String> = ["/", "%"]
        .iter()
        .filter(|c| s.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect();
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A port name (IANA_SVC_NAME).
pub fn port_name(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 15 {
        errs.push(max_len(15));
    }
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A port number.
pub fn port_num(n: i64) -> Result<(), Vec<String>> {
    in_range(n, 1, 65535)
}

/// `must be between lo and hi, inclusive`
pub fn in_range(n: i64, lo: i64, hi: i64) -> Result<(), Vec<String>> {
    if (lo..=hi).contains(&n) {
        Ok(())
    } else {
        Err(vec![format!("must be between {lo} and {hi}, inclusive")])
    }
}

fn chdir_prefix(s: &str, errs: &mut Vec<String>) {
    if s == "." {
        errs.push("must not be '.'".to_string());
    } else if s == ".." {
        errs.push("must not be '..'".to_string());
    } else if s.starts_with("..") {
        errs.push("must not start with '..'".to_string());
    }
}

/// A ConfigMap or Secret key.
pub fn config_map_key(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len(253));
    }
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    chdir_prefix(s, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// An environment variable name (the relaxed rule, on by default since 1.32).
pub fn env_var_name(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.is_empty() {
        errs.push("environment variable name must be non-empty".to_string());
    }
    if s.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
                .to_string(),
        );
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A C identifier (e.g. `envFrom` prefixes in the strict rule).
pub fn c_identifier(s: &str) -> Result<(), Vec<String>> {
    let ok = !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(vec!["a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')".to_string()])
    }
}

/// An IP address as the API accepts it (no leading zeros, no IPv4-mapped IPv6).
pub fn ip_address(s: &str) -> Result<(), Vec<String>> {
    let Ok(ip) = s.parse::<std::net::IpAddr>() else {
        if is_legacy_ipv4(s) {
            return Err(vec!["must not have leading 0s".to_string()]);
        }
        return Err(vec![
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string(),
        ]);
    };
    if let std::net::IpAddr::V6(v6) = ip
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(vec!["must not be an IPv4-mapped IPv6 address".to_string()]);
    }
    Ok(())
}

fn is_legacy_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
        && parts
            .iter()
            .all(|p| p.parse::<u32>().is_ok_and(|n| n < 256))
}

/// A CIDR (`10.0.0.0/8`) as the API accepts it.
pub fn cidr(s: &str) -> Result<(), Vec<String>> {
    let bad = || {
        Err(vec![
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".to_string(),
        ])
    };
    let Some((ip, bits)) = s.split_once('/') else {
        return bad();
    };
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return bad();
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match bits.parse::<u32>() {
        Ok(b) if b <= max && !(bits.len() > 1 && bits.starts_with('0')) => Ok(()),
        _ => bad(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("demo-1.x").is_ok());
        assert!(dns1123_subdomain("Demo").is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1035_label("1abc").is_err());
        assert!(dns1035_label("abc-1").is_ok());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("/x").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("-x").is_err());
    }
}
