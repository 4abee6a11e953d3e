//! The Go `text/template` forms people put in `SealedSecret.spec.template.data` (and
//! ExternalSecret templates): text, `{{ .key }}`, `{{ index . "key" }}`, string literals,
//! `printf`, and pipelines through common sprig functions. Anything else is refused,
//! naming the construct — never a value.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// Why a template cannot be rendered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// A construct outside the supported subset.
    #[error("unsupported template construct `{0}`")]
    Unsupported(String),
    /// A `{{` without `}}`, or a bad literal.
    #[error("malformed template: {0}")]
    Malformed(String),
    /// The template names a key that has no value.
    #[error("template refers to unknown key {0:?}")]
    UnknownKey(String),
    /// A function got arguments it cannot use.
    #[error("template function {0}: {1}")]
    BadArgument(String, String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Dot,
    Str(String),
    Ident(String),
    Pipe,
}

fn tokenize(action: &str) -> Result<Vec<Tok>, TemplateError> {
    let mut toks = Vec::new();
    let chars: Vec<char> = action.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '|' {
            toks.push(Tok::Pipe);
            i += 1;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(TemplateError::Malformed("unterminated string".into())),
                    Some('"') => break,
                    Some('\\') => {
                        i += 1;
                        match chars.get(i) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(c @ ('"' | '\\')) => s.push(*c),
                            _ => return Err(TemplateError::Malformed("bad escape in string".into())),
                        }
                    }
                    Some(c) => s.push(*c),
                }
                i += 1;
            }
            i += 1;
            toks.push(Tok::Str(s));
        } else if c == '`' {
            let start = i + 1;
            let end = chars[start..]
                .iter()
                .position(|c| *c == '`')
                .ok_or(TemplateError::Malformed("unterminated raw string".into()))?;
            toks.push(Tok::Str(chars[start..start + end].iter().collect()));
            i = start + end + 1;
        } else if c == '.' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j == start {
                toks.push(Tok::Dot);
            } else {
                toks.push(Tok::Field(chars[start..j].iter().collect()));
            }
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            return Err(TemplateError::Unsupported(action.trim().to_string()));
        }
    }
    Ok(toks)
}

/// Largest value a template may produce at any step (the Kubernetes Secret size limit), so
/// a few bytes of template cannot demand gigabytes of memory.
pub const MAX_VALUE: usize = 1024 * 1024;

fn too_big(f: &str, len: usize) -> Result<(), TemplateError> {
    if len > MAX_VALUE {
        return Err(TemplateError::BadArgument(
            f.into(),
            format!("result would exceed {MAX_VALUE} bytes"),
        ));
    }
    Ok(())
}

type Data<'a> = &'a BTreeMap<String, Zeroizing<Vec<u8>>>;

fn lookup(data: Data, key: &str) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    data.get(key)
        .cloned()
        .ok_or_else(|| TemplateError::UnknownKey(key.to_string()))
}

fn arg_value(tok: &Tok, data: Data, action: &str) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    match tok {
        Tok::Str(s) => Ok(Zeroizing::new(s.as_bytes().to_vec())),
        Tok::Field(k) => lookup(data, k),
        _ => Err(TemplateError::Unsupported(action.to_string())),
    }
}

fn text(v: &[u8], f: &str) -> Result<String, TemplateError> {
    String::from_utf8(v.to_vec()).map_err(|_| TemplateError::BadArgument(f.into(), "value is not text".into()))
}

/// Runs one command: the first of a pipeline (`prev` = None) or a later one (`prev` = piped value).
fn command(
    cmd: &[Tok],
    prev: Option<Zeroizing<Vec<u8>>>,
    data: Data,
    action: &str,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let unsupported = || TemplateError::Unsupported(action.to_string());
    let (head, args) = cmd.split_first().ok_or_else(unsupported)?;
    let mut argv: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let name = match head {
        Tok::Ident(n) => n.as_str(),
        single if args.is_empty() && prev.is_none() => return arg_value(single, data, action),
        _ => return Err(unsupported()),
    };
    if name == "index" {
        match (args, &prev) {
            ([Tok::Dot, Tok::Str(k)], None) => return lookup(data, k),
            _ => return Err(unsupported()),
        }
    }
    for a in args {
        argv.push(arg_value(a, data, action)?);
    }
    if let Some(p) = prev {
        argv.push(p);
    }
    let one = |argv: &[Zeroizing<Vec<u8>>]| -> Result<Zeroizing<Vec<u8>>, TemplateError> {
        match argv {
            [v] => Ok(v.clone()),
            _ => Err(TemplateError::BadArgument(name.into(), "expects one argument".into())),
        }
    };
    let z = |s: String| Zeroizing::new(s.into_bytes());
    Ok(match name {
        "toString" | "print" => {
            let mut out = Zeroizing::new(Vec::new());
            for a in &argv {
                out.extend_from_slice(a);
            }
            out
        }
        "b64enc" => {
            let v = one(&argv)?;
            too_big(name, v.len().div_ceil(3) * 4)?;
            z(B64.encode(&*v))
        }
        "b64dec" => Zeroizing::new(
            B64.decode(&*one(&argv)?)
                .map_err(|_| TemplateError::BadArgument(name.into(), "value is not base64".into()))?,
        ),
        "upper" => z(text(&one(&argv)?, name)?.to_uppercase()),
        "lower" => z(text(&one(&argv)?, name)?.to_lowercase()),
        "trim" => z(text(&one(&argv)?, name)?.trim().to_string()),
        "quote" => z(format!("{:?}", text(&one(&argv)?, name)?)),
        "squote" => z(format!("'{}'", text(&one(&argv)?, name)?)),
        "trimPrefix" | "trimSuffix" | "default" | "replace" | "printf" if argv.is_empty() => {
            return Err(TemplateError::BadArgument(name.into(), "missing arguments".into()));
        }
        "trimPrefix" if argv.len() == 2 => {
            let (p, s) = (text(&argv[0], name)?, text(&argv[1], name)?);
            z(s.strip_prefix(&p).unwrap_or(&s).to_string())
        }
        "trimSuffix" if argv.len() == 2 => {
            let (p, s) = (text(&argv[0], name)?, text(&argv[1], name)?);
            z(s.strip_suffix(&p).unwrap_or(&s).to_string())
        }
        "replace" if argv.len() == 3 => {
            let (a, b, s) = (text(&argv[0], name)?, text(&argv[1], name)?, text(&argv[2], name)?);
            // An empty pattern matches between every character: size the result first.
            let hits = if a.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(a.as_str()).count()
            };
            too_big(name, s.len() + hits.saturating_mul(b.len()))?;
            z(s.replace(&a, &b))
        }
        "default" if argv.len() == 2 => {
            if argv[1].is_empty() {
                argv[0].clone()
            } else {
                argv[1].clone()
            }
        }
        "printf" => {
            let fmt = text(&argv[0], name)?;
            let mut out = String::new();
            let mut rest = argv[1..].iter();
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some('s') | Some('v') => {
                        let v = rest
                            .next()
                            .ok_or_else(|| TemplateError::BadArgument(name.into(), "too few arguments".into()))?;
                        out.push_str(&text(v, name)?);
                    }
                    Some('q') => {
                        let v = rest
                            .next()
                            .ok_or_else(|| TemplateError::BadArgument(name.into(), "too few arguments".into()))?;
                        out.push_str(&format!("{:?}", text(v, name)?));
                    }
                    _ => {
                        return Err(TemplateError::BadArgument(
                            name.into(),
                            "only %s, %v, %q and %% are supported".into(),
                        ));
                    }
                }
            }
            Zeroizing::new(out.into_bytes())
        }
        _ => return Err(unsupported()),
    })
}

