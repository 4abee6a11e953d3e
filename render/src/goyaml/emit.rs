//! `toYaml`: sigs.k8s.io/yaml's `Marshal`, which writes the value as JSON with encoding/json,
//! reads that back with go-yaml v2 and writes it with go-yaml v2's emitter (a port of
//! libyaml's): block style, two-space indentation, sequences level with their parent key, keys
//! in go-yaml's natural order, strings quoted only when they would read back as something else,
//! multi-line strings as literal blocks, and long lines folded at 80 columns.

use std::collections::HashSet;
use std::rc::Rc;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::json::format_json_float;
use super::read::MAX_DEPTH;
use super::resolve::{Resolved, is_base60_float, resolve_plain};
use super::scalar::{Analysis, Style, analyze};
use super::sort::sort_keys;
use crate::gotemplate::value::{Value, format_float_g};

/// A node of the document go-yaml v2 writes.
pub(crate) enum Y {
    /// A scalar with the style go-yaml asks the emitter for.
    Scalar(Zeroizing<String>, Style),
    Seq(Vec<Y>),
    Map(Vec<(Zeroizing<String>, Y)>),
}

/// The style go-yaml v2's encoder asks for a string (`stringv`): a literal block when it has a
/// line break, plain when it would read back as the same string, double-quoted otherwise.
fn string_node(s: &str) -> Y {
    let style = if s.contains('\n') {
        Style::Literal
    } else if resolve_plain(s) == Resolved::Str && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    Y::Scalar(Zeroizing::new(s.to_owned()), style)
}

fn plain(s: String) -> Y {
    Y::Scalar(Zeroizing::new(s), Style::Plain)
}

/// The value as it comes out of the JSON round trip: integral text stays an integer, other
/// numbers are floats written by `strconv.FormatFloat(f, 'g', -1, 64)`.
fn number_from_json_text(text: &str) -> Y {
    plain(match resolve_plain(text) {
        Resolved::Int(i) => i.to_string(),
        Resolved::Uint(u) => u.to_string(),
        Resolved::Float(f) => format_float_g(f),
        _ => text.to_owned(),
    })
}

fn json_err(e: String) -> String {
    format!("error marshaling into JSON: {e}")
}

