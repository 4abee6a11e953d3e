//! The `${...}` expansion language of Flux's post-build substitution (its fork of drone's
//! envsubst), evaluated in one pass: `${var}`, defaults (`${var:=d}`, `${var:-d}`, `${var=d}`,
//! `${var:+d}`, `${var:?d}` — all "the default when empty"), `${#var}`, case (`^ ^^ , ,,`),
//! substrings (`${var:pos[:len]}`), glob trims (`# ## % %%`) and plain replacements
//! (`/ // /# /%`). Only `${` opens an expansion (`$var` stays as it is) and `$$` is a literal
//! `$` (so `$${var}` is the text `${var}`). Strict, as Flux is by default: a variable that is
//! not defined is an error unless a default operator handles it.
//!
//! The text expanded may hold decrypted values, so every buffer built here is zeroized; errors
//! name variables and positions, never text.

use zeroize::Zeroizing;

/// Why a text could not be expanded (names a variable at most, never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// `${` not followed by a variable name.
    #[error("unable to parse variable name")]
    VariableName,
    /// An expansion that does not end with `}`.
    #[error("missing closing brace")]
    MissingClosingBrace,
    /// An operator that is not part of the language.
    #[error("bad substitution")]
    BadSubstitution,
    /// A function argument that could not be read.
    #[error("unable to parse substitution within function")]
    FunctionArgument,
    /// A variable used without a default that is not defined.
    #[error("variable not set (strict mode): {0:?}")]
    NotSet(String),
    /// Expansions nested too deeply.
    #[error("expansions nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// How deeply `${a:=${b:=${c}}}` may nest (input from Git must not exhaust the stack).
pub const MAX_DEPTH: usize = 64;

/// Expands `text`, looking variables up with `lookup` (`None`: not defined).
pub fn expand<'v>(text: &str, lookup: &dyn Fn(&str) -> Option<&'v str>) -> Result<Zeroizing<String>, ExpandError> {
    let mut p = Parser {
        s: text,
        pos: 0,
        lookup,
        depth: 0,
    };
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    while p.pos < p.s.len() {
        if p.rest().starts_with("${") {
            p.pos += 2;
            let v = p.function()?;
            out.push_str(&v);
        } else {
            p.text(&mut out);
        }
    }
    Ok(out)
}

/// The characters an argument may contain.
#[derive(Clone, Copy)]
#[allow(clippy::enum_variant_names)]
enum Arg {
    /// Anything but `}` (defaults, trims, the replacement).
    NotClosing,
    /// Anything but `:` and `}` (the substring offset).
    NotColonOrClosing,
    /// Anything but `/` (the pattern of a replacement).
    NotSlash,
}

impl Arg {
    fn accepts(self, c: char) -> bool {
        match self {
            Arg::NotClosing => c != '}',
            Arg::NotColonOrClosing => c != ':' && c != '}',
            Arg::NotSlash => c != '/',
        }
    }
}

struct Parser<'a, 'v> {
    s: &'a str,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Option<&'v str>,
    depth: usize,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'v> Parser<'_, 'v> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Top-level text up to the next `${`; `$$` is one literal `$`.
    fn text(&mut self, out: &mut String) {
        while let Some(c) = self.peek() {
            if c == '$' && self.peek2() == Some('{') {
                return;
            }
            self.bump();
            if c == '$' && self.peek() == Some('$') {
                self.bump();
            }
            out.push(c);
        }
    }

