//! sprig's string functions: trimming, case, `substr`/`trunc`/`abbrev`, `wrap`, `indent`,
//! `quote`/`squote`/`cat`, `replace`, `plural`, `toString`, and Go's `%q` they print with.

use super::args::{self, check_size};
use super::casing::{self, is_space, to_lower, to_upper};
use super::cast::strval;
use super::{f, fv};
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};
use std::fmt::Write as _;

/// Registers the string functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Int, String as S};
    m.insert("abbrev", f(&[Int, S], abbrev));
    m.insert("abbrevboth", f(&[Int, Int, S], abbrevboth));
    m.insert("trunc", f(&[Int, S], trunc));
    m.insert(
        "trim",
        f(&[S], |a| Ok(Value::str(args::string(a, 0)?.trim_matches(is_space)))),
    );
    m.insert(
        "upper",
        f(&[S], |a| {
            Ok(Value::str(
                args::string(a, 0)?.chars().map(to_upper).collect::<String>(),
            ))
        }),
    );
    m.insert(
        "lower",
        f(&[S], |a| {
            Ok(Value::str(
                args::string(a, 0)?.chars().map(to_lower).collect::<String>(),
            ))
        }),
    );
    m.insert("title", f(&[S], |a| Ok(Value::str(title(args::string(a, 0)?)))));
    m.insert("untitle", f(&[S], |a| Ok(Value::str(untitle(args::string(a, 0)?)))));
    m.insert("substr", f(&[Int, Int, S], substr));
    m.insert("repeat", f(&[Int, S], repeat));
    m.insert("trimall", f(&[S, S], trim_all));
    m.insert("trimAll", f(&[S, S], trim_all));
    m.insert(
        "trimSuffix",
        f(&[S, S], |a| {
            let (suffix, s) = (args::string(a, 0)?, args::string(a, 1)?);
            Ok(Value::str(s.strip_suffix(suffix).unwrap_or(s)))
        }),
    );
    m.insert(
        "trimPrefix",
        f(&[S, S], |a| {
            let (prefix, s) = (args::string(a, 0)?, args::string(a, 1)?);
            Ok(Value::str(s.strip_prefix(prefix).unwrap_or(s)))
        }),
    );
    m.insert("nospace", f(&[S], |a| Ok(Value::str(nospace(args::string(a, 0)?)))));
    m.insert("initials", f(&[S], |a| Ok(Value::str(initials(args::string(a, 0)?)))));
    m.insert("swapcase", f(&[S], |a| Ok(Value::str(swapcase(args::string(a, 0)?)))));
    m.insert(
        "snakecase",
        f(&[S], |a| {
            Ok(Value::str(casing::lower_case_words(args::string(a, 0)?, '_')))
        }),
    );
    m.insert(
        "kebabcase",
        f(&[S], |a| {
            Ok(Value::str(casing::lower_case_words(args::string(a, 0)?, '-')))
        }),
    );
    m.insert(
        "camelcase",
        f(&[S], |a| Ok(Value::str(casing::pascal_case(args::string(a, 0)?)))),
    );
    m.insert(
        "wrap",
        f(&[Int, S], |a| {
            Ok(Value::str(wrap(args::string(a, 1)?, args::int(a, 0)?, "", false)))
        }),
    );
    m.insert(
        "wrapWith",
        f(&[Int, S, S], |a| {
            Ok(Value::str(wrap(
                args::string(a, 2)?,
                args::int(a, 0)?,
                args::string(a, 1)?,
                true,
            )))
        }),
    );
    m.insert(
        "contains",
        f(&[S, S], |a| {
            Ok(Value::Bool(args::string(a, 1)?.contains(args::string(a, 0)?)))
        }),
    );
    m.insert(
        "hasPrefix",
        f(&[S, S], |a| {
            Ok(Value::Bool(args::string(a, 1)?.starts_with(args::string(a, 0)?)))
        }),
    );
    m.insert(
        "hasSuffix",
        f(&[S, S], |a| {
            Ok(Value::Bool(args::string(a, 1)?.ends_with(args::string(a, 0)?)))
        }),
    );
    m.insert("quote", fv(&[], Any, quote));
    m.insert("squote", fv(&[], Any, squote));
    m.insert("cat", fv(&[], Any, cat));
    m.insert(
        "indent",
        f(&[Int, S], |a| {
            Ok(Value::str(indent(args::int(a, 0)?, args::string(a, 1)?)?))
        }),
    );
    m.insert(
        "nindent",
        f(&[Int, S], |a| {
            Ok(Value::str(format!(
                "\n{}",
                indent(args::int(a, 0)?, args::string(a, 1)?)?
            )))
        }),
    );
    m.insert("replace", f(&[S, S, S], replace));
    m.insert(
        "plural",
        f(&[S, S, Int], |a| {
            let pick = if args::int(a, 2)? == 1 { 0 } else { 1 };
            Ok(Value::str(args::string(a, pick)?))
        }),
    );
    m.insert("hello", f(&[], |_| Ok(Value::str("Hello!"))));
    m.insert("toString", f(&[Any], |a| Ok(Value::str(strval(args::any(a, 0))))));
}

