//! The YAML store: multi-document YAML with comments, read and written as sops does
//! (go-yaml v3 value resolution; output with 4-space indentation, sequences indented).

use std::collections::HashMap;

use granit_parser::{Event, Parser, Placement, ScalarStyle};

use crate::sops::scalar::go_float_g;
use crate::sops::tree::{Branch, Comment, Item, Value, secret};

/// Upper bound on nodes produced by alias expansion (a "billion laughs" guard).
const MAX_NODES: usize = 1_000_000;
/// Upper bound on nesting depth.
const MAX_DEPTH: usize = 256;

enum Frame {
    Map {
        branch: Branch,
        key: Option<String>,
        anchor: usize,
    },
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
}

struct Loader {
    docs: Vec<Branch>,
    stack: Vec<Frame>,
    root: Option<Value>,
    pending: Vec<Comment>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    /// When set, documents of any shape are collected here instead of `docs`.
    any: Option<Vec<Value>>,
}

fn node_count(v: &Value) -> usize {
    match v {
        Value::Map(b) => 1 + b.pairs().map(|(_, v)| node_count(v)).sum::<usize>(),
        Value::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        _ => 1,
    }
}

impl Loader {
    fn flush_into_current(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        match self.stack.last_mut() {
            Some(Frame::Map { branch, .. }) => branch.0.extend(pending.into_iter().map(Item::Comment)),
            Some(Frame::Seq { items, .. }) => items.extend(pending.into_iter().map(Value::Comment)),
            None => self.pending = pending,
        }
    }

    /// Adds a finished value to the current container (or as the document root).
    fn add_value(&mut self, v: Value, line: usize) -> Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err("document too large (node limit reached)".into());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(v);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(v);
                Ok(())
            }
            Some(Frame::Map { branch, key, .. }) => match key.take() {
                None => match v {
                    Value::Str(s) => {
                        if branch.pairs().any(|(k, _)| k == s.as_str()) {
                            if self.any.is_none() {
                                return Err(format!("line {line}: mapping key already defined"));
                            }
                            // Lenient (Kubernetes manifests, as go-yaml nodes): the last one wins.
                            branch
                                .0
                                .retain(|i| !matches!(i, Item::Pair { key, .. } if **key == *s.as_str()));
                        }
                        *key = Some(s.to_string());
                        Ok(())
                    }
                    _ => Err(format!("line {line}: non-string mapping keys are not supported")),
                },
                Some(k) => {
                    branch.push(k, v);
                    Ok(())
                }
            },
        }
    }

    /// Places comments seen before a node: before the pair or item it starts.
    fn before_node(&mut self, starts_collection: bool) {
        if self.pending.is_empty() {
            return;
        }
        let in_value_position = matches!(self.stack.last(), Some(Frame::Map { key: Some(_), .. }));
        if !(starts_collection && in_value_position) {
            self.flush_into_current();
        }
        // Otherwise they become the first lines of the new collection (see `open`).
    }

    fn open(&mut self, frame: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err("document nested too deeply".into());
        }
        self.stack.push(frame);
        self.flush_into_current();
        Ok(())
    }

    fn close(&mut self, line: usize) -> Result<(), String> {
        self.flush_into_current();
        let (v, anchor) = match self.stack.pop() {
            Some(Frame::Map {
                branch,
                key: None,
                anchor,
            }) => (Value::Map(branch), anchor),
            Some(Frame::Map { key: Some(_), .. }) => {
                return Err(format!("line {line}: mapping key without value"));
            }
            Some(Frame::Seq { items, anchor }) => (Value::Seq(items), anchor),
            None => return Err(format!("line {line}: unbalanced collection end")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (v.clone(), node_count(&v)));
        }
        self.add_value(v, line)
    }

    fn right_comment(&mut self, c: Comment) {
        // `- item # c` stays an inline comment before the item. go-yaml gives the comment of
        // `key: value # c` to the key, so sops makes it a comment line above the pair.
        let inline = Comment { inline: true, ..c };
        match self.stack.last_mut() {
            Some(Frame::Map { branch, key: None, .. }) if matches!(branch.0.last(), Some(Item::Pair { .. })) => {
                let at = branch.0.len() - 1;
                branch.0.insert(
                    at,
                    Item::Comment(Comment {
                        inline: false,
                        ..inline
                    }),
                );
            }
            Some(Frame::Seq { items, .. }) if items.last().is_some_and(|v| !matches!(v, Value::Comment(_))) => {
                let at = items.len() - 1;
                items.insert(at, Value::Comment(inline));
            }
            _ => self.pending.push(Comment {
                inline: false,
                ..inline
            }),
        }
    }

    fn end_document(&mut self) -> Result<(), String> {
        let root = self.root.take();
        if let Some(any) = self.any.as_mut() {
            self.pending.clear();
            any.push(root.unwrap_or(Value::Null));
            return Ok(());
        }
        let mut doc = match root {
            None | Some(Value::Null) => Branch::new(),
            Some(Value::Map(b)) => b,
            Some(Value::Seq(_)) => {
                return Err("YAML documents that are sequences are not supported".into());
            }
            Some(_) => return Err("YAML documents that are values are not supported".into()),
        };
        doc.0
            .extend(std::mem::take(&mut self.pending).into_iter().map(Item::Comment));
        self.docs.push(doc);
        Ok(())
    }
}

