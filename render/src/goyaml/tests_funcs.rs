//! The template functions, checked against what Helm v4 (the real library) renders.
use super::*;
use crate::gotemplate::value::Map;

fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let f = funcs();
    let func = f.get(name).expect("function");
    (func.call)(args)
}

fn text(name: &str, v: Value) -> String {
    call(name, &[v]).expect("call").as_str().expect("string").to_owned()
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn dict(pairs: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_owned(), v.clone());
    }
    Value::map(m)
}

#[test]
fn to_yaml_of_template_values() {
    // {{ toYaml (list 1 (int64 2) 2.5 1e6 (float64 1234567.5) nil true "x" (list) (dict)
    //    (list (list 1 2) (dict "a" 1 "b" (list 3)))) }}
    let v = Value::list(vec![
        Value::Int(1),
        Value::Int64(2),
        Value::Float(2.5),
        Value::Float(1e6),
        Value::Float(1234567.5),
        Value::Nil,
        Value::Bool(true),
        s("x"),
        Value::list(vec![]),
        dict(&[]),
        Value::list(vec![
            Value::list(vec![Value::Int(1), Value::Int(2)]),
            dict(&[("a", Value::Int(1)), ("b", Value::list(vec![Value::Int(3)]))]),
        ]),
    ]);
    let want = "- 1\n- 2\n- 2.5\n- 1000000\n- 1.2345675e+06\n- null\n- true\n- x\n- []\n- {}\n- - - 1\n    - 2\n  - a: 1\n    b:\n    - 3";
    assert_eq!(text("toYaml", v), want);
    assert_eq!(text("toYaml", Value::Float(1e21)), "1e+21");
    assert_eq!(text("toYaml", s("")), "\"\"");
    assert_eq!(text("toYaml", Value::Nil), "null");
    assert_eq!(text("toYaml", s("a\nb")), "|-\n  a\n  b");
    assert_eq!(text("toYaml", s(" a\n")), "|2\n   a");
    assert_eq!(text("toYaml", s("x: y")), "'x: y'");
    assert_eq!(text("toYaml", Value::bytes(b"hello".to_vec())), "aGVsbG8=");
}

#[test]
fn errors_are_swallowed_or_raised_as_helm_does() {
    let nan = Value::Float(f64::NAN);
    assert_eq!(text("toYaml", nan.clone()), "");
    assert_eq!(text("toJson", nan.clone()), "");
    assert_eq!(text("toPrettyJson", nan.clone()), "");
    assert_eq!(
        call("mustToYaml", std::slice::from_ref(&nan)).err().unwrap_or_default(),
        "error marshaling into JSON: json: unsupported value: NaN"
    );
    assert_eq!(
        call("mustToJson", std::slice::from_ref(&nan)).err().unwrap_or_default(),
        "json: unsupported value: NaN"
    );
    assert_eq!(
        call("toRawJson", &[nan]).err().unwrap_or_default(),
        "json: unsupported value: NaN"
    );
    // {{ $d := dict "a" 1 }}{{ $_ := set $d "self" $d }}
    let d = dict(&[("a", Value::Int(1))]);
    if let Value::Map(m) = &d {
        m.borrow_mut().insert("self".into(), d.clone());
    }
    assert_eq!(text("toJson", d.clone()), "");
    assert_eq!(text("toYaml", d.clone()), "");
    assert_eq!(
        call("mustToJson", std::slice::from_ref(&d)).err().unwrap_or_default(),
        "json: unsupported value: encountered a cycle via map[string]interface {}"
    );
    if let Value::Map(m) = &d {
        m.borrow_mut().clear();
    }
    // A control character encoding/json leaves raw cannot be read back by go-yaml.
    assert_eq!(
        call("mustToYaml", &[s("del\u{7f}")]).err().unwrap_or_default(),
        "yaml: control characters are not allowed"
    );
    assert_eq!(text("toYaml", s("nel \u{85} \u{85}x")), "|-\n  nel\n  x");
}

#[test]
fn pretty_and_raw_json() {
    let v = Value::list(vec![Value::Int(1), dict(&[("a", Value::list(vec![]))])]);
    assert_eq!(text("toPrettyJson", v), "[\n  1,\n  {\n    \"a\": []\n  }\n]");
    assert_eq!(text("toPrettyJson", dict(&[])), "{}");
    let html = dict(&[("h", s("<a href='x'>&amp;</a>")), ("ls", s("a\u{2028}b"))]);
    assert_eq!(
        text("toJson", html.clone()),
        r#"{"h":"\u003ca href='x'\u003e\u0026amp;\u003c/a\u003e","ls":"a\u2028b"}"#
    );
    assert_eq!(
        text("toRawJson", html),
        r#"{"h":"<a href='x'>&amp;</a>","ls":"a\u2028b"}"#
    );
}

