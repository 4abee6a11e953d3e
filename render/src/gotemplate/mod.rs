//! Go's `text/template` language as Helm runs it: parse, execute, and the function table
//! (Go's built-ins, sprig, Helm's own).

pub mod value;

pub use value::{Func, FuncMap, Object, Ty, Value};
pub mod sprig;
