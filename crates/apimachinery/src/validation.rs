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
        errs.push("must be no more than 63 characters".to_string());
    }
    if !label_shape(s) {
        errs.push(DNS1123_LABEL_MSG.to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// RFC 1123 subdomain (most object names).
pub fn dns1123_subdomain(s: &str) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
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
        errs.push("must be no more than 63 characters".to_string());
    }
    if !label_shape(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(DNS1035_LABEL_MSG.to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn name_part_ok(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| ok(c) || c == '-' || c == '_' || c == '.')
        && s.starts_with(ok)
        && s.ends_with(ok)
}

/// A qualified name (`prefix/name` label and annotation keys).
pub fn qualified_name(s: &str) -> Result<(), Vec<String>> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let mut errs = Vec::new();
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".to_string());
        } else if let Err(e) = dns1123_subdomain(p) {
            errs.extend(e.into_iter().map(|m| format!("prefix part {m}")));
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if !name_part_ok(name) {
        if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".to_string());
        } else {
            errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string());
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// A label value (may be empty).
pub fn label_value(s: &str) -> Result<(), Vec<String>> {
    if s.is_empty() || name_part_ok(s) {
        return Ok(());
    }
    if s.len() > 63 {
        return Err(vec!["must be no more than 63 characters".to_string()]);
    }
    Err(vec!["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_string()])
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
