//! sprig's regular expressions (`regexMatch`, `regexFind`, `regexFindAll`,
//! `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`, `regexQuoteMeta` and the
//! `must*` forms) on the `regex` crate, whose syntax is RE2's as Go's `regexp` is; a pattern
//! it rejects is an error (its reason in the crate's words, not Go's).

use super::args::{self, check_size};
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};
use regex::Regex;

/// The largest compiled program a template may ask for.
const SIZE_LIMIT: usize = 1 << 20;

/// Registers the regex functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Int, String as S};
    m.insert(
        "regexMatch",
        f(&[S, S], |a| {
            Ok(Value::Bool(
                compile(args::string(a, 0)?).is_ok_and(|r| r.is_match(args::string(a, 1).unwrap_or(""))),
            ))
        }),
    );
    m.insert(
        "mustRegexMatch",
        f(&[S, S], |a| Ok(Value::Bool(must(a)?.is_match(args::string(a, 1)?)))),
    );
    m.insert("regexFind", f(&[S, S], |a| find(&panicking(a)?, args::string(a, 1)?)));
    m.insert("mustRegexFind", f(&[S, S], |a| find(&must(a)?, args::string(a, 1)?)));
    m.insert(
        "regexFindAll",
        f(&[S, S, Int], |a| {
            find_all(&panicking(a)?, args::string(a, 1)?, args::int(a, 2)?)
        }),
    );
    m.insert(
        "mustRegexFindAll",
        f(&[S, S, Int], |a| {
            find_all(&must(a)?, args::string(a, 1)?, args::int(a, 2)?)
        }),
    );
    m.insert("regexReplaceAll", f(&[S, S, S], |a| replace(&panicking(a)?, a, false)));
    m.insert("mustRegexReplaceAll", f(&[S, S, S], |a| replace(&must(a)?, a, false)));
    m.insert(
        "regexReplaceAllLiteral",
        f(&[S, S, S], |a| replace(&panicking(a)?, a, true)),
    );
    m.insert(
        "mustRegexReplaceAllLiteral",
        f(&[S, S, S], |a| replace(&must(a)?, a, true)),
    );
    m.insert(
        "regexSplit",
        f(&[S, S, Int], |a| {
            split(&panicking(a)?, args::string(a, 1)?, args::int(a, 2)?)
        }),
    );
    m.insert(
        "mustRegexSplit",
        f(&[S, S, Int], |a| {
            split(&must(a)?, args::string(a, 1)?, args::int(a, 2)?)
        }),
    );
    m.insert(
        "regexQuoteMeta",
        f(&[S], |a| Ok(Value::str(quote_meta(args::string(a, 0)?)))),
    );
}

/// Go's (RE2) syntax in the `regex` crate's: inside a bracket class Go takes `[` (unless
/// `[:name:]`), `&`, `~` and a `-` next to a class escape (`[\w-\.]`) literally, where the
/// crate reads nested classes, set operations or a bad range.
fn go_syntax(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut class_start = 0;
    let mut prev_was_class_escape = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            let next = chars.get(i + 1).copied();
            out.push(c);
            if let Some(n) = next {
                out.push(n);
            }
            prev_was_class_escape = in_class && matches!(next, Some('w' | 'W' | 'd' | 'D' | 's' | 'S'));
            i += 2;
            continue;
        }
        if !in_class {
            if c == '[' {
                in_class = true;
                class_start = i;
                out.push(c);
                // `[^]...]` and `[]...]`: a leading `]` is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            } else {
                out.push(c);
            }
            prev_was_class_escape = false;
            i += 1;
            continue;
        }
        match c {
            ']' if i > class_start => {
                in_class = false;
                out.push(c);
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // A named class `[:alpha:]`, copied through its closing `:]`.
                let rest: String = chars[i..].iter().collect();
                let end = rest.find(":]").map_or(rest.len(), |e| e + 2);
                out.push_str(&rest[..end]);
                i += rest[..end].chars().count();
                prev_was_class_escape = true;
                continue;
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' if prev_was_class_escape
                || (chars.get(i + 1) == Some(&'\\')
                    && matches!(chars.get(i + 2), Some('w' | 'W' | 'd' | 'D' | 's' | 'S'))) =>
            {
                out.push_str("\\-");
            }
            _ => out.push(c),
        }
        prev_was_class_escape = false;
        i += 1;
    }
    out
}

/// Patterns compiled once and reused (across templates and renders): charts call the same
/// `regexMatch` in template after template, and compiling is the expensive part. Bounded:
/// cleared when full.
const CACHE_ENTRIES: usize = 256;

static COMPILED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Regex>>> =
    std::sync::OnceLock::new();

fn compile(pattern: &str) -> Result<Regex, String> {
    let cache = COMPILED.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = compile_uncached(pattern)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(pattern.to_string(), r.clone());
    }
    Ok(r)
}

