//! Reading YAML as Helm reads values and chart files: sigs.k8s.io/yaml's `Unmarshal`, i.e.
//! go-yaml v2 (YAML 1.1) decoding the first document into Go values, map keys turned into
//! strings, the result written as JSON and read back by encoding/json (so every number becomes a
//! `float64`).

use std::collections::HashMap;

use base64::Engine as _;
use granit_parser::{Event, Parser, ScalarStyle, Tag};
use zeroize::Zeroizing;

use super::YamlError;
use super::resolve::{Resolved, resolve_plain};
use crate::gotemplate::value::{Map, Value};

/// How deep collections may nest.
pub(crate) const MAX_DEPTH: usize = 1000;
/// How many nodes a document may hold once aliases are expanded (a "billion laughs" guard).
const MAX_NODES: usize = 1_000_000;

/// A value as go-yaml v2 decodes it into `interface{}`.
#[derive(Clone)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Zeroizing<String>),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A Go map key (`interface{}` equality) for scalars.
#[derive(PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

fn key_id(n: &Node) -> Option<KeyId> {
    Some(match n {
        Node::Null => KeyId::Null,
        Node::Bool(b) => KeyId::Bool(*b),
        Node::Int(i) => KeyId::Int(*i),
        Node::Uint(u) => KeyId::Uint(*u),
        Node::Float(f) => KeyId::Float(f.to_bits()),
        Node::Str(s) => KeyId::Str(s.as_str().to_owned()),
        Node::Seq(_) | Node::Map(_) => return None,
    })
}

/// A mapping being built: a Go `map[interface{}]interface{}`.
#[derive(Default)]
struct MapBuild {
    entries: Vec<(Node, Node)>,
    index: HashMap<KeyId, usize>,
}

impl MapBuild {
    fn set(&mut self, k: Node, v: Node) -> Result<(), String> {
        let Some(id) = key_id(&k) else {
            return Err(format!("invalid map key: {}", go_sharp_v(&k)));
        };
        match self.index.get(&id) {
            Some(&at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    slot.1 = v;
                }
            }
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push((k, v));
            }
        }
        Ok(())
    }

    /// `<<: value`: the value's mapping(s) set their keys here (a sequence's earlier maps win).
    fn merge(&mut self, v: Node) -> Result<(), String> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        match v {
            Node::Map(entries) => {
                for (k, v) in entries {
                    self.set(k, v)?;
                }
            }
            Node::Seq(items) => {
                for item in items.into_iter().rev() {
                    let Node::Map(entries) = item else {
                        return Err(WANT_MAP.into());
                    };
                    for (k, v) in entries {
                        self.set(k, v)?;
                    }
                }
            }
            _ => return Err(WANT_MAP.into()),
        }
        Ok(())
    }
}

/// A key waiting for its value.
enum Pending {
    Key(Node),
    Merge,
}

enum Frame {
    Map {
        map: MapBuild,
        key: Option<Pending>,
        anchor: usize,
    },
    Seq {
        items: Vec<Node>,
        anchor: usize,
    },
}

fn node_size(n: &Node) -> usize {
    match n {
        Node::Seq(items) => 1 + items.iter().map(node_size).sum::<usize>(),
        Node::Map(entries) => 1 + entries.iter().map(|(k, v)| node_size(k) + node_size(v)).sum::<usize>(),
        _ => 1,
    }
}

/// A scalar read from the text: a value, or the merge key.
enum Scalar {
    Value(Node),
    Merge,
}

const CORE: &str = "tag:yaml.org,2002:";

