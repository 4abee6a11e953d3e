//! Showing rendered Secrets without their values: each value becomes
//! `<redacted hmac:XXXXXXXXXXXX>` (12 hex digits of its HMAC under a [`DigestKey`]), so a
//! change is visible and a value is not — not even a short one, which a plain hash would give
//! away to anyone guessing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::digest::DigestKey;
use crate::object::Object;

/// A copy of `obj` with Secret values replaced by markers (other kinds are returned as is).
pub fn redacted(obj: &Object, key: &DigestKey) -> Object {
    let mut out = obj.clone();
    if obj.kind() != "Secret" {
        return out;
    }
    if let Some(data) = out.0.get_mut("data").and_then(|d| d.as_object_mut()) {
        for (_, v) in data.iter_mut() {
            let decoded = Zeroizing::new(v.as_str().and_then(|s| B64.decode(s).ok()).unwrap_or_default());
            *v = serde_json::Value::String(key.marker(&decoded));
        }
    }
    if let Some(data) = out.0.get_mut("stringData").and_then(|d| d.as_object_mut()) {
        for (_, v) in data.iter_mut() {
            let m = key.marker(v.as_str().unwrap_or("").as_bytes());
            *v = serde_json::Value::String(m);
        }
    }
    out
}
