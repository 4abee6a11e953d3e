//! Execution tests of failures: runaway recursion, field and parse errors, the output limit;
//! every expected string is what Helm (tools/helm-oracle.py) printed for the same template.

use super::*;

#[test]
fn recursion_fails_cleanly() {
    let out = helm(
        "{{ include \"x\" . }}",
        "{{ define \"x\" }}{{ include \"x\" . }}{{ end }}",
    );
    assert!(
        out.contains("exceeded maximum template depth") || out.contains("exceeds the limit"),
        "{out}"
    );
    let out = helm(
        "{{ template \"x\" . }}",
        "{{ define \"x\" }}{{ template \"x\" . }}{{ end }}",
    );
    assert!(
        out.contains("exceeded maximum template depth") || out.contains("exceeds the limit"),
        "{out}"
    );
    let out = run("{{ tpl \"{{ tpl .t . }}\" (dict \"t\" \"{{ tpl .t . }}\") }}");
    assert!(
        out.contains("exceeded maximum template depth") || out.contains("exceeds the limit"),
        "{out}"
    );
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    let out = run(&format!("{{{{ {deep} }}}}"));
    assert!(out.contains("max expression depth exceeded"), "{out}");
    let deep = "{{ if 1 }}".repeat(500);
    assert!(run(&deep).contains("max expression depth exceeded"));
}

#[test]
fn field_errors() {
    assert_eq!(
        exec_err("{{ .Values.n.b }}"),
        "t/templates/t.yaml:1:10 t/templates/t.yaml <.Values.n.b>: nil pointer evaluating interface {}.b"
    );
    assert_eq!(
        exec_err("{{ .Values.s.b }}"),
        "t/templates/t.yaml:1:10 t/templates/t.yaml <.Values.s.b>: can't evaluate field b in type interface {}"
    );
    assert_eq!(
        exec_err("{{ .Values.missing.b }}"),
        "t/templates/t.yaml:1:10 t/templates/t.yaml <.Values.missing.b>: nil pointer evaluating interface {}.b"
    );
    assert_eq!(
        exec_err("{{ upper .Values.n }}"),
        "t/templates/t.yaml:1:16 t/templates/t.yaml <.Values.n>: wrong type for value; expected string; got interface {}"
    );
    assert_eq!(
        exec_err("{{ .Values.n | upper }}"),
        "t/templates/t.yaml:1:15 t/templates/t.yaml <upper>: invalid value; expected string"
    );
    assert_eq!(
        exec_err("{{ .Values.m.a 1 }}"),
        "t/templates/t.yaml:1:10 t/templates/t.yaml <.Values.m.a>: a is not a method but has arguments"
    );
    assert_eq!(
        exec_err("{{ $x := 1 }}{{ $x.a }}"),
        "t/templates/t.yaml:1:18 t/templates/t.yaml <$x.a>: can't evaluate field a in type int"
    );
    assert_eq!(
        exec_err("{{ .Values.m.b.c.d }}"),
        "t/templates/t.yaml:1:10 t/templates/t.yaml <.Values.m.b.c.d>: can't evaluate field c in type interface {}"
    );
    assert_eq!(
        exec_err("{{ .Values.s | .Values.m }}"),
        "t/templates/t.yaml:1:22 t/templates/t.yaml <.Values.m>: m is not a method but has arguments"
    );
    assert_eq!(
        exec_err("{{ nil }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <nil>: nil is not a command"
    );
    assert_eq!(
        exec_err("{{ 1 2 }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <1>: can't give argument to non-function 1"
    );
    assert_eq!(
        exec_err("{{ upper 3 }}"),
        "t/templates/t.yaml:1:9 t/templates/t.yaml <3>: expected string; found 3"
    );
    assert_eq!(
        exec_err("{{ upper 3 4 }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <upper>: wrong number of args for upper: want 1 got 2"
    );
    assert_eq!(
        exec_err("{{ range .Values.s }}{{ . }}{{ end }}"),
        "t/templates/t.yaml:1:16 t/templates/t.yaml <.Values.s>: range can't iterate over str"
    );
    assert_eq!(
        exec_err("{{ range $i, $e := 3 }}{{ end }}"),
        "t/templates/t.yaml:1:19 t/templates/t.yaml <3>: can't use 3 to iterate over more than one variable"
    );
    assert_eq!(
        exec_err("{{ fail \"boom\" }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <fail \"boom\">: error calling fail: boom"
    );
}

#[test]
fn parse_errors() {
    assert_eq!(
        run("{{ nofunc }}"),
        "PARSE: template: t/templates/t.yaml:1: function \"nofunc\" not defined"
    );
    assert_eq!(
        run("a\n{{ .x "),
        "PARSE: template: t/templates/t.yaml:2: unclosed action"
    );
    let p = "PARSE: template: t/templates/t.yaml:1: ";
    for (t, want) in [
        ("{{ if }}", "missing value for if"),
        ("{{ range $a, $b, $c := . }}{{ end }}", "too many declarations in range"),
        ("{{ with $x, $y := . }}{{ end }}", "too many declarations in with"),
        (
            "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
            "template: multiple definition of template \"a\"",
        ),
        ("{{ else }}", "unexpected {{else}}"),
        (
            "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
            "expected end; found {{else}}",
        ),
        ("{{ template . }}", "unexpected <.> in template clause"),
        ("{{ \"a", "unterminated quoted string"),
        ("{{ (1 }}", "unclosed left paren"),
        ("{{ 1 |", "unclosed action"),
    ] {
        assert_eq!(run(t), format!("{p}{want}"), "{t}");
    }
    assert_eq!(run("{{ .a | }}{{ $x := 1 | }}"), "");
    assert_eq!(
        exec_err("{{ . . }}x"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <.>: can't give argument to non-function ."
    );
}

#[test]
fn output_limit() {
    let funcs = FuncMap::new();
    let mut set = Templates::new();
    assert!(set.parse("t", "{{ range 100 }}xxxxxxxxxx{{ end }}", &funcs).is_ok());
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Default,
        helm: false,
        limits: Limits {
            max_output_bytes: 500,
            ..Limits::default()
        },
    };
    let r = set.execute("t", &Value::Nil, &env);
    assert!(matches!(r, Err(TemplateError::Limit { .. })));
    let env = Env {
        limits: Limits {
            max_iterations: 10,
            ..Limits::default()
        },
        ..env
    };
    let r = set.execute("t", &Value::Nil, &env);
    assert!(matches!(r, Err(TemplateError::Limit { .. })));
}

#[test]
fn deep_recursion_is_a_limit_error_not_a_stack_overflow() {
    let funcs = helper_funcs();
    let mut set = Templates::helm();
    let defined = set.parse(
        H,
        "{{ define \"x\" }}{{ if 1 }}{{ with . }}{{ range 1 }}{{ include \"x\" $ | upper }}{{ end }}{{ end }}{{ end }}{{ end }}",
        &funcs,
    );
    assert!(defined.is_ok());
    assert!(set.parse(T, "{{ include \"x\" . }}", &funcs).is_ok());
    for depth in [100usize, 1000, 100_000] {
        let env = Env {
            funcs: &funcs,
            missing_key: MissingKey::Zero,
            helm: true,
            limits: Limits {
                max_depth: depth,
                ..Limits::default()
            },
        };
        let r = set.execute(T, &values(), &env);
        assert!(matches!(r, Err(TemplateError::Limit { .. })), "{depth}");
    }
}
