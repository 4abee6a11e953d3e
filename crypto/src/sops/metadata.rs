//! The `sops` metadata block: key groups, MAC, timestamps and encryption rules.
//!
//! Field names and order follow sops 3.x (`stores/stores.go`); flattened stores (dotenv, INI)
//! carry the same fields as `a__list_0__map_b` keys, sorted as sops sorts them.

use super::rules::Rules;
use super::tree::{Branch, Item, Value};

/// The top-level key that holds the metadata in YAML and JSON files.
pub const METADATA_KEY: &str = "sops";
/// The version written into files we produce.
pub const SOPS_VERSION: &str = "3.11.0";
/// sops' default when a file names no encryption rule.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// Why the metadata block cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// The file has no `sops` metadata: it is not SOPS-encrypted.
    #[error("sops metadata not found")]
    NotFound,
    /// A field has the wrong shape.
    #[error("invalid sops metadata: {0}")]
    Invalid(String),
    /// The file names no master key at all.
    #[error("no keys found in file")]
    NoKeys,
    /// More than one encryption rule is set.
    #[error(
        "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
    )]
    ConflictingRules,
}

/// The kinds of master key sops knows, in the order sops lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// AWS KMS (`kms`).
    AwsKms,
    /// Google Cloud KMS (`gcp_kms`).
    GcpKms,
    /// Huawei Cloud KMS (`hckms`).
    HcKms,
    /// Azure Key Vault (`azure_kv`).
    AzureKv,
    /// HashiCorp Vault / OpenBao transit (`hc_vault`).
    HcVault,
    /// age X25519 (`age`).
    Age,
    /// OpenPGP (`pgp`).
    Pgp,
}

impl KeyKind {
    /// The metadata field that lists keys of this kind.
    pub fn field(self) -> &'static str {
        match self {
            KeyKind::AwsKms => "kms",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::HcKms => "hckms",
            KeyKind::AzureKv => "azure_kv",
            KeyKind::HcVault => "hc_vault",
            KeyKind::Age => "age",
            KeyKind::Pgp => "pgp",
        }
    }

    /// The fields of one key entry, in the order sops writes them.
    fn entry_fields(self) -> &'static [&'static str] {
        match self {
            KeyKind::AwsKms => &["arn", "role", "context", "created_at", "enc", "aws_profile"],
            KeyKind::GcpKms => &["resource_id", "created_at", "enc"],
            KeyKind::HcKms => &["key_id", "created_at", "enc"],
            KeyKind::AzureKv => &["vault_url", "name", "version", "created_at", "enc"],
            KeyKind::HcVault => &["vault_address", "engine_path", "key_name", "created_at", "enc"],
            KeyKind::Age => &["recipient", "enc"],
            KeyKind::Pgp => &["created_at", "enc", "fp"],
        }
    }

    /// Fields sops omits when empty.
    fn omit_empty(self, field: &str) -> bool {
        matches!((self, field), (KeyKind::AwsKms, "role" | "context"))
    }
}

/// Order of the key lists in the top-level metadata (before `lastmodified`).
const TOP_KEY_ORDER: [KeyKind; 6] = [
    KeyKind::AwsKms,
    KeyKind::GcpKms,
    KeyKind::HcKms,
    KeyKind::AzureKv,
    KeyKind::HcVault,
    KeyKind::Age,
];
/// Order of the key lists inside a `key_groups` entry.
const GROUP_KEY_ORDER: [KeyKind; 7] = [
    KeyKind::Pgp,
    KeyKind::AwsKms,
    KeyKind::GcpKms,
    KeyKind::HcKms,
    KeyKind::AzureKv,
    KeyKind::HcVault,
    KeyKind::Age,
];
/// Order in which sops builds a group from its lists (and so tries its keys).
const LOAD_ORDER: [KeyKind; 7] = [
    KeyKind::AwsKms,
    KeyKind::GcpKms,
    KeyKind::HcKms,
    KeyKind::AzureKv,
    KeyKind::HcVault,
    KeyKind::Pgp,
    KeyKind::Age,
];

