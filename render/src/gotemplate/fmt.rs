//! Go's `fmt` (`Sprint`, `Sprintln`, `Sprintf` with its verbs, flags, width and precision,
//! and its `%!verb(type=value)` complaints) and `strconv`'s quoting, over template values.

use super::value::{Value, format_float_shortest};
use std::fmt::Write as _;

/// `fmt.Sprint`: operands in their default format, with a space between two operands when
/// neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&a.format_v());
    }
    out
}

/// `fmt.Sprintln`: operands in their default format, space-separated, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::format_v).collect();
    let mut out = parts.join(" ");
    out.push('\n');
    out
}

/// Flags, width and precision of one verb.
#[derive(Clone, Copy, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argn = 0usize;
    let mut reordered = false;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let mut bad_index = false;
        // An argument index, a width (number or *), a precision.
        let mut take_index =
            |chars: &mut std::iter::Peekable<std::str::CharIndices>, argn: &mut usize, bad: &mut bool| {
                if chars.peek().map(|p| p.1) != Some('[') {
                    return;
                }
                chars.next();
                let mut n = String::new();
                let mut closed = false;
                for (_, d) in chars.by_ref() {
                    if d == ']' {
                        closed = true;
                        break;
                    }
                    n.push(d);
                }
                match n.parse::<usize>() {
                    Ok(i) if closed && i >= 1 && i <= args.len() => {
                        *argn = i - 1;
                        reordered = true;
                    }
                    _ => *bad = true,
                }
            };
        take_index(&mut chars, &mut argn, &mut bad_index);
        if chars.peek().map(|p| p.1) == Some('*') {
            chars.next();
            match args.get(argn) {
                Some(Value::Int(w) | Value::Int64(w)) => {
                    if *w < 0 {
                        spec.minus = true;
                    }
                    spec.width = Some(w.unsigned_abs().min(1 << 20) as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argn += 1;
        } else {
            spec.width = read_num(&mut chars);
        }
        if chars.peek().map(|p| p.1) == Some('.') {
            chars.next();
            take_index(&mut chars, &mut argn, &mut bad_index);
            if chars.peek().map(|p| p.1) == Some('*') {
                chars.next();
                match args.get(argn) {
                    Some(Value::Int(p) | Value::Int64(p)) if *p >= 0 => {
                        spec.prec = Some((*p).min(1 << 20) as usize);
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                argn += 1;
            } else {
                spec.prec = Some(read_num(&mut chars).unwrap_or(0));
            }
        }
        take_index(&mut chars, &mut argn, &mut bad_index);
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if bad_index {
            let _ = write!(out, "%!{verb}(BADINDEX)");
            continue;
        }
        let Some(arg) = args.get(argn) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argn += 1;
        format_one(&mut out, arg, verb, spec, true);
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args.iter().enumerate().skip(argn) {
            if i > argn {
                out.push_str(", ");
            }
            if a.is_nil() {
                out.push_str("<nil>");
            } else {
                let _ = write!(out, "{}={}", a.type_name(), a.format_v());
            }
        }
        out.push(')');
    }
    out
}

fn read_num(chars: &mut std::iter::Peekable<std::str::CharIndices>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        n = Some((n.unwrap_or(0) * 10 + v as usize).min(1 << 20));
        chars.next();
    }
    n
}

fn bad_verb(out: &mut String, v: &Value, verb: char) {
    if v.is_nil() {
        let _ = write!(out, "%!{verb}(<nil>)");
    } else {
        let _ = write!(out, "%!{verb}({}={})", v.type_name(), v.format_v());
    }
}

/// Pads `s` to the width (with zeros after any sign when `zero` applies).
fn pad(out: &mut String, s: &str, spec: Spec, zero_ok: bool) {
    let len = s.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(s);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && zero_ok {
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+' | b'-' | b' ') => s.split_at(1),
            _ => ("", s),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn format_one(out: &mut String, v: &Value, verb: char, mut spec: Spec, top: bool) {
    if verb == 'v' {
        // %+v asks for field names, not signs.
        spec.plus = false;
    }
    if verb == 'T' {
        pad(out, &v.type_name(), spec, false);
        return;
    }
    if verb == 'v' && spec.sharp {
        pad(out, &go_syntax(v, top), spec, false);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", spec, false),
            _ => bad_verb(out, v, verb),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec, false),
            _ => bad_verb(out, v, verb),
        },
        Value::Int(i) | Value::Int64(i) => format_int(out, v, *i, verb, spec),
        Value::Float(f) => format_float(out, v, *f, verb, spec),
        Value::Str(s) => format_str(out, v, s.as_bytes(), verb, spec),
        Value::Bytes(b) => match verb {
            's' | 'q' | 'x' | 'X' => format_str(out, v, b, verb, spec),
            _ => {
                out.push('[');
                for (n, byte) in b.iter().enumerate() {
                    if n > 0 {
                        out.push(' ');
                    }
                    format_int(out, &Value::Int(i64::from(*byte)), i64::from(*byte), verb, spec);
                }
                out.push(']');
            }
        },
        Value::List(l) => {
            out.push('[');
            for (n, item) in l.iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                format_one(out, item, verb, spec, false);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (n, (k, item)) in m.borrow().iter().enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                format_str(out, &Value::str(k.clone()), k.as_bytes(), verb, spec);
                out.push(':');
                format_one(out, item, verb, spec, false);
            }
            out.push(']');
        }
        Value::Object(o) => pad(out, &o.format_v(), spec, false),
    }
}

/// `%#v`: Go syntax.
fn go_syntax(v: &Value, top: bool) -> String {
    match v {
        Value::Nil if top => "<nil>".into(),
        Value::Nil => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float(f) => {
            let s = format_float_shortest(*f, 6);
            if s.contains(['.', 'e', 'I', 'N']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Str(s) => quote(s),
        Value::Bytes(b) => {
            let items: Vec<String> = b.iter().map(|x| format!("0x{x:x}")).collect();
            format!("[]byte{{{}}}", items.join(", "))
        }
        Value::List(l) => {
            let items: Vec<String> = l.iter().map(|x| go_syntax(x, false)).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Map(m) => {
            let items: Vec<String> = m
                .borrow()
                .iter()
                .map(|(k, x)| format!("{}:{}", quote(k), go_syntax(x, false)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(o) => o.format_v(),
    }
}

fn format_int(out: &mut String, v: &Value, i: i64, verb: char, spec: Spec) {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => u.to_string(),
        'b' => format!("{u:b}"),
        'o' | 'O' => format!("{u:o}"),
        'x' => format!("{u:x}"),
        'X' => format!("{u:X}"),
        'c' => {
            let c = char::from_u32(i as u32).filter(|_| (0..=0x10FFFF).contains(&i));
            pad(out, &c.unwrap_or('\u{FFFD}').to_string(), spec, false);
            return;
        }
        'q' => {
            let c = char::from_u32(i as u32).filter(|_| (0..=0x10FFFF).contains(&i));
            pad(out, &quote_rune(c.unwrap_or('\u{FFFD}')), spec, false);
            return;
        }
        'U' => {
            let mut s = format!("U+{u:04X}");
            if spec.sharp
                && let Some(c) = char::from_u32(i as u32)
                && is_print(c)
            {
                let _ = write!(s, " '{c}'");
            }
            pad(out, &s, spec, false);
            return;
        }
        _ => {
            bad_verb(out, v, verb);
            return;
        }
    };
    if let Some(p) = spec.prec {
        if p == 0 && u == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    } else if spec.plus {
        s.push('+');
    } else if spec.space {
        s.push(' ');
    }
    if spec.sharp {
        match verb {
            'b' => s.push_str("0b"),
            'o' if !digits.starts_with('0') => s.push('0'),
            'x' => s.push_str("0x"),
            'X' => s.push_str("0X"),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    // Zero padding goes between the sign/prefix and the digits.
    let zero = spec.zero && !spec.minus && spec.prec.is_none();
    if zero && let Some(w) = spec.width {
        while s.chars().count() + digits.len() < w {
            digits.insert(0, '0');
        }
    }
    s.push_str(&digits);
    pad(out, &s, spec, false);
}

fn format_float(out: &mut String, v: &Value, f: f64, verb: char, spec: Spec) {
    let body = match verb {
        'v' | 'g' | 'G' => {
            let s = match spec.prec {
                None => format_float_shortest(f, 6),
                Some(p) => format_g_prec(f, p.max(1)),
            };
            if verb == 'G' { s.to_uppercase() } else { s }
        }
        'e' | 'E' => {
            let s = format_e(f, spec.prec.unwrap_or(6));
            if verb == 'E' { s.to_uppercase() } else { s }
        }
        'f' | 'F' => {
            if f.is_finite() {
                format!("{:.*}", spec.prec.unwrap_or(6), f)
            } else {
                format_float_shortest(f, 6)
            }
        }
        _ => {
            bad_verb(out, v, verb);
            return;
        }
    };
    let mut s = body;
    if !s.starts_with('-') && !s.starts_with('+') {
        if spec.plus {
            s.insert(0, '+');
        } else if spec.space {
            s.insert(0, ' ');
        }
    } else if s.starts_with('+') && !spec.plus {
        // +Inf keeps its sign only with the plus flag.
        if spec.space {
            s.replace_range(0..1, " ");
        } else {
            s.remove(0);
        }
    }
    pad(out, &s, spec, f.is_finite());
}

/// `%.Pe`: mantissa with `prec` decimals, exponent with a sign and at least two digits.
fn format_e(f: f64, prec: usize) -> String {
    if !f.is_finite() {
        return format_float_shortest(f, 6);
    }
    let s = format!("{f:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
}

/// `%.Pg`: `prec` significant digits, trailing zeros dropped, exponent form when the
/// exponent is below -4 or at least `prec`.
fn format_g_prec(f: f64, prec: usize) -> String {
    if !f.is_finite() {
        return format_float_shortest(f, 6);
    }
    let e = format!("{:.*e}", prec - 1, f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    if exp < -4 || exp >= prec as i32 {
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let s = format!("{f:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

fn format_str(out: &mut String, v: &Value, b: &[u8], verb: char, spec: Spec) {
    let text = String::from_utf8_lossy(b);
    match verb {
        's' | 'v' => {
            let s: String = match spec.prec {
                Some(p) => text.chars().take(p).collect(),
                None => text.into_owned(),
            };
            pad(out, &s, spec, true);
        }
        'q' => {
            let s: String = match spec.prec {
                Some(p) => text.chars().take(p).collect(),
                None => text.into_owned(),
            };
            let q = if spec.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || is_print(c)) {
                format!("`{s}`")
            } else if spec.plus {
                quote_ascii(&s)
            } else {
                quote(&s)
            };
            pad(out, &q, spec, true);
        }
        'x' | 'X' => {
            let bytes = match spec.prec {
                Some(p) => &b[..p.min(b.len())],
                None => b,
            };
            let mut s = String::new();
            for (n, byte) in bytes.iter().enumerate() {
                if spec.space && n > 0 {
                    s.push(' ');
                }
                if spec.sharp && (spec.space || n == 0) {
                    s.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    let _ = write!(s, "{byte:02x}");
                } else {
                    let _ = write!(s, "{byte:02X}");
                }
            }
            pad(out, &s, spec, true);
        }
        _ => bad_verb(out, v, verb),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    #[test]
    fn printf_matches_go() {
        let m = {
            let mut m = super::super::value::Map::new();
            m.insert("a".into(), Value::Int(1));
            m.insert("b".into(), Value::list(vec![s("x"), Value::Float(2.5)]));
            Value::map(m)
        };
        // Expected strings from Helm (helm-oracle.py).
        assert_eq!(
            sprintf(
                "%5.2f|%-5d|%x|%q|%v|%+v|%T",
                &[
                    Value::Float(1.23456),
                    Value::Int(42),
                    s("hi"),
                    s("q\""),
                    m.clone(),
                    m.clone(),
                    m
                ]
            ),
            " 1.23|42   |6869|\"q\\\"\"|map[a:1 b:[x 2.5]]|map[a:1 b:[x 2.5]]|map[string]interface {}"
        );
        assert_eq!(sprintf("%d %s", &[s("a"), Value::Int(3)]), "%!d(string=a) %!s(int=3)");
        assert_eq!(sprintf("%d %d", &[Value::Int(1)]), "1 %!d(MISSING)");
        assert_eq!(sprintf("%d", &[Value::Int(1), Value::Int(2)]), "1%!(EXTRA int=2)");
    }

    #[test]
    fn unquote_go_literals() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9""#).as_deref(), Some("a\tbAé"));
        assert_eq!(unquote("`a\\n`").as_deref(), Some("a\\n"));
        assert_eq!(unquote(r#""\q""#), None);
        assert_eq!(unquote_char("'a'"), Some('a'));
        assert_eq!(unquote_char(r"'\n'"), Some('\n'));
    }
}
