//! sprig's conversions: `atoi`, `int`, `int64`, `float64`, `toDecimal`, `toStrings`, and
//! splitting and joining strings (`split`, `splitList`, `splitn`, `join`).

use super::args::{self, MAX_OUTPUT};
use super::cast::{to_float64, to_int64};
use super::f;
use super::lists::strslice;
use crate::gotemplate::value::{Map, Value};
use crate::gotemplate::{FuncMap, Ty};

/// Registers the conversion functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Int, String as S};
    m.insert("atoi", f(&[S], |a| Ok(Value::Int(atoi(args::string(a, 0)?)))));
    m.insert("int", f(&[Any], |a| Ok(Value::Int(to_int64(args::any(a, 0))))));
    m.insert("int64", f(&[Any], |a| Ok(Value::Int64(to_int64(args::any(a, 0))))));
    m.insert("float64", f(&[Any], |a| Ok(Value::Float(to_float64(args::any(a, 0))))));
    m.insert(
        "toDecimal",
        f(&[Any], |a| {
            let text = args::any(a, 0).format_v();
            Ok(Value::Int64(parse_octal(&text).unwrap_or(0)))
        }),
    );
    m.insert(
        "toStrings",
        f(&[Any], |a| {
            Ok(Value::list(
                strslice(args::any(a, 0)).into_iter().map(Value::str).collect(),
            ))
        }),
    );
    m.insert(
        "join",
        f(&[S, Any], |a| {
            Ok(Value::str(strslice(args::any(a, 1)).join(args::string(a, 0)?)))
        }),
    );
    m.insert(
        "splitList",
        f(&[S, S], |a| {
            let parts = go_split(args::string(a, 1)?, args::string(a, 0)?, -1)?;
            Ok(Value::list(parts.into_iter().map(Value::str).collect()))
        }),
    );
    m.insert(
        "split",
        f(&[S, S], |a| {
            Ok(numbered(go_split(args::string(a, 1)?, args::string(a, 0)?, -1)?))
        }),
    );
    m.insert(
        "splitn",
        f(&[S, Int, S], |a| {
            Ok(numbered(go_split(
                args::string(a, 2)?,
                args::string(a, 0)?,
                args::int(a, 1)?,
            )?))
        }),
    );
}

/// `strconv.Atoi` with its error dropped: 0 for bad syntax, the nearest bound when out of
/// range.
fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse()
        .unwrap_or(if s.starts_with('-') { i64::MIN } else { i64::MAX })
}

/// `strconv.ParseInt(s, 8, 64)`.
fn parse_octal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(s, 8).ok()
}

/// Go's `strings.SplitN(s, sep, n)` (`n < 0`: all; `0`: none; an empty `sep` splits
/// between characters).
fn go_split(s: &str, sep: &str, n: i64) -> Result<Vec<String>, String> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let limit = if n < 0 {
        usize::MAX
    } else {
        usize::try_from(n).unwrap_or(usize::MAX)
    };
    let parts: Vec<String> = if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() > MAX_OUTPUT {
            return Err("split: the result would be over the size limit".to_owned());
        }
        let mut out: Vec<String> = Vec::new();
        for (i, c) in s.char_indices() {
            if out.len() + 1 == limit {
                out.push(s.get(i..).unwrap_or_default().to_owned());
                break;
            }
            out.push(c.to_string());
        }
        out
    } else {
        s.splitn(limit, sep).map(str::to_owned).collect()
    };
    if parts.len() > MAX_OUTPUT {
        return Err("split: the result would be over the size limit".to_owned());
    }
    Ok(parts)
}

/// sprig's `split` result: `{_0: first, _1: second, ...}`.
fn numbered(parts: Vec<String>) -> Value {
    let m: Map = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::str(p)))
        .collect();
    Value::map(m)
}

#[cfg(test)]
mod tests {
    use super::super::funcs;
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    #[test]
    fn conversions_match_the_oracle() {
        let i = Value::Int;
        let s = Value::str;
        for (name, a, want) in [
            ("atoi", vec![s("99999999999999999999")], "9223372036854775807"),
            ("atoi", vec![s("-5")], "-5"),
            ("atoi", vec![s("0x5")], "0"),
            ("atoi", vec![s("12a")], "0"),
            ("toDecimal", vec![s("777")], "511"),
            ("toDecimal", vec![i(777)], "511"),
            ("toDecimal", vec![Value::Float(777.0)], "511"),
            ("int", vec![Value::Float(3.9)], "3"),
            ("int", vec![Value::Nil], "0"),
            ("int64", vec![Value::Float(1e20)], "-9223372036854775808"),
            ("float64", vec![s("1e3")], "1000"),
            (
                "toStrings",
                vec![Value::list(vec![i(1), Value::Nil, Value::Float(2.5)])],
                "[1 2.5]",
            ),
            ("join", vec![s(","), Value::list(vec![i(1), Value::Nil, s("a")])], "1,a"),
            ("join", vec![s(","), s("abc")], "abc"),
            ("join", vec![s(","), Value::Nil], ""),
            ("split", vec![s(""), s("abc")], "map[_0:a _1:b _2:c]"),
            ("splitList", vec![s(""), s("abc")], "[a b c]"),
            ("splitn", vec![s(","), i(2), s("a,b,c")], "map[_0:a _1:b,c]"),
            ("splitn", vec![s(","), i(0), s("a,b")], "map[]"),
            ("splitn", vec![s(","), i(-1), s("a,b")], "map[_0:a _1:b]"),
            ("split", vec![s(","), s("")], "map[_0:]"),
            ("splitList", vec![s(","), s("")], "[]"),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name}");
        }
        let m = funcs();
        let t = m.get("int64").map(|f| (f.call)(&[s("7")]));
        assert!(matches!(t, Some(Ok(Value::Int64(7)))));
    }
}
