//! Sigil's agent: load (one reader for every file, SOPS decrypted and verified as read),
//! render (plain YAML/JSON, or a native in-memory Kustomize build), and secrets (resolvers that turn
//! `SealedSecret`s into `Secret`s). See DESIGN.md's data-flow picture.

pub mod cache;
pub mod kustomize;
pub mod load;
pub mod object;
pub mod redact;
pub mod render;
pub mod secrets;
#[cfg(feature = "git")]
pub mod source;
#[cfg(feature = "cloud")]
pub mod vault;
