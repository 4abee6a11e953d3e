//! The JSON store: one top-level object, key order kept; written as Go's `json.Indent` with tabs.

use crate::sops::scalar::go_float_f;
use crate::sops::tree::{Branch, Value, secret};

/// Converts a JSON value into a tree value (key order kept).
pub fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(secret(s)),
        serde_json::Value::Array(items) => Value::Seq(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(map) => {
            let mut b = Branch::new();
            for (k, v) in map {
                b.push(k, from_json(v));
            }
            Value::Map(b)
        }
    }
}

/// Converts a tree value to JSON (comments dropped; non-finite floats become null).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Comment(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Str(s) | Value::Time(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::Seq(items) => serde_json::Value::Array(
            items
                .iter()
                .filter(|i| !matches!(i, Value::Comment(_)))
                .map(to_json)
                .collect(),
        ),
        Value::Map(b) => serde_json::Value::Object(b.pairs().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
    }
}

/// Parses a JSON object.
pub fn load(bytes: &[u8]) -> Result<Branch, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match from_json(v) {
        Value::Map(b) => Ok(b),
        _ => Err("sops only supports JSON files with a top-level object".into()),
    }
}

/// Go's `encoding/json` string quoting (HTML-safe escapes included).
pub fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` of a float64.
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{f:e}");
        let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{}", exp.abs())
    } else {
        go_float_f(f)
    }
}

fn value(v: &Value, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n('\t', d));
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) if f.is_finite() => out.push_str(&go_json_float(*f)),
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) | Value::Time(s) => quote(s, out),
        Value::Bytes(b) => quote(&String::from_utf8_lossy(b), out),
        Value::Comment(_) => {}
        Value::Map(b) => {
            if b.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in b.pairs().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                quote(k, out);
                out.push_str(": ");
                value(v, depth + 1, out);
            }
            pad(out, depth);
            out.push('}');
        }
        Value::Seq(items) => {
            let items: Vec<&Value> = items.iter().filter(|i| !matches!(i, Value::Comment(_))).collect();
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                value(item, depth + 1, out);
            }
            pad(out, depth);
            out.push(']');
        }
    }
}

/// Writes an object as sops does (tab indentation, trailing newline; comments dropped).
pub fn emit(doc: &Branch) -> String {
    let mut out = String::new();
    value(&Value::Map(doc.clone()), 0, &mut out);
    out.push('\n');
    out
}

/// One value as compact-ish JSON (used by `--extract` for non-scalar values).
pub fn emit_value(v: &Value) -> String {
    let mut out = String::new();
    value(v, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_order_and_types() {
        let src = br#"{"z": 1, "a": {"b": [true, null, 0.75, "x<y"]}, "e": {}}"#;
        let doc = load(src).unwrap();
        let out = emit(&doc);
        assert_eq!(
            out,
            "{\n\t\"z\": 1,\n\t\"a\": {\n\t\t\"b\": [\n\t\t\ttrue,\n\t\t\tnull,\n\t\t\t0.75,\n\t\t\t\"x\\u003cy\"\n\t\t]\n\t},\n\t\"e\": {}\n}\n"
        );
        assert_eq!(load(out.as_bytes()).unwrap(), doc);
    }

    #[test]
    fn top_level_array_refused() {
        assert!(load(b"[1]").is_err());
    }
}
