//! sprig's URL functions over Go's `net/url` rules: `urlParse` (a dict of `scheme`, `host`,
//! `hostname`, `path`, `query`, `opaque`, `fragment`, `userinfo`), `urlJoin` (the reverse),
//! and `getHostByName`, which Helm replaces with one returning `""` unless DNS is enabled
//! (`--enable-dns`): nothing here touches the network.

use super::args::{self, NIL_DEREF};
use super::cast::kind;
use super::f;
use super::strings::go_quote;
use crate::gotemplate::value::{Map, Value};
use crate::gotemplate::{FuncMap, Ty};

/// Registers the URL functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Map as M, String as S};
    m.insert(
        "urlParse",
        f(&[S], |a| {
            let raw = args::string(a, 0)?;
            let u = parse(raw).map_err(|e| format!("unable to parse url: {e}"))?;
            Ok(Value::map(u.to_dict()))
        }),
    );
    m.insert(
        "urlJoin",
        f(&[M], |a| Ok(Value::str(join(&args::map(a, 0)?.borrow())?))),
    );
    m.insert("getHostByName", f(&[S], |_| Ok(Value::str(""))));
}

/// The parts of a URL, as Go's `url.URL` holds them (decoded).
#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_query: String,
    force_query: bool,
    fragment: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Path => c == b'?',
            Mode::Fragment => false,
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Go's `unescape`: `%XX` decoded (host rules on which escapes and characters may appear).
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let (h, l) = match (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            ) {
                (Some(h), Some(l)) => (h, l),
                _ => {
                    let bad = String::from_utf8_lossy(b.get(i..(i + 3).min(b.len())).unwrap_or_default());
                    return Err(format!("invalid URL escape {}", go_quote(&bad)));
                }
            };
            let escape_text = s.get(i..i + 3).unwrap_or("");
            if mode == Mode::Host && h < 8 && escape_text != "%25" {
                return Err(format!("invalid URL escape {}", go_quote(escape_text)));
            }
            if mode == Mode::Zone {
                let v = h << 4 | l;
                if escape_text != "%25" && v != b' ' && should_escape(v, Mode::Host) {
                    return Err(format!("invalid URL escape {}", go_quote(escape_text)));
                }
            }
            out.push(h << 4 | l);
            i += 3;
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                return Err(format!(
                    "invalid character {} in host name",
                    go_quote(&char::from(c).to_string())
                ));
            }
            out.push(c);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let (inside, colon_port) = host.split_at(i);
        let colon_port = colon_port.get(1..).unwrap_or("");
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
        if let Some(zone) = inside.find("%25") {
            let (h1, h2) = inside.split_at(zone);
            return Ok(format!(
                "{}{}{}",
                unescape(h1, Mode::Host)?,
                unescape(h2, Mode::Zone)?,
                unescape(host.get(i..).unwrap_or(""), Mode::Host)?
            ));
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = host.get(i..).unwrap_or("");
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b':'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
                    | b'@'
            )
    })
}

type User = Option<(String, Option<String>)>;

fn parse_authority(authority: &str) -> Result<(User, String), String> {
    let at = authority.rfind('@');
    let host = parse_host(match at {
        Some(i) => authority.get(i + 1..).unwrap_or(""),
        None => authority,
    })?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = authority.get(..i).unwrap_or("");
    if !valid_userinfo(userinfo) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.split_once(':') {
        None => (unescape(userinfo, Mode::UserPassword)?, None),
        Some((u, p)) => (unescape(u, Mode::UserPassword)?, Some(unescape(p, Mode::UserPassword)?)),
    };
    Ok((Some(user), host))
}

