//! Drift: the object the server would have after applying the render (a server-side dry
//! run) compared with the live one, ignoring what the server owns. Unchanged objects are
//! not patched (no resourceVersion churn). Secret changes are described by key and the
//! SHA-256 prefix of each value: never the value.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::object::Object;

const SERVER_OWNED: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
];

fn normalized(o: &Object) -> Object {
    let mut v = o.clone();
    if let Value::Object(m) = &mut v.0 {
        m.remove("status");
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            for k in SERVER_OWNED {
                meta.remove(*k);
            }
            if let Some(Value::Object(a)) = meta.get_mut("annotations") {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
                if a.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    v
}

/// Whether the dry-run result differs from the live object (so it must be applied).
pub fn drifted(dry_run: &Object, live: Option<&Object>) -> bool {
    match live {
        None => true,
        Some(l) => normalized(dry_run) != normalized(l),
    }
}

/// How one key of a Secret changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Added, with the SHA-256 prefix of the new value.
    Added(String),
    /// Removed.
    Removed,
    /// Changed: old and new SHA-256 prefixes.
    Changed(String, String),
}

fn digest(v: &Value) -> String {
    let s = v.as_str().unwrap_or_default();
    hex::encode(Sha256::digest(s.as_bytes()))[..12].to_string()
}

/// The keys of a Secret's `data` that changed between `old` and `new`, for events and logs.
pub fn secret_changes(old: Option<&Object>, new: &Object) -> Vec<(String, KeyChange)> {
    let empty = serde_json::Map::new();
    let data = |o: &Object| o.0.get("data").and_then(|d| d.as_object()).cloned().unwrap_or_default();
    let (o, n) = (old.map(data).unwrap_or_else(|| empty.clone()), data(new));
    let wiped = (Object(Value::Object(o)), Object(Value::Object(n)));
    let (o, n) = (
        wiped.0.0.as_object().unwrap_or(&empty),
        wiped.1.0.as_object().unwrap_or(&empty),
    );
    let mut out = Vec::new();
    for (k, v) in n {
        match o.get(k) {
            None => out.push((k.clone(), KeyChange::Added(digest(v)))),
            Some(ov) if ov != v => out.push((k.clone(), KeyChange::Changed(digest(ov), digest(v)))),
            Some(_) => {}
        }
    }
    for k in o.keys() {
        if !n.contains_key(k) {
            out.push((k.clone(), KeyChange::Removed));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_owned_fields_and_status_are_not_drift() {
        let dry = Object(
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "2", "managedFields": [1]}, "data": {"k": "v"}}),
        );
        let live = Object(
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1", "uid": "x"}, "data": {"k": "v"}, "status": {}}),
        );
        assert!(!drifted(&dry, Some(&live)));
        let edited =
            Object(serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "edited"}}));
        assert!(drifted(&dry, Some(&edited)));
        assert!(drifted(&dry, None));
    }

    #[test]
    fn secret_changes_show_keys_and_digests_only() {
        let old = Object(serde_json::json!({"data": {"a": "b2xk", "gone": "eA==", "same": "cw=="}}));
        let new = Object(serde_json::json!({"data": {"a": "bmV3", "added": "eQ==", "same": "cw=="}}));
        let c = secret_changes(Some(&old), &new);
        assert_eq!(c.len(), 3);
        assert!(matches!(&c[0], (k, KeyChange::Changed(o, n)) if k == "a" && o.len() == 12 && n.len() == 12 && o != n));
        assert!(matches!(&c[1], (k, KeyChange::Added(_)) if k == "added"));
        assert!(matches!(&c[2], (k, KeyChange::Removed) if k == "gone"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("bmV3") && !shown.contains("new"));
    }
}
