//! toYaml, checked against what Helm v4 (the real library) prints for the same values.
use super::*;

fn to_yaml_of(values: &str) -> String {
    let v = from_yaml_map(values).expect("values");
    let text = to_yaml(&v).expect("yaml");
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

#[test]
fn to_yaml_numbers_and_key_order() {
    let values = r#"a10: 1
a9: "on"
B: 2
a: 3
"1": x
"10": y
"9": z
_x: 1
a01: 1
a1: 2
a_b: 3
ab: 4
list: [1, 2.5, "x: y"]
big: 1e21
big2: 100000000000000000000
neg0: -0.0
small: 0.0000001
oct: 0755
f: 1234567.5
u: 12345678901234567890"#;
    let want = r#"_x: 1
"1": x
"9": z
"10": true
B: 2
a: 3
a_b: 3
a1: 2
a01: 1
a9: "on"
a10: 1
ab: 4
big: 1e+21
big2: 1e+20
f: 1.2345675e+06
list:
- 1
- 2.5
- 'x: y'
neg0: 0
oct: 493
small: 1e-07
u: 12345678901234567000"#;
    assert_eq!(to_yaml_of(values), want);
}

#[test]
fn to_yaml_quoting_of_strings() {
    let values = r#"s1: "y"
s2: "1e3"
s3: ".5"
s4: "0755"
s5: " lead"
s6: "trail "
s7: "{a"
s8: "[a"
s9: "&a"
s10: "*a"
s11: "!a"
s12: "|a"
s13: ">a"
s14: "'a"
s15: "\"a"
s16: "%a"
s17: "@a"
s18: "`a"
s19: "- a"
s20: "a: b"
s21: "a #b"
s22: ""
s23: "a#b"
s24: "-a"
s25: ":a"
s26: "?a"
s27: "? a"
s28: "1:30"
s29: "2001-12-14"
s30: "<<"
s31: "null"
s32: "~"
s33: "a,b"
s34: "---"
s35: "...x"
s36: "0x1F"
s37: "+1"
s38: "1_000"
s39: ".inf"
s40: "NaN"
s41: "tab\there"
s42: "é ü 日本"
s43: "emoji 😀"
s44: "\u00a0nbsp"
s45: "bell\a"
s46: "\ufeffbom"
s47: "a\u2028b"
s49: "nel \u0085 \u0085x"
s50: "n\u0085x""#;
    let want = r#"s1: "y"
s2: "1e3"
s3: ".5"
s4: "0755"
s5: ' lead'
s6: 'trail '
s7: '{a'
s8: '[a'
s9: '&a'
s10: '*a'
s11: '!a'
s12: '|a'
s13: '>a'
s14: '''a'
s15: '"a'
s16: '%a'
s17: '@a'
s18: '`a'
s19: '- a'
s20: 'a: b'
s21: 'a #b'
s22: ""
s23: a#b
s24: -a
s25: :a
s26: ?a
s27: '? a'
s28: "1:30"
s29: "2001-12-14"
s30: <<
s31: "null"
s32: "~"
s33: a,b
s34: '---'
s35: '...x'
s36: "0x1F"
s37: "+1"
s38: "1_000"
s39: ".inf"
s40: NaN
s41: "tab\there"
s42: é ü 日本
s43: "emoji \U0001F600"
s44:  nbsp
s45: "bell\a"
s46: "\uFEFF\x62\x6F\x6D"
s47: 'a   b'
s49: |-
  nel
  x
s50: n x"#;
    assert_eq!(to_yaml_of(values), want);
}

#[test]
fn to_yaml_multiline_and_nesting() {
    let values = r#"m1: "line1\nline2"
m2: "line1\nline2\n"
m3: "line1\nline2\n\n"
m4: " lead\nx"
m5: "\nlead"
m6: "trail \nx"
m7: "a\n b"
m8: "x\n"
m9: "\n"
m10: "a\r\nb"
m11: "tab\tx\ny"
nested:
  deep:
    - "a\nb"
    - - 1
      - 2
    - k: "v\nw"
      l: [a, b]"#;
    let want = r#"m1: |-
  line1
  line2
m2: |
  line1
  line2
m3: |+
  line1
  line2

m4: |2-
   lead
  x
m5: |2-

  lead
m6: "trail \nx"
m7: |-
  a
   b
m8: |
  x
m9: |2+

m10: "a\r\nb"
m11: "tab\tx\ny"
nested:
  deep:
  - |-
    a
    b
  - - 1
    - 2
  - k: |-
      v
      w
    l:
    - a
    - b"#;
    assert_eq!(to_yaml_of(values), want);
}

#[test]
fn to_yaml_long_lines_and_keys() {
    let values = r#"long1: "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv"
long2: "'aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv"
long3: "on aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv  www  xxx"
long4: "\taaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv  www  xxx"
nest:
  deeper:
    list:
      - "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv"
averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongkey1234567: 1
"multi\nkey": 2
"": 3
"a: b": 4
"#;
    let want = r#""": 3
'a: b': 4
? averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongkey1234567
: 1
long1: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
  pppp qqqq rrrr ssss tttt uuuu vvvv
long2: '''aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
  pppp qqqq rrrr ssss tttt uuuu vvvv'
long3: on aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
  pppp qqqq rrrr ssss tttt uuuu vvvv  www  xxx
long4: "\taaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo
  pppp qqqq rrrr ssss tttt uuuu vvvv  www  xxx"
? |-
  multi
  key
: 2
nest:
  deeper:
    list:
    - aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp
      qqqq rrrr ssss tttt uuuu vvvv"#;
    assert_eq!(to_yaml_of(values), want);
}

#[test]
fn reading_values_as_helm_reads_them() {
    // yaml_1_1_scalars_and_tags
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"a: !!str 123
b: !!int "12"
c: !!float 3
d: !!binary aGVsbG8=
e: 1:30
f: +12
g: 0b101
h: 1_000
i: .5
j: 1.
k: 0o17
l: 9223372036854775808
m: 18446744073709551616
n: 2001-12-14T21:59:43.10-05:00
p: -0b11
q: 0x_1F
r: 1e3
s: 1E3
t: -.5e-3
u: 00
v: 08
w: 0.1.2
x: 1__0
yy: [y, Y, yes, Yes, YES, n, N, no, No, NO, on, On, ON, off, Off, OFF, true, True, TRUE, false, False, FALSE, oN, yES]
nn: [~, null, Null, NULL, "", nUll]
html: "<a href='x'>&amp;</a>"
ls: "a\u2028b\u2029c"
big: 123456789012345678901234567890
small: 1e-7
tiny: 0.000001"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{"a":"123","b":12,"big":1.2345678901234568e+29,"c":3,"d":"hello","e":"1:30","f":12,"false":"2001-12-14T21:59:43.10-05:00","g":5,"h":1000,"html":"\u003ca href='x'\u003e\u0026amp;\u003c/a\u003e","i":0.5,"j":1,"k":15,"l":9223372036854776000,"ls":"a\u2028b\u2029c","m":18446744073709552000,"nn":[null,null,null,null,"","nUll"],"p":-3,"q":31,"r":1000,"s":1000,"small":1e-7,"t":-0.0005,"tiny":0.000001,"u":0,"v":8,"w":"0.1.2","x":10,"yy":[true,true,true,true,true,false,false,false,false,false,true,true,true,false,false,false,true,true,true,false,false,false,"oN","yES"]}"#
    );
    // keys_become_strings
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"1.1: a
3.14159265358979: b
0x10: c
1e3: d
-0: e
.inf: f
y: g
no: h
1e7: i
0.0001: j
12345678: k"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{".inf":"f","0":"e","0.0001":"j","1.1":"a","1000":"d","12345678":"k","16":"c","1e+07":"i","3.1415927":"b","false":"h","true":"g"}"#
    );
    // anchors_aliases_and_merge_keys
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"base: &b {x: 1, y: 2}
base2: &c {y: 3, z: 4}
m:
  x: 0
  <<: [*b, *c]
  z: 9
