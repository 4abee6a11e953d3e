//! A chart in memory, loaded as Helm loads one (`pkg/chart/v2/loader`): `Chart.yaml`,
//! `values.yaml`, `values.schema.json`, `templates/`, subcharts in `charts/` (directories and
//! `.tgz` archives), every other file for `.Files`; `.helmignore` applied to the directory.

use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::archive;
use super::ignore::Rules;
use super::metadata::{Metadata, dependencies_from};
use super::source::{Budget, ChartFiles, Limits};
use super::yaml;
use crate::gotemplate::value::Map;

/// A file of a chart: its path relative to the chart directory and its bytes.
#[derive(Clone)]
pub struct ChartFile {
    /// `templates/deployment.yaml`, `crds/crd.yaml`, `config/app.conf`.
    pub name: String,
    /// The content (a UTF-8 byte-order mark removed).
    pub data: Rc<Zeroizing<Vec<u8>>>,
}

/// A loaded chart and its subcharts.
///
/// It holds template values (`Rc`), so it stays on the thread that loaded it: load and render
/// in the same blocking task.
#[derive(Clone)]
pub struct Chart {
    /// `Chart.yaml` (with `requirements.yaml`'s dependencies for a v1 chart).
    pub metadata: Metadata,
    /// `values.yaml`: the chart's default values.
    pub values: Map,
    /// `values.schema.json`, if the chart has one.
    pub schema: Option<Rc<Vec<u8>>>,
    /// The files under `templates/`.
    pub templates: Vec<ChartFile>,
    /// Every other file (not `Chart.yaml`, `values.yaml`, the schema, `templates/`, `charts/`):
    /// what `.Files` serves, `crds/` included.
    pub files: Vec<ChartFile>,
    /// The subcharts found in `charts/`.
    pub dependencies: Vec<Chart>,
}

/// Why a chart cannot be loaded; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

impl Chart {
    /// Loads the chart directory `files` gives, with Helm's default limits.
    pub fn load(files: &dyn ChartFiles) -> Result<Chart, LoadError> {
        Chart::load_with_limits(files, Limits::default())
    }

    /// Loads the chart directory `files` gives, within `limits`.
    pub fn load_with_limits(files: &dyn ChartFiles, limits: Limits) -> Result<Chart, LoadError> {
        let mut budget = Budget::new(limits);
        let mut paths = files.paths().map_err(LoadError)?;
        paths.sort();
        let rules = if paths.iter().any(|p| p == ".helmignore") {
            let data = files
                .read(".helmignore", limits.max_file_size)
                .map_err(|e| LoadError(format!(".helmignore: {e}")))?;
            Rules::parse(&String::from_utf8_lossy(&data)).map_err(|e| LoadError(format!(".helmignore: {e}")))?
        } else {
            Rules::defaults()
        };
        let mut loaded = Vec::new();
        for path in paths {
            if !rules.keeps_file(&path) {
                continue;
            }
            let data = files
                .read(&path, limits.max_file_size)
                .map_err(|e| LoadError(format!("{path}: {e}")))?;
            budget
                .take(data.len() as u64)
                .map_err(|e| LoadError(format!("{path}: {e}")))?;
            let data = match data.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) => rest.to_vec(),
                None => data,
            };
            loaded.push((path, data));
        }
        load_files(loaded, &mut budget, "", 0)
    }

    /// Loads a packaged chart (`.tgz`), with Helm's default limits.
    pub fn load_archive(data: &[u8]) -> Result<Chart, LoadError> {
        let mut budget = Budget::new(Limits::default());
        let files = archive::unpack(data, &mut budget).map_err(LoadError)?;
        load_files(files, &mut budget, "", 0)
    }

    /// The chart's name (after dependency processing, its alias if it has one).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The files in `crds/` (`.yaml`, `.yml`, `.json`) of this chart and then of its
    /// subcharts, as `(path, file)` with the path Helm prints (`chart/charts/sub/crds/x.yaml`).
    pub fn crds(&self) -> Vec<(String, ChartFile)> {
        let mut out = Vec::new();
        self.collect_crds(self.name(), &mut out);
        out
    }

    fn collect_crds(&self, full_path: &str, out: &mut Vec<(String, ChartFile)>) {
        for f in &self.files {
            let ext = f.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            if f.name.starts_with("crds/") && matches!(ext.as_deref(), Some("yaml" | "yml" | "json")) {
                out.push((format!("{full_path}/{}", f.name), f.clone()));
            }
        }
        for d in &self.dependencies {
            d.collect_crds(&format!("{full_path}/charts/{}", d.name()), out);
        }
    }
}

