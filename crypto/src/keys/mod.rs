//! Key sources: the providers that wrap and unwrap a SOPS data key (or Shamir share).
//!
//! Each provider implements [`KeySource`]; a [`Keyring`] holds the ones available to a
//! process. "This entry is not for me" is `Ok(None)`, not an error, so a file with keys
//! from several providers is tried entry by entry.

pub mod age;
pub mod awskms;
pub mod vault;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::sops::metadata::{KeyKind, MasterKey};

/// A failure of one provider on one key entry. Never contains key material or tokens.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{provider} key {key}: {reason}")]
pub struct KeyError {
    /// The provider (`age`, `kms`, `hc_vault`).
    pub provider: &'static str,
    /// The key's public identifier (recipient, ARN, URL).
    pub key: String,
    /// What went wrong.
    pub reason: String,
}

impl KeyError {
    /// Builds an error for `key` from `provider`.
    pub fn new(provider: &'static str, key: &MasterKey, reason: impl Into<String>) -> Self {
        KeyError {
            provider,
            key: key.id(),
            reason: reason.into(),
        }
    }
}

/// A data key (or a Shamir share of one) in the clear; wiped on drop.
pub type PlainKey = Zeroizing<Vec<u8>>;

/// A provider that can wrap data keys for, and unwrap them from, entries of one kind.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The kind of metadata entry this source handles.
    fn kind(&self) -> KeyKind;

    /// Unwraps the entry's `enc`. `Ok(None)`: this source holds no key for the entry.
    async fn unwrap(&self, key: &MasterKey) -> Result<Option<PlainKey>, KeyError>;

    /// Wraps `data_key` for the entry, returning the new `enc` text.
    async fn wrap(&self, key: &MasterKey, data_key: &[u8]) -> Result<String, KeyError>;
}

/// The key sources available to one decryption or encryption, with a cache of unwrapped
/// data keys: an unchanged file is never unwrapped twice (no second KMS or Vault call).
#[derive(Default)]
pub struct Keyring {
    sources: Vec<Box<dyn KeySource>>,
    cache: std::sync::Mutex<std::collections::HashMap<[u8; 32], PlainKey>>,
}

/// The cache key of an entry: its provider and every stored field (id, context, `enc`).
fn cache_key(key: &MasterKey) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(key.kind.field().as_bytes());
    fn feed(h: &mut Sha256, b: &crate::sops::tree::Branch) {
        for (k, v) in b.pairs() {
            h.update(k.as_bytes());
            h.update([0]);
            match v {
                crate::sops::tree::Value::Map(m) => feed(h, m),
                crate::sops::tree::Value::Str(s) => h.update(s.as_bytes()),
                _ => {}
            }
            h.update([1]);
        }
    }
    feed(&mut h, &key.fields);
    h.finalize().into()
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source.
    pub fn with(mut self, source: impl KeySource + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// Adds a boxed source.
    pub fn push(&mut self, source: Box<dyn KeySource>) {
        self.sources.push(source);
    }

    /// The sources that handle `kind`.
    pub fn for_kind(&self, kind: KeyKind) -> impl Iterator<Item = &dyn KeySource> {
        self.sources
            .iter()
            .filter(move |s| s.kind() == kind)
            .map(|s| s.as_ref())
    }

    /// How many unwrapped keys the cache holds.
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Drops (and zeroizes) every cached data key.
    pub fn clear_cache(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Unwraps one entry with whichever source can; `Ok(None)` when none holds its key.
    pub async fn unwrap(&self, key: &MasterKey) -> Result<Option<PlainKey>, KeyError> {
        let id = cache_key(key);
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(Some(hit));
        }
        let mut last_err = None;
        for source in self.for_kind(key.kind) {
            match source.unwrap(key).await {
                Ok(Some(k)) => {
                    if let Ok(mut c) = self.cache.lock() {
                        c.insert(id, k.clone());
                    }
                    return Ok(Some(k));
                }
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Wraps `data_key` for `key` with the first source of its kind.
    pub async fn wrap(&self, key: &MasterKey, data_key: &[u8]) -> Result<String, KeyError> {
        match self.for_kind(key.kind).next() {
            Some(source) => source.wrap(key, data_key).await,
            None => Err(KeyError::new(
                key.kind.field(),
                key,
                "no key source configured for this kind of key",
            )),
        }
    }
}
