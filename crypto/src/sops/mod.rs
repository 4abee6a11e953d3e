//! The SOPS file format (getsops/sops 3.x): parse, decrypt, verify, encrypt.
//!
//! A file is one or more documents (a [`tree::Branch`] each) plus the [`metadata::Metadata`]
//! block. Values are encrypted one by one with the data key ([`cipher`]); the MAC ([`mac`]) is
//! always verified on decryption. Stores ([`format`]) turn bytes into trees and back.

pub mod cipher;
pub mod config;
pub mod format;
pub mod mac;
pub mod metadata;
pub mod rules;
pub mod scalar;
pub mod shamir;
pub mod tree;
mod walk;

use std::collections::HashMap;

use rand::RngCore;
use zeroize::Zeroizing;

pub use format::Format;
use metadata::{KeyKind, MasterKey, Metadata, MetadataError};
use rules::{Rules, RulesError};
use tree::{Branch, Value};

use crate::keys::{KeyError, Keyring};

/// A 256-bit data key, wiped on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }

    fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self::from_bytes(arr))
    }
}

impl AsRef<[u8]> for DataKey {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref()
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// What went wrong with a SOPS file (the file name is carried by [`Error`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes do not parse in the given format.
    #[error("cannot parse as {format}: {reason}")]
    Parse {
        /// The store format.
        format: Format,
        /// Why (never includes file contents).
        reason: String,
    },
    /// The `sops` metadata is missing or malformed.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Encrypting a file that is already encrypted.
    #[error("the file is already encrypted (it has a top-level sops entry)")]
    AlreadyEncrypted,
    /// A value could not be decrypted or encrypted.
    #[error("{source} at path {path}")]
    Value {
        /// sops' path of the value (`a:b:`).
        path: String,
        /// What failed.
        source: cipher::CipherError,
    },
    /// A value that the rules say is encrypted is not an `ENC[...]` string.
    #[error("value at path {0} should be encrypted but is not a string")]
    NotAString(String),
    /// A key is not a string (sops supports string keys only).
    #[error("non-string key at path {0} (only string keys are supported)")]
    NonStringKey(String),
    /// No key group could be opened.
    #[error("no key could decrypt the data key; tried: {}", .tried.join("; "))]
    NoKey {
        /// One line per key tried: provider, identifier and reason.
        tried: Vec<String>,
    },
    /// The MAC does not match the content: the file was modified outside sops.
    #[error("MAC mismatch{0}")]
    MacMismatch(String),
    /// A key source failed while wrapping a data key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Shamir splitting or combining failed.
    #[error(transparent)]
    Shamir(#[from] shamir::ShamirError),
    /// The encryption rules are unusable.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The documents cannot be written in the requested format.
    #[error("cannot write as {format}: {reason}")]
    Emit {
        /// The store format.
        format: Format,
        /// Why.
        reason: String,
    },
    /// No master key was given to encrypt with.
    #[error("no master keys were provided (use --age, or a .sops.yaml creation rule)")]
    NoRecipients,
}

/// A SOPS failure on a named file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {kind}")]
pub struct Error {
    /// The file (as named by the caller).
    pub file: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    fn new(file: &str, kind: impl Into<ErrorKind>) -> Self {
        Error {
            file: file.to_string(),
            kind: kind.into(),
        }
    }
}

/// Remembers the IV of each decrypted value so re-encrypting an unchanged value reproduces
/// the same ciphertext (sops' stash). Keys hold plaintext and are wiped on drop.
#[derive(Default)]
pub struct IvStash(HashMap<Vec<u8>, Vec<u8>>);

impl IvStash {
    fn key(aad: &str, v: &Value) -> Option<Vec<u8>> {
        let (plain, kind) = scalar::to_plaintext(v).ok()?;
        let mut k = Vec::with_capacity(aad.len() + plain.len() + 16);
        k.extend_from_slice(aad.as_bytes());
        k.push(0);
        k.extend_from_slice(kind.as_bytes());
        k.push(0);
        k.extend_from_slice(&plain);
        Some(k)
    }

    fn put(&mut self, aad: &str, v: &Value, iv: Vec<u8>) {
        if let Some(k) = Self::key(aad, v) {
            self.0.insert(k, iv);
        }
    }

