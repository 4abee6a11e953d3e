//! Showing rendered Secrets without their values: each value becomes
//! `<redacted sha256:XXXXXXXXXXXX>` (the first 12 hex digits of its SHA-256), so a change is
//! visible and a value is not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::object::Object;

/// The redaction marker for a value.
pub fn marker(value: &[u8]) -> String {
    let digest = Sha256::digest(value);
    format!("<redacted sha256:{}>", &hex::encode(digest)[..12])
}

/// A copy of `obj` with Secret values replaced by markers (other kinds are returned as is).
pub fn redacted(obj: &Object) -> Object {
    let mut out = obj.clone();
    if obj.kind() != "Secret" {
        return out;
    }
    if let Some(data) = out.0.get_mut("data").and_then(|d| d.as_object_mut()) {
        for (_, v) in data.iter_mut() {
            let decoded = Zeroizing::new(v.as_str().and_then(|s| B64.decode(s).ok()).unwrap_or_default());
            *v = serde_json::Value::String(marker(&decoded));
        }
    }
    if let Some(data) = out.0.get_mut("stringData").and_then(|d| d.as_object_mut()) {
        for (_, v) in data.iter_mut() {
            let m = marker(v.as_str().unwrap_or("").as_bytes());
            *v = serde_json::Value::String(m);
        }
    }
    out
}
