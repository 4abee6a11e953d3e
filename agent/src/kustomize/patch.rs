//! Patches: strategic merge (with the merge keys of the built-in types, `$patch`
//! directives, `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`) and RFC 6902
//! JSON patches.

use serde_json::{Map, Value};

use super::KustomizeError;

/// What a strategic-merge patch did to the whole resource.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The resource was patched in place.
    Patched,
    /// The patch says `$patch: delete`: the resource goes.
    Deleted,
}

/// Merge keys of list fields in the built-in types. `parent_kind` is the resource kind.
fn merge_key(kind: &str, path: &[String], field: &str, builtin: bool) -> Option<ListStrategy> {
    if !builtin {
        return None;
    }
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => "name",
        "ports" => {
            let in_service = kind == "Service" && path.len() == 1 && path[0] == "spec";
            if in_service { "port" } else { "containerPort" }
        }
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ownerReferences" => "uid",
        "conditions" => "type",
        "finalizers" if path.len() == 1 && path[0] == "metadata" => return Some(ListStrategy::PrimitiveMerge),
        _ => return Some(ListStrategy::Replace),
    };
    Some(ListStrategy::Key(key.to_string()))
}

fn custom_strategy(node: Option<&Value>) -> ListStrategy {
    let Some(n) = node else { return ListStrategy::Replace };
    let merge = n
        .get("x-kubernetes-patch-strategy")
        .and_then(|v| v.as_str())
        .is_some_and(|s| s.split(',').any(|p| p == "merge"));
    if !merge {
        return ListStrategy::Replace;
    }
    match n.get("x-kubernetes-patch-merge-key").and_then(|v| v.as_str()) {
        Some(k) => ListStrategy::Key(k.to_string()),
        None => ListStrategy::PrimitiveMerge,
    }
}

#[derive(Debug, Clone)]
enum ListStrategy {
    Replace,
    PrimitiveMerge,
    Key(String),
}

struct Ctx<'a> {
    kind: &'a str,
    builtin: bool,
    /// A custom OpenAPI schema: its definitions and the resource type's definition.
    schema: Option<(&'a Map<String, Value>, &'a Value)>,
}

/// A custom OpenAPI schema (the `openapi.path` of a kustomization): merge keys of types
/// outside the built-in schema.
pub struct Schema {
    definitions: Map<String, Value>,
}

