//! Execution tests; every expected string is what Helm (tools/helm-oracle.py) printed for
//! the same template and values.

use super::*;
use value::Map;

const T: &str = "t/templates/t.yaml";
const H: &str = "t/templates/_helpers0.tpl";

fn s(v: &str) -> Value {
    Value::str(v)
}

fn m(entries: &[(&str, Value)]) -> Value {
    let mut map = Map::new();
    for (k, v) in entries {
        map.insert((*k).to_string(), v.clone());
    }
    Value::map(map)
}

/// `m: {a: 1, b: x}`, `l: [1, 2, 3]`, `n: null`, `s: str` as Helm reads them (floats).
fn values() -> Value {
    m(&[(
        "Values",
        m(&[
            ("m", m(&[("a", Value::Float(1.0)), ("b", s("x"))])),
            (
                "l",
                Value::list(vec![Value::Float(1.0), Value::Float(2.0), Value::Float(3.0)]),
            ),
            ("n", Value::Nil),
            ("s", s("str")),
        ]),
    )])
}

fn helper_funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert(
        "upper",
        Func {
            params: &[Ty::String],
            variadic: None,
            call: |a| Ok(s(&a.first().and_then(Value::as_str).unwrap_or("").to_uppercase())),
        },
    );
    f.insert(
        "fail",
        Func {
            params: &[Ty::String],
            variadic: None,
            call: |a| Err(a.first().and_then(Value::as_str).unwrap_or("").to_string()),
        },
    );
    f.insert(
        "dict",
        Func {
            params: &[],
            variadic: Some(Ty::Any),
            call: |a| {
                let mut map = Map::new();
                for kv in a.chunks(2) {
                    if let [Value::Str(k), v] = kv {
                        map.insert(k.to_string(), v.clone());
                    }
                }
                Ok(Value::map(map))
            },
        },
    );
    f.insert(
        "int64",
        Func {
            params: &[Ty::Any],
            variadic: None,
            call: |a| match a.first() {
                Some(Value::Int(i)) => Ok(Value::Int64(*i)),
                _ => Err("unsupported in this test".into()),
            },
        },
    );
    f
}

/// Renders `text` as Helm does (helm mode, missingkey=zero) with `defines` as a helper file.
fn helm(text: &str, defines: &str) -> String {
    let funcs = helper_funcs();
    let mut set = Templates::helm();
    if let Err(e) = set.parse(H, defines, &funcs) {
        return format!("PARSE: {e}");
    }
    if let Err(e) = set.parse(T, text, &funcs) {
        return format!("PARSE: {e}");
    }
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Zero,
        helm: true,
        limits: Limits::default(),
    };
    match set.execute(T, &values(), &env) {
        Ok(out) => out.to_string(),
        Err(e) => format!("ERROR: {e}"),
    }
}

fn run(text: &str) -> String {
    helm(text, "")
}

/// An execution error's location, context and message (Helm prints these reformatted).
fn exec_err(text: &str) -> String {
    exec_err_with(text, "")
}

fn exec_err_with(text: &str, defines: &str) -> String {
    let funcs = helper_funcs();
    let mut set = Templates::helm();
    let parsed = set.parse(H, defines, &funcs).and_then(|()| set.parse(T, text, &funcs));
    if let Err(e) = parsed {
        return format!("PARSE: {e}");
    }
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Zero,
        helm: true,
        limits: Limits::default(),
    };
    match set.execute(T, &values(), &env) {
        Err(TemplateError::Exec {
            name,
            line,
            col,
            template,
            context,
            message,
        }) => format!("{name}:{line}:{col} {template} <{context}>: {message}"),
        Err(e) => format!("OTHER: {e}"),
        Ok(out) => format!("OK: {}", out.as_str()),
    }
}

