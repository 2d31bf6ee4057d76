//! `x-kubernetes-validations`: CEL rules on structural schema nodes, as the
//! apiextensions API server evaluates them (`self` is the node's value, `oldSelf` its
//! previous value on updates), with upstream's error wording.
//!
//! The CEL engine is the `cel` crate (see Cargo.toml for why). It has no type checker,
//! so "compilation" here is parsing plus the static checks upstream's checker reports
//! most often: undeclared identifiers and functions, fields the schema does not declare,
//! and rules that cannot produce a bool. Programs are compiled once per rule text and
//! cached.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::extractors::This;
use cel::objects::Key;
use cel::{Context, Env, ExecutionError, Program, Value as CelValue};
use serde_json::Value;

use crate::status::Cause;

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    pub rule: String,
    pub message: String,
    pub message_expression: String,
    /// `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired` or
    /// `FieldValueDuplicate`.
    pub reason: Option<String>,
    pub field_path: String,
    pub optional_old_self: Option<bool>,
}

impl Rule {
    /// The rules declared on a schema node.
    pub fn of(schema: &Value) -> Vec<Rule> {
        let s = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| Rule {
                        rule: s(r, "rule"),
                        message: s(r, "message"),
                        message_expression: s(r, "messageExpression"),
                        reason: r.get("reason").and_then(Value::as_str).map(String::from),
                        field_path: s(r, "fieldPath"),
                        optional_old_self: r.get("optionalOldSelf").and_then(Value::as_bool),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The rule as Go prints upstream's internal `ValidationRule` struct (`%#v`), which is
    /// the "value" of CRD-time rule errors.
    pub fn go_repr(&self) -> String {
        let q = |s: &str| go_quote(s);
        let reason = match &self.reason {
            None => "(*apiextensions.FieldValueErrorReason)(nil)".to_string(),
            Some(_) => "(*apiextensions.FieldValueErrorReason)(0xc000010000)".to_string(),
        };
        let optional = match self.optional_old_self {
            None => "(*bool)(nil)".to_string(),
            Some(_) => "(*bool)(0xc000010008)".to_string(),
        };
        format!(
            "apiextensions.ValidationRule{{Rule:{}, Message:{}, MessageExpression:{}, Reason:{reason}, FieldPath:{}, OptionalOldSelf:{optional}}}",
            q(&self.rule),
            q(&self.message),
            q(&self.message_expression),
            q(&self.field_path)
        )
    }

    /// `ruleErrorString`: the message if there is one, else the rule.
    fn error_string(&self) -> &str {
        if self.message.trim().is_empty() {
            self.rule.trim()
        } else {
            self.message.trim()
        }
    }
}

/// Go's `%q` for the strings rules contain (close to JSON escaping).
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A compiled rule.
#[derive(Debug)]
pub struct Compiled {
    program: Program,
    /// The rule mentions `oldSelf`: a transition rule.
    pub uses_old_self: bool,
}

/// The environment every rule compiles and runs in: the standard library with the
/// strings and lists extensions (part of what Kubernetes enables).
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    // Both extensions are fresh on a stdlib Env: adding them cannot conflict.
    let _ = env.add_extension(cel::extensions::strings);
    let _ = env.add_extension(cel::extensions::lists);
    Arc::new(env)
});

type Cache = HashMap<String, Result<Arc<Compiled>, String>>;
static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);

/// Parses `source` (cached by its text); the error is upstream's
/// `compilation failed: ERROR: <input>:1:9: ...` detail.
pub fn compile(source: &str) -> Result<Arc<Compiled>, String> {
    {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = cache.get(source) {
            return hit.clone();
        }
    }
    let result = match ENV.compile(source) {
        Ok(program) => {
            let uses_old_self = program.references().has_variable("oldSelf");
            Ok(Arc::new(Compiled {
                program,
                uses_old_self,
            }))
        }
        Err(errors) => {
            let issues: Vec<Issue> = errors
                .errors
                .iter()
                .map(|e| Issue {
                    line: e.pos.0.max(1) as usize,
                    column: e.pos.1.max(1) as usize,
                    message: e.msg.clone(),
                })
                .collect();
            Err(format!("compilation failed: {}", render(source, issues)))
        }
    };
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() > 4096 {
        cache.clear();
    }
    cache.insert(source.to_string(), result.clone());
    result
}