    fn get(&self, aad: &str, v: &Value) -> Option<&[u8]> {
        let k = Zeroizing::new(Self::key(aad, v)?);
        self.0.get(k.as_slice()).map(Vec::as_slice)
    }
}

impl Drop for IvStash {
    fn drop(&mut self) {
        for (k, _) in self.0.drain() {
            drop(Zeroizing::new(k));
        }
    }
}

/// An encrypted SOPS file, parsed.
#[derive(Debug)]
pub struct EncryptedFile {
    /// Name used in error messages.
    pub name: String,
    /// The store format.
    pub format: Format,
    /// The documents, values still encrypted.
    pub docs: Vec<Branch>,
    /// The metadata block.
    pub metadata: Metadata,
}

/// A decrypted SOPS file: plaintext documents plus what is needed to re-encrypt them.
pub struct PlainFile {
    /// Name used in error messages.
    pub name: String,
    /// The store format.
    pub format: Format,
    /// The plaintext documents (zeroized on drop).
    pub docs: Vec<Branch>,
    /// The metadata it was encrypted with.
    pub metadata: Metadata,
    data_key: DataKey,
    stash: IvStash,
}

impl std::fmt::Debug for PlainFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainFile")
            .field("name", &self.name)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A file as read: SOPS-encrypted, or plain documents.
#[derive(Debug)]
pub enum Parsed {
    /// It carries SOPS metadata.
    Encrypted(Box<EncryptedFile>),
    /// It does not; these are its documents.
    Plain(Vec<Branch>),
}

/// Parses a file once and tells whether it is SOPS-encrypted. A file without a metadata block
/// is plain; a malformed block is an error.
pub fn parse_or_plain(name: &str, bytes: &[u8], format: Format) -> Result<Parsed, Error> {
    let docs = format
        .load_encrypted(bytes)
        .map_err(|reason| Error::new(name, ErrorKind::Parse { format, reason }))?;
    let mut without_meta = docs.clone();
    let meta = match format.extract_metadata(&mut without_meta) {
        Ok(meta) => meta,
        Err(MetadataError::NotFound) => return Ok(Parsed::Plain(docs)),
        Err(e) => return Err(Error::new(name, e)),
    };
    let metadata = Metadata::from_branch(&meta).map_err(|e| Error::new(name, e))?;
    Ok(Parsed::Encrypted(Box::new(EncryptedFile {
        name: name.to_string(),
        format,
        docs: without_meta,
        metadata,
    })))
}

/// Whether already-parsed documents carry SOPS metadata.
pub fn carries_metadata(docs: &[Branch], format: Format) -> bool {
    format.extract_metadata(&mut docs.to_vec()).is_ok()
}

/// Whether bytes in `format` carry SOPS metadata (a cheap check, no decryption).
pub fn is_encrypted(bytes: &[u8], format: Format) -> bool {
    format
        .load_encrypted(bytes)
        .is_ok_and(|docs| carries_metadata(&docs, format))
}

/// Parses an encrypted file.
pub fn parse(name: &str, bytes: &[u8], format: Format) -> Result<EncryptedFile, Error> {
    match parse_or_plain(name, bytes, format)? {
        Parsed::Encrypted(file) => Ok(*file),
        Parsed::Plain(_) => Err(Error::new(name, MetadataError::NotFound)),
    }
}

/// The order sops tries the keys of a group: age, then PGP, then the rest as listed.
fn decryption_order(group: &[MasterKey]) -> Vec<&MasterKey> {
    let rank = |k: &MasterKey| match k.kind {
        KeyKind::Age => 0,
        KeyKind::Pgp => 1,
        _ => 2,
    };
    let mut keys: Vec<&MasterKey> = group.iter().collect();
    keys.sort_by_key(|k| rank(k));
    keys
}

/// Recovers the data key from the metadata's key groups.
pub async fn data_key(name: &str, metadata: &Metadata, keyring: &Keyring) -> Result<DataKey, Error> {
    let mut parts: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut tried = Vec::new();
    let many = metadata.key_groups.len() > 1;
    for (gi, group) in metadata.key_groups.iter().enumerate() {
        let mut opened = None;
        for key in decryption_order(group) {
            let label = if many {
                format!("group {}: ", gi + 1)
            } else {
                String::new()
            };
            match keyring.unwrap(key).await {
                Ok(Some(part)) => {
                    tracing::debug!(file = name, group = gi + 1, provider = key.kind.field(), key = %key.id(), "data key unwrapped");
                    opened = Some(part);
                    break;
                }
                Ok(None) => {
                    let why = if keyring.for_kind(key.kind).next().is_none() {
                        "no key source for this kind of key is configured"
                    } else {
                        "no matching private key"
                    };
                    tried.push(format!("{label}{} {}: {why}", key.kind.field(), key.id()));
                }
                Err(e) => {
                    tracing::debug!(file = name, group = gi + 1, error = %e, "key source failed");
                    tried.push(format!("{label}{e}"))
                }
            }
        }
        if let Some(p) = opened {
            parts.push(p);
        }
    }
    let key = if many {
        let need = metadata.shamir_threshold.max(2);
        if parts.len() < need {
            tried.push(format!(
                "opened {} of {} key groups, {} needed",
                parts.len(),
                metadata.key_groups.len(),
                need
            ));
            return Err(Error::new(name, ErrorKind::NoKey { tried }));
        }
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        shamir::combine(&refs).map_err(|e| Error::new(name, e))?
    } else {
        match parts.pop() {
            Some(p) => p,
            None => return Err(Error::new(name, ErrorKind::NoKey { tried })),
        }
    };
    DataKey::from_slice(&key).ok_or_else(|| {
        Error::new(
            name,
            ErrorKind::NoKey {
                tried: vec!["the recovered data key is not 256 bits long".into()],
            },
        )
    })
}

impl EncryptedFile {
    /// Decrypts every value and verifies the MAC.
    pub async fn decrypt(self, keyring: &Keyring) -> Result<PlainFile, Error> {
        let key = data_key(&self.name, &self.metadata, keyring).await?;
        self.decrypt_with(key)
    }

