//! Reading JSON as Go's `json.Unmarshal` into `interface{}` does: numbers become `float64`,
//! duplicate keys keep the last value, and syntax errors are worded as Go's scanner words them.

use zeroize::Zeroizing;

use super::read::MAX_DEPTH;
use crate::gotemplate::value::{Map, Value};

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// The first error that does not stop decoding (a number out of range).
    soft: Option<String>,
}

/// Go's `quoteChar`: how the scanner names a byte in its errors.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        b'\x07' => "'\\a'".into(),
        b'\x08' => "'\\b'".into(),
        b'\x0c' => "'\\f'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\t' => "'\\t'".into(),
        b'\x0b' => "'\\v'".into(),
        b'\\' => "'\\\\'".into(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        c if (0x80..0xa0).contains(&c) || c == 0xad => format!("'\\u{:04x}'", c),
        c => format!("'{}'", char::from(c)),
    }
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Go's scanner error at the current byte. At the end of the input Go's scanner steps a
    /// space through its state: where a space is wrong too, the error names it.
    fn invalid(&self, context: &str) -> String {
        match self.peek() {
            Some(c) => format!("invalid character {} {context}", quote_char(c)),
            None if context.starts_with("in ") || context.starts_with("after decimal") => {
                format!("invalid character ' ' {context}")
            }
            None => "unexpected end of JSON input".into(),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::str(self.string()?.as_str())),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            _ => Err(self.invalid("looking for beginning of value")),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("exceeded max depth of {MAX_DEPTH}"));
        }
        self.i += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Value, String> {
        self.enter()?;
        let mut m = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::map(m));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.invalid("looking for beginning of object key string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.invalid("after object key"));
            }
            self.i += 1;
            let v = self.value()?;
            m.insert(key.as_str().to_owned(), v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::map(m));
                }
                _ => return Err(self.invalid("after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::list(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::list(items));
                }
                _ => return Err(self.invalid("after array element")),
            }
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        for (n, want) in word.bytes().enumerate() {
            if self.peek() != Some(want) {
                if n == 0 {
                    return Err(self.invalid("looking for beginning of value"));
                }
                return Err(self.invalid(&format!("in literal {word} (expecting {})", quote_char(want))));
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.invalid("in numeric literal")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.invalid("after decimal point in numeric literal"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.invalid("in exponent of numeric literal"));
            }
        }
        let text = std::str::from_utf8(self.b.get(start..self.i).unwrap_or_default()).unwrap_or("0");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                if self.soft.is_none() {
                    self.soft = Some(format!(
                        "json: cannot unmarshal number {text} into Go value of type float64"
                    ));
                }
                Ok(Value::Nil)
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| char::from(c).to_digit(16));
            match d {
                Some(d) => v = v * 16 + d,
                None => return Err(self.invalid("in \\u hexadecimal character escape")),
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<Zeroizing<String>, String> {
        self.i += 1;
        let mut out = Zeroizing::new(String::new());
        loop {
            let start = self.i;
            while self.peek().is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(self.b.get(start..self.i).unwrap_or_default()).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek();
                    self.i += 1;
                    match c {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            out.push(self.surrogate(hi)?);
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.invalid("in string escape code"));
                        }
                    }
                }
                Some(_) => return Err(self.invalid("in string literal")),
                None => return Err("unexpected end of JSON input".into()),
            }
        }
    }

    /// A `\u` escape, joined with a following low surrogate escape; a lone surrogate is U+FFFD.
    fn surrogate(&mut self, hi: u32) -> Result<char, String> {
        if !(0xD800..0xDC00).contains(&hi) {
            return Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'));
        }
        if self.b.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.i = save;
        }
        Ok('\u{FFFD}')
    }
}

/// Decodes one JSON value. A syntax error is `Err`; otherwise the value and the first error
/// Go would report after decoding everything it could (a number out of `float64` range).
pub(crate) fn decode(text: &str) -> Result<(Value, Option<String>), String> {
    let mut r = Reader {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
        soft: None,
    };
    let v = r.value()?;
    r.skip_ws();
    if r.peek().is_some() {
        return Err(r.invalid("after top-level value"));
    }
    Ok((v, r.soft))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        decode(text).err().unwrap_or_default()
    }

    #[test]
    fn syntax_errors_are_worded_as_go_words_them() {
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(err("{"), "unexpected end of JSON input");
        assert_eq!(err("x"), "invalid character 'x' looking for beginning of value");
        assert_eq!(err("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            err("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(err("[1 2]"), "invalid character '2' after array element");
        assert_eq!(
            err("{1}"),
            "invalid character '1' looking for beginning of object key string"
        );
        assert_eq!(err("tru"), "invalid character ' ' in literal true (expecting 'e')");
        assert_eq!(err("[1, 2"), "unexpected end of JSON input");
        assert_eq!(err("\"abc"), "unexpected end of JSON input");
        assert_eq!(err("trux"), "invalid character 'x' in literal true (expecting 'e')");
        assert_eq!(err("01"), "invalid character '1' after top-level value");
        assert_eq!(
            err("1."),
            "invalid character ' ' after decimal point in numeric literal"
        );
        assert_eq!(
            err("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(err("\"a\nb\""), "invalid character '\\n' in string literal");
        assert_eq!(err("\"\\x\""), "invalid character 'x' in string escape code");
    }

    #[test]
    fn values_decode_as_go_decodes_them() {
        let (v, soft) = decode(r#"{"a":[1,2.5,"\u00e9\ud83d\ude00",true,null],"a":{"b":1e400}}"#).unwrap();
        assert_eq!(v.format_v(), "map[a:map[b:<nil>]]");
        assert_eq!(
            soft.as_deref(),
            Some("json: cannot unmarshal number 1e400 into Go value of type float64")
        );
        let (v, _) = decode(r#"[1,2.5,"\u00e9\ud83d\ude00\ud800",true,null]"#).unwrap();
        assert_eq!(v.format_v(), "[1 2.5 é😀\u{FFFD} true <nil>]");
    }
}
