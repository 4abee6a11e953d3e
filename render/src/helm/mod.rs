//! Helm charts rendered natively, as Helm v4 renders them (`helm template`): charts loaded
//! from files the caller supplies ([`ChartFiles`]), values coalesced with Helm's rules
//! (subcharts, globals, conditions, tags, aliases, `import-values`, `values.schema.json`),
//! every template executed by the Go-template engine with Helm's data and functions, and the
//! output sorted and printed as `helm template` prints it.
//!
//! ```text
//! let out = render(&files, values_yaml, &RenderOptions { release, capabilities })?;  // files: impl ChartFiles + Sync
//! out.manifests                                      // {"app/templates/deploy.yaml": "..."}
//! out.template_output(false)?                        // what `helm template` prints
//! ```
//!
//! [`render`] loads and renders on a thread of its own with a large stack (Helm's nesting
//! limits are reachable; nothing overflows). [`Chart::load`] alone inspects a chart.

mod archive;
mod capabilities;
mod chart;
mod coalesce;
mod dependencies;
mod engine;
mod entry;
mod error;
mod files;
mod funcs;
mod glob;
mod ignore;
mod manifest;
mod metadata;
mod pathmatch;
mod render;
mod schema;
mod schema_text;
mod semver;
mod source;
mod strvals;
mod yaml;

pub use capabilities::{Capabilities, DEFAULT_API_VERSIONS};
pub use chart::{Chart, ChartFile, LoadError};
pub use entry::{RENDER_STACK_BYTES, render, render_with};
pub use error::HelmError;
pub use funcs::{all_funcs, helm_funcs};
pub use manifest::{Document, INSTALL_ORDER, sort_manifests, split_manifests};
pub use metadata::{Dependency, Maintainer, Metadata};
pub use render::{Release, RenderOptions, Rendered};
pub use source::{ChartFiles, Limits};
pub use strvals::apply_set;

/// Parses values text (`-f values.yaml`) as Helm does: YAML 1.1, every document merged.
pub fn parse_values(text: &str) -> Result<crate::gotemplate::value::Map, String> {
    yaml::load_values(text)
}

#[cfg(test)]
mod entry_tests;
#[cfg(test)]
mod files_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod values_tests;
