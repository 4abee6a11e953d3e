//! Finding and reading a kustomization file: one of the accepted names, its fields checked
//! against those kustomize knows, the forms kustomize refuses refused with its messages.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{KUSTOMIZATION_FILES, KustomizeError, Kustomizer, patch, shown};

const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

impl Kustomizer<'_> {
    pub(super) fn kustomization_file(&self, dir: &Path) -> Result<PathBuf, KustomizeError> {
        let found: Vec<PathBuf> = KUSTOMIZATION_FILES
            .iter()
            .map(|k| dir.join(k))
            .filter(|p| self.loader.tree.exists(p) && !self.loader.tree.is_dir(p))
            .collect();
        match found.len() {
            0 => Err(KustomizeError::msg(format!(
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                shown(dir)
            ))),
            1 => Ok(found[0].clone()),
            _ => Err(KustomizeError::msg(format!(
                "Found multiple kustomization files under: {}",
                shown(dir)
            ))),
        }
    }

    pub(super) async fn load_kustomization(&self, dir: &Path) -> Result<Value, KustomizeError> {
        let file = self.kustomization_file(dir)?;
        let bytes = self.loader.read(&file).await?;
        let docs = self.parse_docs(&shown(&file), &bytes)?;
        let k = match docs.as_slice() {
            [] => Value::Object(serde_json::Map::new()),
            [v @ Value::Object(_)] => v.clone(),
            [_] => {
                return Err(KustomizeError::msg(format!(
                    "{}: a kustomization must be a mapping",
                    shown(&file)
                )));
            }
            _ => {
                return Err(KustomizeError::msg(format!(
                    "{}: a kustomization file holds one document",
                    shown(&file)
                )));
            }
        };
        // Field names match case-insensitively (Go's JSON decoding), unknown ones are refused.
        let mut k = k;
        if let Value::Object(m) = &mut k {
            let mut canon = serde_json::Map::new();
            for (key, v) in std::mem::take(m) {
                let Some(known) = KNOWN_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&key)) else {
                    return Err(KustomizeError::msg(format!(
                        "invalid Kustomization: json: unknown field \"{key}\" in {}",
                        shown(&file)
                    )));
                };
                canon.insert(known.to_string(), v);
            }
            *m = canon;
        }
        let api = k.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
        let kind = k.get("kind").and_then(|v| v.as_str()).unwrap_or("Kustomization");
        match (kind, api) {
            ("Component", "" | "kustomize.config.k8s.io/v1alpha1") => {}
            ("Component", _) => {
                return Err(KustomizeError::msg(format!(
                    "{}: apiVersion for Component should be kustomize.config.k8s.io/v1alpha1",
                    shown(&file)
                )));
            }
            ("Kustomization", "" | "kustomize.config.k8s.io/v1beta1" | "kustomize.config.k8s.io/v1") => {}
            ("Kustomization", _) => {
                return Err(KustomizeError::msg(format!(
                    "{}: apiVersion for Kustomization should be kustomize.config.k8s.io/v1beta1",
                    shown(&file)
                )));
            }
            (other, _) => {
                return Err(KustomizeError::msg(format!(
                    "{}: kind should be Kustomization or Component, not {other}",
                    shown(&file)
                )));
            }
        }
        if let Some(o) = k.get("openapi") {
            let path = o.get("path").and_then(|v| v.as_str());
            let version = o.get("version").and_then(|v| v.as_str());
            match (path, version) {
                (Some(_), Some(_)) => {
                    return Err(KustomizeError::msg(
                        "builtin version and custom schema provided, cannot use both".into(),
                    ));
                }
                (None, Some(v)) if v != "v1.21.2" => {
                    return Err(KustomizeError::msg(format!(
                        "the specified OpenAPI version {v} is not built in"
                    )));
                }
                (Some(p), None) => {
                    let set = self.schema.lock().map(|s| s.is_some()).unwrap_or(true);
                    if !set {
                        let bytes = self.read(dir, p).await?;
                        let doc = self.parse_docs(p, &bytes)?.into_iter().next().unwrap_or(Value::Null);
                        if let Ok(mut s) = self.schema.lock() {
                            *s = Some(patch::Schema::new(&doc));
                        }
                    }
                }
                _ => {}
            }
        }
        if k.get("helmChartInflationGenerator").is_some() {
            return Err(KustomizeError::msg(format!(
                "{}: helmChartInflationGenerator is not supported by sigil-agent (use helmCharts)",
                shown(&file)
            )));
        }
        Ok(k)
    }
}
