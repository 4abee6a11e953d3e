//! The YAML reading the chart loader needs, over [`crate::goyaml`] (Helm's YAML 1.1 rules).

use crate::gotemplate::value::{Map, Value};

/// One YAML document as Helm decodes it.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    crate::goyaml::from_yaml(text).map_err(|e| e.to_string())
}

/// `values.yaml`: every document (split at `---` lines as Kubernetes' YAML reader splits
/// them) decoded as a map, later documents merged over earlier ones.
pub(crate) fn load_values(text: &str) -> Result<Map, String> {
    let mut out = Map::new();
    for doc in split_documents(text) {
        let m = match parse(&doc)? {
            Value::Nil => Map::new(),
            Value::Map(m) => m.borrow().clone(),
            other => {
                return Err(format!(
                    "cannot unmarshal yaml document: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    match other {
                        Value::List(_) => "array",
                        Value::Str(_) => "string",
                        Value::Bool(_) => "bool",
                        _ => "number",
                    }
                ));
            }
        };
        merge_maps(&mut out, m);
    }
    Ok(out)
}

fn merge_maps(a: &mut Map, b: Map) {
    for (k, v) in b {
        if let (Value::Map(bv), Some(Value::Map(av))) = (&v, a.get(&k)) {
            let mut merged = av.borrow().clone();
            merge_maps(&mut merged, bv.borrow().clone());
            a.insert(k, Value::map(merged));
            continue;
        }
        a.insert(k, v);
    }
}

/// Splits a YAML stream at lines that are `---` followed by nothing but blanks or a comment.
pub(crate) fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                docs.push(std::mem::take(&mut cur));
                continue;
            }
        }
        cur.push_str(line);
    }
    docs.push(cur);
    docs
}
