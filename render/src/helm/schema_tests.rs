//! `values.schema.json` checks, with the error text the real Helm prints for the same chart
//! and values (the corpus's `feat-schema` chart).

use std::collections::BTreeMap;

use super::chart::Chart;
use super::render::{Release, RenderOptions, render_chart};

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["image", "replicas"],
  "properties": {
    "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
    "image": {
      "type": "object",
      "required": ["repository"],
      "properties": {
        "repository": {"type": "string", "pattern": "^[a-z0-9./-]+$"},
        "tag": {"type": "string"}
      }
    },
    "mode": {"type": "string", "enum": ["standard", "ha"]},
    "ports": {"type": "array", "items": {"type": "integer"}, "minItems": 1}
  },
  "additionalProperties": false
}"#;

fn chart() -> Chart {
    let files: BTreeMap<String, Vec<u8>> = [
        ("Chart.yaml", "apiVersion: v2\nname: feat-schema\nversion: 0.1.0\n"),
        (
            "values.yaml",
            "replicas: 1\nimage:\n  repository: nginx\n  tag: \"1.27\"\nmode: standard\nports: [80]\n",
        ),
        ("values.schema.json", SCHEMA),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect();
    Chart::load(&files).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn violations_listed_as_helm_lists_them() {
    let user =
        super::yaml::load_values("replicas: 0\nmode: turbo\nimage:\n  repository: \"Not Valid\"\nextra: not-allowed\n")
            .unwrap_or_default();
    let opts = RenderOptions {
        release: Release::install("sch", "default"),
        capabilities: Default::default(),
    };
    let err = render_chart(&chart(), &user, &opts, Default::default())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n\
             feat-schema:\n\
             - at '/image/repository': 'Not Valid' does not match pattern '^[a-z0-9./-]+$'\n\
             - at '/mode': value must be one of 'standard', 'ha'\n\
             - at '/replicas': minimum: got 0, want 1\n\
             - at '': additional properties 'extra' not allowed\n"
        )
    );
}

#[test]
fn valid_values_pass() {
    let chart = chart();
    assert_eq!(super::schema::validate(&chart, &chart.values), Ok(()));
}

#[test]
fn numbers_in_violations_print_as_helms() {
    let opts = RenderOptions {
        release: Release::install("sch", "default"),
        capabilities: Default::default(),
    };
    for (replicas, shown) in [("12345", "12,345"), ("1e6", "1×10⁰⁶")] {
        let user = super::yaml::load_values(&format!("replicas: {replicas}\n")).unwrap_or_default();
        let err = render_chart(&chart(), &user, &opts, Default::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(&format!("- at '/replicas': maximum: got {shown}, want 10\n")),
            "{err}"
        );
    }
}
