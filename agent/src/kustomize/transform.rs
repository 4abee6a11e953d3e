//! The built-in transformers, run in kustomize's order: strategic-merge patches, patches,
//! namespace, prefix, suffix, labels, annotations, JSON 6902 patches, replicas, images,
//! replacements — and the same transformers configured as `transformers:` plugins. Plus the
//! name-reference fix-up that runs once at the end of a build.

use std::path::Path;

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::fieldspec::{self, Config, Create, FieldSpec};
use super::patch::{self, Outcome};
use super::resource::{Gvk, Res, ResId, ResMap};
use super::{Acc, KustomizeError, Kustomizer, replace, str_list};

/// Sets `key: value` in the map at `path` (created when missing).
pub fn set_map_entry(v: &mut Value, path: &[&str], key: &str, value: &str) {
    let mut cur = v;
    for p in path {
        let Value::Object(m) = cur else { return };
        cur = m.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
    }
    if let Value::Object(m) = cur {
        m.insert(key.to_string(), Value::String(value.to_string()));
    }
}

fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

fn specs(v: &Value) -> Result<Vec<FieldSpec>, KustomizeError> {
    match v.get("fieldSpecs") {
        Some(Value::Array(a)) => a.iter().map(FieldSpec::from_json).collect(),
        _ => Ok(Vec::new()),
    }
}

/// Adds labels or annotations at the field specs.
fn add_map_entries(rm: &mut ResMap, pairs: &[(String, String)], fs: &[FieldSpec]) -> Result<(), KustomizeError> {
    if pairs.is_empty() {
        return Ok(());
    }
    for r in &mut rm.list {
        let gvk = r.gvk();
        fieldspec::apply_all(r.v_mut(), &gvk, fs, Some(Create::Map), &mut |node| {
            if node.is_null() {
                *node = Value::Object(Map::new());
            }
            match node {
                Value::Object(m) => {
                    for (k, v) in pairs {
                        m.insert(k.clone(), Value::String(v.clone()));
                    }
                    Ok(())
                }
                _ => Err(KustomizeError::msg("expected a mapping".into())),
            }
        })?;
    }
    Ok(())
}

