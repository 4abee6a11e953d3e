//! huandu/xstrings' case conversions as sprig v3 uses them: `snakecase` and `kebabcase`
//! (`camelCaseToLowerCase`, words split at case changes, numbers and connectors) and
//! `camelcase` (`ToPascalCase`), plus the Unicode classes they and goutils rely on.

/// Go's `unicode.IsSpace`.
pub fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}')
        || (c > '\u{ff}' && c.is_whitespace())
}

/// Go's `unicode.IsPunct` (category P): exact for ASCII and Latin-1, the common blocks beyond.
pub fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return matches!(
            c,
            '!' | '"'
                | '#'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '?'
                | '@'
                | '['
                | '\\'
                | ']'
                | '_'
                | '{'
                | '}'
        );
    }
    matches!(
        c,
        '\u{a1}' | '\u{a7}' | '\u{ab}' | '\u{b6}' | '\u{b7}' | '\u{bb}' | '\u{bf}'
    ) || ('\u{2010}'..='\u{2027}').contains(&c)
        || ('\u{2030}'..='\u{2043}').contains(&c)
        || ('\u{2045}'..='\u{2051}').contains(&c)
        || ('\u{2053}'..='\u{205e}').contains(&c)
        || ('\u{3001}'..='\u{3003}').contains(&c)
        || ('\u{3008}'..='\u{3011}').contains(&c)
        || ('\u{ff01}'..='\u{ff0f}').contains(&c) && !matches!(c, '\u{ff04}' | '\u{ff0b}')
}

/// Go's `unicode.ToUpper` (a single rune; multi-rune mappings leave the rune as it is).
pub fn to_upper(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`.
pub fn to_lower(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

fn is_alphabet(c: char) -> bool {
    if !c.is_alphabetic() {
        return false;
    }
    !(('\u{4e00}'..='\u{9fcc}').contains(&c)
        || ('\u{3400}'..='\u{4d85}').contains(&c)
        || ('\u{20000}'..='\u{2b81d}').contains(&c))
}

/// `camelcase`: xstrings' `ToPascalCase`.
pub fn pascal_case(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    let mut first_upper = false;
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = c.is_uppercase();
            r0 = Some(to_upper(c));
            break;
        }
        out.push(c);
        // Go writes the last rune read once more when the string is all connectors.
        r0 = Some(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    if chars.as_str().is_empty() {
        out.push(r0);
        return out;
    }
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = r0.is_uppercase();
            r0 = to_upper(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    None,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// The next word of `s`: its type, its text and the rest.
fn next_word(s: &str) -> (Word, &str, &str) {
    let Some(first) = s.chars().next() else {
        return (Word::None, "", "");
    };
    let mut end = first.len_utf8();
    let take_while = |end: &mut usize, pred: &dyn Fn(char) -> bool| {
        for c in s.get(*end..).unwrap_or("").chars() {
            if !pred(c) {
                break;
            }
            *end += c.len_utf8();
        }
    };
    let wt = if is_connector(first) {
        take_while(&mut end, &is_connector);
        Word::Connector
    } else if is_punct(first) {
        take_while(&mut end, &is_punct);
        Word::Punct
    } else if first.is_uppercase() {
        let rest = s.get(end..).unwrap_or("");
        if let Some(second) = rest.chars().next() {
            if second.is_uppercase() {
                let mut prev = second.len_utf8();
                end += prev;
                let mut stopped_on = None;
                for c in s.get(end..).unwrap_or("").chars() {
                    if !c.is_uppercase() {
                        stopped_on = Some(c);
                        break;
                    }
                    prev = c.len_utf8();
                    end += prev;
                }
                if stopped_on.is_some_and(is_alphabet) {
                    end -= prev;
                }
            } else if is_alphabet(second) {
                end += second.len_utf8();
                take_while(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
            }
        }
        Word::Upper
    } else if is_alphabet(first) {
        take_while(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
        Word::Alphabet
    } else if first.is_numeric() {
        take_while(&mut end, &char::is_numeric);
        Word::Number
    } else {
        take_while(&mut end, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    let (word, rest) = s.split_at_checked(end).unwrap_or((s, ""));
    (wt, word, rest)
}

fn push_lower(out: &mut String, wt: Word, word: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(to_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// `snakecase` (`connector` `_`) and `kebabcase` (`-`): xstrings' `camelCaseToLowerCase`.
pub fn lower_case_words(s: &str, connector: char) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let (mut wt, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if wt != Word::Connector {
            push_lower(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    push_lower(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::None | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => push_lower(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let number = word;
                (wt, word, rest) = next_word(rest);
                if wt != Word::Alphabet {
                    push_lower(&mut out, Word::Number, number, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                push_lower(&mut out, Word::Number, number, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    push_lower(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::None | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    push_lower(&mut out, wt, word, connector);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_convert_as_xstrings_does() {
        // Oracle: camelcase of each.
        for (s, want) in [
            ("hello_world", "HelloWorld"),
            ("helloWorld", "HelloWorld"),
            ("__a_b", "__AB"),
            ("a--b c", "A-BC"),
            ("HTTP_server", "HttpServer"),
            ("x_", "X_"),
            ("_", "__"),
        ] {
            assert_eq!(pascal_case(s), want, "{s}");
        }
        // Oracle: snakecase / kebabcase of each.
        for (s, want) in [
            ("HelloWorld", "hello_world"),
            ("HTTPServer", "http_server"),
            ("hello-world 2x", "hello_world_2x"),
            ("a1b", "a_1b"),
            ("ID123abc", "id_123abc"),
            ("__A", "__a"),
        ] {
            assert_eq!(lower_case_words(s, '_'), want, "{s}");
        }
        assert_eq!(lower_case_words("FooBar.baz", '-'), "foo-bar.baz");
    }
}
