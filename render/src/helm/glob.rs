//! The glob patterns `.Files.Glob` takes (gobwas/glob with `/` as separator): `*` is any run
//! of characters but `/`, `**` any run at all, `?` one character but `/`, `[a-z]`/`[!a-z]` a
//! class, `{a,b}` alternatives, `\c` a literal `c`.

#[derive(Debug, Clone)]
enum Node {
    Literal(char),
    Star,
    SuperStar,
    Any,
    Class { negated: bool, ranges: Vec<(char, char)> },
    Alt(Vec<Vec<Node>>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    nodes: Vec<Node>,
}

/// A pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadGlob;

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Glob, BadGlob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let nodes = parse_seq(&chars, &mut pos, false)?;
        if pos != chars.len() {
            return Err(BadGlob);
        }
        Ok(Glob { nodes })
    }

    /// Whether `name` matches entirely.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let mut budget = 100_000usize;
        match_seq(&self.nodes, &name, &[], &mut budget)
    }
}

fn parse_seq(chars: &[char], pos: &mut usize, in_alt: bool) -> Result<Vec<Node>, BadGlob> {
    let mut out = Vec::new();
    while let Some(&c) = chars.get(*pos) {
        match c {
            ',' | '}' if in_alt => return Ok(out),
            '*' => {
                if chars.get(*pos + 1) == Some(&'*') {
                    *pos += 2;
                    out.push(Node::SuperStar);
                } else {
                    *pos += 1;
                    out.push(Node::Star);
                }
            }
            '?' => {
                *pos += 1;
                out.push(Node::Any);
            }
            '\\' => {
                let l = *chars.get(*pos + 1).ok_or(BadGlob)?;
                *pos += 2;
                out.push(Node::Literal(l));
            }
            '[' => {
                *pos += 1;
                let negated = chars.get(*pos) == Some(&'!');
                if negated {
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = *chars.get(*pos).ok_or(BadGlob)?;
                    if lo == ']' {
                        *pos += 1;
                        break;
                    }
                    if chars.get(*pos + 1) == Some(&'-') && chars.get(*pos + 2).is_some_and(|c| *c != ']') {
                        let hi = *chars.get(*pos + 2).ok_or(BadGlob)?;
                        ranges.push((lo, hi));
                        *pos += 3;
                    } else {
                        ranges.push((lo, lo));
                        *pos += 1;
                    }
                }
                if ranges.is_empty() {
                    return Err(BadGlob);
                }
                out.push(Node::Class { negated, ranges });
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(chars, pos, true)?);
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err(BadGlob),
                    }
                }
                out.push(Node::Alt(alts));
            }
            c => {
                *pos += 1;
                out.push(Node::Literal(c));
            }
        }
    }
    if in_alt {
        return Err(BadGlob);
    }
    Ok(out)
}

/// Matches `nodes` then `rest` (the continuation after an alternative) against `name`.
fn match_seq(nodes: &[Node], name: &[char], rest: &[&[Node]], budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some((first, tail)) = nodes.split_first() else {
        return match rest.split_first() {
            Some((next, more)) => match_seq(next, name, more, budget),
            None => name.is_empty(),
        };
    };
    match first {
        Node::Star | Node::SuperStar => {
            for i in 0..=name.len() {
                if i > 0 && matches!(first, Node::Star) && name.get(i - 1) == Some(&'/') {
                    return false;
                }
                if match_seq(tail, name.get(i..).unwrap_or_default(), rest, budget) {
                    return true;
                }
            }
            false
        }
        Node::Alt(alts) => {
            let mut cont: Vec<&[Node]> = vec![tail];
            cont.extend_from_slice(rest);
            alts.iter().any(|a| match_seq(a, name, &cont, budget))
        }
        single => {
            let Some((c, more)) = name.split_first() else {
                return false;
            };
            let ok = match single {
                Node::Literal(l) => l == c,
                Node::Any => *c != '/',
                Node::Class { negated, ranges } => {
                    *c != '/' && ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated
                }
                _ => false,
            };
            ok && match_seq(tail, more, rest, budget)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gobwas_patterns() {
        for (p, n, want) in [
            ("files/*", "files/a.conf", true),
            ("files/*", "files/sub/a.conf", false),
            ("files/**", "files/sub/a.conf", true),
            ("**.yaml", "a/b/c.yaml", true),
            ("*.{yaml,json}", "x.json", true),
            ("*.{yaml,json}", "x.toml", false),
            ("conf/[a-c]?.txt", "conf/b1.txt", true),
            ("conf/[!a-c]?.txt", "conf/b1.txt", false),
            ("a\\*", "a*", true),
        ] {
            let g = Glob::new(p).unwrap_or_else(|_| Glob { nodes: vec![] });
            assert_eq!(g.matches(n), want, "{p} {n}");
        }
        assert!(Glob::new("{a,b").is_err());
        assert!(Glob::new("[").is_err());
    }
}