    /// A variable name (letters, digits, `_`; at least one).
    fn ident(&mut self) -> Option<&str> {
        let start = self.pos;
        while self.peek().is_some_and(is_ident) {
            self.bump();
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    fn close(&mut self) -> Result<(), ExpandError> {
        match self.bump() {
            Some('}') => Ok(()),
            _ => Err(ExpandError::MissingClosingBrace),
        }
    }

    /// An operator: up to `max` characters from `set`.
    fn operator(&mut self, set: &[char], max: usize) -> String {
        let mut op = String::new();
        while op.chars().count() < max && self.peek().is_some_and(|c| set.contains(&c)) {
            op.extend(self.bump());
        }
        op
    }

    /// One argument: a nested `${...}` or a run of accepted characters (at least one).
    fn argument(&mut self, kind: Arg, escapes: bool) -> Result<Zeroizing<String>, ExpandError> {
        if self.rest().starts_with("${") {
            self.pos += 2;
            return self.function();
        }
        let mut out = Zeroizing::new(String::new());
        let mut first = true;
        while let Some(c) = self.peek() {
            if c == '$' && self.peek2() == Some('{') {
                break;
            }
            let escaped = escapes
                && ((c == '$' && self.peek2() == Some('$')) || (c == '\\' && matches!(self.peek2(), Some('/' | '\\'))));
            if escaped {
                self.bump();
                out.extend(self.bump());
            } else if kind.accepts(c) {
                self.bump();
                out.push(c);
            } else {
                break;
            }
            first = false;
        }
        if first {
            return Err(ExpandError::FunctionArgument);
        }
        Ok(out)
    }

    /// After `${`: the expansion, evaluated.
    fn function(&mut self) -> Result<Zeroizing<String>, ExpandError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExpandError::TooDeep);
        }
        let v = self.function_body();
        self.depth -= 1;
        v
    }

    fn function_body(&mut self) -> Result<Zeroizing<String>, ExpandError> {
        if self.peek() == Some('#') {
            self.bump();
            let name = self.ident().ok_or(ExpandError::BadSubstitution)?.to_string();
            self.close()?;
            let v = self.value(&name, false)?;
            return Ok(Zeroizing::new(v.len().to_string()));
        }
        let name = self.ident().ok_or(ExpandError::VariableName)?.to_string();
        match self.peek() {
            Some('}') => {
                self.bump();
                Ok(Zeroizing::new(self.value(&name, false)?.to_string()))
            }
            Some(':') if matches!(self.peek2(), Some('=' | '-' | '?' | '+')) => self.default(&name),
            Some('=') => self.default(&name),
            Some(':') => self.substring(&name),
            Some(',' | '^') => {
                let op = self.operator(&[',', '^'], 2);
                self.close()?;
                let v = self.value(&name, false)?;
                Ok(Zeroizing::new(match op.as_str() {
                    "^" => first_mapped(v, char::to_uppercase),
                    "^^" => v.to_uppercase(),
                    "," => first_mapped(v, char::to_lowercase),
                    ",," => v.to_lowercase(),
                    _ => v.to_string(),
                }))
            }
            Some('/') => self.replace(&name),
            Some(c @ ('#' | '%')) => {
                let op = self.operator(&[c], 2);
                let pattern = self.argument(Arg::NotClosing, false)?;
                self.close()?;
                let v = self.value(&name, false)?;
                let suffix = c == '%';
                Ok(Zeroizing::new(trim(v, &pattern, suffix, op.len() == 2)))
            }
            _ => Err(ExpandError::MissingClosingBrace),
        }
    }

    /// A variable's value; undefined is an error unless a default operator handles it.
    fn value(&self, name: &str, defaulted: bool) -> Result<&'v str, ExpandError> {
        match (self.lookup)(name) {
            Some(v) => Ok(v),
            None if defaulted => Ok(""),
            None => Err(ExpandError::NotSet(name.to_string())),
        }
    }

    /// `${var=d}`, `${var:=d}`, `${var:-d}`, `${var:+d}`, `${var:?d}`: the default (all its
    /// parts concatenated) when the value is empty.
    fn default(&mut self, name: &str) -> Result<Zeroizing<String>, ExpandError> {
        if self.peek() == Some(':') {
            self.bump();
        }
        self.bump(); // = - ? +
        let mut args = Zeroizing::new(String::new());
        loop {
            match self.peek() {
                Some('}') => {
                    self.bump();
                    break;
                }
                None => return Err(ExpandError::FunctionArgument),
                _ => args.push_str(&self.argument(Arg::NotClosing, false)?),
            }
        }
        let v = self.value(name, true)?;
        Ok(Zeroizing::new(if v.is_empty() {
            args.to_string()
        } else {
            v.to_string()
        }))
    }

    /// `${var:offset}` and `${var:offset:length}` (bytes, as Go slices strings; a negative
    /// offset counts from the end; an offset or length that is not a number leaves the value).
    fn substring(&mut self, name: &str) -> Result<Zeroizing<String>, ExpandError> {
        self.bump(); // :
        let offset = self.argument(Arg::NotColonOrClosing, false)?;
        let mut length = None;
        match self.peek() {
            Some('}') => {
                self.bump();
            }
            Some(':') => {
                while self.peek() == Some(':') {
                    self.bump();
                }
                length = Some(self.argument(Arg::NotClosing, false)?);
                self.close()?;
            }
            _ => return Err(ExpandError::BadSubstitution),
        }
        let v = self.value(name, false)?.as_bytes();
        let Ok(mut pos) = offset.parse::<i64>() else {
            return Ok(Zeroizing::new(String::from_utf8_lossy(v).into_owned()));
        };
        let len = v.len() as i64;
        if pos < 0 {
            pos = (len + pos).max(0);
        }
        let tail = |p: i64| -> &[u8] { if p < len { &v[p as usize..] } else { &[] } };
        let out: &[u8] = match length {
            None => tail(pos),
            Some(l) => match l.parse::<i64>() {
                Err(_) => v,
                Ok(l) if pos.saturating_add(l) >= len => tail(pos),
                // A negative length runs before the offset; Go would panic there, we give nothing.
                Ok(l) if l < 0 => &[],
                Ok(l) => &v[pos as usize..(pos + l) as usize],
            },
        };
        Ok(Zeroizing::new(String::from_utf8_lossy(out).into_owned()))
    }

    /// `${var/p/r}` (first), `${var//p/r}` (all), `${var/#p/r}` (prefix), `${var/%p/r}`
    /// (suffix); plain text, not patterns; `\/` and `\\` escape.
    fn replace(&mut self, name: &str) -> Result<Zeroizing<String>, ExpandError> {
        self.bump(); // /
        let op = match self.peek() {
            Some(c @ ('/' | '#' | '%')) => {
                self.bump();
                c
            }
            _ => ' ',
        };
        let pattern = self.argument(Arg::NotSlash, true)?;
        if self.peek() != Some('/') {
            return Err(ExpandError::BadSubstitution);
        }
        while self.peek() == Some('/') {
            self.bump();
        }
        let with = if self.peek() == Some('}') {
            None
        } else {
            Some(self.argument(Arg::NotClosing, true)?)
        };
        self.close()?;
        let v = self.value(name, false)?;
        let w = with.as_deref().map(String::as_str);
        Ok(Zeroizing::new(match (op, w) {
            (' ', w) => v.replacen(pattern.as_str(), w.unwrap_or(""), 1),
            ('/', w) => v.replace(pattern.as_str(), w.unwrap_or("")),
            ('#', Some(w)) if v.starts_with(pattern.as_str()) => format!("{w}{}", &v[pattern.len()..]),
            ('%', Some(w)) if v.ends_with(pattern.as_str()) => format!("{}{w}", &v[..v.len() - pattern.len()]),
            _ => v.to_string(),
        }))
    }
}

