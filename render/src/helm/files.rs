//! `.Files`: the chart's non-template files (Helm's `engine.files`, a map from path to bytes)
//! with `Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig` and `AsSecrets`.

use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::chart::ChartFile;
use super::glob::Glob;
use crate::gotemplate::value::{Map, Object, Value};

type Bytes = Rc<Zeroizing<Vec<u8>>>;

/// A set of chart files, as templates see it.
#[derive(Clone, Default)]
pub struct Files {
    files: BTreeMap<String, Bytes>,
}

impl Files {
    /// The files of a chart.
    pub(crate) fn new(from: &[ChartFile]) -> Files {
        Files {
            files: from.iter().map(|f| (f.name.clone(), f.data.clone())).collect(),
        }
    }

    /// The object templates see.
    pub(crate) fn to_value(&self) -> Value {
        Value::Object(Rc::new(self.clone()))
    }

    fn get_bytes(&self, name: &str) -> Bytes {
        self.files
            .get(name)
            .cloned()
            .unwrap_or_else(|| Rc::new(Zeroizing::new(Vec::new())))
    }

    fn glob(&self, pattern: &str) -> Files {
        let g = Glob::new(pattern).or_else(|_| Glob::new("**"));
        let files = match g {
            Ok(g) => self
                .files
                .iter()
                .filter(|(name, _)| g.matches(name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        Files { files }
    }

    fn lines(&self, path: &str) -> Value {
        let Some(data) = self.files.get(path).filter(|d| !d.is_empty()) else {
            return Value::list(Vec::new());
        };
        let text = String::from_utf8_lossy(data);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        Value::list(text.split('\n').map(Value::str).collect())
    }

    /// `toYaml` of a map from each file's base name to `content(file)`.
    fn as_map_yaml(&self, content: impl Fn(&[u8]) -> String) -> Result<Value, String> {
        let mut m = Map::new();
        for (name, data) in &self.files {
            let base = name.rsplit('/').next().unwrap_or(name);
            m.insert(base.to_string(), Value::str(content(data)));
        }
        let text = crate::goyaml::to_yaml(&Value::map(m)).map_err(|e| e.to_string())?;
        Ok(Value::str(text.strip_suffix('\n').unwrap_or(&text)))
    }
}

fn one_string<'a>(name: &str, args: &'a [Value]) -> Result<&'a str, String> {
    match args {
        [Value::Str(s)] => Ok(s.as_str()),
        [other] => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
        _ => Err(format!("wrong number of args for {name}: want 1 got {}", args.len())),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }

    /// A map key: the file's bytes, or empty bytes for a missing file.
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" => self.as_map_yaml(|d| String::from_utf8_lossy(d).into_owned()).ok(),
            "AsSecrets" => self
                .as_map_yaml(|d| base64::engine::general_purpose::STANDARD.encode(d))
                .ok(),
            _ => Some(Value::Bytes(self.get_bytes(name))),
        }
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            "Get" => {
                one_string(name, args).map(|p| Value::str(String::from_utf8_lossy(&self.get_bytes(p)).into_owned()))
            }
            "GetBytes" => one_string(name, args).map(|p| Value::Bytes(self.get_bytes(p))),
            "Glob" => one_string(name, args).map(|p| self.glob(p).to_value()),
            "Lines" => one_string(name, args).map(|p| self.lines(p)),
            "AsConfig" if args.is_empty() => self.as_map_yaml(|d| String::from_utf8_lossy(d).into_owned()),
            "AsSecrets" if args.is_empty() => self.as_map_yaml(|d| base64::engine::general_purpose::STANDARD.encode(d)),
            _ => return None,
        })
    }

    /// A `map[string][]byte`.
    fn elements(&self) -> Option<Value> {
        let m: Map = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), Value::Bytes(v.clone())))
            .collect();
        Some(Value::map(m))
    }

    fn format_v(&self) -> String {
        let mut out = String::from("map[");
        for (n, (name, data)) in self.files.iter().enumerate() {
            if n > 0 {
                out.push(' ');
            }
            out.push_str(name);
            out.push(':');
            out.push_str(&Value::Bytes(data.clone()).format_v());
        }
        out.push(']');
        out
    }
}