/// One compile-time problem at a 1-based line and column.
struct Issue {
    line: usize,
    column: usize,
    message: String,
}

/// cel-go's `Issues.String()`: each error with the source line and a caret under the
/// column.
fn render(source: &str, mut issues: Vec<Issue>) -> String {
    issues.sort_by_key(|i| (i.line, i.column));
    let lines: Vec<&str> = source.lines().collect();
    issues
        .iter()
        .map(|i| {
            let mut out = format!("ERROR: <input>:{}:{}: {}", i.line, i.column, i.message);
            if let Some(text) = lines.get(i.line - 1) {
                out.push_str(&format!(
                    "\n | {text}\n | {}^",
                    ".".repeat(i.column.saturating_sub(1))
                ));
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn position(source: &str, program: &Program, id: u64) -> (usize, usize) {
    let offset = program
        .source_info()
        .offset_for(id)
        .map(|(start, _)| start as usize)
        .unwrap_or(0);
    let mut line = 1;
    let mut column = 1;
    for (i, c) in source.chars().enumerate() {
        if i == offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Functions (and macros) a rule may call: the standard library, the strings and lists
/// extensions, and the Kubernetes list and regex functions added here.
const FUNCTIONS: &[&str] = &[
    // standard
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "or",
    "orValue",
    // strings extension
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "quote",
    "format",
    "reverse",
    "strings.quote",
    // lists extension
    "distinct",
    "flatten",
    "range",
    "lists.range",
    "slice",
    "sort",
    "sortBy",
    "first",
    "last",
    // Kubernetes lists and regex libraries (added to each evaluation's context)
    "isSorted",
    "sum",
    "min",
    "max",
    "find",
    "findAll",
];

const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "google.protobuf.Duration",
    "google.protobuf.Timestamp",
];

/// Compiles a rule for a schema node (CRD create/update): parse errors, then the static
/// checks. The error is the field error detail upstream reports.
pub fn check(source: &str, schema: &Value) -> Result<Arc<Compiled>, String> {
    let compiled = compile(source)?;
    let mut issues = Vec::new();
    let mut checker = Checker {
        source,
        program: &compiled.program,
        issues: &mut issues,
    };
    let mut scope = Vec::new();
    checker.walk(compiled.program.expression(), &mut scope, Some(schema));
    if !issues.is_empty() {
        return Err(format!("compilation failed: {}", render(source, issues)));
    }
    if !may_be_bool(compiled.program.expression()) {
        return Err("cel expression must evaluate to a bool".into());
    }
    Ok(compiled)
}

/// Compiles a `messageExpression` (CRD create/update).
pub fn check_message_expression(source: &str, schema: &Value) -> Result<(), String> {
    let compiled = compile(source).map_err(|e| format!("messageExpression {e}"))?;
    let mut issues = Vec::new();
    let mut checker = Checker {
        source,
        program: &compiled.program,
        issues: &mut issues,
    };
    checker.walk(compiled.program.expression(), &mut Vec::new(), Some(schema));
    if !issues.is_empty() {
        return Err(format!(
            "messageExpression compilation failed: {}",
            render(source, issues)
        ));
    }
    Ok(())
}

/// Whether a rule's root expression can evaluate to a bool (no type checker: literals
/// and arithmetic are the cases that certainly cannot).
fn may_be_bool(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => true,
        Expr::Literal(_) | Expr::List(_) | Expr::Map(_) => false,
        Expr::Call(call) => !matches!(
            call.func_name.as_str(),
            "_+_"
                | "_-_"
                | "_*_"
                | "_/_"
                | "_%_"
                | "-_"
                | "size"
                | "string"
                | "int"
                | "uint"
                | "double"
        ),
        _ => true,
    }
}

struct Checker<'a> {
    source: &'a str,
    program: &'a Program,
    issues: &'a mut Vec<Issue>,
}

impl Checker<'_> {
    fn issue(&mut self, id: u64, message: String) {
        let (line, column) = position(self.source, self.program, id);
        self.issues.push(Issue {
            line,
            column,
            message,
        });
    }

    /// Walks an expression; returns the schema of its value when it is a path below
    /// `self`/`oldSelf` the schema describes.
    fn walk<'s>(
        &mut self,
        e: &IdedExpr,
        scope: &mut Vec<String>,
        root: Option<&'s Value>,
    ) -> Option<&'s Value> {
        match &e.expr {
            Expr::Ident(name) => {
                if scope.iter().any(|s| s == name) {
                    None
                } else if name == "self" || name == "oldSelf" {
                    root
                } else {
                    if !TYPE_NAMES.contains(&name.as_str()) {
                        self.issue(
                            e.id,
                            format!("undeclared reference to '{name}' (in container '')"),
                        );
                    }
                    None
                }
            }
            Expr::Select(select) => {
                let operand = self.walk(&select.operand, scope, root)?;
                match field_schema(operand, &select.field) {
                    FieldLookup::Found(s) => Some(s),
                    FieldLookup::Unknown => None,
                    FieldLookup::Undefined => {
                        self.issue(e.id, format!("undefined field '{}'", select.field));
                        None
                    }
                }
            }
            Expr::Call(call) => {
                let name = call.func_name.as_str();
                let target = call.target.as_ref().and_then(|t| self.walk(t, scope, root));
                let mut args = Vec::with_capacity(call.args.len());
                for a in &call.args {
                    args.push(self.walk(a, scope, root));
                }
                let operator = name.starts_with('_') || name.starts_with('@') || name == "-_";
                if !operator && !FUNCTIONS.contains(&name) {
                    self.issue(
                        e.id,
                        format!("undeclared reference to '{name}' (in container '')"),
                    );
                }
                if name == "_[_]" {
                    let container = args.first().copied().flatten().or(target)?;
                    return container
                        .get("items")
                        .or_else(|| container.get("additionalProperties"))
                        .filter(|s| s.is_object());
                }
                None
            }
            Expr::Comprehension(c) => {
                self.walk(&c.iter_range, scope, root);
                let depth = scope.len();
                scope.push(c.iter_var.clone());
                if let Some(v2) = &c.iter_var2 {
                    scope.push(v2.clone());
                }
                scope.push(c.accu_var.clone());
                self.walk(&c.accu_init, scope, root);
                self.walk(&c.loop_cond, scope, root);
                self.walk(&c.loop_step, scope, root);
                self.walk(&c.result, scope, root);
                scope.truncate(depth);
                None
            }
            Expr::List(list) => {
                for el in &list.elements {
                    self.walk(el, scope, root);
                }
                None
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(m) = &entry.expr {
                        self.walk(&m.key, scope, root);
                        self.walk(&m.value, scope, root);
                    }
                }
                None
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    match &entry.expr {
                        EntryExpr::StructField(f) => {
                            self.walk(&f.value, scope, root);
                        }
                        EntryExpr::MapEntry(m) => {
                            self.walk(&m.value, scope, root);
                        }
                    }
                }
                None
            }
            Expr::Literal(_) | Expr::Unspecified => None,
        }
    }
}

