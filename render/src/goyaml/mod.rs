//! YAML, JSON and TOML with exactly the semantics Helm's Go stack gives them, on the template
//! [`Value`] type:
//!
//! - reading YAML as sigs.k8s.io/yaml's `Unmarshal` does (go-yaml v2, YAML 1.1, converted
//!   through JSON: every number a `float64`, map keys strings, only the first document):
//!   [`from_yaml`], [`from_yaml_map`], [`from_yaml_array`];
//! - writing YAML as sigs.k8s.io/yaml's `Marshal` does (encoding/json, then go-yaml v2's
//!   emitter): [`to_yaml`];
//! - JSON as encoding/json writes and reads it: [`to_json`], [`from_json`];
//! - TOML as BurntSushi/toml writes it (`toToml`);
//! - the template functions Helm defines on top of them: [`funcs`].

mod emit;
mod funcs;
mod json;
mod json_read;
mod read;
mod resolve;
mod scalar;
mod sort;
mod toml;

pub use funcs::funcs;

use crate::gotemplate::value::{Map, Value};

/// Why YAML could not be read, worded as sigs.k8s.io/yaml words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The YAML could not be parsed or converted to JSON (go-yaml's or encoding/json's
    /// message, such as `yaml: line 2: mapping values are not allowed in this context`).
    #[error("error converting YAML to JSON: {0}")]
    Yaml(String),
    /// The document does not have the shape asked for (`json: cannot unmarshal array into Go
    /// value of type map[string]interface {}`).
    #[error("error unmarshaling JSON: while decoding JSON: {0}")]
    Json(String),
}

/// Reads the first YAML document of `text` into a value of any shape (`Nil` when empty).
pub fn from_yaml(text: &str) -> Result<Value, YamlError> {
    read::to_value(read::parse_first_document(text)?)
}

/// Reads YAML into a map, as Helm reads values files and `fromYaml` reads its argument: an
/// empty document is an empty map; any other shape is an error.
pub fn from_yaml_map(text: &str) -> Result<Value, YamlError> {
    match from_yaml(text)? {
        Value::Nil => Ok(Value::map(Map::new())),
        v @ Value::Map(_) => Ok(v),
        other => Err(type_error(&other, "map[string]interface {}")),
    }
}

/// Reads YAML into a list, as `fromYamlArray` does: an empty document is an empty list.
pub fn from_yaml_array(text: &str) -> Result<Value, YamlError> {
    match from_yaml(text)? {
        Value::Nil => Ok(Value::list(Vec::new())),
        v @ Value::List(_) => Ok(v),
        other => Err(type_error(&other, "[]interface {}")),
    }
}

/// The JSON type name encoding/json reports when a document does not fit the target.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Float(_) => "number",
        Value::Str(_) | Value::Bytes(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
        Value::Nil => "null",
    }
}

fn type_error(v: &Value, target: &str) -> YamlError {
    YamlError::Json(format!(
        "json: cannot unmarshal {} into Go value of type {target}",
        json_kind(v)
    ))
}

/// `yaml.Marshal(v)` of sigs.k8s.io/yaml: the YAML text with its final newline, or the Go
/// error text (`error marshaling into JSON: json: unsupported value: NaN`).
pub fn to_yaml(v: &Value) -> Result<String, String> {
    emit::marshal(v).map(|s| s.to_string())
}

/// `json.Marshal(v)`, or Go's error text.
pub fn to_json(v: &Value) -> Result<String, String> {
    json::encode(
        v,
        json::JsonStyle {
            escape_html: true,
            pretty: false,
        },
    )
    .map(|s| s.to_string())
}

/// `json.Unmarshal` into `interface{}`: numbers become `float64`. The error is Go's text
/// (`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`).
pub fn from_json(text: &str) -> Result<Value, String> {
    let (v, err) = json_read::decode(text)?;
    match err {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

#[cfg(test)]
mod tests_funcs;
#[cfg(test)]
mod tests_yaml;
