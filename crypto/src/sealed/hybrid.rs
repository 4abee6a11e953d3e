//! The wire format: `u16be(len(rsa_ct)) || RSA-OAEP-SHA256(session_key, label) ||
//! AES-256-GCM(session_key, nonce = 12 zero bytes, plaintext)`. The zero nonce is safe
//! because every value gets a fresh session key.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use rsa::oaep::{DecryptingKey, EncryptingKey};
use rsa::traits::{Decryptor, PublicKeyParts, RandomizedEncryptor};
use rsa::{PrivateKey, PublicKey};
use sha2_11::Sha256;
use zeroize::Zeroizing;

const SESSION_KEY_LEN: usize = 32;

/// Why a sealed value could not be made or opened.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The blob is shorter than its own length prefix says.
    #[error("truncated ciphertext")]
    Truncated,
    /// RSA-OAEP failed: another key, another label (scope), or a corrupt blob.
    #[error("RSA decryption failed (wrong key, wrong scope, or corrupt ciphertext)")]
    Rsa,
    /// AES-GCM authentication failed: the payload was corrupted.
    #[error("corrupt ciphertext (AES-GCM authentication failed)")]
    Aead,
    /// The RSA key cannot encrypt (too small for OAEP-SHA256 of a 32-byte key).
    #[error("RSA encryption failed: {0}")]
    Encrypt(String),
}

/// Seals `plaintext` to `public` under `label`.
pub fn seal(public: &PublicKey, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut session = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(session.as_mut());
    let key = EncryptingKey::<Sha256>::new_with_label(public.clone(), label.to_vec());
    let rsa_ct = key
        .encrypt_with_rng(&mut getrandom::SysRng, session.as_ref())
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    let len = u16::try_from(rsa_ct.len()).map_err(|_| SealError::Encrypt("RSA key too large".into()))?;
    let aead = Aes256Gcm::new(GenericArray::from_slice(session.as_ref()));
    let body = aead
        .encrypt(Nonce::from_slice(&[0u8; 12]), plaintext)
        .map_err(|_| SealError::Encrypt("AES-GCM failed".into()))?;
    let mut out = Vec::with_capacity(2 + rsa_ct.len() + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&rsa_ct);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Splits a blob into its RSA and AES parts.
pub fn split(blob: &[u8]) -> Result<(&[u8], &[u8]), SealError> {
    if blob.len() < 2 {
        return Err(SealError::Truncated);
    }
    let n = u16::from_be_bytes([blob[0], blob[1]]) as usize;
    if blob.len() < 2 + n {
        return Err(SealError::Truncated);
    }
    Ok((&blob[2..2 + n], &blob[2 + n..]))
}

/// Opens a blob with one private key under `label`.
pub fn open(private: &PrivateKey, blob: &[u8], label: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let (rsa_ct, body) = split(blob)?;
    // Work is bounded: one RSA decryption of at most the key's size.
    if rsa_ct.len() != private.to_public_key().size() {
        return Err(SealError::Rsa);
    }
    let key = DecryptingKey::<Sha256>::new_with_label(private.clone(), label.to_vec());
    let session = Zeroizing::new(key.decrypt(rsa_ct).map_err(|_| SealError::Rsa)?);
    if session.len() != SESSION_KEY_LEN {
        return Err(SealError::Rsa);
    }
    let aead = Aes256Gcm::new(GenericArray::from_slice(&session));
    aead.decrypt(Nonce::from_slice(&[0u8; 12]), body)
        .map(Zeroizing::new)
        .map_err(|_| SealError::Aead)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PrivateKey {
        PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap()
    }

    #[test]
    fn round_trip_and_label_binding() {
        let k = key();
        let blob = seal(&k.to_public_key(), b"hello", b"apps/db").unwrap();
        assert_eq!(&open(&k, &blob, b"apps/db").unwrap()[..], b"hello");
        assert_eq!(open(&k, &blob, b"prod/db").unwrap_err(), SealError::Rsa);
        let mut bad = blob.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(open(&k, &bad, b"apps/db").unwrap_err(), SealError::Aead);
        assert_eq!(open(&k, &blob[..10], b"apps/db").unwrap_err(), SealError::Truncated);
        assert_eq!(open(&k, &[], b"").unwrap_err(), SealError::Truncated);
    }
}
