//! Values coalescing and dependency processing, checked against what Helm v4 renders for the
//! same chart (the expected JSON is the real Helm's `toJson .Values`, from tools/helm-oracle.py).

use std::collections::BTreeMap;

use super::chart::Chart;
use super::coalesce::coalesce_values;
use super::dependencies;
use super::schema::to_json;
use crate::gotemplate::value::{Map, Value};

/// A parent with a subchart twice (once aliased, with import-values in both forms), a
/// subchart disabled by condition, one by tags; globals at two levels; nulls deleting.
const CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: par\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: \"~1.2.0\"\n  import-values:\n  - data\n  - child: deep.inner\n    parent: imported.here\n- name: sub\n  alias: s2\n  version: \">=1.0.0\"\n  condition: s2.enabled,global.s2\n- name: off\n  version: \"*\"\n  condition: off.enabled\n- name: tagged\n  version: 0.1.0\n  tags: [t1, t2]\n",
    ),
    ("charts/off/Chart.yaml", "apiVersion: v2\nname: off\nversion: 1.2.3\n"),
    ("charts/off/templates/b.yaml", "v: {{ toJson .Values }}\n"),
    ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 1.2.3\n"),
    ("charts/sub/templates/b.yaml", "v: {{ toJson .Values }}\n"),
    (
        "charts/sub/values.yaml",
        "global:\n  nested:\n    b: 2\n  subglobal: s\nexports:\n  data:\n    exported: 1\ndeep:\n  inner:\n    k: v\n    existing: c\ndropme: 5\nown: 1\n",
    ),
    (
        "charts/tagged/Chart.yaml",
        "apiVersion: v2\nname: tagged\nversion: 0.1.0\n",
    ),
    ("charts/tagged/templates/b.yaml", "v: {{ toJson .Values }}\n"),
    ("templates/a.yaml", "v: {{ toJson .Values }}\n"),
    (
        "values.yaml",
        "global:\n  region: eu\n  nested:\n    a: 1\nkeep: parent\nnullme: 1\nnested:\n  x: 1\n  y: 2\nsub:\n  fromParent: yes\n  dropme: null\ns2:\n  enabled: true\noff:\n  enabled: false\ntags:\n  t1: false\nimported:\n  here:\n    existing: p\n",
    ),
];

fn load(files: &[(&str, &str)]) -> Chart {
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    match Chart::load(&map) {
        Ok(c) => c,
        Err(e) => panic!("load: {e}"),
    }
}

/// The values the root chart's templates see, and the enabled subcharts.
fn coalesced(files: &[(&str, &str)], user: &str) -> (serde_json::Value, Vec<String>) {
    let mut chart = load(files);
    let user = super::yaml::load_values(user).unwrap_or_default();
    if let Err(e) = dependencies::process(&mut chart, &user) {
        panic!("dependencies: {e}");
    }
    let vals = match coalesce_values(&chart, &user, false) {
        Ok(v) => v,
        Err(e) => panic!("coalesce: {e}"),
    };
    let mut names: Vec<String> = chart.dependencies.iter().map(|c| c.name().to_string()).collect();
    names.sort();
    (to_json(&Value::Map(vals)), names)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

#[test]
fn globals_imports_aliases_and_nulls() {
    let user = "nullme: null\nnested:\n  y: null\n  z: 3\ntags:\n  t2: true\ns2:\n  own: 2\n";
    let (got, names) = coalesced(CHART, user);
    let want = json(
        r#"{"exported":1,"false":{"enabled":false,"global":{"nested":{"a":1},"region":"eu"}},"global":{"nested":{"a":1},"region":"eu"},"imported":{"here":{"existing":"p","k":"v"}},"keep":"parent","nested":{"x":1,"z":3},"s2":{"deep":{"inner":{"existing":"c","k":"v"}},"dropme":5,"enabled":true,"exports":{"data":{"exported":1}},"global":{"nested":{"a":1,"b":2},"region":"eu","subglobal":"s"},"own":2},"sub":{"deep":{"inner":{"existing":"c","k":"v"}},"dropme":5,"exports":{"data":{"exported":1}},"fromParent":true,"global":{"nested":{"a":1,"b":2},"region":"eu","subglobal":"s"},"own":1},"tagged":{"global":{"nested":{"a":1},"region":"eu"}},"tags":{"t1":false,"t2":true}}"#,
    );
    assert_eq!(got, want);
    // `name: off` is the boolean false in YAML 1.1, so that chart is "false" and its
    // condition `off.enabled` never resolves.
    assert_eq!(names, vec!["false", "s2", "sub", "tagged"]);
}

#[test]
fn conditions_and_tags_disable() {
    let user = "tags:\n  t1: false\ns2:\n  enabled: false\nglobal:\n  s2: true\n";
    let (got, names) = coalesced(CHART, user);
    let want = json(
        r#"{"exported":1,"false":{"enabled":false,"global":{"nested":{"a":1},"region":"eu","s2":true}},"global":{"nested":{"a":1},"region":"eu","s2":true},"imported":{"here":{"existing":"p","k":"v"}},"keep":"parent","nested":{"true":2,"x":1},"nullme":1,"s2":{"enabled":false},"sub":{"deep":{"inner":{"existing":"c","k":"v"}},"dropme":5,"exports":{"data":{"exported":1}},"fromParent":true,"global":{"nested":{"a":1,"b":2},"region":"eu","s2":true,"subglobal":"s"},"own":1},"tags":{"t1":false}}"#,
    );
    assert_eq!(got, want);
    assert_eq!(names, vec!["false", "sub"]);
}

#[test]
fn user_values_are_not_changed() {
    let user: Map = super::yaml::load_values("a:\n  b: null\n").unwrap_or_default();
    let chart = load(&[
        ("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"),
        ("values.yaml", "a:\n  b: 1\n  c: 2\n"),
    ]);
    let vals = coalesce_values(&chart, &user, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(to_json(&Value::Map(vals)), json(r#"{"a":{"c":2}}"#));
    assert_eq!(to_json(&Value::map(user)), json(r#"{"a":{"b":null}}"#));
}