/// One master key entry: its kind and its fields as stored (`enc` holds the wrapped data key).
#[derive(Debug, Clone, PartialEq)]
pub struct MasterKey {
    /// Which provider this key belongs to.
    pub kind: KeyKind,
    /// The entry's fields (`recipient`, `arn`, `enc`, ...).
    pub fields: Branch,
}

impl MasterKey {
    /// A new entry of `kind` with the given identifying fields and no `enc` yet.
    pub fn new(kind: KeyKind, fields: &[(&str, &str)]) -> Self {
        let mut b = Branch::new();
        for (k, v) in fields {
            b.push(*k, Value::str(*v));
        }
        MasterKey { kind, fields: b }
    }

    /// A string field (`""` when absent).
    pub fn get(&self, field: &str) -> &str {
        match self.fields.get(field) {
            Some(Value::Str(s)) => s.as_str(),
            _ => "",
        }
    }

    /// The wrapped data key (or Shamir share).
    pub fn enc(&self) -> &str {
        self.get("enc")
    }

    /// Replaces (or sets) a string field.
    pub fn set(&mut self, field: &str, value: &str) {
        self.fields.remove(field);
        self.fields.push(field, Value::str(value));
    }

    /// A short, non-secret name for messages: the recipient, ARN, URL...
    pub fn id(&self) -> String {
        match self.kind {
            KeyKind::Age => self.get("recipient").to_string(),
            KeyKind::AwsKms => self.get("arn").to_string(),
            KeyKind::GcpKms => self.get("resource_id").to_string(),
            KeyKind::HcKms => self.get("key_id").to_string(),
            KeyKind::AzureKv => format!(
                "{}/keys/{}/{}",
                self.get("vault_url"),
                self.get("name"),
                self.get("version")
            ),
            KeyKind::HcVault => format!(
                "{}/v1/{}/keys/{}",
                self.get("vault_address"),
                self.get("engine_path"),
                self.get("key_name")
            ),
            KeyKind::Pgp => self.get("fp").to_string(),
        }
    }

    /// The entry as sops writes it, fields in sops' order.
    fn to_branch(&self) -> Branch {
        let mut out = Branch::new();
        for f in self.kind.entry_fields() {
            match self.fields.get(f) {
                Some(Value::Str(s)) if s.is_empty() && self.kind.omit_empty(f) => {}
                Some(Value::Map(m)) if m.is_empty() && self.kind.omit_empty(f) => {}
                Some(v) => out.push(*f, v.clone()),
                None if self.kind.omit_empty(f) => {}
                None => out.push(*f, Value::str("")),
            }
        }
        out
    }
}

/// The parsed metadata of a SOPS file.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// Key groups; a single group is stored flat (`age:`, `kms:` at the top).
    pub key_groups: Vec<Vec<MasterKey>>,
    /// How many groups must be opened (Shamir); 0 when not set.
    pub shamir_threshold: usize,
    /// `lastmodified` as stored (RFC 3339).
    pub last_modified: String,
    /// The encrypted MAC (`ENC[...]`).
    pub mac: String,
    /// Which values are encrypted.
    pub rules: Rules,
    /// Whether only encrypted values enter the MAC.
    pub mac_only_encrypted: bool,
    /// The sops version that wrote the file.
    pub version: String,
}

fn as_string(v: &Value) -> Result<String, MetadataError> {
    match v {
        Value::Str(s) | Value::Time(s) => Ok(s.to_string()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Float(f) => Ok(super::scalar::go_float_f(*f)),
        Value::Null => Ok(String::new()),
        _ => Err(MetadataError::Invalid("expected a string".into())),
    }
}

fn as_list(v: &Value, field: &str) -> Result<Vec<Branch>, MetadataError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .filter(|i| !matches!(i, Value::Comment(_)))
            .map(|i| match i {
                Value::Map(b) => Ok(b.clone()),
                _ => Err(MetadataError::Invalid(format!("{field}: expected a list of mappings"))),
            })
            .collect(),
        _ => Err(MetadataError::Invalid(format!("{field}: expected a list"))),
    }
}