#[test]
fn output_and_literals() {
    assert_eq!(
        run("{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 1_000 }} {{ 0b101 }} {{ 'a' }} {{ -3 }} {{ 1.5e3 }} {{ 0x1p4 }}"),
        "31 15 15 1000 5 97 -3 1500 16"
    );
    assert_eq!(
        run("{{ 1.0 }}|{{ 1e6 }}|{{ 1000000 }}|{{ 0.1 }}|{{ printf \"%v\" 1e21 }}|{{ 1e21 }}"),
        "1|1e+06|1000000|0.1|1e+21|1e+21"
    );
    assert_eq!(run("{{- /* c */ -}} a {{- 3 }} {{-3}}"), "a3 -3");
    assert_eq!(
        run("{{ printf \"%T %T %T %T\" 1 1.5 'a' 1e3 }}"),
        "int float64 int float64"
    );
    assert_eq!(
        run("{{ .Values.missing }}|{{ .Values.n }}|{{ index .Values.m \"q\" }}"),
        "||"
    );
    assert_eq!(
        run("{{ printf \"%v %v %v\" .Values.missing .Values.n (index .Values.m \"q\") }}"),
        "<nil> <nil> <nil>"
    );
    assert_eq!(
        run("{{ $x := .Values.missing }}{{ $x }}|{{ printf \"%T\" $x }}|{{ printf \"%T\" .Values.missing }}"),
        "|<nil>|<nil>"
    );
}

#[test]
fn control_structures() {
    assert_eq!(
        run(
            "{{ $.Values.m.a }}{{ with .Values.m }}{{ .b }}{{ $.Values.s }}{{ end }}{{ with .Values.missing }}x{{ else with .Values.s }}{{ . }}{{ end }}"
        ),
        "1xstrstr"
    );
    assert_eq!(
        run("{{ if and .Values.s (eq .Values.s \"str\") }}yes{{ else if .Values.m }}no{{ else }}z{{ end }}"),
        "yes"
    );
    assert_eq!(
        run(
            "{{ range .Values.l }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 3.0 }}{{ break }}{{ end }}{{ . }}{{ end }}"
        ),
        "1"
    );
    assert_eq!(run("{{ range .Values.missing }}x{{ else }}empty{{ end }}"), "empty");
    assert_eq!(
        run("{{ $v := 1 }}{{ if true }}{{ $v = 2 }}{{ $w := 3 }}{{ end }}{{ $v }}"),
        "2"
    );
    assert_eq!(
        run(
            "{{ range 3 }}{{.}}{{end}}|{{ range $k, $v := .Values.m }}{{$k}}={{$v}};{{end}}|{{ range $i, $v := .Values.l }}{{$i}}{{$v}}{{ end }}|{{ range $x := 2 }}{{$x}}{{ end }}"
        ),
        "012|a=1;b=x;|011223|01"
    );
    assert_eq!(
        run("{{ range $i, $e := .Values.l }}{{ $i }}{{ end }}{{ range $e := .Values.l }}{{ $e }}{{ end }}"),
        "012123"
    );
    assert_eq!(run("{{ with $x := .Values.m }}{{ $x.a }}{{ end }}"), "1");
    assert_eq!(run("{{ $ := 1 }}"), "");
}

