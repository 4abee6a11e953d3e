//! `semver` and `semverCompare`: Masterminds/semver v3 versions (coerced: `v1.2` reads as
//! `1.2.0`) and constraints (`=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `^`, `x` wildcards,
//! `a - b` ranges, `,`/space for and, `||` for or, prereleases only when the constraint
//! group names one).

use super::args;
use super::f;
use super::strings::go_quote;
use crate::gotemplate::value::{Object, Value};
use crate::gotemplate::{FuncMap, Ty};
use regex::Regex;
use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::LazyLock;

/// Registers `semver` and `semverCompare`.
pub fn register(m: &mut FuncMap) {
    use Ty::String as S;
    m.insert(
        "semver",
        f(&[S], |a| {
            Ok(Value::Object(Rc::new(Version::parse(args::string(a, 0)?)?)))
        }),
    );
    m.insert(
        "semverCompare",
        f(&[S, S], |a| {
            let c = Constraints::parse(args::string(a, 0)?)?;
            let v = Version::parse(args::string(a, 1)?)?;
            Ok(Value::Bool(c.check(&v)))
        }),
    );
}

const WS: &str = r"[\t\n\f\r ]";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

/// A fixed pattern (valid: the tests compile every one); `None` would match nothing.
fn re(pattern: String) -> Option<Regex> {
    Regex::new(&pattern).ok()
}

static LOOSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$".to_owned())
});
static CONSTRAINT: LazyLock<Option<Regex>> = LazyLock::new(|| re(format!(r"^{WS}*({OPS}){WS}*({CV}){WS}*$")));
static RANGE: LazyLock<Option<Regex>> = LazyLock::new(|| re(format!(r"{WS}*({CV}){WS}+-{WS}+({CV}){WS}*")));
static FIND: LazyLock<Option<Regex>> = LazyLock::new(|| re(format!(r"({OPS}){WS}*({CV})")));
static VALID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(format!(
        r"^({WS}*({OPS}){WS}*({CV}){WS}*)((?:{WS}+|,{WS}*)({OPS}){WS}*({CV}){WS}*)*$"
    ))
});

/// A parsed version (`*semver.Version`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

fn only(s: &str, extra_letters: bool) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || extra_letters && (b.is_ascii_alphabetic() || b == b'-'))
}

fn segment(s: &str) -> Result<u64, String> {
    let digits = s.trim_start_matches('.');
    digits.parse().map_err(|_| {
        format!(
            "error parsing version segment: strconv.ParseUint: parsing {}: value out of range",
            go_quote(digits)
        )
    })
}