m2:
  <<: *b
  w: 1
lst: &l [1, 2]
again: *l
"<<": quoted
str: <<"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{"\u003c\u003c":"quoted","again":[1,2],"base":{"true":2,"x":1},"base2":{"true":3,"z":4},"lst":[1,2],"m":{"true":2,"x":1,"z":9},"m2":{"true":2,"w":1,"x":1},"str":"\u003c\u003c"}"#
    );
    // block_and_quoted_scalars
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"lit: |
  line1
   line2

keep: |+
  a

fold: >
  folded
  text

   more
strip: >-
  x
  y
dq: "a\tb\x41\u00e9\U0001F600\
  cont"
sq: 'it''s'
plain multi: a
  b
  c"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{"dq":"a\tbAé😀cont","fold":"folded text\n\n more\n","keep":"a\n\n","lit":"line1\n line2\n","plain multi":"a b c","sq":"it's","strip":"x y"}"#
    );
    // duplicates_and_documents
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"a: 1
a: 2
b:
  c: 1
b:
  d: 2
---
c: 3"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{"a":2,"b":{"d":2}}"#
    );
    // explicit_tags
    assert_eq!(
        to_json(
            &from_yaml_map(
                r#"a: !foo bar
b: !!map {a: 1}
c: !!timestamp 2001-01-01
d: !!float "1"
e: ! 12
f: !!null ""
g: !!bool "yes"
"#
            )
            .expect("values")
        )
        .expect("json"),
        r#"{"a":"bar","b":{"a":1},"c":"2001-01-01","d":1,"e":"12","f":null,"g":true}"#
    );
}

#[test]
fn hostile_input_is_refused_not_expanded() {
    let deep = format!("a: {}{}", "[".repeat(5000), "]".repeat(5000));
    // The parser's own recursion limit stops this one before ours.
    assert!(from_yaml(&deep).is_err());
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for n in 1..9 {
        let prev = char::from(b'a' + n - 1);
        let cur = char::from(b'a' + n);
        laughs.push_str(&format!(
            "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    assert_eq!(
        from_yaml(&laughs).err().map(|e| e.to_string()).unwrap_or_default(),
        "error converting YAML to JSON: yaml: document contains excessive aliasing"
    );
    let json_deep = "[".repeat(5000);
    assert!(from_json(&json_deep).is_err());
}

#[test]
fn block_scalar_ending_the_input_has_no_final_break() {
    // Helm v4.2.3: `fromYaml TEXT | toJson`.
    for (text, json) in [
        ("a: |\n  x\n  y", r#"{"a":"x\ny"}"#),
        ("a: |+\n  x\n  y", r#"{"a":"x\ny"}"#),
        ("a: >\n  x\n  y", r#"{"a":"x y"}"#),
        ("a: |-\n  x", r#"{"a":"x"}"#),
        ("a: |\n  x\n", r#"{"a":"x\n"}"#),
        ("a: |\n  x\n\n", r#"{"a":"x\n"}"#),
        ("a: |+\n  x\n\n", r#"{"a":"x\n\n"}"#),
        ("a: |\n  x\nb: 1", r#"{"a":"x\n","b":1}"#),
    ] {
        let v = from_yaml_map(text).expect("yaml");
        assert_eq!(to_json(&v).expect("json"), json, "{text:?}");
    }
}