fn resolved_node(r: Resolved, text: &str) -> Scalar {
    Scalar::Value(match r {
        Resolved::Null => Node::Null,
        Resolved::Bool(b) => Node::Bool(b),
        Resolved::Int(i) => Node::Int(i),
        Resolved::Uint(u) => Node::Uint(u),
        Resolved::Float(f) => Node::Float(f),
        Resolved::Timestamp | Resolved::Str => Node::Str(Zeroizing::new(text.to_owned())),
    })
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Scalar, String> {
    let str_node = || Scalar::Value(Node::Str(Zeroizing::new(text.to_owned())));
    let merge_tag = tag.is_some_and(|t| t.handle() == CORE && t.suffix() == "merge");
    if text == "<<" && ((tag.is_none() && style == ScalarStyle::Plain) || merge_tag) {
        return Ok(Scalar::Merge);
    }
    let Some(tag) = tag else {
        return Ok(match style {
            ScalarStyle::Plain => resolved_node(resolve_plain(text), text),
            _ => str_node(),
        });
    };
    if tag.handle() != CORE {
        return Ok(str_node());
    }
    let want = tag.suffix();
    match want {
        "str" => Ok(str_node()),
        "binary" => {
            let clean: Vec<u8> = text.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
            let data = base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
            Ok(Scalar::Value(Node::Str(Zeroizing::new(go_lossy_utf8(&data)))))
        }
        "bool" | "int" | "float" | "null" | "timestamp" => {
            let mut r = resolve_plain(text);
            if r == Resolved::Timestamp && want != "timestamp" {
                // Only untagged or !!timestamp text is tried as a timestamp.
                let plain = text.replace('_', "");
                r = match resolve_plain(&plain) {
                    Resolved::Timestamp => Resolved::Str,
                    other => other,
                };
            }
            let ok = match (&r, want) {
                (Resolved::Null, "null")
                | (Resolved::Bool(_), "bool")
                | (Resolved::Int(_) | Resolved::Uint(_), "int")
                | (Resolved::Float(_), "float")
                | (Resolved::Timestamp, "timestamp") => true,
                (Resolved::Int(i), "float") => {
                    r = Resolved::Float(*i as f64);
                    true
                }
                _ => false,
            };
            if !ok {
                return Err(format!("cannot decode {} `{text}` as a !!{want}", r.short_tag()));
            }
            Ok(resolved_node(r, text))
        }
        _ => Ok(str_node()),
    }
}

/// Go's conversion of bytes to a JSON string: each byte of an invalid UTF-8 sequence becomes
/// U+FFFD.
pub(crate) fn go_lossy_utf8(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for chunk in data.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    out
}

/// Go's `%#v` of a decoded value, which go-yaml and sigs.k8s.io/yaml quote in their errors.
fn go_sharp_v(n: &Node) -> String {
    match n {
        Node::Null => "interface {}(nil)".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Uint(u) => format!("0x{u:x}"),
        Node::Float(f) => crate::gotemplate::value::format_float_g(*f),
        Node::Str(s) => format!("{:?}", s.as_str()),
        Node::Seq(items) => {
            let inner: Vec<String> = items.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Node::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_sharp_v(k), go_sharp_v(v)))
                .collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

/// Words a parse error as libyaml (go-yaml v2) words the same problem, with its line rules:
/// scanner errors name the 1-based line unless it is the first, parser errors the 0-based one.
fn libyaml_message(e: &granit_parser::ScanError, text: &str) -> String {
    let info = e.info();
    let line = e.marker().line();
    let problem = info
        .strip_prefix("while ")
        .and_then(|rest| rest.split_once(", "))
        .map_or(info.as_str(), |(_, p)| p);
    // Scanner errors name the 1-based line unless it is the first; parser errors the 0-based
    // line unless it is zero (libyaml's quirk).
    let scanner = |l: usize| (l > 1).then_some(l);
    let parser = |l: usize| (l > 0).then_some(l);
    let (msg, shown) = match problem {
        "found unknown anchor" => {
            let name: String = text
                .get(e.marker().index()..)
                .unwrap_or_default()
                .trim_start_matches('*')
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
                .collect();
            (format!("unknown anchor '{name}' referenced"), None)
        }
        "unclosed quote" => ("found unexpected end of stream".to_string(), None),
        "tabs disallowed within this context (block indentation)" | "tabs disallowed in this context" => {
            ("found character that cannot start any token".to_string(), scanner(line))
        }
        "simple key expected ':'" => ("could not find expected ':'".to_string(), scanner(line + 1)),
        "unclosed bracket '['" | "expected ',' or ']'" => (
            "did not find expected ',' or ']'".to_string(),
            parser(text.lines().count()),
        ),
        "unclosed bracket '{'" => (
            "did not find expected ',' or '}'".to_string(),
            parser(text.lines().count()),
        ),
        p if p.starts_with("did not find expected") => (p.to_string(), parser(line.saturating_sub(1))),
        p => (p.to_string(), scanner(line)),
    };
    match shown {
        Some(l) => format!("line {l}: {msg}"),
        None => msg,
    }
}

/// Reads the first document of a YAML stream into go-yaml v2's values (`Node::Null` for an
/// empty stream).
/// A block scalar (`|`, `>`) whose last line ends the input without a line break has no
/// final line break in libyaml (`"a: |\n  x"` is `x`), where the parser adds one.
fn unbroken_last_line<'a>(
    value: std::borrow::Cow<'a, str>,
    style: ScalarStyle,
    end: usize,
    text: &str,
) -> std::borrow::Cow<'a, str> {
    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
    let at_end = end >= text.len() || end >= text.chars().count();
    if block && at_end && !text.ends_with(['\n', '\r']) && value.ends_with('\n') {
        let mut v = value.into_owned();
        v.pop();
        return std::borrow::Cow::Owned(v);
    }
    value
}

