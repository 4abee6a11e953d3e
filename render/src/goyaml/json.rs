//! JSON as Go's encoding/json writes it (`toJson`, `toPrettyJson`, `toRawJson`): map keys in
//! byte order, `<`, `>`, `&` escaped unless raw, U+2028/U+2029 escaped, numbers formatted as Go
//! formats them (`1e+21`, `1e-7`), `[]byte` as base64, cycles refused.

use std::collections::HashSet;
use std::fmt::Write as _;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::read::MAX_DEPTH;
use crate::gotemplate::value::{Value, format_e_digits, format_shortest_e};

/// Options of the encoder.
#[derive(Clone, Copy)]
pub(crate) struct JsonStyle {
    /// Escape `<`, `>` and `&` (Go's default).
    pub escape_html: bool,
    /// `MarshalIndent(v, "", "  ")`.
    pub pretty: bool,
}

/// Encodes `v` as Go's `json.Marshal` (or `MarshalIndent`) does, or Go's error text.
pub(crate) fn encode(v: &Value, style: JsonStyle) -> Result<Zeroizing<String>, String> {
    let mut out = Zeroizing::new(String::new());
    let mut seen = HashSet::new();
    write_value(&mut out, v, style, 0, &mut seen)?;
    Ok(out)
}

fn newline(out: &mut String, style: JsonStyle, depth: usize) {
    if style.pretty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn write_value(
    out: &mut String,
    v: &Value,
    style: JsonStyle,
    depth: usize,
    seen: &mut HashSet<usize>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "json: unsupported value: nested deeper than {MAX_DEPTH} levels"
        ));
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&format_json_float(*f)?),
        Value::Str(s) => write_string(out, s, style.escape_html),
        Value::Bytes(b) => {
            let enc = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(b.as_slice()));
            write_string(out, &enc, style.escape_html);
        }
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_value(out, item, style, depth + 1, seen)?;
            }
            if !items.is_empty() {
                newline(out, style, depth);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let id = std::rc::Rc::as_ptr(m) as usize;
            if !seen.insert(id) {
                return Err("json: unsupported value: encountered a cycle via map[string]interface {}".into());
            }
            let map = m.borrow();
            out.push('{');
            for (n, (k, item)) in map.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_string(out, k, style.escape_html);
                out.push(':');
                if style.pretty {
                    out.push(' ');
                }
                write_value(out, item, style, depth + 1, seen)?;
            }
            if !map.is_empty() {
                newline(out, style, depth);
            }
            out.push('}');
            seen.remove(&id);
        }
        Value::Object(o) => {
            if let Some(e) = o.elements() {
                return write_value(out, &e, style, depth, seen);
            }
            return Err(format!(
                "json: unsupported type: {} (writing Go structs as JSON is not supported)",
                o.type_name()
            ));
        }
    }
    Ok(())
}

/// A JSON string as encoding/json writes it.
pub(crate) fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A `float64` as encoding/json writes it: plain decimal digits from 1e-6 up to 1e21,
/// exponent form (`1e+21`, `1e-7`) outside; NaN and infinities are errors.
pub(crate) fn format_json_float(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        let text = crate::gotemplate::value::format_float_g(f);
        return Err(format!("json: unsupported value: {text}"));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let mut s = format_e_digits(&format!("{f:e}"));
        // Go shortens a two-digit negative exponent: e-07 becomes e-7.
        if let Some(at) = s.find("e-0")
            && s.len() == at + 4
        {
            s.replace_range(at + 2..at + 3, "");
        }
        return Ok(s);
    }
    if f == 0.0 {
        return Ok(if f.is_sign_negative() { "-0".into() } else { "0".into() });
    }
    Ok(format_shortest_e(&format!("{f:e}"), i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_encoding_json_writes_them() {
        for (f, want) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-0.0, "-0"),
            (2.5, "2.5"),
            (1e100, "1e+100"),
            (1.5e-300, "1.5e-300"),
            (9223372036854775807.0, "9223372036854776000"),
        ] {
            assert_eq!(format_json_float(f).unwrap(), want, "{f}");
        }
        assert_eq!(format_json_float(f64::NAN).unwrap_err(), "json: unsupported value: NaN");
    }
}
