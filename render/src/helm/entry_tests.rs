//! The render thread: Helm's nesting limits reachable, runaway recursion a clean error (the
//! expected texts are what the real Helm renders for the same templates).

use std::collections::BTreeMap;

use super::entry::render;
use super::render::{Release, RenderOptions};

/// Renders `templates/t.yaml` (with `helpers` as `templates/_h.tpl`) of a chart `t`.
fn run(template: &str, helpers: &str, values: &str) -> Result<String, String> {
    let files: BTreeMap<String, Vec<u8>> = [
        ("Chart.yaml", "apiVersion: v2\nname: t\nversion: 0.1.0\n"),
        ("templates/t.yaml", template),
        ("templates/_h.tpl", helpers),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect();
    let opts = RenderOptions {
        release: Release::install("r", "default"),
        capabilities: Default::default(),
    };
    render(&files, values, &opts)
        .map(|r| {
            r.manifests
                .get("t/templates/t.yaml")
                .map(|s| s.to_string())
                .unwrap_or_default()
        })
        .map_err(|e| e.to_string())
}

const COUNTDOWN: &str =
    r#"{{ define "a" }}{{ if gt (int .) 0 }}{{ include "a" (sub (int .) 1) }}{{ else }}bottom{{ end }}{{ end }}"#;

#[test]
fn a_thousand_and_one_nested_includes_render() {
    assert_eq!(
        run(r#"[{{ include "a" 1000 }}]"#, COUNTDOWN, "").as_deref(),
        Ok("[bottom]")
    );
}

#[test]
fn one_more_is_helms_nested_reference_error() {
    let err = run(r#"[{{ include "a" 1001 }}]"#, COUNTDOWN, "")
        .err()
        .unwrap_or_default();
    assert!(
        err.ends_with(
            "error calling include: rendering template has a nested reference name: a: unable to execute template"
        ),
        "{}",
        err.get(err.len().saturating_sub(300)..).unwrap_or_default()
    );
}

#[test]
fn a_self_including_template_fails_as_in_helm() {
    let err = run(
        r#"{{ include "a" . }}"#,
        r#"{{define "a"}}{{include "a" .}}{{end}}"#,
        "",
    )
    .err()
    .unwrap_or_default();
    // Helm prints the 1002 nested calls unformatted; the trace here folds repeated ones.
    assert!(err.starts_with("t/templates/t.yaml:1:3\n  executing \"t/templates/t.yaml\" at <include \"a\" .>:\n    error calling include:"), "{}", err.get(..300).unwrap_or_default());
    assert!(err.ends_with("rendering template has a nested reference name: a: unable to execute template"));
}

#[test]
fn runaway_template_and_tpl_recursion_are_limit_errors() {
    let err = run(
        r#"{{ template "a" . }}"#,
        r#"{{define "a"}}{{template "a" .}}{{end}}"#,
        "",
    );
    assert!(err.as_ref().is_err_and(|e| e.contains("exceeds the limit")), "{err:?}");
    // Helm overflows its stack here.
    let err = run("[{{ tpl .Values.e . }}]", "", "e: \"a{{ tpl .Values.e . }}\"\n");
    assert!(err.as_ref().is_err_and(|e| e.contains("exceeds the limit")), "{err:?}");
}

#[test]
fn tpl_of_blank_text_inside_tpl_renders_nothing() {
    let t = r#"[{{ tpl "x{{ tpl .Values.e . }}y" . }}]"#;
    assert_eq!(run(t, "", "e: \"\"\n").as_deref(), Ok("[xy]"));
    assert_eq!(run(t, "", "e: \"{{/* c */}}\"\n").as_deref(), Ok("[xy]"));
    assert_eq!(run(t, "", "e: '{{define \"z\"}}{{end}}'\n").as_deref(), Ok("[xy]"));
}

#[test]
fn a_functions_own_error_is_printed_as_go_wrote_it() {
    // Helm v4.2.3 formats the chain only when every error in it is a template's.
    assert_eq!(
        run(r#"{{ semverCompare "^1" "x" }}"#, "", "").err().unwrap_or_default(),
        r#"template: t/templates/t.yaml:1:3: executing "t/templates/t.yaml" at <semverCompare "^1" "x">: error calling semverCompare: invalid semantic version"#
    );
    assert_eq!(
        run(
            r#"{{ include "h" . }}"#,
            r#"{{ define "h" }}{{ semverCompare "^1" "x" }}{{ end }}"#,
            ""
        )
        .err()
        .unwrap_or_default(),
        r#"template: t/templates/t.yaml:1:3: executing "t/templates/t.yaml" at <include "h" .>: error calling include: template: t/templates/_h.tpl:1:19: executing "h" at <semverCompare "^1" "x">: error calling semverCompare: invalid semantic version"#
    );
    assert_eq!(
        run("{{ .Values.a.b }}", "", "a: 1").err().unwrap_or_default(),
        "t/templates/t.yaml:1:10\n  executing \"t/templates/t.yaml\" at <.Values.a.b>:\n    can't evaluate field b in type interface {}"
    );
}
