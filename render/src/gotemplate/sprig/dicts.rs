//! sprig's dict functions: `dict`, `get`, `set`, `unset`, `hasKey`, `pluck`, `keys`,
//! `values`, `pick`, `omit`, `dig`, and `merge`/`mergeOverwrite` with mergo's rules. Maps
//! are shared: `set`, `unset` and `merge` change the map every holder sees, as in Go.

use super::args;
use super::cast::{empty, strval};
use super::{f, fv};
use crate::gotemplate::value::{Map, Value};
use crate::gotemplate::{FuncMap, Ty};
use std::cell::RefCell;
use std::rc::Rc;

/// How deep `merge` follows nested maps (a map can hold itself: Go would recurse forever).
const MAX_DEPTH: usize = 1000;

/// Registers the dict functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Map as M, String as S};
    m.insert("dict", fv(&[], Any, dict));
    m.insert(
        "get",
        f(&[M, S], |a| {
            let (d, k) = (args::map(a, 0)?, args::string(a, 1)?);
            let v = d.borrow().get(k).cloned();
            Ok(v.unwrap_or_else(|| Value::str("")))
        }),
    );
    m.insert(
        "set",
        f(&[M, S, Any], |a| {
            let d = writable(a, 0)?;
            d.borrow_mut()
                .insert(args::string(a, 1)?.to_owned(), args::any(a, 2).clone());
            Ok(Value::Map(d))
        }),
    );
    m.insert(
        "unset",
        f(&[M, S], |a| {
            let d = args::map(a, 0)?;
            d.borrow_mut().remove(args::string(a, 1)?);
            Ok(Value::Map(d))
        }),
    );
    m.insert(
        "hasKey",
        f(&[M, S], |a| {
            Ok(Value::Bool(args::map(a, 0)?.borrow().contains_key(args::string(a, 1)?)))
        }),
    );
    m.insert(
        "pluck",
        fv(&[S], M, |a| {
            let key = args::string(a, 0)?;
            let mut out = Vec::new();
            for i in 1..a.len() {
                if let Some(v) = args::map(a, i)?.borrow().get(key) {
                    out.push(v.clone());
                }
            }
            Ok(Value::list(out))
        }),
    );
    m.insert(
        "keys",
        fv(&[], M, |a| {
            let mut out = Vec::new();
            for i in 0..a.len() {
                out.extend(args::map(a, i)?.borrow().keys().map(|k| Value::str(k.as_str())));
            }
            Ok(Value::list(out))
        }),
    );
    m.insert(
        "values",
        f(&[M], |a| {
            Ok(Value::list(args::map(a, 0)?.borrow().values().cloned().collect()))
        }),
    );
    m.insert(
        "pick",
        fv(&[M], S, |a| {
            let d = args::map(a, 0)?;
            let d = d.borrow();
            let mut out = Map::new();
            for i in 1..a.len() {
                let k = args::string(a, i)?;
                if let Some(v) = d.get(k) {
                    out.insert(k.to_owned(), v.clone());
                }
            }
            Ok(Value::map(out))
        }),
    );
    m.insert(
        "omit",
        fv(&[M], S, |a| {
            let omit: Vec<&str> = (1..a.len()).map(|i| args::string(a, i)).collect::<Result<_, _>>()?;
            let d = args::map(a, 0)?;
            let out: Map = d
                .borrow()
                .iter()
                .filter(|(k, _)| !omit.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::map(out))
        }),
    );
    m.insert("dig", fv(&[], Any, dig));
    for name in ["merge", "mustMerge"] {
        m.insert(name, fv(&[M], M, |a| merge_all(a, false)));
    }
    for name in ["mergeOverwrite", "mustMergeOverwrite"] {
        m.insert(name, fv(&[M], M, |a| merge_all(a, true)));
    }
}

/// A map argument that is written to: Go panics on a nil map.
fn writable(a: &[Value], i: usize) -> Result<Rc<RefCell<Map>>, String> {
    match args::any(a, i) {
        Value::Nil => Err("assignment to entry in nil map".to_owned()),
        _ => args::map(a, i),
    }
}

