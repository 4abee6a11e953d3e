//! Go's `text/template` language as Helm runs it: parse, execute, and the function table
//! (Go's built-ins, sprig, Helm's own).

#[allow(dead_code)] // used by the executor (next)
mod ast;
pub mod error;
#[allow(dead_code)]
pub mod fmt;
#[allow(dead_code)]
mod lex;
#[allow(dead_code)]
mod parse;
pub mod value;

pub use error::TemplateError;
pub use fmt::{sprint, sprintf, sprintln};
pub use value::{Func, FuncMap, Object, Ty, Value};