fn is_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = i128::from_str_radix(&clean, radix).ok()?;
    let v = if neg { -mag } else { mag };
    i64::try_from(v).ok()
}

fn is_yaml_float(s: &str) -> Option<f64> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac_digits = i - f;
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

/// Whether go-yaml would read this plain text as a timestamp.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if !date {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    let t = b[10];
    (t == b'T' || t == b't' || t == b' ')
        && b.len() >= 16
        && b[11..].iter().take(5).enumerate().all(|(i, c)| {
            if i == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit() || (i == 1 && *c == b':')
            }
        })
}

/// go-yaml v3's resolution of an untagged plain scalar into a typed value.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Some(i) = is_go_int(s) {
            return Value::Int(i);
        }
        if let Some(f) = is_yaml_float(s) {
            return Value::Float(f);
        }
    }
    Value::str(s)
}

fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&granit_parser::Tag>) -> Result<Value, String> {
    if let Some(tag) = tag
        && tag.is_yaml_core_schema()
    {
        return Ok(match tag.suffix() {
            "str" => Value::str(text),
            "null" => Value::Null,
            "bool" | "int" | "float" => match resolve_plain(text) {
                v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => v,
                _ => return Err(format!("cannot decode value as !!{}", tag.suffix())),
            },
            _ => Value::str(text),
        });
    }
    Ok(match style {
        ScalarStyle::Plain if tag.is_none() => resolve_plain(text),
        _ => Value::str(text),
    })
}

/// Parses a YAML stream into documents.
pub fn load(input: &[u8]) -> Result<Vec<Branch>, String> {
    let mut l = Loader::new(false);
    l.run(input)?;
    Ok(l.docs)
}

/// Parses a YAML stream whose documents may be of any shape (mapping, sequence or scalar);
/// an empty document is `Null`. Comments are dropped.
pub fn load_any(input: &[u8]) -> Result<Vec<Value>, String> {
    let mut l = Loader::new(true);
    l.run(input)?;
    Ok(l.any.unwrap_or_default())
}