fn first_mapped<I: Iterator<Item = char>>(v: &str, f: impl Fn(char) -> I) -> String {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) => f(c).chain(chars).collect(),
        None => String::new(),
    }
}

/// Removes the shortest or longest prefix (or suffix) of `v` matching the glob `pattern`.
fn trim(v: &str, pattern: &str, suffix: bool, longest: bool) -> String {
    if suffix {
        let rv: String = v.chars().rev().collect();
        let rp: String = pattern.chars().rev().collect();
        return trim(&rv, &rp, false, longest).chars().rev().collect();
    }
    // Candidate prefixes, longest first (char boundaries only).
    let mut cut = None;
    for (end, _) in v
        .char_indices()
        .skip(1)
        .chain(std::iter::once((v.len(), ' ')))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        match glob(pattern, &v[..end]) {
            None => return v.to_string(),
            Some(true) => {
                cut = Some(end);
                if longest {
                    break;
                }
            }
            Some(false) => {}
        }
    }
    match cut {
        Some(end) => v[end..].to_string(),
        None => v.to_string(),
    }
}

/// Shell-style glob: `*` (any run without `/`; a trailing `*` matches everything), `?`,
/// `[...]` classes with ranges and `^`, `\` escapes. `None` for a malformed pattern.
fn glob(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n, 0)
}

fn glob_at(p: &[char], n: &[char], depth: usize) -> Option<bool> {
    if depth > MAX_DEPTH {
        return Some(false);
    }
    let (mut i, mut j) = (0, 0);
    while i < p.len() {
        match p[i] {
            '*' => {
                while i < p.len() && p[i] == '*' {
                    i += 1;
                }
                if i == p.len() {
                    return Some(true);
                }
                for k in j..=n.len() {
                    if glob_at(&p[i..], &n[k..], depth + 1)? {
                        return Some(true);
                    }
                    if k < n.len() && n[k] == '/' {
                        break;
                    }
                }
                return Some(false);
            }
            '?' => {
                if j >= n.len() || n[j] == '/' {
                    return Some(false);
                }
                i += 1;
                j += 1;
            }
            '[' => {
                let (matched, next) = class(p, i + 1, n.get(j).copied())?;
                if !matched {
                    return Some(false);
                }
                i = next;
                j += 1;
            }
            c => {
                let (c, next) = if c == '\\' { (*p.get(i + 1)?, i + 2) } else { (c, i + 1) };
                if n.get(j) != Some(&c) {
                    return Some(false);
                }
                i = next;
                j += 1;
            }
        }
    }
    Some(j == n.len())
}