enum FieldLookup<'s> {
    Found(&'s Value),
    /// The schema says nothing (preserved unknown fields, int-or-string, no schema).
    Unknown,
    Undefined,
}

fn is_embedded(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
}

/// The schema of `self.<field>` (CEL names are escaped property names).
fn field_schema<'s>(schema: &'s Value, field: &str) -> FieldLookup<'s> {
    if let Some(props) = schema.get("properties").and_then(Value::as_object)
        && let Some((_, s)) = props
            .iter()
            .find(|(k, _)| escape(k).as_deref() == Some(field))
    {
        return FieldLookup::Found(s);
    }
    if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        return FieldLookup::Found(additional);
    }
    let typed_object = schema.get("type").and_then(Value::as_str) == Some("object");
    let preserves = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if is_embedded(schema) && matches!(field, "apiVersion" | "kind" | "metadata") {
        return FieldLookup::Unknown;
    }
    if typed_object && !preserves {
        FieldLookup::Undefined
    } else {
        FieldLookup::Unknown
    }
}

const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// A property name as CEL sees it (upstream's escaping: `__` → `__underscores__`,
/// `.` → `__dot__`, `-` → `__dash__`, `/` → `__slash__`, keywords → `__kw__`); `None`
/// when the name cannot be expressed.
pub fn escape(name: &str) -> Option<String> {
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok_first = first.is_ascii_alphabetic() || matches!(first, '_' | '.' | '-' | '/');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !ok_first || !ok_rest {
        return None;
    }
    Some(
        name.replace("__", "__underscores__")
            .replace('.', "__dot__")
            .replace('-', "__dash__")
            .replace('/', "__slash__"),
    )
}

