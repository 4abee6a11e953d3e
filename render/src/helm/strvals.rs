//! Helm's `--set` language: `a.b=c,list[0]=x,tags={a,b}`, with `\` escaping `,` `.` `=` `[`
//! and typed values as Helm types them (`true`/`false` are booleans, `null` is nil — which
//! deletes a chart default when the values are coalesced —, an integer without a leading zero
//! is an `int64`, everything else a string). Later assignments win.

use crate::gotemplate::value::{Map, Value};

/// The largest list index `--set` accepts (Helm's own bound).
const MAX_INDEX: usize = 65_536;
/// How deep a key may nest.
const MAX_DEPTH: usize = 100;

/// Applies one `--set` argument (several comma-separated assignments) to `values`.
pub fn apply_set(values: &mut Map, arg: &str) -> Result<(), String> {
    for assignment in split_unescaped(arg, ',', true) {
        if assignment.is_empty() {
            continue;
        }
        let (key, value) =
            split_key_value(&assignment).ok_or_else(|| format!("key {:?} has no value", unescape(&assignment)))?;
        let path = parse_key(&key)?;
        if path.is_empty() {
            return Err(format!("key {:?} is empty", unescape(&key)));
        }
        let v = if let Some(list) = value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            Value::list(
                split_unescaped(list, ',', false)
                    .iter()
                    .map(|s| typed(&unescape(s)))
                    .collect(),
            )
        } else {
            typed(&unescape(&value))
        };
        set_path(values, &path, v, 0)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits at `sep` not preceded by `\` (and, with `braces`, not inside `{...}`), keeping escapes.
fn split_unescaped(s: &str, sep: char, braces: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '{' if braces => {
                depth += 1;
                cur.push(c);
            }
            '}' if braces => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            c if c == sep && depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn split_key_value(s: &str) -> Option<(String, String)> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '=' => return Some((s[..i].to_string(), s[i + 1..].to_string())),
            _ => {}
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_key(key: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) => digits.push(d),
                        None => return Err(format!("key {key:?}: `[` without `]`")),
                    }
                }
                let i: usize = digits
                    .trim()
                    .parse()
                    .map_err(|_| format!("key {key:?}: list index {digits:?} is not a non-negative integer"))?;
                if i > MAX_INDEX {
                    return Err(format!(
                        "key {key:?}: index of {i} is greater than maximum supported index {MAX_INDEX}"
                    ));
                }
                steps.push(Step::Index(i));
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        steps.push(Step::Key(cur));
    }
    if steps.len() > MAX_DEPTH {
        return Err(format!("key {key:?} nests deeper than {MAX_DEPTH} levels"));
    }
    Ok(steps)
}

/// Helm's typing of a `--set` value.
fn typed(s: &str) -> Value {
    match s {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Nil,
        "0" => return Value::Int64(0),
        _ => {}
    }
    // As Helm: only a leading `0` keeps digits a string (`007`), so `-05` is -5.
    if !s.starts_with('0')
        && let Ok(i) = s.parse::<i64>()
    {
        return Value::Int64(i);
    }
    Value::str(s)
}

fn set_path(map: &mut Map, path: &[Step], v: Value, depth: usize) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    let Step::Key(k) = first else {
        return Err("a key cannot start with a list index".into());
    };
    if rest.is_empty() {
        map.insert(k.clone(), v);
        return Ok(());
    }
    let current = map.remove(k).unwrap_or_default();
    let next = set_in(current, rest, v, depth + 1)?;
    map.insert(k.clone(), next);
    Ok(())
}

/// Sets `path` inside `current` (a map or list, created when missing or of another type).
fn set_in(current: Value, path: &[Step], v: Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("key nests deeper than {MAX_DEPTH} levels"));
    }
    let Some((first, rest)) = path.split_first() else {
        return Ok(v);
    };
    match first {
        Step::Key(_) => {
            let mut m = match current {
                Value::Map(m) => m.borrow().clone(),
                _ => Map::new(),
            };
            set_path(&mut m, path, v, depth)?;
            Ok(Value::map(m))
        }
        Step::Index(i) => {
            let mut list = match current {
                Value::List(l) => l.as_ref().clone(),
                _ => Vec::new(),
            };
            if list.len() <= *i {
                list.resize(*i + 1, Value::Nil);
            }
            let slot = std::mem::take(&mut list[*i]);
            list[*i] = set_in(slot, rest, v, depth + 1)?;
            Ok(Value::list(list))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goyaml::to_json;

    fn set(args: &[&str]) -> String {
        let mut m = Map::new();
        for a in args {
            apply_set(&mut m, a).unwrap();
        }
        to_json(&Value::map(m)).unwrap()
    }

    #[test]
    fn assignments_as_helm_types_them() {
        assert_eq!(
            set(&["a.b=c,n=5,z=0,lead=007,f=1.5,t=true,nil=null,e=,m=-05,big=99999999999999999999"]),
            r#"{"a":{"b":"c"},"big":"99999999999999999999","e":"","f":"1.5","lead":"007","m":-5,"n":5,"nil":null,"t":true,"z":0}"#
        );
        assert_eq!(set(&["l[1]=x,l[0].k=v"]), r#"{"l":[{"k":"v"},"x"]}"#);
        assert_eq!(set(&["tags={a,b,3}"]), r#"{"tags":["a","b",3]}"#);
        assert_eq!(set(&[r"a\.b=c\,d"]), r#"{"a.b":"c,d"}"#);
        assert_eq!(set(&["a.b=1", "a.c=2", "a.b=3"]), r#"{"a":{"b":3,"c":2}}"#);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let mut m = Map::new();
        assert!(apply_set(&mut m, "novalue").unwrap_err().contains("has no value"));
        assert!(
            apply_set(&mut m, "l[x]=1")
                .unwrap_err()
                .contains("not a non-negative integer")
        );
        assert!(
            apply_set(&mut m, "l[99999999]=1")
                .unwrap_err()
                .contains("maximum supported index")
        );
        assert!(apply_set(&mut m, "l[0=1").is_err());
        assert!(apply_set(&mut m, &format!("{}=1", "a.".repeat(200))).is_err());
    }
}
