//! age X25519 recipients and identities, with the armored stanzas sops writes.
//!
//! Identities come from `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, or `~/.config/sops/age/keys.txt`
//! (as sops looks for them), or are handed in by the caller.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::{KeyError, KeySource, PlainKey};
use crate::sops::metadata::{KeyKind, MasterKey};

const PROVIDER: &str = "age";

/// Why age identities could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgeKeyError {
    /// The key file could not be read.
    #[error("cannot read age key file {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A line that should hold an identity does not parse.
    #[error("{source_name}: line {line} is not an age X25519 identity (AGE-SECRET-KEY-1...)")]
    BadIdentity {
        /// Where the keys came from (a path or `SOPS_AGE_KEY`).
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
    /// A recipient does not parse.
    #[error("invalid age recipient {0:?}")]
    BadRecipient(String),
}

/// The age identities (private keys) available to this process.
#[derive(Default)]
pub struct AgeKeys {
    identities: Vec<x25519::Identity>,
}

impl AgeKeys {
    /// No identities: can still wrap (encrypt) to any recipient.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses identities from text (one per line, `#` comments), naming `source_name` in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, AgeKeyError> {
        let mut keys = Self::new();
        keys.add_text(text, source_name)?;
        Ok(keys)
    }

    /// Adds the identities found in `text`.
    pub fn add_text(&mut self, text: &str, source_name: &str) -> Result<(), AgeKeyError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id: x25519::Identity = line.parse().map_err(|_| AgeKeyError::BadIdentity {
                source_name: source_name.to_string(),
                line: i + 1,
            })?;
            self.identities.push(id);
        }
        Ok(())
    }

    /// Adds the identities in a key file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), AgeKeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| AgeKeyError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?);
        self.add_text(&text, &path.display().to_string())
    }

    /// Loads identities the way sops does: `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, then the
    /// default key file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, or `~/.config/...`) if present.
    pub fn from_env() -> Result<Self, AgeKeyError> {
        let mut keys = Self::new();
        if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
            let text = Zeroizing::new(text);
            keys.add_text(&text, "SOPS_AGE_KEY")?;
        }
        if let Some(path) = std::env::var_os("SOPS_AGE_KEY_FILE") {
            keys.add_file(Path::new(&path))?;
        }
        let default = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("sops").join("age").join("keys.txt"));
        if let Some(path) = default
            && path.is_file()
        {
            keys.add_file(&path)?;
        }
        Ok(keys)
    }

    /// How many identities are loaded.
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Whether no identity is loaded.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// The recipients (public keys) of the loaded identities.
    pub fn recipients(&self) -> Vec<String> {
        self.identities.iter().map(|i| i.to_public().to_string()).collect()
    }
}

/// Checks a recipient string (`age1...`).
pub fn parse_recipient(s: &str) -> Result<x25519::Recipient, AgeKeyError> {
    s.trim().parse().map_err(|_| AgeKeyError::BadRecipient(s.to_string()))
}

/// A new `age` metadata entry for `recipient` (its `enc` is filled in by wrapping).
pub fn master_key(recipient: &str) -> Result<MasterKey, AgeKeyError> {
    let r = parse_recipient(recipient)?;
    Ok(MasterKey::new(
        KeyKind::Age,
        &[("recipient", &r.to_string()), ("enc", "")],
    ))
}

/// Encrypts `data` to one recipient as an armored age file.
pub fn encrypt_armored(recipient: &x25519::Recipient, data: &[u8]) -> Result<String, String> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(armor).map_err(|e| e.to_string())?;
    writer.write_all(data).map_err(|e| e.to_string())?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[async_trait]
impl KeySource for AgeKeys {
    fn kind(&self) -> KeyKind {
        KeyKind::Age
    }

    async fn unwrap(&self, key: &MasterKey) -> Result<Option<PlainKey>, KeyError> {
        if self.identities.is_empty() {
            return Ok(None);
        }
        let decryptor = age::Decryptor::new(ArmoredReader::new(key.enc().as_bytes()))
            .map_err(|e| KeyError::new(PROVIDER, key, format!("malformed age stanza: {e}")))?;
        let ids = self.identities.iter().map(|i| i as &dyn age::Identity);
        let mut reader = match decryptor.decrypt(ids) {
            Ok(r) => r,
            Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
            Err(e) => {
                return Err(KeyError::new(PROVIDER, key, format!("cannot decrypt data key: {e}")));
            }
        };
        let mut out = Zeroizing::new(Vec::new());
        reader
            .read_to_end(&mut out)
            .map_err(|e| KeyError::new(PROVIDER, key, format!("cannot decrypt data key: {e}")))?;
        Ok(Some(out))
    }

    async fn wrap(&self, key: &MasterKey, data_key: &[u8]) -> Result<String, KeyError> {
        let recipient =
            parse_recipient(key.get("recipient")).map_err(|e| KeyError::new(PROVIDER, key, e.to_string()))?;
        encrypt_armored(&recipient, data_key).map_err(|e| KeyError::new(PROVIDER, key, e))
    }
}

impl std::fmt::Debug for AgeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgeKeys")
            .field("recipients", &self.recipients())
            .finish()
    }
}

/// A fresh identity, for tests and `keygen`-style helpers: (secret text, recipient).
pub fn generate() -> (Zeroizing<String>, String) {
    let id = x25519::Identity::generate();
    let secret = Zeroizing::new(id.to_string().expose_secret().to_string());
    (secret, id.to_public().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wrap_then_unwrap() {
        let (secret, recipient) = generate();
        let keys = AgeKeys::parse(&secret, "test").unwrap();
        let mut mk = master_key(&recipient).unwrap();
        let enc = keys.wrap(&mk, &[9u8; 32]).await.unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        mk.set("enc", &enc);
        let got = keys.unwrap(&mk).await.unwrap().unwrap();
        assert_eq!(&got[..], &[9u8; 32]);
        // Another identity answers "not mine".
        let (other, _) = generate();
        let other = AgeKeys::parse(&other, "other").unwrap();
        assert!(other.unwrap(&mk).await.unwrap().is_none());
    }

    #[test]
    fn bad_identity_names_line() {
        let err = AgeKeys::parse("# c\nnot-a-key\n", "keys.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "keys.txt: line 2 is not an age X25519 identity (AGE-SECRET-KEY-1...)"
        );
    }
}
