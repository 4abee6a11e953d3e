//! Bitnami sealed-secrets, byte-compatible: the hybrid RSA-OAEP + AES-GCM format
//! ([`hybrid`]), sealing scopes and their labels ([`scope`]), and sealing keys and
//! certificates ([`keys`]).

pub mod hybrid;
pub mod keys;
pub mod scope;

pub use hybrid::{SealError, open, seal};
pub use keys::{KeyError, PublicCert, SealingKey};
pub use scope::Scope;
