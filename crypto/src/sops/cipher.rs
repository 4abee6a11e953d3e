//! The `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]` value cipher, as sops' `aes/cipher.go`.
//!
//! AES-256-GCM with a 32-byte random IV; the additional data is the value's map-key path
//! joined by `:` plus a trailing `:`. Empty strings are left as they are (sops does the same).

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use zeroize::Zeroizing;

use super::DataKey;
use super::scalar;
use super::tree::{Comment, Value, secret};

/// Length of the IV sops generates.
pub const IV_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Why an `ENC[...]` value could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CipherError {
    /// The text is not of the form `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]`.
    #[error("malformed ENC value")]
    Malformed,
    /// One of the base64 fields does not decode.
    #[error("malformed ENC value: bad base64 in {0}")]
    BadBase64(&'static str),
    /// The IV has a length sops never writes.
    #[error("malformed ENC value: unsupported IV length {0}")]
    BadIvLength(usize),
    /// The `type:` field names no known type.
    #[error("malformed ENC value: unknown type {0:?}")]
    UnknownType(String),
    /// Authentication failed: wrong data key, edited ciphertext, or the value was moved to another path.
    #[error("authentication failed (wrong data key, or ciphertext edited or moved)")]
    Authentication,
    /// The decrypted text does not parse as the declared type.
    #[error("decrypted value is not a valid {0}")]
    BadPlaintext(&'static str),
    /// The value's type cannot be encrypted.
    #[error("cannot encrypt a value of type {0}")]
    Unsupported(&'static str),
}

/// A parsed `ENC[...]` value.
#[derive(Debug)]
pub struct EncValue {
    data: Vec<u8>,
    /// The IV, kept so re-encryption of an unchanged value reuses it.
    pub iv: Vec<u8>,
    tag: Vec<u8>,
    /// The declared plaintext type (`str`, `int`, `float`, `bool`, `bytes`, `time`, `comment`).
    pub kind: String,
}

/// Whether a string looks like an encrypted sops value.
pub fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,")
}

/// Parses `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]`.
///
/// Like sops' regular expression, trailing text after the closing `]` is tolerated.
pub fn parse(s: &str) -> Result<EncValue, CipherError> {
    let rest = s.strip_prefix("ENC[AES256_GCM,data:").ok_or(CipherError::Malformed)?;
    let (data, rest) = rest.split_once(",iv:").ok_or(CipherError::Malformed)?;
    let (iv, rest) = rest.split_once(",tag:").ok_or(CipherError::Malformed)?;
    let (tag, rest) = rest.split_once(",type:").ok_or(CipherError::Malformed)?;
    let kind = match rest.rfind(']') {
        Some(end) => &rest[..end],
        None => return Err(CipherError::Malformed),
    };
    if data.is_empty() || iv.is_empty() || tag.is_empty() || kind.is_empty() {
        return Err(CipherError::Malformed);
    }
    let data = B64.decode(data).map_err(|_| CipherError::BadBase64("data"))?;
    let iv = B64.decode(iv).map_err(|_| CipherError::BadBase64("iv"))?;
    let tag = B64.decode(tag).map_err(|_| CipherError::BadBase64("tag"))?;
    if tag.len() != TAG_LEN {
        return Err(CipherError::Malformed);
    }
    Ok(EncValue {
        data,
        iv,
        tag,
        kind: kind.to_string(),
    })
}

fn open(key: &DataKey, iv: &[u8], ct: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    let payload = Payload { msg: ct, aad };
    let key = GenericArray::from_slice(key.as_ref());
    let out = match iv.len() {
        32 => AesGcm::<Aes256, U32>::new(key).decrypt(GenericArray::from_slice(iv), payload),
        16 => AesGcm::<Aes256, U16>::new(key).decrypt(GenericArray::from_slice(iv), payload),
        12 => AesGcm::<Aes256, U12>::new(key).decrypt(GenericArray::from_slice(iv), payload),
        n => return Err(CipherError::BadIvLength(n)),
    };
    out.map(Zeroizing::new).map_err(|_| CipherError::Authentication)
}

fn seal(key: &DataKey, iv: &[u8; IV_LEN], plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let key = GenericArray::from_slice(key.as_ref());
    AesGcm::<Aes256, U32>::new(key)
        .encrypt(GenericArray::from_slice(iv), Payload { msg: plain, aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail")
}

/// Decrypts one `ENC[...]` text into a typed value, returning it with the IV it used.
pub fn decrypt(text: &str, key: &DataKey, aad: &str) -> Result<(Value, Vec<u8>), CipherError> {
    if text.is_empty() {
        return Ok((Value::str(""), Vec::new()));
    }
    let enc = parse(text)?;
    let mut ct = Zeroizing::new(Vec::with_capacity(enc.data.len() + TAG_LEN));
    ct.extend_from_slice(&enc.data);
    ct.extend_from_slice(&enc.tag);
    let plain = open(key, &enc.iv, &ct, aad.as_bytes())?;
    let value = scalar::from_plaintext(&enc.kind, &plain)?;
    Ok((value, enc.iv))
}

/// Encrypts a scalar (or comment) at `aad`; `iv` reuses a stashed IV for an unchanged value.
///
/// Returns `None` for an empty string or comment, which sops leaves unencrypted.
pub fn encrypt(value: &Value, key: &DataKey, aad: &str, iv: Option<&[u8]>) -> Result<Option<String>, CipherError> {
    let (plain, kind) = scalar::to_plaintext(value)?;
    if (kind == "str" || kind == "comment") && plain.is_empty() {
        return Ok(None);
    }
    let mut nonce = [0u8; IV_LEN];
    match iv {
        Some(iv) if iv.len() == IV_LEN => nonce.copy_from_slice(iv),
        _ => rand::rngs::OsRng.fill_bytes(&mut nonce),
    }
    let out = seal(key, &nonce, &plain, aad.as_bytes());
    let (data, tag) = out.split_at(out.len() - TAG_LEN);
    Ok(Some(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        B64.encode(data),
        B64.encode(nonce),
        B64.encode(tag),
        kind
    )))
}

/// Encrypts a value and wraps the result back into the tree type it replaces.
pub fn encrypt_value(value: &Value, key: &DataKey, aad: &str, iv: Option<&[u8]>) -> Result<Value, CipherError> {
    let enc = encrypt(value, key, aad, iv)?;
    Ok(match (value, enc) {
        (Value::Comment(c), Some(text)) => Value::Comment(Comment {
            text: secret(text),
            inline: c.inline,
        }),
        (_, Some(text)) => Value::Str(secret(text)),
        (v, None) => v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_bytes([7u8; 32])
    }

    #[test]
    fn round_trip_types() {
        for v in [
            Value::str("hello"),
            Value::Int(-12),
            Value::Float(0.75),
            Value::Bool(true),
            Value::Bool(false),
        ] {
            let enc = encrypt(&v, &key(), "a:b:", None).unwrap().unwrap();
            assert!(enc.starts_with("ENC[AES256_GCM,data:"));
            let (back, iv) = decrypt(&enc, &key(), "a:b:").unwrap();
            assert_eq!(back, v);
            assert_eq!(iv.len(), IV_LEN);
        }
    }

    #[test]
    fn wrong_path_fails() {
        let enc = encrypt(&Value::str("x"), &key(), "a:", None).unwrap().unwrap();
        assert_eq!(decrypt(&enc, &key(), "b:").unwrap_err(), CipherError::Authentication);
    }

    #[test]
    fn empty_is_left_alone() {
        assert_eq!(encrypt(&Value::str(""), &key(), "a:", None).unwrap(), None);
    }

    #[test]
    fn stashed_iv_is_reused() {
        let a = encrypt(&Value::str("x"), &key(), "a:", None).unwrap().unwrap();
        let (_, iv) = decrypt(&a, &key(), "a:").unwrap();
        let b = encrypt(&Value::str("x"), &key(), "a:", Some(&iv)).unwrap().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_values() {
        for bad in [
            "ENC[AES256_GCM,data:,iv:,tag:,type:str]",
            "ENC[AES256_GCM,data:!!,iv:AA==,tag:AA==,type:str]",
            "ENC[nope]",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
