//! The paths and operations of one group-version, described once and rendered as Swagger
//! 2.0 or OpenAPI 3.0. kubectl reads them to learn whether the server takes
//! `fieldValidation` (and `dryRun`) for a kind: it looks for a PATCH operation tagged with
//! the kind's `x-kubernetes-group-version-kind` and that parameter.

use serde_json::{Map, Value, json};

use super::definitions::{V2_PREFIX, V3_PREFIX};
use super::kinds::META;
use crate::registry::{RESOURCES, ResourceInfo};
use crate::schema::definition_name;

#[derive(Clone, Copy)]
struct Param {
    name: &'static str,
    location: &'static str,
    ty: &'static str,
    description: &'static str,
}

const fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "query",
        ty,
        description,
    }
}

const PRETTY: Param = query(
    "pretty",
    "string",
    "If 'true', then the output is pretty printed.",
);
const DRY_RUN: Param = query(
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted. Valid value: All.",
);
const FIELD_MANAGER: Param = query(
    "fieldManager",
    "string",
    "A name associated with the actor or entity that is making these changes.",
);
const FIELD_VALIDATION: Param = query(
    "fieldValidation",
    "string",
    "How the server handles unknown or duplicate fields in the request: Ignore, Warn or Strict.",
);
const FORCE: Param = query(
    "force",
    "boolean",
    "Force is going to \"force\" Apply requests: conflicting fields owned by other managers are re-acquired.",
);
const WRITE: &[Param] = &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const LIST: &[Param] = &[
    query(
        "allowWatchBookmarks",
        "boolean",
        "Requests watch events with type \"BOOKMARK\".",
    ),
    query(
        "continue",
        "string",
        "The continue token of a previous paginated list call.",
    ),
    query(
        "fieldSelector",
        "string",
        "A selector to restrict the list of returned objects by their fields.",
    ),
    query(
        "labelSelector",
        "string",
        "A selector to restrict the list of returned objects by their labels.",
    ),
    query(
        "limit",
        "integer",
        "The maximum number of responses to return for a list call.",
    ),
    query(
        "resourceVersion",
        "string",
        "Constrains what resource versions the request may be served from.",
    ),
    query(
        "resourceVersionMatch",
        "string",
        "Determines how resourceVersion is applied to list calls.",
    ),
    query(
        "sendInitialEvents",
        "boolean",
        "Whether a watch starts with synthetic events for the current state.",
    ),
    query(
        "timeoutSeconds",
        "integer",
        "Timeout for the list/watch call.",
    ),
    query(
        "watch",
        "boolean",
        "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    ),
];
const DELETE: &[Param] = &[
    DRY_RUN,
    query(
        "gracePeriodSeconds",
        "integer",
        "The duration in seconds before the object should be deleted.",
    ),
    query(
        "ignoreStoreReadErrorWithClusterBreakingPotential",
        "boolean",
        "If set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.",
    ),
    query(
        "orphanDependents",
        "boolean",
        "Deprecated: please use the PropagationPolicy.",
    ),
    query(
        "propagationPolicy",
        "string",
        "Whether and how garbage collection will be performed: Orphan, Background or Foreground.",
    ),
];
const LOG: &[Param] = &[
    query(
        "container",
        "string",
        "The container for which to stream logs.",
    ),
    query("follow", "boolean", "Follow the log stream of the pod."),
    query(
        "limitBytes",
        "integer",
        "The number of bytes to read from the server before terminating the log output.",
    ),
    query(
        "previous",
        "boolean",
        "Return previous terminated container logs.",
    ),
    query(
        "sinceSeconds",
        "integer",
        "A relative time in seconds before the current time from which to show logs.",
    ),
    query(
        "tailLines",
        "integer",
        "The number of lines from the end of the logs to show.",
    ),
    query(
        "timestamps",
        "boolean",
        "Add an RFC3339 timestamp at the beginning of every line of log output.",
    ),
];

enum Body {
    Ref(String),
    Patch,
}

enum Resp {
    Ref(String),
    Text,
    Empty,
}

struct Operation {
    method: &'static str,
    action: &'static str,
    id: String,
    /// (group, version, kind) of the `x-kubernetes-group-version-kind` extension.
    gvk: (&'static str, &'static str, String),
    params: Vec<Param>,
    body: Option<Body>,
    responses: Vec<(u16, Resp)>,
}

struct PathItem {
    path: String,
    /// Path-level parameters: `name`/`namespace` path segments and `pretty`.
    params: Vec<Param>,
    operations: Vec<Operation>,
}

/// `apps` -> `Apps`, `rbac.authorization.k8s.io` -> `RbacAuthorization`, core -> `Core`.
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    group
        .trim_end_matches(".k8s.io")
        .split('.')
        .map(upper_first)
        .collect()
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The operation tag upstream uses: `core_v1`, `apps_v1`, `rbacAuthorization_v1`.
fn tag(group: &str, version: &str) -> String {
    format!("{}_{version}", lower_first(&group_camel(group)))
}

pub(crate) fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

struct Builder<'a> {
    r: &'a ResourceInfo,
    kind_def: String,
}

