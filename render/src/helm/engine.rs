//! Rendering a chart as Helm's engine does (`pkg/engine/engine.go`): every template of every
//! enabled chart parsed into one set (deepest charts first, so a parent's `define`s win),
//! then each non-partial template executed with its chart's scoped data.

use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::chart::Chart;
use super::coalesce::{Table, as_table, new_table};
use super::error::{HelmError, exec_error, parse_error};
use super::files::Files;
use super::funcs::all_funcs;
use crate::gotemplate::value::{Map, Value};
use crate::gotemplate::{Env, Limits, MissingKey, Templates};

/// One template to parse (and, unless a partial, execute).
struct Renderable {
    name: String,
    text: String,
    vals: Table,
    base_path: String,
}

/// Collects the templates of `chart` and its subcharts; returns the chart's data map (what
/// `.Subcharts.<name>` holds in its parent).
fn collect(chart: &Chart, parent: &Table, full_path: &str, is_root: bool, out: &mut Vec<Renderable>) -> Table {
    let subcharts = new_table();
    let next = new_table();
    {
        let p = parent.borrow();
        let mut n = next.borrow_mut();
        n.insert("Chart".into(), chart.metadata.to_value(is_root));
        n.insert("Files".into(), Files::new(&chart.files).to_value());
        n.insert("Release".into(), p.get("Release").cloned().unwrap_or_default());
        n.insert(
            "Capabilities".into(),
            p.get("Capabilities").cloned().unwrap_or_default(),
        );
        let values = if is_root {
            p.get("Values").cloned().unwrap_or_else(|| Value::Map(new_table()))
        } else {
            p.get("Values")
                .and_then(as_table)
                .and_then(|v| v.borrow().get(chart.name()).and_then(as_table))
                .map_or_else(|| Value::Map(new_table()), Value::Map)
        };
        n.insert("Values".into(), values);
        n.insert("Subcharts".into(), Value::Map(subcharts.clone()));
    }
    for child in &chart.dependencies {
        let child_path = format!("{full_path}/charts/{}", child.name());
        let sub = collect(child, &next, &child_path, false, out);
        subcharts.borrow_mut().insert(child.name().to_string(), Value::Map(sub));
    }
    let library = chart.metadata.is_library();
    for t in &chart.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: format!("{full_path}/{}", t.name),
            text: String::from_utf8_lossy(&t.data).into_owned(),
            vals: next.clone(),
            base_path: format!("{full_path}/templates"),
        });
    }
    next
}

/// Helm's order: more path segments first, then names in reverse byte order.
fn sort_templates(list: &mut [Renderable]) {
    list.sort_by(|a, b| {
        let (ca, cb) = (a.name.matches('/').count(), b.name.matches('/').count());
        cb.cmp(&ca).then_with(|| b.name.cmp(&a.name))
    });
}

/// Renders every template of `chart` (already processed: dependencies enabled, values
/// coalesced) with `top` (`Values`, `Release`, `Capabilities`) within `limits`, keyed by
/// template path.
pub(crate) fn render_templates(
    chart: &Chart,
    top: &Table,
    limits: Limits,
) -> Result<BTreeMap<String, Zeroizing<String>>, HelmError> {
    let mut list = Vec::new();
    collect(chart, top, chart.name(), true, &mut list);
    sort_templates(&mut list);
    let funcs = all_funcs();
    let mut set = Templates::helm();
    for r in &list {
        set.parse(&r.name, &r.text, &funcs)
            .map_err(|e| parse_error(&r.name, &e))?;
    }
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Zero,
        helm: true,
        limits,
    };
    let mut out = BTreeMap::new();
    for r in &list {
        let base = r.name.rsplit('/').next().unwrap_or(&r.name);
        if base.starts_with('_') {
            continue;
        }
        let mut template = Map::new();
        template.insert("Name".into(), Value::str(&r.name));
        template.insert("BasePath".into(), Value::str(&r.base_path));
        r.vals.borrow_mut().insert("Template".into(), Value::map(template));
        let data = Value::Map(Rc::clone(&r.vals));
        let text = set.execute(&r.name, &data, &env).map_err(|e| exec_error(&r.name, &e))?;
        out.insert(r.name.clone(), Zeroizing::new(text.to_string()));
    }
    Ok(out)
}
