//! `.sops.yaml`: the creation rules that choose keys and encryption rules for a file.
//!
//! Found as sops finds it (the current directory, then each parent); the first rule whose
//! `path_regex` matches the file's path (relative to the config's directory) wins.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::format::yaml;
use super::metadata::{KeyKind, MasterKey};
use super::rules::Rules;
use super::tree::{Branch, Value};
use crate::keys::age as agekeys;
use crate::keys::{awskms, vault};

/// The config file name sops looks for.
pub const CONFIG_FILE: &str = ".sops.yaml";

/// Why the config cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid.
    #[error("{path}: {reason}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No rule matches the file.
    #[error("{path}: no matching creation rules found for {file}")]
    NoMatch {
        /// The config file.
        path: PathBuf,
        /// The file being encrypted.
        file: String,
    },
}

/// What a creation rule decides for a file.
#[derive(Debug, Clone, Default)]
pub struct CreationRule {
    /// Key groups (entries without `enc` yet).
    pub key_groups: Vec<Vec<MasterKey>>,
    /// Shamir threshold (0: all groups).
    pub shamir_threshold: usize,
    /// Encryption rules.
    pub rules: Rules,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
    /// The raw `path_regex` ("" when the rule matches everything).
    pub path_regex: String,
}

/// A parsed `.sops.yaml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    rules: Vec<(Option<Regex>, Branch)>,
}

/// Looks for `.sops.yaml` in `start` and its parents.
pub fn find(start: &Path) -> Option<PathBuf> {
    let mut dir = start.to_path_buf();
    for _ in 0..100 {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            break;
        }
    }
    None
}

fn strings(v: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Str(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        Some(Value::Seq(items)) => items
            .iter()
            .filter(|i| !matches!(i, Value::Comment(_)))
            .map(|i| match i {
                Value::Str(s) => Ok(s.trim().to_string()),
                _ => Err(format!("{field}: expected a string in the list")),
            })
            .collect(),
        Some(_) => Err(format!("{field}: expected a string or a list of strings")),
    }
}

fn text(b: &Branch, field: &str) -> Result<String, String> {
    match b.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::Str(s)) => Ok(s.to_string()),
        Some(Value::Int(i)) => Ok(i.to_string()),
        Some(_) => Err(format!("{field}: expected a string")),
    }
}

fn unsupported(b: &Branch) -> Option<&'static str> {
    ["pgp", "gcp_kms", "azure_keyvault", "hckms"].into_iter().find(|f| {
        b.get(f).is_some_and(|v| !matches!(v, Value::Null)) && !strings(b.get(f), f).is_ok_and(|v| v.is_empty())
    })
}

fn age_keys(list: Vec<String>) -> Result<Vec<MasterKey>, String> {
    list.iter()
        .map(|r| agekeys::master_key(r).map_err(|e| e.to_string()))
        .collect()
}

fn context_map(v: Option<&Value>) -> Result<std::collections::BTreeMap<String, String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(Value::Map(m)) => m
            .pairs()
            .map(|(k, v)| match v {
                Value::Str(s) => Ok((k.to_string(), s.to_string())),
                _ => Err(format!("context.{k}: expected a string")),
            })
            .collect(),
        Some(_) => Err("context: expected a mapping".into()),
    }
}