impl Builder<'_> {
    /// `readCoreV1NamespacedPodStatus`, `deleteAppsV1CollectionNamespacedDeployment`.
    fn id(&self, verb: &str, collection: bool, sub: Option<&str>, all_namespaces: bool) -> String {
        let r = self.r;
        format!(
            "{verb}{}{}{}{}{}{}{}",
            group_camel(r.group),
            upper_first(r.version),
            if collection { "Collection" } else { "" },
            if r.namespaced && !all_namespaces {
                "Namespaced"
            } else {
                ""
            },
            r.kind,
            sub.map(upper_first).unwrap_or_default(),
            if all_namespaces {
                "ForAllNamespaces"
            } else {
                ""
            },
        )
    }

    fn gvk(&self) -> (&'static str, &'static str, String) {
        (self.r.group, self.r.version, self.r.kind.to_string())
    }

    fn op(
        &self,
        method: &'static str,
        action: &'static str,
        id: String,
        params: &[Param],
        body: Option<Body>,
        responses: Vec<(u16, Resp)>,
    ) -> Operation {
        Operation {
            method,
            action,
            id,
            gvk: self.gvk(),
            params: params.to_vec(),
            body,
            responses,
        }
    }

    fn kind_ref(&self) -> Resp {
        Resp::Ref(self.kind_def.clone())
    }

    fn post(&self, id: String) -> Operation {
        self.op(
            "post",
            "post",
            id,
            WRITE,
            Some(Body::Ref(self.kind_def.clone())),
            vec![
                (200, self.kind_ref()),
                (201, self.kind_ref()),
                (202, self.kind_ref()),
            ],
        )
    }

    fn read_write(
        &self,
        sub: Option<&str>,
        def: &str,
        gvk: (&'static str, &'static str, String),
    ) -> Vec<Operation> {
        let rd = || Resp::Ref(def.to_string());
        let mut ops = vec![
            self.op(
                "get",
                "get",
                self.id("read", false, sub, false),
                &[],
                None,
                vec![(200, rd())],
            ),
            self.op(
                "put",
                "put",
                self.id("replace", false, sub, false),
                WRITE,
                Some(Body::Ref(def.to_string())),
                vec![(200, rd()), (201, rd())],
            ),
            self.op(
                "patch",
                "patch",
                self.id("patch", false, sub, false),
                &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
                Some(Body::Patch),
                vec![(200, rd()), (201, rd())],
            ),
        ];
        for op in &mut ops {
            op.gvk = gvk.clone();
        }
        ops
    }

    fn connect(&self, sub: &str, methods: &[&'static str], options_kind: String) -> Vec<Operation> {
        methods
            .iter()
            .map(|m| {
                let mut op = self.op(
                    m,
                    "connect",
                    self.id(
                        &format!("connect{}", upper_first(m)),
                        false,
                        Some(sub),
                        false,
                    ),
                    &[],
                    None,
                    vec![(200, Resp::Text)],
                );
                op.gvk = ("", "v1", options_kind.clone());
                op
            })
            .collect()
    }

    fn subresource(&self, sub: &str) -> Vec<Operation> {
        let r = self.r;
        match sub {
            "scale" => self.read_write(
                Some(sub),
                &definition_name("autoscaling", "v1", "Scale"),
                ("autoscaling", "v1", "Scale".into()),
            ),
            "log" => {
                let mut op = self.op(
                    "get",
                    "get",
                    self.id("read", false, Some(sub), false),
                    LOG,
                    None,
                    vec![(200, Resp::Text)],
                );
                op.gvk = self.gvk();
                vec![op]
            }
            "exec" | "attach" | "portforward" => {
                let opts = match sub {
                    "exec" => "PodExecOptions",
                    "attach" => "PodAttachOptions",
                    _ => "PodPortForwardOptions",
                };
                self.connect(sub, &["get", "post"], opts.into())
            }
            "proxy" => self.connect(
                sub,
                &["get", "post", "put", "delete"],
                format!("{}ProxyOptions", r.kind),
            ),
            "eviction" | "binding" | "token" => {
                let (g, v, k) = match sub {
                    "eviction" => ("policy", "v1", "Eviction"),
                    "binding" => ("", "v1", "Binding"),
                    _ => ("authentication.k8s.io", "v1", "TokenRequest"),
                };
                let def = definition_name(g, v, k);
                let mut op = self.op(
                    "post",
                    "post",
                    self.id("create", false, Some(sub), false),
                    WRITE,
                    Some(Body::Ref(def.clone())),
                    vec![
                        (200, Resp::Ref(def.clone())),
                        (201, Resp::Ref(def.clone())),
                        (202, Resp::Ref(def)),
                    ],
                );
                op.gvk = (g, v, k.into());
                vec![op]
            }
            "finalize" => {
                let def = self.kind_def.clone();
                vec![self.op(
                    "put",
                    "put",
                    self.id("replace", false, Some(sub), false),
                    WRITE,
                    Some(Body::Ref(def)),
                    vec![(200, self.kind_ref()), (201, self.kind_ref())],
                )]
            }
            // status, approval, ephemeralcontainers, resize: the kind itself.
            _ => self.read_write(Some(sub), &self.kind_def.clone(), self.gvk()),
        }
    }
}

