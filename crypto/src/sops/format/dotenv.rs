//! The dotenv store: `KEY=value` lines, `#` comment lines; newlines in values are `\n`.

use crate::sops::scalar::go_float_f;
use crate::sops::tree::{Branch, Comment, Item, Value};

/// Parses dotenv text. Lines without `=` are refused (by number, never by content).
pub fn load(bytes: &[u8]) -> Result<Branch, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "input is not valid UTF-8".to_string())?;
    let mut b = Branch::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            b.0.push(Item::Comment(Comment::new(comment)));
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("invalid dotenv input at line {}: expected KEY=value", i + 1));
        };
        b.push(key, Value::str(value.replace("\\n", "\n")));
    }
    Ok(b)
}

/// sops' `ValToString` for non-string values.
pub fn val_to_string(v: &Value) -> String {
    match v {
        Value::Float(f) => {
            // Go's 'G' formatting, with ".0" added to whole numbers.
            let g = crate::sops::scalar::go_float_g(*f).to_uppercase();
            if g.contains('.') || g.contains('E') || !f.is_finite() {
                g
            } else {
                format!("{}.0", go_float_f(*f))
            }
        }
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) | Value::Time(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => "<nil>".into(),
        Value::Map(_) | Value::Seq(_) | Value::Comment(_) => String::new(),
    }
}

/// Writes dotenv text.
pub fn emit(doc: &Branch) -> Result<Vec<u8>, String> {
    let mut out = String::new();
    for item in &doc.0 {
        match item {
            Item::Comment(c) => {
                out.push('#');
                out.push_str(&c.text);
                out.push('\n');
            }
            Item::Pair { key, value } => {
                if matches!(value, Value::Map(_) | Value::Seq(_)) {
                    return Err(format!(
                        "cannot use complex value in dotenv file; offending key {}",
                        key.as_str()
                    ));
                }
                let v = match value {
                    Value::Str(s) => s.replace('\n', "\\n"),
                    other => val_to_string(other),
                };
                out.push_str(key);
                out.push('=');
                out.push_str(&v);
                out.push('\n');
            }
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let src = "A=1\n# note\nB=x=y\nC=multi\\nline\nEMPTY=\n";
        let doc = load(src.as_bytes()).unwrap();
        assert_eq!(doc.get("C"), Some(&Value::str("multi\nline")));
        assert_eq!(String::from_utf8(emit(&doc).unwrap()).unwrap(), src);
    }

    #[test]
    fn bad_line_does_not_echo_content() {
        let err = load(b"A=1\nsecret-without-equals\n").unwrap_err();
        assert!(err.contains("line 2"));
        assert!(!err.contains("secret"));
    }
}
