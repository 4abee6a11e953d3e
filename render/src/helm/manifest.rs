//! What `helm template` prints for a render: templates split into documents, hooks apart,
//! documents sorted by kind in Helm's install order, each under a `# Source:` line
//! (`pkg/release/v1/util/manifest_sorter.go`, `kind_sorter.go`, `pkg/action/action.go`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use zeroize::Zeroizing;

use crate::gotemplate::value::Value;

/// Helm's install order of kinds; kinds not listed come after, by name.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One document of the output.
#[derive(Clone)]
pub struct Document {
    /// The template it came from (`chart/templates/x.yaml`).
    pub source: String,
    /// Its text (leading whitespace trimmed).
    pub content: Zeroizing<String>,
    /// `kind`.
    pub kind: String,
    /// Whether it is a hook (`helm.sh/hook` annotation).
    pub hook: bool,
}

fn separator() -> Option<&'static regex::Regex> {
    static SEP: OnceLock<Option<regex::Regex>> = OnceLock::new();
    // Go's \s is [\t\n\f\r ].
    SEP.get_or_init(|| regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").ok())
        .as_ref()
}

fn go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Splits one template's output into documents as Helm does.
pub fn split_manifests(text: &str) -> Vec<String> {
    let text = text.trim_start_matches(go_space);
    let pieces: Vec<&str> = match separator() {
        Some(sep) => sep.split(text).collect(),
        None => vec![text],
    };
    pieces
        .into_iter()
        .filter(|d| !d.trim_matches(go_space).is_empty())
        .map(|d| d.trim_start_matches(go_space).to_string())
        .collect()
}

/// The head fields Helm reads from a document.
struct Head {
    kind: String,
    annotations: Option<BTreeMap<String, String>>,
}

fn head(doc: &str) -> Result<Head, String> {
    let v = crate::goyaml::from_yaml(doc).map_err(|e| e.to_string())?;
    let mut h = Head {
        kind: String::new(),
        annotations: None,
    };
    let m = match v {
        Value::Nil => return Ok(h),
        Value::Map(m) => m,
        _ => {
            return Err(
                "error unmarshaling JSON: json: cannot unmarshal value into Go value of type util.SimpleHead".into(),
            );
        }
    };
    let m = m.borrow();
    if let Some(k) = m.get("kind") {
        h.kind = scalar(k);
    }
    if let Some(Value::Map(md)) = m.get("metadata")
        && let Some(Value::Map(a)) = md.borrow().get("annotations")
    {
        h.annotations = Some(a.borrow().iter().map(|(k, v)| (k.clone(), scalar(v))).collect());
    }
    Ok(h)
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        other => other.format_v(),
    }
}

fn kind_rank(kind: &str) -> (usize, String) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, String::new()),
        None => (INSTALL_ORDER.len(), kind.to_string()),
    }
}

/// Helm's `SortManifests`: the documents of every non-empty, non-partial output (NOTES
/// excluded), manifests and hooks each sorted by kind; hooks with an unknown event dropped.
pub fn sort_manifests(
    rendered: &BTreeMap<String, Zeroizing<String>>,
) -> Result<(Vec<Document>, Vec<Document>), String> {
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for (path, text) in rendered {
        let base = path.rsplit('/').next().unwrap_or(path);
        if path.ends_with("NOTES.txt") || base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(text) {
            let h = head(&doc).map_err(|e| format!("YAML parse error on {path}: {e}"))?;
            let hook_events = h
                .annotations
                .as_ref()
                .filter(|a| !a.is_empty())
                .and_then(|a| a.get("helm.sh/hook").cloned());
            let d = Document {
                source: path.clone(),
                content: Zeroizing::new(doc),
                kind: h.kind,
                hook: hook_events.is_some(),
            };
            match hook_events {
                None => manifests.push(d),
                Some(events) => {
                    let known = events
                        .split(',')
                        .all(|e| HOOK_EVENTS.contains(&e.trim().to_lowercase().as_str()));
                    if known {
                        hooks.push(d);
                    }
                }
            }
        }
    }
    manifests.sort_by_cached_key(|d| kind_rank(&d.kind));
    hooks.sort_by_cached_key(|d| kind_rank(&d.kind));
    Ok((hooks, manifests))
}

/// The text `helm template` prints for `rendered` (with `crds` first when CRDs are included:
/// `(path, content)` as [`super::Chart::crds`] gives them).
pub fn template_output(
    rendered: &BTreeMap<String, Zeroizing<String>>,
    crds: &[(String, String)],
) -> Result<Zeroizing<String>, String> {
    let (hooks, manifests) = sort_manifests(rendered)?;
    let mut m = Zeroizing::new(String::new());
    for (path, content) in crds {
        m.push_str(&format!("---\n# Source: {path}\n{content}\n"));
    }
    for d in &manifests {
        m.push_str("---\n# Source: ");
        m.push_str(&d.source);
        m.push('\n');
        m.push_str(&d.content);
        m.push('\n');
    }
    let mut out = Zeroizing::new(String::new());
    out.push_str(m.trim_matches(go_space));
    out.push('\n');
    for d in &hooks {
        out.push_str("---\n# Source: ");
        out.push_str(&d.source);
        out.push('\n');
        out.push_str(&d.content);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_helm() {
        assert_eq!(
            split_manifests("\n---\na: 1\n\n---\nb: 2\n"),
            vec!["a: 1".to_string(), "b: 2\n".to_string()]
        );
        assert_eq!(
            split_manifests("a: 1\n---\n\n---\nkind: X\n"),
            vec!["a: 1".to_string(), "---\nkind: X\n".to_string()]
        );
        assert_eq!(
            split_manifests("# only a comment\n"),
            vec!["# only a comment\n".to_string()]
        );
    }
}
