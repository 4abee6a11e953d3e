//! Sigil's API types (`sigil.dev/v1alpha1` `GitSource`, `Sync`) and serde types for the
//! foreign kinds Sigil reads (`SealedSecret`, `ExternalSecret`, ...).
//!
//! The types arrive with the issues that use them; this crate fixes their home.

/// The API group of Sigil's own resources.
pub const GROUP: &str = "sigil.dev";
/// The API version of Sigil's own resources.
pub const VERSION: &str = "v1alpha1";
