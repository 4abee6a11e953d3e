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
