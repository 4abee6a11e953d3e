//! go-yaml v2's YAML 1.1 resolution of plain scalars: which text reads as a null, a bool
//! (`y`, `on`, `NO`, ...), an int (`0755` octal, `0x1F`, `0b101`, `1_000`), a float (`.5`,
//! `1e3`, `.inf`), a timestamp or the merge key `<<`, and otherwise a string. The reader uses it
//! to type values, the emitter to decide which strings need quotes.

/// What a scalar resolves to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resolved {
    /// `~`, `null`, the empty text.
    Null,
    /// `true`, `yes`, `on`, `y`, ...
    Bool(bool),
    /// An integer that fits `int64`.
    Int(i64),
    /// An integer above `int64` that fits `uint64`.
    Uint(u64),
    /// A float.
    Float(f64),
    /// A timestamp (decoded into `interface{}` it stays the text).
    Timestamp,
    /// A string.
    Str,
}

impl Resolved {
    /// The short tag go-yaml names the kind by in its errors (`!!int`).
    pub(crate) fn short_tag(&self) -> &'static str {
        match self {
            Resolved::Null => "!!null",
            Resolved::Bool(_) => "!!bool",
            Resolved::Int(_) | Resolved::Uint(_) => "!!int",
            Resolved::Float(_) => "!!float",
            Resolved::Timestamp => "!!timestamp",
            Resolved::Str => "!!str",
        }
    }
}

fn from_table(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Resolved::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Resolves untagged plain text as go-yaml v2 does.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    let hint = match first {
        b'+' | b'-' | b'0'..=b'9' => b'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => b'M',
        b'.' => b'.',
        // `<<` is in go-yaml's table but never looked up: no hint for '<'. The reader spots
        // the merge key itself.
        _ => return Resolved::Str,
    };
    if let Some(r) = from_table(s) {
        return r;
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Resolved::Float(f);
            }
        }
        b'D' => {
            if is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(r) = parse_go_int(&plain) {
                return r;
            }
            if is_yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return Resolved::Float(f);
            }
            if let Some(bin) = plain.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(bin, 2) {
                    return Resolved::Int(i);
                }
                if let Ok(u) = u64::from_str_radix(bin, 2) {
                    return Resolved::Uint(u);
                }
            } else if let Some(bin) = plain.strip_prefix("-0b")
                && let Ok(i) = i64::from_str_radix(&format!("-{bin}"), 2)
            {
                return Resolved::Int(i);
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: a sign, then a `0x`, `0o`,
/// `0b` or `0` (octal) prefix or decimal digits.
fn parse_go_int(s: &str) -> Option<Resolved> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, s.get(1..)?),
        b'+' => (false, s.get(1..)?),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, body.get(1..)?)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= 1u128 << 63 {
            return Some(Resolved::Int((-(mag as i128)) as i64));
        }
        return None;
    }
    if let Ok(i) = i64::try_from(mag) {
        return Some(Resolved::Int(i));
    }
    // ParseUint refuses a sign.
    if s.starts_with('+') {
        return None;
    }
    u64::try_from(mag).ok().map(Resolved::Uint)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text: an overflow to infinity is an error (an
/// underflow to zero is not). Go's special spellings (`Inf`, `NaN`) and hex floats are
/// accepted too, as Go accepts them.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity") {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" && body.len() == s.len() {
        return Some(f64::NAN);
    }
    // Rust accepts "inf"/"nan" spellings Go handles above, and nothing Go refuses otherwise,
    // except that Go also reads hex floats: those never reach here from YAML (the float
    // pattern and the '.' hint exclude them).
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() { None } else { Some(f) }
}

/// Whether go-yaml v2 reads `s` as a timestamp: `YYYY-M-D`, optionally followed by
/// `T`/`t`/space and `h:m:s[.frac]`, with a `Z`/`±hh:mm` zone after `T`/`t` (Go's
/// `time.Parse` with go-yaml's four layouts).
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b.iter().take(4).all(u8::is_ascii_digit) || b.get(4) != Some(&b'-') {
        return false;
    }
    let mut i = 5;
    let Some(month) = num(b, &mut i, 2) else { return false };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(b, &mut i, 2) else { return false };
    let year: u32 = s.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    if !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b.get(i).copied();
    if !matches!(sep, Some(b'T' | b't' | b' ')) {
        return false;
    }
    i += 1;
    let ok_time = (|| {
        let h = num(b, &mut i, 2)?;
        (b.get(i) == Some(&b':')).then_some(())?;
        i += 1;
        let m = num(b, &mut i, 2)?;
        (b.get(i) == Some(&b':')).then_some(())?;
        i += 1;
        let sec = num(b, &mut i, 2)?;
        (h < 24 && m < 60 && sec < 60).then_some(())
    })();
    if ok_time.is_none() {
        return false;
    }
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if sep == Some(b' ') {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = b.get(i + 1..).unwrap_or(&[]);
            rest.len() == 5
                && rest.first().is_some_and(u8::is_ascii_digit)
                && rest.get(1).is_some_and(u8::is_ascii_digit)
                && rest.get(2) == Some(&b':')
                && rest.get(3).is_some_and(u8::is_ascii_digit)
                && rest.get(4).is_some_and(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// One or two digits (Go's `getnum` for non-padded fields).
fn num(b: &[u8], i: &mut usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v = 0u32;
    while *i - start < max && b.get(*i).is_some_and(u8::is_ascii_digit) {
        v = v * 10 + u32::from(b.get(*i).copied().unwrap_or(b'0') - b'0');
        *i += 1;
    }
    (*i > start).then_some(v)
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// YAML 1.1 base-60 floats (`1:30`): go-yaml v2 reads them as strings but quotes them when
/// writing.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if !matches!(b.first(), Some(b'+' | b'-' | b'0'..=b'9')) || !s.contains(':') {
        return false;
    }
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i - start < 2 && b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b.get(start).is_some_and(|c| *c <= b'5') => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_forms_resolve_as_go_yaml_v2_resolves_them() {
        use Resolved::*;
        for (s, want) in [
            ("y", Bool(true)),
            ("NO", Bool(false)),
            ("On", Bool(true)),
            ("oN", Str),
            ("~", Null),
            ("0755", Int(493)),
            ("0x1F", Int(31)),
            ("+12", Int(12)),
            ("0b101", Int(5)),
            ("-0b11", Int(-3)),
            ("0o17", Int(15)),
            ("1_000", Int(1000)),
            ("1__0", Int(10)),
            ("0x_1F", Int(31)),
            ("08", Float(8.0)),
            ("00", Int(0)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("1e3", Float(1000.0)),
            (".5", Float(0.5)),
            ("1.", Float(1.0)),
            ("1e400", Str),
            ("0.1.2", Str),
            ("2001-12-14", Timestamp),
            ("2001-12-14T21:59:43.10-05:00", Timestamp),
            ("2001-12-14 21:59:43.10", Timestamp),
            ("2001-02-30", Str),
            ("1:30", Str),
            ("<<", Str),
            ("-", Str),
        ] {
            let got = resolve_plain(s);
            match (&got, &want) {
                (Float(a), Float(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{s}"),
                _ => assert_eq!(got, want, "{s}"),
            }
        }
        assert!(matches!(resolve_plain(".nan"), Float(f) if f.is_nan()));
        assert!(is_base60_float("1:30"));
        assert!(is_base60_float("-1:30:59.5"));
        assert!(!is_base60_float("1:60"));
        assert!(!is_base60_float("a:1"));
    }
}
