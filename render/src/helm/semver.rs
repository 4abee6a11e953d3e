//! Semantic versions and constraints as Masterminds/semver v3 reads them, for matching a
//! chart's `dependencies:` entries (`version: 2.x.x`, `~0.3.0`, `>=1.2 <2`) against the
//! subcharts present.

use std::cmp::Ordering;

/// A version (`v` prefix, missing minor/patch, prerelease and build metadata allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

fn numeric(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid_idents(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl Version {
    /// Parses `text` as Masterminds' `NewVersion` does; `None` if it is not a version.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.strip_prefix('v').unwrap_or(text);
        let (t, meta) = match t.split_once('+') {
            Some((a, m)) => (a, Some(m)),
            None => (t, None),
        };
        if meta.is_some_and(|m| !valid_idents(m)) {
            return None;
        }
        let (core, pre) = match t.split_once('-') {
            Some((a, p)) => (a, p),
            None => (t, ""),
        };
        if !pre.is_empty() {
            if !valid_idents(pre) {
                return None;
            }
            // Numeric identifiers have no leading zeros.
            if pre
                .split('.')
                .any(|p| p.len() > 1 && p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
        } else if t.contains('-') {
            return None;
        }
        let mut parts = core.split('.');
        let major = numeric(parts.next()?)?;
        let minor = match parts.next() {
            Some(p) => numeric(p)?,
            None => 0,
        };
        let patch = match parts.next() {
            Some(p) => numeric(p)?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre: pre.to_string(),
        })
    }

    fn core(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (numeric(x), numeric(y)) {
                    (Some(p), Some(q)) => p.cmp(&q),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core()
            .cmp(&other.core())
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Clone, Debug)]
struct Constraint {
    op: Op,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_one(op: &str, ver: &str) -> Option<Constraint> {
    let op = match op {
        "" | "=" => Op::Eq,
        "!=" => Op::Ne,
        ">" => Op::Gt,
        "<" => Op::Lt,
        ">=" | "=>" => Op::Ge,
        "<=" | "=<" => Op::Le,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        _ => return None,
    };
    let v = ver.strip_prefix('v').unwrap_or(ver);
    let (core, suffix) = match v.find(['-', '+']) {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let major = parts.first().copied().unwrap_or("");
    let minor = parts.get(1).copied();
    let patch = parts.get(2).copied();
    let (text, dirty, minor_dirty) = if major.is_empty() || is_x(major) {
        (format!("0.0.0{suffix}"), true, false)
    } else if minor.is_some_and(is_x) {
        (format!("{major}.0.0{suffix}"), true, true)
    } else if patch.is_some_and(is_x) {
        (format!("{major}.{}.0{suffix}", minor.unwrap_or("0")), true, false)
    } else {
        (v.to_string(), false, false)
    };
    let con = Version::parse(&text)?;
    Some(Constraint {
        op,
        con,
        dirty,
        minor_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        // A prerelease only meets constraints that mention one.
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        match self.op {
            Op::Eq | Op::Ne => {
                let eq = if self.dirty {
                    if self.minor_dirty {
                        v.major == c.major
                    } else if c.core() == (0, 0, 0) && c.pre.is_empty() {
                        true
                    } else {
                        v.major == c.major && v.minor == c.minor
                    }
                } else {
                    v == c
                };
                eq == (self.op == Op::Eq)
            }
            Op::Gt => {
                if self.dirty && self.minor_dirty {
                    v.major > c.major
                } else if self.dirty && c.core() != (0, 0, 0) {
                    v.major > c.major || (v.major == c.major && v.minor > c.minor)
                } else {
                    v > c
                }
            }
            Op::Lt => v < c,
            Op::Ge => v >= c,
            Op::Le => {
                if self.dirty && self.minor_dirty {
                    v.major <= c.major
                } else if self.dirty && c.core() != (0, 0, 0) {
                    v.major < c.major || (v.major == c.major && v.minor <= c.minor)
                } else {
                    v <= c
                }
            }
            Op::Tilde => {
                if v < c {
                    return false;
                }
                if c.minor == 0 && c.patch == 0 && self.minor_dirty {
                    return v.major == c.major;
                }
                v.major == c.major && v.minor == c.minor
            }
            Op::Caret => {
                if v < c {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    v.major == c.major
                } else if c.minor > 0 || self.dirty {
                    v.major == 0 && v.minor == c.minor
                } else {
                    v.core() == (0, 0, c.patch)
                }
            }
        }
    }
}

/// Splits one `||` group into (operator, version) pairs; `None` if it is not a constraint.
fn parse_group(group: &str) -> Option<Vec<Constraint>> {
    // Hyphen ranges: `1.2 - 1.4.5` means `>= 1.2, <= 1.4.5`.
    let words: Vec<&str> = group
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(word) = words.get(i) {
        if words.get(i + 1) == Some(&"-") {
            let hi = words.get(i + 2)?;
            out.push(parse_one(">=", word)?);
            out.push(parse_one("<=", hi)?);
            i += 3;
            continue;
        }
        let split = word
            .find(|c: char| !matches!(c, '=' | '<' | '>' | '!' | '~' | '^'))
            .unwrap_or(word.len());
        let (op, ver) = word.split_at(split);
        if ver.is_empty() {
            // An operator apart from its version: `>= 1.2`.
            let next = words.get(i + 1)?;
            out.push(parse_one(op, next)?);
            i += 2;
            continue;
        }
        out.push(parse_one(op, ver)?);
        i += 1;
    }
    if out.is_empty() { None } else { Some(out) }
}

/// Helm's `IsCompatibleRange`: whether `version` meets `constraint` (false if either does not
/// parse).
pub fn compatible_range(constraint: &str, version: &str) -> bool {
    let Some(v) = Version::parse(version) else {
        return false;
    };
    let mut groups = Vec::new();
    for g in constraint.split("||") {
        match parse_group(g.trim()) {
            Some(cs) => groups.push(cs),
            None => return false,
        }
    }
    groups.iter().any(|cs| cs.iter().all(|c| c.check(&v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        for (c, v, want) in [
            ("2.x.x", "2.31.4", true),
            ("2.x.x", "3.0.0", false),
            ("1.x.x", "1.0.0", true),
            ("~0.3.0", "0.3.9", true),
            ("~0.3.0", "0.4.0", false),
            ("4.38.0", "4.38.0", true),
            ("4.38.0", "4.38.1", false),
            (">=1.2 <2", "1.9.0", true),
            (">= 1.2, < 2", "2.0.0", false),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("*", "5.0.0", true),
            ("*", "5.0.0-rc1", false),
            (">1.0.0-alpha", "1.0.0-beta", true),
            ("<1 || >=3", "3.1.0", true),
            ("garbage", "1.0.0", false),
            ("1.x", "1.0.0", true),
        ] {
            assert_eq!(compatible_range(c, v), want, "{c} {v}");
        }
    }

    #[test]
    fn versions() {
        assert!(Version::parse("v1.2").is_some());
        assert!(Version::parse("1.2.3-rc.1+b5").is_some());
        assert!(Version::parse("1.2.3.4").is_none());
        assert!(Version::parse("1.2.3-01").is_none());
        assert!(Version::parse("").is_none());
    }
}
