//! `vars` (`$(NAME)` substitution at the var-reference fields) and `replacements`
//! (copying a field of one resource into fields of others).

use serde_json::Value;

use super::KustomizeError;
use super::fieldspec::{self, Config};
use super::resource::{Gvk, ResMap};
use super::transform::select;

/// Reads a var's `fieldpath` (`spec.containers[0].image`) from a value.
fn get_field(v: &Value, path: &str) -> Option<Value> {
    let mut cur = v;
    for seg in split_dots(path) {
        let (key, idx) = match seg.find('[') {
            Some(i) if seg.ends_with(']') => (&seg[..i], seg[i + 1..seg.len() - 1].parse::<usize>().ok()),
            _ => (seg.as_str(), None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(i) = idx {
            cur = cur.get(i)?;
        }
    }
    Some(cur.clone())
}

/// Splits `s` on `sep` where it is not inside an `open`/`close` pair.
pub(super) fn split_outside(s: &str, sep: char, open: char, close: char) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for c in s.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
        } else if c == sep && depth == 0 {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Splits on dots outside brackets.
fn split_dots(path: &str) -> Vec<String> {
    split_outside(path, '.', '[', ']')
}

fn expand(s: &str, vars: &[(String, Value)], used: &mut Vec<String>) -> Option<Value> {
    // A field that is exactly one var keeps the var's type.
    for (n, v) in vars {
        if s == format!("$({n})") {
            used.push(n.clone());
            return Some(v.clone());
        }
    }
    if !s.contains("$(") {
        return None;
    }
    let mut out = String::new();
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
            changed = true;
            continue;
        }
        if let Some(body) = after.strip_prefix('(')
            && let Some(end) = body.find(')')
        {
            let name = &body[..end];
            if let Some((_, v)) = vars.iter().find(|(n, _)| n == name) {
                used.push(name.to_string());
                match v {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                rest = &body[end + 1..];
                changed = true;
                continue;
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    changed.then_some(Value::String(out))
}

fn substitute(node: &mut Value, vars: &[(String, Value)], used: &mut Vec<String>) {
    match node {
        Value::String(s) => {
            if let Some(v) = expand(s, vars, used) {
                *node = v;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, vars, used)),
        Value::Object(m) => m.values_mut().for_each(|v| substitute(v, vars, used)),
        _ => {}
    }
}

/// Marks the resource a var refers to, among the resources accumulated where it is
/// declared (as kustomize does; more than one match is an error).
pub fn mark_var(rm: &mut ResMap, v: &Value) -> Result<(), KustomizeError> {
    let name = v.get("name").and_then(|x| x.as_str()).unwrap_or("").to_string();
    let obj = v.get("objref").cloned().unwrap_or(Value::Null);
    let s = |k: &str| obj.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let gvk = if s("apiVersion").is_empty() {
        Gvk {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
        }
    } else {
        Gvk::new(&s("apiVersion"), &s("kind"))
    };
    let (oname, ons) = (s("name"), s("namespace"));
    let target = super::resource::ResId {
        gvk: gvk.clone(),
        name: oname.clone(),
        namespace: ons.clone(),
    };
    let strict_ns = !ons.is_empty() || gvk.is_cluster_scoped();
    let hits: Vec<usize> = rm
        .list
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let mut ids = r.prev.clone();
            ids.push(r.cur_id());
            ids.iter()
                .any(|id| id.gvk == gvk && id.name == oname && (!strict_ns || id.ns_equals(&target)))
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [i] => {
            rm.list[*i].vars.push(name);
            Ok(())
        }
        [] => Ok(()),
        _ => Err(KustomizeError::msg(format!(
            "found {} resId matches for var {name} (unable to disambiguate)",
            hits.len()
        ))),
    }
}

/// Resolves `vars` against the final resources and substitutes them.
pub fn resolve_vars(rm: &mut ResMap, vars: &[Value], config: &Config) -> Result<(), KustomizeError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values = Vec::new();
    for v in vars {
        let name = v.get("name").and_then(|x| x.as_str()).unwrap_or("").to_string();
        let field = v
            .pointer("/fieldref/fieldpath")
            .and_then(|x| x.as_str())
            .unwrap_or("metadata.name")
            .to_string();
        let r = rm.list.iter().find(|r| r.vars.contains(&name)).ok_or_else(|| {
            KustomizeError::msg(format!(
                "var '{name}' cannot be mapped to a field in the set of known resources"
            ))
        })?;
        let value = get_field(r.v(), &field).ok_or_else(|| {
            KustomizeError::msg(format!(
                "field specified in var '{name}' ({field}) not found in corresponding resource"
            ))
        })?;
        values.push((name, value));
    }
    let mut used = Vec::new();
    for r in &mut rm.list {
        let gvk = r.gvk();
        for fs in &config.var_reference {
            if !gvk.selected_by(&fs.gvk) {
                continue;
            }
            fieldspec::apply(r.v_mut(), &fs.segments(), None, &mut |node| {
                substitute(node, &values, &mut used);
                Ok(())
            })?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- replacements

enum Seg {
    Key(String),
    Match(String, String),
    Index(usize),
    All,
}

fn parse_path(path: &str) -> Vec<Seg> {
    split_dots(path)
        .into_iter()
        .map(|s| {
            if s == "*" {
                Seg::All
            } else if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                match inner.split_once('=') {
                    Some((k, v)) => Seg::Match(k.to_string(), v.to_string()),
                    None => Seg::Key(inner.to_string()),
                }
            } else if let Ok(i) = s.parse::<usize>() {
                Seg::Index(i)
            } else {
                Seg::Key(s)
            }
        })
        .collect()
}

/// Visits every node at `path`, creating missing map fields when `create`.
fn visit(
    v: &mut Value,
    path: &[Seg],
    create: bool,
    f: &mut dyn FnMut(&mut Value) -> Result<(), KustomizeError>,
) -> Result<usize, KustomizeError> {
    let Some((seg, rest)) = path.split_first() else {
        f(v)?;
        return Ok(1);
    };
    match seg {
        Seg::Key(k) => {
            if v.is_null() && create {
                *v = Value::Object(serde_json::Map::new());
            }
            match v {
                Value::Object(m) => {
                    if !m.contains_key(k) {
                        if !create {
                            return Ok(0);
                        }
                        m.insert(k.clone(), Value::Null);
                    }
                    visit(m.get_mut(k).expect("present"), rest, create, f)
                }
                _ => Ok(0),
            }
        }
        Seg::Index(i) => match v {
            Value::Array(a) => match a.get_mut(*i) {
                Some(x) => visit(x, rest, create, f),
                None => Ok(0),
            },
            _ => Ok(0),
        },
        Seg::Match(k, want) => match v {
            Value::Array(a) => {
                let mut n = 0;
                for x in a.iter_mut() {
                    let hit = match x.get(k) {
                        Some(Value::String(s)) => s == want,
                        Some(other) => *other.to_string() == **want,
                        None => false,
                    };
                    if hit {
                        n += visit(x, rest, create, f)?;
                    }
                }
                Ok(n)
            }
            _ => Ok(0),
        },
        Seg::All => {
            let mut n = 0;
            match v {
                Value::Array(a) => {
                    for x in a.iter_mut() {
                        n += visit(x, rest, create, f)?;
                    }
                }
                Value::Object(m) => {
                    for x in m.values_mut() {
                        n += visit(x, rest, create, f)?;
                    }
                }
                _ => {}
            }
            Ok(n)
        }
    }
}

fn delimited(value: &Value, opts: Option<&Value>) -> Result<Value, KustomizeError> {
    let delim = opts
        .and_then(|o| o.get("delimiter"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if delim.is_empty() {
        return Ok(value.clone());
    }
    let idx = opts.and_then(|o| o.get("index")).and_then(|v| v.as_i64()).unwrap_or(0);
    let s = value.as_str().unwrap_or("");
    let parts: Vec<&str> = s.split(delim).collect();
    if idx < 0 || idx as usize >= parts.len() {
        return Err(KustomizeError::msg(format!(
            "options.index {idx} is out of bounds for the source value ({} parts with this delimiter)",
            parts.len()
        )));
    }
    Ok(Value::String(parts[idx as usize].to_string()))
}

/// Applies `replacements`.
pub fn replacements(rm: &mut ResMap, list: &[Value]) -> Result<(), KustomizeError> {
    for r in list {
        let src = r
            .get("source")
            .ok_or_else(|| KustomizeError::msg("replacement has no source".into()))?;
        let hits = select(rm, src)?;
        let i = match hits.as_slice() {
            [i] => *i,
            [] => {
                return Err(KustomizeError::msg(format!(
                    "nothing selected by replacement source {}",
                    crate::kustomize::replace::show_sel(src)
                )));
            }
            _ => {
                return Err(KustomizeError::msg(format!(
                    "multiple matches for selector {}",
                    show_sel(src)
                )));
            }
        };
        let fp = src.get("fieldPath").and_then(|v| v.as_str()).unwrap_or("metadata.name");
        let mut found = None;
        let mut probe = rm.list[i].obj.clone();
        visit(&mut probe.0, &parse_path(fp), false, &mut |n| {
            if found.is_none() {
                found = Some(n.clone());
            }
            Ok(())
        })?;
        let value = found.ok_or_else(|| {
            KustomizeError::msg(format!(
                "fieldPath `{fp}` is missing for replacement source {}",
                rm.list[i].cur_id().display()
            ))
        })?;
        let value = delimited(&value, src.get("options"))?;
        let targets = match r.get("targets") {
            Some(Value::Array(t)) => t.clone(),
            _ => Vec::new(),
        };
        for t in targets {
            let sel = t
                .get("select")
                .cloned()
                .unwrap_or(Value::Object(serde_json::Map::new()));
            let mut chosen = select(rm, &sel)?;
            if let Some(Value::Array(rejects)) = t.get("reject") {
                for rj in rejects {
                    let out = select(rm, rj)?;
                    chosen.retain(|c| !out.contains(c));
                }
            }
            let opts = t.get("options");
            let create = opts
                .and_then(|o| o.get("create"))
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let delim = opts
                .and_then(|o| o.get("delimiter"))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let idx = opts.and_then(|o| o.get("index")).and_then(|v| v.as_i64()).unwrap_or(0);
            let paths: Vec<String> = match t.get("fieldPaths") {
                Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
                _ => vec!["metadata.name".into()],
            };
            for c in chosen {
                for p in &paths {
                    let n = visit(rm.list[c].v_mut(), &parse_path(p), create, &mut |node| {
                        if delim.is_empty() {
                            *node = value.clone();
                            return Ok(());
                        }
                        let cur = node.as_str().unwrap_or("").to_string();
                        let mut parts: Vec<String> = cur.split(delim.as_str()).map(String::from).collect();
                        let v = value.as_str().map(String::from).unwrap_or_else(|| value.to_string());
                        if idx < 0 {
                            parts.insert(0, v);
                        } else if idx as usize >= parts.len() {
                            parts.push(v);
                        } else {
                            parts[idx as usize] = v;
                        }
                        *node = Value::String(parts.join(&delim));
                        Ok(())
                    })?;
                    if n == 0 && !create {
                        return Err(KustomizeError::msg(format!(
                            "unable to find field \"{p}\" in replacement target {}",
                            rm.list[c].cur_id().display()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

fn show_sel(v: &Value) -> String {
    let g = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    format!("{}/{} {}", g("kind"), g("namespace"), g("name"))
}
