//! Which values get encrypted: the six sops rules (suffixes, key regexes, comment regexes).

use regex::Regex;

use super::metadata::DEFAULT_UNENCRYPTED_SUFFIX;

/// The encryption rules of a file, as stored in its metadata (at most one is set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Keys ending with this stay in plaintext (default `_unencrypted`).
    pub unencrypted_suffix: String,
    /// Only keys ending with this are encrypted.
    pub encrypted_suffix: String,
    /// Keys matching this stay in plaintext.
    pub unencrypted_regex: String,
    /// Only keys matching this are encrypted.
    pub encrypted_regex: String,
    /// Values after a comment matching this stay in plaintext.
    pub unencrypted_comment_regex: String,
    /// Only values after a comment matching this are encrypted.
    pub encrypted_comment_regex: String,
}

/// Why a set of rules is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RulesError {
    /// More than one rule is set.
    #[error("only one of the encrypted/unencrypted suffix/regex/comment-regex rules may be set")]
    Conflicting,
    /// A regular expression does not compile.
    #[error("invalid regular expression {0:?}: {1}")]
    BadRegex(String, String),
}

impl Rules {
    fn count(&self) -> usize {
        [
            &self.unencrypted_suffix,
            &self.encrypted_suffix,
            &self.unencrypted_regex,
            &self.encrypted_regex,
            &self.unencrypted_comment_regex,
            &self.encrypted_comment_regex,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .count()
    }

    /// Checks that at most one rule is set and applies sops' default (`_unencrypted`) if none is.
    pub fn with_default(mut self) -> Result<Self, RulesError> {
        match self.count() {
            0 => self.unencrypted_suffix = DEFAULT_UNENCRYPTED_SUFFIX.to_string(),
            1 => {}
            _ => return Err(RulesError::Conflicting),
        }
        Ok(self)
    }

    /// Compiles the regular expressions.
    pub fn compile(&self) -> Result<CompiledRules, RulesError> {
        let re = |s: &str| -> Result<Option<Regex>, RulesError> {
            if s.is_empty() {
                Ok(None)
            } else {
                Regex::new(s)
                    .map(Some)
                    .map_err(|e| RulesError::BadRegex(s.to_string(), e.to_string()))
            }
        };
        Ok(CompiledRules {
            unencrypted_suffix: self.unencrypted_suffix.clone(),
            encrypted_suffix: self.encrypted_suffix.clone(),
            unencrypted_regex: re(&self.unencrypted_regex)?,
            encrypted_regex: re(&self.encrypted_regex)?,
            unencrypted_comment_regex: re(&self.unencrypted_comment_regex)?,
            encrypted_comment_regex: re(&self.encrypted_comment_regex)?,
        })
    }
}

/// [`Rules`] ready to apply.
#[derive(Debug)]
pub struct CompiledRules {
    unencrypted_suffix: String,
    encrypted_suffix: String,
    unencrypted_regex: Option<Regex>,
    encrypted_regex: Option<Regex>,
    unencrypted_comment_regex: Option<Regex>,
    /// Exposed so the encryptor can refuse encrypted comments that would match it.
    pub(crate) encrypted_comment_regex: Option<Regex>,
}

impl CompiledRules {
    /// The unencrypted-comment regex, if set.
    pub(crate) fn unencrypted_comment_regex(&self) -> Option<&Regex> {
        self.unencrypted_comment_regex.as_ref()
    }

    /// sops' `shouldBeEncrypted`: `path` is the map-key path of the value, `comments` the
    /// comment lines seen before it at each nesting level; `is_comment` when the value is a comment.
    pub fn should_encrypt(&self, path: &[&str], comments: &[Vec<String>], is_comment: bool) -> bool {
        let mut encrypted = true;
        if !self.unencrypted_suffix.is_empty() && path.iter().any(|p| p.ends_with(&self.unencrypted_suffix)) {
            encrypted = false;
        }
        if !self.encrypted_suffix.is_empty() {
            encrypted = path.iter().any(|p| p.ends_with(&self.encrypted_suffix));
        }
        if let Some(re) = &self.unencrypted_regex
            && path.iter().any(|p| re.is_match(p))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| re.is_match(p));
        }
        if let Some(re) = &self.unencrypted_comment_regex
            && comments.iter().flatten().any(|c| re.is_match(c))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_comment_regex {
            let last_level = comments.len().saturating_sub(1);
            let last_index = comments.last().map_or(0, |c| c.len().saturating_sub(1));
            encrypted = comments.iter().enumerate().any(|(i, level)| {
                level.iter().enumerate().any(|(j, c)| {
                    // A comment does not decide its own fate.
                    let itself = is_comment && i == last_level && j == last_index;
                    !itself && re.is_match(c)
                })
            });
        }
        encrypted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_unencrypted_suffix() {
        let r = Rules::default().with_default().unwrap().compile().unwrap();
        assert!(r.should_encrypt(&["a", "b"], &[], false));
        assert!(!r.should_encrypt(&["a_unencrypted", "b"], &[], false));
    }

    #[test]
    fn encrypted_regex_matches_any_component() {
        let rules = Rules {
            encrypted_regex: "^(data|stringData)$".into(),
            ..Default::default()
        };
        let r = rules.compile().unwrap();
        assert!(r.should_encrypt(&["data", "password"], &[], false));
        assert!(!r.should_encrypt(&["metadata", "name"], &[], false));
    }

    #[test]
    fn two_rules_conflict() {
        let rules = Rules {
            encrypted_regex: "a".into(),
            encrypted_suffix: "b".into(),
            ..Default::default()
        };
        assert_eq!(rules.with_default().unwrap_err(), RulesError::Conflicting);
    }

    #[test]
    fn comment_rules() {
        let rules = Rules {
            encrypted_comment_regex: "sops:enc".into(),
            ..Default::default()
        };
        let r = rules.compile().unwrap();
        assert!(r.should_encrypt(&["a"], &[vec!["sops:enc".into()]], false));
        assert!(!r.should_encrypt(&["a"], &[vec![]], false));
        // The marker comment itself stays readable.
        assert!(!r.should_encrypt(&[], &[vec!["sops:enc".into()]], true));
    }
}
