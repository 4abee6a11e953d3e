//! sprig's list functions: `list`, `append`/`prepend`, `first`/`rest`/`last`/`initial`,
//! `reverse`, `uniq`, `without`, `has`, `compact`, `slice`, `concat`, `chunk`, `sortAlpha`,
//! their `must*` forms, and `until`, `untilStep`, `seq`.

use super::args::{self, MAX_OUTPUT, NIL_DEREF};
use super::cast::{deep_equal, empty, kind, list_items, strval, to_int64};
use super::{f, fv};
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

/// Registers the list functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Int};
    m.insert("list", fv(&[], Any, |a| Ok(Value::list(a.to_vec()))));
    m.insert("tuple", fv(&[], Any, |a| Ok(Value::list(a.to_vec()))));
    for name in ["append", "push", "mustAppend", "mustPush"] {
        m.insert(name, f(&[Any, Any], push));
    }
    for name in ["prepend", "mustPrepend"] {
        m.insert(name, f(&[Any, Any], prepend));
    }
    for name in ["first", "mustFirst"] {
        m.insert(name, f(&[Any], first));
    }
    for name in ["last", "mustLast"] {
        m.insert(name, f(&[Any], last));
    }
    for name in ["rest", "mustRest"] {
        m.insert(name, f(&[Any], rest));
    }
    for name in ["initial", "mustInitial"] {
        m.insert(name, f(&[Any], initial));
    }
    for name in ["reverse", "mustReverse"] {
        m.insert(name, f(&[Any], reverse));
    }
    for name in ["uniq", "mustUniq"] {
        m.insert(name, f(&[Any], uniq));
    }
    for name in ["compact", "mustCompact"] {
        m.insert(name, f(&[Any], compact));
    }
    for name in ["without", "mustWithout"] {
        m.insert(name, fv(&[Any], Any, without));
    }
    for name in ["has", "mustHas"] {
        m.insert(name, f(&[Any, Any], has));
    }
    for name in ["slice", "mustSlice"] {
        m.insert(name, fv(&[Any], Any, slice));
    }
    for name in ["chunk", "mustChunk"] {
        m.insert(name, f(&[Int, Any], chunk));
    }
    m.insert("concat", fv(&[], Any, concat));
    m.insert("sortAlpha", f(&[Any], sort_alpha));
    m.insert(
        "until",
        f(&[Int], |a| {
            let n = args::int(a, 0)?;
            Ok(ints(until_step(0, n, if n < 0 { -1 } else { 1 })?))
        }),
    );
    m.insert(
        "untilStep",
        f(&[Int, Int, Int], |a| {
            Ok(ints(until_step(args::int(a, 0)?, args::int(a, 1)?, args::int(a, 2)?)?))
        }),
    );
    m.insert("seq", fv(&[], Int, seq));
}

/// The items of a slice argument, or sprig's error `Cannot {what} type {kind}` (Go's nil
/// dereference for `nil`, whose type has no kind).
fn items(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    if v.is_nil() {
        return Err(NIL_DEREF.to_owned());
    }
    list_items(v).ok_or_else(|| format!("{what} {}", kind(v)))
}

