//! The 409 error of an apply whose fields another manager owns, worded as upstream.

use std::collections::BTreeMap;

use crate::status::{ApiError, Cause};

use super::managed::parse_manager_id;
use super::path::path_to_string;
use super::updater::Conflicts;

/// How a manager is named in conflict messages: `"name"`, `"name" with subresource "status"`,
/// and `using <apiVersion>` for Update managers.
pub fn print_manager(id: &str) -> String {
    let info = parse_manager_id(id);
    if info.manager.is_empty() && info.operation.is_empty() {
        return quote(id);
    }
    let mut s = quote(&info.manager);
    if !info.subresource.is_empty() {
        s = format!("{s} with subresource {}", quote(&info.subresource));
    }
    if info.operation == "Update" {
        s = format!("{s} using {}", info.api_version);
    }
    s
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas`, or the
/// multi-conflict form listing paths under each manager (managers sorted).
pub fn conflict_error(conflicts: &Conflicts) -> ApiError {
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|(id, path)| Cause {
            reason: "FieldManagerConflict",
            field: path_to_string(path),
            message: format!("conflict with {}", print_manager(id)),
        })
        .collect();
    let message = match conflicts.as_slice() {
        [(id, path)] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            print_manager(id),
            path_to_string(path)
        ),
        _ => {
            let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for (id, path) in conflicts {
                by_manager.entry(id).or_default().push(path_to_string(path));
            }
            let mut lines = Vec::new();
            for (id, paths) in by_manager {
                lines.push(format!("conflicts with {}:", print_manager(id)));
                lines.extend(paths.into_iter().map(|p| format!("- {p}")));
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        }
    };
    ApiError::apply_conflict(message, causes)
}
