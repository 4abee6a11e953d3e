//! Sigil's render engines, as pure libraries: they know nothing of Kubernetes clients, Git or
//! key material, and read files only through the loader the caller gives them.
//!
//! - [`gotemplate`]: Go's `text/template` language, with the functions Helm gives charts.

pub mod gotemplate;
pub mod goyaml;
