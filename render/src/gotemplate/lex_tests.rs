//! Lexer tests: the items Go's text/template lexer produces for the same text.

use super::*;

fn toks(s: &str) -> Vec<(Tok, String)> {
    lex(s).into_iter().map(|i| (i.tok, i.val)).collect()
}

#[test]
fn trim_markers_and_negative_numbers() {
    assert_eq!(
        toks("a  {{- 3 -}}  b"),
        vec![
            (Tok::Text, "a".into()),
            (Tok::LeftDelim, "{{".into()),
            (Tok::Number, "3".into()),
            (Tok::RightDelim, "}}".into()),
            (Tok::Text, "b".into()),
            (Tok::Eof, String::new()),
        ]
    );
    let t = toks("{{-3}}");
    assert_eq!(t[1], (Tok::Number, "-3".into()));
}

#[test]
fn fields_variables_and_comments() {
    let t = toks("x {{- /* c */ -}} y{{$a.b .c.d}}");
    assert_eq!(t[0], (Tok::Text, "x".into()));
    assert_eq!(t[1].0, Tok::Comment);
    assert_eq!(t[2], (Tok::Text, "y".into()));
    assert_eq!(t[4], (Tok::Variable, "$a".into()));
    assert_eq!(t[5], (Tok::Field, ".b".into()));
    assert_eq!(t[7], (Tok::Field, ".c".into()));
}

#[test]
fn errors() {
    let last = |s: &str| lex(s).pop().map(|i| i.val).unwrap_or_default();
    assert_eq!(last("{{ \"abc }}"), "unterminated quoted string");
    assert_eq!(last("{{ 3x }}"), "bad number syntax: \"3x\"");
    assert_eq!(last("{{ .x "), "unclosed action");
    assert_eq!(last("{{ ) }}"), "unexpected right paren");
    assert_eq!(last("{{ ( }}"), "unclosed left paren");
    assert_eq!(last("{{/* x */ y }}"), "comment ends before closing delimiter");
}
