//! The document tree SOPS encrypts: ordered maps, sequences, typed scalars and comments.
//!
//! It mirrors sops' `TreeBranch`/`TreeItem` model so that walk order (and with it the MAC)
//! matches the Go implementation. Every string it holds — values, keys, comments — is
//! zeroized when the tree is dropped, and `Debug` never shows a value.

use std::fmt;

use zeroize::Zeroizing;

/// A string that is wiped from memory when dropped.
pub type SecretText = Zeroizing<String>;

/// Wraps a `String` so it is zeroized on drop.
pub fn secret(s: impl Into<String>) -> SecretText {
    Zeroizing::new(s.into())
}

/// A comment carried through the tree (the text after `#`).
#[derive(Clone, PartialEq)]
pub struct Comment {
    /// The comment text without the leading `#`.
    pub text: SecretText,
    /// Whether it stood on the same line as a value (`key: value # comment`).
    pub inline: bool,
}

impl Comment {
    /// A comment on its own line.
    pub fn new(text: impl Into<String>) -> Self {
        Comment {
            text: secret(text),
            inline: false,
        }
    }
}

/// One entry of a mapping: a key with its value, or a comment between entries.
#[derive(Clone, PartialEq)]
pub enum Item {
    /// `key: value`.
    Pair {
        /// The mapping key.
        key: SecretText,
        /// The value.
        value: Value,
    },
    /// A comment line between entries.
    Comment(Comment),
}

/// An ordered mapping (sops' `TreeBranch`).
#[derive(Clone, PartialEq, Default)]
pub struct Branch(pub Vec<Item>);

/// A value in the tree.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// YAML `null` / JSON `null`: never encrypted, not part of the MAC.
    Null,
    /// A boolean (`True`/`False` in the MAC, as Go's sops writes it).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (also: every encrypted value, as its `ENC[...]` text).
    Str(SecretText),
    /// A timestamp, kept in RFC 3339 text as Go's `time.Time.MarshalText` writes it.
    Time(SecretText),
    /// Raw bytes that are not UTF-8 (the binary store's payload); encrypted as `str`, as sops does.
    Bytes(Zeroizing<Vec<u8>>),
    /// A nested mapping.
    Map(Branch),
    /// A sequence; comments may stand between its items.
    Seq(Vec<Value>),
    /// A comment inside a sequence.
    Comment(Comment),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(secret(s))
    }
}

impl Branch {
    /// An empty mapping.
    pub fn new() -> Self {
        Branch(Vec::new())
    }

    /// Appends `key: value`.
    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.0.push(Item::Pair {
            key: secret(key),
            value,
        });
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find_map(|item| match item {
            Item::Pair { key: k, value } if k.as_str() == key => Some(value),
            _ => None,
        })
    }

    /// Iterates over the `key: value` pairs, skipping comments.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().filter_map(|item| match item {
            Item::Pair { key, value } => Some((key.as_str(), value)),
            Item::Comment(_) => None,
        })
    }

    /// Removes every entry named `key`, returning the first removed value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let mut found = None;
        let mut kept = Vec::with_capacity(self.0.len());
        for item in std::mem::take(&mut self.0) {
            match item {
                Item::Pair { key: k, value } if k.as_str() == key => {
                    if found.is_none() {
                        found = Some(value);
                    }
                }
                other => kept.push(other),
            }
        }
        self.0 = kept;
        found
    }

    /// Number of `key: value` pairs.
    pub fn len(&self) -> usize {
        self.pairs().count()
    }

    /// Whether the mapping has no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// Debug shows structure and types, never a value.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(_) => f.write_str("Bool(<redacted>)"),
            Value::Int(_) => f.write_str("Int(<redacted>)"),
            Value::Float(_) => f.write_str("Float(<redacted>)"),
            Value::Str(_) => f.write_str("Str(<redacted>)"),
            Value::Time(_) => f.write_str("Time(<redacted>)"),
            Value::Bytes(_) => f.write_str("Bytes(<redacted>)"),
            Value::Map(b) => b.fmt(f),
            Value::Seq(items) => f.debug_list().entries(items).finish(),
            Value::Comment(c) => c.fmt(f),
        }
    }
}

impl fmt::Debug for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for item in &self.0 {
            match item {
                Item::Pair { key, value } => {
                    m.entry(&key.as_str(), value);
                }
                Item::Comment(c) => {
                    m.entry(&"#", c);
                }
            }
        }
        m.finish()
    }
}

impl fmt::Debug for Comment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Comment(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let mut b = Branch::new();
        b.push("password", Value::str("hunter2"));
        b.push("n", Value::Int(42));
        b.0.push(Item::Comment(Comment::new("top secret comment")));
        let shown = format!("{b:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("42"));
        assert!(!shown.contains("top secret"));
        assert!(shown.contains("password"));
    }
}