/// Go's `getScheme`.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((raw.get(..i).unwrap_or(""), raw.get(i + 1..).unwrap_or(""))),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// `url.Parse`, with Go's `parse "URL": ...` error.
fn parse(raw: &str) -> Result<Url, String> {
    let (no_frag, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let mut u = parse_no_fragment(no_frag).map_err(|e| format!("parse {}: {e}", go_quote(no_frag)))?;
    if raw.contains('#') {
        u.fragment = unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {e}", go_quote(raw)))?;
    }
    Ok(u)
}

fn parse_no_fragment(no_frag: &str) -> Result<Url, String> {
    if no_frag.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut u = Url::default();
    if no_frag == "*" {
        u.path = "*".into();
    } else {
        let (scheme, rest) = split_scheme(no_frag)?;
        u.scheme = scheme.to_ascii_lowercase();
        let mut rest = rest;
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            u.force_query = true;
            rest = rest.get(..rest.len() - 1).unwrap_or("");
        } else if let Some((r, q)) = rest.split_once('?') {
            rest = r;
            u.raw_query = q.to_owned();
        }
        if !rest.starts_with('/') && !u.scheme.is_empty() {
            u.opaque = rest.to_owned();
        } else {
            if !rest.starts_with('/') && rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
                return Err("first path segment in URL cannot contain colon".into());
            }
            if let Some(after) = rest
                .strip_prefix("//")
                .filter(|_| !u.scheme.is_empty() || !rest.starts_with("///"))
            {
                let (authority, path) = match after.find('/') {
                    Some(i) => after.split_at(i),
                    None => (after, ""),
                };
                let (user, host) = parse_authority(authority)?;
                u.user = user;
                u.host = host;
                rest = path;
            }
            u.path = unescape(rest, Mode::Path)?;
        }
    }
    Ok(u)
}

impl Url {
    /// `User.String()`: the escaped `user[:password]`.
    fn userinfo(&self) -> String {
        match &self.user {
            None => String::new(),
            Some((name, None)) => escape(name, Mode::UserPassword),
            Some((name, Some(pass))) => format!(
                "{}:{}",
                escape(name, Mode::UserPassword),
                escape(pass, Mode::UserPassword)
            ),
        }
    }

    /// `url.Hostname()`: the host without its port or IPv6 brackets.
    fn hostname(&self) -> &str {
        let mut host = self.host.as_str();
        if let Some(i) = host.rfind(':')
            && valid_optional_port(host.get(i..).unwrap_or(""))
        {
            host = host.get(..i).unwrap_or("");
        }
        host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
    }

    fn to_dict(&self) -> Map {
        let mut d = Map::new();
        for (k, v) in [
            ("scheme", self.scheme.as_str()),
            ("host", &self.host),
            ("hostname", self.hostname()),
            ("path", &self.path),
            ("query", &self.raw_query),
            ("opaque", &self.opaque),
            ("fragment", &self.fragment),
            ("userinfo", &self.userinfo()),
        ] {
            d.insert(k.to_owned(), Value::str(v));
        }
        d
    }

    /// `url.URL.String()`.
    fn string(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if self.user.is_some() {
                    out.push_str(&self.userinfo());
                    out.push('@');
                }
                out.push_str(&escape(&self.host, Mode::Host));
            }
            let path = if self.path == "*" {
                "*".to_owned()
            } else {
                escape(&self.path, Mode::Path)
            };
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().is_some_and(|seg| seg.contains(':')) {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&escape(&self.fragment, Mode::Fragment));
        }
        out
    }
}

/// sprig's `dictGetOrEmpty`: a string entry, `""` when absent, a panic for another type.
fn get(d: &Map, key: &str) -> Result<String, String> {
    match d.get(key) {
        None => Ok(String::new()),
        Some(Value::Str(s)) => Ok(s.as_str().to_owned()),
        Some(Value::Nil) => Err(NIL_DEREF.into()),
        Some(v) => Err(format!(
            "unable to parse {key} key, must be of type string, but {} found",
            kind(v)
        )),
    }
}

/// sprig's `urlJoin`.
fn join(d: &Map) -> Result<String, String> {
    let mut u = Url {
        scheme: get(d, "scheme")?,
        host: get(d, "host")?,
        path: get(d, "path")?,
        raw_query: get(d, "query")?,
        opaque: get(d, "opaque")?,
        fragment: get(d, "fragment")?,
        ..Url::default()
    };
    let userinfo = get(d, "userinfo")?;
    if !userinfo.is_empty() {
        let temp =
            parse(&format!("proto://{userinfo}@host")).map_err(|e| format!("unable to parse userinfo in dict: {e}"))?;
        u.user = temp.user;
    }
    Ok(u.string())
}

#[cfg(test)]
#[path = "urls_tests.rs"]
mod tests;
