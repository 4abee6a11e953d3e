//! The values a template works on, typed as Go's `interface{}` values are after Helm decodes
//! YAML and JSON: `nil`, `bool`, `int`/`int64` (template literals, `len`, `int`, `int64`),
//! `float64` (every number read from values), `string`, `[]byte`, `[]interface{}`,
//! `map[string]interface{}` (shared and mutable, as Go maps are: `set` on a dict is seen by
//! every holder of it) and objects with fields and methods (`.Release`, `.Files`, ...).
//!
//! Strings are zeroized when the last holder drops them: a template's data may be a secret.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use zeroize::Zeroizing;

/// A Go map (`map[string]interface{}`): keys in byte order, as `range` and `printf "%v"` visit
/// them.
pub type Map = BTreeMap<String, Value>;

/// A template value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's `nil` (a missing map key, an unset value).
    #[default]
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int`: template literals, `len`, `int`, `add`, ...
    Int(i64),
    /// `int64`: sprig's `int64`, `toDecimal`, ...
    Int64(i64),
    /// `float64`: every number decoded from YAML or JSON, `float64`, ...
    Float(f64),
    /// `string`.
    Str(Rc<Zeroizing<String>>),
    /// `[]byte`.
    Bytes(Rc<Zeroizing<Vec<u8>>>),
    /// `[]interface{}`.
    List(Rc<Vec<Value>>),
    /// `map[string]interface{}`, shared and mutable.
    Map(Rc<RefCell<Map>>),
    /// A Go struct with fields and methods.
    Object(Rc<dyn Object>),
}

/// A Go struct or named type the template reaches through fields and methods.
pub trait Object {
    /// Go's type name, as `printf "%T"` prints it (`*chart.Metadata`).
    fn type_name(&self) -> &str;
    /// The field or zero-argument method `name`, or `None` if the type has none.
    fn field(&self, name: &str) -> Option<Value>;
    /// Calls the method `name` with `args`; `None` if the type has no such method.
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let _ = (name, args);
        None
    }
    /// The object's exported fields under their JSON names, in Go's field order, for
    /// `toJson`/`toYaml` (which marshal a struct through encoding/json); `None` if the type
    /// cannot be serialised.
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        None
    }
    /// For Go slice or map types that have methods (`chartutil.VersionSet`, `engine.files`):
    /// the list or map that `len`, `range` and `index` work on.
    fn elements(&self) -> Option<Value> {
        None
    }
    /// `printf "%v"` of the object.
    fn format_v(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(Zeroizing::new(s.into())))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A (new, unshared) map value.
    pub fn map(m: Map) -> Value {
        Value::Map(Rc::new(RefCell::new(m)))
    }

    /// A `[]byte` value.
    pub fn bytes(b: Vec<u8>) -> Value {
        Value::Bytes(Rc::new(Zeroizing::new(b)))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Whether this is `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Go's type name as `printf "%T"` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's truth (`if`, `with`, `and`, `or`, `not`): false, zero numbers, `nil`, and empty
    /// strings, lists and maps are false; objects are true.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(_) => true,
        }
    }

    /// `fmt.Sprint(v)` / `printf "%v"`: Go's default format.
    pub fn format_v(&self) -> String {
        let mut out = String::new();
        self.write_v(&mut out);
        out
    }

    fn write_v(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float_g(*f)),
            Value::Str(s) => out.push_str(s),
            Value::Bytes(b) => {
                out.push('[');
                for (n, byte) in b.iter().enumerate() {
                    if n > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "{byte}");
                }
                out.push(']');
            }
            Value::List(l) => {
                out.push('[');
                for (n, v) in l.iter().enumerate() {
                    if n > 0 {
                        out.push(' ');
                    }
                    v.write_v(out);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (n, (k, v)) in m.borrow().iter().enumerate() {
                    if n > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_v(out);
                }
                out.push(']');
            }
            Value::Object(o) => out.push_str(&o.format_v()),
        }
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which `%v` of a `float64` prints: the shortest digits
/// that read back as `f`, in exponent form when the decimal exponent is below -4 or at least 6
/// (so a million read from values prints `1e+06`, as Helm prints it).
pub fn format_float_g(f: f64) -> String {
    format_float_shortest(f, 6)
}

