//! The template functions Helm defines on YAML, JSON and TOML (Helm's `pkg/engine/funcs.go`
//! and the JSON functions sprig adds), with their Go signatures and error behaviour: the plain
//! forms swallow errors (`toYaml` gives `""`, `fromYaml` a map with an `Error` key), the `must`
//! forms fail the template.

use crate::gotemplate::value::{Func, FuncMap, Map, Ty, Value};

use super::json::{self, JsonStyle};
use super::{emit, from_yaml_array, from_yaml_map, json_kind, json_read, toml};

/// Marks an error that comes from a limit of this implementation rather than from Go: it is
/// never swallowed (Go would have produced output).
const UNSUPPORTED: &str = "not supported";

fn arg(args: &[Value], n: usize) -> Value {
    args.get(n).cloned().unwrap_or_default()
}

fn str_arg(args: &[Value]) -> String {
    arg(args, 0).as_str().unwrap_or_default().to_owned()
}

/// The result of a function that swallows Go's errors: `fallback` on a Go error, the error
/// itself when Go would have succeeded.
fn swallow(r: Result<String, String>, fallback: impl FnOnce(String) -> String) -> Result<Value, String> {
    match r {
        Ok(s) => Ok(Value::str(s)),
        Err(e) if e.contains(UNSUPPORTED) => Err(e),
        Err(e) => Ok(Value::str(fallback(e))),
    }
}

fn yaml_text(v: &Value) -> Result<String, String> {
    let text = emit::marshal(v)?;
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

fn to_yaml(args: &[Value]) -> Result<Value, String> {
    swallow(yaml_text(&arg(args, 0)), |_| String::new())
}

fn must_to_yaml(args: &[Value]) -> Result<Value, String> {
    yaml_text(&arg(args, 0)).map(Value::str)
}

fn from_yaml(args: &[Value]) -> Result<Value, String> {
    Ok(match from_yaml_map(&str_arg(args)) {
        Ok(v) => v,
        Err(e) => {
            let mut m = Map::new();
            m.insert("Error".into(), Value::str(e.to_string()));
            Value::map(m)
        }
    })
}

fn from_yaml_array_fn(args: &[Value]) -> Result<Value, String> {
    Ok(match from_yaml_array(&str_arg(args)) {
        Ok(v) => v,
        Err(e) => Value::list(vec![Value::str(e.to_string())]),
    })
}

const COMPACT: JsonStyle = JsonStyle {
    escape_html: true,
    pretty: false,
};
const PRETTY: JsonStyle = JsonStyle {
    escape_html: true,
    pretty: true,
};
const RAW: JsonStyle = JsonStyle {
    escape_html: false,
    pretty: false,
};

fn json_text(args: &[Value], style: JsonStyle) -> Result<String, String> {
    json::encode(&arg(args, 0), style).map(|s| s.to_string())
}

fn to_json(args: &[Value]) -> Result<Value, String> {
    swallow(json_text(args, COMPACT), |_| String::new())
}

fn must_to_json(args: &[Value]) -> Result<Value, String> {
    json_text(args, COMPACT).map(Value::str)
}

fn to_pretty_json(args: &[Value]) -> Result<Value, String> {
    swallow(json_text(args, PRETTY), |_| String::new())
}

fn must_to_pretty_json(args: &[Value]) -> Result<Value, String> {
    json_text(args, PRETTY).map(Value::str)
}

/// `toRawJson` and `mustToRawJson` both fail on error (sprig's `toRawJson` panics).
fn to_raw_json(args: &[Value]) -> Result<Value, String> {
    json_text(args, RAW).map(Value::str)
}

/// Helm's `fromJson`: a map, with the decoding error under `Error`.
fn from_json(args: &[Value]) -> Result<Value, String> {
    let error_map = |e: String, mut m: Map| {
        m.insert("Error".into(), Value::str(e));
        Value::map(m)
    };
    Ok(match json_read::decode(&str_arg(args)) {
        Err(e) => error_map(e, Map::new()),
        // `null` makes Go's map nil, which has no other form here.
        Ok((Value::Nil, None)) => Value::Nil,
        Ok((Value::Map(m), soft)) => match soft {
            None => Value::Map(m),
            Some(e) => error_map(e, m.borrow().clone()),
        },
        Ok((other, _)) => error_map(
            format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            ),
            Map::new(),
        ),
    })
}

/// Helm's `fromJsonArray`: a list, or a list holding only the error.
fn from_json_array(args: &[Value]) -> Result<Value, String> {
    Ok(match json_read::decode(&str_arg(args)) {
        Err(e) | Ok((_, Some(e))) => Value::list(vec![Value::str(e)]),
        Ok((Value::Nil, None)) => Value::Nil,
        Ok((v @ Value::List(_), None)) => v,
        Ok((other, None)) => Value::list(vec![Value::str(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
    })
}

/// sprig's `mustFromJson`: any JSON value, or the error.
fn must_from_json(args: &[Value]) -> Result<Value, String> {
    match json_read::decode(&str_arg(args))? {
        (v, None) => Ok(v),
        (_, Some(e)) => Err(e),
    }
}

/// `toToml`: the encoder's error text in place of the document.
fn to_toml(args: &[Value]) -> Result<Value, String> {
    match toml::encode(&arg(args, 0)) {
        Ok(s) => Ok(Value::str(s.as_str())),
        Err(e) if e.contains(UNSUPPORTED) => Err(e),
        Err(e) => Ok(Value::str(e)),
    }
}

fn must_to_toml(args: &[Value]) -> Result<Value, String> {
    toml::encode(&arg(args, 0)).map(|s| Value::str(s.as_str()))
}

const ANY: &[Ty] = &[Ty::Any];
const STRING: &[Ty] = &[Ty::String];

fn func(params: &'static [Ty], call: fn(&[Value]) -> Result<Value, String>) -> Func {
    Func {
        params,
        variadic: None,
        call,
    }
}

/// The functions, named as Helm names them: `toYaml`, `mustToYaml`, `fromYaml`,
/// `fromYamlArray`, `toJson`, `mustToJson`, `toPrettyJson`, `mustToPrettyJson`, `toRawJson`,
/// `mustToRawJson`, `fromJson`, `fromJsonArray`, `mustFromJson`, `toToml`,
/// `mustToToml`. (`fromToml` is not provided yet.)
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    m.insert("toYaml", func(ANY, to_yaml));
    m.insert("mustToYaml", func(ANY, must_to_yaml));
    m.insert("fromYaml", func(STRING, from_yaml));
    m.insert("fromYamlArray", func(STRING, from_yaml_array_fn));
    m.insert("toJson", func(ANY, to_json));
    m.insert("mustToJson", func(ANY, must_to_json));
    m.insert("toPrettyJson", func(ANY, to_pretty_json));
    m.insert("mustToPrettyJson", func(ANY, must_to_pretty_json));
    m.insert("toRawJson", func(ANY, to_raw_json));
    m.insert("mustToRawJson", func(ANY, to_raw_json));
    m.insert("fromJson", func(STRING, from_json));
    m.insert("fromJsonArray", func(STRING, from_json_array));
    m.insert("mustFromJson", func(STRING, must_from_json));
    m.insert("toToml", func(ANY, to_toml));
    m.insert("mustToToml", func(ANY, must_to_toml));
    m
}