fn dict(a: &[Value]) -> Result<Value, String> {
    let mut m = Map::new();
    for pair in a.chunks(2) {
        let key = pair.first().map(strval).unwrap_or_default();
        m.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
    }
    Ok(Value::map(m))
}

/// Go's message for a failed `x.(T)` on an `interface{}`.
fn conversion_error(v: &Value, want: &str) -> String {
    let got = match v {
        Value::Nil => "nil".to_owned(),
        other => other.type_name(),
    };
    format!("interface conversion: interface {{}} is {got}, not {want}")
}

fn dig(a: &[Value]) -> Result<Value, String> {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".to_owned());
    }
    let (keys, rest) = a.split_at(a.len() - 2);
    let (default, dict) = (args::any(rest, 0), args::any(rest, 1));
    let Value::Map(mut current) = dict.clone() else {
        return Err(conversion_error(dict, "map[string]interface {}"));
    };
    let keys: Vec<&str> = keys
        .iter()
        .map(|k| k.as_str().ok_or_else(|| conversion_error(k, "string")))
        .collect::<Result<_, _>>()?;
    for (i, key) in keys.iter().enumerate() {
        let step = current.borrow().get(*key).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        match step {
            Value::Map(next) => current = next,
            other => return Err(conversion_error(&other, "map[string]interface {}")),
        }
    }
    Ok(default.clone())
}

fn merge_all(a: &[Value], overwrite: bool) -> Result<Value, String> {
    let dst = args::map(a, 0)?;
    for i in 1..a.len() {
        let src = args::map(a, i)?;
        merge_into(&dst, &src, overwrite, 0)?;
    }
    Ok(Value::Map(dst))
}

