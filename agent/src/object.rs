//! A rendered object: a JSON value whose strings are wiped when it is dropped (rendered
//! Secrets hold plaintext).

use zeroize::Zeroize;

/// A Kubernetes object in memory; every string in it is zeroized on drop.
#[derive(Clone, PartialEq)]
pub struct Object(pub serde_json::Value);

fn wipe(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe),
        serde_json::Value::Object(map) => {
            for (_, v) in map.iter_mut() {
                wipe(v);
            }
        }
        _ => {}
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl Object {
    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.0.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.0.get("kind").and_then(|v| v.as_str()).unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.0
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.0
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// `kind namespace/name`, for messages.
    pub fn id(&self) -> String {
        if self.namespace().is_empty() {
            format!("{} {}", self.kind(), self.name())
        } else {
            format!("{} {}/{}", self.kind(), self.namespace(), self.name())
        }
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Object").field(&self.id()).finish()
    }
}