impl Loader {
    fn new(any_shape: bool) -> Self {
        Loader {
            docs: Vec::new(),
            stack: Vec::new(),
            root: None,
            pending: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            any: any_shape.then(Vec::new),
        }
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let l = self;
        let text = std::str::from_utf8(input).map_err(|_| "input is not valid UTF-8".to_string())?;
        for next in Parser::new_from_str(text) {
            let (event, span) = next.map_err(|e| e.to_string())?;
            let line = span.start.line();
            match event {
                Event::StreamStart | Event::StreamEnd => {}
                Event::DocumentStart(..) => {
                    l.root = None;
                }
                Event::DocumentEnd => l.end_document()?,
                Event::Comment(text, placement) => {
                    let c = Comment {
                        text: secret(text.into_owned()),
                        inline: false,
                    };
                    match placement {
                        Placement::Right => l.right_comment(c),
                        _ => l.pending.push(c),
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    l.before_node(false);
                    let v = scalar_value(&value, style, tag.as_deref())?;
                    if anchor != 0 {
                        l.anchors.insert(anchor, (v.clone(), 1));
                    }
                    l.add_value(v, line)?;
                }
                Event::MappingStart(_, anchor, _) => {
                    l.before_node(true);
                    if matches!(l.stack.last(), Some(Frame::Map { key: None, .. })) {
                        return Err(format!("line {line}: non-string mapping keys are not supported"));
                    }
                    l.open(Frame::Map {
                        branch: Branch::new(),
                        key: None,
                        anchor,
                    })?;
                }
                Event::SequenceStart(_, anchor, _) => {
                    l.before_node(true);
                    if matches!(l.stack.last(), Some(Frame::Map { key: None, .. })) {
                        return Err(format!("line {line}: non-string mapping keys are not supported"));
                    }
                    l.open(Frame::Seq {
                        items: Vec::new(),
                        anchor,
                    })?;
                }
                Event::MappingEnd | Event::SequenceEnd => l.close(line)?,
                Event::Alias(id) => {
                    l.before_node(false);
                    let (v, size) = l
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| format!("line {line}: unknown alias"))?;
                    l.nodes += size;
                    if l.nodes > MAX_NODES {
                        return Err("document too large after alias expansion (node limit reached)".into());
                    }
                    l.add_value(v, line)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- emitting

/// Layout of emitted YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// sops (go-yaml v3, indent 4): sequences indented under their key.
    Sops,
    /// kubectl/kubeseal (sigs.k8s.io/yaml, indent 2): sequences level with their key, keys sorted.
    Kube,
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF"
    )
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let s = s.trim_start_matches(['-', '+']);
    let mut parts = s.split(':');
    let head = parts.next().unwrap_or("");
    if head.is_empty() || !head.as_bytes()[0].is_ascii_digit() || !head.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return false;
    }
    for (i, p) in rest.iter().enumerate() {
        let (num, frac) = if i == rest.len() - 1 {
            p.split_once('.').map_or((*p, None), |(a, b)| (a, Some(b)))
        } else {
            (*p, None)
        };
        if num.is_empty() || num.len() > 2 || !num.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        if num.len() == 2 && num.as_bytes()[0] > b'5' {
            return false;
        }
        if let Some(f) = frac
            && !f.bytes().all(|c| c.is_ascii_digit() || c == b'_')
        {
            return false;
        }
    }
    true
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

#[derive(PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn choose_style(s: &str) -> Style {
    let special = s.chars().any(|c| !is_printable(c));
    let multiline = s.contains('\n');
    if multiline {
        let trailing_space = s.ends_with(' ');
        let space_break = s.contains(" \n");
        if special || trailing_space || space_break {
            return Style::Double;
        }
        return Style::Literal;
    }
    if special {
        return Style::Double;
    }
    if !matches!(resolve_plain(s), Value::Str(_)) || is_timestamp(s) || is_old_bool(s) || is_base60_float(s) {
        return Style::Double;
    }
    let b = s.as_bytes();
    let mut plain = !(s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("..."));
    let followed_by_blank = |i: usize| i + 1 >= b.len() || b[i + 1] == b' ';
    for (i, &c) in b.iter().enumerate() {
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%'
                | b'@' | b'`' => plain = false,
                b'?' | b':' | b'-' if followed_by_blank(i) => plain = false,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_blank(i) => plain = false,
                b'#' if b[i - 1] == b' ' => plain = false,
                _ => {}
            }
        }
    }
    if plain { Style::Plain } else { Style::Single }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !is_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders a string scalar for a single-line position (a key, or a non-literal value).
fn inline_string(s: &str) -> String {
    match choose_style(s) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double | Style::Literal => double_quoted(s),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => ".nan".into(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }
        }
        Value::Float(f) => go_float_g(*f),
        Value::Time(t) => t.to_string(),
        Value::Str(s) => inline_string(s),
        _ => String::new(),
    }
}

/// Longest key (in bytes) libyaml writes as a simple `key: value`.
const MAX_SIMPLE_KEY: usize = 128;

struct Emitter {
    out: String,
    indent: usize,
    seq_indent: usize,
}

impl Emitter {
    fn pad(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }

    fn comments(&mut self, indent: usize, comments: &[&Comment]) {
        for c in comments {
            self.pad(indent);
            self.out.push('#');
            self.out.push_str(&c.text);
            self.out.push('\n');
        }
    }

    fn line_comments(&mut self, comments: &[&Comment]) {
        if !comments.is_empty() {
            self.out.push_str(" #");
            let texts: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
            self.out.push_str(&texts.join(" #"));
        }
    }