// ---- values ----

fn schema_type(schema: Option<&Value>) -> &str {
    schema
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A JSON value as the CEL value upstream gives rules: numbers typed by the schema
/// (`number` is a double even when written `1`), date-time strings as timestamps,
/// property names escaped, embedded resources' metadata reduced to name/generateName.
pub fn to_cel(value: &Value, schema: Option<&Value>) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => {
            if schema_type(schema) == "number" {
                CelValue::Float(n.as_f64().unwrap_or_default())
            } else if let Some(i) = n.as_i64() {
                CelValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                CelValue::UInt(u)
            } else {
                CelValue::Float(n.as_f64().unwrap_or_default())
            }
        }
        Value::String(s) => {
            let format = schema
                .and_then(|s| s.get("format"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if format == "date-time"
                && let Ok(t) = chrono::DateTime::parse_from_rfc3339(s)
            {
                return CelValue::Timestamp(t);
            }
            CelValue::String(Arc::new(s.clone()))
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.get("items"));
            CelValue::List(Arc::new(
                items.iter().map(|i| to_cel(i, item_schema)).collect(),
            ))
        }
        Value::Object(map) => {
            let props = schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            let additional = schema
                .and_then(|s| s.get("additionalProperties"))
                .filter(|a| a.is_object());
            let embedded = schema.is_some_and(is_embedded);
            let mut out: HashMap<Key, CelValue> = HashMap::with_capacity(map.len());
            for (k, v) in map {
                if let Some(prop) = props.and_then(|p| p.get(k)) {
                    if let Some(name) = escape(k) {
                        out.insert(Key::from(name), to_cel(v, Some(prop)));
                    }
                } else if embedded && k == "metadata" {
                    out.insert(Key::from(k.clone()), object_meta_for_cel(v));
                } else if let Some(additional) = additional {
                    out.insert(Key::from(k.clone()), to_cel(v, Some(additional)));
                } else {
                    out.insert(Key::from(k.clone()), to_cel(v, None));
                }
            }
            CelValue::Map(out.into())
        }
    }
}

/// Rules see only `metadata.name` and `metadata.generateName`.
fn object_meta_for_cel(meta: &Value) -> CelValue {
    let mut out: HashMap<Key, CelValue> = HashMap::new();
    for k in ["name", "generateName"] {
        if let Some(Value::String(s)) = meta.get(k) {
            out.insert(
                Key::from(k.to_string()),
                CelValue::String(Arc::new(s.clone())),
            );
        }
    }
    CelValue::Map(out.into())
}

// ---- Kubernetes library functions the crate does not have ----

fn is_sorted(This(list): This<Arc<Vec<CelValue>>>) -> Result<bool, ExecutionError> {
    for pair in list.windows(2) {
        match pair[0].partial_cmp(&pair[1]) {
            Some(std::cmp::Ordering::Greater) => return Ok(false),
            Some(_) => {}
            None => {
                return Err(ExecutionError::ValuesNotComparable(
                    pair[0].clone(),
                    pair[1].clone(),
                ));
            }
        }
    }
    Ok(true)
}

