//! The sprig v3 functions Helm v4 gives templates (`sprig.TxtFuncMap()` less `env` and
//! `expandenv`), with sprig's Go signatures and semantics. Helm's own functions (`include`,
//! `tpl`, `required`, `fail`, `lookup`) and the YAML/JSON/TOML ones live elsewhere.
//!
//! Known departures from Go, all deliberate: `keys` and `values` list map entries in key
//! order (Go's order is random); functions returning `[]string`/`[]int` return lists (so
//! `typeOf` says `[]interface {}`); nothing here touches the network or the environment.

mod args;
mod casing;
mod cast;
mod conversion;
mod crypto;
mod dates;
mod defaults;
mod dicts;
mod encoding;
pub mod gotime;
mod lists;
mod math;
mod paths;
mod random;
mod regex;
mod semver;
mod strings;
mod urls;

use crate::gotemplate::value::Value;
use crate::gotemplate::{Func, FuncMap, Ty};

pub use cast::{deep_equal, empty, strval, to_float64, to_int64};
pub use strings::go_quote;

/// The sprig functions, by name.
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    lists::register(&mut m);
    conversion::register(&mut m);
    defaults::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    random::register(&mut m);
    semver::register(&mut m);
    encoding::register(&mut m);
    paths::register(&mut m);
    regex::register(&mut m);
    dates::register(&mut m);
    urls::register(&mut m);
    crypto::register(&mut m);
    m
}

/// A function with fixed parameters.
fn f(params: &'static [Ty], call: fn(&[Value]) -> Result<Value, String>) -> Func {
    Func {
        params,
        variadic: None,
        call,
    }
}

/// A function with fixed parameters and a trailing `...T`.
fn fv(params: &'static [Ty], variadic: Ty, call: fn(&[Value]) -> Result<Value, String>) -> Func {
    Func {
        params,
        variadic: Some(variadic),
        call,
    }
}

/// Calls the sprig function `name` with arguments already of its parameter types (as the
/// executor hands them over) and prints the result as `%v`: the unit tests' view of a call.
#[cfg(test)]
pub(crate) fn call(name: &str, args: &[Value]) -> Result<String, String> {
    let m = funcs();
    let func = m.get(name).ok_or_else(|| format!("no {name}"))?;
    (func.call)(args).map(|v| v.format_v())
}