    /// Writes a literal block scalar (`|`); `indent` is where its content lines start.
    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with(' ') || s.starts_with('\n') {
            self.out.push_str(&self.indent.to_string());
        }
        if !s.ends_with('\n') {
            self.out.push('-');
        } else if s.ends_with("\n\n") || s == "\n" {
            self.out.push('+');
        }
        self.out.push('\n');
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            if !line.is_empty() {
                self.pad(indent);
                self.out.push_str(line);
            }
            self.out.push('\n');
        }
    }

    /// Writes a value after `key:` or `- ` (the cursor is right after the indicator).
    /// `indent` is the logical indentation of the collection holding it.
    fn value_after_indicator(&mut self, v: &Value, indent: usize, inline: &[&Comment], in_seq: bool) {
        match v {
            Value::Map(b) if !b.is_empty() => {
                if in_seq {
                    // `- key: v` with the mapping's keys aligned after the dash.
                    self.out.push(' ');
                    self.map(b, indent, true);
                } else {
                    self.line_comments(inline);
                    self.out.push('\n');
                    self.map(b, indent + self.indent, false);
                }
            }
            Value::Seq(items) if items.iter().any(|i| !matches!(i, Value::Comment(_))) => {
                if in_seq {
                    self.out.push(' ');
                    self.seq(items, indent + 2, true);
                } else {
                    self.line_comments(inline);
                    self.out.push('\n');
                    self.seq(items, indent + self.seq_indent, false);
                }
            }
            Value::Map(_) => {
                self.out.push_str(" {}");
                self.line_comments(inline);
                self.out.push('\n');
            }
            Value::Seq(_) => {
                self.out.push_str(" []");
                self.line_comments(inline);
                self.out.push('\n');
            }
            Value::Str(s) if choose_style(s) == Style::Literal => {
                self.out.push(' ');
                self.literal(s, indent + self.indent);
            }
            other => {
                self.out.push(' ');
                self.out.push_str(&scalar_text(other));
                self.line_comments(inline);
                self.out.push('\n');
            }
        }
    }

    /// Writes a mapping whose keys sit at `indent`; with `first_inline` the first key continues
    /// the current line (after `- `) and the others sit at `indent + 2`.
    fn map(&mut self, b: &Branch, indent: usize, first_inline: bool) {
        let key_col = if first_inline { indent + 2 } else { indent };
        let mut head: Vec<&Comment> = Vec::new();
        let mut inline: Vec<&Comment> = Vec::new();
        let mut first = true;
        for item in &b.0 {
            match item {
                Item::Comment(c) if c.inline => inline.push(c),
                Item::Comment(c) => head.push(c),
                Item::Pair { key, value } => {
                    if first && first_inline {
                        // Comments cannot sit between `- ` and the first key: put them before the dash.
                        if !head.is_empty() {
                            let at = self.out.rfind('\n').map_or(0, |p| p + 1);
                            let mut lines = String::new();
                            for c in &head {
                                lines.push_str(&" ".repeat(indent));
                                lines.push('#');
                                lines.push_str(&c.text);
                                lines.push('\n');
                            }
                            self.out.insert_str(at, &lines);
                        }
                    } else {
                        if !first || !first_inline {
                            self.comments(key_col, &head);
                        }
                        self.pad(key_col);
                    }
                    head.clear();
                    first = false;
                    if key.len() > MAX_SIMPLE_KEY || key.contains('\n') {
                        // Not a simple key for libyaml: an explicit `? key` / `: value` pair.
                        self.out.push('?');
                        self.value_after_indicator(&Value::str(key.as_str()), indent, &[], false);
                        self.pad(key_col);
                    } else {
                        self.out.push_str(&inline_string(key));
                    }
                    self.out.push(':');
                    // go-yaml (sops) nests a seq item's values from the dash column; the
                    // Kubernetes style nests them from the key column.
                    let nest = if self.seq_indent == 0 { key_col } else { indent };
                    self.value_after_indicator(value, nest, &inline, false);
                    inline.clear();
                }
            }
        }
        head.extend(inline);
        self.comments(key_col, &head);
    }

    /// Writes a sequence whose dashes sit at `indent` (the first one inline when `first_inline`).
    fn seq(&mut self, items: &[Value], indent: usize, first_inline: bool) {
        let mut head: Vec<&Comment> = Vec::new();
        let mut inline: Vec<&Comment> = Vec::new();
        let mut first = true;
        for item in items {
            match item {
                Value::Comment(c) if c.inline => inline.push(c),
                Value::Comment(c) => head.push(c),
                v => {
                    if !(first && first_inline) {
                        self.comments(indent, &head);
                        self.pad(indent);
                    }
                    head.clear();
                    first = false;
                    self.out.push('-');
                    self.value_after_indicator(v, indent, &inline, true);
                    inline.clear();
                }
            }
        }
        head.extend(inline);
        self.comments(indent, &head);
    }
}

/// Writes documents as sops does (go-yaml v3, indent 4); documents are separated by `---`.
pub fn emit(docs: &[Branch]) -> String {
    emit_with(docs, Layout::Sops)
}