fn sum(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    let mut int: i64 = 0;
    let mut uint: u64 = 0;
    let mut float: f64 = 0.0;
    let mut kind = 'i';
    for v in list.iter() {
        match v {
            CelValue::Int(i) => {
                int = int
                    .checked_add(*i)
                    .ok_or_else(|| ExecutionError::function_error("sum", "integer overflow"))?;
            }
            CelValue::UInt(u) => {
                kind = 'u';
                uint = uint
                    .checked_add(*u)
                    .ok_or_else(|| ExecutionError::function_error("sum", "integer overflow"))?;
            }
            CelValue::Float(f) => {
                kind = 'f';
                float += f;
            }
            other => {
                return Err(ExecutionError::no_such_overload(
                    "sum",
                    vec![other.type_of().to_string()],
                ));
            }
        }
    }
    Ok(match kind {
        'u' => CelValue::UInt(uint),
        'f' => CelValue::Float(float),
        _ => CelValue::Int(int),
    })
}

fn extreme(
    list: &[CelValue],
    want: std::cmp::Ordering,
    name: &str,
) -> Result<CelValue, ExecutionError> {
    let Some(first) = list.first() else {
        return Err(ExecutionError::function_error(
            name,
            format!("{name} called on empty list"),
        ));
    };
    let mut best = first;
    for v in &list[1..] {
        match v.partial_cmp(best) {
            Some(o) if o == want => best = v,
            Some(_) => {}
            None => return Err(ExecutionError::ValuesNotComparable(best.clone(), v.clone())),
        }
    }
    Ok(best.clone())
}

fn list_min(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    extreme(&list, std::cmp::Ordering::Less, "min")
}

fn list_max(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    extreme(&list, std::cmp::Ordering::Greater, "max")
}

fn find(This(s): This<Arc<String>>, pattern: Arc<String>) -> Result<CelValue, ExecutionError> {
    let re = regex::Regex::new(&pattern).map_err(|e| ExecutionError::function_error("find", e))?;
    Ok(CelValue::String(Arc::new(
        re.find(&s)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
    )))
}

fn find_all(This(s): This<Arc<String>>, pattern: Arc<String>) -> Result<CelValue, ExecutionError> {
    let re =
        regex::Regex::new(&pattern).map_err(|e| ExecutionError::function_error("findAll", e))?;
    Ok(CelValue::List(Arc::new(
        re.find_iter(&s)
            .map(|m| CelValue::String(Arc::new(m.as_str().to_string())))
            .collect(),
    )))
}

fn context(self_value: CelValue, old_value: Option<CelValue>) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(ENV.clone());
    // The names are not overloads of the environment: adding them cannot fail.
    let _ = ctx.add_function("isSorted", is_sorted);
    let _ = ctx.add_function("sum", sum);
    let _ = ctx.add_function("min", list_min);
    let _ = ctx.add_function("max", list_max);
    let _ = ctx.add_function("find", find);
    let _ = ctx.add_function("findAll", find_all);
    ctx.add_variable_from_value("self", self_value);
    if let Some(old) = old_value {
        ctx.add_variable_from_value("oldSelf", old);
    }
    ctx
}

/// A runtime error as cel-go words it.
fn runtime_error(e: &ExecutionError) -> (bool, String) {
    match e {
        ExecutionError::NoSuchKey(k) => (false, format!("no such key: {k}")),
        ExecutionError::IndexOutOfBounds(i) => {
            (false, format!("index out of bounds: {}", cel_text(i)))
        }
        ExecutionError::DivisionByZero(_) => (false, "division by zero".into()),
        ExecutionError::RemainderByZero(_) => (false, "modulus by zero".into()),
        ExecutionError::Overflow(..) => (false, "integer overflow".into()),
        ExecutionError::NoSuchOverload(_)
        | ExecutionError::UnsupportedBinaryOperator(..)
        | ExecutionError::ValuesNotComparable(..)
        | ExecutionError::UnexpectedType { .. }
        | ExecutionError::UnsupportedTargetType { .. }
        | ExecutionError::NotSupportedAsMethod { .. } => (true, "no such overload".into()),
        ExecutionError::UndeclaredReference(name) => {
            (false, format!("no such attribute(s): {name}"))
        }
        ExecutionError::FunctionError { message, .. } => (false, message.clone()),
        other => (false, other.to_string()),
    }
}

