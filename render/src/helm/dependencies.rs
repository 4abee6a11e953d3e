//! Dependency processing as Helm's `ProcessDependencies`: subcharts matched to their
//! `dependencies:` entries (aliases rename a copy), disabled by `tags` and `condition`
//! (removed from the chart), then `import-values` copied from children into parents.

use std::rc::Rc;

use super::chart::Chart;
use super::coalesce::{Table, as_table, coalesce_tables, coalesce_values, deep_copy};
use super::semver::compatible_range;
use crate::gotemplate::value::{Map, Value};

/// Processes the chart's dependencies against the user's values (`helm install` does this
/// before rendering).
pub(crate) fn process(chart: &mut Chart, user: &Map) -> Result<(), String> {
    process_enabled(chart, user, "")?;
    process_import_values(chart)
}

/// A table reached through a dotted path (`a.b.c`), as Helm's `Values.Table`.
pub(crate) fn table_at(root: &Table, path: &str) -> Option<Table> {
    let mut cur = root.clone();
    for part in path.split('.') {
        let next = cur.borrow().get(part).and_then(as_table)?;
        cur = next;
    }
    Some(cur)
}

/// Helm's `Values.PathValue`: the non-table value at a dotted path.
fn path_value(root: &Table, path: &str) -> Option<Value> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table_at(root, p)?, k),
        None => (root.clone(), path),
    };
    let v = parent.borrow().get(key).cloned()?;
    if as_table(&v).is_some() { None } else { Some(v) }
}

fn process_enabled(chart: &mut Chart, user: &Map, path: &str) -> Result<(), String> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut chart.dependencies);
    let matches = |c: &Chart, name: &str, version: &str| {
        c.metadata.name == name && compatible_range(version, &c.metadata.version)
    };
    // Subcharts no entry asks for stay as they are; each entry takes a copy of its chart.
    let mut kept: Vec<Chart> = existing
        .iter()
        .filter(|c| {
            !chart
                .metadata
                .dependencies
                .iter()
                .any(|d| matches(c, &d.name, &d.version))
        })
        .cloned()
        .collect();
    for req in &mut chart.metadata.dependencies {
        if let Some(c) = existing.iter().find(|c| matches(c, &req.name, &req.version)) {
            let mut copy = c.clone();
            if !req.alias.is_empty() {
                copy.metadata.name = req.alias.clone();
            }
            kept.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = kept;
    for req in &mut chart.metadata.dependencies {
        req.enabled = true;
    }
    let cvals = coalesce_values(chart, user, false)?;
    // Tags.
    if let Some(tags) = table_at(&cvals, "tags") {
        for req in &mut chart.metadata.dependencies {
            let (mut has_true, mut has_false) = (false, false);
            for t in &req.tags {
                match tags.borrow().get(t) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            req.enabled = has_true || !has_false;
        }
    }
    // Conditions: the first path that holds a boolean decides.
    for req in &mut chart.metadata.dependencies {
        for cond in req.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(&cvals, &format!("{path}{cond}")) {
                req.enabled = b;
                break;
            }
        }
    }
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart.dependencies.retain(|c| !disabled.contains(&c.metadata.name));
    chart.metadata.dependencies.retain(|r| !disabled.contains(&r.name));
    let cvals_map = cvals.borrow().clone();
    for sub in &mut chart.dependencies {
        let subpath = format!("{path}{}.", sub.metadata.name);
        process_enabled(sub, &cvals_map, &subpath)?;
    }
    Ok(())
}

fn process_import_values(chart: &mut Chart) -> Result<(), String> {
    for sub in &mut chart.dependencies {
        process_import_values(sub)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce_values(chart, &Map::new(), true)?;
    let b: Table = super::coalesce::new_table();
    for req in &mut chart.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &req.import_values {
            match iv {
                Value::Map(m) => {
                    let (child, parent) = {
                        let m = m.borrow();
                        let text = |k: &str| m.get(k).map_or("<nil>".to_string(), Value::format_v);
                        (text("child"), text("parent"))
                    };
                    let mut entry = Map::new();
                    entry.insert("child".into(), Value::str(&child));
                    entry.insert("parent".into(), Value::str(&parent));
                    out.push(Value::map(entry));
                    let Some(vv) = table_at(&cvals, &format!("{}.{child}", req.name)) else {
                        continue;
                    };
                    coalesce_tables(&b, &path_to_map(&parent, vv), true);
                }
                Value::Str(s) => {
                    let child = format!("exports.{}", s.as_str());
                    let mut entry = Map::new();
                    entry.insert("child".into(), Value::str(&child));
                    entry.insert("parent".into(), Value::str("."));
                    out.push(Value::map(entry));
                    let Some(vm) = table_at(&cvals, &format!("{}.{child}", req.name)) else {
                        continue;
                    };
                    coalesce_tables(&b, &vm, true);
                }
                _ => {}
            }
        }
        req.import_values = out;
    }
    let copy = deep_copy(&Value::Map(cvals));
    let Some(copy) = as_table(&copy) else {
        return Ok(());
    };
    coalesce_tables(&copy, &b, true);
    chart.values = copy.borrow().clone();
    Ok(())
}

/// `parent` as nested tables around `data` (`a.b` → `{a: {b: data}}`; `.` is `data` itself).
fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Map(cur));
        cur = Rc::new(std::cell::RefCell::new(m));
    }
    cur
}
