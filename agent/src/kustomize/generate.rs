//! `configMapGenerator` and `secretGenerator`, and the content hash kustomize appends to
//! generated names.

use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::KustomizeError;
use super::resource::{Behavior, Res};
use sigil_crypto::sops::format::json as gojson;

/// One key/value source read for a generator (values may be secret: wiped on drop).
pub struct Pair {
    /// Key.
    pub key: String,
    /// Raw bytes.
    pub value: Zeroizing<Vec<u8>>,
}

/// Options shared by generators (`generatorOptions` and per-generator `options`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Labels to add.
    pub labels: Map<String, Value>,
    /// Annotations to add.
    pub annotations: Map<String, Value>,
    /// No hash suffix.
    pub disable_hash: Option<bool>,
    /// `immutable: true`.
    pub immutable: Option<bool>,
}

impl Options {
    /// From a JSON object.
    pub fn from_json(v: Option<&Value>) -> Options {
        let Some(v) = v else { return Options::default() };
        let map = |k: &str| v.get(k).and_then(|x| x.as_object()).cloned().unwrap_or_default();
        Options {
            labels: map("labels"),
            annotations: map("annotations"),
            disable_hash: v.get("disableNameSuffixHash").and_then(|x| x.as_bool()),
            immutable: v.get("immutable").and_then(|x| x.as_bool()),
        }
    }

    /// `self` overridden by `o`.
    pub fn merged(&self, o: &Options) -> Options {
        let mut labels = self.labels.clone();
        labels.extend(o.labels.clone());
        let mut annotations = self.annotations.clone();
        annotations.extend(o.annotations.clone());
        Options {
            labels,
            annotations,
            disable_hash: o.disable_hash.or(self.disable_hash),
            immutable: o.immutable.or(self.immutable),
        }
    }
}

/// Parses `KEY=value` (a literal source); quotes around the value are removed.
pub fn parse_literal(s: &str) -> Result<(String, String), KustomizeError> {
    let (k, v) = s.split_once('=').ok_or_else(|| {
        KustomizeError::msg("invalid literal source: expected key=value (the literal is not shown)".to_string())
    })?;
    let v = if v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Ok((k.to_string(), v.to_string()))
}

/// Parses an env file: `KEY=value` lines, `#` comments and blank lines skipped.
pub fn parse_env(name: &str, content: &[u8]) -> Result<Vec<Pair>, KustomizeError> {
    let text = std::str::from_utf8(content)
        .map_err(|_| KustomizeError::msg(format!("{name}: env file is not valid UTF-8")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = match line.split_once('=') {
            Some((k, v)) => (k, v),
            None => (line, ""),
        };
        if k.is_empty() || k.chars().any(char::is_whitespace) {
            return Err(KustomizeError::msg(format!(
                "{name}: line {}: invalid key in env file (a value is never shown)",
                n + 1
            )));
        }
        out.push(Pair {
            key: k.to_string(),
            value: Zeroizing::new(v.as_bytes().to_vec()),
        });
    }
    Ok(out)
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Builds a ConfigMap or Secret from its sources.
#[allow(clippy::too_many_arguments)]
pub fn make(
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    secret_type: Option<&str>,
    pairs: Vec<Pair>,
    opts: &Options,
    behavior: Behavior,
) -> Result<Res, KustomizeError> {
    if name.is_empty() {
        return Err(KustomizeError::msg(format!("a {kind} generator needs a name")));
    }
    let mut data = Map::new();
    let mut binary = Map::new();
    for p in pairs {
        if !valid_key(&p.key) {
            return Err(KustomizeError::msg(format!(
                "{kind} {name}: \"{}\" is not a valid key name: a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                p.key
            )));
        }
        if data.contains_key(&p.key) || binary.contains_key(&p.key) {
            return Err(KustomizeError::msg(format!(
                "{} {name} illegally repeats the key `{}`",
                kind.to_lowercase(),
                p.key
            )));
        }
        if kind == "Secret" {
            data.insert(p.key, Value::String(wrapped_base64(&p.value)));
        } else {
            match std::str::from_utf8(&p.value) {
                Ok(s) => {
                    data.insert(p.key, Value::String(s.to_string()));
                }
                Err(_) => {
                    binary.insert(p.key, Value::String(wrapped_base64(&p.value)));
                }
            }
        }
    }
    let mut meta = Map::new();
    meta.insert("name".into(), Value::String(name.into()));
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        meta.insert("namespace".into(), Value::String(ns.into()));
    }
    if !opts.labels.is_empty() {
        meta.insert("labels".into(), Value::Object(opts.labels.clone()));
    }
    if !opts.annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(opts.annotations.clone()));
    }
    let mut obj = json!({"apiVersion": "v1", "kind": kind});
    let m = obj.as_object_mut().expect("object");
    m.insert("metadata".into(), Value::Object(meta));
    if kind == "Secret" {
        m.insert(
            "type".into(),
            Value::String(secret_type.filter(|t| !t.is_empty()).unwrap_or("Opaque").into()),
        );
    }
    if !data.is_empty() {
        m.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        m.insert("binaryData".into(), Value::Object(binary));
    }
    if opts.immutable == Some(true) {
        m.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Res::new(obj);
    r.behavior = behavior;
    r.needs_hash = opts.disable_hash != Some(true);
    Ok(r)
}

/// Base64 as kustomize writes Secret data: lines of 70 characters, each ended by a newline,
/// when longer than one line.
fn wrapped_base64(b: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(b);
    if s.len() <= 70 {
        return s;
    }
    let mut out = String::with_capacity(s.len() + s.len() / 70 + 1);
    for chunk in s.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

/// Go's `json.Marshal` of a value with map keys sorted (HTML-safe string escapes).
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => gojson::quote(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                gojson::quote(k, out);
                out.push(':');
                go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

/// kustomize's content hash of a resource (10 characters).
pub fn hash(r: &Res) -> String {
    let v = r.v();
    let field = |k: &str| v.get(k).cloned().unwrap_or(Value::String(String::new()));
    // kustomize looks the name up as a single field called "metadata/name", which never
    // exists: the name hashed is always empty. Reproduced for identical suffixes.
    let name = Value::String(String::new());
    let mut m = Map::new();
    match r.obj.kind() {
        "ConfigMap" => {
            m.insert("kind".into(), "ConfigMap".into());
            m.insert("name".into(), name);
            m.insert("data".into(), field("data"));
            if let Some(b @ Value::Object(_)) = v.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
        }
        "Secret" => {
            m.insert("kind".into(), "Secret".into());
            m.insert("type".into(), field("type"));
            m.insert("name".into(), name);
            m.insert("data".into(), field("data"));
            if let Some(b @ Value::Object(_)) = v.get("stringData") {
                m.insert("stringData".into(), b.clone());
            }
        }
        _ => {
            let mut s = Zeroizing::new(String::new());
            go_json(v, &mut s);
            return encode(&Sha256::digest(s.as_bytes()));
        }
    }
    // The map holds copies of Secret data: wiped on drop like every rendered object.
    let m = crate::object::Object(Value::Object(m));
    let mut s = Zeroizing::new(String::new());
    go_json(&m.0, &mut s);
    encode(&Sha256::digest(s.as_bytes()))
}

fn encode(digest: &[u8]) -> String {
    hex::encode(digest)[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}