#[test]
fn from_yaml_and_from_json_report_errors_in_the_result() {
    let j = |v: Value| text("toJson", v);
    let from_yaml = |t: &str| j(call("fromYaml", &[s(t)]).expect("fromYaml"));
    let from_yaml_array = |t: &str| j(call("fromYamlArray", &[s(t)]).expect("fromYamlArray"));
    let from_json = |t: &str| j(call("fromJson", &[s(t)]).expect("fromJson"));
    let from_json_array = |t: &str| j(call("fromJsonArray", &[s(t)]).expect("fromJsonArray"));
    assert_eq!(
        from_yaml("a: b: c"),
        r#"{"Error":"error converting YAML to JSON: yaml: mapping values are not allowed in this context"}"#
    );
    assert_eq!(
        from_yaml("- a\n- b"),
        r#"{"Error":"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"}"#
    );
    assert_eq!(from_yaml(""), "{}");
    assert_eq!(from_yaml("~"), "{}");
    assert_eq!(from_yaml("a: 1\n---\nb: 2"), r#"{"a":1}"#);
    assert_eq!(
        from_yaml("a: [1"),
        r#"{"Error":"error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'"}"#
    );
    assert_eq!(
        from_yaml("a: *x"),
        r#"{"Error":"error converting YAML to JSON: yaml: unknown anchor 'x' referenced"}"#
    );
    assert_eq!(
        from_yaml("a: 1\n b: 2"),
        r#"{"Error":"error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"}"#
    );
    assert_eq!(
        from_yaml("a:\n\t- 1"),
        r#"{"Error":"error converting YAML to JSON: yaml: line 2: found character that cannot start any token"}"#
    );
    assert_eq!(
        from_yaml("a: \"x"),
        r#"{"Error":"error converting YAML to JSON: yaml: found unexpected end of stream"}"#
    );
    assert_eq!(
        from_yaml("a: 1\nb"),
        r#"{"Error":"error converting YAML to JSON: yaml: line 3: could not find expected ':'"}"#
    );
    assert_eq!(
        from_yaml("a: .inf"),
        r#"{"Error":"error converting YAML to JSON: json: unsupported value: +Inf"}"#
    );
    assert_eq!(
        from_yaml("~: 1"),
        r#"{"Error":"error converting YAML to JSON: unsupported map key of type: %!s(\u003cnil\u003e), key: \u003cnil\u003e, value: 1"}"#
    );
    assert_eq!(
        from_yaml("a: !!int x"),
        r#"{"Error":"error converting YAML to JSON: yaml: cannot decode !!str `x` as a !!int"}"#
    );
    assert_eq!(
        from_yaml("a: {b: 1}\n? [1]\n: 2"),
        r#"{"Error":"error converting YAML to JSON: yaml: invalid map key: []interface {}{1}"}"#
    );
    assert_eq!(
        from_yaml("a: &a [*a]"),
        r#"{"Error":"error converting YAML to JSON: yaml: anchor 'a' value contains itself"}"#
    );
    assert_eq!(
        from_yaml("a: |\n  x\n y\n"),
        r#"{"Error":"error converting YAML to JSON: yaml: line 2: did not find expected key"}"#
    );
    assert_eq!(
        from_yaml_array("a: 1"),
        r#"["error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"]"#
    );
    assert_eq!(from_yaml_array("- 1\n- a: 2"), r#"[1,{"a":2}]"#);
    assert_eq!(from_yaml_array(""), "[]");
    assert_eq!(from_json("null"), "null");
    assert_eq!(from_json_array("null"), "null");
    assert_eq!(from_json(""), r#"{"Error":"unexpected end of JSON input"}"#);
    assert_eq!(
        from_json("{\"a\": 1e400, \"b\": 2}"),
        r#"{"Error":"json: cannot unmarshal number 1e400 into Go value of type float64","a":null,"b":2}"#
    );
    assert_eq!(
        from_json("tru"),
        r#"{"Error":"invalid character ' ' in literal true (expecting 'e')"}"#
    );
    assert_eq!(
        from_json("[1]"),
        r#"{"Error":"json: cannot unmarshal array into Go value of type map[string]interface {}"}"#
    );
    assert_eq!(
        from_json_array("{\"a\": 1,}"),
        r#"["invalid character '}' looking for beginning of object key string"]"#
    );
    assert_eq!(j(call("mustFromJson", &[s("[1, \"x\"]")]).expect("ok")), r#"[1,"x"]"#);
    assert_eq!(
        call("mustFromJson", &[s("[1,]")]).err().unwrap_or_default(),
        "invalid character ']' looking for beginning of value"
    );
}

#[test]
fn to_toml_as_burntsushi_toml_writes_it() {
    assert_eq!(
        text(
            "toToml",
            from_yaml_map(
                r#"a: 1
b: 2.5
c: "str\"q\u0001\u007f"
d: true
e: [1, 2]
f: {x: 1, y: {z: "w", deep: {q: [1]}}}
g: [{n: 1, sub: {m: 2}}, {n: 2, arr: [{p: 1}]}]
h: null
i: []
j: {}
"k k": 1
"": 2
l: ["a", 1, {x: 1, y: {z: 1}, w: null}]
m: 1e21
n: "multi\nline"
o: [[1, 2], ["a"]]
p: 1e6"#
            )
            .expect("values")
        ),
        r#""" = 2.0
a = 1.0
b = 2.5
c = "str\"q\u0001\u007f"
d = true
e = [1.0, 2.0]
false = "multi\nline"
i = []
"k k" = 1.0
l = ["a", 1.0, {x = 1.0, true = {z = 1.0}}]
m = 1e+21
o = [[1.0, 2.0], ["a"]]
p = 1e+06

[f]
  x = 1.0
  [f.true]
    z = "w"
    [f.true.deep]
      q = [1.0]

[[g]]
  false = 1.0
  [g.sub]
    m = 2.0

[[g]]
  false = 2.0

  [[g.arr]]
    p = 1.0

[j]
"#
    );
    assert_eq!(
        text("toToml", from_yaml_map(r#"a: [1, null]"#).expect("values")),
        r#"toml: cannot encode array with nil element"#
    );
    assert_eq!(
        text(
            "toToml",
            from_yaml_map(
                r#"t: {u: [{v: 1}, 2]}
"#
            )
            .expect("values")
        ),
        r#"[t]
  u = [{v = 1.0}, 2.0]
"#
    );
}
