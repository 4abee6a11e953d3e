//! Go's `path/filepath.Match` on Unix: `*` is any run of characters but `/`, `?` one
//! character but `/`, `[a-z]`/`[^a-z]` a class, `\c` a literal `c`; the whole name must match.
//! `.helmignore` rules are matched with it.

/// A pattern that is not well-formed (Go's `ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Literal(char),
    Class { negated: bool, ranges: Vec<(char, char)> },
}

fn parse(pattern: &str) -> Result<Vec<Token>, BadPattern> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push(Token::Star),
            '?' => out.push(Token::Any),
            '\\' => out.push(Token::Literal(chars.next().ok_or(BadPattern)?)),
            '[' => {
                let negated = chars.peek() == Some(&'^');
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = match chars.next().ok_or(BadPattern)? {
                        ']' if !ranges.is_empty() => break,
                        ']' | '-' => return Err(BadPattern),
                        '\\' => chars.next().ok_or(BadPattern)?,
                        c => c,
                    };
                    let mut hi = lo;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        hi = match chars.next().ok_or(BadPattern)? {
                            ']' | '-' => return Err(BadPattern),
                            '\\' => chars.next().ok_or(BadPattern)?,
                            c => c,
                        };
                    }
                    ranges.push((lo, hi));
                }
                out.push(Token::Class { negated, ranges });
            }
            c => out.push(Token::Literal(c)),
        }
    }
    Ok(out)
}

fn matches_one(token: &Token, c: char) -> bool {
    match token {
        Token::Star => true,
        Token::Any => c != '/',
        Token::Literal(l) => *l == c,
        Token::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated,
    }
}

/// Whether `name` matches `pattern` entirely, as Go's `filepath.Match` decides; a malformed
/// pattern is an error.
pub fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let tokens = parse(pattern)?;
    let name: Vec<char> = name.chars().collect();
    let (mut t, mut n) = (0usize, 0usize);
    // The last star seen and the name position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let c = name.get(n).copied().unwrap_or_default();
        match tokens.get(t) {
            Some(Token::Star) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            Some(tok) if matches_one(tok, c) => {
                t += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        // Backtrack: let the last star take one more character, which may not be `/`.
        match star {
            Some((st, sn)) if name.get(sn).is_some_and(|c| *c != '/') => {
                star = Some((st, sn + 1));
                t = st + 1;
                n = sn + 1;
            }
            _ => return Ok(false),
        }
    }
    Ok(tokens
        .get(t..)
        .unwrap_or_default()
        .iter()
        .all(|tok| *tok == Token::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_as_go_does() {
        for (p, n, want) in [
            ("*.txt", "a.txt", true),
            ("*.txt", "dir/a.txt", false),
            ("templates/.?*", "templates/.hidden", true),
            ("templates/.?*", "templates/.", false),
            ("templates/.?*", "templates/a", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "dx", true),
            ("[^a-c]x", "bx", false),
            ("\\*", "*", true),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*/b", "a/b", true),
            ("*b", "a/b", false),
            (".git", ".git", true),
        ] {
            assert_eq!(matches(p, n), Ok(want), "{p} {n}");
        }
        for bad in ["[", "[]", "a\\", "[a-", "[-a]"] {
            assert_eq!(matches(bad, "abc"), Err(BadPattern), "{bad}");
        }
    }
}