/// A string as it reads back from the JSON text: go-yaml refuses the control characters
/// encoding/json leaves unescaped, and folds the one line break it leaves unescaped (U+0085,
/// with the spaces around it) as a double-quoted YAML scalar folds breaks.
fn after_json(s: &str) -> Result<Zeroizing<String>, String> {
    if s.chars()
        .any(|c| matches!(c as u32, 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    {
        return Err("yaml: control characters are not allowed".into());
    }
    let mut out = Zeroizing::new(String::with_capacity(s.len()));
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c != ' ' && c != '\u{85}' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\u{85}') {
            i += 1;
        }
        let run = chars.get(start..i).unwrap_or_default();
        let breaks = run.iter().filter(|c| **c == '\u{85}').count();
        match breaks {
            0 => out.extend(run.iter()),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
    }
    Ok(out)
}

/// Builds the document, with the errors of encoding/json and of go-yaml reading its output.
pub(crate) fn build(v: &Value, depth: usize, seen: &mut HashSet<usize>) -> Result<Y, String> {
    if depth > MAX_DEPTH {
        return Err(json_err(format!(
            "json: unsupported value: nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match v {
        Value::Nil => plain("null".into()),
        Value::Bool(b) => plain(b.to_string()),
        Value::Int(i) | Value::Int64(i) => plain(i.to_string()),
        Value::Float(f) => number_from_json_text(&format_json_float(*f).map_err(json_err)?),
        Value::Str(s) => string_node(&after_json(s)?),
        Value::Bytes(b) => string_node(&Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(b.as_slice()),
        )),
        Value::List(items) => Y::Seq(
            items
                .iter()
                .map(|i| build(i, depth + 1, seen))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let id = Rc::as_ptr(m) as usize;
            if !seen.insert(id) {
                return Err(json_err(
                    "json: unsupported value: encountered a cycle via map[string]interface {}".into(),
                ));
            }
            let mut entries = Vec::new();
            for (k, item) in m.borrow().iter() {
                entries.push((after_json(k)?, build(item, depth + 1, seen)?));
            }
            seen.remove(&id);
            Y::Map(sort_keys(entries))
        }
        Value::Object(o) => {
            if let Some(e) = o.elements() {
                return build(&e, depth, seen);
            }
            return Err(json_err(format!(
                "json: unsupported type: {} (writing Go structs as JSON is not supported)",
                o.type_name()
            )));
        }
    })
}

/// `yaml.Marshal(v)`: the YAML text (ending with a newline) or Go's error text.
pub(crate) fn marshal(v: &Value) -> Result<Zeroizing<String>, String> {
    let doc = build(v, 0, &mut HashSet::new())?;
    let mut e = Emitter::new();
    e.node(&doc, false, false);
    e.write_indent();
    Ok(e.out)
}

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

/// go-yaml v2's emitter state, for block documents whose only flow collections are empty.
struct Emitter {
    out: Zeroizing<String>,
    column: usize,
    indent: i32,
    indents: Vec<i32>,
    whitespace: bool,
    indention: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` as go-yaml v2 has it (characters above U+FFFF are not).
pub(crate) fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

impl Emitter {
    fn new() -> Self {
        Emitter {
            out: Zeroizing::new(String::new()),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
            mapping_context: false,
            simple_key_context: false,
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Copies a line break character from the text (`\n` written as the output's break).
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, y: &Y, mapping: bool, simple_key: bool) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match y {
            Y::Scalar(text, style) => self.scalar(text, *style),
            Y::Seq(items) if items.is_empty() => self.empty_flow("[", "]"),
            Y::Map(entries) if entries.is_empty() => self.empty_flow("{", "}"),
            Y::Seq(items) => {
                let indentless = self.mapping_context && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, false, false);
                }
                self.pop_indent();
            }
            Y::Map(entries) => {
                self.increase_indent(false, false);
                for (k, v) in entries {
                    self.write_indent();
                    let a = analyze(k);
                    if !a.multiline && k.len() <= 128 {
                        self.node(&string_node(k), true, true);
                        self.write_indicator(":", false, false, false);
                    } else {
                        self.write_indicator("?", true, false, true);
                        self.node(&string_node(k), true, false);
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    }
                    self.node(v, true, false);
                }
                self.pop_indent();
            }
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    /// `yaml_emitter_select_scalar_style` in block context (the only flow collections written
    /// are empty ones).
    fn select_style(&self, a: &Analysis, len: usize, requested: Style) -> Style {
        let mut style = requested;
        if self.simple_key_context && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if !a.block_plain_allowed {
                style = Style::Single;
            }
            if len == 0 && self.simple_key_context {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || self.simple_key_context) {
            style = Style::Double;
        }
        style
    }

    fn scalar(&mut self, text: &str, requested: Style) {
        let a = analyze(text);
        let style = self.select_style(&a, text.len(), requested);
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single(text, allow_breaks),
            Style::Double => self.write_double(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let last_byte = text.len().saturating_sub(1);
        let mut byte = 0usize;
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && byte < last_byte && !next_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            byte += c.len_utf8();
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // go-yaml escapes every character of a text that starts with a byte order mark.
        let bom = text.starts_with('\u{FEFF}');
        let chars: Vec<char> = text.chars().collect();
        let last_byte = text.len().saturating_sub(1);
        let mut byte = 0usize;
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let code = c as u32;
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let (letter, width) = if code <= 0xFF {
                            ('x', 2)
                        } else if code <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let digit = (code >> (k * 4)) & 0xF;
                            self.put(char::from_digit(digit, 16).unwrap_or('0').to_ascii_uppercase());
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && byte < last_byte {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
            byte += c.len_utf8();
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an indentation indicator when the text starts with a space or a
        // break, `-` without a final break, `+` with more than one.
        let mut chars = text.chars();
        if chars.clone().next().is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let last = chars.next_back();
        let chomp = match last {
            None => Some("-"),
            Some(c) if !is_break(c) => Some("-"),
            Some(_) => match chars.next_back() {
                None => Some("+"),
                Some(c) if is_break(c) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}
