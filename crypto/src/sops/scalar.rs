//! Scalars as Go's sops turns them into bytes: for encryption and for the MAC.
//!
//! Booleans are `True`/`False`, floats use Go's shortest `'f'` formatting, integers are
//! decimal, timestamps are RFC 3339 text.

use zeroize::Zeroizing;

use super::cipher::CipherError;
use super::tree::{Comment, Value, secret};

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, no exponent.
pub fn go_float_f(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        // Rust's Display is the shortest representation that round-trips, never in exponent form.
        format!("{f}")
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` (used by go-yaml when writing floats).
pub fn go_float_g(f: f64) -> String {
    if !f.is_finite() {
        return go_float_f(f);
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest digits and decimal exponent, from Rust's `{:e}` (also shortest round-trip).
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// The bytes sops encrypts for a value, and its `type:` tag.
pub fn to_plaintext(v: &Value) -> Result<(Zeroizing<Vec<u8>>, &'static str), CipherError> {
    let (text, kind): (Vec<u8>, &'static str) = match v {
        Value::Str(s) => (s.as_bytes().to_vec(), "str"),
        Value::Int(i) => (i.to_string().into_bytes(), "int"),
        Value::Float(f) => (go_float_f(*f).into_bytes(), "float"),
        Value::Bool(b) => ((if *b { "True" } else { "False" }).as_bytes().to_vec(), "bool"),
        Value::Time(t) => (t.as_bytes().to_vec(), "time"),
        Value::Bytes(b) => (b.to_vec(), "str"),
        Value::Comment(c) => (c.text.as_bytes().to_vec(), "comment"),
        Value::Null => return Err(CipherError::Unsupported("null")),
        Value::Map(_) => return Err(CipherError::Unsupported("map")),
        Value::Seq(_) => return Err(CipherError::Unsupported("list")),
    };
    Ok((Zeroizing::new(text), kind))
}

/// The bytes a value contributes to the MAC (`None` for values sops skips: null, comments).
pub fn mac_bytes(v: &Value) -> Option<Zeroizing<Vec<u8>>> {
    match v {
        Value::Null | Value::Comment(_) | Value::Map(_) | Value::Seq(_) => None,
        other => to_plaintext(other).ok().map(|(b, _)| b),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms sops writes (and Go's special values).
pub fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => return Some(f64::NAN),
        "+Inf" | "Inf" | "inf" | "+inf" => return Some(f64::INFINITY),
        "-Inf" | "-inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    if cleaned.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    cleaned.parse().ok()
}

/// Rebuilds a typed value from decrypted bytes and its `type:` tag.
pub fn from_plaintext(kind: &str, plain: &[u8]) -> Result<Value, CipherError> {
    let text = || std::str::from_utf8(plain).map_err(|_| CipherError::BadPlaintext("UTF-8 string"));
    Ok(match kind {
        // Go strings may hold any bytes (the binary store's payload): keep non-UTF-8 as bytes.
        "str" | "bytes" => match std::str::from_utf8(plain) {
            Ok(s) => Value::Str(secret(s)),
            Err(_) => Value::Bytes(Zeroizing::new(plain.to_vec())),
        },
        "int" => Value::Int(text()?.parse().map_err(|_| CipherError::BadPlaintext("int"))?),
        "float" => Value::Float(parse_go_float(text()?).ok_or(CipherError::BadPlaintext("float"))?),
        "bool" => Value::Bool(parse_go_bool(text()?).ok_or(CipherError::BadPlaintext("bool"))?),
        "time" => Value::Time(secret(text()?)),
        "comment" => Value::Comment(Comment {
            text: secret(text()?),
            inline: false,
        }),
        other => return Err(CipherError::UnknownType(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go() {
        assert_eq!(go_float_f(5432.0), "5432");
        assert_eq!(go_float_f(0.75), "0.75");
        assert_eq!(go_float_f(1e21), "1000000000000000000000");
        assert_eq!(go_float_g(1e21), "1e+21");
        assert_eq!(go_float_g(0.00001), "1e-05");
        assert_eq!(go_float_g(0.0001), "0.0001");
        assert_eq!(go_float_g(1234.56789), "1234.56789");
        assert_eq!(go_float_g(1.5e-7), "1.5e-07");
    }

    #[test]
    fn bools_are_title_case() {
        assert_eq!(&**mac_bytes(&Value::Bool(true)).unwrap(), b"True");
        assert_eq!(&**mac_bytes(&Value::Bool(false)).unwrap(), b"False");
    }
}
