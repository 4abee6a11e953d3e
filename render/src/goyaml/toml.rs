//! `toToml`: BurntSushi/toml's encoder (v1.6, as Helm v4 uses it) on template values: in each
//! table the plain keys first, then sub-tables and arrays of tables, each group in byte order;
//! nested tables indented two spaces per level; `nil` values left out; floats always with a
//! decimal point or exponent (`1.0`, `1e+21`).

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::read::MAX_DEPTH;
use crate::gotemplate::value::{Map, Value, format_float_g};

/// The TOML type of a value, as the encoder classifies it (`None` for `nil`).
#[derive(PartialEq)]
enum Kind {
    Plain,
    Table,
    ArrayOfTables,
}

fn kind(v: &Value) -> Result<Option<Kind>, String> {
    Ok(match v {
        Value::Nil => None,
        Value::Map(_) => Some(Kind::Table),
        Value::List(items) => {
            let mut tables = !items.is_empty();
            for item in items.iter() {
                match kind(item)? {
                    None => return Err("toml: cannot encode array with nil element".into()),
                    Some(Kind::Table) => {}
                    Some(_) => tables = false,
                }
            }
            Some(if tables { Kind::ArrayOfTables } else { Kind::Plain })
        }
        Value::Object(o) => return Err(unsupported(o.type_name())),
        _ => Some(Kind::Plain),
    })
}

fn unsupported(type_name: &str) -> String {
    format!("toml: encoding the Go struct {type_name} is not supported")
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_bare(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key_part(out: &mut String, k: &str) {
    if k.is_empty() {
        out.push_str("\"\"");
    } else if is_bare(k) {
        out.push_str(k);
    } else {
        quote(out, k);
    }
}

struct Encoder {
    out: Zeroizing<String>,
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        for _ in 1..key.len() {
            self.out.push_str("  ");
        }
    }

    fn header(&mut self, key: &[String], open: &str, close: &str) {
        self.indent(key);
        self.out.push_str(open);
        for (n, k) in key.iter().enumerate() {
            if n > 0 {
                self.out.push('.');
            }
            key_part(&mut self.out, k);
        }
        self.out.push_str(close);
    }

    fn encode(&mut self, key: &mut Vec<String>, v: &Value) -> Result<(), String> {
        if key.len() > MAX_DEPTH {
            return Err(format!("toml: nested deeper than {MAX_DEPTH} levels"));
        }
        match (v, kind(v)?) {
            (_, None) => Ok(()),
            (Value::Map(m), _) => {
                if key.len() == 1 {
                    self.newline();
                }
                if !key.is_empty() {
                    self.header(key, "[", "]");
                    self.newline();
                }
                let map = m.borrow().clone();
                self.table(key, &map)
            }
            (Value::List(items), Some(Kind::ArrayOfTables)) => {
                for item in items.iter() {
                    if let Value::Map(m) = item {
                        self.newline();
                        self.header(key, "[[", "]]");
                        self.newline();
                        let map = m.borrow().clone();
                        self.table(key, &map)?;
                    }
                }
                Ok(())
            }
            _ => {
                if let Some(last) = key.last() {
                    self.indent(key);
                    key_part(&mut self.out, last);
                    self.out.push_str(" = ");
                }
                self.element(v, key.len())?;
                if !key.is_empty() {
                    self.newline();
                }
                Ok(())
            }
        }
    }

    fn table(&mut self, key: &mut Vec<String>, map: &Map) -> Result<(), String> {
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, v) in map {
            match kind(v)? {
                Some(Kind::Table | Kind::ArrayOfTables) => sub.push((k, v)),
                _ => direct.push((k, v)),
            }
        }
        for (k, v) in direct.into_iter().chain(sub) {
            key.push(k.clone());
            let r = self.encode(key, v);
            key.pop();
            r?;
        }
        Ok(())
    }

    /// A value written inline (`eElement`).
    fn element(&mut self, v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("toml: nested deeper than {MAX_DEPTH} levels"));
        }
        match v {
            Value::Nil => return Err("toml: cannot encode a nil value".into()),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Float(f) => {
                if f.is_nan() {
                    self.out.push_str(if f.is_sign_negative() { "-nan" } else { "nan" });
                } else if f.is_infinite() {
                    self.out.push_str(if *f < 0.0 { "-inf" } else { "inf" });
                } else {
                    let s = format_float_g(*f);
                    self.out.push_str(&s);
                    if !s.contains(['.', 'e']) {
                        self.out.push_str(".0");
                    }
                }
            }
            Value::Str(s) => quote(&mut self.out, s),
            Value::Bytes(b) => {
                let items: Vec<String> = b.iter().map(u8::to_string).collect();
                let _ = write!(self.out, "[{}]", items.join(", "));
            }
            Value::List(items) => {
                kind(v)?;
                self.out.push('[');
                for (n, item) in items.iter().enumerate() {
                    self.element(item, depth + 1)?;
                    if n + 1 != items.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                let map = m.borrow().clone();
                let mut direct = Vec::new();
                let mut sub = Vec::new();
                for (k, v) in &map {
                    match kind(v)? {
                        Some(Kind::Table | Kind::ArrayOfTables) => sub.push((k, v)),
                        _ => direct.push((k, v)),
                    }
                }
                self.out.push('{');
                let groups = [(direct, !sub.is_empty()), (sub, false)];
                for (group, trailing_comma) in groups {
                    let len = group.len();
                    for (n, (k, v)) in group.into_iter().enumerate() {
                        if v.is_nil() {
                            continue;
                        }
                        key_part(&mut self.out, k);
                        self.out.push_str(" = ");
                        self.element(v, depth + 1)?;
                        if trailing_comma || n + 1 != len {
                            self.out.push_str(", ");
                        }
                    }
                }
                self.out.push('}');
            }
            Value::Object(o) => return Err(unsupported(o.type_name())),
        }
        Ok(())
    }
}

/// `toml.NewEncoder(w).Encode(v)`: the TOML text, or the encoder's error text.
pub(crate) fn encode(v: &Value) -> Result<Zeroizing<String>, String> {
    let mut e = Encoder {
        out: Zeroizing::new(String::new()),
    };
    if v.is_nil() {
        return Err("toml: cannot encode a nil value".into());
    }
    e.encode(&mut Vec::new(), v)?;
    Ok(e.out)
}
