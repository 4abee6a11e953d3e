//! Reading and writing Kubernetes manifests (YAML streams or JSON) as JSON values.

use sigil_crypto::sops::format::{json, yaml};

/// Parses a YAML stream (or JSON document) into one JSON value per document. Empty documents
/// are skipped.
pub fn load(bytes: &[u8]) -> Result<Vec<serde_json::Value>, String> {
    let docs = yaml::load(bytes)?;
    Ok(docs
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| json::to_json(&sigil_crypto::sops::tree::Value::Map(d.clone())))
        .collect())
}

/// Writes objects as a kubectl-style YAML stream (`---` before each, keys sorted, indent 2).
pub fn to_yaml(objects: &[serde_json::Value]) -> String {
    let docs: Vec<_> = objects
        .iter()
        .filter_map(|o| match json::from_json(o.clone()) {
            sigil_crypto::sops::tree::Value::Map(b) => Some(b),
            _ => None,
        })
        .collect();
    yaml::emit_with(&docs, yaml::Layout::Kube)
}

/// Writes one object as indented JSON (4 spaces, as kubeseal's default output).
pub fn to_json(object: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(object, &mut ser).expect("JSON values always serialize");
    let mut s = String::from_utf8(buf).expect("serde_json writes UTF-8");
    s.push('\n');
    s
}
