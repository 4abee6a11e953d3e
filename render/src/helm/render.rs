//! The whole of `helm template` for a loaded chart: dependencies processed against the user's
//! values, values coalesced and validated, the top-level data built, templates rendered; and
//! the text `helm template` prints.

use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::capabilities::Capabilities;
use super::chart::Chart;
use super::coalesce::{coalesce_values, copy_map};
use super::dependencies;
use super::engine::render_templates;
use super::error::HelmError;
use super::manifest;
use super::schema;
use super::semver::compatible_range;
use crate::gotemplate::Limits;
use crate::gotemplate::value::{Map, Value};

/// The release a chart is rendered for (`.Release`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// `.Release.Name`.
    pub name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Release.Revision` (1 for an install).
    pub revision: i64,
    /// `.Release.IsInstall`.
    pub is_install: bool,
    /// `.Release.IsUpgrade`.
    pub is_upgrade: bool,
}

impl Release {
    /// A first install of `name` into `namespace`.
    pub fn install(name: &str, namespace: &str) -> Release {
        Release {
            name: name.into(),
            namespace: namespace.into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        }
    }
}

/// What a render depends on besides the chart and the values.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// The release.
    pub release: Release,
    /// `.Capabilities` (Helm's offline defaults unless set).
    pub capabilities: Capabilities,
}

/// A chart's render: each template's output, and the CRDs of the enabled charts.
pub struct Rendered {
    /// Template path (`chart/templates/x.yaml`, `chart/charts/sub/templates/y.yaml`) →
    /// output, for every non-partial template of every enabled, non-library chart.
    pub manifests: BTreeMap<String, Zeroizing<String>>,
    /// `(path, content)` of each file in `crds/` of the chart and its enabled subcharts.
    pub crds: Vec<(String, Zeroizing<String>)>,
}

impl Rendered {
    /// The text `helm template` prints (with `--include-crds` if `include_crds`).
    pub fn template_output(&self, include_crds: bool) -> Result<Zeroizing<String>, HelmError> {
        let crds: Vec<(String, String)> = if include_crds {
            self.crds.iter().map(|(p, c)| (p.clone(), c.to_string())).collect()
        } else {
            Vec::new()
        };
        manifest::template_output(&self.manifests, &crds).map_err(HelmError::Manifest)
    }
}

/// Renders `chart` with the user's `values` (what `-f values.yaml` gives; `null` deletes a
/// default) as `helm template` does, on the current thread, the executor kept within
/// `limits` (which must fit the thread's stack); the chart itself is not changed.
pub(crate) fn render_chart(
    chart: &Chart,
    values: &Map,
    opts: &RenderOptions,
    limits: Limits,
) -> Result<Rendered, HelmError> {
    let caps = &opts.capabilities;
    if !chart.metadata.kube_version.is_empty() && !compatible_range(&chart.metadata.kube_version, &caps.kube_version) {
        return Err(HelmError::KubeVersion {
            required: chart.metadata.kube_version.clone(),
            actual: caps.kube_version.clone(),
        });
    }
    let mut chart = chart.clone();
    deep_copy_values(&mut chart);
    let user = copy_map(values);
    dependencies::process(&mut chart, &user).map_err(HelmError::Values)?;
    let vals = coalesce_values(&chart, &user, false).map_err(HelmError::Values)?;
    schema::validate(&chart, &vals.borrow()).map_err(HelmError::Schema)?;
    let r = &opts.release;
    let mut release = Map::new();
    release.insert("Name".into(), Value::str(&r.name));
    release.insert("Namespace".into(), Value::str(&r.namespace));
    release.insert("IsUpgrade".into(), Value::Bool(r.is_upgrade));
    release.insert("IsInstall".into(), Value::Bool(r.is_install));
    release.insert("Revision".into(), Value::Int(r.revision));
    release.insert("Service".into(), Value::str("Helm"));
    let mut top = Map::new();
    top.insert("Chart".into(), chart.metadata.to_value(true));
    top.insert("Capabilities".into(), caps.to_value());
    top.insert("Release".into(), Value::map(release));
    top.insert("Values".into(), Value::Map(Rc::clone(&vals)));
    let top = Rc::new(std::cell::RefCell::new(top));
    let manifests = render_templates(&chart, &top, limits)?;
    let crds = chart
        .crds()
        .into_iter()
        .map(|(p, f)| (p, Zeroizing::new(String::from_utf8_lossy(&f.data).into_owned())))
        .collect();
    Ok(Rendered { manifests, crds })
}

/// Gives the copy its own values, so nothing done while rendering reaches the loaded chart.
fn deep_copy_values(chart: &mut Chart) {
    chart.values = copy_map(&chart.values);
    for sub in &mut chart.dependencies {
        deep_copy_values(sub);
    }
}
