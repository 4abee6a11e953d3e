//! Go's built-in template functions (`and`, `or`, `not`, `len`, `index`, `slice`, `eq`, `ne`,
//! `lt`, `le`, `gt`, `ge`, `print`, `printf`, `println`, `html`, `js`, `urlquery`, `call`),
//! with Go's rules for kinds and Go's error texts.

use super::exec::Ev;
use super::exec_call::PTy;
use super::fmt::{is_print, sprint, sprintf, sprintln};
use super::value::{Ty, Value};
use std::fmt::Write as _;

/// A built-in function.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
}

/// The names of Go's built-in functions.
pub(crate) const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "eq", "ne", "lt", "le", "gt", "ge", "print", "printf", "println",
    "html", "js", "urlquery", "call",
];

const V: PTy = PTy::Value;
const ANY: PTy = PTy::Ty(Ty::Any);

impl Builtin {
    pub(crate) fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            _ => return None,
        })
    }

    /// Go's signature: fixed parameters and the variadic one.
    pub(crate) fn sig(self) -> (&'static [PTy], Option<PTy>) {
        match self {
            Builtin::And | Builtin::Or | Builtin::Index | Builtin::Slice | Builtin::Call => (&[V], Some(V)),
            Builtin::Eq => (&[V], Some(V)),
            Builtin::Not | Builtin::Len => (&[V], None),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => (&[V, V], None),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => (&[], Some(ANY)),
            Builtin::Printf => (&[PTy::Ty(Ty::String)], Some(ANY)),
        }
    }

    /// Calls the function on evaluated arguments; `callee` is the source text of the first
    /// argument (for `call`'s message).
    pub(crate) fn call(self, args: &[Ev], callee: &str) -> Result<Ev, String> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
        let vals = || -> Vec<Value> { args.iter().map(|e| e.v.clone().unwrap_or_default()).collect() };
        let b = |x: bool| Ok(Ev::of(Value::Bool(x)));
        match self {
            // Short-circuited by the executor; this is the plain evaluation.
            Builtin::And | Builtin::Or => {
                let want = self == Builtin::Or;
                let mut last = Ev::invalid();
                for a in args {
                    last = a.clone();
                    if a.indirect().is_some_and(truth) == want {
                        break;
                    }
                }
                Ok(last)
            }
            Builtin::Not => b(!arg(0).indirect().is_some_and(truth)),
            Builtin::Len => length(&arg(0)),
            Builtin::Index => index(&arg(0), args.get(1..).unwrap_or(&[])),
            Builtin::Slice => slice(&arg(0), args.get(1..).unwrap_or(&[])),
            Builtin::Eq => eq(&arg(0), args.get(1..).unwrap_or(&[])).and_then(b),
            Builtin::Ne => eq(&arg(0), args.get(1..2).unwrap_or(&[])).and_then(|x| b(!x)),
            Builtin::Lt => lt(&arg(0), &arg(1)).and_then(b),
            Builtin::Le => le(&arg(0), &arg(1)).and_then(b),
            Builtin::Gt => le(&arg(0), &arg(1)).and_then(|x| b(!x)),
            Builtin::Ge => lt(&arg(0), &arg(1)).and_then(|x| b(!x)),
            Builtin::Print => Ok(Ev::of(Value::str(sprint(&vals())))),
            Builtin::Println => Ok(Ev::of(Value::str(sprintln(&vals())))),
            Builtin::Printf => {
                let v = vals();
                let format = v.first().and_then(Value::as_str).unwrap_or("").to_string();
                Ok(Ev::of(Value::str(sprintf(&format, v.get(1..).unwrap_or(&[])))))
            }
            Builtin::Html => Ok(Ev::of(Value::str(html_escape(&eval_args(&vals()))))),
            Builtin::Js => Ok(Ev::of(Value::str(js_escape(&eval_args(&vals()))))),
            Builtin::Urlquery => Ok(Ev::of(Value::str(query_escape(&eval_args(&vals()))))),
            Builtin::Call => match arg(0).indirect() {
                None => Err("call of nil".into()),
                Some(v) => Err(format!("non-function {callee} of type {}", v.type_name())),
            },
        }
    }
}

/// The slice or map an object of a Go slice or map type with methods stands for
/// (`chartutil.VersionSet`, `engine.files`), which Go's `len`, `index`, `slice`, `range` and
/// truth see through; any other value as it is.
pub(crate) fn underlying(v: &Value) -> std::borrow::Cow<'_, Value> {
    match v {
        Value::Object(o) => match o.elements() {
            Some(e) => std::borrow::Cow::Owned(e),
            None => std::borrow::Cow::Borrowed(v),
        },
        _ => std::borrow::Cow::Borrowed(v),
    }
}

/// Go's truth of a value (`if`, `with`, `and`, `or`, `not`): [`Value::truth`], with a slice or
/// map type's objects true only when they hold elements.
pub(crate) fn truth(v: &Value) -> bool {
    underlying(v).truth()
}

/// The text of `html`/`js`/`urlquery`'s arguments: a lone string as is, else `Sprint`.
fn eval_args(args: &[Value]) -> String {
    match args {
        [Value::Str(s)] => s.to_string(),
        _ => sprint(args),
    }
}

fn length(item: &Ev) -> Result<Ev, String> {
    match &item.v {
        None => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Some(Value::Nil) => Err("len of nil pointer".into()),
        Some(v) => {
            let n = match &*underlying(v) {
                Value::Str(s) => s.len(),
                Value::Bytes(b) => b.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.borrow().len(),
                other => return Err(format!("len of type {}", other.type_name())),
            };
            Ok(Ev::of(Value::Int(n as i64)))
        }
    }
}