fn cel_text(v: &CelValue) -> String {
    match v {
        CelValue::Int(i) => i.to_string(),
        CelValue::UInt(u) => u.to_string(),
        CelValue::Float(f) => f.to_string(),
        CelValue::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The field path a rule names (`.spec.x`, `['a.b']`), normalized as upstream joins it
/// to the node's path; `None` when it is not a valid path through the schema.
pub fn normalize_field_path(field_path: &str, schema: &Value) -> Option<String> {
    let mut out = String::new();
    let mut schema = schema;
    let chars: Vec<char> = field_path.chars().collect();
    let mut i = 0;
    if chars.is_empty() {
        return None;
    }
    while i < chars.len() {
        let (name, next) = match chars[i] {
            '.' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                (chars[start..end].iter().collect::<String>(), end)
            }
            '[' => {
                if chars.get(i + 1) != Some(&'\'') {
                    return None;
                }
                let start = i + 2;
                let mut end = start;
                while end < chars.len() && !(chars[end] == '\'' && chars[end - 1] != '\\') {
                    end += 1;
                }
                if chars.get(end + 1) != Some(&']') {
                    return None;
                }
                let raw: String = chars[start..end].iter().collect();
                (raw.replace("\\'", "'").replace("\\\\", "\\"), end + 2)
            }
            _ => return None,
        };
        if let Some(s) = schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| p.get(&name))
        {
            out.push('.');
            out.push_str(&name);
            schema = s;
        } else if let Some(a) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            out.push_str(&format!("[{name}]"));
            schema = a;
        } else {
            return None;
        }
        i = next;
    }
    Some(out.trim_start_matches('.').to_string())
}

fn join(path: &str, child: &str) -> String {
    if path.is_empty() {
        child.to_string()
    } else if child.starts_with('[') {
        format!("{path}{child}")
    } else {
        format!("{path}.{child}")
    }
}

/// The value upstream shows for rule errors: the node's schema type, quoted.
fn type_value(schema: &Value) -> String {
    go_quote(
        schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )
}

/// Evaluates the rules of `schema`'s node against `value` (with `old`, on updates, when
/// the node correlates to a previous value) and appends failures.
fn validate_node(
    value: &Value,
    old: Option<&Value>,
    schema: &Value,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let rules = Rule::of(schema);
    if rules.is_empty() || value.is_null() {
        return;
    }
    let shown = type_value(schema);
    let self_value = to_cel(value, Some(schema));
    let old_value = old
        .filter(|o| !o.is_null())
        .map(|o| to_cel(o, Some(schema)));
    let ctx = context(self_value, old_value.clone());
    for rule in &rules {
        if rule.rule.trim().is_empty() {
            continue;
        }
        let compiled = match compile(&rule.rule) {
            Ok(c) => c,
            Err(e) => {
                causes.push(Cause {
                    reason: "FieldValueInvalid",
                    field: path.to_string(),
                    message: format!("Invalid value: {shown}: rule compile error: {e}"),
                });
                continue;
            }
        };
        // Transition rules run only when there is an old value to compare with.
        // (optionalOldSelf rules without one are skipped too: optionals are not bound.)
        if compiled.uses_old_self && old_value.is_none() {
            continue;
        }
        match compiled.program.execute(&ctx) {
            Ok(CelValue::Bool(true)) => {}
            Ok(_) => {
                let field = if rule.field_path.is_empty() {
                    path.to_string()
                } else {
                    match normalize_field_path(&rule.field_path, schema) {
                        Some(rel) if !rel.is_empty() => join(path, &rel),
                        _ => path.to_string(),
                    }
                };
                let detail = message_of(rule, &ctx).unwrap_or_else(|| {
                    if rule.message.is_empty() {
                        format!("failed rule: {}", rule.rule.trim())
                    } else {
                        rule.message.trim().to_string()
                    }
                });
                causes.push(failure(field, &shown, detail, rule.reason.as_deref()));
            }
            Err(e) => {
                let (overload, text) = runtime_error(&e);
                let message = if overload {
                    format!(
                        "Invalid value: {shown}: '{text}': call arguments did not match a supported operator, function or macro signature for rule: {}",
                        rule.error_string()
                    )
                } else {
                    format!(
                        "Invalid value: {shown}: {text} evaluating rule: {}",
                        rule.error_string()
                    )
                };
                causes.push(Cause {
                    reason: "FieldValueInvalid",
                    field: path.to_string(),
                    message,
                });
            }
        }
    }
}