    /// Decrypts with a data key already recovered (e.g. from a cache).
    pub fn decrypt_with(mut self, key: DataKey) -> Result<PlainFile, Error> {
        let name = self.name.clone();
        let mut stash = IvStash::default();
        let computed =
            walk::decrypt_docs(&mut self.docs, &self.metadata, &key, &mut stash).map_err(|k| Error::new(&name, k))?;
        mac::verify(&computed, &self.metadata, &key).map_err(|k| Error::new(&name, k))?;
        tracing::debug!(file = %name, format = %self.format, "decrypted; MAC verified");
        Ok(PlainFile {
            name: self.name,
            format: self.format,
            docs: self.docs,
            metadata: self.metadata,
            data_key: key,
            stash,
        })
    }
}

/// How to encrypt a new file.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// Key groups (one group unless Shamir is wanted); each key's `enc` is filled in.
    pub key_groups: Vec<Vec<MasterKey>>,
    /// Groups needed to decrypt (0: all groups, as sops defaults).
    pub shamir_threshold: usize,
    /// Which values to encrypt (the default `_unencrypted` suffix applies when none is set).
    pub rules: Rules,
    /// Whether only encrypted values enter the MAC.
    pub mac_only_encrypted: bool,
}

/// Wraps `key` (split with Shamir across groups) for every master key in `groups`.
async fn wrap_key(
    name: &str,
    key: &DataKey,
    groups: &mut [Vec<MasterKey>],
    threshold: &mut usize,
    keyring: &Keyring,
) -> Result<(), Error> {
    if groups.is_empty() || groups.iter().all(Vec::is_empty) {
        return Err(Error::new(name, ErrorKind::NoRecipients));
    }
    let parts: Vec<Zeroizing<Vec<u8>>> = if groups.len() == 1 {
        vec![Zeroizing::new(key.as_ref().to_vec())]
    } else {
        if *threshold == 0 {
            *threshold = groups.len();
        }
        shamir::split(key.as_ref(), groups.len(), *threshold).map_err(|e| Error::new(name, e))?
    };
    for (group, part) in groups.iter_mut().zip(parts.iter()) {
        for mk in group.iter_mut() {
            let enc = keyring.wrap(mk, part).await.map_err(|e| Error::new(name, e))?;
            mk.set("enc", &enc);
        }
    }
    Ok(())
}

/// The current time as sops writes `lastmodified`.
fn now_rfc3339() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Encrypts plaintext documents into a new SOPS file in `format`.
pub async fn encrypt(
    name: &str,
    mut docs: Vec<Branch>,
    format: Format,
    opts: EncryptOptions,
    keyring: &Keyring,
) -> Result<Vec<u8>, Error> {
    if docs.iter().any(|d| d.get(metadata::METADATA_KEY).is_some()) || format.has_flat_metadata(&docs) {
        return Err(Error::new(name, ErrorKind::AlreadyEncrypted));
    }
    let rules = opts.rules.clone().with_default().map_err(|e| Error::new(name, e))?;
    let mut metadata = Metadata {
        key_groups: opts.key_groups,
        shamir_threshold: opts.shamir_threshold,
        last_modified: String::new(),
        mac: String::new(),
        rules,
        mac_only_encrypted: opts.mac_only_encrypted,
        version: metadata::SOPS_VERSION.to_string(),
    };
    let key = DataKey::generate();
    wrap_key(
        name,
        &key,
        &mut metadata.key_groups,
        &mut metadata.shamir_threshold,
        keyring,
    )
    .await?;
    seal_docs(name, &mut docs, &mut metadata, &key, &IvStash::default())?;
    format
        .emit_encrypted(&docs, &metadata)
        .map_err(|reason| Error::new(name, ErrorKind::Emit { format, reason }))
}