const SKIP_PREFIX: &[(&str, &str)] = &[
    ("", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("", "Namespace"),
];

fn prefix_suffix(rm: &mut ResMap, prefix: &str, suffix: &str, fs: &[FieldSpec]) -> Result<(), KustomizeError> {
    for r in &mut rm.list {
        let org = r.org_id();
        if SKIP_PREFIX
            .iter()
            .any(|(g, k)| org.gvk.kind == *k && (g.is_empty() || org.gvk.group == *g))
        {
            continue;
        }
        for f in fs {
            if !org.gvk.selected_by(&f.gvk) {
                continue;
            }
            if f.path == "metadata/name" {
                if !prefix.is_empty() {
                    r.prefixes.push(prefix.to_string());
                }
                if !suffix.is_empty() {
                    r.suffixes.push(suffix.to_string());
                }
                if !prefix.is_empty() || !suffix.is_empty() {
                    r.store_prev();
                }
            }
            let segs = f.segments();
            fieldspec::apply(r.v_mut(), &segs, None, &mut |node| {
                if let Value::String(s) = node {
                    *s = format!("{prefix}{s}{suffix}");
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn set_namespace(
    rm: &mut ResMap,
    ns: &str,
    fs: &[FieldSpec],
    unset_only: bool,
    subjects: &str,
) -> Result<(), KustomizeError> {
    let setter = |node: &mut Value| -> Result<(), KustomizeError> {
        match node {
            Value::String(s) if unset_only && !s.is_empty() => {}
            Value::String(_) | Value::Null => *node = Value::String(ns.to_string()),
            _ => {
                return Err(KustomizeError::msg(
                    "namespace field specs must target scalar nodes".into(),
                ));
            }
        }
        Ok(())
    };
    for i in 0..rm.list.len() {
        let r = &mut rm.list[i];
        r.store_prev();
        let gvk = r.gvk();
        if !gvk.is_cluster_scoped() {
            let mut s = setter;
            fieldspec::apply(
                r.v_mut(),
                &["metadata".into(), "namespace".into()],
                Some(Create::Scalar),
                &mut s,
            )?;
        }
        if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
            && let Some(Value::Array(subs)) = r.v_mut().get_mut("subjects")
        {
            for s in subs.iter_mut() {
                let hit = match subjects {
                    "none" => false,
                    "allServiceAccounts" => s.get("kind").and_then(|k| k.as_str()) == Some("ServiceAccount"),
                    "" | "defaultOnly" => s.get("name").and_then(|k| k.as_str()) == Some("default"),
                    other => {
                        return Err(KustomizeError::msg(format!(
                            "invalid value \"{other}\" for setRoleBindingSubjects"
                        )));
                    }
                };
                if hit && let Value::Object(m) = s {
                    let e = m.entry("namespace").or_insert(Value::Null);
                    setter(e)?;
                }
            }
        }
        let api_v1 = r.obj.api_version() == "v1";
        let specs: Vec<FieldSpec> = fs
            .iter()
            .filter(|f| f.path != "metadata/namespace" && (api_v1 || f.path != "metadata/name"))
            .filter(|f| {
                !((f.gvk.kind == "RoleBinding" || f.gvk.kind == "ClusterRoleBinding") && f.path == "subjects/namespace")
            })
            .cloned()
            .collect();
        let mut s = setter;
        fieldspec::apply_all(r.v_mut(), &gvk, &specs, Some(Create::Scalar), &mut s)
            .map_err(|e| e.context("namespace transformation failed"))?;
    }
    let mut seen = std::collections::HashSet::new();
    for r in &rm.list {
        let id = r.cur_id();
        if !seen.insert((id.gvk.clone(), id.name.clone(), id.effective_ns().to_string())) {
            return Err(KustomizeError::msg(format!(
                "namespace transformation produces ID conflict: {}",
                id.display()
            )));
        }
    }
    Ok(())
}

/// kustomize's pattern for the image references an `images` entry name matches (the name is
/// used as a regular expression, as kustomize does; one that does not compile matches nothing).
fn image_pattern(name: &str) -> Option<Regex> {
    Regex::new(&format!(
        "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
    ))
    .ok()
}

fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|i| *i > 0).unwrap_or(0);
    let search = &image[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (id, ic) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (Some(d), c) if c.is_none_or(|c| d < c) => {
            let d = d + slash;
            (image[..d].to_string(), String::new(), image[d + 1..].to_string())
        }
        (Some(d), Some(c)) => {
            let (d, c) = (d + slash, c + slash);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (None, Some(c)) => {
            let c = c + slash;
            (image[..c].to_string(), image[c + 1..].to_string(), String::new())
        }
        _ => (image.to_string(), String::new(), String::new()),
    }
}

/// A field of a plugin configuration, matched case-insensitively as Go's JSON decoding does.
fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).or_else(|| {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn update_image(node: &mut Value, img: &Value, pattern: Option<&Regex>) {
    let Value::String(value) = node else { return };
    let g = |k: &str| get_ci(img, k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    if !pattern.is_some_and(|p| p.is_match(value)) {
        return;
    }
    let (mut name, mut tag, mut digest) = split_image(value);
    if !g("newName").is_empty() {
        name = g("newName");
    }
    let (new_tag, new_digest, suffix) = (g("newTag"), g("digest"), g("tagSuffix"));
    if !new_tag.is_empty() && !new_digest.is_empty() {
        tag = new_tag;
        digest = new_digest;
    } else if !new_tag.is_empty() {
        tag = new_tag;
        digest.clear();
    } else if !new_digest.is_empty() {
        tag.clear();
        digest = new_digest;
    } else if !suffix.is_empty() {
        tag.push_str(&suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    *value = name;
}

fn walk_containers(v: &mut Value, img: &Value, pattern: Option<&Regex>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                walk_containers(child, img, pattern);
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for it in items {
                        if let Some(image) = it.get_mut("image") {
                            update_image(image, img, pattern);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk_containers(i, img, pattern)),
        _ => {}
    }
}

fn images(rm: &mut ResMap, imgs: &[Value], fs: &[FieldSpec]) -> Result<(), KustomizeError> {
    for img in imgs {
        let name = get_ci(img, "name").and_then(|v| v.as_str()).unwrap_or("");
        let pattern = image_pattern(name);
        for r in &mut rm.list {
            if r.obj.kind() != "CustomResourceDefinition" {
                walk_containers(r.v_mut(), img, pattern.as_ref());
            }
            let gvk = r.gvk();
            fieldspec::apply_all(r.v_mut(), &gvk, fs, None, &mut |node| {
                if node.is_string() {
                    update_image(node, img, pattern.as_ref());
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn replicas(rm: &mut ResMap, reps: &[Value], fs: &[FieldSpec]) -> Result<(), KustomizeError> {
    for rep in reps {
        let name = rep.get("name").and_then(|v| v.as_str()).unwrap_or("");
        let count = rep.get("count").cloned().unwrap_or(Value::from(0));
        let mut found = false;
        for r in &mut rm.list {
            let (org, cur) = (r.org_id(), r.cur_id());
            if org.name != name && cur.name != name {
                continue;
            }
            let gvk = r.gvk();
            for f in fs {
                if !gvk.selected_by(&f.gvk) {
                    continue;
                }
                found = true;
                fieldspec::apply(
                    r.v_mut(),
                    &f.segments(),
                    f.create.then_some(Create::Scalar),
                    &mut |node| {
                        *node = count.clone();
                        Ok(())
                    },
                )?;
            }
        }
        if !found {
            return Err(KustomizeError::msg(format!(
                "resource with name {name} does not match a config with the following GVK {:?}",
                fs.iter().map(|f| f.gvk.display()).collect::<Vec<_>>()
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- selection

/// A Kubernetes label selector (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
fn selector_matches(sel: &str, labels: Option<&Map<String, Value>>) -> Result<bool, KustomizeError> {
    let get = |k: &str| labels.and_then(|m| m.get(k)).and_then(|v| v.as_str());
    let parts = replace::split_outside(sel, ',', '(', ')');
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let ok = if let Some((k, v)) = p.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = p.split_once("==") {
            get(k.trim()) == Some(v.trim())
        } else if let Some((k, v)) = p.split_once('=') {
            get(k.trim()) == Some(v.trim())
        } else if let Some(k) = p.strip_prefix('!') {
            get(k.trim()).is_none()
        } else if let Some((k, rest)) = p.split_once(" notin ") {
            let set = parse_set(rest)?;
            get(k.trim()).is_none_or(|v| !set.contains(&v.to_string()))
        } else if let Some((k, rest)) = p.split_once(" in ") {
            let set = parse_set(rest)?;
            get(k.trim()).is_some_and(|v| set.contains(&v.to_string()))
        } else {
            get(p).is_some()
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_set(s: &str) -> Result<Vec<String>, KustomizeError> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| KustomizeError::msg(format!("unable to parse requirement: found '{s}', expected: '('")))?;
    Ok(inner.split(',').map(|x| x.trim().to_string()).collect())
}

fn anchored(pat: &str) -> Result<Regex, KustomizeError> {
    Regex::new(&format!("^(?:{pat})$")).map_err(|e| KustomizeError::msg(format!("invalid selector regex '{pat}': {e}")))
}

/// Indices of the resources a patch/replacement `target` selects.
pub fn select(rm: &ResMap, t: &Value) -> Result<Vec<usize>, KustomizeError> {
    let g = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let sel_gvk = Gvk {
        group: g("group"),
        version: g("version"),
        kind: g("kind"),
    };
    let (name, ns) = (g("name"), g("namespace"));
    let name_re = if name.is_empty() { None } else { Some(anchored(&name)?) };
    let ns_re = if ns.is_empty() { None } else { Some(anchored(&ns)?) };
    let gvk_re =
        |sel: &str, v: &str| -> Result<bool, KustomizeError> { Ok(sel.is_empty() || anchored(sel)?.is_match(v)) };
    let mut out = Vec::new();
    for (i, r) in rm.list.iter().enumerate() {
        let (org, cur) = (r.org_id(), r.cur_id());
        if let Some(re) = &ns_re
            && !re.is_match(org.effective_ns())
            && !re.is_match(cur.effective_ns())
        {
            continue;
        }
        if let Some(re) = &name_re
            && !re.is_match(&org.name)
            && !re.is_match(&cur.name)
        {
            continue;
        }
        let gvk = r.gvk();
        if !gvk_re(&sel_gvk.group, &gvk.group)?
            || !gvk_re(&sel_gvk.version, &gvk.version)?
            || !gvk_re(&sel_gvk.kind, &gvk.kind)?
        {
            continue;
        }
        let ls = g("labelSelector");
        if !ls.is_empty() && !selector_matches(&ls, r.meta_map("labels"))? {
            continue;
        }
        let asel = g("annotationSelector");
        if !asel.is_empty() && !selector_matches(&asel, r.meta_map("annotations"))? {
            continue;
        }
        out.push(i);
    }
    Ok(out)
}

/// The resource a patch names (by any id it had), exactly one.
fn by_any_id(rm: &ResMap, id: &ResId) -> Result<usize, KustomizeError> {
    let hits: Vec<usize> = rm
        .list
        .iter()
        .enumerate()
        .filter(|(_, r)| r.had(id))
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => Err(KustomizeError::msg(format!(
            "no resource matches strategic merge patch \"{}\"",
            id.display()
        ))),
        _ => Err(KustomizeError::msg(format!(
            "multiple matches for Id {}; failed to find unique target for patch",
            id.display()
        ))),
    }
}

/// Applies a strategic-merge patch to resource `i`; removes it when the patch deletes it.
fn apply_smp(
    k: &Kustomizer<'_>,
    rm: &mut ResMap,
    i: usize,
    p: &Value,
    allow_name: bool,
    allow_kind: bool,
) -> Result<bool, KustomizeError> {
    let r = &mut rm.list[i];
    let (name, ns, kind) = (
        r.v().pointer("/metadata/name").cloned(),
        r.v().pointer("/metadata/namespace").cloned(),
        r.obj.kind().to_string(),
    );
    if allow_name || allow_kind {
        r.store_prev();
    }
    let gvk = r.gvk();
    let mut pp = p.clone();
    if let Value::Object(m) = &mut pp {
        m.remove("apiVersion");
        if !allow_kind {
            m.remove("kind");
        }
    }
    let schema = k
        .schema
        .lock()
        .map_err(|_| KustomizeError::msg("schema lock poisoned".into()))?;
    let outcome = patch::strategic_merge(
        r.v_mut(),
        &pp,
        (&gvk.group, &gvk.version, &kind),
        gvk.is_builtin(),
        schema.as_ref(),
    )?;
    drop(schema);
    if outcome == Outcome::Deleted || r.v().as_object().is_none_or(|m| m.is_empty()) {
        rm.list.remove(i);
        return Ok(false);
    }
    if !allow_name {
        match name {
            Some(n) => super::resource::set_meta(r.v_mut(), "name", n),
            None => super::resource::remove_meta(r.v_mut(), "name"),
        }
    }
    match ns {
        Some(n) => super::resource::set_meta(r.v_mut(), "namespace", n),
        None => super::resource::remove_meta(r.v_mut(), "namespace"),
    }
    if !allow_kind && let Value::Object(m) = r.v_mut() {
        m.insert("kind".into(), Value::String(kind));
    }
    Ok(true)
}

fn patch_id(p: &Value) -> ResId {
    let g = |ptr: &str| p.pointer(ptr).and_then(|v| v.as_str()).unwrap_or("").to_string();
    ResId {
        gvk: Gvk::new(&g("/apiVersion"), &g("/kind")),
        name: g("/metadata/name"),
        namespace: g("/metadata/namespace"),
    }
}

/// Applies one `patches` entry (text already loaded).
fn apply_patch_text(
    k: &Kustomizer<'_>,
    rm: &mut ResMap,
    source: &str,
    text: &str,
    target: Option<&Value>,
    options: Option<&Value>,
) -> Result<(), KustomizeError> {
    let docs = k.parse_docs(source, text.trim().as_bytes())?;
    let opt = |n: &str| {
        options
            .and_then(|o| o.get(n))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let (allow_name, allow_kind) = (opt("allowNameChange"), opt("allowKindChange"));
    if docs.is_empty() {
        return Err(KustomizeError::msg(format!(
            "unable to parse SM or JSON patch from {source}"
        )));
    }
    // A JSON patch: its first document (as kustomize converts YAML to JSON).
    if let Some(ops @ Value::Array(_)) = docs.first() {
        let Some(t) = target else {
            return Err(KustomizeError::msg(format!(
                "must specify a target for JSON patch {source}"
            )));
        };
        for i in select(rm, t)? {
            let r = &mut rm.list[i];
            r.store_prev();
            patch::json_patch(r.v_mut(), ops)
                .map_err(|e| e.context(format!("JSON patch {source} on {}", r.obj.id())))?;
        }
        return Ok(());
    }
    if docs.iter().any(|d| !d.is_object()) {
        return Err(KustomizeError::msg(format!(
            "unable to parse SM or JSON patch from {source}"
        )));
    }
    match target {
        Some(t) => {
            if docs.len() > 1 {
                return Err(KustomizeError::msg(format!(
                    "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {source}"
                )));
            }
            // Highest index first: a patch that deletes its target shifts no other target.
            let mut selected = select(rm, t)?;
            selected.sort_unstable();
            for i in selected.into_iter().rev() {
                apply_smp(k, rm, i, &docs[0], allow_name, allow_kind)?;
            }
        }
        None => {
            for d in &docs {
                let i = by_any_id(rm, &patch_id(d))?;
                apply_smp(k, rm, i, d, allow_name, allow_kind)?;
            }
        }
    }
    Ok(())
}

async fn patch_source(k: &Kustomizer<'_>, dir: &Path, p: &Value) -> Result<(String, String), KustomizeError> {
    let inline = get_ci(p, "patch").and_then(|v| v.as_str()).map(str::trim).unwrap_or("");
    let path = get_ci(p, "path").and_then(|v| v.as_str()).unwrap_or("");
    match (inline.is_empty(), path.is_empty()) {
        (true, true) => Err(KustomizeError::msg("must specify one of patch and path".into())),
        (false, false) => Err(KustomizeError::msg(
            "patch and path can't be set at the same time".into(),
        )),
        (false, true) => Ok(("inline patch".into(), inline.to_string())),
        (true, false) => {
            let bytes = k
                .read(dir, path)
                .await
                .map_err(|e| e.context(format!("failed to get the patch file from path({path})")))?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| KustomizeError::msg(format!("{path}: patch is not valid UTF-8")))?;
            Ok((path.to_string(), text))
        }
    }
}

async fn patches_strategic_merge(
    k: &Kustomizer<'_>,
    dir: &Path,
    entries: &[String],
    rm: &mut ResMap,
) -> Result<(), KustomizeError> {
    let mut patches = Vec::new();
    for e in entries {
        let looks_inline =
            e.contains('\n') || e.trim_start().starts_with("apiVersion") || e.trim_start().starts_with('{');
        let docs = if looks_inline {
            k.parse_docs("inline patch", e.as_bytes())?
        } else {
            let bytes = k.read(dir, e).await?;
            k.parse_docs(e, &bytes)?
        };
        patches.extend(docs);
    }
    for p in &patches {
        let i = by_any_id(rm, &patch_id(p))?;
        apply_smp(k, rm, i, p, false, false)?;
    }
    Ok(())
}

/// Runs the built-in transformers a kustomization configures, in kustomize's order.
pub(super) async fn run_builtin(
    k: &Kustomizer<'_>,
    dir: &Path,
    kz: &Value,
    acc: &mut Acc,
) -> Result<(), KustomizeError> {
    let config = acc.config().clone();
    let rm = &mut acc.res;
    let psm = str_list(kz, "patchesStrategicMerge");
    if !psm.is_empty() {
        patches_strategic_merge(k, dir, &psm, rm).await?;
        k.record_transformer(rm, dir, None, "PatchStrategicMergeTransformer", None);
    }
    if let Some(Value::Array(ps)) = kz.get("patches") {
        for p in ps {
            let (src, text) = patch_source(k, dir, p).await?;
            apply_patch_text(k, rm, &src, &text, p.get("target"), p.get("options"))?;
            k.record_transformer(rm, dir, None, "PatchTransformer", None);
        }
    }
    if let Some(ns) = kz.get("namespace").and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
        set_namespace(rm, ns, &config.namespace, false, "")?;
        k.record_transformer(rm, dir, None, "NamespaceTransformer", None);
    }
    let prefix = kz.get("namePrefix").and_then(|v| v.as_str()).unwrap_or("");
    if !prefix.is_empty() {
        prefix_suffix(rm, prefix, "", &config.name_prefix)?;
        k.record_transformer(rm, dir, None, "PrefixTransformer", None);
    }
    let suffix = kz.get("nameSuffix").and_then(|v| v.as_str()).unwrap_or("");
    if !suffix.is_empty() {
        prefix_suffix(rm, "", suffix, &config.name_suffix)?;
        k.record_transformer(rm, dir, None, "SuffixTransformer", None);
    }
    if let Some(Value::Array(labels)) = kz.get("labels") {
        for l in labels {
            let pairs = string_map(l.get("pairs"));
            let mut fs = match l.get("fields") {
                Some(Value::Array(a)) => a.iter().map(FieldSpec::from_json).collect::<Result<Vec<_>, _>>()?,
                _ => Vec::new(),
            };
            fieldspec::merge_all(&mut fs, &config.labels);
            if l.get("includeSelectors").and_then(|v| v.as_bool()).unwrap_or(false) {
                fieldspec::merge_all(&mut fs, &config.common_labels);
            } else {
                if l.get("includeTemplates").and_then(|v| v.as_bool()).unwrap_or(false) {
                    fieldspec::merge_all(&mut fs, &config.template_labels);
                }
                fieldspec::merge_all(
                    &mut fs,
                    &[FieldSpec {
                        gvk: Gvk::default(),
                        path: "metadata/labels".into(),
                        create: true,
                    }],
                );
            }
            add_map_entries(rm, &pairs, &fs)?;
            k.record_transformer(rm, dir, None, "LabelTransformer", None);
        }
    }
    let common = string_map(kz.get("commonLabels"));
    add_map_entries(rm, &common, &config.common_labels)?;
    if !common.is_empty()
        || kz
            .get("labels")
            .is_some_and(|l| l.as_array().is_some_and(|a| !a.is_empty()))
    {
        k.record_transformer(rm, dir, None, "LabelTransformer", None);
    }
    let annotations = string_map(kz.get("commonAnnotations"));
    if !annotations.is_empty() {
        add_map_entries(rm, &annotations, &config.common_annotations)?;
        k.record_transformer(rm, dir, None, "AnnotationsTransformer", None);
    }
    if let Some(Value::Array(ps)) = kz.get("patchesJson6902") {
        for p in ps {
            let Some(t) = p.get("target") else {
                return Err(KustomizeError::msg("patchesJson6902 entry without a target".into()));
            };
            let (src, text) = patch_source(k, dir, p).await?;
            let docs = k.parse_docs(&src, text.as_bytes())?;
            let Some(ops) = docs.first() else {
                return Err(KustomizeError::msg(format!("{src}: empty JSON patch")));
            };
            for i in select(rm, t)? {
                let r = &mut rm.list[i];
                r.store_prev();
                patch::json_patch(r.v_mut(), ops)
                    .map_err(|e| e.context(format!("JSON patch {src} on {}", r.obj.id())))?;
            }
            k.record_transformer(rm, dir, None, "PatchJson6902Transformer", None);
        }
    }
    if let Some(Value::Array(reps)) = kz.get("replicas") {
        for rep in reps {
            replicas(rm, std::slice::from_ref(rep), &config.replicas)?;
            k.record_transformer(rm, dir, None, "ReplicaCountTransformer", None);
        }
    }
    let mut imgs = match kz.get("images") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    if let Some(Value::Array(a)) = kz.get("imageTags") {
        imgs.extend(a.iter().cloned());
    }
    for img in &imgs {
        images(rm, std::slice::from_ref(img), &config.images)?;
        k.record_transformer(rm, dir, None, "ImageTagTransformer", None);
    }
    if let Some(Value::Array(reps)) = kz.get("replacements") {
        let list = load_replacements(k, dir, reps).await?;
        replace::replacements(rm, &list)?;
        k.record_transformer(rm, dir, None, "ReplacementTransformer", None);
    }
    Ok(())
}

/// Replacement entries, those given by `path` read from their files.
async fn load_replacements(k: &Kustomizer<'_>, dir: &Path, reps: &[Value]) -> Result<Vec<Value>, KustomizeError> {
    let mut list = Vec::new();
    for r in reps {
        match r.get("path").and_then(|v| v.as_str()) {
            Some(path) => {
                let bytes = k.read(dir, path).await?;
                for d in k.parse_docs(path, &bytes)? {
                    match d {
                        Value::Array(a) => list.extend(a),
                        other => list.push(other),
                    }
                }
            }
            None => list.push(r.clone()),
        }
    }
    Ok(list)
}

/// Runs one built-in plugin configuration (from `transformers:` or `generators:`).
pub(super) async fn run_plugin_config(
    k: &Kustomizer<'_>,
    dir: &Path,
    c: &Value,
    acc: &mut Acc,
    generator: bool,
    source_file: Option<&str>,
) -> Result<(), KustomizeError> {
    let api = c.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
    let kind = c.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if api != "builtin" {
        if generator || !kind.is_empty() {
            return Err(KustomizeError::msg(format!(
                "plugin {api}/{kind} is not a built-in plugin; external plugins and KRM functions are not supported by sigil-agent"
            )));
        }
        return Err(KustomizeError::msg(
            "plugin configuration without apiVersion/kind".into(),
        ));
    }
    let config = acc.config().clone();
    let rm = &mut acc.res;
    let s = |f: &str| c.get(f).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match kind {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            prefix_suffix(rm, &s("prefix"), &s("suffix"), &specs(c)?)?;
        }
        "LabelTransformer" => add_map_entries(rm, &string_map(c.get("labels")), &specs(c)?)?,
        "AnnotationsTransformer" => add_map_entries(rm, &string_map(c.get("annotations")), &specs(c)?)?,
        "NamespaceTransformer" => {
            let ns = c.pointer("/metadata/namespace").and_then(|v| v.as_str()).unwrap_or("");
            let unset_only = c.get("unsetOnly").and_then(|v| v.as_bool()).unwrap_or(false);
            let mut fs = specs(c)?;
            if fs.is_empty() {
                fs = config.namespace.clone();
            }
            set_namespace(rm, ns, &fs, unset_only, &s("setRoleBindingSubjects"))?;
        }
        "ImageTagTransformer" => {
            let img = c.get("imageTag").cloned().unwrap_or(Value::Null);
            images(rm, &[img], &specs(c)?)?;
        }
        "ReplicaCountTransformer" => {
            let rep = c.get("replica").cloned().unwrap_or(Value::Null);
            replicas(rm, &[rep], &specs(c)?)?;
        }
        "PatchTransformer" => {
            let (src, text) = patch_source(k, dir, c).await?;
            apply_patch_text(k, rm, &src, &text, c.get("target"), c.get("options"))?;
        }
        "PatchStrategicMergeTransformer" => {
            let mut entries = str_list(c, "paths");
            if let Some(p) = c
                .get("patches")
                .and_then(|v| v.as_str())
                .filter(|p| !p.trim().is_empty())
            {
                entries.push(p.to_string());
            }
            if entries.is_empty() {
                return Err(KustomizeError::msg(format!(
                    "plugin {kind} fails configuration: empty file path and empty patch content"
                )));
            }
            patches_strategic_merge(k, dir, &entries, rm).await?;
        }
        "PatchJson6902Transformer" => {
            let t = c.get("target").cloned().unwrap_or(Value::Null);
            let text = match (c.get("jsonOp").and_then(|v| v.as_str()), c.get("path")) {
                (Some(_), Some(_)) => {
                    return Err(KustomizeError::msg(format!(
                        "plugin {kind} fails configuration: must specify a file path or jsonOp, not both"
                    )));
                }
                (Some(op), None) => op.to_string(),
                _ => patch_source(k, dir, c).await?.1,
            };
            let docs = k.parse_docs("jsonOp", text.as_bytes())?;
            let ops = docs.into_iter().next().unwrap_or(Value::Array(Vec::new()));
            for i in select(rm, &t)? {
                let r = &mut rm.list[i];
                r.store_prev();
                patch::json_patch(r.v_mut(), &ops)?;
            }
        }
        "ReplacementTransformer" => {
            let list = match c.get("replacements") {
                Some(Value::Array(a)) => load_replacements(k, dir, a).await?,
                _ => Vec::new(),
            };
            replace::replacements(rm, &list)?;
        }
        "ConfigMapGenerator" | "SecretGenerator" => {
            // `name`/`namespace` default to the plugin's own metadata.
            let mut g = c.clone();
            if let Value::Object(m) = &mut g {
                for f in ["name", "namespace"] {
                    if m.get(f).and_then(|v| v.as_str()).is_none_or(str::is_empty)
                        && let Some(n) = c.pointer(&format!("/metadata/{f}"))
                    {
                        m.insert(f.into(), n.clone());
                    }
                }
            }
            let res_kind = if kind == "ConfigMapGenerator" {
                "ConfigMap"
            } else {
                "Secret"
            };
            let mut r = k
                .generate(dir, c, res_kind, &g, &super::generate::Options::default())
                .await?;
            let plugin_id = plugin_identity(c);
            r.origin = Some(k.configured(dir, source_file, kind, Some(&plugin_id), ""));
            acc.res.absorb(r)?;
        }
        "IAMPolicyGenerator" => {
            let cloud = s("cloud");
            if cloud != "gke" {
                return Err(KustomizeError::msg(format!(
                    "IAMPolicyGenerator: cloud {cloud:?} is not supported (gke is)"
                )));
            }
            let g = |p: &str| c.pointer(p).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let (sa, project) = (g("/serviceAccount/name"), g("/serviceAccount/projectId"));
            let mut meta = Map::new();
            meta.insert("name".into(), Value::String(g("/kubernetesService/name")));
            let ns = g("/kubernetesService/namespace");
            if !ns.is_empty() {
                meta.insert("namespace".into(), Value::String(ns));
            }
            meta.insert(
                "annotations".into(),
                serde_json::json!({"iam.gke.io/gcp-service-account": format!("{sa}@{project}.iam.gserviceaccount.com")}),
            );
            let obj =
                serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": Value::Object(meta)});
            rm.append(Res::new(obj))?;
        }
        "ValueAddTransformer" => {
            let mut value = s("value").trim().to_string();
            if value.is_empty() {
                value = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
            }
            let mut targets = match c.get("targets") {
                Some(Value::Array(t)) => t.clone(),
                _ => Vec::new(),
            };
            let file = s("targetFilePath");
            if !file.is_empty() {
                let bytes = k.read(dir, &file).await?;
                for d in k.parse_docs(&file, &bytes)? {
                    if let Some(Value::Array(t)) = d.get("targets") {
                        targets.extend(t.iter().cloned());
                    }
                }
            }
            if targets.is_empty() {
                return Err(KustomizeError::msg(
                    "ValueAddTransformer: must specify at least one target".into(),
                ));
            }
            for t in targets {
                let sel = t.get("selector").cloned().unwrap_or(Value::Object(Map::new()));
                let path = t
                    .get("fieldPath")
                    .and_then(|v| v.as_str())
                    .unwrap_or("metadata/namespace");
                let pos = t.get("filePathPosition").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
                let segs = fieldspec::split_path(path);
                for i in select(rm, &sel)? {
                    fieldspec::apply(rm.list[i].v_mut(), &segs, Some(Create::Scalar), &mut |node| {
                        let new = if pos > 0 {
                            let cur = node.as_str().unwrap_or("");
                            let mut parts: Vec<&str> = cur.split('/').collect();
                            let at = (pos - 1).min(parts.len());
                            parts.insert(at, &value);
                            parts.join("/")
                        } else {
                            value.clone()
                        };
                        *node = Value::String(new);
                        Ok(())
                    })?;
                }
            }
        }
        "HashTransformer" => {
            super::resource::add_hash_suffixes(rm);
        }
        other => {
            return Err(KustomizeError::msg(format!(
                "built-in plugin {other} is not supported by sigil-agent"
            )));
        }
    }
    if !generator {
        let id = plugin_identity(c);
        k.record_transformer(&mut acc.res, dir, source_file, kind, Some(&id));
    }
    Ok(())
}

/// `name\0namespace` of a plugin configuration, for build metadata.
fn plugin_identity(c: &Value) -> String {
    let g = |p: &str| c.pointer(p).and_then(|v| v.as_str()).unwrap_or("");
    format!("{}\0{}", g("/metadata/name"), g("/metadata/namespace"))
}

/// `crds:` entries (OpenAPI name references in CRD files) are refused.
pub(super) fn config_from_crd(_config: &mut Config, _doc: &Value) -> Result<(), KustomizeError> {
    Err(KustomizeError::msg(
        "the `crds` field (name references from CRD OpenAPI definitions) is not supported by sigil-agent; use `configurations` instead".into(),
    ))
}

// ---------------------------------------------------------------- name references

/// The resources a referrer may refer to, looked up by a name they had (kustomize's
/// namespace rules applied): an index built once per build keeps this linear.
struct Pool<'a> {
    snapshot: &'a ResMap,
    ids: &'a [ResId],
    by_name: &'a HashMap<String, Vec<usize>>,
    referrer: usize,
    rb_ns: Vec<String>,
}

impl<'a> Pool<'a> {
    fn new(snapshot: &'a ResMap, ids: &'a [ResId], by_name: &'a HashMap<String, Vec<usize>>, referrer: usize) -> Self {
        let mut rb_ns = Vec::new();
        if ids[referrer].gvk.kind == "RoleBinding"
            && let Some(Value::Array(subs)) = snapshot.list[referrer].v().get("subjects")
        {
            for s in subs {
                if s.get("kind").and_then(|v| v.as_str()) == Some("ServiceAccount")
                    && let Some(ns) = s.get("namespace").and_then(|v| v.as_str())
                {
                    rb_ns.push(ns.to_string());
                }
            }
        }
        Pool {
            snapshot,
            ids,
            by_name,
            referrer,
            rb_ns,
        }
    }

    /// Candidates that once had `name`, visible from the referrer.
    fn named(&self, name: &str) -> Vec<&'a Res> {
        let rid = &self.ids[self.referrer];
        let all = rid.gvk.is_cluster_scoped();
        self.by_name
            .get(name)
            .map(|v| {
                v.iter()
                    .filter(|&&i| {
                        let id = &self.ids[i];
                        all || id.gvk.is_cluster_scoped() || id.ns_equals(rid) || self.rb_ns.contains(&id.namespace)
                    })
                    .map(|&i| &self.snapshot.list[i])
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct RefCtx<'a> {
    referrer: &'a Res,
    target: &'a Gvk,
    role_ref: Option<Gvk>,
}

fn select_referral<'a>(
    ctx: &RefCtx<'_>,
    old: &str,
    cands: &[&'a Res],
    same: &dyn Fn(&[&'a Res]) -> bool,
) -> Result<Option<&'a Res>, KustomizeError> {
    let rid = ctx.referrer.cur_id();
    let mut c: Vec<&Res> = cands
        .iter()
        .copied()
        .filter(|r| r.prev.iter().any(|p| p.name == old))
        .filter(|r| r.prev.iter().any(|p| p.gvk.selected_by(ctx.target)))
        .filter(|r| match &ctx.role_ref {
            Some(g) => r.prev.iter().any(|p| p.gvk.selected_by(g)),
            None => true,
        })
        .filter(|r| {
            rid.gvk.is_cluster_scoped()
                || r.cur_id().gvk.is_cluster_scoped()
                || r.obj.kind() == "ServiceAccount"
                || rid.ns_equals(&r.cur_id())
        })
        .collect();
    if c.len() == 1 {
        return Ok(Some(c[0]));
    }
    c.retain(|r| r.prefix_suffix_equals(ctx.referrer, true));
    if c.len() > 1 {
        c.retain(|r| r.prefix_suffix_equals(ctx.referrer, false));
    }
    match c.len() {
        0 => Ok(None),
        1 => Ok(Some(c[0])),
        _ if same(&c) => Ok(Some(c[0])),
        _ => Err(KustomizeError::msg(format!(
            "found multiple possible referrals: {}",
            c.iter().map(|r| r.cur_id().display()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn set_ref(ctx: &RefCtx<'_>, pool: &Pool<'_>, node: &mut Value) -> Result<(), KustomizeError> {
    match node {
        Value::Null => Ok(()),
        Value::String(s) => {
            let same = |rs: &[&Res]| rs.iter().all(|r| r.obj.name() == rs[0].obj.name());
            let cands = pool.named(s);
            if let Some(r) = select_referral(ctx, s, &cands, &same)? {
                *s = r.obj.name().to_string();
            }
            Ok(())
        }
        Value::Object(m) => {
            let Some(old) = m.get("name").and_then(|v| v.as_str()).map(String::from) else {
                return Err(KustomizeError::msg("path config error; no 'name' field in node".into()));
            };
            if m.get("namespace").is_some_and(|v| v.as_str().is_none_or(str::is_empty)) {
                return Err(KustomizeError::msg(format!(
                    "Invalid Input: namespace is blank for resource \"{}\"",
                    ctx.referrer.cur_id().display()
                )));
            }
            let cands = pool.named(&old);
            let filtered: Vec<&Res> = match m.get("namespace").and_then(|v| v.as_str()) {
                None => cands.to_vec(),
                Some(ns) => {
                    let by_org: Vec<&Res> = cands
                        .iter()
                        .copied()
                        .filter(|r| r.org_id().namespace == ns || (r.org_id().namespace.is_empty() && ns.is_empty()))
                        .collect();
                    if by_org.is_empty() {
                        cands.iter().copied().filter(|r| r.obj.namespace() == ns).collect()
                    } else {
                        by_org
                    }
                }
            };
            let same = |rs: &[&Res]| {
                rs.iter()
                    .all(|r| r.obj.name() == rs[0].obj.name() && r.obj.namespace() == rs[0].obj.namespace())
            };
            if let Some(r) = select_referral(ctx, &old, &filtered, &same)? {
                if r.obj.name() == old && r.obj.namespace().is_empty() {
                    return Ok(());
                }
                m.insert("name".into(), Value::String(r.obj.name().to_string()));
                if !r.obj.namespace().is_empty() {
                    m.insert("namespace".into(), Value::String(r.obj.namespace().to_string()));
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for it in items {
                match it {
                    Value::String(_) | Value::Object(_) => set_ref(ctx, pool, it)?,
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Err(KustomizeError::msg("node must be a scalar, sequence or map".into())),
    }
}

/// Updates references to renamed resources (ConfigMaps, Secrets, ServiceAccounts, ...).
pub fn fix_name_references(rm: &mut ResMap, config: &Config) -> Result<(), KustomizeError> {
    // Compute every update against a snapshot, then apply: referrers see the final names.
    let snapshot = rm.clone();
    let ids: Vec<ResId> = snapshot.list.iter().map(Res::cur_id).collect();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in snapshot.list.iter().enumerate() {
        let mut names: Vec<&str> = r.prev.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            by_name.entry(n.to_string()).or_default().push(i);
        }
    }
    for idx in 0..rm.list.len() {
        let referrer = &snapshot.list[idx];
        let org = referrer.org_id();
        let relevant: Vec<(&Gvk, &FieldSpec)> = config
            .name_reference
            .iter()
            .flat_map(|(t, fss)| fss.iter().map(move |fs| (t, fs)))
            .filter(|(_, fs)| org.gvk.selected_by(&fs.gvk))
            .collect();
        if relevant.is_empty() {
            continue;
        }
        let pool = Pool::new(&snapshot, &ids, &by_name, idx);
        let mut updated = referrer.obj.clone();
        for (target, fs) in relevant {
            let role_ref = if fs.path.ends_with("roleRef/name") {
                let rr = referrer.v().get("roleRef");
                let g = rr.and_then(|r| r.get("apiGroup")).and_then(|v| v.as_str());
                let k = rr.and_then(|r| r.get("kind")).and_then(|v| v.as_str());
                match (g, k) {
                    (Some(g), Some(k)) => Some(Gvk {
                        group: g.into(),
                        version: String::new(),
                        kind: k.into(),
                    }),
                    _ => None,
                }
            } else {
                None
            };
            let ctx = RefCtx {
                referrer,
                target,
                role_ref,
            };
            fieldspec::apply(&mut updated.0, &fs.segments(), None, &mut |node| {
                set_ref(&ctx, &pool, node)
            })
            .map_err(|e| {
                e.context(format!(
                    "updating name reference in '{}' field of '{}'",
                    fs.path,
                    referrer.cur_id().display()
                ))
            })?;
        }
        rm.list[idx].obj = updated;
    }
    Ok(())
}
