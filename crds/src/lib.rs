//! Sigil's API types (`sigil.dev/v1alpha1`) and serde types for the foreign kinds Sigil
//! reads: `bitnami.com/v1alpha1 SealedSecret` (with its unsealing into a `Secret`), and the
//! core `Secret` itself, and External Secrets Operator's `ExternalSecret`/`SecretStore` (Vault).

pub mod externalsecret;
pub mod gotemplate;
pub mod manifest;
pub mod meta;
pub mod sealedsecret;
pub mod secret;
#[cfg(feature = "cluster")]
pub mod sigil;

/// The API group of Sigil's own resources.
pub const GROUP: &str = "sigil.dev";
/// The API version of Sigil's own resources.
pub const VERSION: &str = "v1alpha1";
