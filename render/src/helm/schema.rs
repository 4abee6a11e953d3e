//! `values.schema.json`: the coalesced values checked against the chart's JSON Schema and each
//! enabled subchart's against its own, with the error text Helm prints (Helm uses
//! santhosh-tekuri/jsonschema; `boon` is the same author's Rust implementation).

use super::chart::Chart;
use crate::gotemplate::value::{Map, Value};

/// Values as JSON, numbers that are whole as integers (Go's validator sees `0`, not `0.0`).
pub(crate) fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) | Value::Int64(i) => J::from(*i),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                J::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
            }
        }
        Value::Str(s) => J::String(s.to_string()),
        Value::Bytes(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => J::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.borrow().iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Object(o) => J::String(o.format_v()),
    }
}

/// Refuses every remote or file reference (rendering reads nothing but the chart); `urn:`
/// references are accepted as `true`, as Helm does when it cannot resolve them.
struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        if url.starts_with("urn:") {
            return Ok(serde_json::Value::Bool(true));
        }
        Err(format!("references are not loaded: {url}").into())
    }
}

/// Validates `values` against one schema; the error lists every violation, one per line
/// (`- at '/replicas': minimum: got 0, want 1`), ending with a newline.
fn validate_one(values: &Map, schema: &[u8]) -> Result<(), String> {
    let doc: serde_json::Value = serde_json::from_slice(schema).map_err(|e| e.to_string())?;
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.use_loader(Box::new(NoLoader));
    let loc = "file:///values.schema.json";
    compiler.add_resource(loc, doc).map_err(|e| e.to_string())?;
    let index = compiler.compile(loc, &mut schemas).map_err(|e| e.to_string())?;
    let instance = to_json(&Value::map(values.clone()));
    if !schemas.contains(index) {
        return Err("schema did not compile".into());
    }
    match schemas.validate(&instance, index) {
        Ok(()) => Ok(()),
        Err(e) => Err(super::schema_text::violations(&e)),
    }
}

/// Helm's `ValidateAgainstSchema`: the chart's schema, then each subchart's against its
/// section of the values; every failing chart's name and violations.
pub(crate) fn validate(chart: &Chart, values: &Map) -> Result<(), String> {
    let mut out = String::new();
    if let Some(schema) = &chart.schema
        && let Err(e) = validate_one(values, schema)
    {
        out.push_str(&format!("{}:\n{e}", chart.name()));
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(Value::Nil) => {}
            Some(Value::Map(m)) => {
                let m = m.borrow().clone();
                if let Err(e) = validate(sub, &m) {
                    out.push_str(&e);
                }
            }
            Some(other) => out.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                other.type_name()
            )),
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}