/// A `[...]` class starting after `[` at `i`: (whether `c` matches, index after `]`).
fn class(p: &[char], mut i: usize, c: Option<char>) -> Option<(bool, usize)> {
    let negate = p.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (lo, after) = if lo == '\\' {
            (*p.get(i + 1)?, i + 2)
        } else {
            (lo, i + 1)
        };
        i = after;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&h| h != ']') {
            let h = p[i + 1];
            let (h, after) = if h == '\\' { (*p.get(i + 2)?, i + 3) } else { (h, i + 2) };
            hi = h;
            i = after;
        }
        if c.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
    }
    let c = c?;
    Some((c != '/' && matched != negate, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, ExpandError> {
        let vars = [
            ("name", "web"),
            ("empty", ""),
            ("path", "a/b/c.txt"),
            ("greet", "Hello World"),
        ];
        let lookup = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        expand(text, &lookup).map(|z| z.to_string())
    }

    #[test]
    fn variables_defaults_and_escapes() {
        assert_eq!(run("app: ${name}").unwrap(), "app: web");
        assert_eq!(run("$name and $ alone").unwrap(), "$name and $ alone");
        assert_eq!(run("$${name} $$ $$$").unwrap(), "${name} $ $$");
        assert_eq!(run("${missing:=dflt}").unwrap(), "dflt");
        assert_eq!(run("${missing:-d}${empty:=e}${name:=x}").unwrap(), "deweb");
        assert_eq!(run("${missing=a${name}b}").unwrap(), "awebb");
        assert_eq!(run("${missing:=${other:=deep}}").unwrap(), "deep");
        assert_eq!(run("${missing:+x}${missing:?y}").unwrap(), "xy");
        assert_eq!(run("${missing}"), Err(ExpandError::NotSet("missing".into())));
        assert_eq!(run("${#missing}"), Err(ExpandError::NotSet("missing".into())));
        assert_eq!(run("${}"), Err(ExpandError::VariableName));
        assert_eq!(run("${name"), Err(ExpandError::MissingClosingBrace));
        assert_eq!(
            run("${name-d}"),
            Err(ExpandError::MissingClosingBrace),
            "only := and = forms"
        );
        assert_eq!(run("${name:=}").unwrap(), "web");
    }

    #[test]
    fn functions() {
        assert_eq!(run("${#name} ${#greet}").unwrap(), "3 11");
        assert_eq!(
            run("${name^} ${name^^} ${greet,} ${greet,,}").unwrap(),
            "Web WEB hello World hello world"
        );
        // `:-` is a default, not a negative offset; an offset that is not a number leaves the value.
        assert_eq!(
            run("${greet:6} ${greet:0:5} ${greet:-5} ${greet:20} ${greet:x}").unwrap(),
            "World Hello Hello World  Hello World"
        );
        assert_eq!(run("${greet: -5}").unwrap(), "Hello World");
        assert_eq!(run("${greet:6:100} ${greet:3:-1}").unwrap(), "World ");
        // As in Flux (Go's path.Match): `*` does not cross `/`, so `##*/` removes one segment.
        assert_eq!(
            run("${path#*/} ${path##*/} ${path%/*} ${path%%/*}").unwrap(),
            "b/c.txt b/c.txt a/b a/b"
        );
        assert_eq!(run("${path##*.} ${path#a*}").unwrap(), "a/b/c.txt /b/c.txt");
        assert_eq!(run("${path%.txt}.yaml").unwrap(), "a/b/c.yaml");
        assert_eq!(
            run("${greet/o/0} ${greet//o/0} ${greet/#Hello/Bye} ${greet/%World/All}").unwrap(),
            "Hell0 World Hell0 W0rld Bye World Hello All"
        );
        assert_eq!(run("${greet//o/} ${path//\\//_}").unwrap(), "Hell Wrld a_b_c.txt");
        assert_eq!(run("${greet/o}"), Err(ExpandError::BadSubstitution));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let deep = "${a:=".repeat(MAX_DEPTH + 5) + &"}".repeat(MAX_DEPTH + 5);
        assert_eq!(run(&deep), Err(ExpandError::TooDeep));
        for t in [
            "${",
            "${#",
            "${x:",
            "${x/",
            "${x//a",
            "${x[",
            "${name:0:99999999999999999999}",
            "${name:-9223372036854775808:5}",
            "€${name:1:1}",
            "${path#[}",
            "${path#[a-}",
            "${path#\\}",
        ] {
            let _ = run(t);
        }
        assert_eq!(run("${greet:0:1}€").unwrap(), "H€");
    }
}
