//! sprig's defaults and reflection: `default`, `empty`, `coalesce`, `all`, `any`, `ternary`,
//! `deepCopy`, `typeOf`, `typeIs`, `typeIsLike`, `kindOf`, `kindIs`, `deepEqual`.

use super::args;
use super::cast::{deep_equal, empty, kind};
use super::{f, fv};
use crate::gotemplate::value::{Map, Value};
use crate::gotemplate::{FuncMap, Ty};

/// Registers the defaults and reflection functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Bool, String as S};
    m.insert(
        "default",
        fv(&[Any], Any, |a| {
            let given = args::any(a, 1);
            Ok(if a.len() < 2 || empty(given) {
                args::any(a, 0).clone()
            } else {
                given.clone()
            })
        }),
    );
    m.insert("empty", f(&[Any], |a| Ok(Value::Bool(empty(args::any(a, 0))))));
    m.insert(
        "coalesce",
        fv(&[], Any, |a| {
            Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or_default())
        }),
    );
    m.insert("all", fv(&[], Any, |a| Ok(Value::Bool(a.iter().all(|v| !empty(v))))));
    m.insert("any", fv(&[], Any, |a| Ok(Value::Bool(a.iter().any(|v| !empty(v))))));
    m.insert(
        "ternary",
        f(&[Any, Any, Bool], |a| {
            Ok(args::any(a, if args::boolean(a, 2)? { 0 } else { 1 }).clone())
        }),
    );
    for name in ["deepCopy", "mustDeepCopy"] {
        m.insert(
            name,
            f(&[Any], |a| match args::any(a, 0) {
                Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".to_owned()),
                v => Ok(deep_copy(v)),
            }),
        );
    }
    m.insert("typeOf", f(&[Any], |a| Ok(Value::str(args::any(a, 0).type_name()))));
    m.insert(
        "typeIs",
        f(&[S, Any], |a| {
            Ok(Value::Bool(args::string(a, 0)? == args::any(a, 1).type_name()))
        }),
    );
    m.insert(
        "typeIsLike",
        f(&[S, Any], |a| {
            let (want, t) = (args::string(a, 0)?, args::any(a, 1).type_name());
            Ok(Value::Bool(want == t || t.strip_prefix('*') == Some(want)))
        }),
    );
    m.insert("kindOf", f(&[Any], |a| Ok(Value::str(kind(args::any(a, 0))))));
    m.insert(
        "kindIs",
        f(&[S, Any], |a| {
            Ok(Value::Bool(args::string(a, 0)? == kind(args::any(a, 1))))
        }),
    );
    m.insert(
        "deepEqual",
        f(&[Any, Any], |a| {
            Ok(Value::Bool(deep_equal(args::any(a, 0), args::any(a, 1))))
        }),
    );
}

/// copystructure's `Copy`: maps and lists copied all the way down (objects are shared).
pub fn deep_copy(v: &Value) -> Value {
    match v {
        Value::List(l) => Value::list(l.iter().map(deep_copy).collect()),
        Value::Map(m) => {
            let copy: Map = m.borrow().iter().map(|(k, v)| (k.clone(), deep_copy(v))).collect();
            Value::map(copy)
        }
        Value::Bytes(b) => Value::bytes(b.to_vec()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::{Map, Value};

    use crate::gotemplate::sprig::call;

    #[test]
    fn defaults_match_the_oracle() {
        let i = Value::Int;
        let s = Value::str;
        let mut m = Map::new();
        m.insert("a".into(), Value::Float(1.0));
        let m = Value::map(m);
        for (name, a, want) in [
            ("default", vec![i(1)], "1"),
            ("default", vec![i(1), Value::Nil], "1"),
            ("default", vec![i(1), i(0), i(2)], "1"),
            ("default", vec![s("d"), Value::list(vec![i(1)])], "[1]"),
            ("all", vec![], "true"),
            ("any", vec![], "false"),
            ("all", vec![i(1), s("")], "false"),
            ("any", vec![i(0), s("x")], "true"),
            ("coalesce", vec![], "<nil>"),
            ("coalesce", vec![i(0), s(""), s("x")], "x"),
            ("empty", vec![Value::map(Map::new())], "true"),
            ("ternary", vec![i(1), i(2), Value::Bool(true)], "1"),
            ("deepEqual", vec![m.clone(), m.clone()], "true"),
            ("deepEqual", vec![i(1), Value::Float(1.0)], "false"),
            ("typeOf", vec![Value::Nil], "<nil>"),
            ("typeOf", vec![m.clone()], "map[string]interface {}"),
            ("kindOf", vec![Value::Nil], "invalid"),
            ("kindOf", vec![m.clone()], "map"),
            ("kindOf", vec![Value::list(vec![])], "slice"),
            ("kindIs", vec![s("map"), m.clone()], "true"),
            ("typeIs", vec![s("float64"), Value::Float(1.0)], "true"),
            ("deepCopy", vec![m.clone()], "map[a:1]"),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name}");
        }
        assert_eq!(
            call("deepCopy", &[Value::Nil]),
            Err("reflect: call of reflect.Value.Type on zero Value".to_owned())
        );
    }
}
