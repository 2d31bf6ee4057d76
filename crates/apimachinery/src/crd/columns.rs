//! Tables for custom resources: the `Name` column, then the version's
//! `additionalPrinterColumns` (or `Age` when it has none), each cell read with the
//! column's JSONPath, as the apiextensions table convertor does.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::table;

/// One `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub ty: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

impl PrinterColumn {
    /// The columns of a CRD version (`spec.versions[i]`); `Age` when none are declared.
    pub fn of_version(version: &Value) -> Vec<PrinterColumn> {
        let declared: Vec<PrinterColumn> = version
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| cols.iter().filter_map(PrinterColumn::parse).collect())
            .unwrap_or_default();
        if declared.is_empty() {
            vec![PrinterColumn {
                name: "Age".into(),
                ty: "date".into(),
                format: String::new(),
                description: String::new(),
                priority: 0,
                json_path: ".metadata.creationTimestamp".into(),
            }]
        } else {
            declared
        }
    }

    fn parse(col: &Value) -> Option<PrinterColumn> {
        let s = |k: &str| {
            col.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let json_path = s("jsonPath");
        let description = match s("description") {
            d if d.is_empty() => {
                format!("Custom resource definition column (in JSONPath format): {json_path}")
            }
            d => d,
        };
        Some(PrinterColumn {
            name: col.get("name")?.as_str()?.to_string(),
            ty: s("type"),
            format: s("format"),
            description,
            priority: col.get("priority").and_then(Value::as_i64).unwrap_or(0),
            json_path,
        })
    }

    fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }

    fn cell(&self, obj: &Value, now: Timestamp) -> Value {
        let found = evaluate(obj, &self.json_path);
        let Some(first) = found.first() else {
            return Value::Null;
        };
        if self.ty == "date" {
            return match first.as_str() {
                Some(ts) => json!(table::translate_timestamp_since(ts, now)),
                None => Value::Null,
            };
        }
        if found.len() > 1 {
            let parts: Vec<String> = found.iter().map(text).collect();
            return json!(parts.join(","));
        }
        match (self.ty.as_str(), first) {
            ("integer", Value::Number(_)) | ("number", Value::Number(_)) => first.clone(),
            ("boolean", Value::Bool(_)) => first.clone(),
            ("string", Value::String(_)) => first.clone(),
            _ => json!(text(first)),
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The Table of custom resources with `columns`.
pub fn build_table(
    columns: &[PrinterColumn],
    objects: &[Value],
    include_object: &str,
    list_meta: Value,
    now: Timestamp,
) -> Value {
    let mut definitions = vec![json!({
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": table::NAME_COLUMN_DESCRIPTION,
        "priority": 0,
    })];
    definitions.extend(columns.iter().map(PrinterColumn::definition));
    let cells = |obj: &Value| {
        let mut row = vec![json!(
            obj.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )];
        row.extend(columns.iter().map(|c| c.cell(obj, now)));
        row
    };
    table::build_table_with(definitions, cells, objects, include_object, list_meta)
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    /// `[?(@.a.b=="v")]` (or `!=`).
    Filter {
        path: Vec<String>,
        value: Value,
        equal: bool,
    },
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                match name.as_str() {
                    "" => {}
                    "*" => steps.push(Step::All),
                    _ => steps.push(Step::Field(name)),
                }
            }
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']')? + i;
                let inner: String = chars[i + 1..end].iter().collect();
                steps.push(bracket(&inner)?);
                i = end + 1;
            }
            _ => {
                // A path without a leading dot (`spec.replicas`).
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Field(chars[start..i].iter().collect()));
            }
        }
    }
    Some(steps)
}