/// The evaluated `messageExpression`, when it yields a usable message.
fn message_of(rule: &Rule, ctx: &Context) -> Option<String> {
    if rule.message_expression.trim().is_empty() {
        return None;
    }
    let compiled = compile(&rule.message_expression).ok()?;
    match compiled.program.execute(ctx) {
        Ok(CelValue::String(s)) => {
            let s = s.trim();
            (!s.is_empty() && !s.contains('\n') && s.len() <= 5 * 1024).then(|| s.to_string())
        }
        _ => None,
    }
}

fn failure(field: String, shown: &str, detail: String, reason: Option<&str>) -> Cause {
    match reason {
        Some("FieldValueForbidden") => Cause {
            reason: "FieldValueForbidden",
            field,
            message: format!("Forbidden: {detail}"),
        },
        Some("FieldValueRequired") => Cause {
            reason: "FieldValueRequired",
            field,
            message: format!("Required value: {detail}"),
        },
        Some("FieldValueDuplicate") => Cause {
            reason: "FieldValueDuplicate",
            field,
            message: format!("Duplicate value: {shown}"),
        },
        _ => Cause {
            reason: "FieldValueInvalid",
            field,
            message: format!("Invalid value: {shown}: {detail}"),
        },
    }
}

/// Whether any node of the schema declares rules (validation is skipped otherwise).
pub fn has_rules(schema: &Value) -> bool {
    if schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty())
    {
        return true;
    }
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.values().any(has_rules));
    props
        || schema.get("items").is_some_and(has_rules)
        || schema
            .get("additionalProperties")
            .filter(|a| a.is_object())
            .is_some_and(has_rules)
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(has_rules))
}

/// Evaluates every rule of the schema tree against `value` (rooted at `path`), with
/// `old` for transition rules; nodes correlate to old values through object fields and
/// `x-kubernetes-list-type: map` keys, as upstream.
pub fn validate(
    value: &Value,
    old: Option<&Value>,
    schema: &Value,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    if value.is_null() {
        return;
    }
    validate_node(value, old, schema, path, causes);
    if let Some(all_of) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all_of {
            validate_node(value, old, sub, path, causes);
        }
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map {
                let old_child = old.and_then(|o| o.get(k));
                if let Some(prop) = props.and_then(|p| p.get(k)) {
                    validate(v, old_child, prop, &join(path, k), causes);
                } else if let Some(additional) = additional {
                    validate(v, old_child, additional, &format!("{path}[{k}]"), causes);
                }
            }
        }
        Value::Array(items) => {
            let Some(item_schema) = schema.get("items") else {
                return;
            };
            let keys: Vec<&str> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|k| k.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let map_list = schema.get("x-kubernetes-list-type").and_then(Value::as_str)
                == Some("map")
                && !keys.is_empty();
            let old_items = old.and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let old_item = if map_list {
                    old_items.and_then(|olds| {
                        olds.iter()
                            .find(|o| keys.iter().all(|k| o.get(k) == item.get(k)))
                    })
                } else {
                    None
                };
                validate(item, old_item, item_schema, &format!("{path}[{i}]"), causes);
            }
        }
        _ => {}
    }
}
