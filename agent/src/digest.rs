//! Keyed digests of secret values: wherever a Secret change is shown (events, logs, `render`'s
//! redaction marker), a value appears only as the first 12 hex digits of its HMAC-SHA-256 under
//! a key the reader of the output does not have — never a plain hash, from which a short
//! password could be recovered by guessing. The agent keeps its key in a Secret of its own
//! namespace (made once, see `controller::sealing_keys`); `render` derives one from the
//! decryption keys in use, so digests stay comparable between runs for whoever holds them.

use hmac::{Hmac, Mac as _};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The prefix of digests shown to people: `hmac:` + 12 hex digits.
pub const SHOWN_HEX: usize = 12;

/// A 256-bit HMAC key.
#[derive(Clone)]
pub struct DigestKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey(<redacted>)")
    }
}

/// An HMAC in progress.
pub struct Mac(Hmac<Sha256>);

impl Mac {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The first 8 bytes, as a number (for cache keys).
    pub fn finish_u64(self) -> u64 {
        let out = self.0.finalize().into_bytes();
        let mut b = [0u8; 8];
        b.copy_from_slice(&out[..8]);
        u64::from_be_bytes(b)
    }

    /// The full digest, hex.
    pub fn finish_hex(self) -> String {
        hex::encode(self.0.finalize().into_bytes())
    }
}

/// This process's own random key, for digests that are only compared in memory (cache keys,
/// "has this object changed since we applied it"): never shown, never stored.
pub fn process_key() -> &'static DigestKey {
    static KEY: std::sync::OnceLock<DigestKey> = std::sync::OnceLock::new();
    KEY.get_or_init(DigestKey::random)
}

impl DigestKey {
    /// A fresh random key.
    pub fn random() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut_slice()).expect("the operating system's random source");
        DigestKey(k)
    }

    /// A key from stored bytes (the agent's key Secret); any length, hashed to 256 bits.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        let d = Sha256::new()
            .chain_update(b"sigil digest key v1\0")
            .chain_update(bytes)
            .finalize();
        k.copy_from_slice(&d);
        DigestKey(k)
    }

    /// A key derived from secret material (e.g. every private key in use), independent of
    /// its order; `None` when there is no material.
    pub fn derive(context: &str, materials: &[Zeroizing<Vec<u8>>]) -> Option<Self> {
        if materials.is_empty() {
            return None;
        }
        let mut parts: Vec<Zeroizing<[u8; 32]>> = materials
            .iter()
            .map(|m| {
                let mut d = Zeroizing::new([0u8; 32]);
                d.copy_from_slice(&Sha256::digest(m.as_slice()));
                d
            })
            .collect();
        parts.sort_by(|a, b| a.as_slice().cmp(b.as_slice()));
        let mut h = Sha256::new();
        h.update(b"sigil derived digest key v1\0");
        h.update(context.as_bytes());
        for p in &parts {
            h.update(p.as_slice());
        }
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&h.finalize());
        Some(DigestKey(k))
    }

    /// The raw key, to store it.
    pub fn bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// A new HMAC under this key.
    pub fn mac(&self) -> Mac {
        Mac(<Hmac<Sha256> as hmac::Mac>::new_from_slice(self.0.as_slice()).expect("HMAC takes any key length"))
    }

    /// The shown digest of a value: 12 hex digits of its HMAC.
    pub fn short(&self, value: &[u8]) -> String {
        let mut m = self.mac();
        m.update(value);
        m.finish_hex()[..SHOWN_HEX].to_string()
    }

    /// The redaction marker `render` prints instead of a value.
    pub fn marker(&self, value: &[u8]) -> String {
        format!("<redacted hmac:{}>", self.short(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_stable_and_not_a_plain_hash() {
        let k = DigestKey::from_bytes(b"stored");
        assert_eq!(k.short(b"hunter2"), k.short(b"hunter2"));
        assert_ne!(k.short(b"hunter2"), DigestKey::from_bytes(b"other").short(b"hunter2"));
        let plain = hex::encode(Sha256::digest(b"hunter2"));
        assert!(!plain.starts_with(&k.short(b"hunter2")));
        assert!(k.marker(b"x").starts_with("<redacted hmac:"));
        assert_eq!(format!("{k:?}"), "DigestKey(<redacted>)");
        let m = |v: &[u8]| Zeroizing::new(v.to_vec());
        let a = DigestKey::derive("render", &[m(b"k1"), m(b"k2")]).unwrap();
        let b = DigestKey::derive("render", &[m(b"k2"), m(b"k1")]).unwrap();
        assert_eq!(a.short(b"v"), b.short(b"v"), "order of keys does not matter");
        assert!(DigestKey::derive("render", &[]).is_none());
    }
}