fn bracket(inner: &str) -> Option<Step> {
    let inner = inner.trim();
    if inner == "*" {
        return Some(Step::All);
    }
    if let Ok(n) = inner.parse::<i64>() {
        return Some(Step::Index(n));
    }
    if let Some(quoted) = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
    {
        return Some(Step::Field(quoted.to_string()));
    }
    let expr = inner.strip_prefix("?(")?.strip_suffix(')')?.trim();
    let (lhs, rhs, equal) = if let Some((l, r)) = expr.split_once("==") {
        (l, r, true)
    } else {
        let (l, r) = expr.split_once("!=")?;
        (l, r, false)
    };
    let path: Vec<String> = lhs
        .trim()
        .strip_prefix('@')?
        .split('.')
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let rhs = rhs.trim();
    let value = if let Some(s) = rhs
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| rhs.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
    {
        Value::String(s.to_string())
    } else {
        serde_json::from_str(rhs).ok()?
    };
    Some(Step::Filter { path, value, equal })
}

/// The values a JSONPath (kubectl's dialect: `.a.b`, `[0]`, `[*]`, `['k']`,
/// `[?(@.type=="Ready")]`) selects in `obj`; empty for an invalid path.
pub fn evaluate(obj: &Value, path: &str) -> Vec<Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut current = vec![obj.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for v in &current {
            match step {
                Step::Field(name) => {
                    if let Some(found) = v.get(name) {
                        next.push(found.clone());
                    }
                }
                Step::Index(n) => {
                    if let Some(items) = v.as_array() {
                        let idx = if *n < 0 { items.len() as i64 + n } else { *n };
                        if let Some(found) = usize::try_from(idx).ok().and_then(|i| items.get(i)) {
                            next.push(found.clone());
                        }
                    }
                }
                Step::All => match v {
                    Value::Array(items) => next.extend(items.iter().cloned()),
                    Value::Object(map) => next.extend(map.values().cloned()),
                    _ => {}
                },
                Step::Filter { path, value, equal } => {
                    for item in v.as_array().into_iter().flatten() {
                        let mut field = Some(item);
                        for p in path {
                            field = field.and_then(|f| f.get(p));
                        }
                        let matched = field == Some(value);
                        if matched == *equal {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> Value {
        json!({
            "metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"replicas": 3, "image": "nginx", "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "False"}
            ]}
        })
    }

    #[test]
    fn evaluates_kubectl_jsonpaths() {
        assert_eq!(evaluate(&obj(), ".spec.replicas"), vec![json!(3)]);
        assert_eq!(evaluate(&obj(), "{.spec.image}"), vec![json!("nginx")]);
        assert_eq!(evaluate(&obj(), ".spec.ports[1].port"), vec![json!(443)]);
        assert_eq!(
            evaluate(&obj(), ".spec.ports[*].port"),
            vec![json!(80), json!(443)]
        );
        assert_eq!(
            evaluate(&obj(), r#".status.conditions[?(@.type=="Ready")].status"#),
            vec![json!("True")]
        );
        assert!(evaluate(&obj(), ".spec.missing").is_empty());
    }

    #[test]
    fn builds_rows_with_declared_columns() {
        let version = json!({"additionalPrinterColumns": [
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ports", "type": "string", "jsonPath": ".spec.ports[*].port", "priority": 1},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"}
        ]});
        let cols = PrinterColumn::of_version(&version);
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let t = build_table(&cols, &[obj()], "None", json!({}), now);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["w", 3, "80,443", "True", null])
        );
        assert_eq!(t["columnDefinitions"][2]["priority"], 1);
        assert_eq!(
            t["columnDefinitions"][1]["description"],
            "Custom resource definition column (in JSONPath format): .spec.replicas"
        );
    }

    #[test]
    fn age_column_when_none_declared() {
        let cols = PrinterColumn::of_version(&json!({}));
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let t = build_table(&cols, &[obj()], "None", json!({}), now);
        assert_eq!(t["columnDefinitions"][1]["name"], "Age");
        assert_eq!(t["rows"][0]["cells"], json!(["w", "5m"]));
    }
}
