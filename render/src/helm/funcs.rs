//! Helm's own template functions (`required`, `fail`, `lookup`, `getHostByName`) and the
//! whole table a chart sees: sprig (without `env`/`expandenv`), the YAML/JSON functions, and
//! these. `include` and `tpl` are the executor's.

use crate::gotemplate::value::{Func, FuncMap, Ty, Value};

/// Helm marks the messages of `required` and `fail` with these so its error report can show
/// them alone (`execution error at (t.yaml:3:4): MSG`).
pub(crate) const WARN_START: &str = "HELM_ERR_START";
/// See [`WARN_START`].
pub(crate) const WARN_END: &str = "HELM_ERR_END";

fn warn(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

fn required(args: &[Value]) -> Result<Value, String> {
    let msg = args.first().and_then(Value::as_str).unwrap_or_default();
    match args.get(1) {
        None | Some(Value::Nil) => Err(warn(msg)),
        Some(Value::Str(s)) if s.is_empty() => Err(warn(msg)),
        Some(v) => Ok(v.clone()),
    }
}

fn fail(args: &[Value]) -> Result<Value, String> {
    Err(warn(args.first().and_then(Value::as_str).unwrap_or_default()))
}

/// Without a cluster `lookup` finds nothing: an empty map, as `helm template` gives.
fn lookup(_args: &[Value]) -> Result<Value, String> {
    Ok(Value::map(Default::default()))
}

/// DNS lookups are off, as in Helm by default: an empty string.
fn get_host_by_name(_args: &[Value]) -> Result<Value, String> {
    Ok(Value::str(""))
}

/// Helm's own functions.
pub fn helm_funcs() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert(
        "required",
        Func {
            params: &[Ty::String, Ty::Any],
            variadic: None,
            call: required,
        },
    );
    m.insert(
        "fail",
        Func {
            params: &[Ty::String],
            variadic: None,
            call: fail,
        },
    );
    m.insert(
        "lookup",
        Func {
            params: &[Ty::String, Ty::String, Ty::String, Ty::String],
            variadic: None,
            call: lookup,
        },
    );
    m.insert(
        "getHostByName",
        Func {
            params: &[Ty::String],
            variadic: None,
            call: get_host_by_name,
        },
    );
    m
}

/// Every function a chart's templates may call (besides `include`/`tpl`).
pub fn all_funcs() -> FuncMap {
    let mut m = crate::gotemplate::sprig::funcs();
    m.remove("env");
    m.remove("expandenv");
    m.extend(crate::goyaml::funcs());
    m.extend(helm_funcs());
    m
}

/// The message between Helm's markers in `text`, if any (greedy, as Helm's expression).
pub(crate) fn warning_in(text: &str) -> Option<&str> {
    let start = text.find(WARN_START)? + WARN_START.len();
    let end = text.rfind(WARN_END)?;
    text.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_fail() {
        let r = required(&[Value::str("need x"), Value::Nil]);
        assert_eq!(r.err().as_deref().and_then(warning_in), Some("need x"));
        let r = required(&[Value::str("need x"), Value::str("")]);
        assert!(r.is_err());
        let r = required(&[Value::str("need x"), Value::Float(0.0)]);
        assert!(matches!(r, Ok(Value::Float(_))));
        let r = fail(&[Value::str("boom")]);
        assert_eq!(r.err().as_deref().and_then(warning_in), Some("boom"));
        assert!(matches!(lookup(&[]), Ok(Value::Map(m)) if m.borrow().is_empty()));
    }
}