/// mergo's `Merge` (and `MergeWithOverwrite`) of one `map[string]interface{}` into another:
/// a key missing or empty in `dst` takes `src`'s value (with `overwrite`, every key does); two
/// maps merge recursively; a `nil` in `src` is only copied with `overwrite`.
pub fn merge_into(dst: &Rc<RefCell<Map>>, src: &Rc<RefCell<Map>>, overwrite: bool, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("merge: maps nested more than {MAX_DEPTH} deep"));
    }
    let entries: Vec<(String, Value)> = src.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (key, sv) in entries {
        if sv.is_nil() {
            if overwrite {
                dst.borrow_mut().insert(key, Value::Nil);
            }
            continue;
        }
        let dv = dst.borrow().get(&key).cloned();
        if let (Value::Map(s), Some(Value::Map(d))) = (&sv, &dv)
            && !Rc::ptr_eq(s, d)
        {
            merge_into(d, s, overwrite, depth + 1)?;
        }
        if let Some(dv) = &dv
            && !empty(dv)
        {
            if matches!(sv, Value::List(_)) {
                // mergo's slice branch has already replaced it when overwriting.
                if overwrite {
                    dst.borrow_mut().insert(key, sv);
                }
                continue;
            }
            if matches!((&sv, dv), (Value::Map(_), Value::Map(_))) {
                continue;
            }
        }
        if overwrite || dv.as_ref().is_none_or(empty) {
            dst.borrow_mut().insert(key, sv);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::funcs;
    use crate::gotemplate::value::Value;

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let m = funcs();
        let func = m.get(name).ok_or_else(|| format!("no {name}"))?;
        (func.call)(args)
    }

    fn d(pairs: &[(&str, Value)]) -> Value {
        let mut a = Vec::new();
        for (k, v) in pairs {
            a.push(Value::str(*k));
            a.push(v.clone());
        }
        call("dict", &a).unwrap_or_default()
    }

    fn show(name: &str, args: &[Value]) -> Result<String, String> {
        call(name, args).map(|v| v.format_v())
    }

    #[test]
    fn dicts_match_the_oracle() {
        let i = Value::Int;
        let s = Value::str;
        let l = Value::list;
        let n = Value::Nil;
        for (name, a, want) in [
            (
                "mergeOverwrite",
                vec![
                    d(&[("a", i(1)), ("b", i(2))]),
                    d(&[("a", s("")), ("b", n.clone()), ("c", n.clone())]),
                ],
                "map[a: b:<nil> c:<nil>]",
            ),
            (
                "merge",
                vec![
                    d(&[
                        ("a", Value::Bool(false)),
                        ("b", i(0)),
                        ("c", d(&[])),
                        ("d", l(vec![])),
                        ("e", s("x")),
                    ]),
                    d(&[
                        ("a", Value::Bool(true)),
                        ("b", i(5)),
                        ("c", d(&[("z", i(1))])),
                        ("d", l(vec![i(1)])),
                        ("e", s("y")),
                        ("f", n.clone()),
                    ]),
                ],
                "map[a:true b:5 c:map[z:1] d:[1] e:x]",
            ),
            (
                "merge",
                vec![
                    d(&[("m", d(&[("x", i(1)), ("y", s(""))]))]),
                    d(&[("m", d(&[("y", i(2)), ("z", i(3))]))]),
                ],
                "map[m:map[x:1 y:2 z:3]]",
            ),
            (
                "mergeOverwrite",
                vec![
                    d(&[("m", d(&[("x", i(1)), ("y", l(vec![i(1)]))]))]),
                    d(&[("m", d(&[("y", l(vec![])), ("z", i(3))]))]),
                ],
                "map[m:map[x:1 y:[] z:3]]",
            ),
            ("dict", vec![s("a"), i(1), s("b")], "map[a:1 b:]"),
            ("dict", vec![i(1), i(2)], "map[1:2]"),
            ("get", vec![d(&[("a", i(1))]), s("b")], ""),
            (
                "pluck",
                vec![s("a"), d(&[("a", i(1))]), d(&[("b", i(2))]), d(&[("a", i(3))])],
                "[1 3]",
            ),
            (
                "dig",
                vec![s("a"), s("b"), s("def"), d(&[("a", d(&[("b", i(7))]))])],
                "7",
            ),
            (
                "dig",
                vec![s("a"), s("x"), s("def"), d(&[("a", d(&[("b", i(7))]))])],
                "def",
            ),
            ("pick", vec![d(&[("a", i(1)), ("b", i(2))]), s("a"), s("c")], "map[a:1]"),
            ("omit", vec![d(&[("a", i(1)), ("b", i(2))]), s("a")], "map[b:2]"),
            (
                "keys",
                vec![d(&[("b", i(1)), ("a", i(2))]), d(&[("c", i(3))])],
                "[a b c]",
            ),
            ("values", vec![d(&[("b", i(1))])], "[1]"),
        ] {
            assert_eq!(show(name, &a).as_deref(), Ok(want), "{name}");
        }
        for (a, want) in [
            (
                vec![s("a"), s("b"), s("def"), d(&[("a", s("str"))])],
                "interface conversion: interface {} is string, not map[string]interface {}",
            ),
            (vec![s("a"), s("def")], "dig needs at least three arguments"),
            (
                vec![i(1), s("def"), d(&[])],
                "interface conversion: interface {} is int, not string",
            ),
            (
                vec![s("a"), s("def"), n.clone()],
                "interface conversion: interface {} is nil, not map[string]interface {}",
            ),
        ] {
            assert_eq!(show("dig", &a), Err(want.to_owned()));
        }
        assert_eq!(
            show("set", &[n, s("a"), i(1)]),
            Err("assignment to entry in nil map".to_owned())
        );
    }

    #[test]
    fn set_changes_the_shared_map_and_merge_survives_cycles() {
        let m = d(&[("a", Value::Int(1))]);
        let _ = call("set", &[m.clone(), Value::str("b"), Value::Int(2)]);
        assert_eq!(m.format_v(), "map[a:1 b:2]");
        let _ = call("unset", &[m.clone(), Value::str("a")]);
        assert_eq!(m.format_v(), "map[b:2]");
        // A map holding itself, merged into itself and into another map holding it.
        let cyc = d(&[]);
        let _ = call("set", &[cyc.clone(), Value::str("self"), cyc.clone()]);
        assert!(call("merge", &[cyc.clone(), cyc.clone()]).is_ok());
        let other = d(&[("self", d(&[("x", Value::Int(1))]))]);
        let _ = call("merge", &[other, cyc]);
    }
}
