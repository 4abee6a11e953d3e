//! The lexer: template text to items, as Go's `text/template/parse` lexer cuts it (delimiters
//! `{{`/`}}`, trim markers `{{- ` and ` -}}`, comments, and the tokens inside actions).
//!
//! Lexing stops at the first error, which becomes a final [`Tok::Error`] item: the parser
//! reports it when (and only if) it reaches it, as Go's does.

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Error,
    Eof,
    Text,
    LeftDelim,
    RightDelim,
    Comment,
    Space,
    Identifier,
    Field,
    Variable,
    CharConst,
    Number,
    Complex,
    Str,
    RawStr,
    Bool,
    Nil,
    Dot,
    Pipe,
    LeftParen,
    RightParen,
    Assign,
    Declare,
    /// A printable ASCII character not otherwise meaningful (`,`).
    Char,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

impl Tok {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Tok::Block
                | Tok::Break
                | Tok::Continue
                | Tok::Define
                | Tok::Else
                | Tok::End
                | Tok::If
                | Tok::Range
                | Tok::Template
                | Tok::With
                | Tok::Nil
                | Tok::Dot
        )
    }
}

/// One lexed item.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub tok: Tok,
    /// Byte offset of the item in the template text.
    pub pos: usize,
    /// 1-based line of the item's start.
    pub line: usize,
    /// The item's text (for `Error`, the message).
    pub val: String,
}

impl std::fmt::Display for Item {
    /// As Go prints an item in "unexpected X in Y".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.tok {
            Tok::Eof => f.write_str("EOF"),
            Tok::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", crate::gotemplate::fmt::quote(&head))
            }
            _ => f.write_str(&crate::gotemplate::fmt::quote(&self.val)),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

/// Cuts `input` into items; the last is `Eof` or `Error`.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        items: Vec::new(),
        paren_depth: 0,
    };
    l.run();
    l.items
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    line: usize,
    start_line: usize,
    items: Vec<Item>,
    paren_depth: i64,
}