impl Schema {
    /// From a swagger document (`definitions`).
    pub fn new(doc: &Value) -> Schema {
        Schema {
            definitions: doc
                .get("definitions")
                .and_then(|d| d.as_object())
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn definition(&self, group: &str, version: &str, kind: &str) -> Option<&Value> {
        self.definitions.values().find(|d| {
            d.get("x-kubernetes-group-version-kind")
                .and_then(|g| g.as_array())
                .is_some_and(|gs| {
                    gs.iter().any(|g| {
                        let f = |k: &str| g.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        f("group") == group && f("version") == version && f("kind") == kind
                    })
                })
        })
    }
}

fn deref<'a>(defs: &'a Map<String, Value>, mut node: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match node.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => match defs.get(r.trim_start_matches("#/definitions/")) {
                Some(d) => node = d,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

/// The schema of the field at `path` (list levels walked through `items`).
fn schema_at<'a>(defs: &'a Map<String, Value>, root: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = deref(defs, root);
    for seg in path {
        if node.get("type").and_then(|t| t.as_str()) == Some("array") {
            node = deref(defs, node.get("items")?);
        }
        node = deref(defs, node.get("properties")?.get(seg)?);
    }
    Some(node)
}

/// Applies a strategic-merge patch to `dst`.
pub fn strategic_merge(
    dst: &mut Value,
    patch: &Value,
    gvk: (&str, &str, &str),
    builtin: bool,
    schema: Option<&Schema>,
) -> Result<Outcome, KustomizeError> {
    let (group, version, kind) = gvk;
    let schema = schema.and_then(|s| s.definition(group, version, kind).map(|d| (&s.definitions, d)));
    let ctx = Ctx { kind, builtin, schema };
    if let Some(d) = patch.get("$patch").and_then(|v| v.as_str()) {
        match d {
            "delete" => return Ok(Outcome::Deleted),
            "replace" => {
                let mut p = patch.clone();
                if let Value::Object(m) = &mut p {
                    m.remove("$patch");
                }
                *dst = p;
                return Ok(Outcome::Patched);
            }
            "merge" => {}
            other => {
                return Err(KustomizeError::msg(format!(
                    "unknown patch directive `$patch: {other}`"
                )));
            }
        }
    }
    let mut path = Vec::new();
    merge_value(dst, patch, &ctx, &mut path)?;
    Ok(Outcome::Patched)
}

fn merge_value(dst: &mut Value, patch: &Value, ctx: &Ctx, path: &mut Vec<String>) -> Result<(), KustomizeError> {
    match patch {
        Value::Object(pm) => {
            if let Some(d) = pm.get("$patch").and_then(|v| v.as_str()) {
                match d {
                    "replace" => {
                        let mut p = pm.clone();
                        p.remove("$patch");
                        *dst = clean(&Value::Object(p));
                        return Ok(());
                    }
                    "delete" => {
                        *dst = Value::Null;
                        return Ok(());
                    }
                    _ => {}
                }
            }
            if !dst.is_object() {
                *dst = Value::Object(Map::new());
            }
            let Value::Object(dm) = dst else { unreachable!() };
            merge_map(dm, pm, ctx, path)
        }
        Value::Array(_) => {
            // Only reached for list values without a field name context (top level).
            *dst = clean(patch);
            Ok(())
        }
        other => {
            *dst = other.clone();
            Ok(())
        }
    }
}

fn merge_map(
    dm: &mut Map<String, Value>,
    pm: &Map<String, Value>,
    ctx: &Ctx,
    path: &mut Vec<String>,
) -> Result<(), KustomizeError> {
    let retain: Option<Vec<String>> = pm
        .get("$retainKeys")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect());
    for (k, pv) in pm {
        if k == "$patch" || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(del)) = (dm.get_mut(field), pv.as_array()) {
                items.retain(|i| !del.contains(i));
            }
            continue;
        }
        if k.starts_with("$setElementOrder/") {
            continue;
        }
        if pv.is_null() {
            dm.remove(k);
            continue;
        }
        match pv {
            Value::Array(pitems) => {
                // Lists of types outside the built-in schema are replaced, as kustomize does,
                // unless a custom schema gives them a merge strategy.
                let strategy = match ctx.schema {
                    Some((defs, root)) => {
                        let mut full = path.clone();
                        full.push(k.clone());
                        custom_strategy(schema_at(defs, root, &full))
                    }
                    None => merge_key(ctx.kind, path, k, ctx.builtin).unwrap_or(ListStrategy::Replace),
                };
                let existing = dm.remove(k);
                let mut items = match existing {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                path.push(k.clone());
                let r = merge_list(&mut items, pitems, &strategy, ctx, path);
                path.pop();
                r?;
                if let Some(Value::Array(order)) = pm.get(&format!("$setElementOrder/{k}")) {
                    reorder(&mut items, order, &strategy);
                }
                // A list whose items were all deleted stays as an empty list only if the
                // patch did not delete them all through directives on a missing list.
                dm.insert(k.clone(), Value::Array(items));
            }
            Value::Object(_) => {
                let d = dm.entry(k.clone()).or_insert(Value::Null);
                path.push(k.clone());
                let r = merge_value(d, pv, ctx, path);
                path.pop();
                r?;
                if d.is_null() {
                    dm.remove(k);
                }
            }
            other => {
                dm.insert(k.clone(), other.clone());
            }
        }
    }
    if let Some(keep) = retain {
        dm.retain(|k, _| keep.contains(k));
    }
    Ok(())
}

fn merge_list(
    items: &mut Vec<Value>,
    patch: &[Value],
    strategy: &ListStrategy,
    ctx: &Ctx,
    path: &mut Vec<String>,
) -> Result<(), KustomizeError> {
    // `- $patch: replace` anywhere in the patch list replaces the whole list.
    if patch.iter().any(|p| {
        p.get("$patch").and_then(|v| v.as_str()) == Some("replace") && p.as_object().is_some_and(|m| m.len() == 1)
    }) {
        *items = patch
            .iter()
            .filter(|p| !(p.get("$patch").is_some() && p.as_object().is_some_and(|m| m.len() == 1)))
            .map(clean)
            .collect();
        return Ok(());
    }
    match strategy {
        ListStrategy::Replace => {
            *items = patch.iter().filter(|p| p.get("$patch").is_none()).map(clean).collect();
        }
        ListStrategy::PrimitiveMerge => {
            for p in patch {
                if !items.contains(p) {
                    items.push(p.clone());
                }
            }
        }
        ListStrategy::Key(key) => {
            let key = key.as_str();
            // kustomize (kyaml) orders the result: the patch's elements first, in patch order
            // (merged with their existing counterparts), then the untouched existing ones.
            let mut rest = std::mem::take(items);
            let mut out = Vec::new();
            for p in patch {
                let Some(pk) = p.get(key) else {
                    if p.is_object() && p.get("$patch").is_none() {
                        out.push(clean(p));
                    }
                    continue;
                };
                let pos = rest.iter().position(|i| i.get(key) == Some(pk));
                let directive = p.get("$patch").and_then(|v| v.as_str());
                match (pos, directive) {
                    (Some(i), Some("delete")) => {
                        rest.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), Some("replace")) => {
                        rest.remove(i);
                        let mut c = p.clone();
                        if let Value::Object(m) = &mut c {
                            m.remove("$patch");
                        }
                        out.push(clean(&c));
                    }
                    (Some(i), _) => {
                        let mut existing = rest.remove(i);
                        merge_value(&mut existing, p, ctx, path)?;
                        out.push(existing);
                    }
                    (None, _) => {
                        if let Some(j) = out.iter().position(|i| i.get(key) == Some(pk)) {
                            merge_value(&mut out[j], p, ctx, path)?;
                        } else {
                            let mut fresh = Value::Null;
                            merge_value(&mut fresh, p, ctx, path)?;
                            out.push(fresh);
                        }
                    }
                }
            }
            out.extend(rest);
            *items = out;
        }
    }
    Ok(())
}