fn file(name: String, data: Vec<u8>) -> ChartFile {
    ChartFile {
        name,
        data: Rc::new(Zeroizing::new(data)),
    }
}

/// Builds a chart from its files (paths relative to the chart), as Helm's `LoadFiles`.
/// `at` is the chart's place for messages (`charts/redis/`).
fn load_files(files: Vec<(String, Vec<u8>)>, budget: &mut Budget, at: &str, depth: usize) -> Result<Chart, LoadError> {
    let fail = |name: &str, e: String| LoadError(format!("{at}{name}: {e}"));
    let mut metadata: Option<Metadata> = None;
    if let Some((_, data)) = files.iter().find(|(n, _)| n == "Chart.yaml") {
        let doc = yaml::parse(&String::from_utf8_lossy(data))
            .map_err(|e| fail("Chart.yaml", format!("cannot load Chart.yaml: {e}")))?;
        metadata =
            Some(Metadata::from_value(&doc).map_err(|e| fail("Chart.yaml", format!("cannot load Chart.yaml: {e}")))?);
    }
    let mut values = Map::new();
    let mut schema = None;
    let mut templates = Vec::new();
    let mut other = Vec::new();
    let mut subcharts: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (name, data) in files {
        match name.as_str() {
            "Chart.yaml" | "Chart.lock" => {}
            "values.yaml" => {
                values = yaml::load_values(&String::from_utf8_lossy(&data))
                    .map_err(|e| fail(&name, format!("cannot load values.yaml: {e}")))?;
            }
            "values.schema.json" => schema = Some(Rc::new(data)),
            "requirements.yaml" | "requirements.lock" => {
                let md = metadata.get_or_insert_with(Metadata::default);
                if name == "requirements.yaml" {
                    let doc = yaml::parse(&String::from_utf8_lossy(&data))
                        .map_err(|e| fail(&name, format!("cannot load requirements.yaml: {e}")))?;
                    let deps = dependencies_from(&doc)
                        .map_err(|e| fail(&name, format!("cannot load requirements.yaml: {e}")))?;
                    if !deps.is_empty() {
                        md.dependencies = deps;
                    }
                }
                if md.api_version == "v1" {
                    other.push(file(name, data));
                }
            }
            n if n.starts_with("templates/") => templates.push(file(name, data)),
            n if n.starts_with("charts/") => {
                if n.ends_with(".prov") {
                    other.push(file(name, data));
                    continue;
                }
                let rest = n.trim_start_matches("charts/").to_string();
                let sub = rest.split('/').next().unwrap_or_default().to_string();
                subcharts.entry(sub).or_default().push((rest, data));
            }
            _ => other.push(file(name, data)),
        }
    }
    let mut metadata = metadata.ok_or_else(|| LoadError(format!("{at}Chart.yaml file is missing")))?;
    metadata.validate().map_err(|e| fail("Chart.yaml", e))?;
    let mut dependencies = Vec::new();
    for (n, files) in subcharts {
        if n.starts_with(['_', '.']) {
            continue;
        }
        if depth + 1 > budget.limits.max_depth {
            return Err(LoadError(format!(
                "{at}charts/{n}: subcharts nest deeper than {}",
                budget.limits.max_depth
            )));
        }
        let sub_at = format!("{at}charts/{n}/");
        let unpack_err = |e: String| LoadError(format!("error unpacking subchart {n} in {}: {e}", metadata.name));
        let sub = if n.ends_with(".tgz") {
            let Some((first, data)) = files.into_iter().next() else {
                continue;
            };
            if first != n {
                return Err(LoadError(format!(
                    "error unpacking subchart tar in {}: expected {n}, got {first}",
                    metadata.name
                )));
            }
            let inner = archive::unpack(&data, budget).map_err(|e| unpack_err(format!("{at}charts/{n}: {e}")))?;
            load_files(inner, budget, &sub_at, depth + 1).map_err(|e| unpack_err(e.0))?
        } else {
            let inner = files
                .into_iter()
                .filter_map(|(name, data)| name.split_once('/').map(|(_, rest)| (rest.to_string(), data)))
                .collect();
            load_files(inner, budget, &sub_at, depth + 1).map_err(|e| unpack_err(e.0))?
        };
        dependencies.push(sub);
    }
    Ok(Chart {
        metadata,
        values,
        schema,
        templates,
        files: other,
        dependencies,
    })
}