fn action(action: &str, data: Data) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let toks = tokenize(action)?;
    if toks.is_empty() {
        return Err(TemplateError::Unsupported(format!("{{{{{action}}}}}")));
    }
    let mut value = None;
    for cmd in toks.split(|t| *t == Tok::Pipe) {
        let v = command(cmd, value, data, action.trim())?;
        too_big("template", v.len())?;
        value = Some(v);
    }
    value.ok_or_else(|| TemplateError::Unsupported(action.trim().to_string()))
}

/// Renders `template` with `data` (key → decrypted value).
pub fn render(
    template: &str,
    data: &BTreeMap<String, Zeroizing<Vec<u8>>>,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let mut out = Zeroizing::new(Vec::new());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let mut lit = &rest[..start];
        let mut inner = &rest[start + 2..];
        if let Some(trimmed) = inner.strip_prefix("- ") {
            lit = lit.trim_end();
            inner = trimmed;
        }
        out.extend_from_slice(lit.as_bytes());
        let end = inner
            .find("}}")
            .ok_or(TemplateError::Malformed("`{{` without `}}`".into()))?;
        let mut act = &inner[..end];
        let mut after = &inner[end + 2..];
        if let Some(a) = act.strip_suffix(" -") {
            act = a;
            after = after.trim_start();
        }
        if act.trim_start().starts_with("/*") {
            rest = after;
            continue;
        }
        if let Some(word) = act.split_whitespace().next()
            && matches!(
                word,
                "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" | "$"
            )
        {
            return Err(TemplateError::Unsupported(format!("{{{{{}}}}}", act.trim())));
        }
        out.extend_from_slice(&action(act, data)?);
        too_big("template", out.len())?;
        rest = after;
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, Zeroizing<Vec<u8>>> {
        [("user", "app"), ("password", "p@ss"), ("host", "db")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.as_bytes().to_vec())))
            .collect()
    }

    fn r(t: &str) -> Result<String, TemplateError> {
        render(t, &data()).map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn common_forms() {
        assert_eq!(
            r("postgres://{{ .user }}:{{ index . \"password\" }}@{{.host}}/app").unwrap(),
            "postgres://app:p@ss@db/app"
        );
        assert_eq!(r("{{ .user | upper }}").unwrap(), "APP");
        assert_eq!(r("{{ .user | b64enc }}").unwrap(), "YXBw");
        assert_eq!(r("{{ printf \"%s-%s\" .user .host }}").unwrap(), "app-db");
        assert_eq!(r("a {{- .user -}} b").unwrap(), "aappb");
        assert_eq!(
            r("{{ .missing | default \"x\" }}").unwrap_err(),
            TemplateError::UnknownKey("missing".into())
        );
        assert_eq!(r("plain").unwrap(), "plain");
    }

    #[test]
    fn output_is_bounded() {
        // Found by fuzzing review: each step doubles the value; it must stop at the limit.
        let doubling = format!("{{{{ \"x\"{} }}}}", " | replace \"\" \"xx\"".repeat(40));
        assert!(matches!(r(&doubling).unwrap_err(), TemplateError::BadArgument(..)));
        let b64 = format!("{{{{ .user{} }}}}", " | b64enc".repeat(120));
        assert!(matches!(r(&b64).unwrap_err(), TemplateError::BadArgument(..)));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert_eq!(
            r("{{ if .user }}x{{ end }}").unwrap_err(),
            TemplateError::Unsupported("{{if .user}}".into())
        );
        assert!(matches!(
            r("{{ env \"HOME\" }}").unwrap_err(),
            TemplateError::Unsupported(_)
        ));
        assert!(matches!(r("{{ .user").unwrap_err(), TemplateError::Malformed(_)));
    }
}
