//! Go's number literals: `strconv` parsing (base prefixes, underscores, hex floats) and the
//! parser's classification of a constant.

use super::ast::Number;

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign): prefixes 0x, 0o, 0b, a leading 0 for
/// octal, and underscores between digits when a prefix or leading 0 is present... or not.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, body, prefixed) = if let Some(b) = lower.strip_prefix("0x") {
        (16, b, true)
    } else if let Some(b) = lower.strip_prefix("0o") {
        (8, b, true)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if !underscore_ok(&lower, prefixed) {
        return None;
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Go's rule for underscores in number literals: only between digits (or after a base
/// prefix), never doubled or trailing.
fn underscore_ok(s: &str, prefixed: bool) -> bool {
    if !s.contains('_') {
        return true;
    }
    let b = s.as_bytes();
    // After a base prefix ("0x_1") an underscore may come first.
    let start = if prefixed && b.len() > 2 && b[1].is_ascii_alphabetic() {
        2
    } else {
        0
    };
    let mut prev_digit = start == 2;
    for &c in &b[start..] {
        if c == b'_' {
            if !prev_digit {
                return false;
            }
            prev_digit = false;
        } else {
            prev_digit = c.is_ascii_hexdigit();
        }
    }
    prev_digit
}

/// Go's `strconv.ParseFloat(s, 64)` for the literals the lexer lets through (decimal and
/// hexadecimal mantissas, underscores).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !underscore_ok(&body.to_ascii_lowercase(), body.starts_with('0')) {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let v = if let Some(hex) = lower.strip_prefix("0x") {
        let (mant, exp) = hex.split_once('p')?;
        let exp: i32 = exp.parse().ok()?;
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        if ip.is_empty() && fp.is_empty() {
            return None;
        }
        let mut m = 0f64;
        for c in ip.chars() {
            m = m * 16.0 + c.to_digit(16)? as f64;
        }
        let mut scale = 1.0 / 16.0;
        for c in fp.chars() {
            m += c.to_digit(16)? as f64 * scale;
            scale /= 16.0;
        }
        m * 2f64.powi(exp)
    } else {
        if lower.contains('p') || !lower.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        lower.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Go's `newNumber`: how an untyped constant can be used (as int, uint, float), or the
/// parse error.
pub(crate) fn number(lit: &str, is_char: bool) -> Result<Number, String> {
    let text = lit.to_string();
    if is_char {
        let Some(c) = crate::gotemplate::fmt::unquote_char(&text) else {
            return Err(format!("malformed character constant: {text}"));
        };
        let v = c as i64;
        return Ok(Number {
            text,
            int: Some(v),
            uint: Some(v as u64),
            float: Some(v as f64),
        });
    }
    if text.ends_with('i') {
        return Err("complex numbers are not supported".into());
    }
    let mut n = Number {
        text: text.clone(),
        int: None,
        uint: None,
        float: None,
    };
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text.as_str()),
    };
    if let Some(u) = parse_uint(digits) {
        if !text.starts_with(['-', '+']) {
            n.uint = Some(u);
        }
        if neg {
            if u <= i64::MAX as u64 + 1 {
                n.int = Some((u as i128).wrapping_neg() as i64);
                if u == 0 {
                    n.uint = Some(0);
                }
            }
        } else if u <= i64::MAX as u64 {
            n.int = Some(u as i64);
        }
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_float(&text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gotemplate::fmt::quote(&text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gotemplate::fmt::quote(&text)
        ));
    }
    Ok(n)
}