fn compile_uncached(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(&go_syntax(pattern))
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let reason = e.to_string();
            let last = reason
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("invalid pattern");
            format!("error parsing regexp: {}", last.trim().trim_start_matches("error: "))
        })
}

/// The `must*` forms: the compile error returned.
fn must(a: &[Value]) -> Result<Regex, String> {
    compile(args::string(a, 0)?)
}

/// The plain forms: `regexp.MustCompile`'s panic text.
fn panicking(a: &[Value]) -> Result<Regex, String> {
    let pattern = args::string(a, 0)?;
    compile(pattern).map_err(|e| format!("regexp: Compile(`{pattern}`): {e}"))
}

fn strings(v: Vec<&str>) -> Value {
    Value::list(v.into_iter().map(Value::str).collect())
}

fn find(r: &Regex, s: &str) -> Result<Value, String> {
    Ok(Value::str(r.find(s).map_or("", |m| m.as_str())))
}

fn limit(n: i64) -> usize {
    if n < 0 {
        usize::MAX
    } else {
        usize::try_from(n).unwrap_or(usize::MAX)
    }
}

fn find_all(r: &Regex, s: &str, n: i64) -> Result<Value, String> {
    Ok(strings(r.find_iter(s).take(limit(n)).map(|m| m.as_str()).collect()))
}

fn replace(r: &Regex, a: &[Value], literal: bool) -> Result<Value, String> {
    let (s, repl) = (args::string(a, 1)?, args::string(a, 2)?);
    let matches = r.find_iter(s).count();
    check_size(
        "regexReplaceAll",
        matches.saturating_mul(repl.len()).saturating_add(s.len()),
    )?;
    let out = if literal {
        r.replace_all(s, regex::NoExpand(repl)).into_owned()
    } else {
        r.replace_all(s, repl).into_owned()
    };
    Ok(Value::str(out))
}

/// Go's `Regexp.Split`.
fn split(r: &Regex, s: &str, n: i64) -> Result<Value, String> {
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if !r.as_str().is_empty() && s.is_empty() {
        return Ok(strings(vec![""]));
    }
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in r.find_iter(s).take(limit(n)) {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(s.get(beg..end).unwrap_or(""));
        }
        beg = m.end();
    }
    if end != s.len() {
        out.push(s.get(beg..).unwrap_or(""));
    }
    Ok(strings(out))
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    #[test]
    fn go_class_syntax_reads_as_go_reads_it() {
        // The oracle: true|false|true|true|true|aXb
        let s = |v: &str| Value::str(v);
        assert_eq!(
            call("regexMatch", &[s(r"^[\w-\.]+$"), s("my-master.1")]).unwrap(),
            "true"
        );
        assert_eq!(call("regexMatch", &[s(r"^[\w-\.]+$"), s("a b")]).unwrap(), "false");
        assert_eq!(call("regexMatch", &[s("[a&&b]"), s("&")]).unwrap(), "true");
        assert_eq!(call("regexMatch", &[s("[[]"), s("[")]).unwrap(), "true");
        assert_eq!(call("regexMatch", &[s("[[:alpha:]-]+"), s("ab-")]).unwrap(), "true");
        assert_eq!(call("regexReplaceAll", &[s("[~]"), s("a~b"), s("X")]).unwrap(), "aXb");
    }

    #[test]
    fn regexes_match_the_oracle() {
        let s = Value::str;
        let i = Value::Int;
        for (name, a, want) in [
            ("regexFindAll", vec![s("a."), s("abacad"), i(2)], "[ab ac]"),
            ("regexFindAll", vec![s("a."), s("abacad"), i(-1)], "[ab ac ad]"),
            ("regexFindAll", vec![s("a."), s("abacad"), i(0)], "[]"),
            (
                "regexReplaceAll",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("${1}W")],
                "-W-xxW-",
            ),
            ("regexReplaceAll", vec![s("a(x*)b"), s("-ab-axxb-"), s("$1W")], "---"),
            (
                "regexReplaceAllLiteral",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("$1")],
                "-$1-$1-",
            ),
            ("regexSplit", vec![s("a"), s("banana"), i(-1)], "[b n n ]"),
            ("regexSplit", vec![s("a"), s("banana"), i(2)], "[b nana]"),
            ("regexSplit", vec![s(""), s("abc"), i(-1)], "[a b c]"),
            ("regexSplit", vec![s("x*"), s("axbc"), i(-1)], "[a b c]"),
            ("regexQuoteMeta", vec![s("a.b*c#-~")], "a\\.b\\*c#-~"),
            ("regexMatch", vec![s("("), s("x")], "false"),
            ("regexFind", vec![s("[0-9]+"), s("ab12cd34")], "12"),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name}");
        }
        let e = call("regexFind", &[s("("), s("x")]).err().unwrap_or_default();
        assert!(e.starts_with("regexp: Compile(`(`): error parsing regexp: "), "{e}");
        let e = call("mustRegexFind", &[s("("), s("x")]).err().unwrap_or_default();
        assert!(e.starts_with("error parsing regexp: "), "{e}");
    }
}
