//! Go's `fmt` (`Sprint`, `Sprintln`, `Sprintf` with its verbs, flags, width and precision,
//! and its `%!verb(type=value)` complaints) and `strconv`'s quoting, over template values.

pub use super::quote::quote;
pub(crate) use super::quote::{is_print, quote_ascii, quote_rune, unicode_u, unquote, unquote_char};
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

/// Go's complaint about a verb that does not fit the value: `%!verb(type=value)`, the value
/// printed with `%v` under the verb's flags, width and precision (`%.2f` of `"abc"` is
/// `%!f(string=ab)`).
fn bad_verb(out: &mut String, v: &Value, verb: char, spec: Spec) {
    if v.is_nil() {
        let _ = write!(out, "%!{verb}(<nil>)");
        return;
    }
    let _ = write!(out, "%!{verb}({}=", v.type_name());
    // `#` asks for Go syntax only when the verb itself is `v`; `+` stays a sign flag.
    let spec = Spec { sharp: false, ..spec };
    match v {
        Value::Int(i) | Value::Int64(i) => format_int(out, v, *i, 'v', spec),
        Value::Float(f) => format_float(out, v, *f, 'v', spec),
        _ => format_one(out, v, 'v', spec, false),
    }
    out.push(')');
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
        // Inside a list or map, nil prints bare whatever the verb (Go's printValue).
        Value::Nil if !top => out.push_str("<nil>"),
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", spec, false),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec, false),
            _ => bad_verb(out, v, verb, spec),
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
            bad_verb(out, v, verb, spec);
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
            bad_verb(out, v, verb, spec);
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
        _ => bad_verb(out, v, verb, spec),
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
        // Helm v4.2.3's output for these.
        let list = Value::list(vec![s("abcdef"), Value::Int(2), Value::Nil]);
        assert_eq!(
            sprintf(
                "%.2f|%8.3f|%-6.1d|%5t|%5.1f",
                &[list, s("xy"), s("str"), s("s"), Value::list(vec![Value::Nil])]
            ),
            "[%!f(string=ab) %!f(int=02) <nil>]|%!f(string=      xy)|%!d(string=s     )|%!t(string=    s)|[<nil>]"
        );
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