/// Shortest round-trip digits of `f`, in Go's `%e`-style form when the decimal exponent is
/// below -4 or at least `eprec`, plain otherwise.
pub fn format_float_shortest(f: f64, eprec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e6".
    format_shortest_e(&format!("{f:e}"), eprec)
}

/// Splits Rust's shortest `{:e}` text ("-1.25e-7") into sign, digits and decimal exponent.
fn split_e(e: &str) -> (bool, String, i32) {
    let (mantissa, exp) = e.split_once('e').unwrap_or((e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exp)
}

/// Go's `%e` form of shortest digits given as Rust's `{:e}` text: `1.25e-07`, `1e+21`.
pub(crate) fn format_e_digits(e: &str) -> String {
    let (negative, digits, exp) = split_e(e);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let (first, rest) = digits.split_at(digits.len().min(1));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    out
}

/// Go's `'g'` formatting of shortest digits (given as Rust's `{:e}` text, of an `f64` or an
/// `f32`): exponent form when the exponent is below -4 or at least `eprec`, plain digits
/// otherwise. With `eprec` at `i32::MAX` this is Go's `'f'` with shortest digits.
pub(crate) fn format_shortest_e(e: &str, eprec: i32) -> String {
    let (negative, digits, exp) = split_e(e);
    if digits.chars().all(|c| c == '0') {
        return if negative { "-0".into() } else { "0".into() };
    }
    if eprec != i32::MAX && (exp < -4 || exp >= eprec) {
        return format_e_digits(e);
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            let (int, frac) = digits.split_at(point);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}

/// The parameter types Go functions declare, which the executor checks and converts
/// arguments to as Go's `reflect` call does (an untyped number literal converts to `int`,
/// `int64` or `float64`; a `float64` value is *not* accepted for an `int` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `interface{}`: anything, `nil` included.
    Any,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `bool`.
    Bool,
    /// `[]interface{}`.
    List,
    /// `map[string]interface{}`.
    Map,
    /// `[]byte`.
    Bytes,
}

impl Ty {
    /// Go's name of the type, for error messages (`expected string; got float64`).
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::String => "string",
            Ty::Int => "int",
            Ty::Int64 => "int64",
            Ty::Float64 => "float64",
            Ty::Bool => "bool",
            Ty::List => "[]interface {}",
            Ty::Map => "map[string]interface {}",
            Ty::Bytes => "[]uint8",
        }
    }
}

/// A function templates can call: its Go signature and its body. The body gets the arguments
/// already checked and converted to `params` (and `variadic` for the rest); an `Err` is the Go
/// function's error (or panic) message, which the executor reports as `error calling NAME: MSG`.
#[derive(Clone, Copy)]
pub struct Func {
    /// Fixed parameters.
    pub params: &'static [Ty],
    /// The type of a trailing `...T` parameter, if any.
    pub variadic: Option<Ty>,
    /// The body.
    pub call: fn(&[Value]) -> Result<Value, String>,
}

/// Functions by name.
pub type FuncMap = std::collections::HashMap<&'static str, Func>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        for (f, want) in [
            (1_000_000.0, "1e+06"),
            (8080.0, "8080"),
            (100000.0, "100000"),
            (123456789.0, "1.23456789e+08"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1.5e300, "1.5e+300"),
        ] {
            assert_eq!(format_float_g(f), want, "{f}");
        }
    }

    #[test]
    fn lists_and_maps_print_as_go_prints_them() {
        let mut m = Map::new();
        m.insert("b".into(), Value::Float(2.0));
        m.insert("a".into(), Value::str("x"));
        m.insert("c".into(), Value::list(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(Value::map(m).format_v(), "map[a:x b:2 c:[1 2]]");
        assert_eq!(Value::Nil.format_v(), "<nil>");
    }
}