fn path_param(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "path",
        ty: "string",
        description,
    }
}

const NAMESPACE: Param = Param {
    name: "namespace",
    location: "path",
    ty: "string",
    description: "object name and auth scope, such as for teams and projects",
};

/// The built-in resources of a group-version with their kinds' definition names.
fn builtin_resources(group: &str, version: &str) -> Vec<(&'static ResourceInfo, String)> {
    RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| (r, definition_name(r.group, r.version, r.kind)))
        .collect()
}

fn items_of(resources: &[(&'static ResourceInfo, String)]) -> Vec<PathItem> {
    let mut out = Vec::new();
    let status = || Resp::Ref(format!("{META}.Status"));
    let delete_options = || Some(Body::Ref(format!("{META}.DeleteOptions")));
    for (r, kind_def) in resources {
        let r: &'static ResourceInfo = r;
        let b = Builder {
            r,
            kind_def: kind_def.clone(),
        };
        let base = gv_path(r.group, r.version);
        let (collection, scope): (String, Vec<Param>) = if r.namespaced {
            (
                format!("{base}/namespaces/{{namespace}}/{}", r.plural),
                vec![NAMESPACE],
            )
        } else {
            (format!("{base}/{}", r.plural), vec![])
        };
        let mut coll_ops = vec![b.post(b.id("create", false, None, false))];
        if !r.create_only {
            let list_ref = Resp::Ref(format!("{}List", b.kind_def));
            coll_ops.push(b.op(
                "get",
                "list",
                b.id("list", false, None, false),
                LIST,
                None,
                vec![(200, list_ref)],
            ));
            let mut dc_params = DELETE.to_vec();
            dc_params.extend(
                LIST.iter()
                    .filter(|p| !matches!(p.name, "allowWatchBookmarks" | "watch")),
            );
            coll_ops.push(b.op(
                "delete",
                "deletecollection",
                b.id("delete", true, None, false),
                &dc_params,
                delete_options(),
                vec![(200, status())],
            ));

            let name = path_param("name", "name of the resource");
            let mut item_params = vec![name];
            item_params.extend(scope.iter().copied());
            item_params.push(PRETTY);
            let mut item_ops = b.read_write(None, &b.kind_def, b.gvk());
            item_ops.push(b.op(
                "delete",
                "delete",
                b.id("delete", false, None, false),
                DELETE,
                delete_options(),
                vec![(200, status()), (202, status())],
            ));
            out.push(PathItem {
                path: format!("{collection}/{{name}}"),
                params: item_params.clone(),
                operations: item_ops,
            });
            for sub in r.subresources {
                out.push(PathItem {
                    path: format!("{collection}/{{name}}/{sub}"),
                    params: item_params.clone(),
                    operations: b.subresource(sub),
                });
            }
            if r.namespaced {
                let mut params = LIST.to_vec();
                params.push(PRETTY);
                out.push(PathItem {
                    path: format!("{base}/{}", r.plural),
                    params,
                    operations: vec![b.op(
                        "get",
                        "list",
                        b.id("list", false, None, true),
                        &[],
                        None,
                        vec![(200, Resp::Ref(format!("{}List", b.kind_def)))],
                    )],
                });
            }
        }
        let mut coll_params = scope.clone();
        coll_params.push(PRETTY);
        out.push(PathItem {
            path: collection,
            params: coll_params,
            operations: coll_ops,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

const PRODUCES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        _ => "Unauthorized",
    }
}

fn gvk_value(gvk: &(&str, &str, String)) -> Value {
    json!({"group": gvk.0, "kind": gvk.2, "version": gvk.1})
}

fn param_v2(p: &Param) -> Value {
    let mut v = json!({"description": p.description, "in": p.location, "name": p.name, "type": p.ty, "uniqueItems": true});
    if p.location == "path" {
        v["required"] = true.into();
    }
    v
}

fn param_v3(p: &Param) -> Value {
    let mut v = json!({"description": p.description, "in": p.location, "name": p.name, "schema": {"type": p.ty, "uniqueItems": true}});
    if p.location == "path" {
        v["required"] = true.into();
    }
    v
}

/// The paths of one built-in group-version in Swagger 2.0.
pub(crate) fn v2(group: &str, version: &str) -> Map<String, Value> {
    v2_of(group, version, &builtin_resources(group, version))
}

/// The paths of `resources` (of one group-version) in Swagger 2.0.
pub(crate) fn v2_of(
    group: &str,
    version: &str,
    resources: &[(&'static ResourceInfo, String)],
) -> Map<String, Value> {
    let tag = tag(group, version);
    let mut paths = Map::new();
    for item in items_of(resources) {
        let mut path = Map::new();
        path.insert(
            "parameters".into(),
            item.params.iter().map(param_v2).collect(),
        );
        for op in &item.operations {
            let mut params: Vec<Value> = Vec::new();
            match &op.body {
                Some(Body::Ref(def)) => params.push(json!({"in": "body", "name": "body", "required": true, "schema": {"$ref": format!("{V2_PREFIX}{def}")}})),
                Some(Body::Patch) => params.push(json!({"in": "body", "name": "body", "required": true, "schema": {"$ref": format!("{V2_PREFIX}{META}.Patch")}})),
                None => {}
            }
            params.extend(op.params.iter().map(param_v2));
            let mut responses = Map::new();
            for (code, resp) in op.responses.iter().chain(&[(401, Resp::Empty)]) {
                let mut r = json!({"description": status_text(*code)});
                match resp {
                    Resp::Ref(def) => r["schema"] = json!({"$ref": format!("{V2_PREFIX}{def}")}),
                    Resp::Text => r["schema"] = json!({"type": "string"}),
                    Resp::Empty => {}
                }
                responses.insert(code.to_string(), r);
            }
            let consumes: Vec<&str> = match op.body {
                Some(Body::Patch) => PATCH_TYPES.to_vec(),
                _ => vec!["*/*"],
            };
            let mut o = json!({
                "consumes": consumes,
                "operationId": op.id,
                "produces": if matches!(op.action, "connect") { vec!["*/*"] } else { PRODUCES.to_vec() },
                "schemes": ["https"],
                "tags": [tag],
                "x-kubernetes-action": op.action,
                "x-kubernetes-group-version-kind": gvk_value(&op.gvk),
            });
            o["responses"] = Value::Object(responses);
            if !params.is_empty() {
                o["parameters"] = Value::Array(params);
            }
            path.insert(op.method.into(), o);
        }
        paths.insert(item.path, Value::Object(path));
    }
    paths
}

fn content(schema: Value, types: &[&str]) -> Value {
    types
        .iter()
        .map(|t| (t.to_string(), json!({"schema": schema})))
        .collect::<Map<_, _>>()
        .into()
}

/// The paths of one built-in group-version in OpenAPI 3.0.
pub(crate) fn v3(group: &str, version: &str) -> Map<String, Value> {
    v3_of(group, version, &builtin_resources(group, version))
}

/// The paths of `resources` (of one group-version) in OpenAPI 3.0.
pub(crate) fn v3_of(
    group: &str,
    version: &str,
    resources: &[(&'static ResourceInfo, String)],
) -> Map<String, Value> {
    let tag = tag(group, version);
    let mut paths = Map::new();
    for item in items_of(resources) {
        let mut path = Map::new();
        path.insert(
            "parameters".into(),
            item.params.iter().map(param_v3).collect(),
        );
        for op in &item.operations {
            let mut responses = Map::new();
            for (code, resp) in op.responses.iter().chain(&[(401, Resp::Empty)]) {
                let mut r = json!({"description": status_text(*code)});
                match resp {
                    Resp::Ref(def) => {
                        r["content"] =
                            content(json!({"$ref": format!("{V3_PREFIX}{def}")}), PRODUCES)
                    }
                    Resp::Text => r["content"] = content(json!({"type": "string"}), &["*/*"]),
                    Resp::Empty => {}
                }
                responses.insert(code.to_string(), r);
            }
            let mut o = json!({
                "operationId": op.id,
                "tags": [tag],
                "x-kubernetes-action": op.action,
                "x-kubernetes-group-version-kind": gvk_value(&op.gvk),
            });
            o["responses"] = Value::Object(responses);
            if !op.params.is_empty() {
                o["parameters"] = op.params.iter().map(param_v3).collect();
            }
            match &op.body {
                Some(Body::Ref(def)) => {
                    o["requestBody"] = json!({"content": content(json!({"$ref": format!("{V3_PREFIX}{def}")}), &["*/*"]), "required": true})
                }
                Some(Body::Patch) => {
                    o["requestBody"] = json!({"content": content(json!({"$ref": format!("{V3_PREFIX}{META}.Patch")}), PATCH_TYPES), "required": true})
                }
                None => {}
            }
            path.insert(op.method.into(), o);
        }
        paths.insert(item.path, Value::Object(path));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_upstream() {
        assert_eq!(
            group_camel("rbac.authorization.k8s.io"),
            "RbacAuthorization"
        );
        assert_eq!(tag("", "v1"), "core_v1");
        assert_eq!(
            tag("rbac.authorization.k8s.io", "v1"),
            "rbacAuthorization_v1"
        );
        let paths = v2("", "v1");
        let pods = &paths["/api/v1/namespaces/{namespace}/pods"];
        assert_eq!(pods["get"]["operationId"], "listCoreV1NamespacedPod");
        assert_eq!(
            pods["delete"]["operationId"],
            "deleteCoreV1CollectionNamespacedPod"
        );
        assert_eq!(
            paths["/api/v1/pods"]["get"]["operationId"],
            "listCoreV1PodForAllNamespaces"
        );
        assert_eq!(
            paths["/api/v1/namespaces/{namespace}/pods/{name}/status"]["patch"]["operationId"],
            "patchCoreV1NamespacedPodStatus"
        );
    }

    #[test]
    fn scale_subresource_is_tagged_with_autoscaling_scale() {
        let paths = v3("apps", "v1");
        let patch =
            &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Scale");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["group"],
            "autoscaling"
        );
    }

    #[test]
    fn every_patch_takes_field_validation() {
        for (group, versions) in super::super::builtin_groups() {
            for version in versions {
                for (path, item) in v3(group, version) {
                    if let Some(patch) = item.get("patch") {
                        let params = patch["parameters"].as_array().unwrap();
                        assert!(
                            params.iter().any(|p| p["name"] == "fieldValidation"),
                            "{path}"
                        );
                    }
                }
            }
        }
    }
}