/// Go's `indexArg`: an integer index below or at `cap`.
fn index_arg(index: &Ev, cap: usize) -> Result<usize, String> {
    let x = match index.indirect() {
        Some(Value::Int(i) | Value::Int64(i)) => *i,
        None => return Err("cannot index slice/array with nil".into()),
        Some(v) => return Err(format!("cannot index slice/array with type {}", v.type_name())),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Ev, indexes: &[Ev]) -> Result<Ev, String> {
    let Some(first) = item.indirect() else {
        return Err("index of untyped nil".into());
    };
    let mut cur = Ev::of(first.clone());
    for ix in indexes {
        let v = match cur.indirect() {
            None => return Err("index of nil pointer".into()),
            Some(v) => v.clone(),
        };
        let object = match &v {
            Value::Object(o) => Some(o.clone()),
            _ => None,
        };
        cur = match &*underlying(&v) {
            Value::List(l) => {
                let x = index_arg(ix, l.len())?;
                match l.get(x) {
                    Some(e) => Ev::iface(e.clone()),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(ix, b.len())?;
                match b.get(x) {
                    Some(e) => Ev::of(Value::Int(i64::from(*e))),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Str(s) => {
                let x = index_arg(ix, s.len())?;
                match s.as_bytes().get(x) {
                    Some(e) => Ev::of(Value::Int(i64::from(*e))),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Map(m) => {
                let key = match ix.indirect() {
                    Some(Value::Str(k)) => k.to_string(),
                    None => return Err("value is nil; should be of type string".into()),
                    Some(k) => {
                        return Err(format!("value has type {}; should be string", k.type_name()));
                    }
                };
                match (m.borrow().get(&key), &object) {
                    (Some(e), _) => Ev::iface(e.clone()),
                    // A map type's missing key: its zero element, which the object's key
                    // lookup (`field`) gives.
                    (None, Some(o)) => Ev::iface(o.field(&key).unwrap_or_default()),
                    (None, None) => Ev::iface(Value::Nil),
                }
            }
            _ => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(cur)
}

fn slice(item: &Ev, indexes: &[Ev]) -> Result<Ev, String> {
    let Some(v) = item.indirect() else {
        return Err("slice of untyped nil".into());
    };
    let v = &*underlying(v);
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match v {
        Value::Str(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (i, j) = (idx[0], idx[1]);
    Ok(Ev::of(match v {
        Value::Str(s) => Value::str(String::from_utf8_lossy(&s.as_bytes()[i..j]).into_owned()),
        Value::List(l) => Value::list(l[i..j].to_vec()),
        Value::Bytes(b) => Value::bytes(b[i..j].to_vec()),
        _ => Value::Nil,
    }))
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
}

fn basic_kind(v: Option<&Value>) -> Kind {
    match v {
        Some(Value::Bool(_)) => Kind::Bool,
        Some(Value::Int(_) | Value::Int64(_)) => Kind::Int,
        Some(Value::Float(_)) => Kind::Float,
        Some(Value::Str(_)) => Kind::Str,
        _ => Kind::Invalid,
    }
}

fn type_of(v: Option<&Value>) -> String {
    v.map(Value::type_name).unwrap_or_else(|| "<nil>".into())
}

fn eq(a: &Ev, others: &[Ev]) -> Result<bool, String> {
    let a = a.indirect();
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for other in others {
        let b = other.indirect();
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if a.is_some() && b.is_some() {
                return Err(format!(
                    "incompatible types for comparison: {} and {}",
                    type_of(a),
                    type_of(b)
                ));
            }
            false
        } else {
            match (a, b) {
                (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
                (Some(Value::Float(x)), Some(Value::Float(y))) => x == y,
                (Some(Value::Int(x) | Value::Int64(x)), Some(Value::Int(y) | Value::Int64(y))) => x == y,
                (Some(Value::Str(x)), Some(Value::Str(y))) => x == y,
                (None, _) | (_, None) => a.is_none() && b.is_none(),
                (Some(x), Some(y)) => {
                    if x.type_name() != y.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            sprintf("%s", std::slice::from_ref(x)),
                            x.type_name(),
                            y.type_name(),
                            y.format_v()
                        ));
                    }
                    match (x, y) {
                        (Value::Object(p), Value::Object(q)) if p.elements().is_none() => std::rc::Rc::ptr_eq(p, q),
                        _ => {
                            return Err(format!(
                                "non-comparable type {}: {}",
                                sprintf("%s", std::slice::from_ref(y)),
                                y.type_name()
                            ));
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Ev, b: &Ev) -> Result<bool, String> {
    let (a, b) = (a.indirect(), b.indirect());
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err(format!(
            "incompatible types for comparison: {} and {}",
            type_of(a),
            type_of(b)
        ));
    }
    Ok(match (a, b) {
        (Some(Value::Float(x)), Some(Value::Float(y))) => x < y,
        (Some(Value::Int(x) | Value::Int64(x)), Some(Value::Int(y) | Value::Int64(y))) => x < y,
        (Some(Value::Str(x)), Some(Value::Str(y))) => x.as_bytes() < y.as_bytes(),
        _ => return Err("invalid type for comparison".into()),
    })
}

fn le(a: &Ev, b: &Ev) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if c.is_ascii() || is_print(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
