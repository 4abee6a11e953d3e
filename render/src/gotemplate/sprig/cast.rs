//! The conversions sprig applies to `interface{}` arguments: `strval` (`toString`),
//! spf13/cast's `ToInt64`/`ToFloat64`, `empty`, `reflect.DeepEqual`, and the `reflect.Kind`
//! names its error messages print.

use crate::gotemplate::value::Value;

/// sprig's `strval`: strings as they are, `[]byte` as text, anything else as `%v` prints it.
pub fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.as_str().to_owned(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.format_v(),
    }
}

/// Go's `int64(f)` on amd64: truncation toward zero; NaN and out-of-range values give the
/// "integer indefinite" value, `math.MinInt64`.
pub fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f.trunc() as i64
    }
}

/// spf13/cast `ToInt64` (errors become 0): numbers converted (floats truncated), booleans
/// 0/1, strings parsed as Go integer literals (`0x10`, `010` octal, `1_000`, a trailing
/// `.0`), anything else 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => go_f64_to_i64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast `ToFloat64` (errors become 0).
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` reads as `"12"`.
fn trim_zero_decimal(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut found_zero = false;
    for i in (0..bytes.len()).rev() {
        match bytes.get(i) {
            Some(b'.') if found_zero => return s.get(..i).unwrap_or(s),
            Some(b'.') => {}
            Some(b'0') => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Whether `_` in `s` only separates digits (Go's `underscoreOK`, simplified to the literal
/// forms integers and decimals take).
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0
                && b.get(i - 1).is_some_and(|p| p.is_ascii_alphanumeric())
                && b.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric()))
    })
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` prefixes,
/// underscores between digits.
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?, true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() || !underscores_ok(if prefixed { &lower } else { digits }) {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(&clean, radix).ok()?;
    if neg {
        if magnitude <= 1u64 << 63 {
            Some((magnitude as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for decimal forms, `Inf` and `NaN` (hexadecimal floats are
/// not read: they give `None`).
pub fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty() || !underscores_ok(s) {
        return None;
    }
    let body = s.trim_start_matches(['+', '-']);
    if body.len() + 1 < s.len() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("0x") {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let ok_word = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    if !ok_word
        && !lower
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    let f: f64 = clean.parse().ok()?;
    if lower == "nan" && s.starts_with(['+', '-']) {
        return None;
    }
    Some(f)
}

/// The `reflect.Kind` name of a value, as sprig's errors print it.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Int64(_) => "int64",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::Bytes(_) | Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Object(o) => {
            if o.type_name().starts_with('*') {
                "ptr"
            } else {
                "struct"
            }
        }
    }
}

/// sprig's `empty`: nil, false, zero numbers, empty strings, lists and maps; never a struct.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        other => !other.truth(),
    }
}

/// `reflect.DeepEqual` of two interface values: equal types and equal contents (so `1`, an
/// `int`, is not `1` read from values, a `float64`).
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x.as_str() == y.as_str(),
        (Value::Bytes(x), Value::Bytes(y)) => x.as_slice() == y.as_slice(),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            if std::rc::Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => std::rc::Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// The elements of a slice: a list's values, or a `[]byte`'s bytes as `uint8`s (shown as
/// `int`s: the model has no `uint8`).
pub fn list_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.as_ref().clone()),
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_reads_strings_as_go_literals() {
        // Oracle: int "010"|"1.0"|" 1"|"1e3"|"+5"|"1_000"|"0b11"|"-0x10" = 8|1|0|0|5|1000|3|-16
        for (s, want) in [
            ("010", 8),
            ("1.0", 1),
            (" 1", 0),
            ("1e3", 0),
            ("+5", 5),
            ("1_000", 1000),
            ("0b11", 3),
            ("-0x10", -16),
            ("1.5", 0),
            ("0x10", 16),
        ] {
            assert_eq!(to_int64(&Value::str(s)), want, "{s}");
        }
        // float64 "1e3"|"abc"|"0x10"|"1_0" = 1000|0|0|10
        for (s, want) in [("1e3", 1000.0), ("abc", 0.0), ("0x10", 0.0), ("1_0", 10.0)] {
            assert_eq!(to_float64(&Value::str(s)), want, "{s}");
        }
        assert_eq!(to_int64(&Value::Float(1e20)), i64::MIN);
        assert_eq!(to_int64(&Value::Float(3.9)), 3);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
    }
}