/// Go's `strconv.Quote` (`%q` of a string): printable runes as they are, the rest escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
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
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, close enough: no controls, no spaces but U+0020, no format runes.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e000}'..='\u{f8ff}'
            | '\u{fffe}' | '\u{ffff}'))
}

fn quote(a: &[Value]) -> Result<Value, String> {
    let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(|v| go_quote(&strval(v))).collect();
    Ok(Value::str(parts.join(" ")))
}

fn squote(a: &[Value]) -> Result<Value, String> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| format!("'{}'", v.format_v()))
        .collect();
    Ok(Value::str(parts.join(" ")))
}

fn cat(a: &[Value]) -> Result<Value, String> {
    let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(Value::format_v).collect();
    Ok(Value::str(parts.join(" ")))
}

/// Go's `s[lo:hi]` on bytes, with Go's out-of-range panic text; a cut inside a UTF-8
/// sequence keeps what is left of the text (the model's strings are UTF-8).
fn byte_slice(s: &str, lo: Option<i64>, hi: Option<i64>) -> Result<String, String> {
    let len = s.len() as i64;
    let h = hi.unwrap_or(len);
    if h < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{h}]"));
    }
    if h > len {
        return Err(format!(
            "runtime error: slice bounds out of range [:{h}] with length {len}"
        ));
    }
    let l = lo.unwrap_or(0);
    if l < 0 || l > h {
        return Err(format!("runtime error: slice bounds out of range [{l}:{h}]"));
    }
    let bytes = s.as_bytes().get(l as usize..h as usize).unwrap_or_default();
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn substr(a: &[Value]) -> Result<Value, String> {
    let (start, end, s) = (args::int(a, 0)?, args::int(a, 1)?, args::string(a, 2)?);
    let out = if start < 0 {
        byte_slice(s, None, Some(end))?
    } else if end < 0 || end > s.len() as i64 {
        if start > s.len() as i64 {
            return Err(format!(
                "runtime error: slice bounds out of range [{start}:{}]",
                s.len()
            ));
        }
        byte_slice(s, Some(start), None)?
    } else {
        byte_slice(s, Some(start), Some(end))?
    };
    Ok(Value::str(out))
}

fn trunc(a: &[Value]) -> Result<Value, String> {
    let (c, s) = (args::int(a, 0)?, args::string(a, 1)?);
    let len = s.len() as i64;
    let out = if c < 0 && len + c > 0 {
        byte_slice(s, Some(len + c), None)?
    } else if c >= 0 && len > c {
        byte_slice(s, None, Some(c))?
    } else {
        s.to_owned()
    };
    Ok(Value::str(out))
}

/// goutils `AbbreviateFull` (sprig ignores its errors: the string comes back empty).
fn abbreviate(s: &str, offset: i64, width: i64) -> String {
    let len = s.len() as i64;
    if s.is_empty() || width < 4 {
        return String::new();
    }
    if len <= width {
        return s.to_owned();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    let cut = |lo: i64, hi: i64| byte_slice(s, Some(lo), Some(hi)).unwrap_or_default();
    if offset <= 4 {
        return format!("{}...", cut(0, width - 3));
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        return format!("...{}", abbreviate(&cut(offset, len), 0, width - 3));
    }
    format!("...{}", cut(len - (width - 3), len))
}

fn abbrev(a: &[Value]) -> Result<Value, String> {
    let (width, s) = (args::int(a, 0)?, args::string(a, 1)?);
    if width < 4 {
        return Ok(Value::str(s));
    }
    Ok(Value::str(abbreviate(s, 0, width)))
}

fn abbrevboth(a: &[Value]) -> Result<Value, String> {
    let (left, right, s) = (args::int(a, 0)?, args::int(a, 1)?, args::string(a, 2)?);
    if right < 4 || left > 0 && right < 7 {
        return Ok(Value::str(s));
    }
    Ok(Value::str(abbreviate(s, left, right)))
}

/// Go's `strings.Title`: the first letter of each word in title case.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let sep = if prev.is_ascii() {
                !(prev.is_ascii_alphanumeric() || prev == '_')
            } else if prev.is_alphabetic() || prev.is_numeric() {
                false
            } else {
                is_space(prev)
            };
            prev = c;
            if sep { to_upper(c) } else { c }
        })
        .collect()
}