/// Result of a lexing step: `Err(())` once an error item has been emitted.
type Step = Result<(), ()>;

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn advance(&mut self, n: usize) {
        let s = self.input.get(self.pos..self.pos + n).unwrap_or("");
        self.line += s.matches('\n').count();
        self.pos += n;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn emit(&mut self, tok: Tok) {
        let val = self.input.get(self.start..self.pos).unwrap_or("").to_string();
        self.emit_val(tok, val);
    }

    fn emit_val(&mut self, tok: Tok, val: String) {
        self.items.push(Item {
            tok,
            pos: self.start,
            line: self.start_line,
            val,
        });
        self.ignore();
    }

    fn error(&mut self, msg: String) -> Step {
        self.items.push(Item {
            tok: Tok::Error,
            pos: self.start,
            line: self.start_line,
            val: msg,
        });
        Err(())
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn run(&mut self) {
        loop {
            match self.lex_text() {
                Ok(true) => {
                    if self.lex_action().is_err() {
                        return;
                    }
                }
                Ok(false) => {
                    self.emit_val(Tok::Eof, String::new());
                    return;
                }
                Err(()) => return,
            }
        }
    }

    /// Text up to the next `{{`; `Ok(true)` if one follows (the lexer is then on it).
    fn lex_text(&mut self) -> Result<bool, ()> {
        let Some(x) = self.rest().find(LEFT) else {
            self.pos = self.input.len();
            if self.pos > self.start {
                self.line += self.input[self.start..].matches('\n').count();
                self.emit(Tok::Text);
            }
            return Ok(false);
        };
        let delim_at = self.pos + x;
        let mut text_end = delim_at;
        if has_left_trim(self.input.get(delim_at + LEFT.len()..).unwrap_or("")) {
            let text = &self.input[self.start..delim_at];
            text_end = self.start + text.trim_end_matches(is_space).len();
        }
        if text_end > self.start {
            let val = self.input[self.start..text_end].to_string();
            self.emit_val(Tok::Text, val);
        }
        // Skip to the delimiter (trimmed space included), counting lines.
        self.pos = self.start;
        self.advance(delim_at - self.start);
        self.ignore();
        Ok(true)
    }

    /// From a `{{` to its `}}` (or a comment).
    fn lex_action(&mut self) -> Step {
        self.advance(LEFT.len());
        let trim = has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self
            .input
            .get(self.pos + after..)
            .unwrap_or("")
            .starts_with(LEFT_COMMENT)
        {
            self.advance(after);
            self.ignore();
            return self.lex_comment();
        }
        self.emit(Tok::LeftDelim);
        self.advance(after);
        self.ignore();
        self.paren_depth = 0;
        self.lex_inside()
    }

    /// At a `}}` or ` -}}`: (is a delimiter, with trim marker).
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if r.starts_with(" -}}") {
            (true, true)
        } else {
            (r.starts_with(RIGHT), false)
        }
    }

    fn skip_left_trim_space(&mut self) {
        let r = self.rest();
        let n = r.len() - r.trim_start_matches(is_space).len();
        self.advance(n);
        self.ignore();
    }

    fn lex_comment(&mut self) -> Step {
        self.advance(LEFT_COMMENT.len());
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.advance(x + RIGHT_COMMENT.len());
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        self.emit(Tok::Comment);
        if trim {
            self.advance(2);
        }
        self.advance(RIGHT.len());
        self.ignore();
        if trim {
            self.skip_left_trim_space();
        }
        Ok(())
    }

    fn lex_right_delim(&mut self) -> Step {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.advance(2);
            self.ignore();
        }
        self.advance(RIGHT.len());
        self.emit(Tok::RightDelim);
        if trim {
            self.skip_left_trim_space();
        }
        Ok(())
    }

    fn lex_inside(&mut self) -> Step {
        loop {
            let (delim, _) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    return self.lex_right_delim();
                }
                return self.error("unclosed left paren".into());
            }
            let Some(c) = self.next() else {
                return self.error("unclosed action".into());
            };
            match c {
                c if is_space(c) => {
                    self.backup(c);
                    if self.lex_space()? {
                        return self.lex_right_delim();
                    }
                }
                '=' => self.emit(Tok::Assign),
                ':' => {
                    if self.next() != Some('=') {
                        return self.error("expected :=".into());
                    }
                    self.emit(Tok::Declare);
                }
                '|' => self.emit(Tok::Pipe),
                '"' => self.lex_escaped('"', Tok::Str, "quoted string")?,
                '`' => self.lex_raw_quote()?,
                '$' => self.lex_field_or_var(Tok::Variable)?,
                '\'' => self.lex_escaped('\'', Tok::CharConst, "character constant")?,
                '.' if !matches!(self.peek(), Some('0'..='9')) => self.lex_field_or_var(Tok::Field)?,
                '.' | '+' | '-' | '0'..='9' => {
                    self.backup(c);
                    self.lex_number()?;
                }
                c if is_alnum(c) => {
                    self.backup(c);
                    self.lex_identifier()?;
                }
                '(' => {
                    self.paren_depth += 1;
                    self.emit(Tok::LeftParen);
                }
                ')' => {
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.error("unexpected right paren".into());
                    }
                    self.emit(Tok::RightParen);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(Tok::Char),
                c => {
                    return self.error(format!(
                        "unrecognized character in action: {}",
                        crate::gotemplate::fmt::unicode_u(c)
                    ));
                }
            }
        }
    }

    /// A run of spaces; `Ok(true)` if it is the single space of a ` -}}`.
    fn lex_space(&mut self) -> Result<bool, ()> {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        // A space then "-}}": the last space belongs to the trim marker.
        if self.input.get(self.pos - 1..).unwrap_or("").starts_with(" -}}") {
            self.backup(' ');
            if n == 1 {
                return Ok(true);
            }
        }
        self.emit(Tok::Space);
        Ok(false)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_identifier(&mut self) -> Step {
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", crate::gotemplate::fmt::unicode_u(c)));
        }
        let word = &self.input[self.start..self.pos];
        let tok = match word {
            "block" => Tok::Block,
            "break" => Tok::Break,
            "continue" => Tok::Continue,
            "define" => Tok::Define,
            "else" => Tok::Else,
            "end" => Tok::End,
            "if" => Tok::If,
            "range" => Tok::Range,
            "nil" => Tok::Nil,
            "template" => Tok::Template,
            "with" => Tok::With,
            "true" | "false" => Tok::Bool,
            _ => Tok::Identifier,
        };
        self.emit(tok);
        Ok(())
    }

    fn lex_field_or_var(&mut self, tok: Tok) -> Step {
        if self.at_terminator() {
            self.emit(if tok == Tok::Variable { Tok::Variable } else { Tok::Dot });
            return Ok(());
        }
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.next();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", crate::gotemplate::fmt::unicode_u(c)));
        }
        self.emit(tok);
        Ok(())
    }

    /// A quoted string or character constant up to its closing `close`, escapes skipped;
    /// unterminated at a newline or the end, as Go words it (`unterminated {what}`).
    fn lex_escaped(&mut self, close: char, tok: Tok, what: &str) -> Step {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    None | Some('\n') => return self.error(format!("unterminated {what}")),
                    Some(_) => {}
                },
                None | Some('\n') => return self.error(format!("unterminated {what}")),
                Some(c) if c == close => break,
                Some(_) => {}
            }
        }
        self.emit(tok);
        Ok(())
    }

    fn lex_raw_quote(&mut self) -> Step {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Tok::RawStr);
        Ok(())
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn lex_number(&mut self) -> Step {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", crate::gotemplate::fmt::quote(&text)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::gotemplate::fmt::quote(&text)));
            }
            self.emit(Tok::Complex);
            return Ok(());
        }
        self.emit(Tok::Number);
        Ok(())
    }
}

#[cfg(test)]
#[path = "lex_tests.rs"]
mod tests;