fn reorder(items: &mut Vec<Value>, order: &[Value], strategy: &ListStrategy) {
    let key_of = |v: &Value| -> Option<Value> {
        match strategy {
            ListStrategy::Key(k) => v.get(k.as_str()).cloned(),
            _ => Some(v.clone()),
        }
    };
    let wanted: Vec<Value> = order.iter().filter_map(key_of).collect();
    let mut rest = std::mem::take(items);
    for w in &wanted {
        if let Some(i) = rest.iter().position(|x| key_of(x).as_ref() == Some(w)) {
            items.push(rest.remove(i));
        }
    }
    items.extend(rest);
}

/// A patch value as it lands where nothing was: directives and nulls removed.
fn clean(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|i| i.get("$patch").and_then(|x| x.as_str()) != Some("delete"))
                .map(clean)
                .collect(),
        ),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------- JSON patch

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

fn pointer_parts(path: &str) -> Result<Vec<String>, KustomizeError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| KustomizeError::msg(format!("JSON patch path `{path}` must start with `/`")))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn parent<'a>(doc: &'a mut Value, parts: &[String], path: &str) -> Result<&'a mut Value, KustomizeError> {
    let mut cur = doc;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(p),
            Value::Array(a) => p.parse::<usize>().ok().and_then(move |i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| KustomizeError::msg(format!("doc is missing path: {path}")))?;
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, parts: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get(p)?,
            Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), KustomizeError> {
    let parts = pointer_parts(path)?;
    let Some((last, head)) = parts.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, head, path)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| KustomizeError::msg(format!("invalid array index in JSON patch path {path}")))?;
            if i > a.len() {
                return Err(KustomizeError::msg(format!(
                    "add operation index out of bounds: {path}"
                )));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(KustomizeError::msg(format!("doc is missing path: {path}"))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, KustomizeError> {
    let parts = pointer_parts(path)?;
    let Some((last, head)) = parts.split_last() else {
        return Err(KustomizeError::msg("cannot remove the whole document".to_string()));
    };
    let missing = || KustomizeError::msg(format!("remove operation does not apply: doc is missing path: {path}"));
    match parent(doc, head, path)? {
        Value::Object(m) => m.remove(last).ok_or_else(missing),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i >= a.len() {
                return Err(missing());
            }
            Ok(a.remove(i))
        }
        _ => Err(missing()),
    }
}

/// Applies an RFC 6902 patch (a list of operations).
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), KustomizeError> {
    let Value::Array(ops) = ops else {
        return Err(KustomizeError::msg(
            "a JSON patch must be a list of operations".to_string(),
        ));
    };
    for op in ops {
        let name = op.get("op").and_then(|v| v.as_str()).unwrap_or("");
        let path = op
            .get("path")
            .and_then(|v| v.as_str())
            .ok_or_else(|| KustomizeError::msg(format!("JSON patch operation `{name}` has no path")))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| KustomizeError::msg(format!("JSON patch operation `{name}` at {path} has no value")))
        };
        let from = || {
            op.get("from")
                .and_then(|v| v.as_str())
                .ok_or_else(|| KustomizeError::msg(format!("JSON patch operation `{name}` at {path} has no from")))
        };
        match name {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                let parts = pointer_parts(path)?;
                if get(doc, &parts).is_none() {
                    return Err(KustomizeError::msg(format!(
                        "replace operation does not apply: doc is missing key: {path}"
                    )));
                }
                let v = value()?;
                match parts.split_last() {
                    None => *doc = v,
                    Some((last, head)) => match parent(doc, head, path)? {
                        Value::Object(m) => {
                            m.insert(last.clone(), v);
                        }
                        Value::Array(a) => {
                            let i: usize = last.parse().unwrap_or(usize::MAX);
                            if let Some(slot) = a.get_mut(i) {
                                *slot = v;
                            }
                        }
                        _ => {}
                    },
                }
            }
            "move" => {
                let v = remove(doc, from()?)?;
                add(doc, path, v)?;
            }
            "copy" => {
                let f = pointer_parts(from()?)?;
                let v = get(doc, &f).cloned().ok_or_else(|| {
                    KustomizeError::msg(format!(
                        "copy operation does not apply: doc is missing from path: {}",
                        from().unwrap_or("")
                    ))
                })?;
                add(doc, path, v)?;
            }
            "test" => {
                let parts = pointer_parts(path)?;
                if get(doc, &parts) != Some(&value()?) {
                    return Err(KustomizeError::msg(format!("testing value {path} failed: test failed")));
                }
            }
            other => {
                return Err(KustomizeError::msg(format!(
                    "unexpected JSON patch operation `{other}`"
                )));
            }
        }
    }
    Ok(())
}
