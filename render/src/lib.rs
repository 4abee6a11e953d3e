//! Sigil's render engines, as pure libraries: they know nothing of Kubernetes clients, Git or
//! key material, and read files only through the loader the caller gives them.
//!
//! - [`gotemplate`]: Go's `text/template` language, with the functions Helm gives charts.
//! - [`goyaml`]: YAML and JSON as Helm reads and writes them.
//! - [`helm`]: Helm charts loaded, their values coalesced and their templates rendered.

pub mod gotemplate;
pub mod goyaml;
pub mod helm;