#[test]
fn templates_include_tpl() {
    let d = "{{ define \"d\" }}[{{ .x }}]{{ end }}";
    assert_eq!(
        helm(
            "{{ include \"d\" (dict \"x\" 2) }}{{ template \"d\" (dict \"x\" 3) }}",
            d
        ),
        "[2][3]"
    );
    assert_eq!(
        helm(
            "{{ tpl \"{{ define \\\"q\\\" }}Q{{ end }}{{ include \\\"q\\\" . }}{{ include \\\"d\\\" (dict \\\"x\\\" 1) }}\" . }}",
            d
        ),
        "Q[1]"
    );
    assert_eq!(run("{{ define \"inner\" }}x{{ end }}{{ template \"inner\" }}"), "x");
    assert_eq!(run("{{ block \"blk\" . }}B{{ .Values.s }}{{ end }}"), "Bstr");
    assert_eq!(
        run("{{ tpl \"{{ .x \" . }}"),
        "ERROR: template: t/templates/t.yaml:1:3: executing \"t/templates/t.yaml\" at <tpl \"{{ .x \" .>: error calling tpl: cannot parse template \"{{ .x \": template: gotpl:1: unclosed action"
    );
    assert_eq!(
        run("{{ tpl \"{{ .x.y.z }}\" (dict \"x\" nil) }}"),
        "ERROR: template: t/templates/t.yaml:1:3: executing \"t/templates/t.yaml\" at <tpl \"{{ .x.y.z }}\" (dict \"x\" nil)>: error calling tpl: error during tpl function execution for \"{{ .x.y.z }}\": template: gotpl:1:5: executing \"gotpl\" at <.x.y.z>: nil pointer evaluating interface {}.y"
    );
    assert_eq!(
        exec_err("{{ include \"y\" . }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <include \"y\" .>: error calling include: template: no template \"y\" associated with template \"gotpl\""
    );
    assert_eq!(
        exec_err_with(
            "{{ include \"e\" . }}",
            "{{ define \"d\" }}[{{ .x }}]{{ end }}{{ define \"e\" }}{{ .missing.z }}{{ end }}"
        ),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <include \"e\" .>: error calling include: template: t/templates/_helpers0.tpl:1:62: executing \"e\" at <.missing.z>: nil pointer evaluating interface {}.z"
    );
    assert_eq!(
        exec_err("{{ include \"d\" }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <include>: wrong number of args for include: want 2 got 1"
    );
    assert_eq!(
        exec_err("{{ include 3 . }}"),
        "t/templates/t.yaml:1:11 t/templates/t.yaml <3>: expected string; found 3"
    );
    assert_eq!(
        exec_err("{{ template \"nope\" }}"),
        "t/templates/t.yaml:1:12 t/templates/t.yaml <{{template \"nope\"}}>: template \"nope\" not defined"
    );
}

#[test]
fn builtins_match_go() {
    assert_eq!(
        run("{{ and (.Values.missing) 1 }}|{{ or (.Values.missing) 0 }}|{{ and 1 (.Values.missing) }}"),
        "|0|"
    );
    assert_eq!(
        run("{{ eq (.Values.missing) \"a\" }}|{{ eq .Values.missing \"a\" }}|{{ eq nil nil }}"),
        "false|false|true"
    );
    assert_eq!(
        run("{{ eq \"a\" \"b\" \"a\" }}|{{ ne 1 2 }}|{{ eq 1 (int64 1) }}"),
        "true|true|true"
    );
    assert_eq!(
        run("{{ index .Values.m \"zz\" }}|{{ index \"abc\" 1 }}|{{ index .Values.l 1 }}"),
        "|98|2"
    );
    assert_eq!(
        run("{{ not .Values.missing }}|{{ print 1 2 \"a\" 3 }}|{{ println 1 \"a\" }}|{{ print nil }}|{{ print }}"),
        "true|1 2a3|1 a\n|<nil>|"
    );
    assert_eq!(
        run("{{ html \"<a&'\\\">\" }}|{{ js \"a'b<>\\n=&é\" }}|{{ urlquery \"a b&c/d~é\" }}"),
        "&lt;a&amp;&#39;&#34;&gt;|a\\'b\\u003C\\u003E\\u000A\\u003D\\u0026é|a+b%26c%2Fd~%C3%A9"
    );
    assert_eq!(
        run("{{ lt \"a\" \"b\" }}|{{ le 2 2 }}|{{ gt 2.5 1.5 }}|{{ ge \"b\" \"a\" }}"),
        "true|true|true|true"
    );
    assert_eq!(run("{{ slice .Values.l 1 2 }}"), "[2]");
    assert_eq!(
        run("{{ \"x\" | and 0 }}|{{ \"x\" | or 0 }}|{{ and 1 2 }}|{{ or 0 \"\" }}"),
        "0|x|2|"
    );
    assert_eq!(run("{{ not 0 }}{{ not \"\" }}{{ not .Values.l }}"), "truetruefalse");
    assert_eq!(
        run("{{ \"a\" | printf \"%s-%s\" \"b\" }}|{{ (printf \"%d\" 3) }}|{{ (.Values.m).a }}|{{ (dict \"a\" 1).a }}"),
        "b-a|3|1|1"
    );
    assert_eq!(
        run("{{ if .Values.m }}{{ $y := 2 }}{{ end }}{{ 1 | printf \"%d %d\" 2 }}"),
        "2 1"
    );
    let call_err = |t: &str| {
        let out = run(t);
        out.split(": error calling ").nth(1).unwrap_or(&out).to_string()
    };
    for (t, want) in [
        (
            "{{ eq .Values.l .Values.l }}",
            "eq: non-comparable type [%!s(float64=1) %!s(float64=2) %!s(float64=3)]: []interface {}",
        ),
        (
            "{{ eq .Values.m.a 1 }}",
            "eq: incompatible types for comparison: float64 and int",
        ),
        (
            "{{ eq .Values.m .Values.l }}",
            "eq: non-comparable types map[a:%!s(float64=1) b:x]: map[string]interface {}, []interface {}: [1 2 3]",
        ),
        (
            "{{ eq .Values.l \"a\" }}",
            "eq: incompatible types for comparison: []interface {} and string",
        ),
        ("{{ len .Values.missing }}", "len: len of nil pointer"),
        (
            "{{ len (.Values.missing) }}",
            "len: reflect: call of reflect.Value.Type on zero Value",
        ),
        ("{{ len 3 }}", "len: len of type int"),
        ("{{ index .Values.l 5 }}", "index: index out of range: 5"),
        (
            "{{ index .Values.l 1.0 }}",
            "index: cannot index slice/array with type float64",
        ),
        ("{{ index .Values.m 1 }}", "index: value has type int; should be string"),
        (
            "{{ index .Values.m \"a\" \"b\" }}",
            "index: can't index item of type float64",
        ),
        ("{{ index nil 1 }}", "index: index of untyped nil"),
        ("{{ .Values.l | index 1 }}", "index: can't index item of type int"),
        (
            "{{ lt 1 2.0 }}",
            "lt: incompatible types for comparison: int and float64",
        ),
        ("{{ lt true false }}", "lt: invalid type for comparison"),
        (
            "{{ call .Values.m }}",
            "call: non-function .Values.m of type map[string]interface {}",
        ),
    ] {
        assert_eq!(call_err(t), want, "{t}");
    }
    assert_eq!(
        exec_err("{{ and }}"),
        "t/templates/t.yaml:1:3 t/templates/t.yaml <and>: wrong number of args for and: want at least 1 got 0"
    );
}

#[test]
fn printf_verbs() {
    assert_eq!(
        run(
            "{{ printf \"%6.2e|%g|%.3g|%G|%08.3f|%+d|% d|%x|%X|%o|%#x|%#o|%b|%c|%U|%#U|%q\" 12345.678 0.000012345 1234567.0 1e-7 -3.14159 5 5 255 255 8 255 8 5 65 65 65 65 }}"
        ),
        "1.23e+04|1.2345e-05|1.23e+06|1E-07|-003.142|+5| 5|ff|FF|10|0xff|010|101|A|U+0041|U+0041 'A'|'A'"
    );
    assert_eq!(
        run(
            "{{ printf \"%5s|%-5s|%.2s|%05d|%-05d|%5.1q|%x|% x|%#x|%t|%v|%d\" \"ab\" \"ab\" \"abc\" -42 42 \"hello\" \"hi\" \"hi\" \"hi\" true .Values.l .Values.l }}"
        ),
        "   ab|ab   |ab|-0042|42   |  \"h\"|6869|68 69|0x6869|true|[1 2 3]|[%!d(float64=1) %!d(float64=2) %!d(float64=3)]"
    );
    assert_eq!(
        run(
            "{{ printf \"%d %s %v\" .Values.m .Values.l nil }}|{{ printf \"%!\" }}|{{ printf \"%z\" 1 }}|{{ printf \"%[2]d %[1]d\" 1 2 }}|{{ printf \"%*d|%-*d|%.*f\" 5 1 5 1 2 3.14159 }}"
        ),
        "map[%!d(string=a):%!d(float64=1) %!d(string=b):%!d(string=x)] [%!s(float64=1) %!s(float64=2) %!s(float64=3)] <nil>|%!!(MISSING)|%!z(int=1)|2 1|    1|1    |3.14"
    );
    assert_eq!(run("{{ 3 | printf \"%d %s\" \"a\" }}"), "%!d(string=a) %!s(int=3)");
}

#[test]
fn missing_key_modes() {
    let funcs = FuncMap::new();
    let mut set = Templates::new();
    let parsed = set.parse("t", "{{ .a }}|{{ .a.b }}", &funcs);
    assert!(parsed.is_ok());
    let data = m(&[]);
    let mut env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Default,
        helm: false,
        limits: Limits::default(),
    };
    assert_eq!(
        set.execute("t", &data, &env).map(|s| s.to_string()).ok(),
        Some("<no value>|<no value>".to_string())
    );
    env.missing_key = MissingKey::Error;
    assert_eq!(
        set.execute("t", &data, &env).map_err(|e| e.to_string()).err(),
        Some("template: t:1:3: executing \"t\" at <.a>: map has no entry for key \"a\"".into())
    );
    assert_eq!(
        set.execute("nope", &data, &env).map_err(|e| e.to_string()).err(),
        Some("template: no template \"nope\" associated with template \"\"".into())
    );
}

#[path = "tests_errors.rs"]
mod errors;
