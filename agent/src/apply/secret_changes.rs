//! How a Secret changed, for events and logs: the keys added, removed or changed, each value
//! shown only as its keyed digest (`hmac:` + 12 hex digits) — never the value, never a plain hash.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::digest::DigestKey;
use crate::object::Object;

/// How one key of a Secret changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Added, with the digest of the new value.
    Added(String),
    /// Removed.
    Removed,
    /// Changed: old and new digests.
    Changed(String, String),
}

/// The decoded values of a Secret (`data` base64-decoded, `stringData` folded in over it, as
/// the API server does).
pub fn values(o: &Object) -> Vec<(String, Zeroizing<Vec<u8>>)> {
    let mut out: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    if let Some(d) = o.0.get("data").and_then(|d| d.as_object()) {
        for (k, v) in d {
            let bytes = Zeroizing::new(v.as_str().and_then(|s| B64.decode(s).ok()).unwrap_or_default());
            out.push((k.clone(), bytes));
        }
    }
    if let Some(d) = o.0.get("stringData").and_then(|d| d.as_object()) {
        for (k, v) in d {
            out.retain(|(ok, _)| ok != k);
            out.push((k.clone(), Zeroizing::new(v.as_str().unwrap_or("").as_bytes().to_vec())));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The keys that changed between `old` (absent: a new Secret) and `new`.
pub fn secret_changes(old: Option<&Object>, new: &Object, key: &DigestKey) -> Vec<(String, KeyChange)> {
    let o = old.map(values).unwrap_or_default();
    let n = values(new);
    let mut out = Vec::new();
    for (k, v) in &n {
        match o.iter().find(|(ok, _)| ok == k) {
            None => out.push((k.clone(), KeyChange::Added(key.short(v)))),
            Some((_, ov)) if ov != v => out.push((k.clone(), KeyChange::Changed(key.short(ov), key.short(v)))),
            Some(_) => {}
        }
    }
    for (k, _) in &o {
        if !n.iter().any(|(nk, _)| nk == k) {
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
    fn keys_and_keyed_digests_only() {
        let key = DigestKey::from_bytes(b"k");
        let old = Object(serde_json::json!({"data": {"a": "b2xk", "gone": "eA==", "same": "cw=="}}));
        let new = Object(serde_json::json!({"data": {"a": "bmV3", "same": "cw=="}, "stringData": {"added": "y"}}));
        let c = secret_changes(Some(&old), &new, &key);
        assert_eq!(c.len(), 3);
        assert!(matches!(&c[0], (k, KeyChange::Changed(o, n)) if k == "a" && o.len() == 12 && n.len() == 12 && o != n));
        assert!(matches!(&c[1], (k, KeyChange::Added(d)) if k == "added" && *d == key.short(b"y")));
        assert!(matches!(&c[2], (k, KeyChange::Removed) if k == "gone"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("bmV3") && !shown.contains("new"));
    }
}
