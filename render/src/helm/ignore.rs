//! `.helmignore`: which files of a chart directory Helm does not load, with Helm's rules
//! (and its quirks: a negated rule ignores every path it does *not* match).

use super::pathmatch::{self, BadPattern};

/// One parsed rule.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    must_dir: bool,
    /// `/`-anchored or containing `/`: matched against the whole path, else the base name.
    whole_path: bool,
}

/// The rules of a `.helmignore` file plus Helm's default (`templates/.?*`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

/// A rule Helm refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// `**` is not supported.
    #[error("double-star (**) syntax is not supported")]
    DoubleStar,
    /// Not a valid pattern.
    #[error(transparent)]
    Bad(#[from] BadPattern),
}

impl Rules {
    /// The rules of a `.helmignore` file's text, then Helm's default rule.
    pub fn parse(text: &str) -> Result<Rules, RuleError> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            rules.add(line)?;
        }
        rules.add("templates/.?*")?;
        Ok(rules)
    }

    /// Only Helm's default rule (no `.helmignore` file).
    pub fn defaults() -> Rules {
        let mut rules = Rules::default();
        // A constant, well-formed rule.
        let _ = rules.add("templates/.?*");
        rules
    }

    fn add(&mut self, line: &str) -> Result<(), RuleError> {
        let rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(RuleError::DoubleStar);
        }
        pathmatch::matches(rule, "abc")?;
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (whole_path, rule) = match rule.strip_prefix('/') {
            Some(r) => (true, r),
            None => (rule.contains('/'), rule),
        };
        self.rules.push(Rule {
            pattern: rule.to_string(),
            negate,
            must_dir,
            whole_path,
        });
        Ok(())
    }

    /// Whether Helm ignores `path` (relative to the chart, `/`-separated), a directory if
    /// `is_dir`.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for rule in &self.rules {
            let name = if rule.whole_path {
                path
            } else {
                path.rsplit('/').next().unwrap_or(path)
            };
            let hit = pathmatch::matches(&rule.pattern, name).unwrap_or(false);
            if rule.negate {
                if (rule.must_dir && !is_dir) || !hit {
                    return true;
                }
                continue;
            }
            if rule.must_dir && !is_dir {
                continue;
            }
            if hit {
                return true;
            }
        }
        false
    }

    /// Whether Helm's directory walk loads the file `path`: neither it nor any directory
    /// above it is ignored.
    pub fn keeps_file(&self, path: &str) -> bool {
        let mut end = 0;
        while let Some(i) = path.get(end..).and_then(|rest| rest.find('/')) {
            let dir = path.get(..end + i).unwrap_or(path);
            if self.ignored(dir, true) {
                return false;
            }
            end += i + 1;
        }
        !self.ignored(path, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_rules() {
        let r = Rules::parse("# comment\n.git/\n*.tmproj\n/docs\nci/*.yaml\n").unwrap_or_default();
        assert!(!r.keeps_file(".git/config"));
        assert!(!r.keeps_file("a.tmproj"));
        assert!(!r.keeps_file("sub/a.tmproj"));
        assert!(!r.keeps_file("docs/readme.md"));
        assert!(r.keeps_file("sub/docs/readme.md"));
        assert!(!r.keeps_file("ci/test.yaml"));
        assert!(r.keeps_file("templates/ci/test.yaml"));
        assert!(!r.keeps_file("templates/.swp"));
        assert!(r.keeps_file("templates/a.yaml"));
        // A file named like a directory-only rule is kept.
        let r = Rules::parse("build/\n").unwrap_or_default();
        assert!(r.keeps_file("build"));
        assert!(!r.keeps_file("build/x"));
    }

    #[test]
    fn negation_is_helms() {
        // Helm ignores every path a negated rule does not match.
        let r = Rules::parse("!keep.txt\n").unwrap_or_default();
        assert!(!r.keeps_file("other.txt"));
        assert!(r.keeps_file("keep.txt"));
        assert!(!r.keeps_file("sub/keep.txt"));
    }

    #[test]
    fn refused_rules() {
        assert_eq!(Rules::parse("a/**/b").err(), Some(RuleError::DoubleStar));
        assert!(matches!(Rules::parse("[").err(), Some(RuleError::Bad(_))));
    }
}