fn keys_from(branch: &Branch) -> Result<Vec<MasterKey>, MetadataError> {
    let mut keys = Vec::new();
    for kind in LOAD_ORDER {
        if let Some(v) = branch.get(kind.field()) {
            for entry in as_list(v, kind.field())? {
                let mut fields = Branch::new();
                for (k, v) in entry.pairs() {
                    let v = match v {
                        Value::Map(m) => Value::Map(m.clone()),
                        other => Value::str(as_string(other)?),
                    };
                    fields.push(k, v);
                }
                keys.push(MasterKey { kind, fields });
            }
        }
    }
    Ok(keys)
}

impl Metadata {
    /// Reads the metadata from the (already unflattened) `sops` mapping.
    pub fn from_branch(b: &Branch) -> Result<Self, MetadataError> {
        let s = |k: &str| b.get(k).map(as_string).transpose().map(Option::unwrap_or_default);
        let top = keys_from(b)?;
        let key_groups = if !top.is_empty() {
            vec![top]
        } else if let Some(groups) = b.get("key_groups") {
            as_list(groups, "key_groups")?
                .iter()
                .map(keys_from)
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        if key_groups.is_empty() {
            return Err(MetadataError::NoKeys);
        }
        let shamir_threshold = match s("shamir_threshold")?.as_str() {
            "" => 0,
            t => t
                .parse()
                .map_err(|_| MetadataError::Invalid("shamir_threshold: expected a number".into()))?,
        };
        let mac_only_encrypted = matches!(s("mac_only_encrypted")?.as_str(), "true" | "True" | "1");
        let rules = Rules {
            unencrypted_suffix: s("unencrypted_suffix")?,
            encrypted_suffix: s("encrypted_suffix")?,
            unencrypted_regex: s("unencrypted_regex")?,
            encrypted_regex: s("encrypted_regex")?,
            unencrypted_comment_regex: s("unencrypted_comment_regex")?,
            encrypted_comment_regex: s("encrypted_comment_regex")?,
        };
        let rules = rules.with_default().map_err(|_| MetadataError::ConflictingRules)?;
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            last_modified: s("lastmodified")?,
            mac: s("mac")?,
            rules,
            mac_only_encrypted,
            version: s("version")?,
        })
    }

    /// The metadata as sops writes it (struct order; flattened stores sort it afterwards).
    pub fn to_branch(&self) -> Branch {
        let list = |keys: &[MasterKey], kind: KeyKind| -> Value {
            Value::Seq(
                keys.iter()
                    .filter(|k| k.kind == kind)
                    .map(|k| Value::Map(k.to_branch()))
                    .collect(),
            )
        };
        let mut b = Branch::new();
        if self.shamir_threshold != 0 {
            b.push("shamir_threshold", Value::Int(self.shamir_threshold as i64));
        }
        if self.key_groups.len() == 1 {
            let g = &self.key_groups[0];
            for kind in TOP_KEY_ORDER {
                if g.iter().any(|k| k.kind == kind) {
                    b.push(kind.field(), list(g, kind));
                }
            }
        } else {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut gb = Branch::new();
                    for kind in GROUP_KEY_ORDER {
                        // sops always writes hc_vault and age in a group, even when empty.
                        let always = matches!(kind, KeyKind::HcVault | KeyKind::Age);
                        if always || g.iter().any(|k| k.kind == kind) {
                            gb.push(kind.field(), list(g, kind));
                        }
                    }
                    Value::Map(gb)
                })
                .collect();
            b.push("key_groups", Value::Seq(groups));
        }
        b.push("lastmodified", Value::str(self.last_modified.clone()));
        b.push("mac", Value::str(self.mac.clone()));
        if self.key_groups.len() == 1 && self.key_groups[0].iter().any(|k| k.kind == KeyKind::Pgp) {
            b.push("pgp", list(&self.key_groups[0], KeyKind::Pgp));
        }
        let r = &self.rules;
        for (name, v) in [
            ("unencrypted_suffix", &r.unencrypted_suffix),
            ("encrypted_suffix", &r.encrypted_suffix),
            ("unencrypted_regex", &r.unencrypted_regex),
            ("encrypted_regex", &r.encrypted_regex),
            ("unencrypted_comment_regex", &r.unencrypted_comment_regex),
            ("encrypted_comment_regex", &r.encrypted_comment_regex),
        ] {
            if !v.is_empty() {
                b.push(name, Value::str(v.clone()));
            }
        }
        if self.mac_only_encrypted {
            b.push("mac_only_encrypted", Value::Bool(true));
        }
        b.push("version", Value::str(self.version.clone()));
        b
    }

    /// Every master key across all groups.
    pub fn all_keys(&self) -> impl Iterator<Item = &MasterKey> {
        self.key_groups.iter().flatten()
    }
}

