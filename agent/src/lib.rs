//! Sigil's agent. The render pipeline: `source` (Git through gix), `load` (one reader for
//! every file, SOPS decrypted and verified as read), `render`/`kustomize` (plain YAML or a
//! native in-memory Kustomize build), `secrets` (resolvers turning SealedSecrets and
//! ExternalSecrets into Secrets, with `vault`), `cache`. The reconciler's pure parts:
//! `apply` (inventory, prune order, stages, drift), `health` (kstatus rules), `conditions`.
//! See DESIGN.md's data-flow picture.

pub mod apply;
pub mod cache;
pub mod chart;
#[cfg(feature = "cluster")]
pub mod conditions;
#[cfg(all(feature = "git", feature = "cloud", feature = "cluster"))]
pub mod controller;
pub mod digest;
pub mod duration;
#[cfg(all(feature = "git", feature = "cluster"))]
pub mod gitsource;
pub mod health;
#[cfg(feature = "cluster")]
pub mod http;
pub mod kustomize;
pub mod load;
pub mod object;
#[cfg(feature = "cloud")]
pub mod pipeline;
pub mod redact;
pub mod render;
pub mod sealing_keys;
pub mod secrets;
#[cfg(feature = "git")]
pub mod source;
pub mod substitute;
#[cfg(feature = "cloud")]
pub mod vault;
