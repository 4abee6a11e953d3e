//! Reading the arguments a function body receives. The executor has already checked and
//! converted them to the declared [`Ty`](crate::gotemplate::Ty)s, so a mismatch here is an
//! executor bug, reported as an error rather than a panic.

use crate::gotemplate::value::{Map, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Go's message for a method call through a nil interface, as `reflect.TypeOf(nil).Kind()`
/// panics in sprig's list functions.
pub const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The largest string (in bytes) or list (in elements) a function builds; beyond it the call
/// fails instead of allocating without bound.
pub const MAX_OUTPUT: usize = 64 << 20;

fn mismatch(i: usize, want: &str) -> String {
    format!("internal: argument {} is not {want}", i + 1)
}

/// Argument `i`, whatever it is (`nil` if absent).
pub fn any(args: &[Value], i: usize) -> &Value {
    const NIL: &Value = &Value::Nil;
    args.get(i).unwrap_or(NIL)
}

/// Argument `i` as a `string`.
pub fn string(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s.as_str()),
        _ => Err(mismatch(i, "a string")),
    }
}

/// Argument `i` as an `int` (or `int64`).
pub fn int(args: &[Value], i: usize) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Int(n) | Value::Int64(n)) => Ok(*n),
        _ => Err(mismatch(i, "an int")),
    }
}

/// Argument `i` as a `bool`.
pub fn boolean(args: &[Value], i: usize) -> Result<bool, String> {
    match args.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        _ => Err(mismatch(i, "a bool")),
    }
}

/// Argument `i` as a `map[string]interface{}` (the shared map itself); `nil` is an empty,
/// unshared map, as a nil Go map reads.
pub fn map(args: &[Value], i: usize) -> Result<Rc<RefCell<Map>>, String> {
    match args.get(i) {
        Some(Value::Map(m)) => Ok(m.clone()),
        Some(Value::Nil) => Ok(Rc::new(RefCell::new(Map::new()))),
        _ => Err(mismatch(i, "a map")),
    }
}

/// Fails if a string of `len` bytes would pass [`MAX_OUTPUT`].
pub fn check_size(what: &str, len: usize) -> Result<(), String> {
    if len > MAX_OUTPUT {
        Err(format!(
            "{what}: the result would be {len} long, over the limit of {MAX_OUTPUT}"
        ))
    } else {
        Ok(())
    }
}