/// Finds and removes the `sops` entry of every document; the first document's is returned.
pub fn extract(docs: &mut [Branch]) -> Result<Branch, MetadataError> {
    let mut found = None;
    for (i, doc) in docs.iter_mut().enumerate() {
        let count = doc.pairs().filter(|(k, _)| *k == METADATA_KEY).count();
        if i == 0 && count > 1 {
            return Err(MetadataError::Invalid("duplicate sops entry".into()));
        }
        if let Some(v) = doc.remove(METADATA_KEY)
            && i == 0
        {
            match v {
                Value::Map(b) => found = Some(b),
                _ => {
                    return Err(MetadataError::Invalid("the sops entry is not a mapping".into()));
                }
            }
        }
    }
    found.ok_or(MetadataError::NotFound)
}

/// Sorts every mapping by key, as sops does before flattening.
pub fn sorted(b: &Branch) -> Branch {
    let mut pairs: Vec<(String, Value)> = b
        .pairs()
        .map(|(k, v)| {
            let v = match v {
                Value::Map(m) => Value::Map(sorted(m)),
                Value::Seq(items) => Value::Seq(
                    items
                        .iter()
                        .map(|i| {
                            if let Value::Map(m) = i {
                                Value::Map(sorted(m))
                            } else {
                                i.clone()
                            }
                        })
                        .collect(),
                ),
                other => other.clone(),
            };
            (k.to_string(), v)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Branch::new();
    for (k, v) in pairs {
        out.push(k, v);
    }
    out
}

/// Flattens nested metadata into `a__map_b` / `a__list_0` keys, with `prefix` before each.
pub fn flatten(b: &Branch, prefix: &str) -> Result<Branch, MetadataError> {
    fn descend(v: &Value, key: String, out: &mut Branch) -> Result<(), MetadataError> {
        match v {
            Value::Map(m) => {
                for (k, v) in m.pairs() {
                    descend(v, format!("{key}__map_{k}"), out)?;
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().filter(|i| !matches!(i, Value::Comment(_))).enumerate() {
                    descend(item, format!("{key}__list_{i}"), out)?;
                }
            }
            other => {
                if out.get(&key).is_some() {
                    return Err(MetadataError::Invalid(format!(
                        "key collision {key:?} while flattening"
                    )));
                }
                out.push(key, other.clone());
            }
        }
        Ok(())
    }
    let mut out = Branch::new();
    for (k, v) in b.pairs() {
        descend(v, format!("{prefix}{k}"), &mut out)?;
    }
    Ok(out)
}

#[derive(Default)]
struct FlatNode {
    value: Option<Value>,
    keys: std::collections::BTreeMap<String, FlatNode>,
    indices: std::collections::BTreeMap<usize, FlatNode>,
}

/// Rebuilds nested metadata from flattened keys (the inverse of [`flatten`] without a prefix).
pub fn unflatten(b: &Branch) -> Result<Branch, MetadataError> {
    let mut root = FlatNode::default();
    for (key, value) in b.pairs() {
        let mut node = &mut root;
        for token in tokenize(key) {
            node = match token {
                Token::Map(k) => node.keys.entry(k).or_default(),
                Token::List(i) => node.indices.entry(i).or_default(),
            };
        }
        if node.value.is_some() {
            return Err(MetadataError::Invalid(format!("duplicate value for {key:?}")));
        }
        node.value = Some(value.clone());
    }
    fn convert(n: FlatNode) -> Result<Value, MetadataError> {
        let kinds = n.value.is_some() as u8 + !n.keys.is_empty() as u8 + !n.indices.is_empty() as u8;
        if kinds > 1 {
            return Err(MetadataError::Invalid("type mismatch while unflattening".into()));
        }
        if let Some(v) = n.value {
            return Ok(v);
        }
        if !n.indices.is_empty() {
            let len = n.indices.len();
            if n.indices.keys().copied().ne(0..len) {
                return Err(MetadataError::Invalid("incomplete list while unflattening".into()));
            }
            return n
                .indices
                .into_values()
                .map(convert)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Seq);
        }
        let mut b = Branch::new();
        for (k, v) in n.keys {
            b.push(k, convert(v)?);
        }
        Ok(Value::Map(b))
    }
    match convert(root)? {
        Value::Map(b) => Ok(b),
        _ => Err(MetadataError::Invalid("flattened metadata has no root mapping".into())),
    }
}

enum Token {
    Map(String),
    List(usize),
}

fn tokenize(path: &str) -> Vec<Token> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut state_list = false;
    let mut start = 0;
    let mut i = 0;
    let finish = |from: usize, to: usize, list: bool, tokens: &mut Vec<Token>| {
        let s = &path[from..to];
        tokens.push(if list {
            Token::List(s.parse().unwrap_or(0))
        } else {
            Token::Map(s.to_string())
        });
    };
    while i < path.len() {
        let rest = &path[i..];
        if rest.starts_with(MAP) {
            finish(start, i, state_list, &mut tokens);
            state_list = false;
            i += MAP.len();
            start = i;
        } else if rest.starts_with(LIST) {
            finish(start, i, state_list, &mut tokens);
            state_list = true;
            i += LIST.len();
            start = i;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(start, path.len(), state_list, &mut tokens);
    tokens
}

/// Removes a flattened metadata set (`sops_*` keys) from a branch and returns it unprefixed.
pub fn extract_prefixed(doc: &mut Branch, prefix: &str) -> Branch {
    let mut meta = Branch::new();
    let mut kept = Vec::new();
    for item in std::mem::take(&mut doc.0) {
        match item {
            Item::Pair { key, value } if key.starts_with(prefix) => meta.push(&key[prefix.len()..], value),
            other => kept.push(other),
        }
    }
    doc.0 = kept;
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_round_trip() {
        let mut entry = Branch::new();
        entry.push("recipient", Value::str("age1x"));
        entry.push("enc", Value::str("E"));
        let mut b = Branch::new();
        b.push("age", Value::Seq(vec![Value::Map(entry)]));
        b.push("lastmodified", Value::str("t"));
        let flat = flatten(&sorted(&b), "").unwrap();
        let keys: Vec<_> = flat.pairs().map(|(k, _)| k.to_string()).collect();
        assert_eq!(
            keys,
            ["age__list_0__map_enc", "age__list_0__map_recipient", "lastmodified"]
        );
        let back = unflatten(&flat).unwrap();
        assert_eq!(back, sorted(&b));
    }
}
