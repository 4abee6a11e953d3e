//! Build metadata (`buildMetadata: [originAnnotations, transformerAnnotations]`): what the
//! whole build records of where each resource came from and what transformed it, and the
//! internal annotations a build strips at the end.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::resource::ResMap;
use super::{Kustomizer, normalize};

/// `buildMetadata` of the top kustomization, which applies to the whole build.
#[derive(Clone, Default)]
pub(super) struct Meta {
    pub(super) origin: bool,
    pub(super) transformations: bool,
    pub(super) top: PathBuf,
}

/// `to` relative to the directory `from` (both relative to the source root).
pub(super) fn relative(from: &Path, to: &Path) -> String {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let n = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - n];
    parts.extend(t[n..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    parts.join("/")
}

impl Kustomizer<'_> {
    pub(super) fn meta(&self) -> Meta {
        self.meta.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// `configuredIn`/`configuredBy` text for build metadata.
    pub(super) fn configured(
        &self,
        dir: &Path,
        file: Option<&str>,
        kind: &str,
        name: Option<&str>,
        indent: &str,
    ) -> String {
        let meta = self.meta();
        let file = match file {
            Some(f) => dir.join(f),
            None => self
                .kustomization_file(dir)
                .unwrap_or_else(|_| dir.join("kustomization.yaml")),
        };
        let mut s = format!(
            "configuredIn: {}\n{indent}configuredBy:\n{indent}  apiVersion: builtin\n{indent}  kind: {kind}\n",
            relative(&meta.top, &normalize(&file).unwrap_or(file.clone()))
        );
        if let Some(n) = name {
            for (field, v) in n.split('\0').zip(["name", "namespace"]).map(|(v, f)| (f, v)) {
                if !v.is_empty() {
                    s.push_str(&format!("{indent}  {field}: {v}\n"));
                }
            }
        }
        s
    }

    /// Records that a transformer ran on every resource.
    pub(super) fn record_transformer(
        &self,
        rm: &mut ResMap,
        dir: &Path,
        file: Option<&str>,
        kind: &str,
        name: Option<&str>,
    ) {
        if !self.meta().transformations {
            return;
        }
        let item = format!("- {}", self.configured(dir, file, kind, name, "  "));
        for r in &mut rm.list {
            r.transformations.push(item.clone());
        }
    }
}

/// Removes kustomize's internal build annotations; like kustomize, rewrites the remaining
/// annotation values as strings.
pub(super) fn strip_build_annotations(v: &mut Value) {
    if let Some(Value::Object(meta)) = v.get_mut("metadata")
        && let Some(Value::Object(a)) = meta.get_mut("annotations")
    {
        for val in a.values_mut() {
            match val {
                Value::String(_) => {}
                Value::Null => *val = Value::String(String::new()),
                Value::Bool(b) => *val = Value::String(b.to_string()),
                Value::Number(n) => *val = Value::String(n.to_string()),
                _ => {}
            }
        }
        a.retain(|k, _| {
            !(k.starts_with("internal.config.kubernetes.io/")
                || k.starts_with("config.kubernetes.io/index")
                || k == "kustomize.config.k8s.io/id"
                || k == "kustomize.config.k8s.io/behavior"
                || k == "kustomize.config.k8s.io/needs-hash")
        });
    }
}
