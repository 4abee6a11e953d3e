//! Sigil's cryptography: the SOPS file format and the key sources that wrap its data keys.
//!
//! Nothing in this crate knows about Kubernetes or Git. Plaintext lives in zeroizing types
//! and is never printed by `Debug`, errors or logs.

pub mod keys;
pub mod sealed;
pub mod sops;