impl Version {
    /// `semver.NewVersion` (coercing).
    pub fn parse(v: &str) -> Result<Version, String> {
        let m = LOOSE
            .as_ref()
            .and_then(|r| r.captures(v))
            .ok_or("invalid semantic version")?;
        let group = |i: usize| m.get(i).map_or("", |g| g.as_str());
        let out = Version {
            major: segment(group(1))?,
            minor: if group(2).is_empty() { 0 } else { segment(group(2))? },
            patch: if group(3).is_empty() { 0 } else { segment(group(3))? },
            pre: group(5).to_owned(),
            metadata: group(8).to_owned(),
            original: v.to_owned(),
        };
        if !out.pre.is_empty() {
            for p in out.pre.split('.') {
                if p.is_empty() {
                    return Err("invalid prerelease string".into());
                } else if only(p, false) {
                    if p.len() > 1 && p.starts_with('0') {
                        return Err("version segment starts with 0".into());
                    }
                } else if !only(p, true) {
                    return Err("invalid prerelease string".into());
                }
            }
        }
        if !out.metadata.is_empty() && out.metadata.split('.').any(|p| p.is_empty() || !only(p, true)) {
            return Err("invalid metadata string".into());
        }
        Ok(out)
    }

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }

    fn string(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }

    fn v_prefix(&self) -> &'static str {
        if self.original.starts_with('v') { "v" } else { "" }
    }

    fn bumped(&self, major: u64, minor: u64, patch: u64) -> Version {
        let mut next = Version {
            major,
            minor,
            patch,
            pre: String::new(),
            metadata: String::new(),
            original: String::new(),
        };
        next.original = format!("{}{}", self.v_prefix(), next.string());
        next
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..sa.len().max(sb.len()) {
        let (x, y) = (sa.get(i).copied().unwrap_or(""), sb.get(i).copied().unwrap_or(""));
        let d = compare_pre_part(x, y);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => {
            if s > o {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (_, Err(_)) => Ordering::Less,
        (Err(_), _) => Ordering::Greater,
        (Ok(si), Ok(oi)) => {
            if si > oi {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            // uint64 in Go; the model's integers are signed.
            "Major" => Value::Int64(self.major as i64),
            "Minor" => Value::Int64(self.minor as i64),
            "Patch" => Value::Int64(self.patch as i64),
            "Prerelease" => Value::str(self.pre.as_str()),
            "Metadata" => Value::str(self.metadata.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.string()),
            "IncMajor" => Value::Object(Rc::new(self.bumped(self.major.wrapping_add(1), 0, 0))),
            "IncMinor" => Value::Object(Rc::new(self.bumped(self.major, self.minor.wrapping_add(1), 0))),
            "IncPatch" => {
                let patch = if self.pre.is_empty() {
                    self.patch.wrapping_add(1)
                } else {
                    self.patch
                };
                Value::Object(Rc::new(self.bumped(self.major, self.minor, patch)))
            }
            _ => return None,
        })
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !matches!(
            name,
            "Compare" | "LessThan" | "GreaterThan" | "Equal" | "LessThanEqual" | "GreaterThanEqual"
        ) {
            return None;
        }
        let other = match args {
            [Value::Object(o)] if o.type_name() == "*semver.Version" => o.field("Original"),
            _ => None,
        };
        let Some(Value::Str(orig)) = other else {
            return Some(Err(format!(
                "wrong type for value; expected *semver.Version; got {}",
                args.first().map_or("<nil>".into(), Value::type_name)
            )));
        };
        let other = match Version::parse(&orig) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let c = self.compare(&other);
        Some(Ok(match name {
            "Compare" => Value::Int(c as i64),
            "LessThan" => Value::Bool(c == Ordering::Less),
            "GreaterThan" => Value::Bool(c == Ordering::Greater),
            "Equal" => Value::Bool(c == Ordering::Equal),
            "LessThanEqual" => Value::Bool(c != Ordering::Greater),
            _ => Value::Bool(c != Ordering::Less),
        }))
    }

    fn format_v(&self) -> String {
        self.string()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

struct Constraint {
    op: Op,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

/// Parsed `semver.Constraints`.
struct Constraints {
    groups: Vec<(Vec<Constraint>, bool)>,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "*" | "X")
}

impl Constraints {
    fn parse(c: &str) -> Result<Constraints, String> {
        let c = rewrite_range(c);
        let mut groups = Vec::new();
        for part in c.split("||") {
            if !VALID.as_ref().is_some_and(|r| r.is_match(part)) {
                return Err(format!("improper constraint: {}", go_quote(part)));
            }
            let mut found: Vec<&str> = FIND
                .as_ref()
                .map(|r| r.find_iter(part).map(|m| m.as_str()).collect())
                .unwrap_or_default();
            if found.is_empty() {
                found.push(part);
            }
            let mut list = Vec::new();
            let mut has_pre = false;
            for s in found {
                let pc = parse_constraint(s)?;
                has_pre |= !pc.con.pre.is_empty();
                list.push(pc);
            }
            groups.push((list, has_pre));
        }
        Ok(Constraints { groups })
    }

    fn check(&self, v: &Version) -> bool {
        self.groups
            .iter()
            .any(|(list, pre)| list.iter().all(|c| c.check(v, *pre)))
    }
}

fn rewrite_range(c: &str) -> String {
    let mut out = c.to_owned();
    let Some(range) = RANGE.as_ref() else { return out };
    for m in range.captures_iter(c) {
        let (Some(all), Some(a), Some(b)) = (m.get(0), m.get(1), m.get(11)) else {
            continue;
        };
        out = out.replacen(all.as_str(), &format!(">= {}, <= {} ", a.as_str(), b.as_str()), 1);
    }
    out
}

fn parse_constraint(s: &str) -> Result<Constraint, String> {
    if s.is_empty() {
        let con = Version::parse("0.0.0")?;
        return Ok(Constraint {
            op: Op::TildeOrEqual,
            con,
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let m = CONSTRAINT
        .as_ref()
        .and_then(|r| r.captures(s))
        .ok_or_else(|| format!("improper constraint: {}", go_quote(s)))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let op = match g(1) {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        _ => Op::Caret,
    };
    let (minor_t, patch_t) = (g(4).trim_start_matches('.'), g(5).trim_start_matches('.'));
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let ver = if is_x(g(3)) || g(3).is_empty() {
        dirty = true;
        format!("0.0.0{}", g(6))
    } else if is_x(minor_t) || g(4).is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{}.0.0{}", g(3), g(6))
    } else if is_x(patch_t) || g(5).is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{}{}.0{}", g(3), g(4), g(6))
    } else {
        g(2).to_owned()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint parser error".to_owned())?;
    Ok(Constraint {
        op,
        con,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        let cmp = v.compare(c);
        match self.op {
            Op::NotEqual => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                cmp != Ordering::Equal
            }
            Op::Greater => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                cmp == Ordering::Greater
            }
            Op::Less => cmp == Ordering::Less,
            Op::GreaterEqual => cmp != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                !(v.major > c.major || v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            Op::Tilde => self.tilde(v, cmp),
            Op::TildeOrEqual => {
                if self.dirty {
                    self.tilde(v, cmp)
                } else {
                    cmp == Ordering::Equal
                }
            }
            Op::Caret => {
                if cmp == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
        }
    }

    fn tilde(&self, v: &Version, cmp: Ordering) -> bool {
        let c = &self.con;
        if cmp == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }
}

#[cfg(test)]
mod tests;