fn sorted_value(v: &Value) -> Value {
    match v {
        Value::Map(b) => Value::Map(sorted_branch(b)),
        Value::Seq(items) => Value::Seq(items.iter().map(sorted_value).collect()),
        other => other.clone(),
    }
}

fn sorted_branch(b: &Branch) -> Branch {
    let mut pairs: Vec<(&str, &Value)> = b.pairs().collect();
    pairs.sort_by(|x, y| x.0.cmp(y.0));
    let mut out = Branch::new();
    for (k, v) in pairs {
        out.push(k, sorted_value(v));
    }
    out
}

/// Writes documents in the given layout.
pub fn emit_with(docs: &[Branch], layout: Layout) -> String {
    let (indent, seq_indent) = match layout {
        Layout::Sops => (4, 4),
        Layout::Kube => (2, 0),
    };
    let mut e = Emitter {
        out: String::new(),
        indent,
        seq_indent,
    };
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 || layout == Layout::Kube {
            e.out.push_str("---\n");
        }
        let doc = if layout == Layout::Kube {
            sorted_branch(doc)
        } else {
            doc.clone()
        };
        if doc.0.is_empty() {
            e.out.push_str("{}\n");
        } else {
            e.map(&doc, 0, false);
        }
    }
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_layout_nests_collections_inside_sequence_items() {
        let doc = &load(b"c:\n- env:\n  - name: A\n    valueFrom:\n      ref: {k: v}\n  name: web\n").unwrap()[0];
        let out = emit_with(std::slice::from_ref(doc), Layout::Kube);
        assert_eq!(
            out,
            "---\nc:\n- env:\n  - name: A\n    valueFrom:\n      ref:\n        k: v\n  name: web\n"
        );
        assert_eq!(load(out.as_bytes()).unwrap()[0].pairs().count(), 1);
    }

    #[test]
    fn resolves_like_go_yaml() {
        assert_eq!(resolve_plain("12"), Value::Int(12));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("true"), Value::Bool(true));
        assert_eq!(resolve_plain("yes"), Value::str("yes"));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("2024-01-01"), Value::str("2024-01-01"));
    }

    #[test]
    fn quoting() {
        assert_eq!(inline_string("plain"), "plain");
        assert_eq!(inline_string("123"), "\"123\"");
        assert_eq!(inline_string("yes"), "\"yes\"");
        assert_eq!(inline_string(""), "\"\"");
        assert_eq!(inline_string("2026-11-23T16:42:19Z"), "\"2026-11-23T16:42:19Z\"");
        assert_eq!(inline_string("a: b"), "'a: b'");
        assert_eq!(inline_string("- x"), "'- x'");
        assert_eq!(inline_string("^(data|stringData)$"), "^(data|stringData)$");
        assert_eq!(inline_string("tab\there"), "\"tab\\there\"");
    }

    #[test]
    fn round_trip_with_comments() {
        let src = "# head\na: 1 # inline\nb:\n  - x # on x\n  - k: 2\n    z: 3\nc: |\n  line1\n  line2\n";
        let docs = load(src.as_bytes()).unwrap();
        let out = emit(&docs);
        assert_eq!(
            out,
            "# head\n# inline\na: 1\nb:\n    - x # on x\n    - k: 2\n      z: 3\nc: |\n    line1\n    line2\n"
        );
        assert_eq!(load(out.as_bytes()).unwrap(), docs);
    }

    #[test]
    fn long_and_multiline_keys_are_explicit() {
        let long = "k".repeat(129);
        for key in [long.as_str(), "a\nb", &format!("a{}b", "\t".repeat(600))] {
            let mut b = Branch::new();
            b.push(key, Value::str("v"));
            let out = emit(&[b.clone()]);
            assert!(out.starts_with('?'), "{out}");
            assert_eq!(load(out.as_bytes()).unwrap(), vec![b], "{out}");
        }
        assert_eq!(
            emit(&[{
                let mut b = Branch::new();
                b.push("a\nb", Value::str("v"));
                b
            }]),
            "? |-\n    a\n    b\n: v\n"
        );
    }

    #[test]
    fn multi_document() {
        let docs = load(b"a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(emit(&docs), "a: 1\n---\nb: 2\n");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(load(src.as_bytes()).unwrap_err().contains("node limit"));
    }

    #[test]
    fn sequences_at_top_are_refused() {
        assert!(load(b"- a\n- b\n").is_err());
    }
}