/// goutils `Uncapitalize`: the first letter of each whitespace-separated word lower-cased.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                to_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `SwapCase`.
fn swapcase(s: &str) -> String {
    let mut whitespace = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                whitespace = false;
                to_lower(c)
            } else if c.is_lowercase() {
                // Title case (after a space) and upper case agree outside a few digraphs.
                whitespace = false;
                to_upper(c)
            } else {
                whitespace = is_space(c);
                c
            }
        })
        .collect()
}

/// goutils `DeleteWhiteSpace`, which reads the string byte by byte as Latin-1.
fn nospace(s: &str) -> String {
    if !s.bytes().any(|b| is_space(char::from(b))) {
        return s.to_owned();
    }
    s.bytes()
        .filter(|b| !is_space(char::from(*b)))
        .map(char::from)
        .collect()
}

/// goutils `Initials`, byte by byte as Latin-1.
fn initials(s: &str) -> String {
    let mut gap = true;
    let mut out = String::new();
    for b in s.bytes() {
        let c = char::from(b);
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// goutils `WrapCustom` (byte offsets, as Go's).
fn wrap(s: &str, width: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = usize::try_from(width.max(1)).unwrap_or(usize::MAX);
    let b = s.as_bytes();
    let len = b.len();
    let mut out: Vec<u8> = Vec::with_capacity(len + 16);
    let mut offset = 0usize;
    let sub = |lo: usize, hi: usize| b.get(lo..hi.min(len)).unwrap_or_default();
    while len - offset > width {
        if b.get(offset) == Some(&b' ') {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        match sub(offset, end).iter().rposition(|c| *c == b' ') {
            Some(space) if space + offset >= offset => {
                let at = space + offset;
                out.extend_from_slice(sub(offset, at));
                out.extend_from_slice(newline.as_bytes());
                offset = at + 1;
            }
            _ => {
                let end = width + offset;
                if long_words {
                    out.extend_from_slice(sub(offset, end));
                    out.extend_from_slice(newline.as_bytes());
                    offset += width;
                } else {
                    match sub(end, len).iter().position(|c| *c == b' ') {
                        None => {
                            out.extend_from_slice(sub(offset, len));
                            offset = len;
                        }
                        Some(i) => {
                            let at = i + end;
                            out.extend_from_slice(sub(offset, at));
                            out.extend_from_slice(newline.as_bytes());
                            offset = at + 1;
                        }
                    }
                }
            }
        }
    }
    out.extend_from_slice(sub(offset, len));
    String::from_utf8_lossy(&out).into_owned()
}

fn repeat(a: &[Value]) -> Result<Value, String> {
    let (count, s) = (args::int(a, 0)?, args::string(a, 1)?);
    let count = usize::try_from(count).map_err(|_| "strings: negative Repeat count".to_owned())?;
    check_size("repeat", s.len().saturating_mul(count))?;
    Ok(Value::str(s.repeat(count)))
}

fn indent(spaces: i64, s: &str) -> Result<String, String> {
    let n = usize::try_from(spaces).map_err(|_| "strings: negative Repeat count".to_owned())?;
    let lines = s.bytes().filter(|b| *b == b'\n').count() + 1;
    check_size("indent", n.saturating_mul(lines).saturating_add(s.len()))?;
    let pad = " ".repeat(n);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn trim_all(a: &[Value]) -> Result<Value, String> {
    let (cutset, s) = (args::string(a, 0)?, args::string(a, 1)?);
    Ok(Value::str(s.trim_matches(|c| cutset.contains(c))))
}

fn replace(a: &[Value]) -> Result<Value, String> {
    let (old, new, s) = (args::string(a, 0)?, args::string(a, 1)?, args::string(a, 2)?);
    if old.is_empty() {
        let n = s.chars().count() + 1;
        check_size("replace", new.len().saturating_mul(n).saturating_add(s.len()))?;
    } else if new.len() > old.len() {
        let n = s.matches(old).count();
        check_size(
            "replace",
            (new.len() - old.len()).saturating_mul(n).saturating_add(s.len()),
        )?;
    }
    Ok(Value::str(s.replace(old, new)))
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn strings_match_the_oracle() {
        let i = Value::Int;
        for (name, a, want) in [
            ("untitle", vec![s("Hello World")], "hello world"),
            (
                "title",
                vec![s("hello wORLD foo-bar o'neil x_y")],
                "Hello WORLD Foo-Bar O'Neil X_y",
            ),
            ("trunc", vec![i(-2), s("hello")], "lo"),
            ("trunc", vec![i(10), s("hi")], "hi"),
            ("trunc", vec![i(-10), s("hi")], "hi"),
            ("abbrev", vec![i(5), s("hello world")], "he..."),
            ("abbrevboth", vec![i(5), i(10), s("1234567890abcdef")], "...6789..."),
            ("initials", vec![s("hello  big world")], "hbw"),
            ("wrap", vec![i(5), s("hello big world")], "hello\nbig\nworld"),
            (
                "wrapWith",
                vec![i(5), s("<br>"), s("helloworldxx ab")],
                "hello<br>world<br>xx ab",
            ),
            ("swapcase", vec![s("Hello wORLD")], "hELLO World"),
            ("nospace", vec![s(" a b\tc ")], "abc"),
            ("plural", vec![s("one"), s("many"), i(2)], "many"),
            ("substr", vec![i(1), i(3), s("hello")], "el"),
            ("substr", vec![i(-1), i(3), s("hello")], "hel"),
            ("substr", vec![i(2), i(-1), s("hello")], "llo"),
            ("substr", vec![i(1), i(99), s("hello")], "ello"),
            ("quote", vec![s("a\u{a0}\u{1}é\t")], "\"a\\u00a0\\x01é\\t\""),
            (
                "quote",
                vec![Value::Float(1.5), Value::Nil, s("a\"b"), Value::Float(1e20)],
                "\"1.5\" \"a\\\"b\" \"1e+20\"",
            ),
            ("squote", vec![Value::Nil, i(2), Value::Float(1e20)], "'2' '1e+20'"),
            (
                "cat",
                vec![
                    s("a"),
                    Value::Nil,
                    i(1),
                    Value::list(vec![Value::Float(1.0), Value::Float(2.0)]),
                ],
                "a 1 [1 2]",
            ),
            ("toString", vec![Value::Float(1e6)], "1e+06"),
            ("toString", vec![Value::Nil], "<nil>"),
            ("camelcase", vec![s("hello_world")], "HelloWorld"),
            ("indent", vec![i(2), s("a\nb")], "  a\n  b"),
            ("nindent", vec![i(2), s("a")], "\n  a"),
            ("replace", vec![s("a"), s("bb"), s("banana")], "bbbnbbnbb"),
            ("trimAll", vec![s("$"), s("$$a$")], "a"),
            ("trim", vec![s(" \ta \n")], "a"),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name}");
        }
    }

    #[test]
    fn string_errors_match_the_oracle() {
        let i = Value::Int;
        for (name, a, want) in [
            (
                "substr",
                vec![i(6), i(99), s("hello")],
                "runtime error: slice bounds out of range [6:5]",
            ),
            (
                "substr",
                vec![i(-1), i(99), s("hello")],
                "runtime error: slice bounds out of range [:99] with length 5",
            ),
            (
                "substr",
                vec![i(3), i(2), s("hello")],
                "runtime error: slice bounds out of range [3:2]",
            ),
            (
                "substr",
                vec![i(-1), i(-1), s("hello")],
                "runtime error: slice bounds out of range [:-1]",
            ),
            ("repeat", vec![i(-1), s("a")], "strings: negative Repeat count"),
            ("indent", vec![i(-1), s("a")], "strings: negative Repeat count"),
        ] {
            assert_eq!(call(name, &a), Err(want.to_owned()), "{name}");
        }
        assert!(call("repeat", &[i(1 << 40), s("ab")]).is_err());
    }
}