/// Encrypts every value, computes the MAC and stamps `lastmodified`.
fn seal_docs(
    name: &str,
    docs: &mut [Branch],
    metadata: &mut Metadata,
    key: &DataKey,
    stash: &IvStash,
) -> Result<(), Error> {
    let computed = walk::encrypt_docs(docs, metadata, key, stash).map_err(|k| Error::new(name, k))?;
    metadata.last_modified = now_rfc3339();
    metadata.mac = mac::seal(&computed, &metadata.last_modified, key).map_err(|k| Error::new(name, k))?;
    Ok(())
}

impl PlainFile {
    /// The plaintext in the file's own format (or another one).
    pub fn emit(&self, format: Format) -> Result<Zeroizing<Vec<u8>>, Error> {
        format
            .emit_plain(&self.docs)
            .map(Zeroizing::new)
            .map_err(|reason| Error::new(&self.name, ErrorKind::Emit { format, reason }))
    }

    /// Re-encrypts the (possibly edited) documents with the same data key; unchanged values
    /// keep their IVs, so their ciphertext does not change.
    pub fn reencrypt(&self) -> Result<Vec<u8>, Error> {
        let mut docs = self.docs.clone();
        let mut metadata = self.metadata.clone();
        seal_docs(&self.name, &mut docs, &mut metadata, &self.data_key, &self.stash)?;
        self.emit_encrypted(&docs, &metadata)
    }

    /// Re-wraps the same data key for new key groups (`updatekeys`): values are untouched.
    pub async fn update_keys(
        &mut self,
        groups: Vec<Vec<MasterKey>>,
        threshold: usize,
        keyring: &Keyring,
    ) -> Result<Vec<u8>, Error> {
        let mut groups = groups;
        let mut threshold = threshold;
        wrap_key(&self.name, &self.data_key, &mut groups, &mut threshold, keyring).await?;
        self.metadata.key_groups = groups;
        self.metadata.shamir_threshold = if self.metadata.key_groups.len() > 1 {
            threshold
        } else {
            0
        };
        self.reencrypt()
    }

    /// Encrypts the documents under a brand-new data key (`rotate`).
    pub async fn rotate(&mut self, keyring: &Keyring) -> Result<Vec<u8>, Error> {
        let key = DataKey::generate();
        let mut groups = self.metadata.key_groups.clone();
        let mut threshold = self.metadata.shamir_threshold;
        wrap_key(&self.name, &key, &mut groups, &mut threshold, keyring).await?;
        self.metadata.key_groups = groups;
        self.metadata.shamir_threshold = threshold;
        self.data_key = key;
        self.stash = IvStash::default();
        self.reencrypt()
    }

    fn emit_encrypted(&self, docs: &[Branch], metadata: &Metadata) -> Result<Vec<u8>, Error> {
        self.format.emit_encrypted(docs, metadata).map_err(|reason| {
            Error::new(
                &self.name,
                ErrorKind::Emit {
                    format: self.format,
                    reason,
                },
            )
        })
    }
}

/// Decrypts many files, at most `concurrency` at a time (data keys are unwrapped once per
/// file, and the keyring's cache spares repeated unwraps). Results keep the input order.
pub async fn decrypt_many(
    files: Vec<(String, Vec<u8>, Format)>,
    keyring: &Keyring,
    concurrency: usize,
) -> Vec<Result<PlainFile, Error>> {
    use futures::StreamExt;
    futures::stream::iter(files.into_iter().map(|(name, bytes, format)| async move {
        let bytes = Zeroizing::new(bytes);
        decrypt(&name, &bytes, format, keyring).await
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await
}

/// Decrypts a file in one call: parse, recover the data key, decrypt, verify the MAC.
pub async fn decrypt(name: &str, bytes: &[u8], format: Format, keyring: &Keyring) -> Result<PlainFile, Error> {
    parse(name, bytes, format)?.decrypt(keyring).await
}
