//! sprig's path functions: `base`, `dir`, `clean`, `ext`, `isAbs` (Go's `path`) and their
//! `os*` forms (`path/filepath`, which on Linux, where Helm runs, is the same).

use super::args;
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

/// Registers the path functions.
pub fn register(m: &mut FuncMap) {
    use Ty::String as S;
    for (plain, os) in [
        ("base", "osBase"),
        ("dir", "osDir"),
        ("clean", "osClean"),
        ("ext", "osExt"),
    ] {
        let func = match plain {
            "base" => f(&[S], |a| Ok(Value::str(base(args::string(a, 0)?)))),
            "dir" => f(&[S], |a| Ok(Value::str(dir(args::string(a, 0)?)))),
            "clean" => f(&[S], |a| Ok(Value::str(clean(args::string(a, 0)?)))),
            _ => f(&[S], |a| Ok(Value::str(ext(args::string(a, 0)?)))),
        };
        m.insert(plain, func);
        m.insert(os, func);
    }
    for name in ["isAbs", "osIsAbs"] {
        m.insert(name, f(&[S], |a| Ok(Value::Bool(args::string(a, 0)?.starts_with('/')))));
    }
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `path.Dir`.
pub fn dir(p: &str) -> String {
    let upto = p.rfind('/').map_or(0, |i| i + 1);
    clean(p.get(..upto).unwrap_or(""))
}

/// Go's `path.Ext`.
pub fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p.get(i..).unwrap_or("").to_owned(),
            _ => {}
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_match_the_oracle() {
        assert_eq!(super::base("/a/b/"), "b");
        assert_eq!(super::base(""), ".");
        assert_eq!(super::base("///"), "/");
        assert_eq!(super::dir("a/b"), "a");
        assert_eq!(super::dir(""), ".");
        assert_eq!(super::dir("/"), "/");
        assert_eq!(super::dir("/a"), "/");
        assert_eq!(super::clean("a//b/../c/."), "a/c");
        assert_eq!(super::clean("/../a"), "/a");
        assert_eq!(super::clean("../../a"), "../../a");
        assert_eq!(super::ext("a.tar.gz"), ".gz");
        assert_eq!(super::ext("a.b/c"), "");
    }
}