/// The keys a rule (or one of its key groups) names. `kms_context` is the command line's
/// `--encryption-context`, used for `kms` ARN strings as sops does.
fn group_from(b: &Branch, profile: &str) -> Result<Vec<MasterKey>, String> {
    if let Some(f) = unsupported(b) {
        return Err(format!("{f} keys are not supported by this version of sealer"));
    }
    let mut keys = Vec::new();
    // Order as sops builds a group: KMS, Vault, age.
    match b.get("kms") {
        Some(Value::Seq(items)) if items.iter().any(|i| matches!(i, Value::Map(_))) => {
            for item in items {
                if let Value::Map(k) = item {
                    let arn = text(k, "arn")?;
                    let role = text(k, "role")?;
                    let full = if role.is_empty() { arn } else { format!("{arn}+{role}") };
                    let prof = text(k, "aws_profile")?;
                    keys.push(awskms::master_key(
                        &full,
                        &context_map(k.get("context"))?,
                        if prof.is_empty() { profile } else { &prof },
                    )?);
                }
            }
        }
        v => {
            for arn in strings(v, "kms")? {
                keys.push(awskms::master_key(&arn, &Default::default(), profile)?);
            }
        }
    }
    for field in ["hc_vault_transit_uri", "hc_vault"] {
        for uri in strings(b.get(field), field)? {
            keys.push(vault::master_key(&uri)?);
        }
    }
    keys.extend(age_keys(strings(b.get("age"), "age")?)?);
    if let Some(Value::Seq(merges)) = b.get("merge") {
        for m in merges {
            if let Value::Map(m) = m {
                keys.extend(group_from(m, profile)?);
            }
        }
    }
    Ok(keys)
}

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
            path: path.into(),
            reason: e.to_string(),
        })?;
        let invalid = |reason: String| ConfigError::Invalid {
            path: path.into(),
            reason,
        };
        let docs = yaml::load(&bytes).map_err(invalid)?;
        let mut rules = Vec::new();
        if let Some(Value::Seq(items)) = docs.first().and_then(|d| d.get("creation_rules")) {
            for item in items {
                let Value::Map(rule) = item else { continue };
                let re = match text(rule, "path_regex").map_err(invalid)?.as_str() {
                    "" => None,
                    r => Some(Regex::new(r).map_err(|e| invalid(format!("path_regex {r:?}: {e}")))?),
                };
                rules.push((re, rule.clone()));
            }
        }
        Ok(Config {
            path: path.to_path_buf(),
            rules,
        })
    }

    /// The directory paths in rules are relative to.
    fn dir(&self) -> PathBuf {
        let dir = self.path.parent().map(Path::to_path_buf).unwrap_or_default();
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// The first rule matching `file` (as sops: relative to the config's directory).
    fn matching(&self, file: &Path) -> Result<(&Option<Regex>, &Branch), ConfigError> {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let rel = abs.strip_prefix(self.dir()).map(Path::to_path_buf).unwrap_or(abs);
        let rel = rel.to_string_lossy().to_string();
        match self
            .rules
            .iter()
            .find(|(re, _)| re.as_ref().is_none_or(|re| re.is_match(&rel)))
        {
            Some((re, rule)) => Ok((re, rule)),
            None => Err(ConfigError::NoMatch {
                path: self.path.clone(),
                file: rel,
            }),
        }
    }

    fn rules_of(&self, rule: &Branch) -> Result<Rules, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            path: self.path.clone(),
            reason,
        };
        Ok(Rules {
            unencrypted_suffix: text(rule, "unencrypted_suffix").map_err(invalid)?,
            encrypted_suffix: text(rule, "encrypted_suffix").map_err(invalid)?,
            unencrypted_regex: text(rule, "unencrypted_regex").map_err(invalid)?,
            encrypted_regex: text(rule, "encrypted_regex").map_err(invalid)?,
            unencrypted_comment_regex: text(rule, "unencrypted_comment_regex").map_err(invalid)?,
            encrypted_comment_regex: text(rule, "encrypted_comment_regex").map_err(invalid)?,
        })
    }

    /// The encryption rules (and `path_regex`) of the rule matching `file`, without reading
    /// its keys — what `lint` needs.
    pub fn encryption_rules_for(&self, file: &Path) -> Result<(String, Rules), ConfigError> {
        let (re, rule) = self.matching(file)?;
        Ok((
            re.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default(),
            self.rules_of(rule)?,
        ))
    }

    /// The first rule matching `file`, with its keys.
    pub fn rule_for(&self, file: &Path) -> Result<CreationRule, ConfigError> {
        let (re, rule) = self.matching(file)?;
        let invalid = |reason: String| ConfigError::Invalid {
            path: self.path.clone(),
            reason,
        };
        let profile = text(rule, "aws_profile").map_err(invalid)?;
        let key_groups = match rule.get("key_groups") {
            Some(Value::Seq(groups)) => groups
                .iter()
                .filter_map(|g| {
                    if let Value::Map(g) = g {
                        Some(group_from(g, &profile))
                    } else {
                        None
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?,
            _ => vec![group_from(rule, &profile).map_err(invalid)?],
        };
        let threshold = match rule.get("shamir_threshold") {
            Some(Value::Int(i)) if *i >= 0 => *i as usize,
            None | Some(Value::Null) => 0,
            Some(_) => return Err(invalid("shamir_threshold: expected a non-negative number".into())),
        };
        Ok(CreationRule {
            key_groups: key_groups.into_iter().filter(|g| !g.is_empty()).collect(),
            shamir_threshold: threshold,
            rules: self.rules_of(rule)?,
            mac_only_encrypted: matches!(rule.get("mac_only_encrypted"), Some(Value::Bool(true))),
            path_regex: re.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default(),
        })
    }
}

/// The recipients of key entries of `kind`, for messages and `updatekeys` summaries.
pub fn ids(groups: &[Vec<MasterKey>], kind: KeyKind) -> Vec<String> {
    groups
        .iter()
        .flatten()
        .filter(|k| k.kind == kind)
        .map(MasterKey::id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins() {
        let dir = std::env::temp_dir().join(format!("sigil-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (_, r1) = agekeys::generate();
        let (_, r2) = agekeys::generate();
        let cfg = format!(
            "creation_rules:\n  - path_regex: prod/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {r1}\n  - age: [{r1}, {r2}]\n"
        );
        std::fs::write(dir.join(CONFIG_FILE), cfg).unwrap();
        let c = Config::load(&dir.join(CONFIG_FILE)).unwrap();
        let prod = c.rule_for(&dir.join("prod/a.yaml")).unwrap();
        assert_eq!(prod.rules.encrypted_regex, "^(data|stringData)$");
        assert_eq!(prod.key_groups[0].len(), 1);
        let other = c.rule_for(&dir.join("dev/a.yaml")).unwrap();
        assert_eq!(other.key_groups[0].len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