fn ints(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

fn push(a: &[Value]) -> Result<Value, String> {
    let mut l = items(args::any(a, 0), "Cannot push on type")?;
    l.push(args::any(a, 1).clone());
    Ok(Value::list(l))
}

fn prepend(a: &[Value]) -> Result<Value, String> {
    let l = items(args::any(a, 0), "Cannot prepend on type")?;
    let mut out = Vec::with_capacity(l.len() + 1);
    out.push(args::any(a, 1).clone());
    out.extend(l);
    Ok(Value::list(out))
}

fn first(a: &[Value]) -> Result<Value, String> {
    Ok(items(args::any(a, 0), "Cannot find first on type")?
        .into_iter()
        .next()
        .unwrap_or_default())
}

fn last(a: &[Value]) -> Result<Value, String> {
    Ok(items(args::any(a, 0), "Cannot find last on type")?
        .pop()
        .unwrap_or_default())
}

fn rest(a: &[Value]) -> Result<Value, String> {
    let l = items(args::any(a, 0), "Cannot find rest on type")?;
    Ok(Value::list(l.into_iter().skip(1).collect()))
}

fn initial(a: &[Value]) -> Result<Value, String> {
    let mut l = items(args::any(a, 0), "Cannot find initial on type")?;
    l.pop();
    Ok(Value::list(l))
}

fn reverse(a: &[Value]) -> Result<Value, String> {
    let mut l = items(args::any(a, 0), "Cannot find reverse on type")?;
    l.reverse();
    Ok(Value::list(l))
}

fn uniq(a: &[Value]) -> Result<Value, String> {
    let l = items(args::any(a, 0), "Cannot find uniq on type")?;
    let mut out: Vec<Value> = Vec::new();
    for v in l {
        if !out.iter().any(|o| deep_equal(&v, o)) {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

fn compact(a: &[Value]) -> Result<Value, String> {
    let l = items(args::any(a, 0), "Cannot compact on type")?;
    Ok(Value::list(l.into_iter().filter(|v| !empty(v)).collect()))
}

fn without(a: &[Value]) -> Result<Value, String> {
    let l = items(args::any(a, 0), "Cannot find without on type")?;
    let omit = a.get(1..).unwrap_or_default();
    Ok(Value::list(
        l.into_iter()
            .filter(|v| !omit.iter().any(|o| deep_equal(v, o)))
            .collect(),
    ))
}

fn has(a: &[Value]) -> Result<Value, String> {
    let haystack = args::any(a, 1);
    if haystack.is_nil() {
        return Ok(Value::Bool(false));
    }
    let l = items(haystack, "Cannot find has on type")?;
    let needle = args::any(a, 0);
    Ok(Value::Bool(l.iter().any(|v| deep_equal(needle, v))))
}

fn slice(a: &[Value]) -> Result<Value, String> {
    let list = args::any(a, 0);
    let l = items(list, "list should be type of slice or array but")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, to_int64);
    let end = a.get(2).map_or(l.len() as i64, to_int64);
    if start < 0 || start > end || end > l.len() as i64 {
        return Err("reflect.Value.Slice: slice index out of bounds".to_owned());
    }
    let (start, end) = (start as usize, end as usize);
    Ok(match list {
        Value::Bytes(b) => Value::bytes(b.get(start..end).unwrap_or_default().to_vec()),
        _ => Value::list(l.get(start..end).unwrap_or_default().to_vec()),
    })
}

fn concat(a: &[Value]) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in a {
        if v.is_nil() {
            return Err(NIL_DEREF.to_owned());
        }
        match list_items(v) {
            Some(l) => {
                if out.len() + l.len() > MAX_OUTPUT {
                    return Err("concat: the result would be over the size limit".to_owned());
                }
                out.extend(l);
            }
            None => return Err(format!("Cannot concat type {} as list", kind(v))),
        }
    }
    Ok(Value::list(out))
}

fn chunk(a: &[Value]) -> Result<Value, String> {
    let size = args::int(a, 0)?;
    let l = items(args::any(a, 1), "Cannot chunk type")?;
    if size <= 0 {
        return Err("runtime error: makeslice: len out of range".to_owned());
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::list(l.chunks(size).map(|c| Value::list(c.to_vec())).collect()))
}

/// sprig's `strslice` (`toStrings`): a slice's non-nil items as strings, `nil` as no
/// strings, anything else as one.
pub fn strslice(v: &Value) -> Vec<String> {
    match list_items(v) {
        Some(l) => l.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        None if v.is_nil() => Vec::new(),
        None => vec![strval(v)],
    }
}

fn sort_alpha(a: &[Value]) -> Result<Value, String> {
    let v = args::any(a, 0);
    let mut out = if list_items(v).is_some() {
        strslice(v)
    } else {
        vec![strval(v)]
    };
    out.sort();
    Ok(Value::list(out.into_iter().map(Value::str).collect()))
}

/// sprig's `untilStep`: `start`, `start+step`, ... up to (not including) `stop`.
fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let count = if stop < start {
        if step >= 0 {
            return Ok(Vec::new());
        }
        (i128::from(start) - i128::from(stop) + i128::from(-step) - 1) / i128::from(-step)
    } else {
        if step <= 0 {
            return Ok(Vec::new());
        }
        (i128::from(stop) - i128::from(start) + i128::from(step) - 1) / i128::from(step)
    };
    if count > MAX_OUTPUT as i128 {
        return Err(format!(
            "the list would have {count} items, over the limit of {MAX_OUTPUT}"
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut i = start;
    for _ in 0..count {
        out.push(i);
        i = i.wrapping_add(step);
    }
    Ok(out)
}

fn seq(a: &[Value]) -> Result<Value, String> {
    let p: Vec<i64> = a.iter().map(to_int64).collect();
    let list = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step(1, end.saturating_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(*start, end.saturating_add(step), step)?
        }
        [start, step, end] => {
            let inc = if end < start {
                if *step > 0 {
                    return Ok(Value::str(""));
                }
                -1
            } else {
                1
            };
            until_step(*start, end.saturating_add(inc), *step)?
        }
        _ => return Ok(Value::str("")),
    };
    let words: Vec<String> = list.iter().map(i64::to_string).collect();
    Ok(Value::str(words.join(" ")))
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    fn l(items: &[Value]) -> Value {
        Value::list(items.to_vec())
    }

    #[test]
    fn lists_match_the_oracle() {
        let i = Value::Int;
        let fl = Value::Float;
        let s = Value::str;
        let vals = l(&[fl(1.0), fl(2.0)]);
        for (name, a, want) in [
            ("has", vec![i(1), l(&[i(1), i(2)])], "true"),
            ("has", vec![i(1), vals.clone()], "false"),
            ("has", vec![fl(1.0), vals.clone()], "true"),
            ("has", vec![s("a"), Value::Nil], "false"),
            ("first", vec![l(&[])], "<nil>"),
            ("rest", vec![l(&[])], "[]"),
            ("rest", vec![vals.clone()], "[2]"),
            ("slice", vec![l(&[i(1), i(2), i(3)]), i(1)], "[2 3]"),
            ("slice", vec![l(&[i(1), i(2), i(3)]), i(1), i(2)], "[2]"),
            ("slice", vec![l(&[i(1), i(2), i(3)]), s("1")], "[2 3]"),
            ("slice", vec![l(&[])], "<nil>"),
            ("chunk", vec![i(2), l(&[i(1), i(2), i(3)])], "[[1 2] [3]]"),
            ("chunk", vec![i(2), l(&[])], "[]"),
            (
                "uniq",
                vec![l(&[i(1), i(1), s("a"), s("a"), vals.clone(), vals.clone()])],
                "[1 a [1 2]]",
            ),
            ("without", vec![l(&[i(1), i(2), i(3), i(1)]), i(1), i(3)], "[2]"),
            ("compact", vec![l(&[i(0), i(1), s(""), Value::Nil, s("a")])], "[1 a]"),
            ("reverse", vec![vals.clone()], "[2 1]"),
            ("sortAlpha", vec![l(&[s("b"), i(1), s("a")])], "[1 a b]"),
            ("sortAlpha", vec![i(3)], "[3]"),
            ("append", vec![vals.clone(), i(3)], "[1 2 3]"),
            ("prepend", vec![vals.clone(), i(0)], "[0 1 2]"),
            ("until", vec![i(3)], "[0 1 2]"),
            ("until", vec![i(-3)], "[0 -1 -2]"),
            ("untilStep", vec![i(0), i(10), i(3)], "[0 3 6 9]"),
            ("untilStep", vec![i(10), i(0), i(-3)], "[10 7 4 1]"),
            ("untilStep", vec![i(0), i(10), i(0)], "[]"),
            ("seq", vec![i(5)], "1 2 3 4 5"),
            ("seq", vec![i(-2)], "1 0 -1 -2"),
            ("seq", vec![i(2), i(5)], "2 3 4 5"),
            ("seq", vec![i(5), i(2)], "5 4 3 2"),
            ("seq", vec![i(0), i(2), i(10)], "0 2 4 6 8 10"),
            ("seq", vec![i(10), i(-2), i(0)], "10 8 6 4 2 0"),
            ("seq", vec![i(10), i(2), i(0)], ""),
            ("seq", vec![], ""),
            ("seq", vec![i(1), i(2), i(3), i(4)], ""),
            ("seq", vec![i(0)], "1 0"),
            ("seq", vec![i(1), i(0), i(5)], ""),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name} {a:?}", a = a.len());
        }
    }

    #[test]
    fn list_errors_match_the_oracle() {
        let i = Value::Int;
        let s = Value::str;
        for (name, a, want) in [
            ("first", vec![Value::Nil], super::NIL_DEREF),
            ("first", vec![i(3)], "Cannot find first on type int"),
            ("mustFirst", vec![i(1)], "Cannot find first on type int"),
            ("last", vec![s("abc")], "Cannot find last on type string"),
            (
                "slice",
                vec![s("abc"), i(1)],
                "list should be type of slice or array but string",
            ),
            (
                "slice",
                vec![l(&[i(1), i(2), i(3)]), i(2), i(1)],
                "reflect.Value.Slice: slice index out of bounds",
            ),
            (
                "slice",
                vec![l(&[i(1), i(2), i(3)]), i(1), i(5)],
                "reflect.Value.Slice: slice index out of bounds",
            ),
            (
                "chunk",
                vec![i(0), l(&[i(1)])],
                "runtime error: makeslice: len out of range",
            ),
            ("chunk", vec![i(2), i(1)], "Cannot chunk type int"),
            (
                "concat",
                vec![l(&[i(1)]), l(&[i(2)]), s("ab")],
                "Cannot concat type string as list",
            ),
            ("has", vec![i(1), s("abc")], "Cannot find has on type string"),
            ("without", vec![i(1)], "Cannot find without on type int"),
            ("uniq", vec![i(1)], "Cannot find uniq on type int"),
            ("compact", vec![i(1)], "Cannot compact on type int"),
            ("reverse", vec![i(1)], "Cannot find reverse on type int"),
            ("append", vec![i(1), i(1)], "Cannot push on type int"),
            ("prepend", vec![i(1), i(1)], "Cannot prepend on type int"),
            ("initial", vec![i(1)], "Cannot find initial on type int"),
            ("rest", vec![i(1)], "Cannot find rest on type int"),
        ] {
            assert_eq!(call(name, &a), Err(want.to_owned()), "{name}");
        }
        assert!(call("until", &[i(1 << 40)]).is_err());
    }
}