pub(crate) fn parse_first_document(text: &str) -> Result<Node, YamlError> {
    let yaml_err = |msg: String| YamlError::Yaml(format!("yaml: {msg}"));
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    for next in Parser::new_from_str(text) {
        let (event, span) = next.map_err(|e| yaml_err(libyaml_message(&e, text)))?;
        let line = span.start.line();
        // The finished node this event completes, with its anchor.
        let done: Option<(Scalar, usize)> = match event {
            Event::DocumentEnd => break,
            Event::Scalar(value, style, anchor, tag) => {
                let value = unbroken_last_line(value, style, span.end.index(), text);
                let s = scalar(&value, style, tag.as_deref()).map_err(yaml_err)?;
                Some((s, anchor))
            }
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id).cloned() else {
                    // Known to the parser but not finished: the alias is inside its anchor.
                    let name = text
                        .get(span.start.index()..span.end.index())
                        .unwrap_or_default()
                        .trim_start_matches('*');
                    return Err(yaml_err(format!("anchor '{name}' value contains itself")));
                };
                nodes = nodes.saturating_add(node_size(&n));
                Some((Scalar::Value(n), 0))
            }
            Event::MappingStart(_, anchor, _) | Event::SequenceStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(yaml_err(format!("exceeded max depth of {MAX_DEPTH}")));
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        map: MapBuild::default(),
                        key: None,
                        anchor,
                    }
                } else {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                    }
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(Frame::Map { map, anchor, .. }) => Some((Scalar::Value(Node::Map(map.entries)), anchor)),
                Some(Frame::Seq { items, anchor }) => Some((Scalar::Value(Node::Seq(items)), anchor)),
                None => return Err(yaml_err(format!("line {line}: unbalanced collection end"))),
            },
            _ => None,
        };
        let Some((s, anchor)) = done else { continue };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(yaml_err("document contains excessive aliasing".into()));
        }
        let node = match s {
            Scalar::Value(n) => n,
            Scalar::Merge => {
                // Only a key can be the merge key; as a value `<<` is the string.
                if let Some(Frame::Map { key: key @ None, .. }) = stack.last_mut() {
                    *key = Some(Pending::Merge);
                    continue;
                }
                Node::Str(Zeroizing::new("<<".into()))
            }
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                None => *key = Some(Pending::Key(node)),
                Some(Pending::Key(k)) => map.set(k, node).map_err(yaml_err)?,
                Some(Pending::Merge) => map.merge(node).map_err(yaml_err)?,
            },
        }
    }
    Ok(root.unwrap_or(Node::Null))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: a float map key as sigs.k8s.io/yaml names it.
fn float32_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let f32v = f as f32;
    if f32v.is_infinite() {
        return if f32v > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    crate::gotemplate::value::format_shortest_e(&format!("{f32v:e}"), 6)
}

/// sigs.k8s.io/yaml's conversion to a JSON-able value and encoding/json's round trip: keys
/// become strings, numbers `float64`; NaN and infinities cannot be written as JSON.
pub(crate) fn to_value(n: Node) -> Result<Value, YamlError> {
    Ok(match n {
        Node::Null => Value::Nil,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::Float(i as f64),
        Node::Uint(u) => Value::Float(u as f64),
        Node::Float(f) => {
            if !f.is_finite() {
                let text = crate::gotemplate::value::format_float_g(f);
                return Err(YamlError::Yaml(format!("json: unsupported value: {text}")));
            }
            Value::Float(f)
        }
        Node::Str(s) => Value::str(s.as_str()),
        Node::Seq(items) => Value::list(items.into_iter().map(to_value).collect::<Result<_, _>>()?),
        Node::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let key = match k {
                    Node::Str(s) => s.as_str().to_owned(),
                    Node::Int(i) => i.to_string(),
                    Node::Float(f) => float32_key(f),
                    Node::Bool(b) => b.to_string(),
                    Node::Null => {
                        let value = match &v {
                            Node::Null => "<nil>".to_string(),
                            other => go_sharp_v(other),
                        };
                        return Err(YamlError::Yaml(format!(
                            "unsupported map key of type: %!s(<nil>), key: <nil>, value: {value}"
                        )));
                    }
                    Node::Uint(_) => return Err(YamlError::Yaml("unsupported map key of type: uint64".into())),
                    Node::Seq(_) | Node::Map(_) => {
                        return Err(YamlError::Yaml("unsupported map key of a collection type".into()));
                    }
                };
                m.insert(key, to_value(v)?);
            }
            Value::map(m)
        }
    })
}
