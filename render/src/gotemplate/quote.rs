//! `strconv`'s quoting and unquoting of Go literals, and `unicode.IsPrint`.

use std::fmt::Write as _;

/// Go's `unicode.IsPrint`, near enough: no control, format or separator characters but the
/// ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E000}'..='\u{F8FF}'))
}

fn quote_with(s: &str, q: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            _ if c == q => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) && (!ascii_only || c.is_ascii()) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(q);
    out
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &str) -> String {
    quote_with(s, '"', true)
}

/// `strconv.QuoteRune`.
pub(crate) fn quote_rune(c: char) -> String {
    quote_with(&c.to_string(), '\'', false)
}

/// `%#U` of a character: `U+0041 'A'`.
pub(crate) fn unicode_u(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// `strconv.Unquote` of a Go string literal (`"..."` or `` `...` ``) or character literal;
/// `None` if it is malformed or its bytes are not UTF-8.
pub(crate) fn unquote(lit: &str) -> Option<String> {
    if let Some(raw) = lit.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        if raw.contains('`') {
            return None;
        }
        return Some(raw.replace('\r', ""));
    }
    let (q, body) = if let Some(b) = lit.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        ('"', b)
    } else if let Some(b) = lit.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        ('\'', b)
    } else {
        return None;
    };
    let mut bytes = Vec::with_capacity(body.len());
    let mut rest = body;
    let mut count = 0;
    while !rest.is_empty() {
        let (piece, tail) = unquote_one(rest, q)?;
        bytes.extend_from_slice(&piece);
        rest = tail;
        count += 1;
    }
    if q == '\'' && count != 1 {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// The character of a character literal (`'a'`, `'\n'`, `'\x41'`).
pub(crate) fn unquote_char(lit: &str) -> Option<char> {
    let body = lit.strip_prefix('\'')?.strip_suffix('\'')?;
    let (piece, tail) = unquote_one(body, '\'')?;
    if !tail.is_empty() {
        return None;
    }
    // A byte escape in a rune literal is that code point.
    if piece.len() == 1 {
        return Some(char::from(piece[0]));
    }
    std::str::from_utf8(&piece).ok()?.chars().next()
}

/// One character or escape of a quoted literal's body: its bytes and the rest.
fn unquote_one(s: &str, q: char) -> Option<(Vec<u8>, &str)> {
    let mut it = s.chars();
    let c = it.next()?;
    if c == q && q == '"' || c == '\n' && q != '`' {
        return None;
    }
    if c != '\\' {
        let mut buf = [0u8; 4];
        return Some((c.encode_utf8(&mut buf).as_bytes().to_vec(), it.as_str()));
    }
    let e = it.next()?;
    let rest = it.as_str();
    let simple = |b: u8| Some((vec![b], rest));
    match e {
        'a' => simple(7),
        'b' => simple(8),
        'f' => simple(12),
        'n' => simple(b'\n'),
        'r' => simple(b'\r'),
        't' => simple(b'\t'),
        'v' => simple(11),
        '\\' => simple(b'\\'),
        '\'' | '"' if e == q => simple(e as u8),
        '0'..='7' => {
            let digits = s.get(1..4)?;
            let v = u32::from_str_radix(digits, 8).ok()?;
            if v > 255 {
                return None;
            }
            Some((vec![v as u8], s.get(4..)?))
        }
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n)?;
            if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let v = u32::from_str_radix(digits, 16).ok()?;
            let tail = rest.get(n..)?;
            if e == 'x' {
                return Some((vec![v as u8], tail));
            }
            let c = char::from_u32(v)?;
            let mut buf = [0u8; 4];
            Some((c.encode_utf8(&mut buf).as_bytes().to_vec(), tail))
        }
        _ => None,
    }
}
