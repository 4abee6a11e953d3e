//! Values coalescing exactly as Helm does it (`pkg/chart/common/util/coalesce.go`): user values
//! over chart defaults, `null` deleting a default, tables merged key by key, each subchart's
//! section coalesced with its own defaults, and `global` copied down (the parent's globals
//! win). Maps are shared and mutated in place where Helm's are, so its aliasing quirks carry
//! over.

use std::cell::RefCell;
use std::rc::Rc;

use super::chart::Chart;
use crate::gotemplate::value::{Map, Value};

/// A Go `map[string]interface{}`, shared.
pub(crate) type Table = Rc<RefCell<Map>>;

/// The table inside `v`, if it is one.
pub(crate) fn as_table(v: &Value) -> Option<Table> {
    match v {
        Value::Map(m) => Some(m.clone()),
        _ => None,
    }
}

/// A new, empty table.
pub(crate) fn new_table() -> Table {
    Rc::new(RefCell::new(Map::new()))
}

/// A deep copy (copystructure.Copy): maps and lists are new, all the way down.
pub(crate) fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(Rc::new(RefCell::new(copy_map(&m.borrow())))),
        Value::List(l) => Value::list(l.iter().map(deep_copy).collect()),
        other => other.clone(),
    }
}

/// A deep copy of a map's entries.
pub(crate) fn copy_map(m: &Map) -> Map {
    m.iter().map(|(k, v)| (k.clone(), deep_copy(v))).collect()
}

fn entries(t: &Table) -> Vec<(String, Value)> {
    t.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn get(t: &Table, key: &str) -> Option<Value> {
    t.borrow().get(key).cloned()
}

fn set(t: &Table, key: &str, v: Value) {
    t.borrow_mut().insert(key.to_string(), v);
}

/// Helm's `CoalesceValues` (`merge` false) and `MergeValues` (`merge` true): the chart's
/// values (and its subcharts') with `user` over them; `user` itself is not changed.
pub(crate) fn coalesce_values(chart: &Chart, user: &Map, merge: bool) -> Result<Table, String> {
    let dest = Rc::new(RefCell::new(copy_map(user)));
    coalesce(chart, &dest, merge)?;
    Ok(dest)
}

fn coalesce(chart: &Chart, dest: &Table, merge: bool) -> Result<(), String> {
    coalesce_chart_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge)
}

fn coalesce_deps(chart: &Chart, dest: &Table, merge: bool) -> Result<(), String> {
    for sub in &chart.dependencies {
        let name = sub.metadata.name.as_str();
        let sub_table = match get(dest, name) {
            None => {
                let t = new_table();
                set(dest, name, Value::Map(t.clone()));
                t
            }
            Some(v) => as_table(&v).ok_or_else(|| format!("type mismatch on {name}: %!t({}=…)", v.type_name()))?,
        };
        coalesce_globals(&sub_table, dest);
        coalesce(sub, &sub_table, merge)?;
    }
    Ok(())
}

/// Copies the parent's `global` table into the subchart's: the parent's entries win, tables
/// are merged (on a shallow copy of the parent's table).
fn coalesce_globals(dest: &Table, src: &Table) {
    let dg = match get(dest, "global") {
        None => new_table(),
        Some(v) => match as_table(&v) {
            Some(t) => t,
            None => return,
        },
    };
    let sg = match get(src, "global") {
        None => new_table(),
        Some(v) => match as_table(&v) {
            Some(t) => t,
            None => return,
        },
    };
    if !Rc::ptr_eq(&dg, &sg) {
        for (key, val) in entries(&sg) {
            if let Some(vt) = as_table(&val) {
                // A shallow copy: nested tables stay shared with the parent's, as in Helm.
                let vv = Rc::new(RefCell::new(vt.borrow().clone()));
                match get(&dg, &key) {
                    None => set(&dg, &key, Value::Map(vv)),
                    Some(destv) => {
                        if let Some(destmap) = as_table(&destv) {
                            coalesce_tables(&vv, &destmap, true);
                            set(&dg, &key, Value::Map(vv));
                        }
                    }
                }
            } else if get(&dg, &key).is_some_and(|dv| as_table(&dv).is_some()) {
                // A table in the subchart is not replaced by a scalar.
            } else {
                set(&dg, &key, val);
            }
        }
    }
    set(dest, "global", Value::Map(dg));
}

/// Merges the chart's own default values into `v` (the user's values for this chart).
fn coalesce_chart_values(chart: &Chart, v: &Table, merge: bool) {
    let defaults = copy_map(&chart.values);
    for (key, val) in defaults {
        match get(v, &key) {
            Some(value) => {
                if value.is_nil() && !merge {
                    v.borrow_mut().remove(&key);
                } else if let Some(dest) = as_table(&value)
                    && let Some(src) = as_table(&val)
                {
                    let merge = merge || chart.dependencies.iter().any(|d| d.metadata.name == key);
                    if !merge {
                        clean_nil_values(&src);
                    }
                    coalesce_tables(&dest, &src, merge);
                }
            }
            None => {
                if !merge {
                    if val.is_nil() {
                        continue;
                    }
                    if let Some(sub) = as_table(&val) {
                        clean_nil_values(&sub);
                    }
                }
                set(v, &key, val);
            }
        }
    }
}

/// Helm's `CoalesceTables`/`MergeTables`: `src`'s entries fill in `dst` (which wins), tables
/// merged recursively; without `merge`, a `null` in `dst` deletes the key.
pub(crate) fn coalesce_tables(dst: &Table, src: &Table, merge: bool) {
    if Rc::ptr_eq(dst, src) {
        return;
    }
    let src_non_nil: Vec<String> = src
        .borrow()
        .iter()
        .filter(|(_, v)| !v.is_nil())
        .map(|(k, _)| k.clone())
        .collect();
    let dst_nils: Vec<String> = dst
        .borrow()
        .iter()
        .filter(|(_, v)| v.is_nil())
        .map(|(k, _)| k.clone())
        .collect();
    for k in dst_nils {
        set(src, &k, Value::Nil);
    }
    for (key, val) in entries(src) {
        let dv = get(dst, &key);
        match dv {
            Some(Value::Nil) if !merge && src_non_nil.contains(&key) => {
                dst.borrow_mut().remove(&key);
            }
            None => set(dst, &key, val),
            Some(dv) => {
                if let Some(vt) = as_table(&val)
                    && let Some(dt) = as_table(&dv)
                {
                    coalesce_tables(&dt, &vt, merge);
                }
            }
        }
    }
}

/// Removes `null` entries, recursively through tables.
pub(crate) fn clean_nil_values(t: &Table) {
    let mut nested = Vec::new();
    t.borrow_mut().retain(|_, v| {
        if let Some(sub) = as_table(v) {
            nested.push(sub);
        }
        !v.is_nil()
    });
    for sub in nested {
        if !Rc::ptr_eq(&sub, t) {
            clean_nil_values(&sub);
        }
    }
}
