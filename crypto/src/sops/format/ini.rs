//! The INI store (as go-ini reads and writes it for sops): sections become top-level
//! mappings of string values; keys before any section belong to `DEFAULT`.

use crate::sops::tree::{Branch, Comment, Item, Value};

use super::dotenv::val_to_string;

const DEFAULT_SECTION: &str = "DEFAULT";

fn strip_comment_char(c: &str) -> String {
    if c.starts_with(';') {
        c.trim_start_matches([';', ' ']).to_string()
    } else if c.starts_with('#') {
        c.trim_start_matches(['#', ' ']).to_string()
    } else {
        c.to_string()
    }
}

fn parse_value(raw: &str, lines: &mut std::iter::Peekable<impl Iterator<Item = (usize, String)>>) -> String {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix("\"\"\"") {
        // Multi-line value until the closing triple quote.
        if let Some(end) = rest.find("\"\"\"") {
            return rest[..end].to_string();
        }
        let mut value = rest.to_string();
        for (_, line) in lines.by_ref() {
            if let Some(end) = line.find("\"\"\"") {
                value.push('\n');
                value.push_str(&line[..end]);
                return value;
            }
            value.push('\n');
            value.push_str(&line);
        }
        return value;
    }
    if let Some(rest) = raw.strip_prefix('`')
        && let Some(end) = rest.find('`')
    {
        return rest[..end].to_string();
    }
    let mut v = raw;
    if let Some(i) = v.find(['#', ';']) {
        v = v[..i].trim_end();
    }
    if v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\''))) {
        v = &v[1..v.len() - 1];
    }
    v.to_string()
}

/// Parses INI text into one mapping of sections.
pub fn load(bytes: &[u8]) -> Result<Branch, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "input is not valid UTF-8".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<(String, Branch)> = vec![(DEFAULT_SECTION.to_string(), Branch::new())];
    let mut comments: Vec<String> = Vec::new();
    let mut lines = text.lines().map(str::to_string).enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            comments.push(trimmed.to_string());
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .split_once(']')
                .map(|(n, _)| n.trim())
                .ok_or(format!("line {}: unclosed section header", n + 1))?;
            let mut b = Branch::new();
            if !comments.is_empty() {
                b.0.push(Item::Comment(Comment::new(strip_comment_char(&comments.join("\n")))));
                comments.clear();
            }
            if name == DEFAULT_SECTION {
                if let Some((_, d)) = sections.first_mut() {
                    d.0.extend(b.0);
                }
            } else {
                sections.push((name.to_string(), b));
            }
            continue;
        }
        let (key, value) = match trimmed.find(['=', ':']) {
            Some(i) => (trimmed[..i].trim(), &trimmed[i + 1..]),
            None => return Err(format!("line {}: expected key = value", n + 1)),
        };
        let key = key.trim_matches('`').to_string();
        let value = parse_value(value, &mut lines);
        let section = &mut sections.last_mut().expect("DEFAULT is always present").1;
        section.remove(&key);
        section.push(key, Value::str(value));
        if !comments.is_empty() {
            section
                .0
                .push(Item::Comment(Comment::new(strip_comment_char(&comments.join("\n")))));
            comments.clear();
        }
    }
    let mut out = Branch::new();
    for (name, b) in sections {
        out.push(name, Value::Map(b));
    }
    Ok(out)
}

fn ini_value(v: &str) -> String {
    if v.contains('\n') || v.contains('`') {
        format!("\"\"\"{v}\"\"\"")
    } else if v.contains(['#', ';']) {
        format!("`{v}`")
    } else if v.trim() != v {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

fn write_comment(out: &mut String, c: &str) {
    for line in c.split('\n') {
        if line.starts_with('#') || line.starts_with(';') {
            out.push_str(line);
        } else {
            out.push_str("; ");
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Writes INI text as go-ini does (keys aligned on `=`, a blank line between sections).
pub fn emit(doc: &Branch) -> Result<Vec<u8>, String> {
    let mut out = String::new();
    let mut first = true;
    for (name, section) in doc.pairs() {
        let Value::Map(items) = section else {
            return Err("section values must be mappings".into());
        };
        if name == DEFAULT_SECTION && items.is_empty() {
            continue;
        }
        if !first {
            out.push('\n');
        }
        first = false;
        let mut rest = &items.0[..];
        if let Some(Item::Comment(c)) = rest.first() {
            write_comment(&mut out, &c.text);
            rest = &rest[1..];
        }
        if name != DEFAULT_SECTION {
            out.push('[');
            out.push_str(name);
            out.push_str("]\n");
        }
        let width = items.pairs().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        // go-ini writes a key's comment above the key; sops keeps it after the key in the tree.
        let mut pending: Option<(String, String)> = None;
        let flush = |out: &mut String, p: &mut Option<(String, String)>, comment: Option<&str>| {
            if let Some((k, v)) = p.take() {
                if let Some(c) = comment {
                    write_comment(out, c);
                }
                let key = if k.contains(['=', ':']) {
                    format!("`{k}`")
                } else {
                    k.clone()
                };
                out.push_str(&key);
                out.extend(std::iter::repeat_n(' ', width.saturating_sub(k.chars().count())));
                out.push_str(" = ");
                out.push_str(&v);
                out.push('\n');
            }
        };
        for item in rest {
            match item {
                Item::Pair { key, value } => {
                    flush(&mut out, &mut pending, None);
                    let v = match value {
                        Value::Str(s) => s.to_string(),
                        Value::Map(_) | Value::Seq(_) => {
                            return Err(format!("nested value in INI key {}", key.as_str()));
                        }
                        other => val_to_string(other),
                    };
                    pending = Some((key.to_string(), ini_value(&v)));
                }
                Item::Comment(c) => flush(&mut out, &mut pending, Some(&c.text)),
            }
        }
        flush(&mut out, &mut pending, None);
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_aligns() {
        let doc = load(b"[db]\nuser = app\npassword = hunter2\n").unwrap();
        assert_eq!(
            String::from_utf8(emit(&doc).unwrap()).unwrap(),
            "[db]\nuser     = app\npassword = hunter2\n"
        );
    }

    #[test]
    fn two_sections() {
        let doc = load(b"a = 1\n[x]\nk = v ; comment\n[y]\nk = `v;w`\n").unwrap();
        let out = String::from_utf8(emit(&doc).unwrap()).unwrap();
        assert_eq!(out, "a = 1\n\n[x]\nk = v\n\n[y]\nk = `v;w`\n");
    }
}
